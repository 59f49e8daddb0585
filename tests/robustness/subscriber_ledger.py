"""A fault run with a ledger for subscribers (docs/robustness.md, "Fault runs"): two producers
publish numbered messages through zpat-broker's forwarder to subscribers that keep up, one that
reads slowly and one that is stopped (SIGSTOP) for the whole run and resumed at its end.

Every message carries its producer and sequence number, so each subscriber's ledger knows
exactly what it missed. What the run promises, per backend of the forwarder:
  - subscribers that keep up receive every message, in order, none twice;
  - no subscriber receives a message twice or out of its producer's order;
  - on raw+tcp, which counts what it drops per subscriber, the messages the slow and stopped
    subscribers missed equal the broker's dropped_full exactly (libzmq drops without telling,
    so on ZeroMQ backends the misses are reported, not matched);
  - the broker's memory stays bounded by the high-water marks while the stopped subscriber
    holds its messages: the run sends several times the bound, and the peak growth (as the
    broker reads it: resident size, or the sanitizer's heap count) must stay under it.

    subscriber_ledger.py ZPAT_BROKER [--backends raw+tcp,tcp] [--messages N] [--rate R]
                         [--size BYTES] [--high-water-mark HWM]

The test suite runs a short version; docs/robustness.md has the command for a long one. Every
wait is bounded; ports are ephemeral loopback ports; only processes started here are ended, by
their PID.
"""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

import zmq

import rawwire
from run_support import Processes, Stats, free_port, read_line

IDLE_S = 1.0  # a finishing subscriber stops after this long without a message


def subscriber(endpoint, pace_s):
    """Child mode: subscribes to "probe" and "ledger", says "ready" at its first probe, keeps a
    ledger per producer and prints it as JSON once told "finish" and idle for IDLE_S."""
    ledger = {}  # producer -> [received, next expected, missed, duplicates or out of order]
    ready = False

    def take(frames):
        nonlocal ready
        if frames[0] == b"probe":
            if not ready:
                ready = True
                print("ready", flush=True)
            return
        producer, seq = frames[1].split()
        entry = ledger.setdefault(producer.decode(), [0, 0, 0, 0])
        seq = int(seq)
        if seq < entry[1]:
            entry[3] += 1
            return
        entry[0] += 1
        entry[2] += seq - entry[1]
        entry[1] = seq + 1

    if endpoint.startswith("raw+tcp://"):
        sock = rawwire.connect_subscriber(endpoint, (b"probe", b"ledger"))
        reader = rawwire.Reader(sock)

        def receive():
            messages = reader.read()
            for frames in messages:
                take(frames)
                if pace_s:
                    time.sleep(pace_s)
            return len(messages)

        def wait(timeout_s):
            return select.select([sock, sys.stdin], [], [], timeout_s)[0]

    else:
        context = zmq.Context()
        sock = context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SUBSCRIBE, b"probe")
        sock.setsockopt(zmq.SUBSCRIBE, b"ledger")
        sock.connect(endpoint)
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(sys.stdin, zmq.POLLIN)

        def receive():
            taken = 0
            while taken < 1000:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                take(frames)
                taken += 1
                if pace_s:
                    time.sleep(pace_s)
            return taken

        def wait(timeout_s):
            return [s for s, _ in poller.poll(timeout_s * 1000)]


    finishing = False
    last = time.monotonic()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        ready_now = wait(0.1)
        if sys.stdin in ready_now or sys.stdin.fileno() in ready_now:
            if sys.stdin.readline().strip() == "finish":
                finishing = True
                pace_s = 0  # slow while messages came; what is queued now is read at once
                last = time.monotonic()
        if sock in ready_now and receive():
            last = time.monotonic()
        if finishing and time.monotonic() - last >= IDLE_S:
            break
    print(json.dumps({p: {"received": e[0], "next": e[1], "missed": e[2], "repeated": e[3]}
                      for p, e in ledger.items()}), flush=True)


if len(sys.argv) > 1 and sys.argv[1] == "--subscriber":
    subscriber(sys.argv[2], float(sys.argv[3]))
    sys.exit(0)

parser = argparse.ArgumentParser()
parser.add_argument("broker")
parser.add_argument("--backends", default="raw+tcp,tcp")
parser.add_argument("--messages", type=int, default=17000, help="per producer")
parser.add_argument("--rate", type=float, default=5000, help="messages a second, all producers")
parser.add_argument("--size", type=int, default=4096, help="payload bytes")
parser.add_argument("--high-water-mark", type=int, default=1000)
parser.add_argument("--healthy", type=int, default=2, help="subscribers that keep up")
parser.add_argument("--slow-pace", type=float, help="seconds per message read by the slow "
                    "subscriber (default: five times the time between two messages)")
args = parser.parse_args()

PRODUCERS = 2
processes = Processes()
start = processes.start


def memory_bound(subscribers):
    """What the high-water marks let the broker hold: per peer a queue and as much again in
    transit, plus 16 MiB for the allocator's own and everything else."""
    peers = subscribers + PRODUCERS
    return peers * 2 * args.high_water_mark * (args.size + 64) + 16 * 2**20


def run(scheme):
    frontend = f"tcp://127.0.0.1:{free_port()}"
    backend = f"{scheme}://127.0.0.1:{free_port()}"
    stats_endpoint = f"tcp://127.0.0.1:{free_port()}"
    # A budget far above the run's needs: it only makes the broker report what it holds.
    broker = start([args.broker, "--no-service", "--no-streamer",
                    "--forwarder-frontend", frontend, "--forwarder-backend", backend,
                    "--stats-endpoint", stats_endpoint, "--max-memory", "64GiB",
                    "--high-water-mark", str(args.high_water_mark), "--log-level", "warn"])
    context = zmq.Context()
    producers = []
    for _ in range(PRODUCERS):
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)  # whatever is lost, the broker lost
        pub.setsockopt(zmq.LINGER, 0)
        pub.connect(frontend)
        producers.append(pub)

    # The broker binds every endpoint before it answers its stats endpoint.
    counters = Stats(context, stats_endpoint)
    if counters.read() is None:
        raise AssertionError("the broker did not answer on its stats endpoint within 5 s")

    kinds = ["healthy"] * args.healthy + ["slow", "stopped"]
    subscribers = []
    for kind in kinds:
        pace = (args.slow_pace or 5 / args.rate) if kind == "slow" else 0
        subscribers.append(start([sys.executable, __file__, "--subscriber", backend, str(pace)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))

    # Probes until every subscriber has one: the broker's subscription upstream and each
    # subscriber's are then in place, and nothing of the ledger is published before them.
    waiting = set(range(len(subscribers)))
    deadline = time.monotonic() + 20
    while waiting and time.monotonic() < deadline:
        for pub in producers:
            pub.send_multipart([b"probe", b""])
        for i in list(waiting):
            if read_line(subscribers[i], 0.02) == "ready":
                waiting.discard(i)
    if waiting:
        raise AssertionError(f"subscribers {sorted(waiting)} never received a probe")
    stopped = subscribers[kinds.index("stopped")]
    os.kill(stopped.pid, signal.SIGSTOP)

    time.sleep(0.2)  # the last probes pass before the baseline is read
    before = counters.read()
    baseline = peak = before["memory"]["in_use"]
    payload = b"x" * args.size
    total = args.messages * PRODUCERS
    began = time.monotonic()
    next_sample = began
    for n in range(total):
        producer, seq = n % PRODUCERS, n // PRODUCERS
        producers[producer].send_multipart([b"ledger", f"p{producer} {seq}".encode(), payload])
        due = began + (n + 1) / args.rate
        now = time.monotonic()
        if now >= next_sample:
            sample = counters.read()
            if sample:
                peak = max(peak, sample["memory"]["in_use"])
            next_sample = time.monotonic() + 0.5
        if due > now:
            time.sleep(due - now)
    published_s = time.monotonic() - began
    sample = counters.read()
    if sample:
        peak = max(peak, sample["memory"]["in_use"])

    os.kill(stopped.pid, signal.SIGCONT)
    for process in subscribers:
        process.stdin.write("finish\n")
        process.stdin.flush()
    ledgers = []
    for kind, process in zip(kinds, subscribers):
        line = read_line(process, 120)
        if line is None:
            raise AssertionError(f"the {kind} subscriber did not report its ledger in 120 s")
        ledgers.append(json.loads(line))
    after = counters.read()
    counters.close()
    for pub in producers:
        pub.close()
    context.term()
    os.kill(broker.pid, signal.SIGTERM)
    broker.wait(timeout=20)

    dropped = after["forwarder"]["traffic"]["dropped_full"] - before["forwarder"]["traffic"]["dropped_full"]
    # What the high-water marks allow the broker to hold: a queue per subscriber, and as much
    # again in transit, plus the frontend's; twice that is the bound.
    bound = memory_bound(len(subscribers))
    ok = True
    print(f"{scheme} backend: {total} messages from {PRODUCERS} producers, {args.size} B, in "
          f"{published_s:.1f} s; high-water mark {args.high_water_mark}")
    missed_total = 0
    for kind, ledger in zip(kinds, ledgers):
        received = sum(ledger.get(f"p{p}", {}).get("received", 0) for p in range(PRODUCERS))
        repeated = sum(e["repeated"] for e in ledger.values())
        missed = total - received
        missed_total += missed
        print(f"  {kind:8} received {received}, missed {missed}, twice or out of order {repeated}")
        ok = ok and repeated == 0
        if kind == "healthy":
            ok = ok and missed == 0
        if kind == "stopped":
            ok = ok and missed > 0  # else the run never filled its queue and proves nothing
    if scheme == "raw+tcp":
        print(f"  missed by all subscribers {missed_total}; the broker's dropped_full {dropped}")
        ok = ok and missed_total == dropped
    else:
        print(f"  missed by all subscribers {missed_total} (libzmq drops without counting; "
              f"dropped_full {dropped})")
    growth = peak - baseline
    print(f"  broker memory {baseline / 2**20:.1f} MiB before, peak {peak / 2**20:.1f} MiB "
          f"(+{growth / 2**20:.1f} MiB; bound {bound / 2**20:.1f} MiB, "
          f"sent {total * args.size / 2**20:.0f} MiB)")
    ok = ok and growth <= bound
    return ok


if args.messages * PRODUCERS * args.size < 2 * memory_bound(args.healthy + 2):
    sys.exit("subscriber_ledger: the run sends less than twice the memory bound, so it could not "
             "tell a bounded broker from one that keeps everything; send more or lower the "
             "high-water mark")
ok = True
try:
    for scheme in args.backends.split(","):
        ok = run(scheme) and ok
finally:
    processes.end_all()
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
