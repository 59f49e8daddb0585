"""zpat-broker beside nats-server: one publisher -> the broker process -> one subscriber.

Three middles take turns, each started afresh for a round, with the same ends:
  - nats-server (Debian's package), the NATS text protocol: PUB in, MSG out;
  - zpat-broker's forwarder on raw+tcp, the raw wire format (docs/wire-format.md);
  - the plain relay (`zpat bench-proxy --kind relay`): the least any relay of the raw wire does,
    the limit `zpat bench broker-pubsub` measures against.
The ends are this script's: the publisher writes pre-encoded batches of about 64 KiB, the
subscriber counts bytes (every message of a round has the same size on the wire), so the ends
cost little next to the middle. A round times from the first message sent to the last received,
and reads the middle's CPU from the kernel's per-thread scheduler statistics (nanoseconds).
Lossless: nats-server cuts a subscriber that falls too far behind; a round that loses anything
says so and does not count.

A measurement for the notes, not a test, and nats-server is no dependency of zpat's:
  apt-get install nats-server
  python3 bench/nats_beside.py BUILD_DIR [ROUNDS]
BUILD_DIR holds tools/zpat/zpat and broker/zpat-broker (e.g. build/dev). Loopback only, every
loop bounded in count and time.
"""
import glob
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

LIMIT = 30.0  # seconds any one wait may take
BATCH = 64 * 1024
SIZES = ((16, 2_000_000), (1024, 300_000))  # payload bytes, messages a round
TOPIC = b"t"


def middle_cpu(pid):
    total = 0
    for stat in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(stat) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass  # a thread that ended between the glob and the read
    return total / 1e9


def start(argv, *patterns):
    """Starts argv; returns the process and the first match of each pattern in its output, in
    order."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + LIMIT
    seen = []
    found = []
    while time.monotonic() < deadline and len(found) < len(patterns):
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(patterns[len(found)], line)
        if match:
            found.append(match.group(1))
    if len(found) < len(patterns):
        process.kill()
        raise RuntimeError(f"{argv[0]} did not say where it listens: {''.join(seen[-5:])}")
    # The rest of its output is read and dropped, so that it never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    return process, found


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def connect(endpoint):
    host, port = endpoint.rsplit("//", 1)[-1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=LIMIT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_until(s, token):
    data = b""
    while token not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("the middle closed the connection")
        data += chunk
    return data


# ---- the two protocols: connecting ends, and one message as its bytes on each side ----------

class nats:
    name = "nats-server"

    @staticmethod
    def middle(build):
        process, (endpoint,) = start(["nats-server", "-a", "127.0.0.1", "-p", "-1"],
                                     r"Listening for client connections on (\S+)")
        return process, endpoint

    @staticmethod
    def ends(endpoint):
        sub = connect(endpoint)
        recv_until(sub, b"\r\n")  # INFO
        sub.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB t 1\r\nPING\r\n')
        recv_until(sub, b"PONG\r\n")  # the subscription is in place
        pub = connect(endpoint)
        recv_until(pub, b"\r\n")
        pub.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        return pub, sub

    @staticmethod
    def sent(payload):
        return b"PUB t %d\r\n" % len(payload) + payload + b"\r\n"

    @staticmethod
    def received(payload):
        return b"MSG t 1 %d\r\n" % len(payload) + payload + b"\r\n"


def raw_message(payload):
    return struct.pack(">II", 2, len(TOPIC)) + TOPIC + struct.pack(">I", len(payload)) + payload


def drain(s):
    """Reads and drops what comes on `s` until it closes (or is closed here)."""
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass


class raw_wire:
    @staticmethod
    def ends(endpoints):
        front, back = endpoints
        pub = connect(front)
        pub.sendall(b"ZPAT\x01p\x00\x00")
        sub = connect(back)
        sub.sendall(b"ZPAT\x01s\x00\x00")
        sub.sendall(struct.pack(">II", 1, 1) + b"\x01")  # everything
        for s in (pub, sub):
            greeting = b""
            while len(greeting) < 8:
                chunk = s.recv(8 - len(greeting))
                if not chunk:
                    raise ConnectionError("the middle closed the connection")
                greeting += chunk
        # The publisher's side sends subscriptions, which nobody needs here: read and dropped.
        threading.Thread(target=drain, args=(pub,), daemon=True).start()
        return pub, sub

    sent = staticmethod(raw_message)
    received = staticmethod(raw_message)


class zpat_broker(raw_wire):
    name = "zpat-broker"

    @staticmethod
    def middle(build):
        return start(
            [os.path.join(build, "broker", "zpat-broker"), "--no-service", "--no-streamer",
             "--forwarder-frontend", "raw+tcp://127.0.0.1:0", "--forwarder-backend",
             "raw+tcp://127.0.0.1:0", "--lossless", "--stats-endpoint", "", "--log-level", "info"],
            r"forwarder frontend \(publishers\) on (\S+)",
            r"forwarder backend \(subscribers\) on (\S+)")


class plain_relay(raw_wire):
    name = "plain relay"

    @staticmethod
    def middle(build):
        return start([os.path.join(build, "tools", "zpat", "zpat"), "bench-proxy", "--kind",
                      "relay"], r"^frontend (\S+)", r"^backend (\S+)")


# ---- one round ---------------------------------------------------------------------------------

def round_of(kind, build, size, count):
    """(messages a second, the middle's CPU microseconds a message), or None when some were lost."""
    process, endpoint = kind.middle(build)
    pub = sub = None
    try:
        pub, sub = kind.ends(endpoint)
        payload = b"x" * size
        one = kind.sent(payload)
        each = len(kind.received(payload))
        # Probes, one at a time, until one arrives: the whole path is up.
        got = 0
        sub.settimeout(0.02)
        deadline = time.monotonic() + LIMIT
        while got == 0 and time.monotonic() < deadline:
            pub.sendall(one)
            try:
                got += len(sub.recv(65536))
            except socket.timeout:
                pass
        sub.settimeout(0.2)
        try:  # what other probes bring
            while True:
                chunk = sub.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        except socket.timeout:
            pass
        if got == 0 or got % each != 0:
            raise RuntimeError(f"{kind.name}: the probes did not arrive whole")
        sub.settimeout(2.0)
        per_batch = max(1, BATCH // len(one))
        batch = one * per_batch
        expected = count * each
        received = [0]
        finished = [0.0]

        def read():
            buffer = bytearray(1 << 18)
            view = memoryview(buffer)
            try:
                while received[0] < expected:
                    n = sub.recv_into(view)
                    if n == 0:
                        break
                    received[0] += n
            except (socket.timeout, OSError):
                pass
            finished[0] = time.monotonic()

        reader = threading.Thread(target=read)
        cpu_before = middle_cpu(process.pid)
        began = time.monotonic()
        reader.start()
        for _ in range(count // per_batch):
            pub.sendall(batch)
        pub.sendall(one * (count % per_batch))
        reader.join(LIMIT)
        cpu = middle_cpu(process.pid) - cpu_before
        if received[0] != expected:
            print(f"  {kind.name}: {received[0] // each} of {count} arrived; round not counted",
                  flush=True)
            return None
        seconds = finished[0] - began
        return count / seconds, cpu * 1e6 / count
    finally:
        for s in (pub, sub):
            if s is not None:
                s.close()
        stop(process)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    if shutil.which("nats-server") is None:
        sys.exit("nats-server is not installed: apt-get install nats-server")
    version = subprocess.run(["nats-server", "--version"], capture_output=True,
                             text=True).stdout.strip()
    kinds = [nats, zpat_broker, plain_relay]
    for size, count in SIZES:
        results = {k.name: [] for k in kinds}
        for r in range(rounds):
            for i in range(len(kinds)):
                kind = kinds[(i + r) % len(kinds)]
                outcome = round_of(kind, build, size, count)
                if outcome:
                    results[kind.name].append(outcome)
        print(f"{size}-byte messages, {count} a round, median of {rounds} interleaved rounds "
              f"({version}):")
        medians = {}
        for name, rows in results.items():
            if not rows:
                print(f"  {name:12} no round delivered everything")
                continue
            rate = statistics.median(r[0] for r in rows)
            cpu = statistics.median(r[1] for r in rows)
            medians[name] = rate
            spread = f"{min(r[0] for r in rows) / 1e6:.2f}-{max(r[0] for r in rows) / 1e6:.2f} M"
            print(f"  {name:12} {rate / 1e6:7.2f} M msgs/s (rounds {spread}), "
                  f"middle CPU {cpu:.3f} us/msg, {len(rows)} rounds whole")
        if "zpat-broker" in medians and "nats-server" in medians:
            print(f"  zpat-broker / nats-server: {medians['zpat-broker'] / medians['nats-server']:.2f}x")
        if "zpat-broker" in medians and "plain relay" in medians:
            print(f"  zpat-broker / plain relay: {medians['zpat-broker'] / medians['plain relay']:.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
