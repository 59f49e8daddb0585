"""Every zpat role, through the zpat tool, against a pyzmq peer written with nothing but pyzmq.

Run with Debian's system python3 (it has python3-zmq): python_interop.py PATH_TO_ZPAT
Each case binds ephemeral loopback ports and bounds every wait.
"""
import re
import select
import subprocess
import sys
import time

import zmq

ZPAT = sys.argv[1]
LIMIT = 10.0
context = zmq.Context()
failures = []
passed = []


def start(*args):
    return subprocess.Popen([ZPAT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def bound_endpoint(process):
    """Reads the 'zpat VERB: bound ENDPOINT' line the tool prints for a bind."""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.1)
        if ready:
            match = re.search(r"bound (\S+)", process.stderr.readline())
            if match:
                return match.group(1)
    raise AssertionError("zpat did not report its bound endpoint")


def finish(process):
    out, err = process.communicate(timeout=LIMIT)
    return process.returncode, out, err


def socket(kind, timeout_ms=int(LIMIT * 1000)):
    s = context.socket(kind)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    s.setsockopt(zmq.LINGER, 0)
    return s


def case(name):
    def register(fn):
        try:
            fn()
            passed.append(name)
            print(f"ok    {name}")
        except Exception as error:  # report every case, then fail at the end
            failures.append(name)
            print(f"FAIL  {name}: {error!r}")
        return fn
    return register


@case("pyzmq REQ calls zpat rep")
def _():
    rep = start("rep", "@tcp://127.0.0.1:*", "--answer", "World", "-n", "1")
    req = socket(zmq.REQ)
    req.connect(bound_endpoint(rep))
    req.send(b"Hello")
    assert req.recv() == b"World"
    code, out, _ = finish(rep)
    assert code == 0 and out.strip() == "Hello", (code, out)


@case("zpat req calls pyzmq REP")
def _():
    rep = socket(zmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = start("req", f"tcp://127.0.0.1:{port}", "ping")
    assert rep.recv() == b"ping"
    rep.send(b"pong")
    code, out, err = finish(req)
    assert code == 0 and out.strip() == "pong", (code, out, err)
    assert "reply in" in err


@case("pyzmq SUB hears zpat pub")
def _():
    pub = start("pub", "@tcp://127.0.0.1:*", "weather.nyc", "21C", "-n", "3")
    sub = socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"weather.")
    sub.connect(bound_endpoint(pub))  # zpat pub waits for this subscription before publishing
    for _ in range(3):
        assert sub.recv_multipart() == [b"weather.nyc", b"21C"]
    assert finish(pub)[0] == 0


@case("zpat sub hears pyzmq PUB")
def _():
    pub = socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = start("sub", f"tcp://127.0.0.1:{port}", "news", "-n", "1", "--json", "-t", "10s")
    deadline = time.monotonic() + LIMIT
    while sub.poll() is None and time.monotonic() < deadline:
        pub.send_multipart([b"sports", b"skip me"])
        pub.send_multipart([b"news", b"hello"])
        time.sleep(0.01)  # a plain PUB cannot see the subscription arrive: keep publishing
    code, out, _ = finish(sub)
    assert code == 0 and out.strip() == '{"topic":"news","frames":["hello"],"bytes":9}', (code, out)


@case("pyzmq PUSH feeds zpat pull")
def _():
    pull = start("pull", "@tcp://127.0.0.1:*", "-n", "3")
    push = socket(zmq.PUSH)
    push.connect(bound_endpoint(pull))
    for n in range(3):
        push.send(f"task {n}".encode())
    code, out, _ = finish(pull)
    assert code == 0 and out.splitlines() == ["task 0", "task 1", "task 2"], (code, out)


@case("zpat pull --json is valid JSON for any bytes; --raw prints them exactly")
def _():
    import base64
    import json
    frames = [b"h\xc3\xa9llo",          # UTF-8: a string
              b"\xc0\xaf",              # an overlong '/'
              b"\xed\xa0\x80",          # a UTF-16 surrogate
              b"\xf4\x90\x80\x80",      # above U+10FFFF
              b"quote\" back\\ nl\n"]
    pull = start("pull", "@tcp://127.0.0.1:*", "-n", "1", "--json")
    push = socket(zmq.PUSH)
    push.connect(bound_endpoint(pull))
    push.send_multipart(frames)
    code, out, _ = finish(pull)
    assert code == 0, (code, out)
    got = json.loads(out)  # strict: invalid UTF-8 or escapes would not parse
    decoded = [f.encode() if isinstance(f, str) else base64.b64decode(f["base64"])
               for f in got["frames"]]
    assert decoded == frames and isinstance(got["frames"][0], str), got
    assert all(isinstance(f, dict) for f in got["frames"][1:4]), got
    assert got["bytes"] == sum(len(f) for f in frames), got

    raw = subprocess.Popen([ZPAT, "pull", "@tcp://127.0.0.1:*", "-n", "2", "--raw"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + LIMIT
    endpoint = None
    while endpoint is None and time.monotonic() < deadline:
        match = re.search(rb"bound (\S+)", raw.stderr.readline())
        endpoint = match.group(1).decode() if match else None
    push.close()
    push = socket(zmq.PUSH)  # the first one would share messages with its old, dead peer
    push.connect(endpoint)
    push.send_multipart([b"\x00\xffab", b"c"])
    push.send(b"d")
    out, _ = raw.communicate(timeout=LIMIT)
    assert raw.returncode == 0 and out == b"\x00\xffabcd", out
    push.close()


@case("zpat push feeds pyzmq PULL")
def _():
    pull = socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = start("push", f"tcp://127.0.0.1:{port}", "job", "-n", "3")
    assert [pull.recv() for _ in range(3)] == [b"job"] * 3
    assert finish(push)[0] == 0


@case("zpat push and zpat pub exit 1, saying why, when nobody takes or hears the message")
def _():
    pull = socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    pull.close()  # nobody listens there now
    code, _, err = finish(start("push", f"tcp://127.0.0.1:{port}", "job", "-t", "300ms"))
    assert code == 1 and "no puller connected" in err, (code, err)
    code, _, err = finish(start("pub", "@tcp://127.0.0.1:*", "t", "x", "-t", "300ms"))
    assert code == 1 and "0 of 1 subscription(s)" in err and "nothing published" in err, err
    code, _, err = finish(start("pub", "@tcp://127.0.0.1:*", "t", "x", "-w", "0"))
    assert code == 0, err  # asked not to wait: published to whoever is there, nobody


@case("a newcomer's mistakes get a hint: a port already bound, a host name, a count out of range")
def _():
    taken = socket(zmq.REP)
    port = taken.bind_to_random_port("tcp://127.0.0.1")
    for scheme in ["tcp", "raw+tcp"]:
        code, _, err = finish(start("rep", f"@{scheme}://127.0.0.1:{port}", "--echo"))
        assert code == 1 and "Address already in use" in err, err
        assert f"to connect to it, write '>{scheme}://127.0.0.1:{port}'" in err, err
    taken.close()
    code, _, err = finish(start("rep", "@tcp://localhost:0", "--echo"))
    assert code == 1 and "not a host name: write 127.0.0.1" in err, err
    for verb in [["req", "tcp://no-such-host.invalid:5555", "hi"],
                 ["sub", "raw+tcp://no-such-host.invalid:5555"],
                 ["call", "tcp://no-such-host.invalid:5555", "echo", "hi"]]:
        code, _, err = finish(start(*verb, "-t", "5s"))
        assert code == 1 and "host 'no-such-host.invalid' does not resolve" in err, (verb, err)
        assert "no reply" not in err, err
    for args, said in [(["-n", "0"], "--count: must be at least 1 (got 0)"),
                       (["-n", "99999999999999999999"], "is too large (at most 9223372036854775807)"),
                       (["-n", "ten"], "'ten' is not a whole number"),
                       (["-r", "-1"], "--retries: must be at least 0 (got -1)")]:
        code, _, err = finish(start("req", "tcp://127.0.0.1:9", "hi", *args))
        assert code == 2 and said in err and len(err) < 200, (args, err)


@case("zpat push waits for a puller that comes within --timeout, and it gets every message")
def _():
    pull = socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    pull.close()
    push = start("push", f"tcp://127.0.0.1:{port}", "job", "-n", "3", "-t", "5s")
    time.sleep(0.3)  # the pusher is waiting: nothing is queued for the absent puller
    pull = socket(zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    assert [pull.recv() for _ in range(3)] == [b"job"] * 3
    assert finish(push)[0] == 0


print(f"{len(passed)} passed, {len(failures)} failed")
context.destroy(linger=0)
sys.exit(1 if failures else 0)
