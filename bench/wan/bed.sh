#!/usr/bin/env bash
# The WAN test bed: the coordinator and N workers each in a network namespace of their own, joined
# through a router namespace by veth pairs. In the router, raven-wan-forwarder switches every frame
# after a fixed one-way delay with optional seeded loss (packet level: TCP's slow start, its window
# growth and loss recovery happen as on a real path); tbf on the veths sets the rates, as home links
# have them: each worker's downlink on the router's port towards it, its uplink on its own veth.
#
#   bench/wan/bed.sh up [--workers 2] [--delay-ms 25] [--loss 0] [--seed 1] [--down-mbit 100]
#                       [--up-mbit 10] [--coord-mbit 0] [--queue-ms 50] [--congestion cubic]
#                       [--forwarder PATH] [--name rw]
#   bench/wan/bed.sh exec [--name rw] coord|w1..wN|router COMMAND...   (runs COMMAND in that namespace)
#   bench/wan/bed.sh addr coord|wI                          (prints its IPv4 address)
#   bench/wan/bed.sh down [--name rw]                       (idempotent: removes whatever is there)
#
# Addresses: one Ethernet segment 10.77.0.0/24, the coordinator 10.77.0.1, worker i 10.77.0.(10+i);
# no routes beyond the segment are needed (the forwarder is a switch, not an IP hop). --delay-ms is
# one way, so the round trip is twice it. --coord-mbit 0 leaves the coordinator's link unlimited (a
# server's uplink); --queue-ms sizes tbf's buffer as that many milliseconds at the link's rate;
# --congestion sets TCP's congestion control in every endpoint (default: the host's, inherited; a
# namespace may only pick one of net.ipv4.tcp_allowed_congestion_control). down also ends the
# processes still running in the bed's namespaces.
# Needs root (namespaces, raw sockets), iproute2 and ethtool (scripts/setup-debian.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
name=rw
workers=2
delay=25
loss=0
seed=1
down=100
up=10
coord=0
queue=50
congestion=
forwarder=$src/build/ci/bench/wan/raven-wan-forwarder

die() { echo "bed: error: $*" >&2; exit 1; }
state_dir() { echo "/run/raven-wan-$name"; }
ns() { echo "$name-$1"; }
address() {
    case $1 in
        coord) echo 10.77.0.1 ;;
        w[0-9]*) echo "10.77.0.$((10 + ${1#w}))" ;;
        *) die "no address for '$1' (coord or w1..wN)" ;;
    esac
}

down_bed() {
    local dir
    dir=$(state_dir)
    if [ -f "$dir/forwarder.pid" ]; then
        local pid
        pid=$(cat "$dir/forwarder.pid")
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
    # Whatever still runs inside (servers a bench started there) would keep a deleted namespace alive.
    # Deleting a namespace deletes the veths in it, and with them their peers and qdiscs.
    for n in $(ip netns list | awk '{print $1}' | grep -E "^$name-(router|coord|w[0-9]+)$" || true); do
        for pid in $(ip netns pids "$n"); do kill "$pid" 2>/dev/null || true; done
        ip netns del "$n"
    done
    rm -rf "$dir"
}

tbf() {  # NAMESPACE DEVICE MBIT: the device's egress at MBIT, with --queue-ms of buffer
    local mbit=$3 burst
    # Two milliseconds' worth (at least two full frames), so tbf's timer granularity never caps the rate.
    burst=$(awk -v m="$mbit" 'BEGIN { b = m * 1e6 / 8 * 0.002; if (b < 3100) b = 3100; printf "%d", b }')
    ip -n "$1" link set "$2" txqueuelen 10000
    ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "${mbit}mbit" burst "$burst" latency "${queue}ms"
}

link_pair() {  # ROUTER_PORT ENDPOINT: a veth from the router's port to the endpoint's eth0
    local port=$1 endpoint=$2
    ip -n "$(ns router)" link add "$port" type veth peer name eth0 netns "$(ns "$endpoint")"
    # Frames on a wire are at most the MTU and carry their checksums: no segmentation offload, no
    # checksum left for hardware, so the forwarder sees and delays real packets.
    for side in "router $port" "$endpoint eth0"; do
        set -- $side
        ip netns exec "$(ns "$1")" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 ||
            die "ethtool -K $2 failed in $(ns "$1") (is ethtool installed? scripts/setup-debian.sh)"
        ip -n "$(ns "$1")" link set "$2" up
    done
    ip -n "$(ns "$endpoint")" addr add "$(address "$endpoint")/24" dev eth0
}

up_bed() {
    [ "$(id -u)" -eq 0 ] || die "the bed needs root (network namespaces, raw sockets)"
    command -v ethtool >/dev/null || die "ethtool is missing: run scripts/setup-debian.sh"
    [ -x "$forwarder" ] || die "no forwarder at $forwarder: cmake --build build/ci --target raven-wan-forwarder, or pass --forwarder"
    [[ $workers =~ ^[0-9]+$ ]] && [ "$workers" -ge 1 ] && [ "$workers" -le 200 ] || die "--workers must be 1..200"
    down_bed
    trap 'echo "bed: setup failed; tearing down" >&2; down_bed' ERR
    local dir ports=(c) endpoints=(coord)
    dir=$(state_dir)
    mkdir -p "$dir"
    for i in $(seq "$workers"); do ports+=("w$i"); endpoints+=("w$i"); done
    for n in router "${endpoints[@]}"; do
        ip netns add "$(ns "$n")"
        ip -n "$(ns "$n")" link set lo up
        # IPv4 only: no router solicitations or MLD reports in the measurements.
        ip netns exec "$(ns "$n")" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        [ -z "$congestion" ] || ip netns exec "$(ns "$n")" sysctl -qw "net.ipv4.tcp_congestion_control=$congestion"
    done
    for k in "${!ports[@]}"; do link_pair "${ports[$k]}" "${endpoints[$k]}"; done
    for i in $(seq "$workers"); do
        tbf "$(ns router)" "w$i" "$down"
        tbf "$(ns "w$i")" eth0 "$up"
    done
    [ "$coord" = 0 ] || { tbf "$(ns router)" c "$coord"; tbf "$(ns coord)" eth0 "$coord"; }
    local args=()
    for p in "${ports[@]}"; do args+=(--port "$p"); done
    ip netns exec "$(ns router)" setsid "$forwarder" "${args[@]}" --delay-ms "$delay" --loss "$loss" --seed "$seed" \
        >"$dir/forwarder.log" 2>&1 </dev/null &
    echo $! >"$dir/forwarder.pid"
    for _ in $(seq 50); do grep -qs forwarding "$dir/forwarder.log" && break; sleep 0.1; done
    grep -q forwarding "$dir/forwarder.log" || { cat "$dir/forwarder.log" >&2; false; }
    echo "workers=$workers delay_ms=$delay loss=$loss seed=$seed down_mbit=$down up_mbit=$up coord_mbit=$coord queue_ms=$queue" \
        "congestion=$(ip netns exec "$(ns coord)" sysctl -n net.ipv4.tcp_congestion_control)" \
        >"$dir/config"
    trap - ERR
    echo "bed $name up: coordinator $(address coord) in $(ns coord), workers 10.77.0.11..$((10 + workers))" \
        "in $(ns w1)..$(ns "w$workers"); $delay ms each way, loss $loss, down $down / up $up Mbit/s"
}

[ $# -ge 1 ] || { sed -n '2,23p' "$0"; exit 2; }
command=$1
shift
case $command in
    up | down)
        while [ $# -gt 0 ]; do
            case $1 in
                --workers) workers=$2 ;;
                --delay-ms) delay=$2 ;;
                --loss) loss=$2 ;;
                --seed) seed=$2 ;;
                --down-mbit) down=$2 ;;
                --up-mbit) up=$2 ;;
                --coord-mbit) coord=$2 ;;
                --queue-ms) queue=$2 ;;
                --congestion) congestion=$2 ;;
                --forwarder) forwarder=$2 ;;
                --name) name=$2 ;;
                *) die "unknown option $1 (see the header of $0)" ;;
            esac
            shift 2
        done
        if [ "$command" = up ]; then up_bed; else down_bed; fi
        ;;
    exec)
        [ "${1:-}" != --name ] || { name=$2; shift 2; }
        [ $# -ge 2 ] || die "usage: bed.sh exec [--name rw] coord|wI|router COMMAND..."
        target=$1
        shift
        ip netns list | grep -q "^$(ns "$target")\b" || die "no namespace $(ns "$target"): bed.sh up first"
        exec ip netns exec "$(ns "$target")" "$@"
        ;;
    addr) address "${1:?usage: bed.sh addr coord|wI}" ;;
    *) die "unknown command $command (up, down, exec, addr)" ;;
esac
