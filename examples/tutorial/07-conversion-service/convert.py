#!/usr/bin/env python3
"""The tutorial's conversion service, server and client, with nothing but Python's standard
library: the client sends a temperature in Celsius, the server answers in Fahrenheit.

usage: convert.py server tcp|udp <host> <port> [--count N]
       convert.py client tcp|udp <host> <port> <celsius>

TCP: the client connects, sends the number as text with one sendall, prints what one recv
brings and closes; the server accepts, answers one request and closes. UDP: one datagram each
way. Port 0: any free port, printed.
"""
import argparse
import socket


def convert(request):
    try:
        return ("%.1f" % (float(request.decode().strip()) * 9 / 5 + 32)).encode()
    except ValueError:
        return b"error: not a number"


def server(transport, host, port, count):
    kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, port))
        print("convert.py: listening on %s:%d" % sock.getsockname(), flush=True)
        if transport == "tcp":
            sock.listen(5)
        for _ in range(count) if count else iter(int, 1):
            if transport == "udp":
                data, sender = sock.recvfrom(1024)
                sock.sendto(convert(data), sender)
                continue
            conn, _ = sock.accept()
            with conn:
                conn.sendall(convert(conn.recv(1024)))


def client(transport, host, port, celsius):
    if transport == "tcp":
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(celsius.encode())
            answer = sock.recv(1024)
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            sock.sendto(celsius.encode(), (host, port))
            answer, _ = sock.recvfrom(1024)
    print("convert.py: %s C -> %s" % (celsius, answer.decode().strip()))


def main():
    parser = argparse.ArgumentParser(description="The tutorial's conversion service.")
    parser.add_argument("side", choices=["server", "client"])
    parser.add_argument("transport", choices=["tcp", "udp"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("celsius", nargs="?", default="25")
    parser.add_argument("--count", type=int, default=0, help="requests to answer (0: forever)")
    args = parser.parse_args()
    if args.side == "server":
        server(args.transport, args.host, args.port, args.count)
    else:
        client(args.transport, args.host, args.port, args.celsius)


if __name__ == "__main__":
    main()
