#!/usr/bin/env bash
# Validates the WAN bed (docs/benchmarks.md, "WAN test bed"): one worker behind the configured link,
# then ping's round trip, iperf3's TCP throughput each way, and the time of a 1 MB transfer after 2 s
# idle (probe.py) each way, for each congestion control given; last, the same 1 MB transfer through
# bench/distributed/link_emulator.py (the TCP relay) on loopback with the same delay and rate.
#
#   bench/wan/validate.sh [--delay-ms 25] [--down-mbit 100] [--up-mbit 10] [--congestion "bbr reno"]
#                         [--seconds 8] [--forwarder PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
delay=25
down=100
up=10
ccs="bbr reno"
seconds=8
fwd=()
while [ $# -gt 0 ]; do
    case $1 in
        --delay-ms) delay=$2 ;;
        --down-mbit) down=$2 ;;
        --up-mbit) up=$2 ;;
        --congestion) ccs=$2 ;;
        --seconds) seconds=$2 ;;
        --forwarder) fwd=(--forwarder "$2") ;;
        *) echo "unknown option $1 (see the header of $0)"; exit 2 ;;
    esac
    shift 2
done
bed=$here/bed.sh
py=$(command -v python3)
relay_pid=
server_pid=
cleanup() {
    for p in $relay_pid $server_pid; do kill "$p" 2>/dev/null || true; done
    "$bed" down --name rwv
}
trap cleanup EXIT
idle_ms() {  # lines of probe.py fetch -> the mean of the after-idle transfers, and the list
    awk '/idle/ { v[n++] = $(NF - 1) } END { s = 0; l = ""; for (i = 0; i < n; i++) { s += v[i]; l = l (i ? ", " : "") v[i] }
        printf "%.0f ms (%s)", s / n, l }'
}
echo "WAN bed validation: $delay ms each way (RTT $((2 * delay)) ms), $down Mbit/s down, $up Mbit/s up;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine)."
echo
echo "| path | congestion control | ping RTT min / avg / max ms | TCP down Mbit/s (retransmits) | TCP up Mbit/s (retransmits) | 1 MB down after 2 s idle | 1 MB up after 2 s idle |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for cc in $ccs; do
    "$bed" up --name rwv --workers 1 --delay-ms "$delay" --down-mbit "$down" --up-mbit "$up" --congestion "$cc" "${fwd[@]}" >/dev/null
    # The first ping also resolves the address (ARP, two more trips): left out.
    ip netns exec rwv-w1 ping -c 2 -i 0.2 10.77.0.1 >/dev/null 2>&1 || true
    rtt=$(ip netns exec rwv-w1 ping -c 20 -i 0.2 10.77.0.1 | awk -F'[/ ]' '/^rtt/ { printf "%s / %s / %s", $7, $8, $9 }')
    ip netns exec rwv-coord iperf3 -s -D --pidfile /run/raven-wan-rwv/iperf.pid >/dev/null
    sleep 0.5
    iperf() { ip netns exec rwv-w1 iperf3 -c 10.77.0.1 -t "$seconds" "$@" | awk '/sender$/ { r = $(NF - 1) } /receiver$/ { printf "%s (%s)", $(NF - 2), r }'; }
    tput_down=$(iperf -R)
    tput_up=$(iperf)
    ip netns exec rwv-coord "$py" "$here/probe.py" serve --listen 10.77.0.1:5301 >/dev/null &
    server_pid=$!
    for _ in $(seq 100); do ip netns exec rwv-w1 bash -c 'exec 3<>/dev/tcp/10.77.0.1/5301' 2>/dev/null && break; sleep 0.1; done
    idle_down=$(ip netns exec rwv-w1 "$py" "$here/probe.py" fetch --connect 10.77.0.1:5301 --repeat 3 | idle_ms)
    idle_up=$(ip netns exec rwv-w1 "$py" "$here/probe.py" fetch --connect 10.77.0.1:5301 --repeat 2 --direction up | idle_ms)
    echo "| packet bed (raven-wan-forwarder, tbf) | $cc | $rtt | $tput_down | $tput_up | $idle_down | $idle_up |"
    kill "$server_pid" 2>/dev/null || true
    server_pid=
    "$bed" down --name rwv
done
# The relay shapes one byte stream at --mbit in both directions (it has no separate uplink rate).
ports=$("$py" -c 'import socket
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
sport=$(echo "$ports" | head -1)
rport=$(echo "$ports" | tail -1)
"$py" "$here/probe.py" serve --listen "127.0.0.1:$sport" >/dev/null &
server_pid=$!
"$py" "$here/../distributed/link_emulator.py" --listen "127.0.0.1:$rport" --target "127.0.0.1:$sport" \
    --delay-ms "$delay" --mbit "$down" >/dev/null &
relay_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null && break; sleep 0.1; done
idle_down=$("$py" "$here/probe.py" fetch --connect "127.0.0.1:$rport" --repeat 3 | idle_ms)
echo "| TCP relay (link_emulator.py, loopback) | $(sysctl -n net.ipv4.tcp_congestion_control) (loopback) | - | - | - | $idle_down | - |"
echo
echo "1 MB at $down Mbit/s is $(awk -v m="$down" 'BEGIN { printf "%.0f", 1048576 * 8 / m / 1000 }') ms on the wire;" \
    "slow start from 10 segments needs about 7 round trips to send it."
