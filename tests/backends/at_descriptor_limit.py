"""What the descriptor-limit tests share: a process started with a descriptor limit it cannot
raise, a crowd of plain TCP connections past that limit, its CPU measured while they stay (a
listener that retried its accept at once would burn a whole core), its log checked for the
back-off, and then, with the crowd gone, proof that it serves again."""
import os
import re
import resource
import socket
import subprocess
import threading
import time

LIMIT = 10.0


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


def check(argv, descriptors, crowd_size, port_pattern, served, **popen):
    """Runs `argv` with `descriptors` descriptors at most, finds its port in its log with
    `port_pattern`, crowds it, and calls served(process, port) once the crowd is gone. Returns
    the CPU seconds it burnt in the second it was crowded."""
    process = subprocess.Popen(
        argv, text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors)),
        **popen)
    log = []
    lines = process.stderr if popen.get("stderr") == subprocess.PIPE else process.stdout
    threading.Thread(target=lambda: log.extend(lines), daemon=True).start()
    crowd = []
    try:
        assert wait_for(lambda: re.search(port_pattern, "".join(log))), log
        port = int(re.search(port_pattern, "".join(log)).group(1))
        crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(crowd_size)]
        assert wait_for(lambda: any("failed (Too many open files); trying again in 100 ms" in line
                                    for line in log)), log
        before = cpu_seconds(process.pid)
        time.sleep(1.0)  # the measured window: how much CPU the listener burns at its limit
        burnt = cpu_seconds(process.pid) - before
        assert burnt < 0.3, f"{burnt:.2f} s of CPU in 1 s at the descriptor limit"
        for s in crowd:
            s.close()
        crowd = []
        served(process, port)
        return burnt
    finally:
        for s in crowd:
            s.close()
        if process.poll() is None:
            process.kill()
            process.wait()
