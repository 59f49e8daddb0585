#!/usr/bin/env python3
"""The tutorial's application client with nothing but Python's standard library.

usage: app_client.py <host> <port> <action> <value> [--trickle]

It speaks the protocol of app_protocol.hpp as the tutorial writes it: a 2-byte big-endian header
length, a UTF-8 JSON header, then the content. --trickle sends the request one byte at a time, as
a slow network might deliver it: the server must put the pieces together itself.
"""
import json
import socket
import struct
import sys
import time


def encode(content_type, encoding, content):
    header = json.dumps({"byteorder": sys.byteorder, "content-type": content_type,
                         "content-encoding": encoding, "content-length": len(content)},
                        ensure_ascii=False).encode("utf-8")
    return struct.pack(">H", len(header)) + header + content


def read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection mid-reply")
        data += chunk
    return data


def main():
    args = [a for a in sys.argv[1:] if a != "--trickle"]
    if len(args) != 4:
        sys.exit(__doc__.split("\n")[2])
    host, port, action, value = args
    if action == "search":
        request = encode("text/json", "utf-8",
                         json.dumps({"action": action, "value": value}).encode("utf-8"))
    else:
        request = encode("binary/custom-client-binary-type", "binary",
                         (action + value).encode("utf-8"))
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        if "--trickle" in sys.argv:
            for i in range(len(request)):
                sock.sendall(request[i:i + 1])
                time.sleep(0.001)
        else:
            sock.sendall(request)
        (header_size,) = struct.unpack(">H", read_exactly(sock, 2))
        header = json.loads(read_exactly(sock, header_size).decode("utf-8"))
        content = read_exactly(sock, header["content-length"])
    if header["content-type"] == "text/json":
        print("app_client.py: result:", json.loads(content.decode("utf-8"))["result"])
    else:
        print("app_client.py:", header["content-type"], "reply:", content)


main()
