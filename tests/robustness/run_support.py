"""What the fault runs share: ephemeral loopback ports, the processes a run starts (and only those
are ended, by their PID) and the broker's counters read from its stats endpoint."""
import json
import select
import signal
import socket
import subprocess

import zmq


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Every process a run starts, each in its own session; end_all() kills what still runs."""

    def __init__(self):
        self.started = []

    def start(self, argv, **kwargs):
        process = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self.started.append(process)
        return process

    def end_all(self):
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a stopped one ends too
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)


def read_line(process, timeout_s):
    """The next line the process writes on its stdout, or None after timeout_s."""
    if select.select([process.stdout], [], [], timeout_s)[0]:
        return process.stdout.readline().strip()
    return None


class Stats:
    """The broker's counters through one REQ socket that may ask again after a lost answer."""

    def __init__(self, context, endpoint):
        self.req = context.socket(zmq.REQ)
        self.req.setsockopt(zmq.LINGER, 0)
        self.req.setsockopt(zmq.REQ_RELAXED, 1)
        self.req.setsockopt(zmq.REQ_CORRELATE, 1)
        self.req.connect(endpoint)

    def read(self):
        """The counters, or None if the broker does not answer within 5 s."""
        self.req.send(b"json")
        if self.req.poll(5000, zmq.POLLIN):
            return json.loads(self.req.recv())
        return None

    def close(self):
        self.req.close()
