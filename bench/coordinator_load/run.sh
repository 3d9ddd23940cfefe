#!/usr/bin/env bash
# Coordinator capacity (issue 17 item 6): a real raven-coordinator with a real job (examples/mlp.json
# on Fashion-MNIST, submitted with `raven submit` as a requester does), and raven-bench-coordinator-load
# with N simulated workers speaking the real protocol to it: TLS, open enrollment, heartbeats at the
# coordinator's interval, leases, and results that pass its checks (one real gradient of the job's
# model, computed once and submitted for every unit). Per N, one row: units accepted per second,
# lease latency (request -> grant) p50/p99, the coordinator's memory per connected worker, its CPU per
# unit and per second, heartbeat round trips, and the generator's own CPU. A fresh coordinator per N;
# after each, `raven-coordinator audit` checks the ledger (every accepted unit paid once).
#
#   bench/coordinator_load/run.sh [--bin BUILD_DIR] [--workers "100 1000 10000"] [--duration 20]
#                                 [--active 50] [--units-per-worker 1] [--batch 16384]
#                                 [--shards-per-unit 1] [--warmup 3] [--hold 5] [--smoke]
#                                 [--coordinator PATH] [--label TEXT] [--coordinator-args "..."]
#                                 [--gradients fp32|bf16|fp16|int8]
#
# --coordinator measures another raven-coordinator binary with the same tools (a before/after pair
# run side by side on a loaded machine); --label prefixes the notes under each row; --coordinator-args
# are added to its `serve` command line (e.g. "--lease-timeout-ms 60000"). --gradients is the job's
# update encoding (`raven submit --gradients`): the same MLP's gradient in half (bf16, fp16) or a
# quarter (int8) of fp32's bytes, as a requester on slow links would choose.
#
# --active workers lease and submit; the others only hold their sessions (heartbeats). Units are
# --shards-per-unit shards of 32 samples; the gradient is the MLP's 235,146 values (~0.94 MB in fp32)
# whatever the unit's size. --smoke: 20 workers, 5 active, a few seconds (the bench-smoke test): it
# fails unless results were accepted and the audit passes. Paths may be relative.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=$src/build/ci
workers="100 1000 10000"
duration=20
active=50
units_per_worker=1
batch=16384
shards_per_unit=1
warmup=3
hold=5
smoke=0
coordinator=
label=
coordinator_args=
gradients=fp32
while [ $# -gt 0 ]; do
    case $1 in
        --bin) bin=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --active) active=$2; shift 2 ;;
        --units-per-worker) units_per_worker=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --shards-per-unit) shards_per_unit=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --hold) hold=$2; shift 2 ;;
        --coordinator) coordinator=$(realpath -m -- "$2"); shift 2 ;;
        --label) label=$2; shift 2 ;;
        --coordinator-args) coordinator_args=$2; shift 2 ;;
        --gradients) gradients=$2; shift 2 ;;
        --smoke) smoke=1; workers=20; active=5; duration=3; warmup=1; hold=1; batch=1024; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown option $1 (see the header of $0, or --help)"; exit 2 ;;
    esac
done
bin=$(realpath -m -- "$bin")
coordinator=${coordinator:-$bin/app-coordinator/raven-coordinator}
raven=$bin/app-requester/raven
load=$bin/bench/coordinator_load/raven-bench-coordinator-load
for p in "$coordinator" "$raven" "$load"; do
    [ -x "$p" ] || { echo "missing $p: build it first (cmake --build $bin --target raven-coordinator raven raven-bench-coordinator-load) or pass --bin"; exit 1; }
done
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "missing $data: install the dataset-fashion-mnist package (scripts/setup-debian.sh)"; exit 1; }
work=$(mktemp -d)
cpid=
cleanup() { [ -n "$cpid" ] && kill "$cpid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# The requester's own cache (the dataset's import) stays in the temporary folder too.
export XDG_CACHE_HOME=$work/xdg
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "Coordinator capacity: examples/mlp.json on Fashion-MNIST, global batch $batch, $shards_per_unit shard(s) of 32 samples per unit,"
echo "$active active workers (the rest hold sessions), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "file descriptors: soft $(ulimit -Sn), hard $(ulimit -Hn)."
echo
header=--header
status=0
for n in $workers; do
    dir=$work/coordinator-$n
    mkdir -p "$dir"
    port=$(free_port)
    key=$("$coordinator" add-requester load --deposit 1000000 --data-dir "$dir" 2>/dev/null)
    # The per-address and total limits protect real deployments; here every worker comes from 127.0.0.1.
    limit=$((n + 1000))
    "$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --open-enrollment \
        --max-connections "$limit" --max-connections-per-address "$limit" --enrollments-per-hour "$limit" \
        --shards-per-unit "$shards_per_unit" $coordinator_args >"$work/coordinator-$n.log" 2>&1 &
    cpid=$!
    for _ in $(seq 100); do grep -q serving "$work/coordinator-$n.log" && break; sleep 0.1; done
    grep -q serving "$work/coordinator-$n.log" || { cat "$work/coordinator-$n.log"; exit 1; }
    RAVEN_API_KEY=$key RAVEN_KNOWN_HOSTS=$work/known_hosts RAVEN_COORDINATOR="wss://127.0.0.1:$port" \
        "$raven" submit --model "$src/examples/mlp.json" --data "$data" --batch-size "$batch" --epochs 100000 \
        --max-steps 1000000 --budget 100000 --gradients "$gradients" >"$work/job-$n.txt" 2>>"$work/submit.log" ||
        { cat "$work/submit.log"; exit 1; }
    load_avg=$(cut -d' ' -f1-3 /proc/loadavg)
    rc=0
    "$load" --coordinator "wss://127.0.0.1:$port" --coordinator-pid "$cpid" --workers "$n" --active "$active" \
        --units-per-worker "$units_per_worker" --duration "$duration" --warmup "$warmup" --hold "$hold" \
        --known-hosts "$work/known_hosts" --label "${label}N=$n" $header 2>"$work/load-$n.log" || rc=$?
    header=
    sed 's/^/    /' "$work/load-$n.log" >&2
    echo "    load average before N=$n: $load_avg" >&2
    kill "$cpid"; wait "$cpid" 2>/dev/null || true
    cpid=
    audit=$("$coordinator" audit --data-dir "$dir" 2>&1) || { echo "$audit" >&2; echo "audit failed for N=$n" >&2; status=1; }
    echo "$audit" | tail -n 2 | sed 's/^/    audit: /' >&2
    if [ "$rc" != 0 ]; then echo "the load generator failed for N=$n (exit $rc)" >&2; status=1; fi
    if [ "$smoke" = 1 ] && ! grep -q "[1-9][0-9]* accepted" "$work/load-$n.log"; then
        echo "smoke: no result was accepted" >&2; status=1
    fi
done
exit $status
