#!/usr/bin/env python3
"""The tutorial's TCP echo, server and client, with nothing but Python's standard library.

usage: tcp_echo.py server <host> <port> [--count N]
       tcp_echo.py client <host> <port>

The server listens with a backlog of 5 (port 0: any free port, printed), and for each client:
accept, one recv of at most 1024 bytes, sendall of the same bytes, close. The client connects,
sends "hi, server!" with sendall, prints what one recv brings, and closes.
"""
import argparse
import socket


def server(host, port, count):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, port))
        sock.listen(5)
        print("tcp_echo.py: listening on %s:%d" % sock.getsockname(), flush=True)
        served = 0
        while count == 0 or served < count:
            conn, peer = sock.accept()
            with conn:
                data = conn.recv(1024)
                print("tcp_echo.py: got %r from %s:%d" % (data.decode(errors="replace"), *peer),
                      flush=True)
                conn.sendall(data)
            served += 1


def client(host, port):
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"hi, server!")
        data = sock.recv(1024)
    print("tcp_echo.py: received %r" % data.decode(errors="replace"))


def main():
    parser = argparse.ArgumentParser(description="The tutorial's TCP echo.")
    parser.add_argument("side", choices=["server", "client"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--count", type=int, default=0, help="clients to serve (0: forever)")
    args = parser.parse_args()
    if args.side == "server":
        server(args.host, args.port, args.count)
    else:
        client(args.host, args.port)


if __name__ == "__main__":
    main()
