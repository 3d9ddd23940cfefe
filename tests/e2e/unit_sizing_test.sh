#!/usr/bin/env bash
# unit_sizing_test.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR
# Issue 17 item 1: a new job's units are sized for the round trip measured to the contributors
# connected when it is created (core/coordinator/UnitSizing.h). Over real sockets: a job submitted
# with no contributor connected is cut at the nominal figures; one submitted after a worker joined
# through a link of 50 ms round trip (bench/distributed/link_emulator.py) is sized for 64 ms, so its
# units are larger and fewer; a worker on loopback (well under the nominal 1 ms) changes nothing.
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
. "$(dirname "$0")/fleet_bed.sh"  # $data, $work, $pids, fail
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

dir=$work/coordinator
port=$(free_port)
key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$dir" 2>/dev/null)
# A slow nominal worker (10 GFLOP/s) so that batch 4096 makes several units at the nominal 1 ms.
"$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --unit-worker-gflops 10 --heartbeat-ms 500 \
    >"$work/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "serving wss://" "$work/coordinator.log" && break; sleep 0.1; done
export RAVEN_API_KEY=$key RAVEN_KNOWN_HOSTS=$work/known_hosts XDG_CACHE_HOME=$work/xdg
submit() {  # prints the job id
    RAVEN_COORDINATOR="wss://127.0.0.1:$port" "$raven" submit --model "$src/examples/mlp.json" --data "$data" \
        --batch-size 4096 --max-steps 2 --budget 10 2>>"$work/submit.log" || fail "submit: $(tail -3 "$work/submit.log")"
}
# The coordinator's account of a job's cut: "<units> <sized for ...>".
cut_of() {
    sed -n "s/^coordinator: job $1: each step cut into \([0-9]*\) unit(s) of at most [0-9]* shard(s), \(.*\)/\1 \2/p" \
        "$work/coordinator.log"
}
# start_worker NAME URL: a worker (it may start on the jobs' units; nothing here waits for them); returns
# once it registered and the coordinator had time to measure its round trip.
start_worker() {
    local token
    token=$("$coordinator" add-contributor "$1" --data-dir "$dir" 2>/dev/null)
    "$worker" --coordinator "$2" --token "$token" --device cpu --threads 1 --cache-dir "$work/cache-$1" \
        --known-hosts "$work/known_hosts" --name "$1" >"$work/$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q "registered with" "$work/$1.log" && break; sleep 0.1; done
    grep -q "registered with" "$work/$1.log" || fail "$1 did not register"
    sleep 1  # the ping goes out with the registration; its pong is back within a round trip or two
}

nominal=$(submit)
read -r units_nominal sized_nominal <<<"$(cut_of "$nominal")" || true
[ -n "${units_nominal:-}" ] || fail "no cut logged for job $nominal"
[[ "$sized_nominal" == *"sized for 1 ms round trip (nominal: no contributor measured)"* ]] ||
    fail "job $nominal: $sized_nominal"
[ "$units_nominal" -ge 4 ] || fail "job $nominal: $units_nominal unit(s) a step; the bed expects several at 1 ms"
echo "no contributor connected: $units_nominal units a step, $sized_nominal"

# A worker on loopback: measured well under 1 ms, and the cut stays the nominal one.
start_worker near "wss://127.0.0.1:$port"
near=$(submit)
read -r units_near sized_near <<<"$(cut_of "$near")" || true
[[ "$sized_near" == *"sized for 1 ms round trip (measured over 1 contributor)"* ]] || fail "job $near: $sized_near"
[ "$units_near" = "$units_nominal" ] || fail "a loopback contributor changed the cut: $units_near against $units_nominal"
echo "one contributor on loopback: $units_near units a step, $sized_near"

# Two more workers 50 ms away: the median round trip of the three is ~50 ms, sized for 64.
relay_port=$(free_port)
/usr/bin/python3 "$src/bench/distributed/link_emulator.py" --listen "127.0.0.1:$relay_port" \
    --target "127.0.0.1:$port" --delay-ms 25 --mbit 1000 >"$work/link.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$relay_port") 2>/dev/null && break; sleep 0.1; done
start_worker far1 "wss://127.0.0.1:$relay_port"
start_worker far2 "wss://127.0.0.1:$relay_port"
far=$(submit)
read -r units_far sized_far <<<"$(cut_of "$far")" || true
# 64, or 128 where a busy machine answered a ping a few milliseconds late.
[[ "$sized_far" =~ "sized for "(64|128)" ms round trip (measured over 3 contributors)" ]] || fail "job $far: $sized_far"
[ "$units_far" -lt "$units_nominal" ] || fail "50 ms away, $units_far unit(s) a step: not fewer than $units_nominal"
echo "two of three contributors 50 ms away: $units_far units a step, $sized_far"
echo PASS
