#!/usr/bin/env bash
# Distributed training throughput on one machine (issue 5 item 9): the Fashion-MNIST MLP trained by a
# raven-coordinator and K raven-worker processes (CPU backend, one thread each) for K = 1, 2, 4, 8,
# first over loopback, then through a link of 50 ms round trip and 100 Mbit/s between the
# coordinator and its workers. Prints, per K: samples/s, scaling efficiency against K times the
# one-worker figure (and against min(K, cores) times it: workers beyond the cores share them),
# coordinator CPU time per work unit, and the bytes each sample costs on the wire.
#
#   bench/distributed/run.sh [--bin BUILD_DIR] [--workers "1 2 4 8"] [--steps 30] [--batch 1024]
#                            [--shards-per-unit 16] [--wan-steps 10] [--no-wan] [--worker-bin BUILD_DIR]
#                            [--worker-args "raven-worker options"] [--logs DIR]
#   bench/distributed/run.sh --matrix [options of matrix.sh]
#   bench/distributed/run.sh --local-steps "1 8 32" [options of local_steps.sh]
#
# --matrix runs bench/distributed/matrix.sh instead (issue 17 item 7): MLP and CNN, 1/2/4/8 workers,
# batch 1024 and 4096, real workers pinned to their own cores where the machine has them and
# emulated ones (replaying a recorded run) otherwise; see its header.
#
# A second table gives, per K, the coordinator's own account of the measured steps
# (jobs/<id>/metrics.jsonl, StepWaterfall.h): utilization = the workers' compute time / (K x wall
# time), scaling efficiency against K times one worker's compute-only rate (samples per second of
# pure computation, from the K = 1 run), and the waterfall of a step: weights out, compute, upload,
# ingest, step, idle (ms, averaged over the step's workers). Every job is cut into units of
# --shards-per-unit shards (default 16: two units of 512 samples at batch 1024), the same for every
# K, so every K computes the same result bits.
#
# A third table gives the prefetch hints' hit rate: of the granted units' shards, those already decoded
# in the workers' memory at the grant, against those fetched after it (on the critical path); each
# worker prints the counts on exit (workers older than these counts leave the table empty).
# --worker-bin takes raven-worker from another build (to tell a coordinator's change from a worker's);
# --worker-args adds options to every measured worker (e.g. "--ask-below 1 --max-leases 3").
# Each worker also prints its own timeline on exit (core/worker/UnitTimeline.h: medians of each stage
# of a unit, and its compute thread's busy share); the script lists them after the tables. --logs DIR
# keeps the coordinator's and workers' logs and every job's metrics.jsonl there.
#
# The WAN link: tc netem in network namespaces needs the kernel's sch_netem module; where `tc` cannot
# create a netem qdisc (as on these CI machines), the benchmark puts bench/distributed/link_emulator.py
# (a userspace relay that delays and rate-limits each direction) between the workers and the
# coordinator, and says so. Paths may be relative to the folder the script is called from.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=$src/build/ci
workers="1 2 4 8"
steps=30
wan_steps=10
batch=1024
shards_per_unit=16
wan=1
worker_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --matrix) shift; exec "$here/matrix.sh" "$@" ;;
        --local-steps) exec "$here/local_steps.sh" "$@" ;;  # issue 19: DiLoCo against data-parallel
        --bin) bin=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --wan-steps) wan_steps=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --shards-per-unit) shards_per_unit=$2; shift 2 ;;
        --no-wan) wan=0; shift ;;
        --worker-bin) worker_bin=$2; shift 2 ;;
        --worker-args) read -r -a worker_args <<<"$2"; shift 2 ;;
        --logs) logs=$(realpath -m -- "$2"); shift 2 ;;
        *) echo "unknown option $1 (see the header of $0)"; exit 2 ;;
    esac
done
# The script works in a temporary folder: a relative --bin means the folder it was called from.
bin=$(realpath -m -- "$bin")
raven=$bin/app-requester/raven
coordinator=$bin/app-coordinator/raven-coordinator
worker=$(realpath -m -- "${worker_bin:-$bin}")/app-contributor/raven-worker
for p in "$raven" "$coordinator" "$worker"; do
    [ -x "$p" ] || { echo "missing $p: build first (scripts/build.sh ci) or pass --bin"; exit 1; }
done
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${logs:-}" ]; then
        mkdir -p "$logs"
        cp "$work"/*.log "$logs"/ 2>/dev/null || true
        for m in "$work"/coordinator/jobs/*/metrics.jsonl; do
            [ -f "$m" ] && cp "$m" "$logs/metrics-$(basename "$(dirname "$m")").jsonl"
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
dir=$work/coordinator
mkdir -p "$dir"
key=$("$coordinator" add-requester bench --deposit 100000 --data-dir "$dir" 2>/dev/null)
"$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --shards-per-unit "$shards_per_unit" \
    >coordinator.log 2>&1 &
cpid=$!
pids+=("$cpid")
for _ in $(seq 100); do grep -q serving coordinator.log && break; sleep 0.1; done
export RAVEN_API_KEY=$key RAVEN_KNOWN_HOSTS=$work/known_hosts XDG_CACHE_HOME=$work/xdg
cores=$(nproc)
cpu_seconds() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
# Until the job ends, followed as its requester would (raven watch: one connection, told of each
# step), not polled: a status process five times a second took CPU from the run being measured.
wait_job() { RAVEN_COORDINATOR="wss://127.0.0.1:$port" "$raven" watch "$1" >>watch.log 2>&1 || true; }
units_of() { "$coordinator" audit --data-dir "$dir" | sed -n "s/^job $1 .* from \([0-9]*\) work unit.*/\1/p"; }

# One measured run: K workers against URL for STEPS steps; prints one table row.
run() {  # K URL STEPS LABEL
    local k=$1 url=$2 n=$3 label=$4 job t0 t1 c0 c1 units sent received samples
    RAVEN_COORDINATOR=$url "$raven" submit --model "$src/examples/mlp.json" --data "$data" --batch-size "$batch" \
        --max-steps "$n" --budget 1000 >job.txt 2>>submit.log
    job=$(cat job.txt)
    local wpids=()
    c0=$(cpu_seconds "$cpid")
    t0=$(date +%s.%N)
    for i in $(seq "$k"); do
        token=$("$coordinator" add-contributor "bench-$label-$k-$i" --data-dir "$dir" 2>/dev/null)
        "$worker" --coordinator "$url" --token "$token" --device cpu --threads 1 --cache-dir "$work/cache-$i" \
            --known-hosts "$work/known_hosts" "${worker_args[@]}" >"w-$label-$k-$i.log" 2>&1 &
        wpids+=($!)
    done
    wait_job "$job"
    t1=$(date +%s.%N)
    c1=$(cpu_seconds "$cpid")
    for p in "${wpids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${wpids[@]}"; do wait "$p" 2>/dev/null || true; done
    units=$(units_of "$job")
    # Each worker's summary: "sent X MB (Y bytes per sample), received Z MB".
    read -r sent received samples < <(cat w-"$label"-"$k"-*.log | awk '
        /summary:/ { for (i = 1; i <= NF; i++) {
            if ($i == "sent") s += $(i + 1); if ($i == "received") r += $(i + 1); if ($i == "samples,") n += $(i - 1) } }
        END { print s, r, n }')
    # The prefetch hints' hit rate: "shards of the units granted: M in memory at the grant, A fetched after it".
    cat w-"$label"-"$k"-*.log | awk -v k="$k" -v label="$label" '
        /shards of the units granted:/ { seen = 1; for (i = 2; i < NF; i++) {
            if ($i == "in" && $(i + 1) == "memory") m += $(i - 1); if ($i == "fetched" && $(i + 1) == "after") a += $(i - 1) } }
        END { if (seen && m + a > 0) printf "| %s | %d | %d | %d | %.0f%% |\n", label, k, m, a, 100 * m / (m + a)
              else printf "| %s | %d | | | (not reported) |\n", label, k }' >>"hints-$label"
    # Training time from the coordinator's own step timestamps (jobs/<id>/metrics.jsonl): from the end of
    # step 1 to the end of step n - 1, so that neither the workers' start (self-benchmark, registration,
    # first weights) nor the evaluation that ends the job is counted; the wall clock is the fallback.
    local steady
    steady=$(awk -v last=$((n - 1)) '
        match($0, /"step":"[0-9]+"/) { step = substr($0, RSTART + 8, RLENGTH - 9) + 0 }
        match($0, /"timestamp_ms":"[0-9]+"/) { ms = substr($0, RSTART + 16, RLENGTH - 17) / 1000 }
        step == 1 { first = ms } step == last { final = ms }
        END { if (first && final > first) printf "%.6f %.6f", first, final }' "$dir/jobs/$job/metrics.jsonl" 2>/dev/null)
    local measured=$n
    if [ "$n" -ge 3 ] && [ -n "$steady" ]; then
        read -r t0 t1 <<<"$steady"
        measured=$((n - 2))
    fi
    awk -v k="$k" -v n="$measured" -v b="$batch" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v u="$units" \
        -v s="$sent" -v r="$received" -v m="$samples" -v label="$label" -v base="${base:-0}" -v cores="$cores" 'BEGIN {
        sps = n * b / (t1 - t0)
        if (k == 1) { print sps > ("base-" label) }
        if (base == 0) base = sps
        eff = sps / (k * base); effc = sps / ((k < cores ? k : cores) * base)
        printf "| %s | %d | %.0f | %.0f%% | %.0f%% | %.1f | %.0f | %.0f |\n", label, k, sps, 100 * eff, 100 * effc,
               1000 * (c1 - c0) / (u > 0 ? u : 1), (m > 0 ? s * 1e6 / m : 0), (m > 0 ? r * 1e6 / m : 0) }' >>"rows-$label"
    # The coordinator's account of the same steps (averages over steps 2 .. n - 1).
    /usr/bin/python3 - "$dir/jobs/$job/metrics.jsonl" "$n" "$k" "$label" >>"waterfall-$label" <<'PY'
import json, os, sys
path, n, k, label = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [json.loads(line) for line in open(path) if line.strip()]
steps = [r for r in rows if 2 <= int(r.get("step", 0)) <= max(2, n - 1) and "wall_ms" in r.get("extra", {})]
if not steps:
    print(f"| {label} | {k} | (no waterfall in metrics.jsonl) |"); sys.exit()
mean = lambda key: sum(r["extra"].get(key, 0.0) for r in steps) / len(steps)
rate = mean("compute_samples_per_s")
base_file = f"compute-rate-{label}"
if k == 1:
    open(base_file, "w").write(str(rate))
base = float(open(base_file).read()) if os.path.exists(base_file) else rate
samples_per_s = sum(r.get("samples_per_second", 0.0) for r in steps) / len(steps)
wall_s = sum(r["extra"]["wall_ms"] for r in steps) / 1000.0
samples = sum(r["extra"]["wall_ms"] / 1000.0 * r.get("samples_per_second", 0.0) for r in steps)
eff = (samples / wall_s) / (k * base) if base > 0 and wall_s > 0 else 0.0
print(f"| {label} | {k} | {100 * mean('utilization'):.0f}% | {100 * eff:.0f}% | {mean('weights_out_ms'):.1f} | "
      f"{mean('compute_ms'):.1f} | {mean('upload_ms'):.1f} | {mean('ingest_ms'):.1f} | {mean('step_ms'):.1f} | "
      f"{mean('idle_ms'):.1f} | {mean('wall_ms'):.1f} | {mean('coordinator_cpu_ms_per_unit'):.1f} | "
      f"{mean('bytes_in_per_sample'):.0f} | {mean('bytes_out_per_sample'):.0f} |")
PY
}

echo "Raven distributed training benchmark: examples/mlp.json on Fashion-MNIST, global batch $batch,"
echo "CPU workers with one thread each, on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($cores cores)."
echo "Efficiency = samples/s / (K x one worker's); 'per core' divides by min(K, cores) instead."
echo
echo "| link | workers | samples/s | efficiency | per core | coordinator ms CPU / unit | bytes sent / sample | bytes received / sample |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
# The dataset's upload is not measured: a warm-up job of one step puts it on the coordinator.
RAVEN_COORDINATOR="wss://127.0.0.1:$port" "$raven" submit --model "$src/examples/mlp.json" --data "$data" \
    --batch-size "$batch" --max-steps 1 --budget 10 >warmup.txt 2>>submit.log
"$coordinator" add-contributor warmup --data-dir "$dir" >warmup.token 2>/dev/null
"$worker" --coordinator "wss://127.0.0.1:$port" --token "$(cat warmup.token)" --device cpu --threads 1 \
    --cache-dir "$work/cache-warm" --known-hosts "$work/known_hosts" >warmup.log 2>&1 &
wp=$!
wait_job "$(cat warmup.txt)"
kill "$wp"; wait "$wp" 2>/dev/null || true
# Every worker starts with the shards cached, as long-running contributors have them.
for i in $(seq 8); do cp -r "$work/cache-warm" "$work/cache-$i"; done

base=0
for k in $workers; do
    run "$k" "wss://127.0.0.1:$port" "$steps" loopback
    tail -n 1 rows-loopback
    [ "$k" = 1 ] && base=$(cat base-loopback)
done
waterfall_table() {
    echo
    echo "Per step, as the coordinator saw it (averages over the measured steps; ms per worker):"
    echo
    echo "| link | workers | utilization | efficiency vs K x compute-only | weights out | compute | upload | ingest | step | idle | wall | coordinator ms CPU / unit | bytes in / sample | bytes out / sample |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    cat "waterfall-$1"
    echo
    echo "Prefetch hints: the granted units' shards in memory at their grant, and fetched after it:"
    echo
    echo "| link | workers | in memory at the grant | fetched after the grant | hit rate |"
    echo "| --- | --- | --- | --- | --- |"
    cat "hints-$1"
    echo
    echo "Each worker's own timeline (medians over its units; UnitTimeline.h):"
    echo
    for f in w-"$1"-*.log; do
        sed -n "s/^raven-worker: timeline: /- ${f%.log}: /p" "$f"
    done
}
waterfall_table loopback

[ "$wan" = 1 ] || exit 0
link="userspace link emulator (tc netem unavailable: $(tc qdisc add dev lo root netem delay 1ms 2>&1 | head -1 || true))"
if ip netns add raven-netem-probe 2>/dev/null; then
    if ip netns exec raven-netem-probe tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
        link="tc netem is available in network namespaces; this script still uses its userspace link emulator"
    fi
    ip netns del raven-netem-probe
fi
wport=$(free_port)
/usr/bin/python3 "$here/link_emulator.py" --listen "127.0.0.1:$wport" --target "127.0.0.1:$port" \
    --delay-ms 25 --mbit 100 >link.log 2>&1 &
pids+=($!)
sleep 0.5
echo
echo "| link | workers | samples/s | efficiency | per core | coordinator ms CPU / unit | bytes sent / sample | bytes received / sample |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
base=0
for k in $workers; do
    run "$k" "wss://127.0.0.1:$wport" "$wan_steps" "50ms-100Mbit"
    tail -n 1 rows-50ms-100Mbit
    [ "$k" = 1 ] && base=$(cat base-50ms-100Mbit)
done
waterfall_table 50ms-100Mbit
echo
echo "WAN link: 25 ms each way (50 ms round trip), 100 Mbit/s each way, by $link."
