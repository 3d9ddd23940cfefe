#!/usr/bin/env bash
# Installs every Debian 12 package that Raven's build, tests, benchmarks and main job need.
# Idempotent: when everything is present it only checks and returns in about a second.
# Usage: scripts/setup-debian.sh            (as root, or as a user with sudo)
set -euo pipefail

# One list, grouped by what needs it. Add a package here, never by hand only.
packages=(
  # build
  build-essential cmake ninja-build ccache lld pkg-config git file dpkg-dev
  # Qt 6 (Core, Network, WebSockets, Widgets, Charts, Sql+SQLite, DBus, Test, Concurrent, Svg)
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev libgl-dev qt6-websockets-dev qt6-charts-dev qt6-svg-dev
  libqt6sql6-sqlite qt6-qpa-plugins libqt6svg6 qt6-image-formats-plugins
  # Vulkan: loader, headers, shader compiler, validator, lavapipe, validation layers
  libvulkan-dev vulkan-tools glslc spirv-tools mesa-vulkan-drivers vulkan-validationlayers
  # maths, compression, wire schema
  libeigen3-dev libglm-dev libzstd-dev zlib1g-dev libprotobuf-dev protobuf-compiler libssl-dev
  # the CPU backend's GEMM: OpenBLAS picks AVX2/AVX-512 kernels at run time (core/cpu/kernels/Gemm.h)
  libopenblas-dev
  # tests: display server, screenshots, the real dataset, the reference peer and its BLAS
  xvfb xauth imagemagick dataset-fashion-mnist fortunes python3 python3-numpy python3-torch libopenblas0
  # the console's ONNX export is checked by loading it in ONNX's own checker and shape inference
  python3-onnx
  # the contributor app's tests: a private session bus (dbus-run-session) for the fake desktop
  # services; a tray host and a clicker for the tray-menu screenshot (tools/desktop-shot.sh)
  dbus trayer xdotool
  # the contributor app's X11 idle time (MIT-SCREEN-SAVER)
  libx11-dev libxss-dev
  # packaging checks and tooling
  appstream desktop-file-utils clang-format clang-tidy
  # fuzzing (scripts/fuzz.sh, the preset fuzz): clang 14 and its runtime libraries (libFuzzer, ASan, UBSan)
  clang libclang-rt-14-dev
  # the WAN test bed (bench/wan): namespaces and tbf (iproute2), offloads off on the veths (ethtool),
  # its validation (ping, iperf3)
  iproute2 ethtool iputils-ping iperf3
  # tests that find a program's child processes (pgrep): local workers end with their parent
  procps
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup: error: not root and no sudo; run this script as root (su -c scripts/setup-debian.sh)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -q; then
  echo "setup: error: apt-get update failed; check the network and /etc/apt/sources.list*" >&2
  exit 1
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "setup: error: could not install: ${missing[*]}" >&2
  echo "setup: check the network, or that these names exist in Debian 12 (apt-cache policy NAME)" >&2
  exit 1
fi
echo "setup: done"
