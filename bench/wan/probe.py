#!/usr/bin/env python3
"""The time to move one block over an established TCP connection after it sat idle: what a worker
sees when its next weights or shards leave the coordinator after a pause (Linux restarts slow start
after an idle period longer than the retransmission timeout, net.ipv4.tcp_slow_start_after_idle).

  probe.py serve --listen 10.77.0.1:5301
  probe.py fetch --connect 10.77.0.1:5301 [--bytes 1048576] [--idle 2] [--repeat 3] [--direction down|up]

fetch connects once, then per repeat: waits --idle seconds, asks for --bytes (down: the server sends
them; up: the client sends them and the server acknowledges), and prints the milliseconds from the
request to the last byte. The first line is a warm-up on a fresh connection (slow start from the
initial window in any case) and is printed as such.
"""
import argparse
import socket
import struct
import sys
import time


def split(address):
    host, port = address.rsplit(":", 1)
    return host, int(port)


def read_exactly(sock, n):
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("peer closed early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve(args):
    server = socket.create_server(split(args.listen), reuse_port=True)
    print(f"probe serving on {args.listen}", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                while True:
                    header = conn.recv(9, socket.MSG_WAITALL)
                    if len(header) < 9:
                        break
                    direction, size = struct.unpack("!cQ", header)
                    if direction == b"d":
                        conn.sendall(bytes(size))
                    else:
                        read_exactly(conn, size)
                        conn.sendall(b"k")
            except ConnectionError:
                pass


def fetch(args):
    sock = socket.create_connection(split(args.connect))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(args.repeat + 1):
        if i:
            time.sleep(args.idle)
        t0 = time.monotonic()
        if args.direction == "down":
            sock.sendall(struct.pack("!cQ", b"d", args.bytes))
            read_exactly(sock, args.bytes)
        else:
            sock.sendall(struct.pack("!cQ", b"u", args.bytes) + bytes(args.bytes))
            read_exactly(sock, 1)
        ms = (time.monotonic() - t0) * 1000
        label = "fresh connection" if i == 0 else f"after {args.idle:g} s idle"
        print(f"{args.direction} {args.bytes} bytes, {label}: {ms:.1f} ms", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("--connect", required=True)
    f.add_argument("--bytes", type=int, default=1 << 20)
    f.add_argument("--idle", type=float, default=2.0)
    f.add_argument("--repeat", type=int, default=3)
    f.add_argument("--direction", choices=["down", "up"], default="down")
    args = p.parse_args()
    serve(args) if args.command == "serve" else fetch(args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
