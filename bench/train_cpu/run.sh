#!/usr/bin/env bash
# Runs raven-bench-train-cpu and its PyTorch peer (torch_peer.py) in one run, on the same cores with the
# same thread count, and prints one table: ours, PyTorch, the ratio, and each as a share of the FLOP
# bound that the machine's measured SGEMM rate sets (docs/benchmarks.md).
#
#   bench/train_cpu/run.sh --bin BUILD/bench/train_cpu/raven-bench-train-cpu [--threads N] [--rounds R]
#                          [--peer-threads "1 2"] [--data DIR] [--steps S] [--windows W] [--smoke] [--json FILE]
#
# The peer runs at each of --peer-threads (default: 1 and N): PyTorch on Debian spins idle OpenMP and
# OpenBLAS threads, so on a small shared machine one thread is often its fastest setting. The table
# compares Raven at N threads with the peer at its best thread count of the same round, and says which.
# Paths may be relative to the current folder.
#
# Each round runs every measurement once per framework, interleaved (gemm, mlp, cnn; ours then the
# peer), one process each so that every peak memory figure is its own. On a machine that others share,
# take several rounds: the table gives the best round, the spread over rounds, and the ratio within each
# round (ratios from the same round are what count). --smoke: a few steps, checks that every number is
# there and sane (positive, finite), no timing judgement; the test suite runs it (label bench-smoke).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin=""
threads="$(nproc)"
peer_threads=""
rounds=3
data=/usr/share/datasets/fashion-mnist
smoke=0
json=""
extra=()
python="${RAVEN_PYTHON:-/usr/bin/python3}"
[ -x "$python" ] || python="$(command -v python3 || true)"

while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --peer-threads) peer_threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --steps|--windows|--warmup) extra+=("$1" "$2"); shift 2 ;;
    --smoke) smoke=1; shift ;;
    --json) json="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# Absolute paths, so that a relative one means the same wherever a command runs.
[ -n "$bin" ] && bin="$(realpath -m -- "$bin")"
data="$(realpath -m -- "$data")"
[ -n "$json" ] && json="$(realpath -m -- "$json")"
[ -n "$peer_threads" ] || peer_threads="$(printf '%s\n' 1 "$threads" | sort -nu | paste -sd' ' -)"
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "run.sh: give the benchmark program with --bin (build target raven-bench-train-cpu)" >&2
  exit 2
fi
if [ -z "$python" ]; then
  echo "run.sh: python3 not found; the peer needs Debian's python3-torch" >&2
  exit 2
fi
common=(--data "$data" "${extra[@]}")
if [ "$smoke" = 1 ]; then
  common+=(--smoke)
  rounds=1
fi

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

peer_ok=1
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "run.sh: $python has no torch (apt-get install python3-torch): measuring Raven only" >&2
  peer_ok=0
fi

# One measurement: its RESULT line goes to $results, everything else to the terminal.
measure() {
  local who="$1"; shift
  local out status=0
  out="$("$@" 2>&1)" || status=$?
  if [ "$status" -ne 0 ]; then
    printf '%s\n' "$out" >&2
    if [ "$who" = peer ] && [ "$status" -eq 3 ]; then
      echo "run.sh: the peer refused to run (reference BLAS); no comparison" >&2
      exit 3
    fi
    echo "run.sh: $who failed (exit status $status): $*" >&2
    exit 1
  fi
  printf '%s\n' "$out" | grep '^RESULT ' | sed "s/^RESULT /{\"round\": $round, \"side\": \"$who\", \"result\": /; s/\$/}/" >> "$results"
}

# Steps per timed window unless --steps says otherwise: about a second of training each.
steps_for() {
  case " ${extra[*]-} " in *" --steps "*) return ;; esac
  case "$1" in mlp) echo --steps 100 ;; cnn) echo --steps 20 ;; esac
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
for round in $(seq 1 "$rounds"); do
  for what in gemm mlp cnn; do
    # shellcheck disable=SC2046  # steps_for prints zero or two words
    measure raven "$bin" --what "$what" --threads "$threads" "${common[@]}" $(steps_for "$what")
    if [ "$peer_ok" = 1 ]; then
      for t in $peer_threads; do
        # shellcheck disable=SC2046
        measure peer "$python" "$here/torch_peer.py" --what "$what" --threads "$t" "${common[@]}" $(steps_for "$what")
      done
    fi
  done
done

load_end="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"

"$python" - "$results" "$smoke" "$json" "$load_start" "$load_end" "$cpu" "$(nproc)" <<'PY'
import json, math, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
smoke, json_out = sys.argv[2] == "1", sys.argv[3]
by = {}
for r in rows:
    by.setdefault((r["result"]["what"], r["side"]), []).append(r)

def best(what, side, key):
    rs = by.get((what, side), [])
    return max((r["result"][key] for r in rs), default=None)

def spread(what, side, key):
    vals = [r["result"][key] for r in by.get((what, side), [])]
    return (min(vals), max(vals)) if vals else None

problems = []
for r in rows:
    res = r["result"]
    for key in ("gflops", "samples_per_s", "peak_rss_mib", "train_gemm_flops_per_sample", "last_loss"):
        if key in res:
            v = res[key]
            if not (isinstance(v, (int, float)) and math.isfinite(v) and (v > 0 or key == "last_loss")):
                problems.append(f"{r['side']} {res['what']}: {key} = {v}")

sgemm = {side: best("gemm", side, "gflops") for side in ("raven", "peer")}
machine = max(v for v in sgemm.values() if v)
first = rows[0]["result"] if rows else {}
peer_info = next((r["result"] for r in rows if r["side"] == "peer"), None)
print(f"machine: {sys.argv[6]}, {sys.argv[7]} CPUs; load average {sys.argv[4]} before, {sys.argv[5]} after")
peer_counts = sorted({r["result"].get("threads") for r in rows if r["side"] == "peer"})
print(f"threads: raven {first.get('threads')}, pytorch {', '.join(map(str, peer_counts)) or '-'} (its best counts)"
      f"   rounds: {max(r['round'] for r in rows)}")
print(f"raven GEMM:   {first.get('gemm')}")
if peer_info:
    print(f"peer:         {peer_info['framework']}, BLAS {peer_info['gemm']}, mkldnn {peer_info.get('mkldnn')}")
print(f"FLOP bound from the best SGEMM of this run: {machine:.1f} GFLOP/s")
print()
hdr = f"{'measure':<26}{'raven':>12}{'pytorch':>12}{'ratio':>8}   {'ratio per round':<22}{'raven spread':<20}{'pytorch spread':<20}"
print(hdr)
print("-" * len(hdr))

def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"

table = {"sgemm_gflops_bound": machine, "rows": []}
def row(label, what, key, digits=0, higher_is_better=True):
    ours, peer = best(what, "raven", key), best(what, "peer", key)
    if key == "peak_rss_mib":
        ours = min((r["result"][key] for r in by.get((what, "raven"), [])), default=None)
        peer = min((r["result"][key] for r in by.get((what, "peer"), [])), default=None)
    ratio = ours / peer if ours and peer else None
    rounds = []
    for rr in sorted({r["round"] for r in rows}):
        o = [r["result"][key] for r in by.get((what, "raven"), []) if r["round"] == rr]
        p = [r["result"][key] for r in by.get((what, "peer"), []) if r["round"] == rr]
        if o and p:
            rounds.append(o[0] / (min(p) if key == "peak_rss_mib" else max(p)))
    sp_o, sp_p = spread(what, "raven", key), spread(what, "peer", key)
    per_round = ", ".join(f"{x:.2f}" for x in rounds) if len(rounds) > 1 else ""
    so = f"{fmt(sp_o[0], digits)}..{fmt(sp_o[1], digits)}" if sp_o and len(by.get((what, 'raven'), [])) > 1 else ""
    sq = f"{fmt(sp_p[0], digits)}..{fmt(sp_p[1], digits)}" if sp_p and len(by.get((what, 'peer'), [])) > 1 else ""
    print(f"{label:<26}{fmt(ours, digits):>12}{fmt(peer, digits):>12}{fmt(ratio, 2):>8}   {per_round:<22}{so:<20}{sq:<20}")
    entry = {"measure": label, "raven": ours, "pytorch": peer, "ratio": ratio, "ratio_per_round": rounds}
    # The peer's best per thread count: which setting the comparison is against.
    per_threads = {}
    for r in by.get((what, "peer"), []):
        t, v = r["result"].get("threads"), r["result"][key]
        keep = min if key == "peak_rss_mib" else max
        per_threads[t] = keep(per_threads[t], v) if t in per_threads else v
    if len(per_threads) > 1 and key != "peak_rss_mib":
        pick = (min if key == "peak_rss_mib" else max)(per_threads, key=per_threads.get)
        text = ", ".join(f"{t} thread{'s' if t != 1 else ''}: {fmt(v, digits)}" for t, v in sorted(per_threads.items()))
        print(f"{'  pytorch by threads':<26}{'':>12}{'best at ' + str(pick):>12}   ({text})")
        entry["pytorch_by_threads"] = per_threads
        entry["pytorch_best_threads"] = pick
    table["rows"].append(entry)

gemm_size = best("gemm", "raven", "size") or best("gemm", "peer", "size")
row(f"SGEMM {gemm_size}^3 GFLOP/s", "gemm", "gflops", 1)
for what in ("mlp", "cnn"):
    row(f"{what.upper()} samples/s", what, "samples_per_s")
    ours, peer = best(what, "raven", "samples_per_s"), best(what, "peer", "samples_per_s")
    flops = best(what, "raven", "train_gemm_flops_per_sample") or best(what, "peer", "train_gemm_flops_per_sample")
    bound = machine * 1e9 / flops if flops else None
    share = lambda v: f"{100 * v / bound:.0f}%" if v and bound else "-"
    print(f"{'  share of FLOP bound':<26}{share(ours):>12}{share(peer):>12}   (bound {bound:,.0f} samples/s at {flops / 1e6:.2f} MFLOP/sample)")
    table["rows"].append({"measure": f"{what} share of bound", "raven": ours / bound if ours else None,
                          "pytorch": peer / bound if peer else None, "bound_samples_per_s": bound})
    row(f"{what.upper()} peak memory MiB", what, "peak_rss_mib", 0)
if json_out:
    with open(json_out, "w") as f:
        json.dump({"table": table, "measurements": rows}, f, indent=1)
if problems:
    print("\nrun.sh: insane numbers:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
if smoke:
    missing = [f"{s} {w}" for w in ("gemm", "mlp", "cnn") for s in ("raven", "peer") if (w, s) not in by]
    if missing and any(s == "raven" for s in (m.split()[0] for m in missing)):
        print("run.sh: missing measurements: " + ", ".join(missing), file=sys.stderr)
        sys.exit(1)
    print("\nsmoke: every measurement ran and gave sane numbers")
PY
