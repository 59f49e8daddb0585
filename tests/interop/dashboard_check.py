"""zpat-broker's dashboard, loaded by a real browser (headless Chromium) against a broker under
load: the page is self-contained, its numbers change as traffic flows and agree with /stats,
and a screenshot of it is saved. /varz, /subsz and /connz describe the same broker.

Run with Debian's system python3 (python3-zmq):
    dashboard_check.py PATH_TO_ZPAT_BROKER PATH_TO_ZPAT SCREENSHOT.png
Every port is picked by the system; every wait is bounded.
"""
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import zmq

BROKER, ZPAT, SCREENSHOT = sys.argv[1:4]
LIMIT = 20.0
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars"]


def read_log_until(process, pattern):
    """The first match of `pattern` in the broker's log, as it starts."""
    deadline = time.monotonic() + LIMIT
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found.group(1)
    raise AssertionError(f"the broker never logged {pattern!r}: {seen}")


def get(authority, path):
    with urllib.request.urlopen(f"http://{authority}{path}", timeout=LIMIT) as r:
        return r.read().decode()


def page(authority, budget_ms=3000):
    """The dashboard's DOM after `budget_ms` of (virtual) time in Chromium."""
    done = subprocess.run(CHROMIUM + [f"--virtual-time-budget={budget_ms}", "--dump-dom",
                                      f"http://{authority}/"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def cell(dom, cell_id):
    found = re.search(rf'id="{re.escape(cell_id)}">([0-9.]+)<', dom)
    assert found, f"no cell {cell_id} in the page: {dom[:3000]}"
    return float(found.group(1))


def pair_line():
    """A broker of a Binary Star pair (a primary whose backup never comes) shows its state on
    the page; a broker alone shows no such line."""
    with tempfile.TemporaryDirectory(prefix="zpat-dash-") as directory:
        broker = subprocess.Popen(
            [BROKER, "--http", "127.0.0.1:0", "--stats-endpoint", "", "--no-streamer",
             "--no-forwarder", "--service-endpoint", "tcp://127.0.0.1:0", "--role", "primary",
             "--pair-endpoint", f"ipc://{directory}/primary", "--peer",
             f"ipc://{directory}/backup"],
            stderr=subprocess.PIPE, text=True)
        try:
            authority = read_log_until(broker, r"dashboard at http://(\S+)/")
            threading.Thread(target=broker.stderr.read, daemon=True).start()
            line = re.search(r'<div class="([^"]*)" id="pair">([^<]*)<', page(authority))
            assert line, "no pair line on the page of a broker in a pair"
            assert line.group(2).startswith("Binary Star primary: primary (peer unknown, never "
                                            "heard); took over 0 times"), line.group(2)
            assert line.group(1) == "status bad", line.group(1)  # no peer: not settled
        finally:
            broker.terminate()
            broker.wait(timeout=LIMIT)
    print("dashboard_check.py: a broker of a pair shows its state and its peer's")


def main():
    broker = subprocess.Popen(
        [BROKER, "--http", "127.0.0.1:0", "--stats-endpoint", "", "--no-streamer",
         "--service-endpoint", "tcp://127.0.0.1:0", "--forwarder-frontend", "tcp://127.0.0.1:0",
         "--forwarder-backend", "tcp://127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True)
    worker = None
    publisher = None
    stop = threading.Event()
    try:
        service = read_log_until(broker, r"service broker .* on (tcp://\S+)")
        frontend = read_log_until(broker, r"forwarder frontend .* on (tcp://\S+)")
        backend = read_log_until(broker, r"forwarder backend .* on (tcp://\S+)")
        authority = read_log_until(broker, r"dashboard at http://(\S+)/")
        # Keep reading the log, so that the broker never blocks on a full pipe.
        threading.Thread(target=broker.stderr.read, daemon=True).start()

        # The page needs nothing from elsewhere: no scripts, styles or fonts by URL.
        html = get(authority, "/")
        assert "<canvas" in html and "/stats" in html
        for outside in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"|url\(([^)]*)\)|@import', html):
            raise AssertionError(f"the dashboard loads something from outside: {outside}")

        # Load: a publisher in the forwarder, a subscriber to one topic, an echo worker.
        context = zmq.Context()
        sub = context.socket(zmq.SUB)
        sub.connect(backend)
        sub.setsockopt(zmq.SUBSCRIBE, b"weather")
        worker = subprocess.Popen([ZPAT, "worker", service, "echo", "--echo", "-q"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def publish():
            pub = context.socket(zmq.PUB)
            pub.setsockopt(zmq.LINGER, 0)
            pub.connect(frontend)
            deadline = time.monotonic() + 120  # bounded, whatever happens to the test
            while not stop.is_set() and time.monotonic() < deadline:
                for _ in range(200):
                    pub.send_multipart([b"weather", b"sunny"])
                time.sleep(0.005)
            pub.close()

        publisher = threading.Thread(target=publish)
        publisher.start()
        client = context.socket(zmq.REQ)
        client.setsockopt(zmq.RCVTIMEO, int(LIMIT * 1000))
        client.setsockopt(zmq.LINGER, 0)
        client.connect(service)
        for i in range(5):
            client.send_multipart([b"MDPC01", b"echo", b"hello %d" % i])
            assert client.recv_multipart()[-1] == b"hello %d" % i

        def forwarded():
            return json.loads(get(authority, "/stats"))["forwarder"]["traffic"]["messages_in"]

        deadline = time.monotonic() + LIMIT
        while forwarded() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)

        # What the page shows lies between what /stats said just before and just after.
        before = forwarded()
        first = page(authority)
        after = forwarded()
        shown = cell(first, "in-forwarder")
        assert before <= shown <= after, (before, shown, after)
        assert "every device runs" in first, first[:2000]
        assert re.search(r"<td>echo</td><td>1</td>", first), "the echo service and its worker"
        assert cell(first, "queued-echo") == 0
        assert '<td>"weather"</td>' in first, "the subscribed topic"
        assert cell(first, "open-forwarder") >= 2  # the publisher and the subscriber

        # And it moves: a later page shows more, and a rate above zero.
        for _ in range(5):
            second = page(authority)
            if cell(second, "in-forwarder") > shown and cell(second, "rate-forwarder") > 0:
                break
        else:
            raise AssertionError(f"the numbers did not change: {shown} then "
                                 f"{cell(second, 'in-forwarder')}, rate "
                                 f"{cell(second, 'rate-forwarder')}")

        # /varz: the server, its memory and descriptors, open connections, settings in effect.
        varz = json.loads(get(authority, "/varz"))
        assert varz["server"] == "zpat-broker" and varz["version"] == json.loads(
            get(authority, "/stats"))["version"], varz
        assert varz["uptime_seconds"] >= 0 and re.match(r"\d{4}-\d\d-\d\dT", varz["started"])
        assert varz["memory"]["rss_bytes"] > 1 << 20, varz["memory"]
        assert 0 < varz["descriptors"]["open"] <= varz["descriptors"]["limit"], varz
        assert varz["connections"]["forwarder"] == {"frontend": 1, "backend": 1}, varz
        assert varz["connections"]["service"]["frontend"] >= 2, varz  # the worker and the client
        assert "streamer" not in varz["connections"]
        assert varz["config"]["http"] == "127.0.0.1:0" and varz["config"]["no-streamer"] is True
        assert varz["config"]["heartbeat-liveness"] == 3, varz["config"]
        # /subsz: the forwarder's subscriptions.
        subsz = json.loads(get(authority, "/subsz"))
        assert subsz["subscriptions"] == 1 and subsz["prefixes"] == 1, subsz
        assert subsz["topics"][0]["prefix"] == "weather" and subsz["topics"][0]["messages"] > 0

        # /connz: every connection, with its device, side, peer and endpoint; on ZeroMQ tcp://
        # endpoints the bytes the kernel counted, and no messages (libzmq counts none).
        connz = json.loads(get(authority, "/connz"))
        assert connz["total"] == connz["num_connections"] == len(connz["connections"]), connz
        forwarded_by = [c for c in connz["connections"] if c["device"] == "forwarder"]
        assert sorted(c["side"] for c in forwarded_by) == ["backend", "frontend"], connz
        for c in forwarded_by:
            assert re.fullmatch(r"127\.0\.0\.1:\d+", c["peer"]), c
            assert c["messages_in"] is None and c["messages_out"] is None, c
            assert c["bytes_in" if c["side"] == "frontend" else "bytes_out"] > 64, c
            assert c["endpoint"] == (frontend if c["side"] == "frontend" else backend), c
            assert re.match(r"\d{4}-\d\d-\d\dT", c["since"]) and c["uptime_seconds"] >= 0, c
        assert sum(c["device"] == "service" for c in connz["connections"]) >= 2, connz
        # The second connection again, alone: the same connection, though its traffic and
        # uptime may have moved on between the two requests.
        one = json.loads(get(authority, "/connz?offset=1&limit=1"))
        same = ("device", "side", "peer", "endpoint", "since")
        assert one["num_connections"] == 1, one
        assert all(one["connections"][0][k] == connz["connections"][1][k] for k in same), one
        for bad in ("limit=x", "limit=10001", "offset=-1"):
            try:
                get(authority, "/connz?" + bad)
                raise AssertionError(f"/connz?{bad} was answered")
            except urllib.error.HTTPError as e:
                assert e.code == 400 and "must be a whole number" in e.read().decode(), bad
        # The page lists them too; a broker alone has no pair line.
        dom = page(authority)
        assert re.search(r'id="pair" hidden', dom), "a pair line on a broker alone"
        for c in forwarded_by:
            assert f">{c['peer']}<" in dom, (c["peer"], dom[:3000])

        shot = subprocess.run(CHROMIUM + ["--virtual-time-budget=8000", "--window-size=1200,1150",
                                          f"--screenshot={SCREENSHOT}", f"http://{authority}/"],
                              capture_output=True, text=True, timeout=60)
        assert shot.returncode == 0, shot.stderr[-2000:]
        with open(SCREENSHOT, "rb") as f:
            png = f.read()
        assert png.startswith(b"\x89PNG") and len(png) > 20000, len(png)
        print(f"dashboard_check.py: the page agrees with /stats ({before} <= {shown} <= {after}),"
              f" moves, and its screenshot is {SCREENSHOT} ({len(png)} bytes)")
    finally:
        stop.set()
        if publisher:
            publisher.join(timeout=LIMIT)
        if worker:
            worker.terminate()
            worker.wait(timeout=LIMIT)
        broker.terminate()
        broker.wait(timeout=LIMIT)


if __name__ == "__main__":
    main()
    pair_line()
