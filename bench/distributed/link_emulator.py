#!/usr/bin/env python3
"""A TCP relay that behaves like a slow wide-area link: a one-way delay and a bandwidth limit in each
direction. bench/distributed/run.sh uses it where the kernel lacks the netem qdisc (tc netem is the
first choice: it shapes packets in the kernel; this relay shapes the byte stream, which is what TCP
sees at the application anyway, minus the effect of the delay on TCP's own window growth).

  link_emulator.py --listen 127.0.0.1:9443 --target 127.0.0.1:7443 --delay-ms 25 --mbit 100

Each direction: a byte that arrives at time t leaves at max(t + delay, when the link is free), and
the link is busy len(bytes) * 8 / rate seconds per chunk, so throughput is at most `mbit` and the
round trip is 2 * delay plus serialization.
"""
import argparse
import asyncio
import collections
import time


class Pipe:
    def __init__(self, reader, writer, delay, bytes_per_s):
        self.reader, self.writer = reader, writer
        self.delay, self.rate = delay, bytes_per_s
        self.queue = collections.deque()
        self.link_free = 0.0
        self.more = asyncio.Event()

    async def pump_in(self):
        try:
            while True:
                data = await self.reader.read(64 * 1024)
                if not data:
                    break
                now = time.monotonic()
                start = max(now + self.delay, self.link_free)
                self.link_free = start + len(data) / self.rate
                self.queue.append((self.link_free, data))
                self.more.set()
        finally:
            self.queue.append((None, None))
            self.more.set()

    async def pump_out(self):
        while True:
            while not self.queue:
                self.more.clear()
                await self.more.wait()
            due, data = self.queue.popleft()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.writer.write(data)
            await self.writer.drain()
        try:
            self.writer.write_eof()
        except (OSError, RuntimeError):
            pass


async def relay(args, client_reader, client_writer):
    host, port = args.target.rsplit(":", 1)
    try:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
    except OSError:
        client_writer.close()
        return
    rate = args.mbit * 1e6 / 8
    up = Pipe(client_reader, server_writer, args.delay_ms / 1000, rate)
    down = Pipe(server_reader, client_writer, args.delay_ms / 1000, rate)
    try:
        await asyncio.gather(up.pump_in(), up.pump_out(), down.pump_in(), down.pump_out())
    except (ConnectionError, OSError):
        pass
    finally:
        client_writer.close()
        server_writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", required=True, help="host:port to accept on")
    p.add_argument("--target", required=True, help="host:port to forward to")
    p.add_argument("--delay-ms", type=float, default=25.0, help="one-way delay per direction")
    p.add_argument("--mbit", type=float, default=100.0, help="bandwidth per direction, Mbit/s")
    args = p.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = await asyncio.start_server(lambda r, w: relay(args, r, w), host, int(port))
    print(f"link emulator {args.listen} -> {args.target}: {args.delay_ms} ms each way, {args.mbit} Mbit/s", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
