#!/usr/bin/env python3
"""The tutorial's multi-echo server and a client for it, with nothing but Python's standard
library.

usage: multi_echo.py server <host> <port> [--workers N]
       multi_echo.py client <host> <port> [--clients N] [--lines N]

The server hands each connection to a pool of --workers threads (10, as the tutorial caps it)
and echoes whatever the connection sends until it closes (port 0: any free port, printed). The
client opens --clients connections at once; each sends --lines lines, one at a time, and reads
each back before the next: the servers of concurrent_servers speak lines.
"""
import argparse
import concurrent.futures
import socket
import threading
import time


def server(host, port, workers):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)

    def echo(conn):
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data)

    with socket.create_server((host, port)) as listener:
        print("multi_echo.py: listening on %s:%d" % listener.getsockname()[:2], flush=True)
        while True:
            conn, _ = listener.accept()
            pool.submit(echo, conn)


def client(host, port, clients, lines):
    failures = []

    def talk(c):
        try:
            with socket.create_connection((host, port), timeout=10) as sock:
                for n in range(lines):
                    line = b"hello %d.%d\n" % (c, n)
                    sock.sendall(line)
                    got = b""
                    while not got.endswith(b"\n"):
                        chunk = sock.recv(1024)
                        if not chunk:
                            raise ConnectionError("closed mid-line")
                        got += chunk
                    if got != line:
                        raise ValueError("%r came back as %r" % (line, got))
        except Exception as error:  # every client is reported
            failures.append(error)

    start = time.monotonic()
    threads = [threading.Thread(target=talk, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = (time.monotonic() - start) * 1000
    print("multi_echo.py: %d clients, %d lines each: %d answered in full, %.0f ms"
          % (clients, lines, clients - len(failures), took))
    return not failures


def main():
    parser = argparse.ArgumentParser(description="The tutorial's multi-echo server and client.")
    parser.add_argument("side", choices=["server", "client"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--workers", type=int, default=10, help="server threads (default 10)")
    parser.add_argument("--clients", type=int, default=16, help="connections at once")
    parser.add_argument("--lines", type=int, default=5, help="lines per connection")
    args = parser.parse_args()
    if args.side == "server":
        server(args.host, args.port, args.workers)
    elif not client(args.host, args.port, args.clients, args.lines):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
