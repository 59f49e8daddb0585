"""A soak (docs/robustness.md, "Soak"): zpat-broker holding about 1,000 connections under mixed
load for a while, with a ledger on every pattern and the broker's memory watched.

The connections, for --connections 1000: 8 Majordomo workers (`zpat worker --echo`) and 300
Majordomo clients, one of which is closed and replaced every 0.2 s; 50 pushers and 50 pullers
through the streamer; 2 ZeroMQ publishers and 590 raw+tcp subscribers through the forwarder,
each subscriber on one of 50 topics and on one topic every subscriber shares. What it promises:
  - every Majordomo request answered once and every pipeline message delivered once: 0 lost and
    0 duplicated on the reliable patterns;
  - every subscriber gets each message of its topics in order and once, and whatever one missed
    the broker counted (missed = dropped_full, exactly);
  - the broker's memory (resident size, or the sanitizer's heap count, as --max-memory reads
    it) grows by at most --max-growth (5%) from the end of the warm-up to the end of the run.

    soak.py ZPAT_BROKER ZPAT [--seconds S] [--warm-up W] [--connections N] [--rate-scale F]

The test suite runs a short version; docs/robustness.md has the command for 30 minutes. The load
is driven by three processes (one per pattern, this script in child mode); every wait is
bounded, ports are ephemeral loopback ports, and only processes started here are ended, by their
PID.
"""
import argparse
import json
import resource
import selectors
import subprocess
import sys
import time

import zmq

import rawwire
from run_support import Processes, Stats, free_port, read_line

DRAIN_S = 15.0  # after the load, how long the parts wait for what is still on its way
TOPICS = 50
HEARTBEAT = "1s"


def topic_name(i):
    """Topic i of TOPICS; the slash keeps one from being a prefix of another."""
    return f"t{i % TOPICS}/".encode()


def raise_descriptor_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def paced(rate, began):
    """How many sends are due by now at `rate` a second since `began`."""
    return int((time.monotonic() - began) * rate)


def handshake():
    """Child side of the start: says "ready", then waits for "go SECONDS" on stdin."""
    print("ready", flush=True)
    word, seconds = sys.stdin.readline().split()
    assert word == "go", word
    return float(seconds)


def part_majordomo(cfg):
    """Clients with one request in flight each, sent at cfg["rate"] a second in all; one idle
    client is closed and replaced every cfg["churn"] seconds."""
    context = zmq.Context()
    poller = zmq.Poller()

    def new_client():
        client = context.socket(zmq.DEALER)
        client.setsockopt(zmq.LINGER, 0)
        client.connect(cfg["endpoint"])
        poller.register(client, zmq.POLLIN)
        return client

    clients = [new_client() for _ in range(cfg["clients"])]
    owner = {}  # socket -> index
    for i, c in enumerate(clients):
        owner[c] = i
    outstanding = {}  # client index -> sequence number
    idle = list(range(len(clients)))
    sent = answered = duplicates = strays = churned = 0
    body = b"m" * cfg["size"]

    def take(client):
        nonlocal answered, duplicates, strays
        while True:
            try:
                frames = client.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            i = owner[client]
            seq = int(frames[3]) if len(frames) == 5 else -1
            if frames[:3] != [b"", b"MDPC01", b"soak"] or outstanding.get(i) != seq:
                # a reply to nothing this client asked, or to something already answered
                if seq >= 0 and outstanding.get(i) is None:
                    duplicates += 1
                else:
                    strays += 1
                continue
            del outstanding[i]
            idle.append(i)
            answered += 1

    seconds = handshake()
    began = time.monotonic()
    next_churn = began + cfg["churn"]
    while time.monotonic() - began < seconds:
        while sent < paced(cfg["rate"], began) and idle:
            i = idle.pop(0)
            clients[i].send_multipart([b"", b"MDPC01", b"soak", str(sent).encode(), body])
            outstanding[i] = sent
            sent += 1
        for client, _ in poller.poll(5):
            take(client)
        # No replacement in the last second: each one's connection must reach the broker,
        # and be counted there, before the part reports.
        if time.monotonic() >= next_churn and idle and time.monotonic() - began < seconds - 1:
            i = idle.pop(0)
            poller.unregister(clients[i])
            del owner[clients[i]]
            clients[i].close()
            clients[i] = new_client()
            owner[clients[i]] = i
            idle.append(i)
            churned += 1
            next_churn += cfg["churn"]
    deadline = time.monotonic() + DRAIN_S
    while outstanding and time.monotonic() < deadline:
        for client, _ in poller.poll(50):
            take(client)
    print(json.dumps({"sent": sent, "answered": answered, "lost": sent - answered,
                      "duplicates": duplicates, "strays": strays, "churned": churned}),
          flush=True)


def part_pipeline(cfg):
    """Pushers send numbered messages round-robin at cfg["rate"] a second in all; pullers mark
    each (pusher, number) seen, so a message delivered twice or never is found."""
    context = zmq.Context()
    pushers, pullers = [], []
    poller = zmq.Poller()
    for _ in range(cfg["pushers"]):
        s = context.socket(zmq.PUSH)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(cfg["frontend"])
        pushers.append(s)
    for _ in range(cfg["pullers"]):
        s = context.socket(zmq.PULL)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(cfg["backend"])
        poller.register(s, zmq.POLLIN)
        pullers.append(s)
    next_seq = [0] * len(pushers)
    seen = [bytearray() for _ in pushers]
    received = duplicates = refused = 0
    body = b"p" * cfg["size"]

    def take(puller):
        nonlocal received, duplicates
        while True:
            try:
                frames = puller.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            pusher, seq = (int(x) for x in frames[0].split())
            marks = seen[pusher]
            if seq >= len(marks):
                marks.extend(bytes(seq + 1 - len(marks) + 4096))
            if marks[seq]:
                duplicates += 1
            else:
                marks[seq] = 1
                received += 1

    seconds = handshake()
    began = time.monotonic()
    sent = 0
    while time.monotonic() - began < seconds:
        while sent < paced(cfg["rate"], began):
            k = sent % len(pushers)
            try:
                pushers[k].send_multipart([f"{k} {next_seq[k]}".encode(), body], zmq.NOBLOCK)
            except zmq.Again:
                refused += 1  # not sent: the pusher's queue is full; tried again later
                break
            next_seq[k] += 1
            sent += 1
        for puller, _ in poller.poll(5):
            take(puller)
    deadline = time.monotonic() + DRAIN_S
    while received + duplicates < sent and time.monotonic() < deadline:
        for puller, _ in poller.poll(50):
            take(puller)
    print(json.dumps({"sent": sent, "received": received, "lost": sent - received,
                      "duplicates": duplicates, "refused_by_full_queue": refused}), flush=True)


def part_pubsub(cfg):
    """Two publishers send, round-robin over TOPICS topics, at cfg["rate"] a second, and once a
    second on "all"; each raw+tcp subscriber takes one topic and "all" and keeps a ledger per
    (producer, topic)."""
    context = zmq.Context()
    publishers = []
    for _ in range(2):
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)  # whatever is lost, the broker lost
        pub.setsockopt(zmq.LINGER, 0)
        pub.connect(cfg["frontend"])
        publishers.append(pub)
    selector = selectors.DefaultSelector()
    ledgers = []  # per subscriber: (producer, topic) -> [next expected, received, repeated]
    probed = set()
    for i in range(cfg["subscribers"]):
        topic = topic_name(i)
        sock = rawwire.connect_subscriber(cfg["backend"], (b"probe", b"all", topic))
        selector.register(sock, selectors.EVENT_READ, (i, rawwire.Reader(sock)))
        ledgers.append({})

    def take(i, frames):
        if frames[0] == b"probe":
            probed.add(i)
            return
        key = (frames[1].split()[0], frames[0])
        seq = int(frames[1].split()[1])
        entry = ledgers[i].setdefault(key, [0, 0, 0])
        if seq < entry[0]:
            entry[2] += 1
            return
        entry[1] += 1
        entry[0] = seq + 1

    def read(timeout_s):
        for key, _ in selector.select(timeout_s):
            i, reader = key.data
            for frames in reader.read():
                take(i, frames)

    # Probes until every subscriber has one, so each sees its topics from their first message.
    deadline = time.monotonic() + 30
    while len(probed) < cfg["subscribers"] and time.monotonic() < deadline:
        publishers[0].send_multipart([b"probe", b""])
        read(0.05)
    if len(probed) < cfg["subscribers"]:
        raise AssertionError(f"{cfg['subscribers'] - len(probed)} subscribers never got a probe")
    time.sleep(0.5)
    read(0)

    seconds = handshake()
    began = time.monotonic()
    published = {}  # (producer, topic) -> messages
    body = b"s" * cfg["size"]
    n = alls = 0
    while time.monotonic() - began < seconds:
        while n < paced(cfg["rate"], began):
            k = n % 2
            topic = topic_name(n // 2)
            key = (f"p{k}".encode(), topic)
            seq = published.get(key, 0)
            publishers[k].send_multipart([topic, f"p{k} {seq}".encode(), body])
            published[key] = seq + 1
            n += 1
        while alls < paced(1, began):
            for k in range(2):
                key = (f"p{k}".encode(), b"all")
                seq = published.get(key, 0)
                publishers[k].send_multipart([b"all", f"p{k} {seq}".encode(), body])
                published[key] = seq + 1
            alls += 1
        read(0.005)
    expected = sum(published[(f"p{k}".encode(), b"all")] for k in range(2)) * cfg["subscribers"]
    for i in range(cfg["subscribers"]):
        topic = topic_name(i)
        expected += sum(published.get((f"p{k}".encode(), topic), 0) for k in range(2))
    deadline = time.monotonic() + DRAIN_S
    received = 0
    while received < expected and time.monotonic() < deadline:
        read(0.05)
        received = sum(e[1] for ledger in ledgers for e in ledger.values())
    print(json.dumps({
        "published": n + 2 * alls, "expected": expected, "received": received,
        "missed": expected - received,
        "repeated": sum(e[2] for ledger in ledgers for e in ledger.values())}), flush=True)


def child():
    raise_descriptor_limit()
    cfg = json.loads(sys.argv[3])
    {"majordomo": part_majordomo, "pipeline": part_pipeline, "pubsub": part_pubsub}[sys.argv[2]](cfg)


if len(sys.argv) > 1 and sys.argv[1] == "--part":
    child()
    sys.exit(0)

parser = argparse.ArgumentParser()
parser.add_argument("broker")
parser.add_argument("zpat")
parser.add_argument("--seconds", type=float, default=30, help="how long the load runs")
parser.add_argument("--warm-up", type=float, default=10,
                    help="seconds of load before the memory baseline is taken")
parser.add_argument("--connections", type=int, default=1000)
parser.add_argument("--rate-scale", type=float, default=1.0,
                    help="multiplies every rate (lower under the sanitizers)")
parser.add_argument("--max-growth", type=float,
                    help="largest memory growth allowed after the warm-up, as a fraction (for a "
                    "long run: a short one ends before libzmq's per-connection queues and the "
                    "allocator have reached their steady size)")
parser.add_argument("--max-per-connection", type=int, default=128 * 1024,
                    help="most memory the broker may hold per connection, in bytes, with 16 MiB "
                    "more for everything else")
args = parser.parse_args()
if args.seconds <= args.warm_up + 5:
    sys.exit("soak: --seconds must exceed --warm-up by more than 5 s")

WORKERS, PUBLISHERS = 8, 2
clients = args.connections * 3 // 10
pushers = pullers = args.connections // 20
subscribers = args.connections - WORKERS - PUBLISHERS - clients - pushers - pullers
if subscribers < TOPICS:
    sys.exit(f"soak: --connections {args.connections} leaves too few subscribers")

processes = Processes()


def port():
    return f"tcp://127.0.0.1:{free_port()}"


def run():
    raise_descriptor_limit()
    service, stats_endpoint = port(), port()
    streamer_front, streamer_back, forwarder_front = port(), port(), port()
    forwarder_back = f"raw+tcp://127.0.0.1:{free_port()}"
    # The budget is far above the run's needs: it makes the broker report what it holds.
    broker = processes.start([
        args.broker, "--service-endpoint", service, "--stats-endpoint", stats_endpoint,
        "--streamer-frontend", streamer_front, "--streamer-backend", streamer_back,
        "--forwarder-frontend", forwarder_front, "--forwarder-backend", forwarder_back,
        "--heartbeat-interval", HEARTBEAT, "--max-memory", "64GiB", "--log-level", "warn"])
    context = zmq.Context()
    counters = Stats(context, stats_endpoint)
    if counters.read() is None:
        raise AssertionError("the broker did not answer on its stats endpoint within 5 s")
    for _ in range(WORKERS):
        processes.start([args.zpat, "worker", service, "soak", "--echo", "-q",
                         "--heartbeat", HEARTBEAT], stdout=subprocess.DEVNULL)
    scale = args.rate_scale
    parts = {
        "majordomo": {"endpoint": service, "clients": clients, "rate": 500 * scale,
                      "size": 256, "churn": 0.2},
        "pipeline": {"frontend": streamer_front, "backend": streamer_back, "pushers": pushers,
                     "pullers": pullers, "rate": 1000 * scale, "size": 512},
        "pubsub": {"frontend": forwarder_front, "backend": forwarder_back,
                   "subscribers": subscribers, "rate": 500 * scale, "size": 128},
    }
    children = {name: processes.start([sys.executable, __file__, "--part", name, json.dumps(cfg)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for name, cfg in parts.items()}
    for name, process in children.items():
        if read_line(process, 60) != "ready":
            raise AssertionError(f"the {name} part did not get ready in 60 s")
    before = counters.read()
    for process in children.values():
        process.stdin.write(f"go {args.seconds}\n")
        process.stdin.flush()
    began = time.monotonic()
    samples = []  # (seconds into the load, bytes)
    while time.monotonic() - began < args.seconds:
        time.sleep(1)
        sample = counters.read()
        if sample:
            samples.append((time.monotonic() - began, sample["memory"]["in_use"]))
    results = {}
    for name, process in children.items():
        line = read_line(process, DRAIN_S + 30)
        if line is None:
            raise AssertionError(f"the {name} part did not report in time")
        results[name] = json.loads(line)
    after = counters.read()
    counters.close()
    opened = sum(c["opened"] for d in ("service", "streamer", "forwarder")
                 for c in after[d]["traffic"]["connections"].values())
    context.term()

    # The baseline is the largest sample of the 10 s after the warm-up, the end the largest of
    # the last 10 s: single samples move with the allocator's moment-to-moment state.
    base = max(b for t, b in samples if args.warm_up <= t < args.warm_up + 10)
    end = max(b for t, b in samples if t >= args.seconds - 10)
    growth = (end - base) / base
    m, p, s = results["majordomo"], results["pipeline"], results["pubsub"]
    dropped = after["forwarder"]["traffic"]["dropped_full"] - before["forwarder"]["traffic"]["dropped_full"]
    peak = max(b for _, b in samples)
    cap = args.connections * args.max_per_connection + 16 * 2**20
    print(f"soak: {args.seconds:.0f} s, {args.connections} connections "
          f"({clients} Majordomo clients, {WORKERS} workers, {pushers} pushers, {pullers} pullers, "
          f"{PUBLISHERS} publishers, {subscribers} raw+tcp subscribers); {opened} opened in all")
    print(f"  majordomo: {m['sent']} requests, {m['answered']} answered, {m['lost']} lost, "
          f"{m['duplicates']} twice, {m['strays']} stray; {m['churned']} clients replaced")
    print(f"  pipeline:  {p['sent']} messages, {p['received']} received, {p['lost']} lost, "
          f"{p['duplicates']} twice")
    print(f"  pubsub:    {s['published']} published, {s['expected']} deliveries expected, "
          f"{s['received']} received, {s['missed']} missed, {s['repeated']} twice or out of "
          f"order; the broker's dropped_full {dropped}")
    limit = "not checked" if args.max_growth is None else f"at most {100 * args.max_growth:.0f}%"
    print(f"  broker memory after the warm-up {base / 2**20:.1f} MiB, at the end "
          f"{end / 2**20:.1f} MiB: growth {100 * growth:+.1f}% ({limit}); peak "
          f"{peak / 2**20:.1f} MiB (at most {cap / 2**20:.0f} MiB)")
    tenth = max(1, len(samples) // 10)
    print("  broker memory through the run (MiB): " +
          " ".join(f"{b / 2**20:.1f}" for _, b in samples[::tenth]))
    checks = {
        "every connection and replacement opened": opened >= args.connections + m["churned"],
        "Majordomo: all answered, once": m["sent"] > 0 and m["lost"] == 0 and
        m["duplicates"] == 0 and m["strays"] == 0,
        "pipeline: all received, once": p["sent"] > 0 and p["lost"] == 0 and p["duplicates"] == 0,
        "pub-sub: misses are the broker's drops, nothing twice": s["received"] > 0 and
        s["repeated"] == 0 and s["missed"] == dropped,
        "memory within its cap": peak <= cap,
        "memory growth within its bound": args.max_growth is None or growth <= args.max_growth,
        "the broker still runs": broker.poll() is None,
    }
    for what, passed in checks.items():
        if not passed:
            print(f"  failed: {what}")
    if broker.poll() is not None:
        print(f"  the broker exited with {broker.returncode}")
    return all(checks.values())


try:
    ok = run()
finally:
    processes.end_all()
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
