#!/usr/bin/env bash
# crash_points_test.sh [--stale-lanes] RAVEN RAVEN_COORDINATOR RAVEN_WORKER SOURCE_DIR [ROUNDS] [SEED]
# Issue 17's "nothing lost": a real coordinator with a real worker on loopback, killed over and over at
# its named crash points (RAVEN_CRASH_POINT, docs/coordinator.md "Crash points"): between a result's
# durable write and its payment, between a step's state write and the store's version update, and the
# others. Each round arms a random point (random arrival or chance), lets the coordinator die there,
# restarts it on the same data directory and audits the ledger. Beside it the same job runs once
# without a crash. At the end the crashed job must be done, every shard of every step counted exactly
# once, the ledger balanced, and its final weights equal bit for bit to the uncrashed run's.
#
# --stale-lanes (issue 19 item 6) drills a local-steps job instead: 3 lanes of 2 inner steps, staleness
# 1, int8 updates up and int8 weights down, run by 3 workers. Round t + 1's lanes are leased the moment
# round t's are all in and are accepted while round t's outer step is computed; the rounds arm the
# points of that path. A round is caught there by ahead-lane-accepted, which is reached only when the
# store pays a lane of round t + 1 with round t's step still pending (its first arrival; that needs the
# lanes to outrun the step, so a round that saw none tries again, up to 3 times); published-written
# (P(t + 1) on disk, the state file at t) and round-weights-written (the weights one round old on disk,
# the state file at t) land while round t + 1's lanes are running. Every other round, and once more
# while the last coordinator runs, a worker is SIGKILLed the moment the store shows it holding a lease,
# so that it dies mid-lane: the lane goes back (its connection dropped, or at the restart) and is
# leased again, and a worker of a new contributor takes its place. At the end every round has the
# uncrashed run's lanes, each done and paid exactly once, the lanes the killed workers held are done
# (at least one by another worker), the job spent what the uncrashed one did, and its state file, P
# and the weights one round old equal the uncrashed run's byte for byte.
set -euo pipefail
stale=0
[ "${1:-}" = --stale-lanes ] && { stale=1; shift; }
raven=$(realpath "$1") coordinator=$(realpath "$2") worker=$(realpath "$3") src=$(realpath "$4")
if [ "$stale" = 1 ]; then
    rounds=${5:-6}  # each point once
    points=(ahead-lane-accepted published-written round-weights-written state-written version-stored result-accepted)
    job_args=(--batch-size 32 --lanes 3 --local-steps 2 --staleness 1 --updates int8 --weights-down int8 --max-steps 24)
    workers=3
else
    rounds=${5:-18} # crashes (3 of each point); the rest of the job runs unarmed. About 1.5 s each on 2 idle cores
    points=(result-gradient-written result-saved result-accepted state-written version-stored checkpoint-written)
    job_args=(--batch-size 128 --gradients fp32 --max-steps 80)
    workers=1
fi
seed=${6:-$(date +%s)}
RANDOM=$seed
echo "$rounds crash rounds, seed $seed (rerun with: $0 ... $rounds $seed)"
crash_code=86  # kCrashExitCode in core/coordinator/CrashPoints.h
. "$(dirname "$0")/fleet_bed.sh"  # $data, $work, $pids, fail
cd "$work"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if [ "$stale" = 1 ]; then
    # The job's 24 rounds of 192 samples are one epoch of the first 4,608 training samples (every
    # round 3 whole lanes); with 1,000 test samples, imported once for both coordinators, the uploads
    # stay short.
    mkdir idx
    /usr/bin/python3 -c 'import gzip, struct, sys
for name, n in (("train-images-idx3", 4608), ("train-labels-idx1", 4608), ("t10k-images-idx3", 1000),
                ("t10k-labels-idx1", 1000)):
    b = gzip.open(f"{sys.argv[1]}/{name}-ubyte.gz").read()
    dims = b[3]
    shape = list(struct.unpack(f">{dims}I", b[4:4 + 4 * dims]))
    size = n * (len(b) - 4 - 4 * dims) // shape[0]
    shape[0] = n
    open(f"idx/{name}-ubyte", "wb").write(b[:4] + struct.pack(f">{dims}I", *shape) + b[4 + 4 * dims:][:size])' "$data"
    "$raven" dataset import --format idx -o dataset idx >import.log 2>&1 || fail "import: $(cat import.log)"
    data=$work/dataset
fi

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
start_worker() {  # NAME PORT LABEL: a worker of a new contributor LABEL on coordinator NAME, its pid in wpid
    local name=$1 port=$2 label=$3 token
    token=$("$coordinator" add-contributor "$label" --data-dir "$work/$name" 2>/dev/null)
    "$worker" --coordinator "wss://127.0.0.1:$port" --token "$token" --device cpu --threads 1 \
        --cache-dir "$work/cache-$label" --known-hosts "$work/known_hosts-$name" --name "$label" \
        >"worker-$label.log" 2>&1 &
    pids+=($!)
    wpid=$!
}
start_job() {  # NAME PORT N: submits the job and starts N workers; the job id in job_NAME, their pids in wpids_NAME
    local name=$1 port=$2 key id
    mkdir -p "$work/$name"
    key=$("$coordinator" add-requester ana --deposit 1000 --data-dir "$work/$name" 2>/dev/null)
    serve "$name" "$port"
    id=$(RAVEN_COORDINATOR="wss://127.0.0.1:$port" RAVEN_API_KEY="$key" RAVEN_KNOWN_HOSTS="$work/known_hosts-$name" \
        XDG_CACHE_HOME="$work/xdg-$name" "$raven" submit --model "$src/examples/mlp.json" --data "$data" \
        --checkpoint-every 4 "${job_args[@]}" --budget 100 --seed 5 \
        2>"submit-$name.log") || fail "submit: $(cat "submit-$name.log")"
    eval "job_$name=$id"
    eval "wpids_$name=()"
    for i in $(seq "$3"); do
        start_worker "$name" "$port" "w-$name-$i"
        eval "wpids_$name+=($wpid)"
    done
}
spent() { "$coordinator" status --data-dir "$work/$1" | awk -v j="$2" '$1 == j { print $5 }'; }
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
sql() {  # NAME QUERY ARGS...: the rows of a read-only query of NAME's store, one a line, fields space-separated
    /usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for row in db.execute(sys.argv[2], sys.argv[3:]): print(*row)' "$work/$1/coordinator.sqlite" "${@:2}"
}
held=()  # unit:label of each lane a killed worker held
kill_worker() {
    # A lane computes in milliseconds: the victim's result may already be on the wire when it dies, and
    # then its lane is done by the victim itself, which proves nothing about re-issue. Up to 3 victims
    # a call, until one died with a lane whose result never came.
    local attempt unit all_sent
    for attempt in 1 2 3; do
        kill_one_worker
        sleep 0.3
        all_sent=1
        for unit in $killed_units; do
            [ "$(sql crashed "SELECT c.name FROM work_units u JOIN contributors c ON c.id = u.accepted_from
                             WHERE u.id = ?" "$unit")" = "$killed_victim" ] || all_sent=0
        done
        [ "$all_sent" = 0 ] && break
    done
    return 0  # three late kills in a row are not this call's failure (the check at the end counts)
}
kill_one_worker() {
    # The first of the crashed job's workers that the store shows holding a lease (polled every 2 ms, for
    # up to 5 s; else the first one) is SIGKILLed at once, so that it dies mid-lane; a worker of a new
    # contributor takes its place.
    local i victim= units= unit crew=()
    for i in "${!crew_pids[@]}"; do crew+=("${crew_labels[i]}:${crew_pids[i]}"); done
    read -r victim units < <(/usr/bin/python3 -c 'import os, signal, sqlite3, sys, time
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
crew = dict(member.split(":") for member in sys.argv[2:])
end = time.monotonic() + 5
while True:
    held = {}
    for label, unit in db.execute("SELECT c.name, l.work_unit FROM leases l JOIN contributors c "
                                  "ON c.id = l.contributor WHERE l.state = ?", ("active",)):
        if label in crew: held.setdefault(label, []).append(unit)
    if held or time.monotonic() > end: break
    time.sleep(0.002)
victim = next(iter(held)) if held else next(iter(crew))
os.kill(int(crew[victim]), signal.SIGKILL)
print(victim, *held.get(victim, []))' "$work/crashed/coordinator.sqlite" "${crew[@]}")
    [ -n "$victim" ] || fail "no worker of the crashed job could be killed"
    for unit in $units; do held+=("$unit:$victim"); done
    killed_victim=$victim killed_units=$units
    for i in "${!crew_labels[@]}"; do [ "${crew_labels[i]}" = "$victim" ] && break; done
    wait "${crew_pids[i]}" 2>/dev/null || true
    kills_w=$((kills_w + 1))
    start_worker crashed "$port" "w-crashed-$((workers + kills_w))"
    crew_pids[i]=$wpid crew_labels[i]=w-crashed-$((workers + kills_w))
}

# The reference: the same job, never crashed, on its own coordinator, at the same time (a local-steps
# job's bits do not depend on how many workers run its lanes: one does).
ref_port=$(free_port)
start_job reference "$ref_port" 1
port=$(free_port)
round=0
start_job crashed "$port" "$workers"
crew_pids=("${wpids_crashed[@]}") crew_labels=() kills_w=0
for i in $(seq "$workers"); do crew_labels+=("w-crashed-$i"); done
kill -9 "$cpid_crashed"  # the first coordinator ran unarmed (for the upload); from here every one is armed
wait "$cpid_crashed" 2>/dev/null || true

started=$SECONDS
crashes=0 kills=0 slot=0 again= retries=0
while [ "$round" -lt "$rounds" ]; do
    round=$((round + 1))
    if [ -n "$again" ]; then
        point=$again again=
    else
        # Every point in each block of rounds, in a random order: short runs still reach them all.
        if [ $((slot % ${#points[@]})) -eq 0 ]; then
            order=("${points[@]}")  # Fisher-Yates here, not in a subshell (which reseeds RANDOM)
            for ((i = ${#order[@]} - 1; i > 0; i--)); do
                j=$((RANDOM % (i + 1))) t=${order[i]}
                order[i]=${order[j]} order[j]=$t
            done
            if [ "$stale" = 1 ] && [ "$slot" = 0 ]; then  # first: its retries need rounds left in the job
                for i in "${!order[@]}"; do
                    [ "${order[i]}" = ahead-lane-accepted ] && order[i]=${order[0]} order[0]=ahead-lane-accepted
                done
            fi
        fi
        point=${order[slot % ${#points[@]}]}
        slot=$((slot + 1))
    fi
    choice=$((RANDOM % 3))
    [ "$point" = ahead-lane-accepted ] && choice=1
    case $choice in  # a checkpoint every 4 steps: by chance it could outlast the job
        0) if [ "$point" = checkpoint-written ]; then arm="$point:1"
           # The stale job is 24 steps for all its points, most of them reached once a step: at p0.1 one
           # round ran 20 steps with odds of about 1 in 7 and left the last points no job to crash.
           elif [ "$stale" = 1 ]; then arm="$point:p0.$((RANDOM % 5 + 3))"
           else arm="$point:p0.$((RANDOM % 5 + 1))"; fi ;;
        *) case $point in  # a result arrives 4 times a step, the others once (a checkpoint every 4 steps)
               result-*) arm="$point:$((RANDOM % 8 + 1))" ;;
               ahead-*) arm="$point:1" ;;
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
    [ "$stale" = 1 ] && [ $((round % 2)) = 0 ] && kill_worker
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
    # A lane paid ahead comes by chance (round t + 1's lanes outrunning round t's outer step): a round
    # that got none tries again, up to 3 more times.
    if [ "$point" = ahead-lane-accepted ] && [ "$rc" = 137 ] && [ "$retries" -lt 3 ]; then
        again=$point retries=$((retries + 1)) rounds=$((rounds + 1))
    fi
done
echo "$round rounds in $((SECONDS - started)) s: $crashes at a crash point, $kills SIGKILLed, $kills_w workers SIGKILLed"

serve crashed "$port"
audit crashed
[ "$stale" = 1 ] && kill_worker  # this coordinator lives on: the lease goes back when the connection drops
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
[ "$stale" = 1 ] || { echo PASS; exit 0; }

# Lanes: every round has the uncrashed run's lanes (3), each done and paid exactly once, and the job
# paid what the uncrashed one did.
lanes() { sql "$1" "SELECT model_version, COUNT(*) FROM work_units WHERE job = ? GROUP BY model_version" "$2"; }
[ "$(lanes crashed "$job_crashed")" = "$(lanes reference "$job_reference")" ] ||
    fail "lanes per round (round lanes): crashed $(lanes crashed "$job_crashed" | tr '\n' ,)," \
        "uncrashed $(lanes reference "$job_reference" | tr '\n' ,)"
wrong=$(sql crashed "SELECT u.id, u.state, COUNT(e.id) FROM work_units u
                     LEFT JOIN entries e ON e.work_unit = u.id AND e.kind = 'work_unit_credit'
                     WHERE u.job = ? GROUP BY u.id HAVING u.state <> 'done' OR COUNT(e.id) <> 1" "$job_crashed")
[ -z "$wrong" ] || fail "lanes not done and paid exactly once (unit state payments): $wrong"
echo "$(lanes crashed "$job_crashed" | wc -l) rounds, $(lanes crashed "$job_crashed" | awk '{ n += $2 } END { print n }') lanes: each done and paid once"
[ "$(spent crashed "$job_crashed")" = "$(spent reference "$job_reference")" ] ||
    fail "the crashed job spent $(spent crashed "$job_crashed"), the uncrashed one $(spent reference "$job_reference")"
# The lanes the killed workers held: each done, at least one by another worker (leased again).
[ "${#held[@]}" -gt 0 ] || fail "no killed worker held a lane (seed $seed)"
reissued=0
for h in "${held[@]}"; do
    by=$(sql crashed "SELECT u.state, c.name FROM work_units u LEFT JOIN contributors c ON c.id = u.accepted_from
                      WHERE u.id = ?" "${h%%:*}")
    case $by in
        "done ${h#*:}") ;;  # its result was on the way when the worker died
        done\ *) reissued=$((reissued + 1)) ;;
        *) fail "lane ${h%%:*} held by the killed ${h#*:} is $by" ;;
    esac
done
[ "$reissued" -gt 0 ] || fail "no lane of a killed worker was finished by another (seed $seed)"
echo "$kills_w workers killed holding ${#held[@]} lane(s), $reissued finished by another worker"
# The published lineage P and the weights one round old: the same files, the same bytes.
kept() { (cd "$work/$1/jobs/$2" && ls -- published-* round-weights-* 2>/dev/null || true); }
[ "$(kept reference "$job_reference")" = "$(kept crashed "$job_crashed")" ] ||
    fail "the crashed job keeps $(kept crashed "$job_crashed"), the uncrashed one $(kept reference "$job_reference")"
for f in $(kept reference "$job_reference"); do
    cmp "$work/reference/jobs/$job_reference/$f" "$work/crashed/jobs/$job_crashed/$f" ||
        fail "$f of the crashed job differs from the uncrashed run's (seed $seed)"
done
echo "published and round weights equal: $(kept crashed "$job_crashed" | tr '\n' ' ')"
echo PASS
