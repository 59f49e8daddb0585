"""A raw+tcp listener at its descriptor limit backs off instead of spinning, says so, and serves
again once descriptors are free.

`zpat pull` runs with a limit of 24 descriptors; this script opens 40 connections to it, so its
accepts fail with EMFILE. A listener that retried at once would burn a whole core; this one must
use little CPU while the condition lasts, log the failure, and take a pusher's message once the
connections are gone. Run with Debian's system python3:
    accept_backoff.py PATH_TO_ZPAT
"""
import socket
import struct
import subprocess
import sys

from at_descriptor_limit import LIMIT, check

BODY = b"after the crowd"


def served(puller, port):
    pusher = socket.create_connection(("127.0.0.1", port))
    pusher.sendall(b"ZPAT\x01u\x00\x00" + struct.pack(">II", 1, len(BODY)) + BODY)
    out, _ = puller.communicate(timeout=LIMIT)
    pusher.close()
    assert puller.returncode == 0, puller.returncode
    assert out.strip() == BODY.decode(), out


burnt = check([sys.argv[1], "pull", "@raw+tcp://127.0.0.1:*", "-n", "1", "-t", "20s"], 24, 40,
              r"raw\+tcp://127\.0\.0\.1:(\d+)", served,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
print(f"accept at the descriptor limit: {burnt:.2f} s CPU in 1 s, logged, served after")
