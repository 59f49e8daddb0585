"""What 50 unauthenticated TCP peers do to an authenticated client of a CURVE endpoint.

A zpat rep runs as a CURVE server with an allow-list; a pyzmq REQ with an allowed key makes 1,000
request-replies, alone (the baseline), then while 50 plain TCP sockets connect to the same port:
half of them idle, half sending garbage and reconnecting when closed. The script prints the p50
and p99 of both runs and their ratios. A measurement for the notes, not a test: run it with
Debian's python3, python3 curve_under_attack.py PATH_TO_ZPAT [ROUNDS]. Loopback only, every loop
bounded in count and time.
"""
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import zmq
import zmq.auth

ZPAT = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] != "--attack" else 3
CALLS = 1000
HOSTILE = 50
LIMIT = 60.0


def keys(directory, name):
    public, secret = zmq.auth.create_certificates(directory, name)
    os.chmod(secret, 0o600)
    return public, secret


def start_server(server_secret, allowed):
    process = subprocess.Popen(
        [ZPAT, "rep", "@tcp://127.0.0.1:*", "--echo", "-q", "--curve-secret", server_secret,
         "--curve-allow", allowed],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # -q hides the bound line: find the port from /proc instead of the log.
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if f"pid={process.pid}," in line:
                return process, int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        time.sleep(0.05)
    raise RuntimeError("the server did not listen")


def latencies(port, client_secret, server_public):
    context = zmq.Context.instance()
    req = context.socket(zmq.REQ)
    public, secret = zmq.auth.load_certificate(client_secret)
    req.curve_publickey, req.curve_secretkey = public, secret
    req.curve_serverkey, _ = zmq.auth.load_certificate(server_public)
    req.setsockopt(zmq.RCVTIMEO, 5000)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(f"tcp://127.0.0.1:{port}")
    req.send(b"warm-up")
    req.recv()
    times = []
    for i in range(CALLS):
        started = time.perf_counter()
        req.send(b"%d" % i)
        req.recv()
        times.append((time.perf_counter() - started) * 1e6)
    req.close()
    return times


def hostile_peers(port, stop):
    """Half idle, half sending garbage and reconnecting whenever closed, until `stop`."""
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(HOSTILE // 2)]

    def garbage():
        deadline = time.monotonic() + LIMIT
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    while not stop.is_set():
                        s.sendall(os.urandom(256))
                        ready, _, _ = select.select([s], [], [], 0.01)
                        if ready and not s.recv(4096):
                            break  # closed by the server: connect again
            except OSError:
                time.sleep(0.01)

    threads = [threading.Thread(target=garbage) for _ in range(HOSTILE - HOSTILE // 2)]
    for t in threads:
        t.start()
    return idle, threads


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1)))]


def main():
    directory = tempfile.mkdtemp(prefix="zpat-attack-")
    allowed = os.path.join(directory, "allowed")
    os.mkdir(allowed)
    server_public, server_secret = keys(directory, "server")
    _, client_secret = keys(allowed, "client")
    os.rename(client_secret, os.path.join(directory, "client.key_secret"))
    client_secret = os.path.join(directory, "client.key_secret")
    server, port = start_server(server_secret, allowed)
    rows = []
    try:
        for _ in range(ROUNDS):
            alone = latencies(port, client_secret, server_public)
            # The attackers in a process of their own, so that they do not share the client's GIL.
            attackers = subprocess.Popen([sys.executable, __file__, "--attack", str(port)])
            time.sleep(0.5)
            attacked = latencies(port, client_secret, server_public)
            attackers.terminate()
            attackers.wait(timeout=LIMIT)
            rows.append((percentile(alone, 0.5), percentile(alone, 0.99),
                         percentile(attacked, 0.5), percentile(attacked, 0.99)))
    finally:
        server.terminate()
        server.wait(timeout=LIMIT)
    print(f"{CALLS} CURVE request-replies, alone and beside {HOSTILE} unauthenticated TCP peers "
          f"(half idle, half sending garbage), {ROUNDS} rounds:")
    for a50, a99, h50, h99 in rows:
        print(f"  alone p50 {a50:7.1f} us p99 {a99:7.1f} us | attacked p50 {h50:7.1f} us "
              f"p99 {h99:7.1f} us | p99 ratio {h99 / a99:.2f}")
    print(f"median p99 ratio {statistics.median(r[3] / r[1] for r in rows):.2f}, "
          f"median p50 ratio {statistics.median(r[2] / r[0] for r in rows):.2f}")


def attack(port):
    stop = threading.Event()
    idle, threads = hostile_peers(port, stop)
    try:
        time.sleep(LIMIT)  # until terminated, or LIMIT at most
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        for s in idle:
            s.close()


if sys.argv[1] == "--attack":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    attack(int(sys.argv[2]))
else:
    main()
