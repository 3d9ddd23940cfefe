#!/usr/bin/env bash
# Local-steps (DiLoCo) training against plain data-parallel (issue 19 items 1-5): one of the example
# models trained to the same number of samples by a raven-coordinator and K raven-worker processes
# (CPU, one thread each) over loopback or a WAN bed, once with synchronous Adam (every step's
# gradients, fp32) and once per H (and encoding, weights-down format and delay) with M lanes of H
# inner Adam steps per round (outer Nesterov SGD, lr 0.7, momentum 0.9 unless changed). Prints per
# mode: optimizer steps, wall time, samples/s, the bytes each sample costs each way (from the workers'
# own summaries), mean utilization (jobs/<id>/metrics.jsonl, StepWaterfall.h), the wall time until
# the test accuracy first reached the target, the final test accuracy and loss (the coordinator's
# evaluations), and in emulated mode whether the K replaying workers ended on the recording's bits.
#
#   bench/distributed/local_steps.sh [--bin BUILD_DIR] [--model mlp|cnn|transformer] [--workers 2]
#                                    [--epochs 2] [--lanes 4] [--inner-batch 128] [--local-steps "1 8 32"]
#                                    [--lr 0.001] [--outer-lr 0.7] [--outer-momentum 0.9]
#                                    [--updates "fp32 int8"] [--weights-down "fp32 int8"] [--staleness "0 1"]
#                                    [--evals 0] [--target 0.83] [--emulated] [--recordings DIR]
#                                    [--no-sync] [--bed rw] [--logs DIR]
#   bench/distributed/run.sh --local-steps ...     (the same)
#
# --model: mlp and cnn train on Fashion-MNIST (/usr/share/datasets/fashion-mnist), transformer on the
# text of Debian's fortunes (/usr/share/games/fortunes/computers, imported with a context of 64);
# accuracy is then next-character accuracy. --updates: the encodings the lanes' pseudo-gradients go
# up in (raven submit --updates), each H run once per encoding (default fp32 only); --weights-down:
# how the weights come down (fp32 whole, or int8 deltas of the published weights), each run once per
# choice (default fp32 only); --staleness "0 1" runs every H once per delay d (round t's lanes start
# from the weights of round t - 1 when d = 1). --no-sync (or --sync no) leaves out the synchronous
# reference run, which takes global batch lanes x inner batch (the samples of one inner step of all
# the lanes), so both see the same samples per optimizer step of the model and the same epochs.
# --evals N evaluates on the test split about N times a run besides the end (the wall time to the
# target needs them; each evaluation costs the coordinator a pass over the test split); --target is
# the test accuracy (a fraction) whose first reaching is timed, by default the synchronous run's final
# accuracy less one point.
# --emulated: where the machine has fewer cores than workers (issue 17 item 7's emulated compute),
# each mode runs twice: once with one real worker that records every lane's result and compute time
# (raven-worker --record), then with the K workers replaying it (--replay: TLS, leases, fetching and
# verifying shards and weights, uploads all real; the arithmetic replaced by waiting its recorded
# time). Every run starts from a copy of the same coordinator, so the job has the same id and the
# replay's final weights must equal the recording's bit for bit ("same bits"). --recordings DIR keeps
# the recordings (and their final weights' hashes) in DIR and replays those already there instead of
# recording again: record once on a quiet loopback, replay on loopback and in the bed (the same
# options give the same job, whatever the path).
# --bed NAME runs the coordinator and worker i in the namespaces of a WAN bed that bench/wan/bed.sh up
# made (NAME-coord, NAME-wI; at least --workers workers) instead of on loopback. --logs DIR keeps the
# coordinators' and workers' logs (RAVEN_UNIT_TIMELINE=1 adds each unit's timeline to the workers').
# Paths may be relative.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=$src/build/ci
model=mlp
workers=2
epochs=2
lanes=4
inner=128
hs="1 8 32"
lr=0.001
outer_lr=0.7
outer_momentum=0.9
updates=fp32
downs=fp32
delays=0
sync=yes
bed=
evals=0
target=
emulated=no
recordings=
logs=
while [ $# -gt 0 ]; do
    case $1 in
        --bin) bin=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --lanes) lanes=$2; shift 2 ;;
        --inner-batch) inner=$2; shift 2 ;;
        --local-steps) hs=$2; shift 2 ;;
        --lr) lr=$2; shift 2 ;;
        --outer-lr) outer_lr=$2; shift 2 ;;
        --outer-momentum) outer_momentum=$2; shift 2 ;;
        --updates) updates=$2; shift 2 ;;
        --weights-down) downs=$2; shift 2 ;;
        --staleness) delays=$2; shift 2 ;;
        --evals) evals=$2; shift 2 ;;
        --target) target=$2; shift 2 ;;
        --emulated) emulated=yes; shift ;;
        --recordings) recordings=$2; emulated=yes; shift 2 ;;
        --no-sync) sync=no; shift ;;
        --sync) sync=$2; shift 2 ;;
        --bed) bed=$2; shift 2 ;;
        --logs) logs=$(realpath -m -- "$2"); shift 2 ;;
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
[ "$emulated" = no ] || [[ "$("$worker" --help)" == *--replay* ]] ||
    { echo "$worker has no --replay: build the current raven-worker"; exit 1; }
work=$(mktemp -d)
[ -z "$recordings" ] || { mkdir -p "$recordings"; recordings=$(realpath -- "$recordings"); }
kept=${recordings:-$work}
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -z "$logs" ] || { mkdir -p "$logs" && cp "$work"/*.log "$logs"/; }
    rm -rf "$work"
}
trap cleanup EXIT
case $model in
    mlp | cnn) data=/usr/share/datasets/fashion-mnist; train_samples=60000
        [ -d "$data" ] || { echo "no Fashion-MNIST in $data: install the dataset-fashion-mnist package"; exit 1; } ;;
    transformer)
        text=/usr/share/games/fortunes/computers
        [ -f "$text" ] || { echo "no $text: install the fortunes package (scripts/setup-debian.sh)"; exit 1; }
        data=$work/fortunes
        "$raven" dataset import --format text --context 64 --out "$data" "$text" >"$work/import.log" 2>&1 ||
            { echo "importing $text failed: $(tail -3 "$work/import.log")"; exit 1; }
        train_samples=$(awk '$1 == "samples" { print $2 }' "$work/import.log") ;;
    *) echo "--model is mlp, cnn or transformer, not '$model'"; exit 2 ;;
esac
cd "$work"
host=127.0.0.1
in_coord=()
if [ -n "$bed" ]; then
    host=$("$src/bench/wan/bed.sh" addr coord)
    in_coord=(ip netns exec "$bed-coord")
    ip netns pids "$bed-w$workers" >/dev/null 2>&1 || { echo "no namespace $bed-w$workers: bench/wan/bed.sh up --workers $workers"; exit 1; }
fi
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
state() { "$coordinator" status --data-dir "$1" | awk -v j="$2" '$1 == j { print $2 }'; }
# Until the job ends, followed as its requester would (raven watch: one connection, told of each
# step), not polled: a status process five times a second took CPU from the run being measured.
wait_job() { "${in_coord[@]}" "$raven" watch "$1" >>"$work/watch.log" 2>&1 || true; }
# Plain jobs: units of one inner batch's shards (a lane's inner step), so both modes cut work alike.
serve() {  # DIR LOG: a coordinator on DIR; sets cpid, port and RAVEN_COORDINATOR
    port=$(free_port)
    "${in_coord[@]}" "$coordinator" serve --data-dir "$1" --listen "$host:$port" --shards-per-unit $((inner / 32)) \
        >"$2" 2>&1 &
    cpid=$!
    pids+=("$cpid")
    for _ in $(seq 300); do grep -q serving "$2" && break; sleep 0.1; done
    grep -q serving "$2" || { echo "the coordinator did not start: $(tail -3 "$2")"; exit 1; }
    export RAVEN_COORDINATOR="wss://$host:$port"
}
stop_coordinator() { kill "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; }
start_worker() {  # I DIR LOG EXTRA...: worker I (in its namespace of the bed) on the coordinator of DIR
    local i=$1 dir=$2 log=$3 token in_worker=()
    token=$("$coordinator" add-contributor "bench-$RANDOM-$i" --data-dir "$dir" 2>/dev/null)
    [ -z "$bed" ] || in_worker=(ip netns exec "$bed-w$i")
    "${in_worker[@]}" "$worker" --coordinator "$RAVEN_COORDINATOR" --token "$token" --device cpu --threads 1 \
        --cache-dir "$work/cache-$i" --known-hosts "$work/known_hosts" "${@:4}" >"$log" 2>&1 &
    wpids+=($!)
    pids+=($!)
}
evals_every() {  # SAMPLES_PER_STEP: --eval-every for about $evals evaluations a run (0: only at the end)
    local steps=$(( epochs * train_samples / $1 ))
    [ "$evals" -gt 0 ] && echo $(( steps / evals > 0 ? steps / evals : 1 )) || echo 0
}

# A coordinator that holds the dataset and the model, and worker caches that hold every shard: a
# warm-up job by one worker (as long-running contributors have them). Each run then starts from a
# copy of both, so every run's job has the same id (a recording replays only into its own job).
# In a WAN bed the warm-up is a local-steps job: the same shards go down, a few pseudo-gradients come
# up instead of every gradient of a 4096-sample step over a 10 Mbit/s uplink.
base=$work/base
mkdir -p "$base"
export RAVEN_API_KEY=$("$coordinator" add-requester bench --deposit 100000000 --data-dir "$base" 2>/dev/null)
export RAVEN_KNOWN_HOSTS=$work/known_hosts XDG_CACHE_HOME=$work/xdg
serve "$base" "$work/warmup-coordinator.log"
warm=(--batch-size 4096)
[ -z "$bed" ] || warm=(--lanes "$lanes" --local-steps 32 --batch-size "$inner")
"${in_coord[@]}" "$raven" submit --model "$src/examples/$model.json" --data "$data" --epochs 1 --budget 100000 \
    "${warm[@]}" >warm.txt 2>>submit.log
wpids=()
start_worker 1 "$base" warmup.log
wait_job "$(cat warm.txt)"
kill "${wpids[@]}" 2>/dev/null || true; wait "${wpids[@]}" 2>/dev/null || true
stop_coordinator
for i in $(seq "$workers"); do [ "$i" = 1 ] || cp -r "$work/cache-1" "$work/cache-$i"; done

run() {  # TAG LABEL WORKERS HOW(real|record|replay) SAMPLES_PER_STEP raven-submit-options...
    local tag=$1 label=$2 k=$3 how=$4 per_step=$5 job t0 t1 dir=$work/run-$1-$4 extra=() compare=(--hash-out "$kept/hash-$1")
    shift 5
    cp -a "$base" "$dir"
    serve "$dir" "$work/coordinator-$tag-$how.log"
    "${in_coord[@]}" "$raven" submit --model "$src/examples/$model.json" --data "$data" --epochs "$epochs" \
        --optimizer adam --lr "$lr" --budget 100000 --eval-every "$(evals_every "$per_step")" "$@" \
        >job.txt 2>>submit.log
    job=$(cat job.txt)
    case $how in
        record) extra=(--record "$kept/recording-$tag") ;;
        replay) extra=(--replay "$kept/recording-$tag"); compare=(--same-as "$kept/hash-$tag") ;;
    esac
    wpids=()
    t0=$(date +%s.%N)
    for i in $(seq "$k"); do start_worker "$i" "$dir" "w-$tag-$how-$i.log" "${extra[@]}"; done
    wait_job "$job"
    t1=$(date +%s.%N)
    for p in "${wpids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${wpids[@]}"; do wait "$p" 2>/dev/null || true; done
    stop_coordinator
    cat w-"$tag-$how"-*.log | awk '
        /summary:/ { for (i = 1; i <= NF; i++) {
            if ($i == "sent") s += $(i + 1); if ($i == "received") r += $(i + 1); if ($i == "samples,") n += $(i - 1) } }
        END { print s + 0, r + 0, n + 0 }' >"bytes-$tag-$how"
    [ "$how" = replay ] && label="$label, $k workers emulated"
    [ "$how" = record ] && label="$label, 1 worker (recording)"
    [ "$how" = real ] && [ "$emulated" = yes ] && label="$label, $k workers"
    /usr/bin/python3 "$here/local_steps_report.py" --metrics "$dir/jobs/$job/metrics.jsonl" --job-dir "$dir/jobs/$job" \
        --label "$label" --wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" --started "$t0" --bytes "$(cat "bytes-$tag-$how")" \
        --state "$(state "$dir" "$job")" ${target:+--target "$target"} "${compare[@]}" --waterfall waterfall.md |
        tee -a rows.md
    rm -rf "$dir"
}
# Everything a recording depends on besides the mode's own options: its tag starts with this.
config=$model-e$epochs-m$lanes-b$inner-lr$lr-o$outer_lr-$outer_momentum
mode() {  # TAG LABEL SAMPLES_PER_STEP raven-submit-options...: a real run, or a recording and its replay
    if [ "$emulated" = yes ]; then
        # A kept recording without its weights' hash was cut short: record it again.
        [ -s "$kept/hash-$1" ] || { rm -rf "$kept/recording-$1"; run "$1" "$2" 1 record "${@:3}"; }
        run "$1" "$2" "$workers" replay "${@:3}"
    else
        run "$1" "$2" "$workers" real "${@:3}"
    fi
}

path=loopback
[ -z "$bed" ] || path="the WAN bed $bed ($(cat "/run/raven-wan-$bed/config"))"
how="$workers CPU workers with one thread each"
[ "$emulated" = no ] || how="one real CPU worker (one thread) recording, then $workers workers replaying it"
echo "Raven local steps (DiLoCo) vs synchronous Adam: examples/$model.json, $epochs epoch(s) of $train_samples samples,"
echo "$how, over $path; outer Nesterov lr $outer_lr momentum $outer_momentum; load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Bytes are the workers' own counts (sent = gradients or pseudo-gradients up, received = weights and shards down)."
echo
echo "| mode | optimizer steps | wall s | samples/s | bytes up / sample | bytes down / sample | utilization | s to target | test accuracy | test loss | same bits |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
if [ "$sync" != no ]; then
    mode "$config-sync" "sync Adam, batch $((lanes * inner)), fp32" $((lanes * inner)) --batch-size $((lanes * inner))
    if [ -z "$target" ]; then  # the synchronous run's final accuracy less one point
        target=$(awk -F'|' 'NR == 1 { gsub(/[ %]/, "", $10); if ($10 != "") print $10 / 100 - 0.01 }' rows.md)
        [ -z "$target" ] || echo "(target: the synchronous run's final test accuracy less one point, $target)"
    fi
fi
for h in $hs; do
    for u in $updates; do
     for w in $downs; do
      for d in $delays; do
        label="local steps M=$lanes H=$h d=$d, inner batch $inner, $u updates"
        [ "$downs" = fp32 ] || label="$label, weights down $w"
        mode "$config-h$h-$u-$w-d$d" "$label" $((lanes * inner * h)) --lanes "$lanes" --local-steps "$h" --staleness "$d" \
            --batch-size "$inner" --updates "$u" --weights-down "$w" --outer-lr "$outer_lr" \
            --outer-momentum "$outer_momentum"
      done
     done
    done
done
echo
echo "Where a step's time went (ms per optimizer step, means over the job's steps but the first, per worker of the"
echo "step; StepWaterfall.h; the last column is the coordinator's CPU per work unit):"
echo
echo "| mode | wall | compute | weights out | upload | ingest | step | idle | coordinator CPU ms / unit |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
cat waterfall.md
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
