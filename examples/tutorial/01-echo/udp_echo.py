#!/usr/bin/env python3
"""The tutorial's UDP echo, server and client, with nothing but Python's standard library.

usage: udp_echo.py server <host> <port> [--count N]
       udp_echo.py client <host> <port>

The server binds (port 0: any free port, printed), receives datagrams of at most 4096 bytes,
prints each sender and text and answers "hi, client!".
The client sends "hi, server!", prints the answer and who sent it, and gives up after 5 s.
"""
import argparse
import socket


def server(host, port, count):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        print("udp_echo.py: listening on %s:%d" % sock.getsockname(), flush=True)
        served = 0
        while count == 0 or served < count:
            data, sender = sock.recvfrom(4096)
            print("udp_echo.py: got %r from %s:%d" % (data.decode(errors="replace"), *sender),
                  flush=True)
            sock.sendto(b"hi, client!", sender)
            served += 1


def client(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(b"hi, server!", (host, port))
        data, sender = sock.recvfrom(4096)
        print("udp_echo.py: received %r from %s:%d" % (data.decode(errors="replace"), *sender))


def main():
    parser = argparse.ArgumentParser(description="The tutorial's UDP echo.")
    parser.add_argument("side", choices=["server", "client"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--count", type=int, default=0, help="datagrams to answer (0: forever)")
    args = parser.parse_args()
    if args.side == "server":
        server(args.host, args.port, args.count)
    else:
        client(args.host, args.port)


if __name__ == "__main__":
    main()
