#!/usr/bin/env bash
# Runs raven-bench-vulkan and its PyTorch/CUDA peer (torch_peer.py) in one run on the same GPU and prints
# one table: ours, PyTorch's, the ratio, the device names, and for elementwise kernels their share of
# our measured copy bandwidth. Builds nothing (docs/benchmarks.md, "Vulkan", has the build commands).
#
#   bench/vulkan/run.sh --bin BUILD/bench/vulkan/raven-bench-vulkan [--what gemm,elementwise,train,sweep,check]
#                       [--device SEL] [--profile] [--smoke] [--seconds S] [--shapes MxNxK,...]
#                       [--log FILE]
#
# When torch has no CUDA device (a machine without an NVIDIA GPU) it says so and prints ours only.
# --profile: the program also prints its per-kernel GPU time tables (Vulkan timestamps).
# sweep (only when named): every GEMM variant at each shape, Raven's alone (the data for tuning the
# variant choice, docs/vulkan.md); the fastest of each shape is marked, and with gemm on the same
# --shapes each variant stands beside cuBLAS. check (only when named): the backend against the CPU
# backend on this device (DeviceCheck.h); the run fails if any check does.
# --smoke: tiny sizes, for the test suite (label bench-smoke): fails when the program fails (it checks
# validation messages and that every figure is positive and finite) or a figure is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin=""
what="gemm,elementwise,train"
shapes=""
log=""
args=()
peer_args=()
# The peer's Python: RAVEN_PYTHON if set, else the first of python3 on PATH and /usr/bin/python3 whose
# torch sees a CUDA device, else the first with torch (Debian's python3-torch is CPU-only and lives in
# /usr/bin/python3; a GPU machine's CUDA build is often a pip/conda python3 on PATH).
pick_python() {
  local candidates=() p seen=""
  if [ -n "${RAVEN_PYTHON:-}" ]; then candidates=("$RAVEN_PYTHON"); else
    p="$(command -v python3 || true)"; [ -n "$p" ] && candidates+=("$(readlink -f "$p")")
    [ -x /usr/bin/python3 ] && [ "$(readlink -f /usr/bin/python3)" != "${candidates[0]:-}" ] &&
      candidates+=(/usr/bin/python3)
  fi
  for p in "${candidates[@]}"; do
    case "$("$p" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")' 2>/dev/null)" in
      cuda) echo "$p cuda"; return ;;
      cpu) [ -z "$seen" ] && seen="$p" ;;
    esac
  done
  if [ -n "$seen" ]; then echo "$seen cpu"; else echo "${candidates[0]:-python3} none"; fi
}
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --what) what="$2"; shift 2 ;;
    --device) args+=(--device "$2"); shift 2 ;;
    --seconds) args+=(--seconds "$2"); peer_args+=(--seconds "$2"); shift 2 ;;
    --shapes) shapes="$2"; args+=(--shapes "$2"); peer_args+=(--shapes "$2"); shift 2 ;;
    --profile) args+=(--profile); shift ;;
    --smoke) args+=(--smoke); peer_args+=(--smoke); shift ;;
    --log) log="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# Absolute paths: a bare program name would otherwise be looked up on PATH.
[ -n "$bin" ] && bin="$(realpath -m -- "$bin")"
[ -n "$log" ] && log="$(realpath -m -- "$log")"
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "run.sh: give the benchmark program with --bin (build target raven-bench-vulkan)" >&2
  exit 2
fi

read -r python torch_kind <<<"$(pick_python)"

ours="$(mktemp)"
peer="$(mktemp)"
trap 'rm -f "$ours" "$peer"' EXIT

echo "== raven-bench-vulkan --what $what ${args[*]:-}"
if ! "$bin" --what "$what" "${args[@]}" | tee "$ours"; then
  echo "run.sh: raven-bench-vulkan failed" >&2
  exit 1
fi

peer_note=""
# The peer has no sweep: it measures the named benchmarks it knows.
peer_what="$(tr ',' '\n' <<<"$what" | grep -vE '^(sweep|check)$' | paste -sd, - || true)"
echo "== torch_peer.py --what ${peer_what:-nothing} ${peer_args[*]:-} ($python)"
if [ "$torch_kind" = none ]; then
  peer_note="no PyTorch in $python (set RAVEN_PYTHON): Raven's figures only"
elif [ "$torch_kind" = cpu ]; then
  peer_note="PyTorch in $python sees no CUDA device: Raven's figures only (the peer needs an NVIDIA GPU)"
elif [ -z "$peer_what" ]; then
  peer_note="the sweep and the check have no peer: Raven's figures only"
else
  if ! "$python" "$here/torch_peer.py" --what "$peer_what" "${peer_args[@]}" | tee "$peer"; then
    echo "run.sh: torch_peer.py failed" >&2
    exit 1
  fi
fi
echo "$peer_note"

table="$("$python" - "$ours" "$peer" "$what" "$peer_note" "$shapes" <<'PY'
import json, math, sys
ours_file, peer_file, what, note, shapes = sys.argv[1:6]

def read(path):
    device, rows = "", []
    for line in open(path):
        if line.startswith("DEVICE "):
            device = line[7:].strip()
        elif line.startswith("RESULT "):
            rows.append(json.loads(line[7:]))
    return device, rows

our_device, ours = read(ours_file)
peer_device, peer = read(peer_file)
expected = {"gemm": 3, "elementwise": 6, "train": 2, "sweep": 4, "check": 0}
if shapes:
    expected["gemm"] = expected["sweep"] = len(shapes.split(","))
missing = [b for b in what.split(",") if sum(r["bench"] == b for r in ours) < expected[b]]
if missing:
    print("run.sh: raven-bench-vulkan printed too few results for: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
bad = [r for r in ours + peer if not (math.isfinite(r["value"]) and r["value"] > 0)]
checks = [l for l in open(ours_file) if l.startswith("CHECK ")]
if "check" in what.split(","):
    failed = [l for l in checks if l.rstrip().endswith("FAILED")]
    print("Checks against the CPU backend on this device: %d run, %d failed" % (len(checks), len(failed)))
    for l in failed:
        print("  " + l.strip())
    if not checks:
        print("run.sh: raven-bench-vulkan printed no checks", file=sys.stderr)
        sys.exit(1)
if bad:
    print("run.sh: figures that are not positive and finite: %s" % bad, file=sys.stderr)
    sys.exit(1)

def peer_value(row):
    for p in peer:
        bench = "gemm" if row["bench"] == "sweep" else row["bench"]
        if p["bench"] == bench and (p["case"] == row["case"] or
                                           (row["case"].startswith("copy") and p["case"] == "copy")):
            return p["value"]
    return None

copy = next((r["value"] for r in ours if r["case"] == "copy (vkCmdCopyBuffer)"), None)
print("Raven Vulkan: " + our_device)
print("PyTorch:      " + (peer_device or note))
print()
print("| benchmark | case | unit | Raven | PyTorch | Raven / PyTorch | note |")
print("| --- | --- | --- | ---: | ---: | ---: | --- |")
for r in ours:
    pv = peer_value(r)
    extra = ""
    if r["bench"] == "elementwise" and copy and not r["case"].startswith("copy"):
        extra = "%.0f%% of copy" % (100.0 * r["value"] / copy)
    if r["bench"] == "train":
        extra = "%.0f samples/s, %.2f submits/step" % (r["samples_per_s"], r["submits_per_step"])
        if "recorded_per_step" in r:
            extra += ", %.2f recorded/step" % r["recorded_per_step"]
    if r["bench"] == "gemm" and "variant" in r:
        extra = r["variant"]
    if r["bench"] == "sweep":
        fastest = max(x["value"] for x in ours if x["bench"] == "sweep" and x["case"] == r["case"])
        extra = r["variant"] + (" **chosen**" if r.get("chosen") else "") + (" **fastest**" if r["value"] == fastest else "")
        if "nmse_vs_cpu" in r:
            extra += ", nMSE vs CPU %.1e" % r["nmse_vs_cpu"]
        if "nmse_vs_chosen" in r:
            extra += ", nMSE vs chosen %.1e" % r["nmse_vs_chosen"]
    print("| %s | %s | %s | %.4g | %s | %s | %s |" % (
        r["bench"], r["case"], r["unit"], r["value"], "%.4g" % pv if pv else "-",
        "%.2f" % (r["value"] / pv) if pv else "-", extra))
PY
)"
echo
echo "$table"
if [ -n "$log" ]; then
  { cat "$ours"; cat "$peer"; echo; echo "$table"; } >"$log"
fi
