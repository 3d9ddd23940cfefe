#!/usr/bin/env bash
# local_training_test.sh RAVEN SOURCE_DIR
set -euo pipefail
raven=$1 src=$2
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "FAIL: $data missing: run scripts/setup-debian.sh (dataset-fashion-mnist)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Import into content-addressed shards, then read every shard back verified.
"$raven" dataset import --format idx --out "$work/fm" "$data" >"$work/import.txt"
grep -q "60000 train, 10000 test" "$work/import.txt" || fail "import: $(cat "$work/import.txt")"
"$raven" dataset info --verify "$work/fm" | grep -q "verified  70000 samples in 2188 shards" || fail "verify"

# Train the MLP on a fifth of the data for one epoch, from the shards; evaluate the checkpoint.
"$raven" train --local --model "$src/examples/mlp.json" --data "$work/fm" --train-samples 12000 \
    --out "$work/mlp.safetensors" >"$work/train.txt" 2>"$work/progress.txt"
cat "$work/train.txt"
acc=$("$raven" eval --weights "$work/mlp.safetensors" --data "$work/fm" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p')
echo "eval: test accuracy $acc%"
awk -v a="$acc" 'BEGIN { exit !(a >= 75) }' || fail "test accuracy $acc% after 12000 samples (expected >= 75%)"
grep -q "final test accuracy $acc%" "$work/train.txt" || fail "eval disagrees with train: $acc% vs $(tail -1 "$work/train.txt")"

# A corrupt shard is named, with what to do; nothing else is touched.
shards=("$work"/fm/shards/*)
shard=$(basename "${shards[0]}")
printf 'x' >>"$work/fm/shards/$shard"
if "$raven" dataset info --verify "$work/fm" 2>"$work/err.txt"; then fail "a corrupt shard was accepted"; fi
grep -q "$shard" "$work/err.txt" && grep -qi "corrupt" "$work/err.txt" || fail "unclear error: $(cat "$work/err.txt")"

# A broken model spec names the place.
printf '{"name": "bad", "input": {"shape": [1,28,28]}, "layers": [{"name": "fc1", "kind": "linear"}]}' >"$work/bad.json"
if "$raven" train --local --model "$work/bad.json" --data "$work/fm" 2>"$work/err2.txt"; then fail "a bad spec was accepted"; fi
grep -q "fc1" "$work/err2.txt" || fail "unclear spec error: $(cat "$work/err2.txt")"
echo PASS
