"""CURVE between zpat (the zpat tool, zpat-broker) and pyzmq peers, both ways, for each pattern
and for Majordomo; keys made by each side's tools used by the other; and the clients a CURVE
server must keep out (unknown key, NULL, PLAIN, ZMTP 1.0 and 2.0 greetings, garbage).

Run with Debian's system python3 (python3-zmq, built with libsodium):
    python_curve.py PATH_TO_ZPAT PATH_TO_ZPAT_BROKER
Each case binds ephemeral loopback ports and bounds every wait.
"""
import os
import re
import shutil
import select
import socket as net
import subprocess
import sys
import tempfile
import threading
import time

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

ZPAT, BROKER = sys.argv[1], sys.argv[2]
LIMIT = 10.0
context = zmq.Context()
failures = []
workdir = tempfile.mkdtemp(prefix="zpat-curve-")


def start(program, *args):
    return subprocess.Popen([program, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


class Log:
    """Reads a process's stderr on a thread, keeping every line."""

    def __init__(self, process):
        self.lines, self.process = [], process
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, pattern):
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in {self.lines!r}")

    def text(self):
        return "".join(self.lines)


def finish(process):
    try:
        out = process.stdout.read()
        process.wait(timeout=LIMIT)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, out


def certificates(name):
    """pyzmq's certificates in a directory of their own: (public, secret) paths, secret 0600."""
    directory = tempfile.mkdtemp(dir=workdir)
    public, secret = zmq.auth.create_certificates(directory, name)
    os.chmod(secret, 0o600)
    return public, secret


def zpat_keygen(name):
    directory = tempfile.mkdtemp(dir=workdir)
    base = os.path.join(directory, name)
    out = subprocess.run([ZPAT, "keygen", base], capture_output=True, text=True, timeout=LIMIT)
    assert out.returncode == 0, out.stderr
    return base, base + "_secret"


def curve_client(kind, secret_file, server_public_file):
    s = context.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, int(LIMIT * 1000))
    public, secret = zmq.auth.load_certificate(secret_file)
    server_public, _ = zmq.auth.load_certificate(server_public_file)
    s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server_public
    return s


def curve_server(kind, secret_file):
    s = context.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, int(LIMIT * 1000))
    public, secret = zmq.auth.load_certificate(secret_file)
    s.curve_publickey, s.curve_secretkey, s.curve_server = public, secret, True
    return s


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


server_public, server_secret = certificates("server")
client_public, client_secret = certificates("client")
stranger_public, stranger_secret = certificates("stranger")
allowed = os.path.dirname(client_public)


@case("zpat refuses a pyzmq secret certificate that others may read, naming the fix")
def _():
    loose_public, loose_secret = certificates("loose")
    os.chmod(loose_secret, 0o644)  # as pyzmq leaves it under the usual umask
    out = subprocess.run([ZPAT, "rep", "@tcp://127.0.0.1:*", "--echo", "--curve-secret",
                          loose_secret, "--curve-allow", allowed], capture_output=True, text=True,
                         timeout=LIMIT)
    assert out.returncode == 2 and "chmod 600" in out.stderr, (out.returncode, out.stderr)


@case("pyzmq REQ with CURVE calls zpat rep holding pyzmq's certificates")
def _():
    rep = start(ZPAT, "rep", "@tcp://127.0.0.1:*", "--echo", "-n", "1", "--curve-secret",
                server_secret, "--curve-allow", allowed)
    log = Log(rep)
    req = curve_client(zmq.REQ, client_secret, server_public)
    req.connect(log.wait_for(r"bound (\S+)").group(1))
    req.send(b"sealed")
    assert req.recv() == b"sealed"
    code, out = finish(rep)
    assert code == 0 and out.strip() == "sealed", (code, out)


@case("zpat keygen's certificates work in pyzmq: zpat req calls a pyzmq REP behind zmq.auth")
def _():
    # pyzmq's zmq.auth reads the files ending in .key from an allow directory.
    zpat_public, zpat_secret = zpat_keygen("zclient.key")
    public, secret = zmq.auth.load_certificate(zpat_secret)
    assert public and secret, "pyzmq read no keys from zpat's certificate"
    auth = ThreadAuthenticator(context)
    auth.start()
    try:
        auth.configure_curve(domain="*", location=os.path.dirname(zpat_public))
        rep = curve_server(zmq.REP, server_secret)
        port = rep.bind_to_random_port("tcp://127.0.0.1")
        req = start(ZPAT, "req", f"tcp://127.0.0.1:{port}", "ping", "--curve-secret", zpat_secret,
                    "--curve-server", server_public)
        assert rep.recv() == b"ping"
        rep.send(b"pong")
        code, out = finish(req)
        assert code == 0 and out.strip() == "pong", (code, out)
        rep.close()
    finally:
        auth.stop()


@case("pyzmq PUSH with CURVE feeds zpat pull; zpat push with CURVE feeds a pyzmq PULL")
def _():
    pull = start(ZPAT, "pull", "@tcp://127.0.0.1:*", "-n", "3", "--curve-secret", server_secret,
                 "--curve-allow", allowed)
    log = Log(pull)
    push = curve_client(zmq.PUSH, client_secret, server_public)
    push.connect(log.wait_for(r"bound (\S+)").group(1))
    for word in (b"a", b"b", b"c"):
        push.send(word)
    code, out = finish(pull)
    assert code == 0 and out.split() == ["a", "b", "c"], (code, out)

    sink = curve_server(zmq.PULL, server_secret)
    port = sink.bind_to_random_port("tcp://127.0.0.1")
    # A pyzmq CURVE server with no ZAP handler lets any client key in (libzmq's default).
    pusher = start(ZPAT, "push", f"tcp://127.0.0.1:{port}", "job", "-n", "2", "--curve-secret",
                   client_secret, "--curve-server", server_public)
    assert [sink.recv(), sink.recv()] == [b"job", b"job"]
    code, _ = finish(pusher)
    assert code == 0
    sink.close()


@case("pyzmq SUB with CURVE hears zpat pub; zpat sub with CURVE hears a pyzmq PUB")
def _():
    pub = start(ZPAT, "pub", "@tcp://127.0.0.1:*", "weather.nyc", "21C", "-n", "2",
                "--curve-secret", server_secret, "--curve-allow", allowed)
    log = Log(pub)
    sub = curve_client(zmq.SUB, client_secret, server_public)
    sub.setsockopt(zmq.SUBSCRIBE, b"weather.")
    sub.connect(log.wait_for(r"bound (\S+)").group(1))
    assert sub.recv_multipart() == [b"weather.nyc", b"21C"]
    code, _ = finish(pub)
    assert code == 0

    publisher = curve_server(zmq.PUB, server_secret)
    port = publisher.bind_to_random_port("tcp://127.0.0.1")
    subscriber = start(ZPAT, "sub", f"tcp://127.0.0.1:{port}", "t", "-n", "1", "--curve-secret",
                       client_secret, "--curve-server", server_public)
    deadline = time.monotonic() + LIMIT
    while subscriber.poll() is None and time.monotonic() < deadline:
        publisher.send_multipart([b"t", b"news"])  # until the subscription has arrived
        time.sleep(0.05)
    code, out = finish(subscriber)
    assert code == 0 and "news" in out, (code, out)
    publisher.close()


def raw_peer(port, greeting):
    """A plain TCP peer that sends `greeting` and reads whatever comes back for a moment."""
    s = net.create_connection(("127.0.0.1", port), timeout=LIMIT)
    s.sendall(greeting)
    ready, _, _ = select.select([s], [], [], 0.3)
    if ready:
        try:
            s.recv(4096)
        except OSError:
            pass
    return s


@case("zpat rep with CURVE lets in only the allowed key: an unknown key, NULL, PLAIN, ZMTP 1.0 "
      "and 2.0 greetings and garbage reach nothing, and the stranger is logged without its key")
def _():
    rep = start(ZPAT, "rep", "@tcp://127.0.0.1:*", "--echo", "-n", "1", "--curve-secret",
                server_secret, "--curve-allow", allowed)
    log = Log(rep)
    endpoint = log.wait_for(r"bound (\S+)").group(1)
    port = int(endpoint.rsplit(":", 1)[1])
    hostile = []
    stranger = curve_client(zmq.REQ, stranger_secret, server_public)
    null = context.socket(zmq.REQ)
    plain = context.socket(zmq.REQ)
    plain.plain_username, plain.plain_password = b"admin", b"secret"
    for s in (stranger, null, plain):
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        s.send(b"forged")
    hostile.append(raw_peer(port, b"\x01\x00"))  # ZMTP 1.0: an empty identity
    hostile.append(raw_peer(port, b"\xff" + b"\x00" * 7 + b"\x01\x7f\x01\x03"))  # ZMTP 2.0 REQ
    hostile.append(raw_peer(port, os.urandom(64)))
    for s in (stranger, null, plain):
        assert s.poll(300, zmq.POLLIN) == 0, "a refused client got a reply"
    honest = curve_client(zmq.REQ, client_secret, server_public)
    honest.connect(endpoint)
    honest.send(b"honest")
    assert honest.recv() == b"honest"
    code, out = finish(rep)
    assert code == 0 and out.split() == ["honest"], (code, out)  # nothing forged reached it
    text = log.text()
    assert "refused a CURVE client from 127.0.0.1: its key is not on the allow-list" in text, text
    stranger_key, _ = zmq.auth.load_certificate(stranger_public)
    assert stranger_key.decode() not in text, "a client key was logged"
    for s in hostile:
        s.close()
    for s in (stranger, null, plain, honest):
        s.close()


def broker_endpoints(log):
    service = log.wait_for(r"MDP/0.1\) on (\S+)").group(1)
    log.wait_for(r"stats on (\S+)")
    return service


@case("Majordomo through zpat-broker with CURVE: a pyzmq client and a zpat worker with allowed "
      "keys are served; a pyzmq worker with a stranger's key never gets a request")
def _():
    broker = start(BROKER, "--no-forwarder", "--no-streamer", "--service-endpoint",
                   "tcp://127.0.0.1:*", "--stats-endpoint", "tcp://127.0.0.1:*",
                   "--curve-secret", server_secret, "--curve-allow", allowed)
    log = Log(broker)
    try:
        service = broker_endpoints(log)
        forger = curve_client(zmq.DEALER, stranger_secret, server_public)
        forger.connect(service)
        forger.send_multipart([b"", b"MDPW01", b"\x01", b"echo"])
        worker = start(ZPAT, "worker", service, "echo", "--echo", "--curve-secret", client_secret,
                       "--curve-server", server_public)
        client = curve_client(zmq.REQ, client_secret, server_public)
        client.connect(service)
        for i in range(10):
            client.send_multipart([b"MDPC01", b"echo", str(i).encode()])
            assert client.recv_multipart() == [b"MDPC01", b"echo", str(i).encode()]
        assert forger.poll(200, zmq.POLLIN) == 0, "the forged worker was sent something"
        worker.terminate()
        finish(worker)
        forger.close()
        client.close()
    finally:
        broker.terminate()
        broker.wait(timeout=LIMIT)


@case("zpat-broker --allow-worker: a worker whose key CURVE lets in but may not serve 'echo' "
      "is told DISCONNECT, and zpat stats over CURVE counts it")
def _():
    both = tempfile.mkdtemp(dir=workdir)
    for public in (client_public, stranger_public):
        shutil.copy(public, both)
    broker = start(BROKER, "--no-forwarder", "--no-streamer", "--service-endpoint",
                   "tcp://127.0.0.1:*", "--stats-endpoint", "tcp://127.0.0.1:*",
                   "--curve-secret", server_secret, "--curve-allow", both,
                   "--allow-worker", f"echo={client_public}")
    log = Log(broker)
    try:
        service = broker_endpoints(log)
        stats_endpoint = log.wait_for(r"stats on (\S+)").group(1)
        forger = curve_client(zmq.DEALER, stranger_secret, server_public)
        forger.connect(service)
        forger.send_multipart([b"", b"MDPW01", b"\x01", b"echo"])
        assert forger.recv_multipart() == [b"", b"MDPW01", b"\x05"], "no DISCONNECT"
        out = subprocess.run([ZPAT, "stats", stats_endpoint, "--curve-secret", client_secret,
                              "--curve-server", server_public], capture_output=True, text=True,
                             timeout=LIMIT)
        assert out.returncode == 0, out.stderr
        assert '"workers_refused":1' in out.stdout.replace(" ", ""), out.stdout
        assert "its key may not serve that service" in log.text()
        forger.close()
    finally:
        broker.terminate()
        broker.wait(timeout=LIMIT)


shutil.rmtree(workdir, ignore_errors=True)
if failures:
    print(f"{len(failures)} case(s) failed: {failures}")
    sys.exit(1)
