#!/usr/bin/env bash
# Packs what a GPU benchmark machine may lack into one git-ignored folder to carry there (default
# <repo>/build/gpu-carry): the SPIR-V this build compiled (the machine has no glslc), and, in case the
# machine has only a Vulkan driver and no development files, the Vulkan C headers, the Vulkan loader
# to link against, and Eigen's headers with its CMake package. bench/vulkan/gpu-build.sh uses them.
#
#   bench/vulkan/pack-gpu-carry.sh BUILD_DIR [OUT_DIR]
#
# Refuses when a shader of compute-shaders/ has no .spv in BUILD_DIR or one older than its sources
# (rebuild target raven_shaders first).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="${1:?usage: pack-gpu-carry.sh BUILD_DIR [OUT_DIR]}"
out="${2:-$repo/build/gpu-carry}"
spv="$build/compute-shaders/spv"
[ -d "$spv" ] || { echo "pack-gpu-carry.sh: $spv does not exist; build target raven_shaders in $build first" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out/spirv" "$out/include/vulkan" "$out/lib" "$out/share"
newest_include="$(ls -t "$repo"/compute-shaders/include/*.glsl | head -n1)"
count=0
for src in "$repo"/compute-shaders/*.comp; do
  name="$(basename "$src" .comp)"
  if [ ! -f "$spv/$name.spv" ] || [ "$src" -nt "$spv/$name.spv" ] || [ "$newest_include" -nt "$spv/$name.spv" ]; then
    echo "pack-gpu-carry.sh: $spv/$name.spv is missing or older than its sources; rebuild raven_shaders in $build" >&2
    exit 1
  fi
  cp "$spv/$name.spv" "$out/spirv/"
  count=$((count + 1))
done

# Vulkan: the C headers only (vulkan.hpp and friends are not used), and the loader to link with; at run
# time the machine's own libvulkan.so.1 is loaded (same SONAME).
cp /usr/include/vulkan/*.h "$out/include/vulkan/"
[ -d /usr/include/vk_video ] && cp -r /usr/include/vk_video "$out/include/"
cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$out/lib/libvulkan.so.1"
cp "$out/lib/libvulkan.so.1" "$out/lib/libvulkan.so"  # a copy: links may not travel
# Eigen (header-only) with its CMake package; Eigen3Targets.cmake finds include/eigen3 from its own place.
cp -r /usr/include/eigen3 "$out/include/"
cp -r /usr/share/eigen3 "$out/share/"

echo "pack-gpu-carry.sh: $count shaders, Vulkan headers and loader, Eigen in $out ($(du -sh "$out" | cut -f1))"
