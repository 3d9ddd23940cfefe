#!/usr/bin/env bash
# Local-steps (DiLoCo) training against plain data-parallel (issue 19 item 1, first measurement): the
# Fashion-MNIST MLP trained to the same number of samples by a raven-coordinator and K raven-worker
# processes (CPU, one thread each) over loopback, once with synchronous Adam (every step's gradients,
# fp32) and once per H with M lanes of H inner Adam steps per round (outer Nesterov SGD, lr 0.7,
# momentum 0.9). Prints per mode: wall time, samples/s, the bytes each sample costs each way (from
# the workers' own summaries), mean utilization (jobs/<id>/metrics.jsonl, StepWaterfall.h) and the
# final test accuracy (the coordinator's evaluation at the job's end).
#
#   bench/distributed/local_steps.sh [--bin BUILD_DIR] [--workers 2] [--epochs 2] [--lanes 4]
#                                    [--inner-batch 128] [--local-steps "1 8 32"] [--lr 0.001]
#                                    [--updates "fp32 int8"] [--weights-down "fp32 int8"] [--staleness "0 1"]
#                                    [--no-sync] [--bed rw]
#   bench/distributed/run.sh --local-steps ...     (the same)
#
# --updates: the encodings the lanes' pseudo-gradients go up in (raven submit --updates), each H run
# once per encoding (default fp32 only); --weights-down: how the weights come down (raven submit
# --weights-down: fp32 whole, or int8 deltas of the published weights), each run once per choice
# (default fp32 only); --no-sync leaves out the synchronous reference run.
#
# The synchronous run takes global batch lanes x inner batch (the samples of one inner step of all the
# lanes), so both see the same samples per optimizer step of the model and the same epochs.
# --bed NAME runs the coordinator and worker i in the namespaces of a WAN bed that bench/wan/bed.sh up
# made (NAME-coord, NAME-wI; at least --workers workers) instead of on loopback.
# --staleness "0 1" runs every H once per delay d (issue 19 item 3: round t's lanes start from the
# weights of round t - 1 when d = 1), on the same samples; --sync no is --no-sync's other spelling.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=$src/build/ci
workers=2
epochs=2
lanes=4
inner=128
hs="1 8 32"
lr=0.001
updates=fp32
downs=fp32
delays=0
sync=yes
bed=
while [ $# -gt 0 ]; do
    case $1 in
        --bin) bin=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --lanes) lanes=$2; shift 2 ;;
        --inner-batch) inner=$2; shift 2 ;;
        --local-steps) hs=$2; shift 2 ;;
        --lr) lr=$2; shift 2 ;;
        --updates) updates=$2; shift 2 ;;
        --weights-down) downs=$2; shift 2 ;;
        --staleness) delays=$2; shift 2 ;;
        --no-sync) sync=no; shift ;;
        --sync) sync=$2; shift 2 ;;
        --bed) bed=$2; shift 2 ;;
        *) echo "unknown option $1 (see the header of $0)"; exit 2 ;;
    esac
done
bin=$(realpath -m -- "$bin")
raven=$bin/app-requester/raven
coordinator=$bin/app-coordinator/raven-coordinator
worker=$bin/app-contributor/raven-worker
for p in "$raven" "$coordinator" "$worker"; do
    [ -x "$p" ] || { echo "missing $p: build first (scripts/build.sh ci) or pass --bin"; exit 1; }
done
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
host=127.0.0.1
in_coord=()
if [ -n "$bed" ]; then
    host=$("$src/bench/wan/bed.sh" addr coord)
    in_coord=(ip netns exec "$bed-coord")
    ip netns pids "$bed-w$workers" >/dev/null 2>&1 || { echo "no namespace $bed-w$workers: bench/wan/bed.sh up --workers $workers"; exit 1; }
fi
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$work/coordinator
mkdir -p "$dir"
key=$("$coordinator" add-requester bench --deposit 1000000 --data-dir "$dir" 2>/dev/null)
# Plain jobs: units of one inner batch's shards (a lane's inner step), so both modes cut work alike.
"${in_coord[@]}" "$coordinator" serve --data-dir "$dir" --listen "$host:$port" --shards-per-unit $((inner / 32)) \
    >coordinator.log 2>&1 &
cpid=$!
pids+=("$cpid")
for _ in $(seq 100); do grep -q serving coordinator.log && break; sleep 0.1; done
export RAVEN_API_KEY=$key RAVEN_KNOWN_HOSTS=$work/known_hosts XDG_CACHE_HOME=$work/xdg RAVEN_COORDINATOR="wss://$host:$port"
state() { "$coordinator" status --data-dir "$dir" | awk -v j="$1" '$1 == j { print $2 }'; }

run() {  # TAG LABEL raven-submit-options...
    local tag=$1 label=$2 job t0 t1
    shift 2
    "${in_coord[@]}" "$raven" submit --model "$src/examples/mlp.json" --data "$data" --epochs "$epochs" --optimizer adam --lr "$lr" \
        --budget 100000 "$@" >job.txt 2>>submit.log  # a later --epochs wins
    job=$(cat job.txt)
    local wpids=()
    t0=$(date +%s.%N)
    for i in $(seq "$workers"); do
        token=$("$coordinator" add-contributor "bench-$tag-$i" --data-dir "$dir" 2>/dev/null)
        in_worker=()
        [ -z "$bed" ] || in_worker=(ip netns exec "$bed-w$i")
        "${in_worker[@]}" "$worker" --coordinator "$RAVEN_COORDINATOR" --token "$token" --device cpu --threads 1 \
            --cache-dir "$work/cache-$i" --known-hosts "$work/known_hosts" >"w-$tag-$i.log" 2>&1 &
        wpids+=($!)
    done
    while [ "$(state "$job")" = running ]; do sleep 0.2; done
    t1=$(date +%s.%N)
    for p in "${wpids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${wpids[@]}"; do wait "$p" 2>/dev/null || true; done
    cat w-"$tag"-*.log | awk '
        /summary:/ { for (i = 1; i <= NF; i++) {
            if ($i == "sent") s += $(i + 1); if ($i == "received") r += $(i + 1); if ($i == "samples,") n += $(i - 1) } }
        END { print s, r, n }' >"bytes-$tag"
    /usr/bin/python3 - "$dir/jobs/$job/metrics.jsonl" "$label" "$t0" "$t1" "$(cat "bytes-$tag")" "$(state "$job")" <<'PY'
import json, sys
path, label, t0, t1, sent, received, samples, state = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), \
    float(sys.argv[5].split()[0]), float(sys.argv[5].split()[1]), float(sys.argv[5].split()[2]), sys.argv[6]
rows = [json.loads(line) for line in open(path) if line.strip()]
util = [r["extra"]["utilization"] for r in rows[1:] if "utilization" in r.get("extra", {})]
acc = [r.get("eval_accuracy", r.get("evalAccuracy")) for r in rows if r.get("eval_accuracy", r.get("evalAccuracy")) is not None]
wall = t1 - t0
print(f"| {label} | {len(rows)} | {wall:.1f} | {samples / wall:.0f} | {sent * 1e6 / samples:.0f} | "
      f"{received * 1e6 / samples:.0f} | {100 * sum(util) / max(1, len(util)):.0f}% | "
      f"{100 * acc[-1]:.2f}% | {state} |" if acc and samples > 0 else f"| {label} | (no result: {state}) |")
PY
}

echo "Raven local steps (DiLoCo) vs synchronous Adam: examples/mlp.json on Fashion-MNIST, $epochs epoch(s),"
path=loopback
[ -z "$bed" ] || path="the WAN bed $bed ($(cat "/run/raven-wan-$bed/config"))"
echo "$workers CPU workers with one thread each over $path; load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Bytes are the workers' own counts (sent = gradients or pseudo-gradients up, received = weights and shards down)."
echo
echo "| mode | optimizer steps | wall s | samples/s | bytes up / sample | bytes down / sample | utilization | test accuracy | state |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
# Not measured: a one-epoch job that puts the dataset on the coordinator and every shard in the workers'
# caches, as long-running contributors have them.
# In a WAN bed the warm-up is a local-steps job: the same shards go down, a few pseudo-gradients come up
# instead of every gradient of a 4096-sample step over a 10 Mbit/s uplink.
warm=(--batch-size 4096)
[ -z "$bed" ] || warm=(--lanes "$lanes" --local-steps 32 --batch-size "$inner")
run warm "warm-up" --epochs 1 "${warm[@]}" >/dev/null
[ "$sync" = no ] || run sync "sync Adam, batch $((lanes * inner)), fp32" --batch-size $((lanes * inner))
for h in $hs; do
    for u in $updates; do
     for w in $downs; do
      for d in $delays; do
        label="local steps M=$lanes H=$h d=$d, inner batch $inner, $u updates"
        [ "$downs" = fp32 ] || label="$label, weights down $w"
        run "h$h-$u-$w-d$d" "$label" --lanes "$lanes" \
            --local-steps "$h" --staleness "$d" --batch-size "$inner" --updates "$u" --weights-down "$w"
      done
     done
    done
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
