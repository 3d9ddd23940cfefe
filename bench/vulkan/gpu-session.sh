#!/usr/bin/env bash
# Everything a short GPU lease is for, in one command run from the repository root on the GPU machine:
# the Vulkan loader where the machine has only the driver, the Qt-free build, the backend checked
# against the CPU backend on the GPU, then the benchmarks beside PyTorch/CUDA, the per-kernel profile
# and the GEMM sweep, each log in OUT_DIR. Needs build/gpu-carry (pack-gpu-carry.sh, run where glslc
# is). docs/benchmarks.md, "Vulkan", has the whole procedure.
#
#   bench/vulkan/gpu-session.sh [--out OUT_DIR] [PHASE ...]
#
# PHASE: build | check (the backend against the CPU backend, DeviceCheck.h, with the verifiable MLP
# and CNN units bit for bit) | verifiable (the MLP's and CNN's training step in the verifiable kernel
# mode beside the fast one) | bench (gemm, elementwise, train beside PyTorch) | profile (train and gemm
# with per-kernel GPU times) | sweep (every GEMM variant, beside cuBLAS). Default: all six, in that
# order (about 7 minutes on an H100). OUT_DIR:
# $OUT, else build/gpu-logs. Loader packages (.deb) in .gl/ are unpacked into / first when no
# libvulkan.so.1 is installed (the device tool's instructions).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${OUT:-$repo/build/gpu-logs}"
phases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    build|check|verifiable|bench|profile|sweep) phases+=("$1"); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "gpu-session.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#phases[@]} -gt 0 ] || phases=(build check verifiable bench profile sweep)
out="$(realpath -m -- "$out")"
mkdir -p "$out"

if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  if ls "$repo"/.gl/*.deb >/dev/null 2>&1; then
    for deb in "$repo"/.gl/*.deb; do dpkg -x "$deb" /; done
    ldconfig
  else
    echo "gpu-session.sh: no Vulkan loader (libvulkan.so.1) and no .gl/*.deb to unpack" >&2
    exit 2
  fi
fi
# A driver installed outside the loader's search path (NVIDIA's container images).
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ] &&
   ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES="$nvidia_icd"
fi

bin="${RAVEN_GPU_BUILD_DIR:-$repo/build/gpu-bench}/bench/vulkan/raven-bench-vulkan"
for phase in "${phases[@]}"; do
  echo "== gpu-session.sh: $phase ($(date -u +%H:%M:%S))"
  case "$phase" in
    build) "$here/gpu-build.sh" 2>&1 | tee "$out/build.txt" | tail -n 3 ;;
    check) "$here/run.sh" --bin "$bin" --what check --log "$out/vulkan-check.txt" ;;
    verifiable) "$bin" --what train --verifiable --seconds 2 2>&1 | tee "$out/vulkan-verifiable.txt" ;;
    bench) "$here/run.sh" --bin "$bin" --log "$out/vulkan.txt" ;;
    profile) "$here/run.sh" --bin "$bin" --what gemm,train --profile --log "$out/vulkan-profile.txt" ;;
    sweep)
      shapes=1024x1024x1024,2048x2048x2048,4096x4096x4096,8192x8192x8192,4096x512x14336,512x512x8192,128x256x784,784x256x128
      "$here/run.sh" --bin "$bin" --what gemm,sweep --shapes "$shapes" --log "$out/vulkan-sweep.txt" ;;
  esac
done
echo "== gpu-session.sh: done ($(date -u +%H:%M:%S)); logs in $out"
