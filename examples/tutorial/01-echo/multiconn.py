#!/usr/bin/env python3
"""The tutorial's multi-connection echo, server and client, on Python's selectors module.

usage: multiconn.py server <host> <port> [--count N]
       multiconn.py client <host> <port> <connections>

The server accepts non-blocking connections on one thread and echoes whatever each one sends
until it closes (port 0: any free port, printed); --count ends it after N connections closed.
The client opens <connections> connections at once; each sends two short messages, counts the
bytes echoed back, and closes when it has received everything it sent.
"""
import argparse
import selectors
import socket
import types

MESSAGES = [b"Message 1 from client.", b"Message 2 from client."]


def server(host, port, count):
    sel = selectors.DefaultSelector()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, port))
    listener.listen()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, data=None)
    print("multiconn.py: listening on %s:%d" % listener.getsockname(), flush=True)
    closed = 0
    while count == 0 or closed < count:
        for key, mask in sel.select(timeout=None):
            if key.data is None:
                conn, _ = key.fileobj.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE,
                             data=types.SimpleNamespace(outb=b""))
                continue
            conn, data = key.fileobj, key.data
            if mask & selectors.EVENT_READ:
                received = conn.recv(1024)
                if received:
                    data.outb += received
                else:
                    sel.unregister(conn)
                    conn.close()
                    closed += 1
                    continue
            if mask & selectors.EVENT_WRITE and data.outb:
                data.outb = data.outb[conn.send(data.outb):]
    print("multiconn.py: served %d connections" % closed, flush=True)


def client(host, port, connections):
    sel = selectors.DefaultSelector()
    total = sum(len(m) for m in MESSAGES)
    for _ in range(connections):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((host, port))
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE,
                     data=types.SimpleNamespace(outb=b"".join(MESSAGES), recv_total=0))
    sent = received = 0
    while sel.get_map():
        events = sel.select(timeout=5)
        if not events:
            break  # nothing for 5 s: the server stopped answering
        for key, mask in events:
            sock, data = key.fileobj, key.data
            if mask & selectors.EVENT_READ:
                chunk = sock.recv(1024)
                data.recv_total += len(chunk)
                received += len(chunk)
                if not chunk or data.recv_total >= total:
                    sel.unregister(sock)
                    sock.close()
                    continue
            if mask & selectors.EVENT_WRITE and data.outb:
                n = sock.send(data.outb)
                data.outb = data.outb[n:]
                sent += n
    print("multiconn.py: %d connections sent %d bytes and got %d back"
          % (connections, sent, received))
    return sent == received == connections * total


def main():
    parser = argparse.ArgumentParser(description="The tutorial's multi-connection echo.")
    parser.add_argument("side", choices=["server", "client"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("connections", type=int, nargs="?", default=10)
    parser.add_argument("--count", type=int, default=0, help="connections to serve (0: forever)")
    args = parser.parse_args()
    if args.side == "server":
        server(args.host, args.port, args.count)
    elif not client(args.host, args.port, args.connections):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
