#!/usr/bin/env bash
# overhead.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR [STEPS] [WORKERS]
# What verification costs (docs/verification.md): the same Fashion-MNIST MLP job (batch 128, one shard
# per unit) trained on loopback by WORKERS honest raven-worker processes, once in fast mode and once in
# verifiable mode, each on a fresh coordinator. Prints the wall time of each and the coordinator's
# account of the verifiable run: results, replayed, the replayed / useful compute over the whole run
# and over its last 200 results (the steady state once trust has grown), and the replays' time.
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
steps=${5:-200} workers=${6:-2}
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
run() {  # MODE
    local at=$work/$1 dir=$work/$1/coordinator
    mkdir -p "$at" "$dir"
    local port key job state=
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$dir" 2>/dev/null)
    "$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --shards-per-unit 1 >"$at/coordinator.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q "serving" "$at/coordinator.log" && break; sleep 0.1; done
    export RAVEN_COORDINATOR="wss://127.0.0.1:$port" RAVEN_API_KEY="$key" RAVEN_KNOWN_HOSTS="$at/known_hosts"
    export XDG_CACHE_HOME="$work/xdg-cache"
    job=$("$raven" submit --model "$src/examples/mlp.json" --data "$data" --batch-size 128 --max-steps "$steps" \
        --kernels "$1" --seed 3 --budget 500 2>"$at/submit.log")
    local start
    start=$(date +%s.%N)
    for i in $(seq "$workers"); do
        token=$("$coordinator" add-contributor "w$i" --data-dir "$dir" 2>/dev/null)
        "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 \
            --cache-dir "$at/cache-w$i" --known-hosts "$at/known_hosts" --name "w$i" >"$at/w$i.log" 2>&1 &
        pids+=($!)
    done
    # Followed as its requester would (one connection, told of each step) for up to 20 minutes, not
    # polled: a status process ten times a second took CPU from the run being measured.
    timeout 1200 "$raven" watch "$job" >"$at/watch.log" 2>&1 || true
    state=$("$coordinator" status --data-dir "$dir" | awk -v j="$job" '$1 == j { print $2 }')
    local end
    end=$(date +%s.%N)
    printf '%-10s %d steps, %d workers: %s s (%s)\n' "$1" "$steps" "$workers" \
        "$(/usr/bin/python3 -c "print(round($end - $start, 1))")" "$state"
    grep "verification of job" "$at/coordinator.log" | sed 's/.*coordinator: /           /' || true
}
echo "load: $(uptime | sed 's/.*load average: //')"
run fast
run verifiable
echo "load: $(uptime | sed 's/.*load average: //')"
