#!/usr/bin/env python3
"""What zpat-broker's ZeroMQ listener costs at its descriptor limit (docs/robustness.md).

libzmq's TCP listener, when accept() fails with EMFILE, leaves the connection in the backlog,
so the listening socket stays readable and the I/O thread wakes again at once: a spin. This
starts a broker whose descriptor limit is LIMIT (soft and hard, so it cannot raise it), opens
CONNECTIONS plain TCP connections to its Majordomo endpoint, and reports the broker's CPU over
three seconds. Run it twice, below and at the limit, to see the spin and the mitigation (a
limit well above the connections: the daemon raises its soft limit to the hard one, and the
systemd unit sets LimitNOFILE=65536).

  usage: descriptor_limit.py ZPAT_BROKER LIMIT CONNECTIONS
  e.g.:  descriptor_limit.py build/dev/broker/zpat-broker 64 100     # ~100% of a core
         descriptor_limit.py build/dev/broker/zpat-broker 1024 100   # ~0%
"""

import os
import socket
import subprocess
import sys
import time


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def main():
    broker, limit, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    process = subprocess.Popen(
        ["prlimit", f"--nofile={limit}:{limit}", broker, "--service-endpoint",
         f"tcp://127.0.0.1:{port}", "--no-forwarder", "--no-streamer", "--stats-endpoint", ""],
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:  # until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("descriptor_limit.py: the broker did not start")
                time.sleep(0.05)
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        time.sleep(1)  # the broker has accepted what it can
        before = cpu_ticks(process.pid)
        time.sleep(3)
        used = (cpu_ticks(process.pid) - before) / os.sysconf("SC_CLK_TCK") / 3
        print(f"descriptor limit {limit}, {len(connections)} connections: "
              f"the broker used {used * 100:.0f}% of a core")
        for c in connections:
            c.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
