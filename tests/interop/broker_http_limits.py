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
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        held.append(s)
    return held


@case("/stats answers at once while 16 clients hold half-sent requests (was about 20 s), and "
      "within a few seconds while 64 do")
def _():
    broker = Broker()
    try:
        # Deadlines with room for a sanitizer build on a loaded machine; the old server took
        # about 20 s for 16.
        for count, within in ((16, 2.0), (64, 8.0)):
            held = half_sent(broker.authority, count)
            started = time.monotonic()
            assert broker.get("/stats") == 200
            took = time.monotonic() - started
            assert took < within, f"{count} half-sent requests held /stats for {took:.1f} s"
            for s in held:
                s.close()
    finally:
        broker.stop()


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
