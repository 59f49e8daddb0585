"""zpat-broker's HTTP endpoint against clients that misbehave, and its bearer token.

Run with Debian's system python3: broker_http_limits.py PATH_TO_ZPAT_BROKER
Standard library only; ephemeral loopback ports; every wait bounded.
"""
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
