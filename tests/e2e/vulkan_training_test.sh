#!/usr/bin/env bash
# vulkan_training_test.sh RAVEN SOURCE_DIR: `raven train --device vulkan` (lavapipe in CI, validation on)
# trains the MLP like the CPU does: the same steps from the same seed end at the same test loss and
# accuracy within fp32 tolerance, and each checkpoint evaluates the same on the other backend.
set -euo pipefail
raven=$1 src=$2
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
train() {
    "$raven" train --local --device "$1" --model "$src/examples/mlp.json" --data "$data" --train-samples 3200 \
        --out "$work/$1.safetensors" 2>"$work/$1.err" | tee "$work/$1.txt" | tail -n 1
    ! grep "validation:" "$work/$1.err" || fail "the validation layer reported the messages above"
}
train vulkan
train cpu
grep -q "on vulkan:" "$work/vulkan.txt" || fail "did not train on Vulkan: $(cat "$work/vulkan.txt")"
loss() { sed -n 's/.*(loss \([0-9.]*\)).*/\1/p' "$work/$1.txt"; }
awk -v a="$(loss vulkan)" -v b="$(loss cpu)" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-3) }' ||
    fail "test loss on Vulkan $(loss vulkan) vs CPU $(loss cpu)"
cross=$("$raven" eval --device cpu --weights "$work/vulkan.safetensors" --data "$data")
echo "vulkan checkpoint on the CPU: $cross"
grep -q "$(sed -n 's/^final test accuracy \([0-9.]*%\).*/\1/p' "$work/vulkan.txt")" <<<"$cross" ||
    fail "the Vulkan checkpoint evaluates differently on the CPU"
echo PASS
