#!/usr/bin/env bash
# robust.sh RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR [STEPS] [BATCH]
# Robust aggregation for fast-mode jobs (docs/verification.md), measured: the same Fashion-MNIST MLP
# job (one 32-sample shard per unit, BATCH samples per step) trained on loopback four times, each on
# a fresh coordinator:
#   clean-mean      3 honest workers, the plain mean
#   clean-clip      3 honest workers, --aggregation centred-clip (what clipping costs with no attack)
#   hostile-mean    7 honest + 3 cheating workers (scale x2, sign-flipped, random noise), plain mean
#   hostile-clip    the same fleet, centred-clip
#   poison-mean     7 honest + 3 poisoners (the gradient negated and scaled x10: plausible, as
#                   ResultPlausibility allows up to 50x the median norm), plain mean
#   poison-clip     the same fleet, centred-clip
#   *-spot          the clean, hostile and poison fleets with centred-clip and --spot-check: a share of
#                   the results (every one of a new contributor's) replayed by the coordinator and
#                   compared within the fast kernels' tolerance; a contributor caught is quarantined
# Prints each run's test accuracy, wall time, mean coordinator step time (the combination runs in
# it), and for the hostile runs the outlier events per worker (w1-w3 cheat) and who was quarantined
# after how many results. Needs raven-worker built
# with -DRAVEN_HOSTILE_WORKER=ON (the ci preset).
set -euo pipefail
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
steps=${5:-40} batch=${6:-512}
data=/usr/share/datasets/fashion-mnist
[[ "$("$worker" --help)" == *--cheat* ]] || { echo "$worker has no --cheat: configure with -DRAVEN_HOSTILE_WORKER=ON"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

run() {  # NAME AGGREGATION WORKER_SPEC...
    local name=$1 aggregation=${2%,spot} spot=()
    [ "$2" = "$aggregation" ] || spot=(--spot-check)
    shift 2
    local at=$work/$name dir=$work/$name/coordinator
    mkdir -p "$at" "$dir"
    local port key job state= start
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$dir" 2>/dev/null)
    "$coordinator" serve --data-dir "$dir" --listen "127.0.0.1:$port" --shards-per-unit 1 >"$at/coordinator.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q "serving" "$at/coordinator.log" && break; sleep 0.1; done
    export RAVEN_COORDINATOR="wss://127.0.0.1:$port" RAVEN_API_KEY="$key" RAVEN_KNOWN_HOSTS="$at/known_hosts"
    export XDG_CACHE_HOME="$work/xdg-cache"
    job=$("$raven" submit --model "$src/examples/mlp.json" --data "$data" --batch-size "$batch" --max-steps "$steps" \
        --aggregation "$aggregation" "${spot[@]}" --seed 3 --budget 500 2>"$at/submit.log")
    start=$(date +%s.%N)
    local i=0
    for spec in "$@"; do
        i=$((i + 1))
        local flags=()
        [ "$spec" = honest ] || IFS=, read -r -a flags <<<"$spec"
        token=$("$coordinator" add-contributor "w$i" --data-dir "$dir" 2>/dev/null)
        "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 --max-leases 1 \
            --cache-dir "$at/cache-w$i" --known-hosts "$at/known_hosts" --name "w$i" "${flags[@]}" >"$at/w$i.log" 2>&1 &
        pids+=($!)
    done
    # Followed as its requester would (one connection, told of each step) for up to 20 minutes, not
    # polled: a status process ten times a second took CPU from the run being measured.
    timeout 1200 "$raven" watch "$job" >"$at/watch.log" 2>&1 || true
    state=$("$coordinator" status --data-dir "$dir" | awk -v j="$job" '$1 == j { print $2 }')
    local wall
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    [ "$state" = done ] || { echo "$name: job $job is $state"; tail -n 20 "$at/coordinator.log"; exit 1; }
    "$raven" pull "$job" -o "$at/mlp.safetensors" >/dev/null 2>&1
    local accuracy
    accuracy=$("$raven" eval --weights "$at/mlp.safetensors" --data "$data" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p')
    /usr/bin/python3 - "$dir" "$job" "$name" "$accuracy" "$wall" "$at/coordinator.log" <<'PY'
import glob, json, re, sys, collections
data, job, name, accuracy, wall, log = sys.argv[1:]
jobdir = glob.glob(f"{data}/jobs/{job}")[0] if glob.glob(f"{data}/jobs/{job}") else glob.glob(f"{data}/**/jobs/{job}", recursive=True)[0]
steps = [json.loads(l) for l in open(f"{jobdir}/metrics.jsonl")]
step_ms = [s.get("extra", {}).get("step_ms") for s in steps if s.get("extra", {}).get("step_ms") is not None]
clipped = sum(s.get("extra", {}).get("robust_clipped_units", 0) for s in steps)
outliers = collections.Counter()
try:
    for l in open(f"{jobdir}/events.jsonl"):
        m = re.search(r"from contributor (\d+)", json.loads(l).get("message", ""))
        if m: outliers[int(m.group(1))] += 1
except FileNotFoundError:
    pass
who = " ".join(f"c{c}:{n}" for c, n in sorted(outliers.items())) or "none"
mean_step = sum(step_ms) / len(step_ms) if step_ms else float("nan")
# "after N result(s)" when a replay caught it; without, on its outliers (OutlierStrikes)
caught = re.findall(r"(\S+) quarantined(?: after (\d+) result\(s\))?:", open(log, errors="replace").read())
quarantined = " ".join(c.strip("()'\"") + ":" + (n or "outliers") for c, n in caught) or "none"
verification = re.search(r"verification of job \d+: (\d+) results, (\d+) replayed, (\d+) caught; replayed / useful "
                         r"compute ([0-9.]+)", open(log, errors="replace").read())
replayed = f"{verification.group(2)} of {verification.group(1)} replayed ({float(verification.group(4)):.0%} of the compute)" \
    if verification else "no replays"
print(f"{name:13s} accuracy {accuracy:>6s}%  wall {float(wall):6.1f} s  step {mean_step:6.1f} ms  "
      f"clipped units {int(clipped):4d}  outlier units by contributor id: {who}  quarantined after n results: "
      f"{quarantined}  {replayed}")
PY
}

cheats=("--cheat,scale" "--cheat,sign" "--cheat,random")
honest7=(honest honest honest honest honest honest honest)
echo "MLP, batch $batch, $steps steps, one shard per unit; load: $(cut -d' ' -f1-3 /proc/loadavg)"
run clean-mean mean honest honest honest
run clean-clip centred-clip honest honest honest
run hostile-mean mean "${cheats[@]}" "${honest7[@]}"
run hostile-clip centred-clip "${cheats[@]}" "${honest7[@]}"
poison=("--cheat,sign,--cheat-factor,10" "--cheat,sign,--cheat-factor,10" "--cheat,sign,--cheat-factor,10")
run poison-mean mean "${poison[@]}" "${honest7[@]}"
run poison-clip centred-clip "${poison[@]}" "${honest7[@]}"
run clean-spot centred-clip,spot honest honest honest
run hostile-spot centred-clip,spot "${cheats[@]}" "${honest7[@]}"
run poison-spot centred-clip,spot "${poison[@]}" "${honest7[@]}"
echo "contributor ids 1-3 cheat (hostile: scale x2, sign-flipped, random noise; poison: -10x), 4-10 are honest"
