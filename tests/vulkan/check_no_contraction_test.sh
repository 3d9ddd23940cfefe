#!/bin/sh
# The build's NoContraction check rejects a shader whose multiply-add may be fused and accepts the same
# shader with `precise`. usage: check_no_contraction_test.sh GLSLC SPIRV-DIS PYTHON CHECKER SHADER WORKDIR
set -u
glslc=$1 dis=$2 python=$3 checker=$4 shader=$5 work=$6
mkdir -p "$work"
"$glslc" --target-env=vulkan1.2 -O -o "$work/contracted.spv" "$shader" || { echo "glslc failed"; exit 1; }
"$glslc" --target-env=vulkan1.2 -O -DPRECISE -o "$work/precise.spv" "$shader" || { echo "glslc failed"; exit 1; }
if "$python" "$checker" "$dis" "$work/contracted.spv" 2>"$work/err.txt"; then
    echo "FAIL: the check accepted a shader with a fusable multiply-add"; exit 1
fi
grep -q "without NoContraction" "$work/err.txt" || { echo "FAIL: unexpected message:"; cat "$work/err.txt"; exit 1; }
"$python" "$checker" "$dis" "$work/precise.spv" || { echo "FAIL: the check rejected the precise shader"; exit 1; }
echo "ok: fused shader rejected ($(head -1 "$work/err.txt")), precise shader accepted"
