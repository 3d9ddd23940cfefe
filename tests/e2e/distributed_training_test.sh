#!/usr/bin/env bash
# distributed_training_test.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR
# Issue 5's end-to-end run over real sockets on loopback, with real processes: a coordinator and
# three workers train the Fashion-MNIST MLP while one worker is SIGKILLed mid-job, a fourth joins
# later, and the coordinator itself is SIGKILLed and restarted on the same data directory. The job
# must complete, reach >= 85% test accuracy, count every shard of every step exactly once, and leave
# a balanced ledger (raven-coordinator audit).
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
. "$(dirname "$0")/fleet_bed.sh"  # $data, $work, $pids, fail
cd "$work"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$work/coordinator

serve() {
    "$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --heartbeat-ms 500 --lease-timeout-ms 3000 \
        --unit-deadline-ms 20000 >>coordinator.log 2>&1 &
    cpid=$!
    pids+=("$cpid")
    for _ in $(seq 100); do
        grep -q "serving wss://127.0.0.1:$port" coordinator.log 2>/dev/null && return 0
        sleep 0.1
    done
    fail "the coordinator did not start"
}
start_worker() {  # NAME
    local token
    token=$("$coordinator" add-contributor "$1" --data-dir "$dir" 2>/dev/null)
    "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 \
        --cache-dir "$work/cache-$1" --known-hosts "$work/known_hosts" --name "$1" >"$1.log" 2>&1 &
    pids+=($!)
    eval "pid_$1=$!"
}
step() { "$coordinator" status --data-dir "$dir" | awk -v j="$job" '$1 == j { split($3, s, "/"); print s[1] }'; }
state() { "$coordinator" status --data-dir "$dir" | awk -v j="$job" '$1 == j { print $2 }'; }
wait_step() {  # N: until the job has taken N steps
    for _ in $(seq 1200); do
        [ "$(step)" -ge "$1" ] && return 0
        [ "$(state)" = running ] || fail "job is $(state) before step $1"
        sleep 0.25
    done
    fail "no step $1 after 5 minutes (at $(step))"
}

mkdir -p "$dir"
key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$dir" 2>/dev/null)
serve
export RAVEN_COORDINATOR="wss://127.0.0.1:$port" RAVEN_API_KEY="$key" RAVEN_KNOWN_HOSTS="$work/known_hosts"
export XDG_CACHE_HOME="$work/xdg-cache"
job=$("$raven" submit --model "$src/examples/mlp.json" --data "$data" --epochs 2 --batch-size 128 \
    --gradients bf16 --zstd --budget 100 2>submit.log) || fail "submit: $(cat submit.log)"
echo "job $job submitted"
start_worker w1
start_worker w2
start_worker w3

wait_step 150
echo "step $(step): SIGKILL worker w2"
kill -9 "$pid_w2"
wait_step 300
echo "step $(step): SIGKILL the coordinator, then restart it"
kill -9 "$cpid"
wait "$cpid" 2>/dev/null || true
serve
wait_step 450
echo "step $(step): worker w4 joins"
start_worker w4

for _ in $(seq 2400); do
    s=$(state)
    [ "$s" = done ] && break
    [ "$s" = running ] || fail "job ended $s"
    sleep 0.25
done
[ "$(state)" = done ] || fail "job not done after 10 minutes (step $(step))"
echo "job done at step $(step)"

"$raven" pull "$job" -o "$work/mlp.safetensors" >pull.log 2>&1 || fail "pull: $(cat pull.log)"
acc=$("$raven" eval --weights "$work/mlp.safetensors" --data "$data" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p')
echo "test accuracy $acc%"
awk -v a="$acc" 'BEGIN { exit !(a >= 85) }' || fail "test accuracy $acc% (expected >= 85%)"

"$coordinator" audit --data-dir "$dir" | tee audit.log || fail "audit: $(cat audit.log)"
grep -q "every shard of every step counted exactly once" audit.log || fail "audit"
grep -q "balanced" audit.log || fail "ledger"
grep -q "accepted" w4.log || fail "the late worker w4 computed nothing"
echo PASS
