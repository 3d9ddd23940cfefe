#!/usr/bin/env bash
# The main job: sets up, builds, and trains a real model end to end on this machine: the
# Fashion-MNIST MLP (examples/mlp.json) from Debian's dataset-fashion-mnist, with Adam, printing
# progress, the test accuracy after every epoch, and writing a checkpoint PyTorch can load.
# The distributed engine (coordinator + workers) replaces the local run when it lands.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh ci
raven=build/ci/app-requester/raven
out=${RAVEN_OUT:-build/main-job}
mkdir -p "$out"
echo "== Raven $("$raven" --version): compute devices on this machine"
"$raven" devices --check
echo "== Main job: local training of examples/mlp.json on Fashion-MNIST (CPU backend)"
"$raven" train --local --model examples/mlp.json --data /usr/share/datasets/fashion-mnist \
    --epochs "${RAVEN_EPOCHS:-8}" --out "$out/mlp.safetensors"
"$raven" eval --weights "$out/mlp.safetensors" --data /usr/share/datasets/fashion-mnist
