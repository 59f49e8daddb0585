"""What 50 unauthenticated TCP peers do to an authenticated client of a CURVE endpoint.

A CURVE request-reply server with an allow-list runs; a pyzmq REQ with an allowed key makes 1,000
request-replies alone (the baseline), then while 50 plain TCP sockets connect to the same port:
half of them idle, half sending garbage and connecting again as soon as they are closed (a storm
of a few thousand connections a second, each one accepted, read and refused by the server).

Two servers take turns, in the same run and under the same attack:
  - zpat: `zpat rep --echo` with --curve-secret and --curve-allow;
  - libzmq: a bare pyzmq REP with the same keys and pyzmq's own ZAP authenticator, what a user
    would otherwise write.
Each attacked run is made twice: with the attackers at the client's priority, and at nice 19.
Real attackers run on other hosts; on a small test machine they share its cores with the client
and the server, and nice 19 keeps their own CPU (not the server's work for their connections) out
of the figure. The script prints the attack's rate in both cases, so that a weaker attack cannot
pass for a stronger server.

A measurement for the notes, not a test: run it with Debian's python3,
  python3 curve_under_attack.py PATH_TO_ZPAT [ROUNDS]
Loopback only, every loop bounded in count and time.
"""
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import zmq
import zmq.auth
import zmq.auth.thread

CALLS = 1000
HOSTILE = 50
LIMIT = 60.0


def keys(directory, name):
    public, secret = zmq.auth.create_certificates(directory, name)
    os.chmod(secret, 0o600)
    return public, secret


def listening_port(process):
    """The port `process` listens on, read from the kernel's table (its logs are quiet)."""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if f"pid={process.pid}," in line:
                return int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        time.sleep(0.05)
    raise RuntimeError("the server did not listen")


def start_server(kind, zpat, server_secret, allowed):
    if kind == "zpat":
        command = [zpat, "rep", "@tcp://127.0.0.1:*", "--echo", "-q", "--curve-secret",
                   server_secret, "--curve-allow", allowed]
    else:
        command = [sys.executable, __file__, "--libzmq-server", server_secret, allowed]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    return process, listening_port(process)


def libzmq_server(server_secret, allowed):
    """A bare pyzmq CURVE REP echo with pyzmq's ZAP authenticator: the comparison."""
    context = zmq.Context()
    authenticator = zmq.auth.thread.ThreadAuthenticator(context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=allowed)
    rep = context.socket(zmq.REP)
    rep.curve_publickey, rep.curve_secretkey = zmq.auth.load_certificate(server_secret)
    rep.curve_server = True
    rep.setsockopt(zmq.RCVTIMEO, int(LIMIT * 1000))
    rep.bind("tcp://127.0.0.1:*")
    while True:
        rep.send(rep.recv())  # ends by SIGTERM, or by the timeout's exception


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


def attack(port):
    """Half idle, half sending garbage and connecting again whenever closed, until SIGTERM.

    Prints how many connections it made and over how long, when it ends."""
    stop = threading.Event()
    connections = [0]
    lock = threading.Lock()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(HOSTILE // 2)]

    def garbage():
        deadline = time.monotonic() + LIMIT
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    with lock:
                        connections[0] += 1
                    while not stop.is_set():
                        s.sendall(os.urandom(256))
                        ready, _, _ = select.select([s], [], [], 0.01)
                        if ready and not s.recv(4096):
                            break  # closed by the server: connect again
            except OSError:
                time.sleep(0.01)

    threads = [threading.Thread(target=garbage) for _ in range(HOSTILE - HOSTILE // 2)]
    started = time.monotonic()
    for t in threads:
        t.start()
    ended = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: ended.set())
    ended.wait(LIMIT)
    stop.set()
    elapsed = time.monotonic() - started
    for t in threads:
        t.join(timeout=5)
    for s in idle:
        s.close()
    print(connections[0], elapsed, flush=True)


def attacked_latencies(port, client_secret, server_public, niceness):
    attackers = subprocess.Popen(
        ["nice", "-n", str(niceness), sys.executable, __file__, "--attack", str(port)],
        stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    times = latencies(port, client_secret, server_public)
    attackers.terminate()
    made, elapsed = attackers.communicate(timeout=LIMIT)[0].split()
    return times, int(made) / float(elapsed)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1)))]


def measure(kind, zpat, rounds, directory):
    allowed = os.path.join(directory, "allowed")
    server, port = start_server(kind, zpat, os.path.join(directory, "server.key_secret"), allowed)
    client = os.path.join(directory, "client.key_secret")
    server_public = os.path.join(directory, "server.key")
    rows = []
    try:
        for _ in range(rounds):
            alone = latencies(port, client, server_public)
            row = [percentile(alone, 0.5), percentile(alone, 0.99)]
            for niceness in (0, 19):
                times, rate = attacked_latencies(port, client, server_public, niceness)
                row += [percentile(times, 0.5), percentile(times, 0.99), rate]
            rows.append(row)
    finally:
        server.terminate()
        server.wait(timeout=LIMIT)
    return rows


def report(kind, rows):
    print(f"{kind}: {CALLS} CURVE request-replies alone, then beside {HOSTILE} unauthenticated "
          f"TCP peers (half idle, half sending garbage and reconnecting):")
    for p50, p99, *attacked in rows:
        line = f"  alone p50 {p50:5.1f} p99 {p99:5.1f} us"
        for label, (a50, a99, rate) in zip(("attacked", "attackers at nice 19"),
                                           (attacked[:3], attacked[3:])):
            line += (f" | {label} p50 {a50:5.1f} p99 {a99:5.1f} us ({a99 / p99:.2f}x, "
                     f"{rate:4.0f} conn/s)")
        print(line)
    for label, at in (("at the client's priority", 2), ("at nice 19", 5)):
        p50 = statistics.median(r[at] / r[0] for r in rows)
        p99 = statistics.median(r[at + 1] / r[1] for r in rows)
        print(f"  attackers {label}: median ratios p50 {p50:.2f}, p99 {p99:.2f}")


def main():
    zpat = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    directory = tempfile.mkdtemp(prefix="zpat-attack-")
    allowed = os.path.join(directory, "allowed")
    os.mkdir(allowed)
    keys(directory, "server")
    keys(allowed, "client")
    os.rename(os.path.join(allowed, "client.key_secret"),
              os.path.join(directory, "client.key_secret"))
    results = {kind: [] for kind in ("zpat", "libzmq")}
    for _ in range(rounds):  # the servers take turns, so that drift hits both alike
        for kind in results:
            results[kind] += measure(kind, zpat, 1, directory)
    for kind, rows in results.items():
        report(kind, rows)


if __name__ == "__main__":
    if sys.argv[1] == "--attack":
        attack(int(sys.argv[2]))
    elif sys.argv[1] == "--libzmq-server":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        libzmq_server(sys.argv[2], sys.argv[3])
    else:
        main()
