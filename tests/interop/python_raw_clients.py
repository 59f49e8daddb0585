"""Clients written from docs/wire-format.md with only Python's standard library, against zpat's
raw+tcp replier and publisher (run through the zpat tool). Usage: python_raw_clients.py ZPAT"""
import re, select, socket, struct, subprocess, sys, time

ZPAT = sys.argv[1]


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def send_message(s, frames):
    s.sendall(struct.pack(">I", len(frames)) + b"".join(struct.pack(">I", len(f)) + f for f in frames))


def recv_message(s):
    count, = struct.unpack(">I", recv_exact(s, 4))
    return [recv_exact(s, struct.unpack(">I", recv_exact(s, 4))[0]) for _ in range(count)]


def start(*args):
    """Starts the zpat tool and returns it with the host and port it reports having bound."""
    process = subprocess.Popen([ZPAT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if select.select([process.stderr], [], [], 0.1)[0]:
            found = re.search(r"bound raw\+tcp://([\d.]+):(\d+)", process.stderr.readline())
            if found:
                return process, (found.group(1), int(found.group(2)))
    raise AssertionError("zpat did not report its bound endpoint")


def request_reply():
    rep, address = start("rep", "@raw+tcp://127.0.0.1:*", "--answer", "World", "-n", "1")
    s = socket.create_connection(address, timeout=10)
    s.sendall(b"ZPAT\x01q\x00\x00")
    assert recv_exact(s, 8)[:6] == b"ZPAT\x01r"
    send_message(s, [b"Hello"])
    assert recv_message(s) == [b"World"]
    out, _ = rep.communicate(timeout=10)
    assert rep.returncode == 0 and out.strip() == "Hello", (rep.returncode, out)


def subscribe():
    pub, address = start("pub", "@raw+tcp://127.0.0.1:*", "weather.nyc", "21C", "-n", "2")
    s = socket.create_connection(address, timeout=10)
    s.sendall(b"ZPAT\x01s\x00\x00")
    assert recv_exact(s, 8)[:6] == b"ZPAT\x01p"
    send_message(s, [b"\x01weather."])  # zpat pub publishes once this subscription arrives
    assert recv_message(s) == [b"weather.nyc", b"21C"]
    assert recv_message(s) == [b"weather.nyc", b"21C"]
    pub.communicate(timeout=10)
    assert pub.returncode == 0


def wrong_role_is_refused():
    pub, address = start("pub", "@raw+tcp://127.0.0.1:*", "t", "x", "-w", "1", "-t", "300ms")
    s = socket.create_connection(address, timeout=10)
    s.sendall(b"ZPAT\x01u\x00\x00")  # a pusher has no business with a publisher
    recv_exact(s, 8)
    assert s.recv(1) == b"", "the publisher should close the connection"
    _, err = pub.communicate(timeout=10)
    assert "is a pusher, but only a subscriber can talk to this side" in err, err


failed = 0
for case in (request_reply, subscribe, wrong_role_is_refused):
    try:
        case()
        print(f"ok    {case.__name__}")
    except Exception as error:
        failed += 1
        print(f"FAIL  {case.__name__}: {error!r}")
print(f"{3 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
