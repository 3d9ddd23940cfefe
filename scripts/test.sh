#!/usr/bin/env bash
# Sets up, builds and runs every test suite (unit, vulkan on Mesa's lavapipe with validation layers,
# gui offscreen, e2e, packaging). Extra arguments go to ctest, e.g. scripts/test.sh -L vulkan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh ci
ctest --preset ci -j"$(nproc)" "$@"
