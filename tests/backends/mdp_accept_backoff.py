"""zpat-broker's Majordomo endpoint at its descriptor limit backs off instead of spinning, says
so, and serves again once descriptors are free: the ROUTER there is zpat's own (io_model::caller),
whose listener leaves its epoll set for 100 ms after a failed accept, where libzmq's would wake
its I/O thread again at once.

The broker runs with a limit of 64 descriptors, which it cannot raise; this script opens 100
connections to its Majordomo endpoint. Then a pyzmq client asks mmi.service and is answered.
Run with Debian's system python3:
    mdp_accept_backoff.py PATH_TO_ZPAT_BROKER
"""
import subprocess
import sys

import zmq

from at_descriptor_limit import LIMIT, check


def served(_, port):
    context = zmq.Context()
    client = context.socket(zmq.REQ)
    client.setsockopt(zmq.LINGER, 0)
    client.setsockopt(zmq.RCVTIMEO, int(LIMIT * 1000))
    client.connect(f"tcp://127.0.0.1:{port}")
    client.send_multipart([b"MDPC01", b"mmi.service", b"echo"])
    reply = client.recv_multipart()
    assert reply == [b"MDPC01", b"mmi.service", b"404"], reply
    client.close()
    context.term()


burnt = check([sys.argv[1], "--no-forwarder", "--no-streamer", "--stats-endpoint", "",
               "--service-endpoint", "tcp://127.0.0.1:*"], 64, 100,
              r"Majordomo MDP/0\.1\) on tcp://127\.0\.0\.1:(\d+)", served,
              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
print(f"Majordomo accept at the descriptor limit: {burnt:.2f} s CPU in 1 s, logged, served after")
