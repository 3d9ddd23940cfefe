#!/usr/bin/env bash
# hostile_workers_test.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR
# Issue 18's test bed (docs/verification.md): a verifiable Fashion-MNIST MLP job on loopback with 10
# real raven-worker processes, 3 of them built-in cheaters (--cheat, a test-build-only switch): one
# sends noise, one replays the previous unit's gradient (stale) after two honest units, one copies
# another worker's result for another unit on about half its units (cheating only sometimes). Every
# cheater must be caught and quarantined, no wrong result paid, no honest worker accused, and the
# final weights must equal a clean run's (3 honest workers, same job) bit for bit. Prints the
# detection latency and the verification overhead that docs/benchmarks.md records.
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
. "$(dirname "$0")/fleet_bed.sh"  # $data, $work, $pids, fail
# (the help is read whole: with pipefail, grep -q closing the pipe early would fail the check on SIGPIPE)
[[ "$("$worker" --help)" == *--cheat* ]] || { echo "FAIL: $worker has no --cheat: configure with -DRAVEN_HOSTILE_WORKER=ON"; exit 1; }
steps=24

# run NAME WORKER_SPEC...: a fresh coordinator, the job, one worker per spec ("honest" or cheat flags
# joined by commas), until the job is done; leaves NAME/mlp.safetensors and the logs in NAME/.
run() {
    local name=$1
    shift
    local at=$work/$name dir=$work/$name/coordinator
    mkdir -p "$at" "$dir"
    local port
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    local key
    key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$dir" 2>/dev/null)
    "$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --shards-per-unit 1 --heartbeat-ms 500 \
        --lease-timeout-ms 3000 --unit-deadline-ms 20000 >"$at/coordinator.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "serving wss://127.0.0.1:$port" "$at/coordinator.log" 2>/dev/null && break
        sleep 0.1
    done
    export RAVEN_COORDINATOR="wss://127.0.0.1:$port" RAVEN_API_KEY="$key" RAVEN_KNOWN_HOSTS="$at/known_hosts"
    export XDG_CACHE_HOME="$work/xdg-cache"
    local job
    job=$("$raven" submit --model "$src/examples/mlp.json" --data "$data" --batch-size 128 --max-steps $steps \
        --kernels verifiable --seed 3 --budget 100 2>"$at/submit.log") || fail "submit: $(cat "$at/submit.log")"
    local i=0
    for spec in "$@"; do
        i=$((i + 1))
        local flags=()
        [ "$spec" = honest ] || IFS=, read -r -a flags <<<"$spec"
        local token
        token=$("$coordinator" add-contributor "w$i" --data-dir "$dir" 2>/dev/null)
        "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 --max-leases 1 \
            --cache-dir "$at/cache-w$i" --known-hosts "$at/known_hosts" --name "w$i" "${flags[@]}" \
            >"$at/w$i.log" 2>&1 &
        pids+=($!)
    done
    local state=
    for _ in $(seq 1200); do
        state=$("$coordinator" status --data-dir "$dir" | awk -v j="$job" '$1 == j { print $2 }')
        [ "$state" = running ] || break
        sleep 0.25
    done
    [ "$state" = done ] || fail "$name: job $job is $state"
    "$raven" pull "$job" -o "$at/mlp.safetensors" >"$at/pull.log" 2>&1 || fail "pull: $(cat "$at/pull.log")"
    "$coordinator" audit --data-dir "$dir" >"$at/audit.log" || fail "$name: audit: $(cat "$at/audit.log")"
    "$raven" eval --weights "$at/mlp.safetensors" --data "$data" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' \
        >"$at/accuracy"
}

start=$(date +%s)
run clean honest honest honest
echo "clean run: test accuracy $(cat "$work/clean/accuracy")% ($(($(date +%s) - start)) s)"
share=$work/share
start=$(date +%s)
run hostile "--cheat,random,--cheat-share,$share" "--cheat,stale,--cheat-after,2,--cheat-share,$share" \
    "--cheat,copy,--cheat-rate,0.5,--cheat-share,$share" honest honest honest honest honest honest honest
echo "hostile run: test accuracy $(cat "$work/hostile/accuracy")% ($(($(date +%s) - start)) s)"

# Nothing wrong in the model: the same tensors, bit for bit (the files' metadata aside).
/usr/bin/python3 - "$work/clean/mlp.safetensors" "$work/hostile/mlp.safetensors" <<'PY' || fail "the weights differ from the clean run's"
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]) for k, v in header.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
sys.exit(0 if a == b and a else 1)
PY
echo "final weights equal the clean run's bit for bit"

log=$work/hostile/coordinator.log
for i in 1 2 3; do
    line=$(grep "(w$i) quarantined after" "$log" | head -n 1) || fail "cheater w$i was not caught"
    echo "w$i ($(sed -n 's/.*HOSTILE: unit [0-9]* sent \([a-z]*\).*/\1/p' "$work/hostile/w$i.log" | head -n 1)): caught after $(sed -n 's/.*quarantined after \([0-9]*\) result.*/\1/p' <<<"$line") result(s)"
    # Every unit it cheated on was refused and unpaid.
    for unit in $(sed -n 's/.*HOSTILE: unit \([0-9]*\) sent.*/\1/p' "$work/hostile/w$i.log"); do
        grep -q "^unit $unit: .*accepted" "$work/hostile/w$i.log" && fail "w$i was paid for its wrong result on unit $unit"
    done
done
for i in 4 5 6 7 8 9 10; do
    grep -q "(w$i) quarantined" "$log" && fail "honest worker w$i was accused"
    grep -q "HOSTILE" "$work/hostile/w$i.log" && fail "w$i cheated"
done
grep -q "every shard of every step counted exactly once" "$work/hostile/audit.log" || fail "audit: $(cat "$work/hostile/audit.log")"
grep "verification of job" "$log" | sed 's/.*coordinator: //'
echo PASS
