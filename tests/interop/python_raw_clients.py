"""Clients written from docs/wire-format.md with only Python's standard library, against zpat's
raw+tcp, raw+tls and raw+udp replier and publisher (run through the zpat tool).
Usage: python_raw_clients.py ZPAT MAKE_TEST_CERTIFICATES"""
import os, re, select, socket, ssl, struct, subprocess, sys, tempfile, time

ZPAT = sys.argv[1]
CERTS = tempfile.mkdtemp(prefix="zpat-tls-")
subprocess.run([sys.argv[2], CERTS], check=True)


def cert(name):
    return os.path.join(CERTS, name)


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


def start(*args, stdout=subprocess.PIPE):
    """Starts the zpat tool and returns it with the host and port it reports having bound."""
    process = subprocess.Popen([ZPAT, *args], stdout=stdout, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if select.select([process.stderr], [], [], 0.1)[0]:
            found = re.search(r"bound raw\+(?:tcp|tls|udp)://([\d.]+):(\d+)", process.stderr.readline())
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


def tls_client(cafile=None, certfile=None, keyfile=None):
    """What docs/wire-format.md shows: a verifying client context, TLS 1.2 at least."""
    context = ssl.create_default_context(cafile=cafile or cert("ca.pem"))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    return context


def tls_server(*extra):
    # What it prints is not read: it goes nowhere, so that the pipe cannot fill and stop it.
    return start("rep", "@raw+tls://127.0.0.1:*", "--echo", "-t", "20s",
                 "--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"), *extra,
                 stdout=subprocess.DEVNULL)


def tls_exchange(context, address, body):
    with context.wrap_socket(socket.create_connection(address, timeout=10),
                             server_hostname="localhost") as s:
        s.sendall(b"ZPAT\x01q\x00\x00")
        assert recv_exact(s, 8)[:6] == b"ZPAT\x01r"
        send_message(s, [body])
        return recv_message(s)


def tls_request_reply():
    rep, address = tls_server()
    try:
        assert tls_exchange(tls_client(), address, b"x" * 100000) == [b"x" * 100000]
        assert tls_exchange(tls_client(), address, b"again") == [b"again"]
    finally:
        rep.kill()
        rep.communicate()


def tls_refusals_leave_the_server_serving():
    rep, address = tls_server("--tls-ca", cert("ca.pem"), "--tls-require-client-cert")
    try:
        # Another CA: this client refuses the server.
        try:
            tls_exchange(tls_client(cafile=cert("other-ca.pem")), address, b"no")
            raise AssertionError("a server from another CA was trusted")
        except ssl.SSLCertVerificationError:
            pass
        # No client certificate: the server refuses this client (TLS 1.3 says so after the
        # client's half of the handshake, at the first read).
        try:
            tls_exchange(tls_client(), address, b"no")
            raise AssertionError("a client without a certificate was served")
        except (ssl.SSLError, ConnectionError):
            pass
        # Plain bytes at the TLS port: closed, nothing answered.
        with socket.create_connection(address, timeout=10) as s:
            s.sendall(b"ZPAT\x01q\x00\x00" + struct.pack(">II", 1, 2) + b"no")
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
        member = tls_client(certfile=cert("client.pem"), keyfile=cert("client.key"))
        assert tls_exchange(member, address, b"member") == [b"member"]
    finally:
        rep.kill()
        _, err = rep.communicate()
    assert "TLS handshake with 127.0.0.1:" in err, err


def tls_client_at_a_plain_port():
    rep, address = start("rep", "@raw+tcp://127.0.0.1:*", "--echo", "-n", "1", "-t", "5s")
    try:
        tls_exchange(tls_client(), address, b"no")
        raise AssertionError("a TLS handshake with a plain port succeeded")
    except (ssl.SSLError, ConnectionError):
        pass
    _, err = rep.communicate(timeout=10)
    assert "the peer speaks TLS, and this endpoint does not" in err, err


cases = (request_reply, subscribe, wrong_role_is_refused, udp_request_reply, udp_subscribe,
         tls_request_reply, tls_refusals_leave_the_server_serving, tls_client_at_a_plain_port)
failed = 0
for case in cases:
    try:
        case()
        print(f"ok    {case.__name__}")
    except Exception as error:
        failed += 1
        print(f"FAIL  {case.__name__}: {error!r}")
print(f"{len(cases) - failed} passed, {failed} failed")
subprocess.run(["rm", "-rf", CERTS])
sys.exit(1 if failed else 0)
