"""A raw+tcp subscriber written from docs/wire-format.md with only the standard library, for the
fault runs: the 8-byte greeting, subscriptions, and whole messages parsed as they arrive."""
import socket
import struct

WORD = struct.Struct(">I")


def connect_subscriber(endpoint, prefixes, timeout_s=10):
    """A connected, non-blocking socket that greeted a publisher as a subscriber and subscribed
    to each prefix (bytes)."""
    host, port = endpoint[len("raw+tcp://"):].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout_s)
    sock.sendall(b"ZPAT\x01s\x00\x00")
    greeting = b""
    while len(greeting) < 8:
        chunk = sock.recv(8 - len(greeting))
        if not chunk:
            raise ConnectionError(f"{endpoint} closed the connection during the greeting")
        greeting += chunk
    if greeting[:6] != b"ZPAT\x01p":
        raise ConnectionError(f"{endpoint} is not a raw+tcp publisher: {greeting!r}")
    for prefix in prefixes:
        sock.sendall(WORD.pack(1) + WORD.pack(1 + len(prefix)) + b"\x01" + prefix)
    sock.setblocking(False)
    return sock


class Reader:
    """Whole messages (lists of frames) from the bytes of one connection, as they arrive."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def read(self):
        """The messages completed by what can be read now, without waiting. Raises
        ConnectionError once the peer has closed."""
        try:
            data = self.sock.recv(1 << 18)
        except BlockingIOError:
            return []
        if not data:
            raise ConnectionError("the publisher closed the connection")
        self.buffer.extend(data)
        messages, at = [], 0
        while len(self.buffer) - at >= 4:
            count, = WORD.unpack_from(self.buffer, at)
            frames, cursor = [], at + 4
            for _ in range(count):
                if len(self.buffer) - cursor < 4:
                    break
                size, = WORD.unpack_from(self.buffer, cursor)
                if len(self.buffer) - cursor - 4 < size:
                    break
                frames.append(bytes(self.buffer[cursor + 4:cursor + 4 + size]))
                cursor += 4 + size
            if len(frames) < count:
                break
            messages.append(frames)
            at = cursor
        del self.buffer[:at]
        return messages
