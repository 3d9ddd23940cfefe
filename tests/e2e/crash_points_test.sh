#!/usr/bin/env bash
# crash_points_test.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR [ROUNDS] [SEED]
# Issue 17's "nothing lost": a real coordinator with a real worker on loopback, killed over and over at
# its named crash points (RAVEN_CRASH_POINT, docs/coordinator.md "Crash points"): between a result's
# durable write and its payment, between a step's state write and the store's version update, and the
# others. Each round arms a random point (random arrival or chance), lets the coordinator die there,
# restarts it on the same data directory and audits the ledger. Beside it the same job runs once
# without a crash. At the end the crashed job must be done, every shard of every step counted exactly
# once, the ledger balanced, and its final weights equal bit for bit to the uncrashed run's.
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
rounds=${5:-18}    # crashes (3 of each point); the rest of the job runs unarmed. About 1.5 s each on 2 idle cores
seed=${6:-$(date +%s)}
RANDOM=$seed
echo "$rounds crash rounds, seed $seed (rerun with: $0 ... $rounds $seed)"
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "FAIL: $data missing: run scripts/setup-debian.sh (dataset-fashion-mnist)"; exit 1; }
points=(result-gradient-written result-saved result-accepted state-written version-stored checkpoint-written)
crash_code=86  # kCrashExitCode in core/coordinator/CrashPoints.h
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log; do echo "== $f"; tail -n 15 "$f"; done
    exit 1
}
cd "$work"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

serve() {  # NAME PORT [CRASH_POINT]: starts a coordinator on $work/NAME, its pid in cpid_NAME
    local name=$1 port=$2 log=$1.log from
    touch "$log"
    from=$(grep -c "serving wss://" "$log" 2>/dev/null || true)
    RAVEN_CRASH_POINT=${3:-} RAVEN_CRASH_SEED=$RANDOM \
        "$coordinator" serve --data-dir "$work/$name" --listen "127.0.0.1:$port" --heartbeat-ms 500 \
        --lease-timeout-ms 3000 --unit-deadline-ms 20000 --shards-per-unit 1 >>"$log" 2>&1 &
    pids+=($!)
    eval "cpid_$name=$!"
    for _ in $(seq 200); do
        [ "$(grep -c "serving wss://" "$log" 2>/dev/null || true)" -gt "$from" ] && return 0
        kill -0 "$!" 2>/dev/null || return 0  # died at a crash point while resuming: the next round restarts it
        sleep 0.05
    done
    fail "the coordinator $name did not start"
}
start_job() {  # NAME PORT: submits the job and starts a worker; the job id in job_NAME
    local name=$1 port=$2 key token id
    mkdir -p "$work/$name"
    key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$work/$name" 2>/dev/null)
    serve "$name" "$port"
    id=$(RAVEN_COORDINATOR="wss://127.0.0.1:$port" RAVEN_API_KEY="$key" RAVEN_KNOWN_HOSTS="$work/known_hosts-$name" \
        XDG_CACHE_HOME="$work/xdg-$name" "$raven" submit --model "$src/examples/mlp.json" --data "$data" \
        --batch-size 128 --max-steps 80 --checkpoint-every 4 --gradients fp32 --budget 100 --seed 5 \
        2>"submit-$name.log") || fail "submit: $(cat "submit-$name.log")"
    eval "job_$name=$id"
    token=$("$coordinator" add-contributor "w-$name" --data-dir "$work/$name" 2>/dev/null)
    "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 \
        --cache-dir "$work/cache-$name" --known-hosts "$work/known_hosts-$name" --name "w-$name" \
        >"worker-$name.log" 2>&1 &
    pids+=($!)
}
state() { "$coordinator" status --data-dir "$work/$1" | awk -v j="$2" '$1 == j { print $2 }'; }
step() { "$coordinator" status --data-dir "$work/$1" | awk -v j="$2" '$1 == j { split($3, s, "/"); print s[1] }'; }
audit() {  # NAME: the ledger must be balanced, and every step's shards counted once
    "$coordinator" audit --data-dir "$work/$1" >"audit-$1.txt" 2>&1 || fail "audit of $1 after round $round: $(cat "audit-$1.txt")"
}
wait_done() {  # NAME JOB SECONDS
    for _ in $(seq $(($3 * 4))); do
        local s
        s=$(state "$1" "$2")
        [ "$s" = done ] && return 0
        [ "$s" = running ] || fail "job $2 of $1 ended $s"
        sleep 0.25
    done
    fail "job $2 of $1 not done after $3 s (step $(step "$1" "$2"))"
}

# The reference: the same job, never crashed, on its own coordinator, at the same time.
ref_port=$(free_port)
start_job reference "$ref_port"
port=$(free_port)
round=0
start_job crashed "$port"
kill -9 "$cpid_crashed"  # the first coordinator ran unarmed (for the upload); from here every one is armed
wait "$cpid_crashed" 2>/dev/null || true

started=$SECONDS
crashes=0 kills=0
while [ "$round" -lt "$rounds" ]; do
    round=$((round + 1))
    # Every point in each block of rounds, in a random order: short runs still reach them all.
    if [ $(((round - 1) % ${#points[@]})) -eq 0 ]; then
        order=("${points[@]}")  # Fisher-Yates here, not in a subshell (which reseeds RANDOM)
        for ((i = ${#order[@]} - 1; i > 0; i--)); do
            j=$((RANDOM % (i + 1))) t=${order[i]}
            order[i]=${order[j]} order[j]=$t
        done
    fi
    point=${order[(round - 1) % ${#points[@]}]}
    case $((RANDOM % 3)) in  # a checkpoint every 4 steps: by chance it could outlast the job
        0) [ "$point" = checkpoint-written ] && arm="$point:1" || arm="$point:p0.$((RANDOM % 5 + 1))" ;;
        *) case $point in  # a result arrives 4 times a step, the others once (a checkpoint every 4 steps)
               result-*) arm="$point:$((RANDOM % 8 + 1))" ;;
               *) arm="$point:$((RANDOM % 3 + 1))" ;;
           esac ;;
    esac
    echo "round $round: RAVEN_CRASH_POINT=$arm" >>crashed.log
    serve crashed "$port" "$arm"
    audit crashed
    s=$(state crashed "$job_crashed")
    [ "$s" = done ] && { echo "round $round: the job is done"; break; }
    [ "$s" = running ] || fail "round $round ($arm): after the restart the job is $s:" \
        "$(cat "$work/crashed/jobs/$job_crashed/failure.txt" 2>/dev/null)"
    # Let it run into its crash point; one not reached within 5 s is SIGKILLed wherever it is.
    for _ in $(seq 100); do kill -0 "$cpid_crashed" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$cpid_crashed" 2>/dev/null; then
        kill -9 "$cpid_crashed"
        kills=$((kills + 1))
    fi
    rc=0
    wait "$cpid_crashed" 2>/dev/null || rc=$?
    case $rc in
        "$crash_code") crashes=$((crashes + 1)) ;;
        137) ;;
        *) fail "round $round ($arm): the coordinator exited $rc, not at its crash point" ;;
    esac
    echo "round $round: $arm, exit $rc, job at step $(step crashed "$job_crashed")"
done
echo "$round rounds in $((SECONDS - started)) s: $crashes at a crash point, $kills SIGKILLed"

serve crashed "$port"
audit crashed
wait_done crashed "$job_crashed" 240
wait_done reference "$job_reference" 240

for p in "${points[@]}"; do
    grep -q "crash point $p reached" crashed.log || fail "no round ended at $p (seed $seed): is it still reached?"
done
[ "$crashes" -ge $((rounds / 2)) ] || fail "only $crashes of $round rounds ended at a crash point (seed $seed)"
grep "crash point .* reached" crashed.log | awk '{ print $4 }' | sort | uniq -c

audit crashed
cat audit-crashed.txt
grep -q "every shard of every step counted exactly once" audit-crashed.txt || fail "audit: not exactly once"
grep -q "balanced" audit-crashed.txt || fail "audit: the ledger is not balanced"

for name in reference crashed; do
    eval "id=\$job_$name"
    cp "$work/$name/jobs/$id/state.safetensors" "$work/final-$name.safetensors" ||
        fail "job $id of $name has no state file"
done
cmp "$work/final-reference.safetensors" "$work/final-crashed.safetensors" ||
    fail "the crashed job's final weights differ from the uncrashed run's (seed $seed)"
echo "final state files equal ($(stat -c %s "$work/final-crashed.safetensors") bytes)"
echo PASS
