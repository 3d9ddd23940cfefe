#!/usr/bin/env bash
# The distributed benchmark matrix of issue 17 item 7, in one command: the Fashion-MNIST MLP and CNN
# (examples/mlp.json, examples/cnn.json), 1/2/4/8 workers, global batch 1024 and 4096, each run on a
# fresh raven-coordinator (a copy of one that already holds the dataset), so that the job has the same
# id, the same units and, being deterministic, the same result bits whatever the fleet.
#
#   bench/distributed/matrix.sh [--bin BUILD_DIR] [--steps 20] [--models "mlp cnn"] [--workers "1 2 4 8"]
#                               [--batches "1024 4096"] [--mode auto|real|emulated] [--units-per-step 8]
#                               [--no-pin] [--logs DIR] [--epochs 1]
#                               [--worker-args "raven-worker options"]
#   bench/distributed/run.sh --matrix ...   (the same)
#
# Two modes, and every row says which one it ran in:
#  - real: K raven-worker processes (CPU backend, one thread each), each pinned with taskset to a core
#    of its own, the coordinator on core 0. What it proves: the whole path, arithmetic included, with
#    no worker sharing a core. `auto` runs K workers this way where K <= cores - 1.
#  - emulated: the K workers replay (raven-worker --replay, core/worker/RecordedCompute.h) the K = 1
#    run of the same model and batch, which ran real and recorded each unit's result and compute
#    time (--record). A replaying worker does everything a real one does (TLS, leases, fetching,
#    hashing and decoding shards, parsing weights, submitting; the coordinator's fsyncs are real)
#    except the arithmetic: it waits the recorded compute time instead. What it proves: the
#    coordinator, protocol, TLS, fsync, exactly-once and determinism under concurrency, with compute
#    times from a real run rather than from K workers' arithmetic fighting over too few cores. The
#    replaying workers share cores 1..cores-1; the coordinator keeps core 0.
# Where emulated rows follow, K = 1 runs twice: plain (its row is the one-worker figure, and the
# goal's) and recording (a recording worker writes each result a second time, on its one core, which
# costs that row a fifth to a quarter of its speed). "bits equal" compares the run's final weights (the
# tensors of the last checkpoint) with the first K = 1 run's: the recording's and the emulated rows'
# must equal the plain run's; in real mode it checks determinism across fleets.
#
# Per row: samples/s over the measured steps (step 2 .. steps-1, from the coordinator's step
# timestamps), utilization = the workers' compute time / (K x wall), what the compute times allow
# (the workers' compute time / (K x the slowest worker's): the utilization were nothing but compute
# to take time, since a step waits for its slowest worker; in emulated rows it is set by the
# recording, whose units took as long as they did), what the CPU allows (the workers' mean compute
# time / the shortest step their cores' CPU time permits: the K workers' CPU time a step over the
# cores they share, or the coordinator's over its one core, whichever is longer; pinned, workers
# share cores 1..cores-1, so 8 emulated workers on 2 cores do one after another all that 8 machines
# would do at once), efficiency = samples/s / (K x one worker's compute-only rate from the K = 1
# run), the coordinator's waterfall of a step (ms: weights out, compute, upload, ingest, step, idle
# and, of idle, the wait for the slowest worker's compute; StepWaterfall.h) and the CPU time a step
# of the workers (all K, from /proc between step 1 and the job's end) and of the coordinator (its own
# account of the measured steps, metrics.jsonl). Then the goals of item 7, met or not. Each (model, batch) is cut into
# --units-per-step units (default 8, so that 8 workers each have one), the same for every K; K = 1
# also runs once on the job's own cut (the coordinator's sizing, UnitSizing.h, as a user's job gets
# it: for the MLP at batch 1024, one unit a step), its row marked so and its bits not compared.
# --no-pin leaves every process to the kernel's scheduler (for a machine shared with other work,
# where a pinned process cannot move off a busy core); `auto` then runs every K > 1 emulated. --logs
# DIR keeps each run's worker logs (with RAVEN_UNIT_TIMELINE=1 in the environment, every unit's
# timeline), coordinator log and metrics.jsonl. --worker-args adds options to every measured
# raven-worker (--max-leases N, say). --epochs N lets each job pass over the training split N times: a
# job stops at --steps or at the end of its epochs, whichever comes first (an epoch is about 58 steps at batch
# 1024), so longer and steadier runs of one row want both (e.g. --steps 400 --epochs 10). Paths may be
# relative to the folder the script is called from.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=$src/build/ci
steps=20
models="mlp cnn"
workers="1 2 4 8"
batches="1024 4096"
mode=auto
units_per_step=8
no_pin=0
logs=""
epochs=1
worker_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --bin) bin=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --models) models=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --batches) batches=$2; shift 2 ;;
        --mode) mode=$2; shift 2 ;;
        --units-per-step) units_per_step=$2; shift 2 ;;
        --no-pin) no_pin=1; shift ;;
        --epochs) epochs=$2; shift 2 ;;
        --logs) logs=$(realpath -m -- "$2"); shift 2 ;;
        --worker-args) read -r -a worker_args <<<"$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see $0 --help)"; exit 2 ;;
    esac
done
case $mode in auto | real | emulated) ;; *) echo "--mode is auto, real or emulated, not '$mode'"; exit 2 ;; esac
[ "$epochs" -ge 1 ] 2>/dev/null || { echo "--epochs wants a whole number of at least 1"; exit 2; }
[ "$steps" -ge 4 ] 2>/dev/null || { echo "--steps wants at least 4 (the first and last steps are not measured)"; exit 2; }
for m in $models; do
    [ -f "$src/examples/$m.json" ] || { echo "no model examples/$m.json: --models takes names from examples/"; exit 2; }
done
# The K = 1 run comes first: it is every row's baseline, and the recording that emulated rows replay.
workers="1 $(for k in $workers; do [ "$k" = 1 ] || echo "$k"; done | xargs)"
bin=$(realpath -m -- "$bin")
raven=$bin/app-requester/raven
coordinator=$bin/app-coordinator/raven-coordinator
worker=$bin/app-contributor/raven-worker
for p in "$raven" "$coordinator" "$worker"; do
    [ -x "$p" ] || { echo "missing $p: build first (scripts/build.sh ci) or pass --bin"; exit 1; }
done
[[ "$("$worker" --help)" == *--replay* ]] || { echo "$worker has no --replay: build the current raven-worker"; exit 1; }
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "no Fashion-MNIST in $data: install the dataset-fashion-mnist package"; exit 1; }
cores=$(nproc)
pin=1
command -v taskset >/dev/null && [ "$cores" -ge 2 ] && [ "$no_pin" = 0 ] || pin=0
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# For programs started in the background: exec, so that $! is the program itself, not a subshell.
exec_on_core() { if [ "$pin" = 1 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }
# The CPU time (user + system, ms) the processes PID... have used so far, together (those gone count 0).
cpu_ms() {
    local p files=()
    for p in "$@"; do [ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat"); done
    [ ${#files[@]} -gt 0 ] || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { print int(t * 1000 / hz) }' "${files[@]}" 2>/dev/null || echo 0
}
state() { "$coordinator" status --data-dir "$1" | awk -v j="$2" '$1 == j { print $2 }'; }

# Starts a coordinator on DIR (core 0); sets cpid and port.
serve() {  # DIR SHARDS_PER_UNIT LOG (SHARDS_PER_UNIT "own": the coordinator sizes each job's units)
    port=$(free_port)
    local cut=(--shards-per-unit "$2")
    [ "$2" = own ] && cut=()
    exec_on_core 0 "$coordinator" serve --data-dir "$1" --listen "127.0.0.1:$port" "${cut[@]}" >"$3" 2>&1 &
    cpid=$!
    pids+=("$cpid")
    for _ in $(seq 300); do grep -q serving "$3" && return 0; sleep 0.1; done
    echo "the coordinator did not start: $(tail -3 "$3")"
    exit 1
}
stop_coordinator() { kill "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; }
submit() {  # MODEL BATCH STEPS EXTRA...
    RAVEN_COORDINATOR="wss://127.0.0.1:$port" "$raven" submit --model "$src/examples/$1.json" --data "$data" \
        --batch-size "$2" --max-steps "$3" --budget 100000 --epochs "$epochs" "${@:4}" 2>>"$work/submit.log"
}
# Followed as a requester follows it (raven watch: one connection, told of each step), not by polling:
# a `raven-coordinator status` process five times a second cost a quarter of these 2 cores, taken
# from the coordinator and the workers being measured.
wait_job() {  # DIR JOB
    RAVEN_COORDINATOR="wss://127.0.0.1:$port" "$raven" watch "$2" >>"$work/watch.log" 2>&1 || true
    [ "$(state "$1" "$2")" = done ] || { echo "job $2 ended $(state "$1" "$2"), not done: see $1"; exit 1; }
}

# A coordinator that holds the dataset and every model's spec, and worker caches that hold every shard
# the runs visit: a warm-up job of the MLP, at the largest batch for as many steps, by one worker
# (the shards' order depends on the seed alone). Each run starts from a copy of both.
base=$work/base
mkdir -p "$base"
key=$("$coordinator" add-requester bench --deposit 10000000 --data-dir "$base" 2>/dev/null)
export RAVEN_API_KEY=$key RAVEN_KNOWN_HOSTS=$work/known_hosts XDG_CACHE_HOME=$work/xdg
serve "$base" 16 "$work/warmup-coordinator.log"
max_batch=$(for b in $batches; do echo "$b"; done | sort -n | tail -1)
warm=$(submit mlp "$max_batch" "$steps")
others=()  # one step of each other model: its spec is on the coordinator before any run
for m in $models; do [ "$m" = mlp ] || others+=("$(submit "$m" 1024 1)"); done
token=$("$coordinator" add-contributor warmup --data-dir "$base" 2>/dev/null)
"$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 \
    --cache-dir "$work/cache-warm" --known-hosts "$work/known_hosts" >warmup.log 2>&1 &
wp=$!
pids+=("$wp")
for j in "$warm" "${others[@]}"; do wait_job "$base" "$j"; done
kill "$wp"; wait "$wp" 2>/dev/null || true
stop_coordinator
for i in $(seq 8); do cp -r "$work/cache-warm" "$work/cache-$i"; done
max_k=$(for k in $workers; do echo "$k"; done | sort -n | tail -1)
for i in $(seq 9 "$max_k"); do cp -r "$work/cache-warm" "$work/cache-$i"; done

# One run: K workers (real or replaying) train MODEL at BATCH for the given steps on a fresh copy of
# the base coordinator; appends one row to rows.md.
run() {  # MODEL BATCH K MODE RECORD [own] (RECORD 1: the K = 1 run records for the emulated rows;
         # own: the job's own cut, as the coordinator sizes it for a user's job, instead of --units-per-step)
    local model=$1 batch=$2 k=$3 how=$4 record=$5 cut=${6:-} spu dir job wpids=() i core label
    spu=$(( batch / 32 / units_per_step )); [ "$spu" -ge 1 ] || spu=1
    label=$model-$batch-$k
    [ "$k" = 1 ] && [ "$record" = 1 ] && label=$label-recording
    [ "$cut" = own ] && spu=own && label=$label-own-cut
    dir=$work/run-$label
    cp -a "$base" "$dir"
    serve "$dir" "$spu" "$work/coordinator-$label.log"
    job=$(submit "$model" "$batch" "$steps")
    for i in $(seq "$k"); do
        token=$("$coordinator" add-contributor "bench-$label-$i" --data-dir "$dir" 2>/dev/null)
        local extra=() where
        if [ "$how" = emulated ]; then
            extra=(--replay "$work/recording-$model-$batch")
            where=$(( cores > 1 ? 1 + (i - 1) % (cores - 1) : 0 ))
        else
            [ "$k" = 1 ] && [ "$record" = 1 ] && extra=(--record "$work/recording-$model-$batch")
            where=$(( cores > 1 ? 1 + (i - 1) % (cores - 1) : 0 ))
        fi
        exec_on_core "$where" "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 \
            --cache-dir "$work/cache-$i" --known-hosts "$work/known_hosts" "${extra[@]}" "${worker_args[@]}" >"w-$label-$i.log" 2>&1 &
        wpids+=($!)
        pids+=($!)
    done
    # The workers' CPU time once step 1 is applied (the measured steps follow), taken in the
    # background; it polls the metrics until then and no longer.
    rm -f "$work/cpu-at-1"
    ( until grep -qs '"step":"1"' "$dir/jobs/$job/metrics.jsonl"; do sleep 0.05; done
      cpu_ms "${wpids[@]}" >"$work/cpu-at-1" ) &
    local sampler=$!
    pids+=("$sampler")
    wait_job "$dir" "$job"
    wait "$sampler" 2>/dev/null || true
    # ... and once the job is done, before they stop: their CPU time over steps 2 to the last.
    local wcpu=$(( $(cpu_ms "${wpids[@]}") - $(cat "$work/cpu-at-1" 2>/dev/null || echo 0) ))
    for p in "${wpids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${wpids[@]}"; do wait "$p" 2>/dev/null || true; done
    stop_coordinator
    local shown=$how
    if [ "$how" = real ] && [ "$pin" = 0 ]; then shown="real, not pinned"
    elif [ "$how" = real ] && [ "$k" -gt $((cores - 1)) ]; then shown="real, cores shared"; fi
    [ "$how" = real ] && [ "$k" = 1 ] && [ "$record" = 1 ] && shown="$shown (recording)"
    local another=()
    if [ "$cut" = own ]; then
        another=(--another-cut)
        shown="$shown, the job's own cut: $(sed -n "s/^coordinator: job $job: each step cut into \([0-9]*\) unit.*/\1/p" \
            "$work/coordinator-$label.log") a step"
    fi
    /usr/bin/python3 "$here/matrix_report.py" row --metrics "$dir/jobs/$job/metrics.jsonl" --job-dir "$dir/jobs/$job" \
        --model "$model" --batch "$batch" --workers "$k" --mode "$shown" --steps "$steps" \
        --baseline "$work/baseline-$model-$batch.json" "${another[@]}" \
        --workers-cpu-ms "$wcpu" --cores "$cores" --pinned "$pin" >>rows.md
    tail -n 1 rows.md
    if [ -n "$logs" ]; then  # the workers' unit timelines and the coordinator's log, for a closer look
        mkdir -p "$logs"
        cp "w-$label-"*.log "$work/coordinator-$label.log" "$dir/jobs/$job/metrics.jsonl" "$logs/" 2>/dev/null || true
        mv "$logs/metrics.jsonl" "$logs/metrics-$label.jsonl" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

mode_of() {  # K: the mode its row runs in
    if [ "$1" = 1 ] || [ "$mode" = real ]; then echo real
    elif [ "$mode" = emulated ]; then echo emulated
    elif [ "$pin" = 1 ] && [ "$1" -le $((cores - 1)) ]; then echo real
    else echo emulated; fi
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "Raven distributed benchmark matrix: Fashion-MNIST, $steps steps a run at most ($epochs epoch(s) a job; steps 2..$((steps - 1)) measured),"
echo "CPU workers with one thread each, on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($cores cores),"
echo "$units_per_step units a step; load average at the start: $load."
if [ "$pin" = 1 ]; then echo "Pinned with taskset: coordinator on core 0, workers on cores 1..$((cores - 1))."
else echo "Not pinned (--no-pin, taskset missing or one core)."; fi
echo
echo "| model | batch | workers | mode | samples/s | utilization | the compute times allow | the CPU allows | efficiency vs K x compute-only | weights out | compute | upload | ingest | step | idle | of it, waiting for the slowest | wall (ms) | CPU a step: workers / coordinator (ms) | bits equal |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for m in $models; do
    for b in $batches; do
        record=0
        for k in $workers; do [ "$(mode_of "$k")" = emulated ] && record=1; done
        for k in $workers; do
            # A recording worker writes every result a second time, on the core it computes on: the
            # one-worker figure (and the goal) comes from a plain run first, as a user runs it.
            [ "$k" = 1 ] && [ "$record" = 1 ] && run "$m" "$b" 1 real 0
            run "$m" "$b" "$k" "$(mode_of "$k")" "$record"
            # One worker again, on the units a user's job gets (the coordinator's own sizing): a fleet
            # of one computes best on as few units a step as the job allows.
            [ "$k" = 1 ] && run "$m" "$b" 1 real 0 own
        done
    done
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
/usr/bin/python3 "$here/matrix_report.py" goals --rows rows.md
