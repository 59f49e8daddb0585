"""A raw+tcp listener at its descriptor limit backs off instead of spinning, says so, and serves
again once descriptors are free.

`zpat pull` runs with a limit of 24 descriptors; this script opens 40 connections to it, so its
accepts fail with EMFILE. A listener that retried at once would burn a whole core; this one must
use little CPU while the condition lasts, log the failure, and take a pusher's message once the
connections are gone. Run with Debian's system python3:
    accept_backoff.py PATH_TO_ZPAT
"""
import os
import re
import resource
import socket
import struct
import subprocess
import sys
import threading
import time

ZPAT = sys.argv[1]
LIMIT = 10.0


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(condition, limit=LIMIT):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


puller = subprocess.Popen([ZPAT, "pull", "@raw+tcp://127.0.0.1:*", "-n", "1", "-t", "20s"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          preexec_fn=limit_descriptors)
log = []
threading.Thread(target=lambda: log.extend(puller.stderr), daemon=True).start()
try:
    assert wait_for(lambda: any("bound" in line for line in log)), log
    port = int(re.search(r"raw\+tcp://127\.0\.0\.1:(\d+)", "".join(log)).group(1))

    crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
    assert wait_for(lambda: any("failed (Too many open files); trying again in 100 ms" in line
                                for line in log)), log
    before = cpu_seconds(puller.pid)
    time.sleep(1.0)  # the measured window: how much CPU the listener burns at its limit
    burnt = cpu_seconds(puller.pid) - before
    assert burnt < 0.3, f"the listener used {burnt:.2f} s of CPU in 1 s at its descriptor limit"

    for s in crowd:
        s.close()
    pusher = socket.create_connection(("127.0.0.1", port))
    body = b"after the crowd"
    pusher.sendall(b"ZPAT\x01u\x00\x00" + struct.pack(">II", 1, len(body)) + body)
    out, _ = puller.communicate(timeout=LIMIT)
    pusher.close()
    assert puller.returncode == 0, (puller.returncode, log)
    assert out.strip() == body.decode(), out
    print(f"accept at the descriptor limit: {burnt:.2f} s CPU in 1 s, logged, served after")
finally:
    if puller.poll() is None:
        puller.kill()
        puller.wait()
