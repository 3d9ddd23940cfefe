#!/usr/bin/env bash
# local_training_test.sh RAVEN SOURCE_DIR
# The `raven` CLI as a requester uses it: Fashion-MNIST imported, verified, trained and evaluated
# locally, clear errors for corrupt input, and the character model trained through a coordinator.
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
# The character model through a coordinator and a worker (raven train --workers): a result counts a
# prediction per position of its label, 64 per sample, and the coordinator must accept that.
text=/usr/share/games/fortunes/computers
[ -f "$text" ] || fail "$text missing: run scripts/setup-debian.sh (fortunes)"
"$raven" dataset import --format text --context 64 --out "$work/fortunes" "$text" >/dev/null
(cd "$work" && timeout 300 "$raven" train --workers 1 --model "$src/examples/transformer.json" --data "$work/fortunes" \
    --epochs 1 --batch-size 256 --lr 0.003 >"$work/lm.txt" 2>"$work/lm-progress.txt") ||
    fail "the character model did not train through a coordinator: $(tail -3 "$work/lm.txt" "$work/lm-progress.txt")"
grep -q "completed at step 14 of 14" "$work/lm.txt" || fail "the character model's job: $(cat "$work/lm.txt")"
lm=$(sed -n 's/^final test accuracy \([0-9.]*\)%.*/\1/p' "$work/lm.txt")
echo "character model through a coordinator: next-character accuracy $lm%"
awk -v a="$lm" 'BEGIN { exit !(a >= 5 && a < 100) }' || fail "next-character accuracy $lm% after one epoch (expected 5-100%)"
# The local workers end with the program that started them, however it ends: killed, they would
# retry a coordinator gone for good and keep their cache folders locked.
(cd "$work" && exec "$raven" train --workers 2 --model "$src/examples/mlp.json" --data "$work/fm" --epochs 50 \
    >"$work/killed.txt" 2>&1) &
trainer=$!
workers=""
for _ in $(seq 300); do
    workers=$(pgrep -P "$trainer" -x raven-worker | xargs) || true
    [ "$(wc -w <<<"$workers")" = 2 ] && break
    sleep 0.1
done
[ "$(wc -w <<<"$workers")" = 2 ] || fail "raven train --workers 2 started no workers: $(tail -3 "$work/killed.txt")"
kill -KILL "$trainer"
wait "$trainer" 2>/dev/null || true
for _ in $(seq 100); do
    alive=$(for w in $workers; do if kill -0 "$w" 2>/dev/null; then echo "$w"; fi; done | xargs)
    [ -z "$alive" ] && break
    sleep 0.1
done
[ -z "$alive" ] || { kill -KILL $alive; fail "raven-worker $alive outlived the killed raven train"; }
echo "local workers ended with their killed parent"
echo PASS
