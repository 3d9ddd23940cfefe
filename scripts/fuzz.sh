#!/usr/bin/env bash
# Runs Raven's libFuzzer targets (tests/fuzz) for real: configures the preset `fuzz` (clang with
# -fsanitize=fuzzer,address,undefined, in build/fuzz), builds the targets, runs each in turn from
# its seed corpus for N inputs, and prints one summary line per target.
#
# Usage: scripts/fuzz.sh [--runs N] [--jobs J] [--max-len BYTES] [target...]
#   --runs N      inputs per target (default 10000000: minutes for the protocol, manifest and spec
#                 parsers, one to two hours for gradient and the importers on one core)
#   --jobs J      build parallelism (default 2)
#   --max-len B   the largest input libFuzzer generates (default 16384)
#   target        frame chunking gradient safetensors idx npy csv manifest model_spec (default: all)
#
# Each target runs with -timeout=10 (an input taking longer is a hang), -rss_limit_mb=2048 (so also
# a malloc limit of 2 GiB: a parser that allocates what a header claims is caught) and its own
# working corpus in build/fuzz/fuzz-corpus/<target> (seeded from tests/fuzz/corpus/<target>, kept
# between runs; new interesting inputs accumulate there, the committed corpus stays small).
# Crashes, leaks, timeouts and out-of-memory inputs are written to build/fuzz/fuzz-artifacts/<target>/;
# reproduce one with build/fuzz/tests/fuzz/fuzz_<target> <file>, then fix it at its root, add a
# regression test, and copy the input to tests/fuzz/corpus/<target>/regress-<what> so CI replays it.
# Logs: build/fuzz/fuzz-logs/<target>.log. Exit status: 0 when no target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(frame chunking gradient safetensors idx npy csv manifest model_spec)
runs=10000000
jobs=2
maxlen=16384
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --max-len) maxlen="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (known: ${all[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing: run scripts/setup-debian.sh" >&2; exit 1; }

build=build/fuzz
cmake --preset fuzz >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

mkdir -p "$build/fuzz-logs"
status=0
summary=()
for t in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz.sh: $t: $runs runs (log: $log)"
  start=$(date +%s)
  set +e
  # Leak checks stay on (ASan's default); -print_final_stats gives the figures summarised below.
  "$build/tests/fuzz/fuzz_$t" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len="$maxlen" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  seconds=$(( $(date +%s) - start ))
  done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  [ -n "$done_runs" ] || done_runs="?"
  [ -n "$speed" ] || speed="?"
  if [ "$rc" -ne 0 ]; then
    status=1
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|runtime error: .*|deadly signal|out-of-memory.*|timeout after.*' "$log" || echo "exit status $rc")
    summary+=("$(printf '%-12s runs %-10s exec/s %-7s %5ss  FOUND: %s (%s)' "$t" "$done_runs" "$speed" "$seconds" "$what" "$(ls -t "$artifacts" | head -1)")")
  else
    summary+=("$(printf '%-12s runs %-10s exec/s %-7s %5ss  crashes 0' "$t" "$done_runs" "$speed" "$seconds")")
  fi
done

echo
echo "fuzz.sh summary ($runs runs asked per target; artifacts in $build/fuzz-artifacts):"
printf '  %s\n' "${summary[@]}"
exit $status
