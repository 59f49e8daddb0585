"""The ZeroMQ Guide's request-reply peers, written from the Guide's descriptions in pyzmq,
against zpat-broker's two queues:
  - the request-reply queue (--queue, the Guide's rrbroker): rrclient (REQ) and rrworker (REP);
  - the pirate queue (--pirate, the Guide's ppqueue): lpclient (REQ with Lazy Pirate retries),
    spworker (REQ, READY) and ppworker (DEALER, READY and heartbeats).
Every request is answered, to the client that sent it; a Paranoid Pirate worker that goes silent
is forgotten after its liveness, counted, and the clients carry on.

Run with Debian's system python3 (python3-zmq):
    guide_queues.py PATH_TO_ZPAT_BROKER
Every port is picked by the system; every wait is bounded.
"""
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request

import zmq

BROKER = sys.argv[1]
LIMIT = 20.0
HEARTBEAT = 0.2  # seconds: --pirate-heartbeat-interval
LIVENESS = 3
READY, HEARTBEAT_COMMAND = b"\x01", b"\x02"
context = zmq.Context()


def read_log_until(process, pattern):
    deadline = time.monotonic() + LIMIT
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found.group(1)
    raise AssertionError(f"the broker never logged {pattern!r}: {seen}")


def stats(authority):
    with urllib.request.urlopen(f"http://{authority}/stats", timeout=LIMIT) as r:
        return json.loads(r.read())


def wait_for(condition, what):
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def rrworker(backend, name, stop, served):
    """rrworker: a REP socket connected to the queue's backend; answers each request."""
    socket = context.socket(zmq.REP)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(backend)
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    while not stop.is_set():
        if poller.poll(50):
            request = socket.recv()
            served[name] = served.get(name, 0) + 1
            socket.send(b"World: " + request)
    socket.close()


def rrclient(frontend, name, count, answers):
    """rrclient: a REQ socket connected to the queue's frontend, one request at a time."""
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, int(LIMIT * 1000))
    socket.connect(frontend)
    for i in range(count):
        request = f"Hello {name}-{i}".encode()
        socket.send(request)
        answers.append((request, socket.recv()))
    socket.close()


def request_reply_queue(frontend, backend, authority):
    stop = threading.Event()
    served = {}
    workers = [threading.Thread(target=rrworker, args=(backend, f"w{i}", stop, served))
               for i in range(2)]
    for w in workers:
        w.start()
    try:
        # Both workers connected first, so that the dealer's turns include them both.
        wait_for(lambda: sum(c["side"] == "backend" and c["device"] == "queue"
                             for c in connz(authority)) == 2, "two workers at the queue")
        answers = []
        clients = [threading.Thread(target=rrclient, args=(frontend, f"c{i}", 10, answers))
                   for i in range(3)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(timeout=LIMIT)
        assert len(answers) == 30, answers
        for request, reply in answers:
            assert reply == b"World: " + request, (request, reply)
        assert sorted(served) == ["w0", "w1"] and min(served.values()) >= 10, served
        # The queue counts a reply once it is sent, so the client may read it before then.
        wait_for(lambda: stats(authority)["queue"]["replies"] >= 30, "30 replies counted")
        queue = stats(authority)["queue"]
        assert queue["requests"] == 30 and queue["replies"] == 30, queue
        assert queue["unroutable"] == 0, queue
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=LIMIT)
    print(f"guide_queues.py: rrclient x3 and rrworker x2 through --queue: 30 answers, "
          f"served {served}")


def connz(authority):
    with urllib.request.urlopen(f"http://{authority}/connz", timeout=LIMIT) as r:
        return json.loads(r.read())["connections"]


def spworker(backend, stop, served):
    """spworker: a REQ socket; says READY, then echoes each request behind its envelope."""
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(backend)
    socket.send(READY)
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    while not stop.is_set():
        if poller.poll(50):
            frames = socket.recv_multipart()  # [client, "", request]
            served["simple"] = served.get("simple", 0) + 1
            socket.send_multipart(frames)
    socket.close()


def ppworker(backend, stop, freeze, served, name):
    """ppworker: a DEALER; says READY, heartbeats every interval, echoes requests, and
    reconnects when the queue goes silent for its liveness. While `freeze` is set it neither
    reads nor heartbeats, as a worker stuck in a long computation."""
    def connect():
        s = context.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(backend)
        s.send(READY)
        return s

    socket = connect()
    liveness = LIVENESS
    heartbeat_at = time.monotonic() + HEARTBEAT
    while not stop.is_set():
        if freeze.is_set():
            time.sleep(0.02)
            continue
        if socket.poll(int(HEARTBEAT * 1000)):
            frames = socket.recv_multipart()
            liveness = LIVENESS
            if len(frames) == 3:  # [client, "", request]
                served[name] = served.get(name, 0) + 1
                socket.send_multipart(frames)
            else:
                assert frames == [HEARTBEAT_COMMAND], frames
        else:
            liveness -= 1
            if liveness == 0:  # the queue is gone: start again
                socket.close()
                socket = connect()
                liveness = LIVENESS
        if time.monotonic() > heartbeat_at:
            heartbeat_at = time.monotonic() + HEARTBEAT
            socket.send(HEARTBEAT_COMMAND)
    socket.close()


def lpclient(frontend, count, answers, timeout=1.0, retries=5):
    """lpclient: a REQ socket with the Lazy Pirate pattern: a request not answered within the
    timeout is sent again on a new socket, up to `retries` times."""
    def connect():
        s = context.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(frontend)
        return s

    socket = connect()
    for sequence in range(count):
        request = str(sequence).encode()
        for _ in range(retries):
            socket.send(request)
            if socket.poll(int(timeout * 1000)):
                reply = socket.recv()
                assert reply == request, (request, reply)  # echo, in order
                answers.append(reply)
                break
            socket.close()  # no answer: a worker may have died with it
            socket = connect()
        else:
            raise AssertionError(f"request {sequence} got no reply in {retries} tries")
    socket.close()


def pirate_queue(frontend, backend, authority):
    stop = threading.Event()
    freeze = threading.Event()
    served = {}
    workers = [threading.Thread(target=spworker, args=(backend, stop, served)),
               threading.Thread(target=ppworker, args=(backend, stop, freeze, served, "paranoid"))]
    for w in workers:
        w.start()
    try:
        wait_for(lambda: stats(authority)["pirate"]["workers_ready"] == 2, "two idle workers")
        answers = []
        lpclient(frontend, 20, answers)
        assert len(answers) == 20
        # Least recently used first: the two workers take turns.
        assert served.get("simple", 0) >= 5 and served.get("paranoid", 0) >= 5, served
        wait_for(lambda: stats(authority)["pirate"]["heartbeats_sent"] > 0, "heartbeats")

        # The Paranoid Pirate worker stops answering: forgotten after its liveness, and every
        # request still answered (by the other, retried by the client where one was lost).
        freeze.set()
        wait_for(lambda: stats(authority)["pirate"]["workers_expired"] == 1,
                 "the silent worker forgotten")
        before = served.get("simple", 0)
        lpclient(frontend, 10, answers)
        assert len(answers) == 30 and served["simple"] >= before + 10, served
        wait_for(lambda: stats(authority)["pirate"]["replies"] >= 30, "30 replies counted")
        pirate = stats(authority)["pirate"]
        assert pirate["requests"] >= 30 and pirate["replies"] == 30, pirate
    finally:
        stop.set()
        freeze.clear()
        for w in workers:
            w.join(timeout=LIMIT)
    print(f"guide_queues.py: lpclient through --pirate with spworker and ppworker: 30 answers, "
          f"served {served}; the silent ppworker was forgotten")


def main():
    broker = subprocess.Popen(
        [BROKER, "--http", "127.0.0.1:0", "--stats-endpoint", "", "--no-service",
         "--no-forwarder", "--no-streamer",
         "--queue", "--queue-frontend", "tcp://127.0.0.1:0", "--queue-backend",
         "tcp://127.0.0.1:0",
         "--pirate", "--pirate-frontend", "tcp://127.0.0.1:0", "--pirate-backend",
         "tcp://127.0.0.1:0", "--pirate-heartbeat-interval", f"{int(HEARTBEAT * 1000)}ms",
         "--pirate-heartbeat-liveness", str(LIVENESS)],
        stderr=subprocess.PIPE, text=True)
    try:
        queue_front = read_log_until(broker, r"queue frontend \(clients\) on (tcp://\S+)")
        queue_back = read_log_until(broker, r"queue backend \(workers\) on (tcp://\S+)")
        pirate_front = read_log_until(broker, r"pirate queue frontend \(clients\) on (tcp://\S+)")
        pirate_back = read_log_until(broker, r"pirate queue backend \(workers\) on (tcp://\S+)")
        authority = read_log_until(broker, r"dashboard at http://(\S+)/")
        threading.Thread(target=broker.stderr.read, daemon=True).start()
        request_reply_queue(queue_front, queue_back, authority)
        pirate_queue(pirate_front, pirate_back, authority)
    finally:
        broker.terminate()
        assert broker.wait(timeout=LIMIT) == 0
    context.term()


if __name__ == "__main__":
    main()
