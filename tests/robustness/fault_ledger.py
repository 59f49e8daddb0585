"""A fault run with a ledger (docs/robustness.md, "Fault runs"): Majordomo requests through
zpat-broker while workers are killed and the broker itself is killed and restarted.

Every request carries its sequence number and every reply names the one it answers, so the
ledger knows exactly which requests were answered, which were answered twice (a retry crossed a
slow reply) and which never were. The client is an MDP/0.1 client from the RFC in pyzmq that
keeps WINDOW requests in flight and resends one unanswered after RETRY_S, as a Majordomo client
does; the workers are `zpat worker --echo` processes. What the run promises:
  - every request answered (lost = sent - answered = 0);
  - after each broker restart, the first reply within 8 s;
  - no reconnection storm: the restarted broker sees about one connection per peer.

    fault_ledger.py ZPAT_BROKER ZPAT [--requests N] [--workers W] [--kill-every S]
                    [--restarts R]

The test suite runs a short version; docs/robustness.md has the command for the long one.
Every wait is bounded; ports are ephemeral loopback ports; only processes started here are
ended, by their PID.
"""
import argparse
import json
import random
import signal
import socket
import subprocess
import sys
import time

import zmq

WINDOW = 50
RETRY_S = 1.5
HEARTBEAT = "250ms"
FIRST_REPLY_S = 8.0

parser = argparse.ArgumentParser()
parser.add_argument("broker")
parser.add_argument("zpat")
parser.add_argument("--requests", type=int, default=20000)
parser.add_argument("--workers", type=int, default=8)
parser.add_argument("--kill-every", type=float, default=0.5, help="seconds between worker kills")
parser.add_argument("--restarts", type=int, default=1, help="broker kills and restarts")
parser.add_argument("--seconds", type=float, default=120, help="give up after this long")
args = parser.parse_args()

started = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVICE_PORT, STATS_PORT = free_port(), free_port()
ENDPOINT = f"tcp://127.0.0.1:{SERVICE_PORT}"


def start(argv):
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    started.append(process)
    return process


def start_broker():
    return start([args.broker, "--no-forwarder", "--no-streamer", "--service-endpoint", ENDPOINT,
                  "--stats-endpoint", f"tcp://127.0.0.1:{STATS_PORT}",
                  "--heartbeat-interval", HEARTBEAT, "--log-level", "warn"])


def start_worker():
    return start([args.zpat, "worker", ENDPOINT, "ledger", "--echo", "-q",
                  "--heartbeat", HEARTBEAT])


def kill(process):
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def stats():
    out = subprocess.run([args.zpat, "stats", f"tcp://127.0.0.1:{STATS_PORT}"],
                         capture_output=True, text=True, timeout=10)
    return json.loads(out.stdout) if out.returncode == 0 else None


def run():
    broker = start_broker()
    workers = [start_worker() for _ in range(args.workers)]
    context = zmq.Context()
    client = context.socket(zmq.DEALER)
    client.setsockopt(zmq.LINGER, 0)
    client.connect(ENDPOINT)

    answered = set()
    duplicates = 0
    sends = 0
    in_flight = {}  # sequence number -> when last sent
    next_seq = 0
    began = time.monotonic()
    deadline = began + args.seconds
    kill_at = began + args.kill_every
    kills = 0
    # The broker is restarted as the answers pass even fractions of the run.
    restart_after = [args.requests * (i + 1) // (args.restarts + 1) for i in range(args.restarts)]
    # Per restart: when, seconds to its first reply, connections opened in its first 8 s.
    restarts = []

    def send(seq):
        nonlocal sends
        client.send_multipart([b"", b"MDPC01", b"ledger", str(seq).encode()])
        in_flight[seq] = time.monotonic()
        sends += 1

    while (len(answered) < args.requests or any(r["opened"] is None for r in restarts)) \
            and time.monotonic() < deadline:
        now = time.monotonic()
        while next_seq < args.requests and len(in_flight) < WINDOW:
            send(next_seq)
            next_seq += 1
        for seq, at in list(in_flight.items()):
            if now - at > RETRY_S:
                send(seq)
        if client.poll(20, zmq.POLLIN):
            while True:
                try:
                    frames = client.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if len(frames) != 4 or frames[:3] != [b"", b"MDPC01", b"ledger"]:
                    raise AssertionError(f"not an MDP reply: {frames!r}")
                seq = int(frames[3])
                sent_at = in_flight.pop(seq, None)
                if seq in answered:
                    duplicates += 1
                    continue
                answered.add(seq)
                # The restarted broker's first answer: to a request sent to it, not one that
                # waited in the client's queue from before.
                if (restarts and restarts[-1]["first"] is None and sent_at is not None
                        and sent_at >= restarts[-1]["at"]):
                    restarts[-1]["first"] = time.monotonic() - restarts[-1]["at"]
        now = time.monotonic()
        if now >= kill_at:
            victim = random.randrange(len(workers))
            kill(workers[victim])
            workers[victim] = start_worker()
            kills += 1
            kill_at = now + args.kill_every * random.uniform(0.5, 1.5)
        if len(restarts) < args.restarts and len(answered) >= restart_after[len(restarts)]:
            kill(broker)
            broker = start_broker()
            restarts.append({"at": time.monotonic(), "first": None, "opened": None})
        for r in restarts:
            if r["opened"] is None and now - r["at"] >= FIRST_REPLY_S:
                snapshot = stats()
                if snapshot:
                    r["opened"] = snapshot["service"]["traffic"]["connections"]["frontend"]["opened"]

    elapsed = time.monotonic() - began
    lost = args.requests - len(answered)
    print(f"fault ledger: {args.requests} requests, {len(answered)} answered, {lost} lost, "
          f"{duplicates} answered twice (retries), {sends} sends, in {elapsed:.1f} s; "
          f"{kills} worker kills (of {args.workers}), {len(restarts)} broker restarts")
    for i, r in enumerate(restarts):
        first = "none" if r["first"] is None else f"{r['first']:.2f} s"
        print(f"  restart {i + 1}: first reply after {first}; connections opened in its "
              f"first {FIRST_REPLY_S:.0f} s: {r['opened']}")
    ok = lost == 0 and len(restarts) == args.restarts
    for r in restarts:
        # One connection per worker started since and the client, and some reconnections: a
        # storm would be many times that.
        ok = ok and r["first"] is not None and r["first"] <= FIRST_REPLY_S
        ok = ok and r["opened"] is not None and r["opened"] <= 3 * (args.workers + kills + 1)
    return ok


try:
    ok = run()
finally:
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
