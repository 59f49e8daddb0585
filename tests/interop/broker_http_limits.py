"""zpat-broker's HTTP endpoint against clients that misbehave (half-sent, trickled and endless
requests), and its bearer token.

Run with Debian's system python3: broker_http_limits.py PATH_TO_ZPAT_BROKER
Standard library only; ephemeral loopback ports; every wait bounded.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BROKER = sys.argv[1]
LIMIT = 20.0
failures = []


def case(name):
    def register(fn):
        try:
            fn()
            print(f"ok    {name}")
        except Exception as error:  # report every case, then fail at the end
            failures.append(name)
            print(f"FAIL  {name}: {error!r}")
        return fn
    return register


class Broker:
    def __init__(self, *args):
        self.process = subprocess.Popen(
            [BROKER, "--no-forwarder", "--no-streamer", "--service-endpoint", "tcp://127.0.0.1:*",
             "--stats-endpoint", "", "--http", "127.0.0.1:0", *args],
            stderr=subprocess.PIPE, text=True)
        self.authority = None
        deadline = time.monotonic() + LIMIT
        for line in self.process.stderr:
            match = re.search(r"http://(\S+?)/stats", line)
            if match:
                self.authority = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        assert self.authority, "zpat-broker did not report its HTTP address"
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()

    def get(self, path, token=None, timeout=LIMIT):
        request = urllib.request.Request(f"http://{self.authority}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=LIMIT)


def half_sent(authority, count):
    host, port = authority.rsplit(":", 1)
    held = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=LIMIT)
        s.settimeout(None)  # with a timeout, Python waits out MSG_DONTWAIT's EAGAIN
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        held.append(s)
    return held


def closed(s):
    """True when the broker has closed `s` (EOF or a reset), without waiting; what it answered
    before closing (a 400) is read and dropped."""
    try:
        while s.recv(4096, socket.MSG_DONTWAIT):
            pass
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def connections_cut(broker):
    """The HTTP connections the broker closed past a deadline or the size limit (/varz)."""
    with urllib.request.urlopen(f"http://{broker.authority}/varz", timeout=LIMIT) as response:
        return json.load(response)["http"]["connections_cut"]


def memory_in_use(broker):
    """What the broker holds, as its memory budget reads it: its resident size, or in a
    sanitizer build the sanitizer's count of heap bytes (its shadow memory swells the RSS)."""
    with urllib.request.urlopen(f"http://{broker.authority}/stats", timeout=LIMIT) as response:
        return json.load(response)["memory"]["in_use"]


def read_statuses(s, count):
    """The status codes of `count` answers read from `s`, each with a Content-Length body."""
    data = b""
    statuses = []
    deadline = time.monotonic() + LIMIT
    while len(statuses) < count and time.monotonic() < deadline:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode()
            length = int(re.search(r"(?im)^content-length:\s*(\d+)", head).group(1))
            if len(data) >= head_end + 4 + length:
                statuses.append(int(head.split()[1]))
                data = data[head_end + 4 + length:]
                continue
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return statuses


def wait_closed(s, seconds):
    """True once the broker has closed `s`, waiting up to `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if closed(s):
            return True
        time.sleep(0.01)
    return False


@case("/stats answers at once while 16, then 200, clients hold half-sent requests (200 took "
      "4 s when each connection held a thread)")
def _():
    broker = Broker()
    try:
        # Deadlines with room for a sanitizer build on a loaded machine.
        for count in (16, 200):
            held = half_sent(broker.authority, count)
            started = time.monotonic()
            assert broker.get("/stats") == 200
            took = time.monotonic() - started
            assert took < 2.0, f"{count} half-sent requests held /stats for {took:.1f} s"
            for s in held:
                s.close()
    finally:
        broker.stop()


@case("past 256 open connections the one that has waited longest is closed and counted, and "
      "/stats still answers at once")
def _():
    broker = Broker()
    try:
        held = half_sent(broker.authority, 300)
        started = time.monotonic()
        assert broker.get("/stats") == 200
        took = time.monotonic() - started
        assert took < 2.0, f"300 half-sent requests held /stats for {took:.1f} s"
        assert wait_closed(held[0], 2.0), "the longest waiting connection is still open"
        # Within the 3 s request deadline: the first 44 (and one more for each connection made
        # meanwhile) made room, and the rest wait.
        assert time.monotonic() - started < 2.5, "too slow to tell evictions from deadlines"
        now_closed = [closed(s) for s in held]
        evicted = now_closed.index(False)
        assert evicted >= 300 - 256, evicted
        assert not any(now_closed[evicted:]), "a connection that had waited less was closed"
        assert connections_cut(broker) >= 300 - 256, connections_cut(broker)
        for s in held:
            s.close()
    finally:
        broker.stop()


@case("requests pipelined on a kept-alive connection are answered in order, and the connection "
      "serves again after a pause")
def _():
    broker = Broker()
    try:
        host, port = broker.authority.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=LIMIT)
        ask = "GET {} HTTP/1.1\r\nHost: x\r\n\r\n"
        s.sendall("".join(ask.format(p) for p in ("/healthz", "/nothing", "/healthz")).encode())
        assert read_statuses(s, 3) == [200, 404, 200]
        time.sleep(0.5)  # idle, back with the gate, within its 1 s keep-alive timeout
        s.sendall(ask.format("/stats").encode())
        assert read_statuses(s, 1) == [200]
        s.close()
    finally:
        broker.stop()


@case("a body announced over 64 KiB is refused with 413 before it is sent, and counted")
def _():
    broker = Broker()
    try:
        host, port = broker.authority.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=LIMIT)
        s.sendall(b"POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        assert read_statuses(s, 1) == [413]
        assert wait_closed(s, LIMIT)
        s.close()
        assert connections_cut(broker) == 1, connections_cut(broker)
    finally:
        broker.stop()


@case("clients that trickle a request a byte at a time, each inside the read timeout, are "
      "closed at the 3 s request deadline, and /stats answers at once meanwhile")
def _():
    broker = Broker()
    try:
        host, port = broker.authority.rsplit(":", 1)
        started = time.monotonic()
        open_ones = {}
        for _ in range(16):
            s = socket.create_connection((host, int(port)), timeout=LIMIT)
            s.settimeout(None)  # with a timeout, Python waits out MSG_DONTWAIT's EAGAIN
            s.sendall(b"GET /stats HTTP/1.1\r\nX-Slow: ")
            open_ones[s] = None
        lasted = []
        answered = None
        while open_ones and time.monotonic() - started < 15.0:
            for s in list(open_ones):
                if closed(s):
                    lasted.append(time.monotonic() - started)
                    del open_ones[s]
                    s.close()
                    continue
                try:
                    s.send(b"a")  # one byte every 0.4 s: the 1 s read timeout never fires
                except OSError:
                    pass  # closed: seen on the next round
            if answered is None and time.monotonic() - started > 1.0:
                asked = time.monotonic()
                assert broker.get("/stats", timeout=5.0) == 200
                answered = time.monotonic() - asked
            time.sleep(0.4)
        assert not open_ones, f"{len(open_ones)} of 16 trickling clients still open after 15 s"
        assert min(lasted) >= 2.0, f"a trickling client was closed after {min(lasted):.1f} s"
        assert max(lasted) < 10.0, f"a trickling client was closed after {max(lasted):.1f} s"
        assert answered is not None and answered < 2.0, f"/stats took {answered} s"
        assert connections_cut(broker) == 16, connections_cut(broker)
        with urllib.request.urlopen(f"http://{broker.authority}/metrics", timeout=LIMIT) as r:
            assert "zpat_broker_http_connections_cut_total 16\n" in r.read().decode()
        print(f"      closed after {min(lasted):.1f} to {max(lasted):.1f} s; "
              f"/stats meanwhile in {answered * 1000:.0f} ms")
    finally:
        broker.stop()


@case("128 clients that trickle requests and connect again whenever closed do not delay "
      "/stats (up to 4 s when each connection held a thread)")
def _():
    broker = Broker()
    try:
        host, port = broker.authority.rsplit(":", 1)

        def trickler():
            s = socket.create_connection((host, int(port)), timeout=LIMIT)
            s.settimeout(None)
            s.sendall(b"GET /stats HTTP/1.1\r\nX-Slow: ")
            return s

        clients = [trickler() for _ in range(128)]
        took = []
        started = time.monotonic()
        while time.monotonic() - started < 8.0:  # past two request deadlines
            for i, s in enumerate(clients):
                if closed(s):
                    s.close()
                    clients[i] = trickler()
                else:
                    try:
                        s.send(b"a")
                    except OSError:
                        pass  # closed: replaced on the next round
            asked = time.monotonic()
            assert broker.get("/stats", timeout=LIMIT) == 200
            took.append(time.monotonic() - asked)
            time.sleep(0.4)
        assert max(took) < 2.0, f"/stats took up to {max(took):.1f} s"
        assert connections_cut(broker) >= 128, connections_cut(broker)
        print(f"      {len(took)} scrapes of /stats took {min(took) * 1000:.0f} to "
              f"{max(took) * 1000:.0f} ms")
        for s in clients:
            s.close()
    finally:
        broker.stop()


@case("a request whose header lines never end is closed past 64 KiB, and the broker does "
      "not grow")
def _():
    broker = Broker("--max-memory", "64GiB")  # a budget never reached, for its reading
    try:
        host, port = broker.authority.rsplit(":", 1)
        before = memory_in_use(broker)
        s = socket.create_connection((host, int(port)), timeout=LIMIT)
        line = b"X-Pad: " + b"a" * 1000 + b"\r\n"
        sent = 0
        cap = 64 * 1024 * 1024
        try:
            s.sendall(b"GET /stats HTTP/1.1\r\n")
            while sent < cap:
                s.sendall(line * 64)
                sent += len(line) * 64
        except OSError:
            pass  # the broker closed the connection
        s.close()
        assert sent < cap, f"the broker took {sent >> 20} MiB of headers"
        assert connections_cut(broker) == 1, connections_cut(broker)
        grew = memory_in_use(broker) - before
        assert grew < 16 << 20, f"the broker grew by {grew >> 10} KiB"
        print(f"      closed after {sent >> 10} KiB sent (socket buffers included); "
              f"memory {grew >> 10:+d} KiB")
    finally:
        broker.stop()


@case("--http-token-file: 401 without the token or with a wrong one, 200 with it; / and "
      "/healthz stay open")
def _():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "token")
    token = "s3cret-token-of-24-chars"
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(token + "\n")
    broker = Broker("--http-token-file", path)
    try:
        for page in ("/stats", "/metrics", "/varz"):
            assert broker.get(page) == 401, page
            assert broker.get(page, token="wrong-token-of-24-chars!") == 401, page
            assert broker.get(page, token=token) == 200, page
        assert broker.get("/healthz") == 200
        assert broker.get("/") == 200
    finally:
        broker.stop()
        os.chmod(path, 0o644)
        out = subprocess.run([BROKER, "--http", "127.0.0.1:0", "--http-token-file", path],
                             capture_output=True, text=True, timeout=LIMIT)
        assert out.returncode == 2 and "chmod 600" in out.stderr, out.stderr
        os.chmod(path, 0o600)
        with open(path, "w") as f:
            f.write("short\n")
        out = subprocess.run([BROKER, "--http", "127.0.0.1:0", "--http-token-file", path],
                             capture_output=True, text=True, timeout=LIMIT)
        assert out.returncode == 2 and "at least 16" in out.stderr, out.stderr
        os.remove(path)
        os.rmdir(directory)


if failures:
    print(f"{len(failures)} case(s) failed: {failures}")
    sys.exit(1)
