#!/usr/bin/env python3
"""Hostile members in a plain TCP chat room, with nothing but the socket library: what a room
server must survive, and what chat_server promises about it.

- An endless line (megabytes with no newline) is passed on in pieces as it arrives, not held
  until its newline comes.
- A member that never reads is disconnected; the others still get every byte.
- The room holds at most 256 members; the next one to connect is closed at once.

  usage: room_limits.py PORT
"""

import socket
import sys
import threading
import time

FLOOD = 32 * 1024 * 1024  # bytes of one line with no newline
MEMBERS = 256


def join(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def greet_until_heard(talker, listeners):
    """Until each listener has heard a line from talker: then all are members of the room."""
    for listener in listeners:
        listener.settimeout(0.05)
        heard = b""
        deadline = time.monotonic() + 10
        while b"hello\n" not in heard:
            if time.monotonic() > deadline:
                sys.exit("room_limits.py: a member was never let into the room")
            talker.sendall(b"hello\n")
            try:
                heard += listener.recv(4096)
            except socket.timeout:
                pass
    time.sleep(0.2)  # the last greetings still on their way
    for listener in listeners:
        drain(listener)


def drain(s):
    s.settimeout(0.05)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        pass


def closed_by_server(s, limit=10):
    """True when the server closes s (what was queued for it is read and thrown away)."""
    s.settimeout(limit)
    try:
        while s.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def main():
    port = int(sys.argv[1])
    reader, slow, hostile = join(port), join(port), join(port)
    greet_until_heard(hostile, [reader, slow])

    received = bytearray()

    def read():
        reader.settimeout(30)
        while not received.endswith(b"\n"):
            chunk = reader.recv(65536)
            if not chunk:
                return
            received.extend(chunk)

    reading = threading.Thread(target=read)
    reading.start()
    piece = b"x" * 65536
    for _ in range(FLOOD // len(piece)):
        hostile.sendall(piece)
    # No newline yet: all but the last unfinished 4 KiB must already have been passed on.
    deadline = time.monotonic() + 30
    while len(received) < FLOOD - 4096 and time.monotonic() < deadline:
        time.sleep(0.01)
    if len(received) < FLOOD - 4096:
        sys.exit(f"room_limits.py: an endless line was held: {len(received)} of {FLOOD} bytes came")
    hostile.sendall(b"\n")
    reading.join()
    if bytes(received) != b"x" * FLOOD + b"\n":
        sys.exit(f"room_limits.py: the reader got {len(received)} bytes, not the {FLOOD + 1} sent")
    print(f"room_limits.py: a {FLOOD}-byte line went on in pieces, every byte to the reader")

    if not closed_by_server(slow):
        sys.exit("room_limits.py: a member that never reads was kept")
    print("room_limits.py: the member that never read was disconnected")

    # reader and hostile are members; fill the room to its limit, then knock once more.
    crowd = [join(port) for _ in range(MEMBERS - 2)]
    greet_until_heard(hostile, [crowd[-1]])
    extra = join(port)
    if not closed_by_server(extra, limit=5):
        sys.exit(f"room_limits.py: member {MEMBERS + 1} was let in")
    hostile.sendall(b"still here\n")
    heard, deadline = b"", time.monotonic() + 10
    crowd[-1].settimeout(0.1)
    while b"still here\n" not in heard and time.monotonic() < deadline:
        try:
            heard += crowd[-1].recv(4096)
        except socket.timeout:
            pass
    if b"still here\n" not in heard:
        sys.exit(f"room_limits.py: member {MEMBERS} lost its place")
    print(f"room_limits.py: {MEMBERS} members fit, member {MEMBERS + 1} was turned away")
    for s in [reader, hostile, extra] + crowd:
        s.close()


if __name__ == "__main__":
    main()
