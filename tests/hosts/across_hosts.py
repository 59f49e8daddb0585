"""A zpat-broker Binary Star pair across hosts: each host a network namespace this test creates
(veth pairs into a bridge in a namespace of its own), faults made with nftables drop rules (a
silent partition: no RST, no ICMP) and by killing processes. Every namespace and process is the
test's own and is removed at the end, whatever happens.

  1. The primary killed under a steady load of Majordomo requests with client retries: every
     request answered, none twice to the client; the time from the kill to the next reply.
  2. The primary cut off from the clients but not from the backup: never two actives (the
     backup, hearing its peer, refuses the requests); served again once healed.
  3. The primary cut off from the backup but not from the clients: never two actives (no client
     request reaches the backup); every request served.
  4. A worker host cut off: the brokers forget its worker within three heartbeats, and its
     requests are retried to the other worker.
  5. The two config files of docs/scaling.md, and its commands, make a working pair.
  6. A tree of forwarders on three hosts (ZeroMQ, then raw+tcp between the last two): a
     subscriber on a fourth host gets what a publisher on the first published, the middle
     forwarder is killed and restarted, and the subscriber resumes, counting what it lost by the
     sequence numbers in the payloads.
  7. Pub-sub through the pair: forwarders with a last-value cache on both brokers, a publisher
     reaching both, `zpat sub --failover` listening at one. The primary is killed, and in a
     second run cut off from the subscriber's host alone (a silent partition): the subscriber
     moves to the backup, whose cache answers it first, and resumes; the time and what it lost.

Runs as root (network namespaces and nftables), as CI does:
    across_hosts.py PATH_TO_ZPAT_BROKER PATH_TO_ZPAT
The peers run inside the namespaces as `across_hosts.py client SERVERS SECONDS TIMEOUT`,
`across_hosts.py publish ENDPOINT SECONDS` and `across_hosts.py subscribe ENDPOINT SECONDS`.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

HEARTBEAT = 0.2  # the pair's, the brokers' with workers, and the workers'
LIVENESS = 3
LIMIT = 30.0
SUBNET = "10.211.{}.{}"


def client(servers, seconds, timeout):
    """A Majordomo client (MDPC01 on REQ) with the Guide's Binary Star failover: a request not
    answered within `timeout` is sent again on a fresh socket to the next server. Prints one
    JSON line per answer: its sequence, wall-clock time, server and attempts."""
    import zmq
    context = zmq.Context()
    servers = servers.split(",")
    server = 0
    socket = None
    end = time.time() + seconds
    sequence = 0
    while time.time() < end:
        body = str(sequence).encode()
        attempts = 0
        while time.time() < end:
            if socket is None:
                socket = context.socket(zmq.REQ)
                socket.setsockopt(zmq.LINGER, 0)
                socket.connect(servers[server])
            attempts += 1
            socket.send_multipart([b"MDPC01", b"echo", body])
            if socket.poll(int(timeout * 1000)):
                reply = socket.recv_multipart()
                assert reply == [b"MDPC01", b"echo", body], (reply, body)
                print(json.dumps({"sequence": sequence, "time": time.time(), "server": server,
                                  "attempts": attempts}), flush=True)
                sequence += 1
                time.sleep(0.01)
                break
            socket.close()
            socket = None
            server = (server + 1) % len(servers)
    context.destroy(linger=0)


def publish(endpoints, seconds):
    """Publishes "weather SEQUENCE" every 2 ms for `seconds`, to each of `endpoints`."""
    import zmq
    context = zmq.Context()
    socket = context.socket(zmq.PUB)
    socket.setsockopt(zmq.LINGER, 0)
    for endpoint in endpoints.split(","):
        socket.connect(endpoint)
    end = time.time() + seconds
    sequence = 0
    while time.time() < end:
        socket.send_multipart([b"weather", str(sequence).encode()])
        sequence += 1
        time.sleep(0.002)
    context.destroy(linger=0)


def subscribe(endpoint, seconds):
    """Subscribes to "weather" until `seconds` after its first message (waiting at most LIMIT
    for that one), and says "heard" when it comes; then prints one JSON line per run of
    consecutive sequence numbers received without a pause of 0.1 s: its first and last, and
    when each arrived."""
    import zmq
    context = zmq.Context()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.SUBSCRIBE, b"weather")
    socket.connect(endpoint)
    end = time.time() + LIMIT
    run = None
    while time.time() < end:
        if not socket.poll(50):
            continue
        topic, body = socket.recv_multipart()
        sequence, now = int(body), time.time()
        if run is None:
            print("heard", flush=True)
            end = now + seconds
        if run and sequence == run["last"] + 1 and now - run["last_time"] < 0.1:
            run["last"], run["last_time"] = sequence, now
            continue
        if run:
            print(json.dumps(run), flush=True)
        run = {"first": sequence, "last": sequence, "first_time": now, "last_time": now}
    if run:
        print(json.dumps(run), flush=True)
    context.destroy(linger=0)


class network:
    """Hosts as network namespaces on one bridge, each with an address of its own."""

    def __init__(self, names):
        tag = os.getpid() % 10000
        self.switch = f"zpsw{tag}"
        self.hosts = {name: f"zp{tag}{name}" for name in names}
        self.address = {}
        self.processes = []
        net = os.getpid() % 200 + 20
        self.ip("netns", "add", self.switch)
        self.ip_in(self.switch, "link", "add", "br0", "type", "bridge")
        self.ip_in(self.switch, "link", "set", "br0", "up")
        for index, (name, ns) in enumerate(self.hosts.items(), start=1):
            self.ip("netns", "add", ns)
            inside, outside = f"zh{tag}{name}", f"zs{tag}{name}"
            self.ip("link", "add", inside, "type", "veth", "peer", "name", outside)
            self.ip("link", "set", inside, "netns", ns)
            self.ip("link", "set", outside, "netns", self.switch)
            self.ip_in(self.switch, "link", "set", outside, "master", "br0")
            self.ip_in(self.switch, "link", "set", outside, "up")
            self.address[name] = SUBNET.format(net, index)
            self.ip_in(ns, "addr", "add", f"{self.address[name]}/24", "dev", inside)
            self.ip_in(ns, "link", "set", inside, "up")
            self.ip_in(ns, "link", "set", "lo", "up")

    @staticmethod
    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=LIMIT)

    def ip_in(self, ns, *args):
        self.ip("netns", "exec", ns, "ip", *args)

    def start(self, host, args, **kwargs):
        """Starts `args` on `host` (ip netns exec execs it: the PID is the program's own)."""
        process = subprocess.Popen(["ip", "netns", "exec", self.hosts[host], *args], **kwargs)
        self.processes.append(process)
        return process

    def run(self, host, args):
        return subprocess.run(["ip", "netns", "exec", self.hosts[host], *args], check=True,
                              capture_output=True, text=True, timeout=LIMIT).stdout

    def partition(self, host, others):
        """Drops every packet between `host` and `others`, both ways, silently."""
        others = ", ".join(self.address[o] for o in others)
        rules = (f"table inet zpat {{\n"
                 f"  chain input {{ type filter hook input priority 0; ip saddr {{ {others} }} drop; }}\n"
                 f"  chain output {{ type filter hook output priority 0; ip daddr {{ {others} }} drop; }}\n"
                 f"}}\n")
        subprocess.run(["ip", "netns", "exec", self.hosts[host], "nft", "-f", "-"],
                       input=rules, text=True, check=True, timeout=LIMIT)

    def heal(self, host):
        self.run(host, ["nft", "delete", "table", "inet", "zpat"])

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=LIMIT)
        for ns in [*self.hosts.values(), self.switch]:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=LIMIT)


class pair:
    """zpat-broker as primary on host a and backup on host b, fast heartbeats; Majordomo, and with
    `forwarder` the forwarder with its last-value cache on 5559 (publishers) and 5560."""

    def __init__(self, net, broker, forwarder=False):
        self.net = net
        self.servers = ",".join(f"tcp://{net.address[h]}:5555" for h in ("a", "b"))
        self.forwarders = {h: f"tcp://{net.address[h]}:{{}}" for h in ("a", "b")}
        self.brokers = {}
        for host, role, peer in (("a", "primary", "b"), ("b", "backup", "a")):
            pubsub = (["--forwarder-frontend", self.forwarders[host].format(5559),
                       "--forwarder-backend", self.forwarders[host].format(5560),
                       "--last-value-cache"] if forwarder else ["--no-forwarder"])
            self.brokers[host] = net.start(host, [
                broker, *pubsub, "--no-streamer",
                "--service-endpoint", f"tcp://{net.address[host]}:5555",
                "--heartbeat-interval", f"{int(HEARTBEAT * 1000)}ms",
                "--heartbeat-liveness", str(LIVENESS),
                "--stats-endpoint", "tcp://127.0.0.1:5570",
                "--role", role, "--peer", f"tcp://{net.address[peer]}:5567",
                "--pair-endpoint", f"tcp://{net.address[host]}:5567",
                "--pair-heartbeat", f"{int(HEARTBEAT * 1000)}ms", "--log-level", "warn"])

    def stats(self, host):
        return json.loads(self.net.run(host, [ZPAT, "stats", "tcp://127.0.0.1:5570"]))

    def wait_for(self, host, condition, what):
        deadline = time.monotonic() + LIMIT
        while True:
            try:
                if condition(self.stats(host)):
                    return
            except subprocess.CalledProcessError:
                pass  # not serving stats yet
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def settled(self):
        self.wait_for("a", lambda s: s["pair"]["state"] == "active", "the primary active")
        self.wait_for("b", lambda s: s["pair"]["state"] == "passive", "the backup passive")

    def workers(self, host):
        services = self.stats(host)["service"]["services"]
        return sum(s["workers"] for s in services if s["name"] == "echo")

    def stop(self):
        for process in self.brokers.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=LIMIT)


def start_worker(net, host, servers):
    return net.start(host, [ZPAT, "worker", "--quiet", "--echo", servers, "echo",
                            "--heartbeat", f"{int(HEARTBEAT * 1000)}ms"],
                     stdout=subprocess.DEVNULL)


def start_client(net, servers, seconds, timeout):
    return net.start("c", [sys.executable, os.path.abspath(__file__), "client", servers,
                           str(seconds), str(timeout)], stdout=subprocess.PIPE, text=True)


def answers_of(process):
    out, _ = process.communicate(timeout=LIMIT + 30)
    assert process.returncode == 0, f"the client failed: {process.returncode}"
    answers = [json.loads(line) for line in out.splitlines()]
    # Every request answered once, in order: the client moves on only with its reply.
    assert [a["sequence"] for a in answers] == list(range(len(answers))), answers
    return answers


def primary_killed(net):
    p = pair(net, BROKER)
    worker = start_worker(net, "c", p.servers)
    try:
        p.settled()
        p.wait_for("b", lambda s: any(v["workers"] for v in s["service"]["services"]),
                   "the worker registered with the backup")
        # Retried after 3 heartbeats: past the backup's expiry of the silent primary (two), so
        # the first retry there is served.
        load = start_client(net, p.servers, 4.0, 3 * HEARTBEAT)
        time.sleep(1.5)
        killed = time.time()
        p.brokers["a"].kill()
        p.brokers["a"].wait(timeout=LIMIT)
        answers = answers_of(load)
        after = [a for a in answers if a["time"] > killed]
        assert len(answers) > 20 and after, (len(answers), after[:1])
        failover = after[0]["time"] - killed
        b = p.stats("b")["pair"]
        assert b["state"] == "active" and b["became_active"] == 1, b
        print(f"across_hosts.py: primary killed under load: {len(answers)} requests answered once "
              f"each; first reply {failover * 1000:.0f} ms after the kill (pair heartbeat "
              f"{HEARTBEAT * 1000:.0f} ms, expiry {2 * HEARTBEAT * 1000:.0f} ms, client "
              f"timeout {3 * HEARTBEAT * 1000:.0f} ms; the target, two expiries: "
              f"{4 * HEARTBEAT * 1000:.0f} ms)")
    finally:
        worker.kill()
        p.stop()


def primary_cut_from_clients(net):
    p = pair(net, BROKER)
    worker = start_worker(net, "c", p.servers)
    try:
        p.settled()
        net.partition("a", ["c"])
        during = answers_of(start_client(net, p.servers, 2.0, 4 * HEARTBEAT))
        assert p.stats("b")["pair"]["became_active"] == 0
        assert p.stats("b")["pair"]["requests_refused"] > 0
        assert p.stats("a")["pair"]["state"] == "active"
        net.heal("a")
        # Once the worker is registered with the primary again. A request may still go to the
        # worker's link that died in the partition and be lost, as Majordomo allows, so the
        # client retries within its run.
        p.wait_for("a", lambda s: any(v["workers"] for v in s["service"]["services"]),
                   "the worker registered with the primary again")
        after = answers_of(start_client(net, p.servers, 4.0, 4 * HEARTBEAT))
        assert after, "nothing answered after the partition healed"
        assert p.stats("b")["pair"]["became_active"] == 0
        print(f"across_hosts.py: primary cut off from the clients: the backup refused "
              f"{p.stats('b')['pair']['requests_refused']} requests and never became active "
              f"({len(during)} answered during the partition, {len(after)} after it healed)")
    finally:
        worker.kill()
        p.stop()


def primary_cut_from_backup(net):
    p = pair(net, BROKER)
    worker = start_worker(net, "c", p.servers)
    try:
        p.settled()
        # The worker with the primary first: a slow (sanitizer) build may take longer to
        # register than a 2 s run lasts. The timeout stays long, as a client that gave up on the
        # primary would, by the pair's rules, make the backup active.
        p.wait_for("a", lambda s: p.workers("a") == 1, "the worker registered with the primary")
        net.partition("a", ["b"])
        answers = answers_of(start_client(net, p.servers, 3.0, 10 * HEARTBEAT))
        assert answers and {a["server"] for a in answers} == {0}, answers[:3]
        b = p.stats("b")["pair"]
        assert b["became_active"] == 0 and b["peer_silent_ms"] > 2 * HEARTBEAT * 1000, b
        net.heal("a")
        p.wait_for("b", lambda s: s["pair"]["peer_silent_ms"] < 2 * HEARTBEAT * 1000,
                   "the backup hearing the primary again")
        assert p.stats("b")["pair"]["state"] == "passive"
        print(f"across_hosts.py: primary cut off from the backup: {len(answers)} requests served "
              f"by the primary, the backup stayed passive")
    finally:
        worker.kill()
        p.stop()


def worker_host_cut(net):
    p = pair(net, BROKER)
    workers = [start_worker(net, "c", p.servers), start_worker(net, "d", p.servers)]
    try:
        p.settled()
        p.wait_for("a", lambda s: p.workers("a") == 2, "both workers registered")
        load = start_client(net, p.servers, 4.0, 4 * HEARTBEAT)
        # Cut once the load is flowing (a slow build may start the client late), so that one of
        # the cut-off worker's requests is lost with it and retried within the client's run.
        p.wait_for("a", lambda s: sum(v["replies"] for v in s["service"]["services"]) >= 10,
                   "the load under way")
        cut = time.monotonic()
        net.partition("d", ["a", "b"])
        p.wait_for("a", lambda s: p.workers("a") == 1, "the cut-off worker forgotten")
        detected = time.monotonic() - cut
        answers = answers_of(load)
        # The next request the cut-off worker was given was lost with it, and sent again.
        retried = sum(a["attempts"] > 1 for a in answers)
        assert retried >= 1 and p.stats("a")["pair"]["state"] == "active", answers[-3:]
        print(f"across_hosts.py: a worker host cut off: forgotten {detected * 1000:.0f} ms later "
              f"(heartbeat {HEARTBEAT * 1000:.0f} ms x liveness {LIVENESS}); {len(answers)} "
              f"requests answered, {retried} after a retry")
    finally:
        net.heal("d")
        for w in workers:
            w.kill()
        p.stop()


def documented_pair(net):
    """The two config files and the commands of docs/scaling.md, with the hosts' addresses for
    the documentation's: a pair as a user would copy it."""
    docs = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "scaling.md")).read()
    files = re.findall(r"```toml\n(.*?)```", docs, re.S)
    configs = [f for f in files if "role = " in f]
    commands = re.findall(r"```sh\n(.*?)```", docs, re.S)
    assert len(configs) == 2 and commands, "docs/scaling.md: two config files and the commands"
    for other in (f for f in files if "role = " not in f):  # the forwarder tree's: valid
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(other)
            f.flush()
            subprocess.run([BROKER, "--config", f.name, "--check-config"], check=True,
                           capture_output=True, timeout=LIMIT)

    def here(text):
        return text.replace("10.0.0.1", net.address["a"]).replace("10.0.0.2", net.address["b"])

    brokers = []
    with tempfile.TemporaryDirectory(prefix="zpat-pair-") as directory:
        for host, text in zip(("a", "b"), configs):
            path = os.path.join(directory, f"{host}.toml")
            with open(path, "w") as f:
                f.write(here(text))
            brokers.append(net.start(host, [BROKER, "--config", path]))
        worker_line, call_line, sub_line, pub_line = (
            shlex.split(here(next(line for line in commands[0].splitlines()
                                  if line.startswith(f"zpat {verb} "))))[1:]
            for verb in ("worker", "call", "sub", "pub"))
        worker = net.start("c", [ZPAT, *worker_line], stdout=subprocess.DEVNULL)
        sub = net.start("d", [ZPAT, *sub_line, "-n", "2", "--timeout", "20s"],
                        stdout=subprocess.PIPE, text=True)
        try:
            reply = net.run("c", [ZPAT, *call_line, "--timeout", "2s", "--retries", "10"])
            assert reply.strip() == "hello", reply
            # Published until heard: the first may go before the subscriber has joined.
            deadline = time.monotonic() + LIMIT
            while sub.poll() is None and time.monotonic() < deadline:
                net.run("c", [ZPAT, *pub_line])
            heard, _ = sub.communicate(timeout=LIMIT)
            assert sub.returncode == 0 and heard.split() == ["prices.gold", "1900"] * 2, heard
        finally:
            worker.kill()
            if sub.poll() is None:
                sub.kill()
            for b in brokers:
                b.terminate()
                b.wait(timeout=LIMIT)
    print("across_hosts.py: the two config files and the commands of docs/scaling.md make a "
          "working pair, for requests and for pub-sub")


def forwarder_tree(net):
    """Publisher -> A (host a) -> B (host b) -> C (host c) -> subscriber (host d); B's backend
    and C's frontend speak raw+tcp, the rest ZeroMQ. B is killed and started again."""
    address = net.address

    def forwarder(host, frontend, backend):
        return net.start(host, [BROKER, "--no-service", "--no-streamer", "--stats-endpoint", "",
                                "--allow-insecure", "--log-level", "warn",
                                "--forwarder-frontend", frontend, "--forwarder-backend", backend])

    a = forwarder("a", f"tcp://{address['a']}:5559", f"tcp://{address['a']}:5560")
    b_args = (f">tcp://{address['a']}:5560", f"raw+tcp://{address['b']}:5560")
    b = forwarder("b", *b_args)
    c = forwarder("c", f">raw+tcp://{address['b']}:5560", f"tcp://{address['c']}:5560")
    subscriber = net.start("d", [sys.executable, os.path.abspath(__file__), "subscribe",
                                 f"tcp://{address['c']}:5560", "6"],
                           stdout=subprocess.PIPE, text=True)
    # Until the subscriber is done: the tree may take seconds to join up on a loaded machine.
    publisher = net.start("a", [sys.executable, os.path.abspath(__file__), "publish",
                                f"tcp://{address['a']}:5559", str(3 * LIMIT)])
    try:
        # B dies only once messages pass through the whole tree, else there is no restart to see.
        assert subscriber.stdout.readline() == "heard\n", "nothing came through the tree"
        time.sleep(1.0)
        killed = time.time()
        b.kill()
        assert b.wait(timeout=LIMIT) == -9
        time.sleep(0.5)
        b = forwarder("b", *b_args)
        out, _ = subscriber.communicate(timeout=LIMIT)
        runs = [json.loads(line) for line in out.splitlines()]
        assert len(runs) >= 2, f"the subscriber never paused, so the restart was not seen: {runs}"
        # The restart is the longest silence; what was queued below B still arrived after the
        # kill, so the runs are told apart by the silence, not by the time of the kill.
        gap = max(range(len(runs) - 1),
                  key=lambda i: runs[i + 1]["first_time"] - runs[i]["last_time"])
        silence = runs[gap + 1]["first_time"] - runs[gap]["last_time"]
        lost = runs[gap + 1]["first"] - runs[gap]["last"] - 1
        received = sum(r["last"] - r["first"] + 1 for r in runs)
        gaps = sum(n["first"] - r["last"] - 1 for r, n in zip(runs, runs[1:]))
        resumed = runs[gap + 1]["first_time"] - killed
        assert silence > 0.25 and lost >= 0, runs  # B was down for 0.5 s
        print(f"across_hosts.py: a forwarder tree over three hosts (ZeroMQ and raw+tcp hops), "
              f"its middle forwarder killed and restarted 0.5 s later: the subscriber two hops "
              f"down resumed {resumed:.2f} s after the kill (silent {silence:.2f} s), {received} "
              f"received, {gaps} lost (counted by sequence numbers; {lost} at the restart)")
    finally:
        publisher.terminate()
        publisher.wait(timeout=LIMIT)
        for process in (a, b, c):
            process.terminate()
            process.wait(timeout=LIMIT)


class listener:
    """`zpat sub --failover` on a host, each line it prints kept with the time it came."""

    def __init__(self, net, host, endpoints, timeout):
        import threading
        self.heard = []  # (time, sequence)
        self.process = net.start(host, [ZPAT, "sub", "--failover", "--failover-timeout",
                                        f"{int(timeout * 1000)}ms", endpoints, "weather"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.process.stdout:
            topic, sequence = line.split()
            self.heard.append((time.time(), int(sequence)))

    def stop(self):
        self.process.terminate()
        _, err = self.process.communicate(timeout=LIMIT)
        self.reader.join(LIMIT)
        return err

    def resumed(self, fault):
        """After the longest silence that follows `fault`: how long from the fault to the next
        message, how many sequence numbers were skipped, how many came twice."""
        after = [i for i, (t, _) in enumerate(self.heard) if t > fault]
        assert len(after) > 10, f"nothing heard after the fault: {self.heard[-3:]}"
        start = max(after[0] - 1, 0)
        gap = max(range(start, len(self.heard) - 1),
                  key=lambda i: self.heard[i + 1][0] - self.heard[i][0])
        lost = self.heard[gap + 1][1] - self.heard[gap][1] - 1
        sequences = [q for _, q in self.heard]
        twice = len(sequences) - len(set(sequences))
        return self.heard[gap + 1][0] - fault, lost, twice


def pubsub_through_pair(net):
    timeout = 4 * HEARTBEAT
    for fault in ("killed", "cut off from the subscriber's host"):
        p = pair(net, BROKER, forwarder=True)
        publisher = None
        sub = None
        try:
            p.settled()
            frontends = ",".join(p.forwarders[h].format(5559) for h in ("a", "b"))
            # Until the subscriber has heard the backup: on a loaded machine the pair may take
            # seconds to settle, and a publisher that stopped early would leave nothing to hear.
            publisher = net.start("c", [sys.executable, os.path.abspath(__file__), "publish",
                                        frontends, str(3 * LIMIT)])
            sub = listener(net, "d", ",".join(p.forwarders[h].format(5560) for h in ("a", "b")),
                           timeout)
            # The backup's cache is warm: it takes what is published, subscribed to or not.
            p.wait_for("b", lambda s: s["forwarder"]["cached_topics"] == 1,
                       "the backup's cache holding the topic")
            deadline = time.monotonic() + LIMIT
            while len(sub.heard) < 100:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the subscriber heard {len(sub.heard)} messages: "
                                         f"{sub.stop()}; primary: {p.stats('a')['forwarder']}")
                time.sleep(0.05)
            time.sleep(1.0)
            at = time.time()
            if fault == "killed":
                p.brokers["a"].kill()
                p.brokers["a"].wait(timeout=LIMIT)
            else:
                net.partition("a", ["d"])
            # A second of messages after the fault (500 a second), or the deadline.
            deadline = time.monotonic() + LIMIT
            while sum(t > at for t, _ in sub.heard) < 500 and time.monotonic() < deadline:
                time.sleep(0.05)
            publisher.terminate()
            publisher.wait(timeout=LIMIT)
            log = sub.stop()
            took, lost, twice = sub.resumed(at)
            assert "failing over to " + p.forwarders["b"].format(5560) in log, log
            assert took < 3 * timeout + 0.5, (took, sub.heard[-3:])
            print(f"across_hosts.py: pub-sub through the pair, the primary {fault}: zpat sub "
                  f"--failover (timeout {timeout * 1000:.0f} ms) resumed at the backup "
                  f"{took * 1000:.0f} ms later, {lost} messages lost at 500/s, {twice} heard "
                  f"twice, {len(sub.heard)} heard in all")
        finally:
            if publisher and publisher.poll() is None:
                publisher.kill()
            if sub and sub.process.poll() is None:
                sub.process.kill()
            if fault != "killed":
                net.heal("a")
            p.stop()


def main():
    if os.geteuid() != 0:
        raise SystemExit("across_hosts.py: needs root for network namespaces and nftables (CI "
                         "runs as root); not run")
    net = network(["a", "b", "c", "d"])
    try:
        primary_killed(net)
        primary_cut_from_clients(net)
        primary_cut_from_backup(net)
        worker_host_cut(net)
        documented_pair(net)
        forwarder_tree(net)
        pubsub_through_pair(net)
    finally:
        net.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "publish":
        publish(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "subscribe":
        subscribe(sys.argv[2], float(sys.argv[3]))
    else:
        BROKER, ZPAT = sys.argv[1], sys.argv[2]
        main()
