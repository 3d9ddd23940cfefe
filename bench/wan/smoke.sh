#!/usr/bin/env bash
# The WAN bed's smoke test (ctest bench_wan_smoke): a bed of two workers with 10 ms each way, then a
# round trip near 20 ms, 1 MB each way intact over TCP, worker to worker through the switch, and a
# teardown that leaves no namespace behind. Network namespaces and raw sockets need root: as another
# user, or where namespaces are not allowed (an unprivileged container), it exits 77 (ctest: skipped).
#
#   bench/wan/smoke.sh [--forwarder PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fwd=()
[ "${1:-}" = --forwarder ] && fwd=(--forwarder "$2")
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "the WAN bed needs root (network namespaces, raw sockets); run as root to test it"
probe_ns=rws-probe-$$
ip netns add "$probe_ns" 2>/dev/null || skip "cannot create a network namespace here (no CAP_SYS_ADMIN?)"
ip netns del "$probe_ns"
for tool in ethtool ping; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing: run scripts/setup-debian.sh"; exit 1; }
done
py=$(command -v python3)
bed=$here/bed.sh
trap '"$bed" down --name rws' EXIT
"$bed" up --name rws --workers 2 --delay-ms 10 --down-mbit 100 --up-mbit 10 "${fwd[@]}"

fail() { echo "FAIL: $*"; exit 1; }
ip netns exec rws-w1 ping -c 2 -i 0.2 10.77.0.1 >/dev/null || fail "no ping from worker 1 to the coordinator"
rtt=$(ip netns exec rws-w1 ping -c 5 -i 0.2 10.77.0.1 | awk -F'[/ ]' '/^rtt/ { print $8 }')
echo "round trip $rtt ms (configured 20 ms)"
awk -v r="$rtt" 'BEGIN { exit !(r >= 19.5 && r < 40) }' || fail "round trip $rtt ms is not about 20 ms"
ip netns exec rws-w2 ping -c 2 -i 0.2 10.77.0.11 >/dev/null || fail "no ping from worker 2 to worker 1"

ip netns exec rws-coord "$py" "$here/probe.py" serve --listen 10.77.0.1:5301 >/dev/null &
sleep 0.5
for direction in down up; do
    out=$(ip netns exec rws-w2 "$py" "$here/probe.py" fetch --connect 10.77.0.1:5301 --idle 0.1 --repeat 1 \
        --direction "$direction") || fail "1 MB $direction did not arrive"
    echo "$out"
done
# 1 MB up at 10 Mbit/s takes at least 0.84 s: the uplink's tbf is in the path.
up_ms=$(echo "$out" | awk '/idle/ { print $(NF - 1) }')
awk -v t="$up_ms" 'BEGIN { exit !(t >= 800) }' || fail "1 MB up took $up_ms ms, faster than 10 Mbit/s allows"

"$bed" down --name rws
trap - EXIT
left=$(ip netns list | grep -c '^rws-' || true)
[ "$left" -eq 0 ] || fail "$left namespace(s) left after down"
"$bed" down --name rws  # idempotent
echo "PASS"
