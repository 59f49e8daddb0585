"""The ZeroMQ Guide's Binary Star pair (chapter 4) against zpat-broker, with peers written from the
Guide's descriptions in pyzmq:
  - bstarcli, the Guide's client: a REQ that waits REQUEST_TIMEOUT for each reply, and on
    silence waits SETTLE_DELAY, reconnects to the other server and sends the request again;
  - two zpat-broker processes as primary and backup (--role, --peer) running the request-reply
    queue, an echo worker (REP) connected to both; the primary killed with SIGKILL mid-run, then
    started again: every request answered once and in order, the restarted primary passive;
  - a Binary Star server in the Guide's bstarsrv shape (its state machine, its one-frame state
    messages, an echoing ROUTER) as the backup of a zpat-broker primary: each hears the other,
    and when the zpat primary is killed the Guide's server takes over.

Run with Debian's system python3 (python3-zmq):
    guide_bstar.py PATH_TO_ZPAT_BROKER
Endpoints are ipc:// in a fresh directory (a restarted broker finds the same ones) and HTTP on a
port the system picks; every wait is bounded.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import zmq

BROKER = sys.argv[1]
LIMIT = 20.0
REQUEST_TIMEOUT = 1.0  # bstarcli's
SETTLE_DELAY = 2.0  # bstarcli's
HEARTBEAT = 1.0  # the pair's, zpat-broker's default and bstarsrv's
context = zmq.Context()

# The Guide's numbers: states, which are also the events a peer's state makes.
PRIMARY, BACKUP, ACTIVE, PASSIVE, CLIENT_REQUEST = 1, 2, 3, 4, 5


def wait_for(condition, what):
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class zpat_broker:
    """zpat-broker with the queue, in a pair: its endpoints are ipc:// files named after it."""

    def __init__(self, directory, name, role, peer_state):
        self.frontend = f"ipc://{directory}/{name}-front"
        self.backend = f"ipc://{directory}/{name}-back"
        self.state_endpoint = f"ipc://{directory}/{name}-state"
        self.args = [BROKER, "--http", "127.0.0.1:0", "--stats-endpoint", "", "--no-service",
                     "--no-forwarder", "--no-streamer", "--queue",
                     "--queue-frontend", self.frontend, "--queue-backend", self.backend,
                     "--role", role, "--peer", peer_state,
                     "--pair-endpoint", self.state_endpoint]
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.args, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + LIMIT
        self.log = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            self.log.append(line)
            found = re.search(r"dashboard at http://(\S+)/", line)
            if found:
                self.authority = found.group(1)
                break
        else:
            raise AssertionError(f"zpat-broker never served HTTP: {self.log}")
        threading.Thread(target=self.keep_log, daemon=True).start()

    def keep_log(self):
        for line in self.process.stderr:
            self.log.append(line)

    def pair(self):
        with urllib.request.urlopen(f"http://{self.authority}/stats", timeout=LIMIT) as r:
            return json.loads(r.read())["pair"]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=LIMIT)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            assert self.process.wait(timeout=LIMIT) == 0


def echo_worker(backends, stop):
    """A REP worker connected to every broker's queue backend: answers with the request."""
    socket = context.socket(zmq.REP)
    socket.setsockopt(zmq.LINGER, 0)
    for endpoint in backends:
        socket.connect(endpoint)
    while not stop.is_set():
        if socket.poll(50):
            socket.send(socket.recv())
    socket.close()


def bstarcli(servers, count, answers, on_sequence=None):
    """The Guide's client. `answers` gets (sequence, server index, time) for each reply; it calls
    on_sequence(n) before sending request n, so the test can act mid-run."""
    server = 0
    client = context.socket(zmq.REQ)
    client.setsockopt(zmq.LINGER, 0)
    client.connect(servers[server])
    for sequence in range(count):
        if on_sequence:
            on_sequence(sequence)
        client.send_string(str(sequence))
        deadline = time.monotonic() + LIMIT
        while True:
            assert time.monotonic() < deadline, f"request {sequence} never answered"
            if client.poll(int(REQUEST_TIMEOUT * 1000)):
                reply = client.recv_string()
                assert int(reply) == sequence, (reply, sequence)
                answers.append((sequence, server, time.monotonic()))
                time.sleep(0.1)  # the Guide's client sleeps a second between requests
                break
            # No reply: the server may be gone. Settle, then try the other one.
            time.sleep(SETTLE_DELAY)
            client.close()
            server = (server + 1) % len(servers)
            client = context.socket(zmq.REQ)
            client.setsockopt(zmq.LINGER, 0)
            client.connect(servers[server])
            client.send_string(str(sequence))
    client.close()


def zpat_pair(directory):
    primary = zpat_broker(directory, "primary", "primary", f"ipc://{directory}/backup-state")
    backup = zpat_broker(directory, "backup", "backup", f"ipc://{directory}/primary-state")
    stop = threading.Event()
    worker = threading.Thread(target=echo_worker, args=([primary.backend, backup.backend], stop))
    worker.start()
    try:
        wait_for(lambda: primary.pair()["state"] == "active", "the primary active")
        wait_for(lambda: backup.pair()["state"] == "passive", "the backup passive")
        answers = []
        killed = []

        def kill_primary(sequence):
            if sequence == 5:
                primary.kill()
                killed.append(time.monotonic())

        bstarcli([primary.frontend, backup.frontend], 10, answers, kill_primary)
        assert [a[0] for a in answers] == list(range(10)), answers
        assert {a[1] for a in answers[:5]} == {0} and {a[1] for a in answers[5:]} == {1}, answers
        failover = answers[5][2] - killed[0]
        b = backup.pair()
        assert b["state"] == "active" and b["became_active"] == 1, b
        assert b["split_brains"] == 0, b

        # The primary comes back: it hears an active backup and stands by.
        primary.start()
        wait_for(lambda: primary.pair()["state"] == "passive", "the restarted primary passive")
        more = []
        bstarcli([backup.frontend, primary.frontend], 3, more)
        assert [a[1] for a in more] == [0, 0, 0], more
        assert backup.pair()["state"] == "active"
    finally:
        stop.set()
        worker.join(timeout=LIMIT)
        primary.stop()
        backup.stop()
    print(f"guide_bstar.py: bstarcli through a zpat pair: 13 requests answered once and in order;"
          f" first reply {failover:.2f} s after the primary was killed (the client's timeout "
          f"{REQUEST_TIMEOUT} s and settle delay {SETTLE_DELAY} s included); the restarted "
          f"primary stood by")


class guide_server:
    """A Binary Star server as the Guide's bstarsrv and bstar reactor: the state machine, its
    state published every heartbeat, and a ROUTER frontend that echoes what it may serve."""

    def __init__(self, primary, frontend, state_endpoint, peer_state):
        self.state = PRIMARY if primary else BACKUP
        self.peer_expiry = time.monotonic() + 2 * HEARTBEAT
        self.frontend = context.socket(zmq.ROUTER)
        self.frontend.bind(frontend)
        self.statepub = context.socket(zmq.PUB)
        self.statepub.bind(state_endpoint)
        self.statesub = context.socket(zmq.SUB)
        self.statesub.setsockopt(zmq.SUBSCRIBE, b"")
        self.statesub.connect(peer_state)
        self.states_seen = []

    def event(self, event):
        """The Guide's rules. Returns whether a client request may be served."""
        now = time.monotonic()
        if self.state == PRIMARY:
            if event == BACKUP:
                self.state = ACTIVE
            elif event == ACTIVE:
                self.state = PASSIVE
            elif event == CLIENT_REQUEST:
                if now < self.peer_expiry:
                    return False
                self.state = ACTIVE
        elif self.state == BACKUP:
            if event == ACTIVE:
                self.state = PASSIVE
            elif event == CLIENT_REQUEST:
                return False
        elif self.state == ACTIVE:
            assert event != ACTIVE, "dual actives"
        elif self.state == PASSIVE:
            if event in (PRIMARY, BACKUP):
                self.state = ACTIVE
            assert event != PASSIVE, "dual passives"
            if event == CLIENT_REQUEST:
                if now < self.peer_expiry:
                    return False
                self.state = ACTIVE
        return True

    def run(self, stop):
        poller = zmq.Poller()
        poller.register(self.frontend, zmq.POLLIN)
        poller.register(self.statesub, zmq.POLLIN)
        send_at = time.monotonic()
        while not stop.is_set():
            if time.monotonic() >= send_at:
                self.statepub.send_string(str(self.state))
                send_at = time.monotonic() + HEARTBEAT
            ready = dict(poller.poll(50))
            if ready.get(self.frontend):
                frames = self.frontend.recv_multipart()
                if self.event(CLIENT_REQUEST):
                    self.frontend.send_multipart(frames)
            if ready.get(self.statesub):
                peer = int(self.statesub.recv())
                self.states_seen.append(peer)
                self.peer_expiry = time.monotonic() + 2 * HEARTBEAT
                self.event(peer)
        for s in (self.frontend, self.statepub, self.statesub):
            s.close(linger=0)


def zpat_with_guide_server(directory):
    guide_front = f"ipc://{directory}/guide-front"
    primary = zpat_broker(directory, "zprimary", "primary", f"ipc://{directory}/guide-state")
    backup = guide_server(False, guide_front, f"ipc://{directory}/guide-state",
                          primary.state_endpoint)
    stop = threading.Event()
    server = threading.Thread(target=backup.run, args=(stop,))
    server.start()
    worker = threading.Thread(target=echo_worker, args=([primary.backend], stop))
    worker.start()
    try:
        wait_for(lambda: primary.pair()["state"] == "active", "the zpat primary active")
        wait_for(lambda: backup.state == PASSIVE, "the Guide's backup passive")
        wait_for(lambda: primary.pair()["peer_state"] == "passive", "the zpat primary to hear it")
        answers = []
        killed = []

        def kill_primary(sequence):
            if sequence == 3:
                primary.kill()
                killed.append(time.monotonic())

        bstarcli([primary.frontend, guide_front], 6, answers, kill_primary)
        assert [a[0] for a in answers] == list(range(6)), answers
        assert [a[1] for a in answers] == [0, 0, 0, 1, 1, 1], answers
        assert backup.state == ACTIVE
        assert set(backup.states_seen) <= {PRIMARY, ACTIVE}, backup.states_seen
    finally:
        stop.set()
        server.join(timeout=LIMIT)
        worker.join(timeout=LIMIT)
        primary.stop()
    print("guide_bstar.py: a Guide-style bstarsrv as the backup of a zpat-broker primary: each "
          "heard the other, and it took over when the primary was killed")


def main():
    with tempfile.TemporaryDirectory(prefix="zpat-bstar-") as directory:
        zpat_pair(directory)
        zpat_with_guide_server(directory)
    context.term()


if __name__ == "__main__":
    main()
