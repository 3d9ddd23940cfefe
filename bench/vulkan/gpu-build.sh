#!/usr/bin/env bash
# Builds raven-bench-vulkan on a GPU machine without Qt and without glslc: what `cmake --preset
# gpu-bench` configures (Release, RAVEN_WITH_QT=OFF), warnings not fatal, RAVEN_SPIRV_DIR at the carried
# SPIR-V, and the carried Vulkan/Eigen development files wherever the machine lacks its own (see
# pack-gpu-carry.sh). Ninja when installed, else Makefiles. Run from anywhere; builds into
# <repo>/build/gpu-bench (the preset's folder), or $RAVEN_GPU_BUILD_DIR.
#
#   bench/vulkan/gpu-build.sh [CARRY_DIR] [--force-carried]
#
# --force-carried uses the carried headers, loader and Eigen even where the system has its own (to
# check the carry on a development machine).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
carry="$repo/build/gpu-carry"
build="${RAVEN_GPU_BUILD_DIR:-$repo/build/gpu-bench}"
force=0
for a in "$@"; do
  case "$a" in
    --force-carried) force=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) carry="$(cd "$a" && pwd)" ;;
  esac
done
[ -d "$carry/spirv" ] || { echo "gpu-build.sh: no SPIR-V in $carry/spirv (run pack-gpu-carry.sh where glslc is)" >&2; exit 2; }

# Warnings stay warnings here: the GPU machine's compiler may be newer than Debian 12's GCC, whose
# warnings CI keeps at zero, and a benchmark run must not fail on a new one.
opts=(-DCMAKE_BUILD_TYPE=Release -DRAVEN_WITH_QT=OFF -DRAVEN_BUILD_TESTS=OFF -DRAVEN_WERROR=OFF
      -DRAVEN_SPIRV_DIR="$carry/spirv")
if [ $force = 1 ] || [ ! -f /usr/include/vulkan/vulkan.h ]; then
  opts+=(-DVulkan_INCLUDE_DIR="$carry/include")
fi
if [ $force = 1 ] || ! ls /usr/lib/x86_64-linux-gnu/libvulkan.so /usr/lib64/libvulkan.so /usr/lib/libvulkan.so >/dev/null 2>&1; then
  opts+=(-DVulkan_LIBRARY="$carry/lib/libvulkan.so")
fi
if [ $force = 1 ] || [ ! -d /usr/include/eigen3 ]; then
  opts+=(-DEigen3_DIR="$carry/share/eigen3/cmake")
fi
if command -v ninja >/dev/null 2>&1; then gen=Ninja; else gen="Unix Makefiles"; fi

cmake -S "$repo" -B "$build" -G "$gen" "${opts[@]}"
cmake --build "$build" --target raven-bench-vulkan -j"$(nproc)"
echo "gpu-build.sh: built $build/bench/vulkan/raven-bench-vulkan"
echo "run: $here/run.sh --bin $build/bench/vulkan/raven-bench-vulkan [--profile]"
