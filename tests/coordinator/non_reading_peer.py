#!/usr/bin/env python3
"""A peer that asks and never reads: connects over TLS, upgrades to a WebSocket, sends the binary
messages in FRAMES (each: 4-byte big-endian length, then the bytes), then does not read for HOLD
seconds. Afterwards it reads until the connection ends and prints 'closed <bytes read>', or
'open <bytes read>' when the coordinator still had not closed it after DRAIN seconds."""
import base64, os, socket, ssl, struct, sys, time

host, port, frames_path, hold, drain = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
raw = socket.create_connection((host, port))
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # a small window: what we don't read stays with them
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
sock = context.wrap_socket(raw, server_hostname=host)
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall((f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
response = b""
while b"\r\n\r\n" not in response:
    chunk = sock.recv(1)
    if not chunk:
        print("refused-upgrade"); sys.exit(1)
    response += chunk
if b" 101 " not in response.split(b"\r\n")[0]:
    print("refused-upgrade"); sys.exit(1)

def frame(payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x82])  # FIN + binary
    if n < 126: head += bytes([0x80 | n])
    elif n < 65536: head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else: head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

data = open(frames_path, "rb").read()
out, i = bytearray(), 0
while i < len(data):
    (n,) = struct.unpack(">I", data[i:i + 4]); i += 4
    out += frame(data[i:i + n]); i += n
sock.settimeout(hold + drain + 5)
try:
    sock.sendall(bytes(out))
except OSError:
    pass  # closed on us mid-send: that is an answer too
time.sleep(hold)
total, deadline = 0, time.time() + drain
sock.settimeout(0.5)
while time.time() < deadline:
    try:
        chunk = sock.recv(1 << 20)
    except socket.timeout:
        continue
    except (ssl.SSLError, OSError):
        print(f"closed {total}"); sys.exit(0)
    if not chunk:
        print(f"closed {total}"); sys.exit(0)
    total += len(chunk)
print(f"open {total}")
