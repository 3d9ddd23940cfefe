#!/usr/bin/env bash
# Installs what is missing (scripts/setup-debian.sh), configures and builds a CMake preset.
# Usage: scripts/build.sh [PRESET]   (default: ci; presets in CMakePresets.json)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-ci}
scripts/setup-debian.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
