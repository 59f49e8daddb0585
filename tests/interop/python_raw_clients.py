"""Clients written from docs/wire-format.md with only Python's standard library, against zpat's
raw+tcp and raw+udp replier and publisher (run through the zpat tool).
Usage: python_raw_clients.py ZPAT"""
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
            found = re.search(r"bound raw\+(?:tcp|udp)://([\d.]+):(\d+)", process.stderr.readline())
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


def message_bytes(frames):
    return struct.pack(">I", len(frames)) + b"".join(struct.pack(">I", len(f)) + f for f in frames)


def datagram(role, kind, ident, frames, cookie=None):
    """Section 5: the 16-byte header, the cookie being echoed if any, then the message."""
    header = b"ZPAT\x01" + role + kind + (b"\x01" if cookie is not None else b"\x00")
    header += struct.pack(">Q", ident)
    return header + (struct.pack(">Q", cookie) if cookie is not None else b"") + message_bytes(frames)


def parse(data):
    """(role, kind, id, frames) of a datagram without a cookie, as zpat's answers are."""
    assert data[:5] == b"ZPAT\x01" and data[7:8] == b"\x00", data[:16]
    frames, at = [], 20
    for _ in range(struct.unpack(">I", data[16:20])[0] if len(data) > 16 else 0):
        size, = struct.unpack(">I", data[at:at + 4])
        frames.append(data[at + 4:at + 4 + size])
        at += 4 + size
    return data[5:6], data[6:7], struct.unpack(">Q", data[8:16])[0], frames


def udp_request_reply():
    rep, address = start("rep", "@raw+udp://127.0.0.1:*", "--answer", "W" * 100, "-n", "1")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    request = datagram(b"q", b"Q", 7, [b"Hello"])
    s.sendto(request, address)
    # A reply larger than the request goes only to an address that echoed a cookie.
    answer = s.recv(70000)
    role, kind, cookie, _ = parse(answer)
    assert (role, kind) == (b"r", b"C") and len(answer) <= len(request), answer
    s.sendto(datagram(b"q", b"Q", 7, [b"Hello"], cookie), address)
    assert parse(s.recv(70000)) == (b"r", b"R", 7, [b"W" * 100])
    out, _ = rep.communicate(timeout=10)
    assert rep.returncode == 0 and out.strip() == "Hello", (rep.returncode, out)


def udp_subscribe():
    pub, address = start("pub", "@raw+udp://127.0.0.1:*", "weather.nyc", "21C", "-n", "2")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    s.sendto(datagram(b"s", b"S", 0, [b"weather."]), address)
    role, kind, cookie, _ = parse(s.recv(70000))
    assert (role, kind) == (b"p", b"C")
    s.sendto(datagram(b"s", b"S", 0, [b"weather."], cookie), address)  # now it counts
    assert parse(s.recv(70000)) == (b"p", b"P", 1, [b"weather.nyc", b"21C"])
    assert parse(s.recv(70000)) == (b"p", b"P", 2, [b"weather.nyc", b"21C"])
    pub.communicate(timeout=10)
    assert pub.returncode == 0


cases = (request_reply, subscribe, wrong_role_is_refused, udp_request_reply, udp_subscribe)
failed = 0
for case in cases:
    try:
        case()
        print(f"ok    {case.__name__}")
    except Exception as error:
        failed += 1
        print(f"FAIL  {case.__name__}: {error!r}")
print(f"{len(cases) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
