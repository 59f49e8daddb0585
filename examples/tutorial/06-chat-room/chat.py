#!/usr/bin/env python3
"""The tutorials' chat room, server and client, with nothing but Python's standard library.

usage: chat.py server tcp|udp <host> <port>
       chat.py client tcp|udp <host> <port> <name>

TCP server: relays each line a client sends to every other connected client and forgets the
ones that disconnect. UDP server: relays each datagram to every member but its sender; a
sender becomes a member with its first datagram and stops being one with "quit". Port 0: any
free port, printed. The client sends each line typed as "<name>: <line>" and prints what the
room sends; over UDP it says "<name> joined" first and "quit" at the end of input.
"""
import argparse
import os
import selectors
import socket
import sys


def tcp_server(host, port):
    sel = selectors.DefaultSelector()
    listener = socket.create_server((host, port))
    sel.register(listener, selectors.EVENT_READ)
    print("chat.py: listening on %s:%d" % listener.getsockname()[:2], flush=True)
    members = {}  # socket -> unfinished line
    while True:
        for key, _ in sel.select():
            if key.fileobj is listener:
                conn, peer = listener.accept()
                members[conn] = b""
                sel.register(conn, selectors.EVENT_READ)
                print("chat.py: %s:%d joined" % peer, flush=True)
                continue
            conn = key.fileobj
            data = conn.recv(4096)
            if not data:
                sel.unregister(conn)
                del members[conn]
                conn.close()
                print("chat.py: a member left", flush=True)
                continue
            *lines, members[conn] = (members[conn] + data).split(b"\n")
            for line in lines:
                for other in members:
                    if other is not conn:
                        other.sendall(line + b"\n")


def udp_server(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        print("chat.py: listening on %s:%d" % sock.getsockname(), flush=True)
        members = set()
        while True:
            data, sender = sock.recvfrom(4096)
            if data.strip() == b"quit":
                members.discard(sender)
                print("chat.py: %s:%d left" % sender, flush=True)
                continue
            if sender not in members:
                members.add(sender)
                print("chat.py: %s:%d joined" % sender, flush=True)
            for other in members - {sender}:
                sock.sendto(data, other)


def client(transport, host, port, name):
    if transport == "tcp":
        sock = socket.create_connection((host, port))
        send = sock.sendall
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect((host, port))
        send = sock.send
        send(("%s joined\n" % name).encode())
    print("chat.py: %s joined" % name, flush=True)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    typed = b""
    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                data = sock.recv(4096)
                if not data:
                    print("chat.py: the server closed the room", flush=True)
                    return
                print(data.decode(errors="replace"), end="", flush=True)
                continue
            chunk = os.read(sys.stdin.fileno(), 4096)  # not readline: its buffer hides lines
            if not chunk:
                if transport == "udp":
                    send(b"quit")
                sock.close()
                print("chat.py: %s left" % name, flush=True)
                return
            *lines, typed = (typed + chunk).split(b"\n")
            for line in lines:
                send(name.encode() + b": " + line + b"\n")


def main():
    parser = argparse.ArgumentParser(description="The tutorials' chat room.")
    parser.add_argument("side", choices=["server", "client"])
    parser.add_argument("transport", choices=["tcp", "udp"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("name", nargs="?", default="guest")
    args = parser.parse_args()
    if args.side == "client":
        client(args.transport, args.host, args.port, args.name)
    elif args.transport == "tcp":
        tcp_server(args.host, args.port)
    else:
        udp_server(args.host, args.port)


if __name__ == "__main__":
    main()
