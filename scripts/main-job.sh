#!/usr/bin/env bash
# The main job: sets up, builds, and trains a real model end to end on this machine through the
# distributed engine: an embedded coordinator and two raven-worker processes that contribute to it
# over loopback TLS, as volunteers' machines would. It trains the Fashion-MNIST MLP
# (examples/mlp.json) from Debian's dataset-fashion-mnist with Adam, printing progress, the test
# accuracy after every epoch and at the end, and writes a checkpoint PyTorch can load.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh ci
raven=build/ci/app-requester/raven
out=${RAVEN_OUT:-build/main-job}
mkdir -p "$out"
echo "== Raven $("$raven" --version): compute devices on this machine"
"$raven" devices --check
echo "== Main job: examples/mlp.json on Fashion-MNIST through an embedded coordinator and 2 local workers"
"$raven" train --workers "${RAVEN_WORKERS:-2}" --model examples/mlp.json --data /usr/share/datasets/fashion-mnist \
    --epochs "${RAVEN_EPOCHS:-3}" --out "$out/mlp.safetensors"
"$raven" eval --weights "$out/mlp.safetensors" --data /usr/share/datasets/fashion-mnist
