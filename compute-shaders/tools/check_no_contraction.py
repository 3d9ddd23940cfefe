#!/usr/bin/env python3
"""Fails when a verifiable shader's SPIR-V has a float add, subtract or multiply without NoContraction,
or any fused multiply-add: a driver may fuse such an operation (one rounding instead of two) and the
result would differ between devices (docs/verification.md, "The kernels").

usage: check_no_contraction.py SPIRV-DIS FILE.spv [STAMP]
"""
import re
import subprocess
import sys

ARITHMETIC = ("OpFAdd", "OpFSub", "OpFMul", "OpVectorTimesScalar", "OpMatrixTimesScalar", "OpDot")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    dis, spv = sys.argv[1], sys.argv[2]
    text = subprocess.run([dis, "--raw-id", spv], check=True, capture_output=True, text=True).stdout
    precise = set(re.findall(r"OpDecorate (%\d+) NoContraction", text))
    bad = []
    for line in text.splitlines():
        m = re.match(r"\s*(%\d+) = (Op\w+)", line)
        if not m:
            continue
        result, op = m.groups()
        if op in ARITHMETIC and result not in precise:
            bad.append(line.strip())
        elif op == "OpExtInst" and re.search(r"\b(Fma|FmaFloat)\b", line):
            bad.append(line.strip())
    if bad:
        print(f"{spv}: {len(bad)} float operation(s) without NoContraction (mark the result `precise`):", file=sys.stderr)
        for line in bad[:20]:
            print("  " + line, file=sys.stderr)
        sys.exit(1)
    if len(sys.argv) > 3:
        open(sys.argv[3], "w").close()


if __name__ == "__main__":
    main()
