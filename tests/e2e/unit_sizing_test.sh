#!/usr/bin/env bash
# unit_sizing_test.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR
# Issue 17 item 1: a new job's units are sized for the round trip and the upload rate measured to the
# contributors connected when it is created (core/coordinator/UnitSizing.h). Over real sockets: a job
# submitted with no contributor connected is cut at the nominal figures; a worker on loopback (under the
# operator's floor of 8 ms however busy this machine is, over the nominal 1000 Mbit/s) changes nothing;
# with two of three workers
# behind a link of 50 ms round trip (bench/distributed/link_emulator.py) a job is sized for 64 ms, and
# with a worker whose results come up a 16 Mbit/s link, for at most 16 Mbit/s: larger, fewer units.
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
. "$(dirname "$0")/fleet_bed.sh"  # $data, $work, $pids, fail
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

dir=$work/coordinator
port=$(free_port)
key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$dir" 2>/dev/null)
# A slow nominal worker (10 GFLOP/s) so that batch 4096 makes several units at the nominal 8 ms.
"$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --unit-worker-gflops 10 --unit-round-trip-ms 8 \
    --heartbeat-ms 500 \
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
    sleep 2.5  # pings go out with the registration and its first heartbeats (500 ms apart); the least counts
}

nominal=$(submit)
read -r units_nominal sized_nominal <<<"$(cut_of "$nominal")" || true
[ -n "${units_nominal:-}" ] || fail "no cut logged for job $nominal"
[[ "$sized_nominal" == *"sized for 8 ms round trip (nominal: no contributor measured)"* ]] ||
    fail "job $nominal: $sized_nominal"
[ "$units_nominal" -ge 4 ] || fail "job $nominal: $units_nominal unit(s) a step; the bed expects several at 8 ms"
echo "no contributor connected: $units_nominal units a step, $sized_nominal"

# A worker on loopback: measured under the floor, and the cut stays the nominal one.
start_worker near "wss://127.0.0.1:$port"
near=$(submit)
read -r units_near sized_near <<<"$(cut_of "$near")" || true
[[ "$sized_near" == *"sized for 8 ms round trip (measured over 1 contributor)"* ]] || fail "job $near: $sized_near"
[ "$units_near" = "$units_nominal" ] || fail "a loopback contributor changed the cut: $units_near against $units_nominal"
echo "one contributor on loopback: $units_near units a step, $sized_near"

# start_link NAME DELAY_MS MBIT: a link emulator in front of the coordinator; sets link_port.
start_link() {
    link_port=$(free_port)
    /usr/bin/python3 "$src/bench/distributed/link_emulator.py" --listen "127.0.0.1:$link_port" \
        --target "127.0.0.1:$port" --delay-ms "$2" --mbit "$3" >"$work/$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$link_port") 2>/dev/null && return 0; sleep 0.1; done
    fail "the link emulator $1 is not listening"
}

# Two more workers 50 ms away: the median round trip of the three is ~50 ms, sized for 64.
start_link far-link 25 1000
start_worker far1 "wss://127.0.0.1:$link_port"
start_worker far2 "wss://127.0.0.1:$link_port"
far=$(submit)
read -r units_far sized_far <<<"$(cut_of "$far")" || true
# 64, or 128 where a busy machine answered a ping a few milliseconds late.
[[ "$sized_far" =~ "sized for "(64|128)" ms round trip (measured over 3 contributors)" ]] || fail "job $far: $sized_far"
[ "$units_far" -lt "$units_nominal" ] || fail "50 ms away, $units_far unit(s) a step: not fewer than $units_nominal"
echo "two of three contributors 50 ms away: $units_far units a step, $sized_far"

# Only a worker behind a slow uplink: once it has sent a result (940 KB) up 16 Mbit/s, a new job is
# sized for the measured rate, rounded down to a power of two (16 Mbit/s, or less where the relay, the
# TLS or this busy machine took longer than the link alone), and takes a whole step as one unit.
for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; done
start_link slow-link 1 16
# One worker: it takes every unit there is, however the work job below happens to be cut (itself sized
# by whatever the coordinator has measured by then: two workers on a job of one unit a step left one
# of them idle).
start_worker slow "wss://127.0.0.1:$link_port"
submit >/dev/null  # work for it: results to send up the link
for _ in $(seq 1800); do  # up to 3 minutes: the Python relay is slow on a busy machine
    grep -q "accepted" "$work/slow.log" && break
    sleep 0.1
done
grep -q "accepted" "$work/slow.log" || fail "the slow worker sent no result"
slow=$(submit)
read -r units_slow sized_slow <<<"$(cut_of "$slow")" || true
[[ "$sized_slow" =~ ", "(16|8|4|2)" Mbit/s (measured over 1 contributor)" ]] || fail "job $slow: $sized_slow"
[ "$units_slow" = 1 ] || fail "results up 16 Mbit/s, $units_slow units a step: not one"
echo "only a contributor behind a 16 Mbit/s uplink: $units_slow unit a step, $sized_slow"
echo PASS
