#!/usr/bin/env python3
"""Instructions a message in zpat's roles and in bare libzmq, counted, not timed.

On a machine of two cores the throughput of `zpat bench` moves by several percent from run to
run, so a difference of a few percent between zpat and bare libzmq, or between two builds,
cannot be told from noise there. An instruction count can: this runs `zpat bench PATTERN` under
valgrind's callgrind, once for each side, counting only inside that side's function and the
threads it starts (libzmq's I/O thread, the same code for both, is left out), at two message
counts, so that set-up cancels out of the difference.

    python3 bench/instructions.py build/dev/tools/zpat/zpat pipeline pubsub
    python3 bench/instructions.py NEW/zpat --against OLD/zpat pubsub   # two builds

The broker shapes (broker-pubsub, broker-fanin, broker-fanout) count a whole process instead:
zpat-broker's forwarder against a zmq_proxy process, each run under callgrind in place of the
broker that `zpat bench` starts (its --broker), every thread counted, per message published:

    python3 bench/instructions.py build/dev/tools/zpat/zpat broker-pubsub broker-fanin

Needs valgrind (Debian package valgrind). About 20 seconds a pattern and build.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

BROKER_PATTERNS = ("broker-pubsub", "broker-fanin", "broker-fanout")

COUNTS = (50_000, 150_000)


def collected(zpat, pattern, transport, side, count):
    """Instructions counted inside `side`'s function of `zpat bench` (and its threads)."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         f"--toggle-collect=*{side}_{pattern}(*", zpat, "bench", pattern,
         "--transport", transport, "-r", "1", "-n", str(count)],
        capture_output=True, text=True, timeout=600, check=False)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or not found:
        sys.exit(f"callgrind of {zpat} bench {pattern} failed:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_message(zpat, pattern, transport, side):
    low, high = (collected(zpat, pattern, transport, side, n) for n in COUNTS)
    return (high - low) / (COUNTS[1] - COUNTS[0])


def broker_wrapper(directory, name, command, rename_endpoints):
    """A script for `zpat bench --broker` that runs `command` under callgrind, writing its count
    to directory/name.out; the zmq_proxy baseline's endpoint lines are renamed to the broker's."""
    out = os.path.join(directory, name + ".out")
    lines = ["#!/bin/bash"]
    if rename_endpoints:
        lines.append("exec > >(sed -u 's/^frontend /forwarder frontend (publishers) on /; "
                     "s/^backend /forwarder backend (subscribers) on /') 2>&1")
    lines.append(f"exec valgrind --tool=callgrind --callgrind-out-file={shlex.quote(out)} "
                 f"{command}")
    script = os.path.join(directory, name + ".sh")
    with open(script, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(script, 0o755)
    return script, out


def broker_collected(zpat, pattern, script, out, count):
    """Instructions the process behind `script` ran while `zpat bench PATTERN` moved `count`."""
    if os.path.exists(out):
        os.remove(out)
    run = subprocess.run([zpat, "bench", pattern, "-r", "1", "-n", str(count), "--broker", script],
                         capture_output=True, text=True, timeout=600, check=False)
    if run.returncode != 0 or not os.path.exists(out):
        sys.exit(f"{zpat} bench {pattern} under callgrind failed:\n{run.stderr[-2000:]}")
    with open(out, encoding="utf-8") as f:
        found = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.MULTILINE)
    if not found:
        sys.exit(f"no instruction count in {out}")
    return int(found.group(1))


def broker_per_message(zpat, broker, pattern):
    """zpat-broker's and a zmq_proxy process's instructions per message published."""
    with tempfile.TemporaryDirectory() as directory:
        sides = {
            "zpat-broker": broker_wrapper(directory, "broker", shlex.quote(broker) + ' "$@"',
                                          False),
            "zmq_proxy": broker_wrapper(
                directory, "proxy",
                shlex.quote(zpat) + " bench-proxy --kind zmq_proxy --transport tcp", True),
        }
        found = {}
        for side, (script, out) in sides.items():
            low, high = (broker_collected(zpat, pattern, script, out, n) for n in COUNTS)
            found[side] = (high - low) / (COUNTS[1] - COUNTS[0])
        return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zpat", help="the zpat binary to measure")
    parser.add_argument("patterns", nargs="+",
                        choices=["pipeline", "pubsub", "reqrep", *BROKER_PATTERNS])
    parser.add_argument("--transport", default="tcp",
                        help="tcp, ipc or inproc (reqrep: inproc, so that both ends are counted)")
    parser.add_argument("--against", help="a second zpat binary (another build) to measure too")
    parser.add_argument("--broker", help="the zpat-broker for the broker shapes (default: the "
                        "one in the build tree of the zpat binary)")
    args = parser.parse_args()
    builds = [("", args.zpat)] + ([("against: ", args.against)] if args.against else [])
    for pattern in args.patterns:
        if pattern in BROKER_PATTERNS:
            for label, zpat in builds:
                broker = args.broker if args.broker and not label else os.path.join(
                    os.path.dirname(os.path.abspath(zpat)), "..", "..", "broker", "zpat-broker")
                found = broker_per_message(zpat, broker, pattern)
                ours, bare = found["zpat-broker"], found["zmq_proxy"]
                print(f"{label}{pattern} over tcp: zpat-broker {ours:.0f}, zmq_proxy {bare:.0f} "
                      f"instructions a message published, every thread of the process "
                      f"({ours / bare:.3f}x)")
            continue
        transport = "inproc" if pattern == "reqrep" else args.transport
        for label, zpat in builds:
            ours = per_message(zpat, pattern, transport, "zpat")
            bare = per_message(zpat, pattern, transport, "bare")
            print(f"{label}{pattern} over {transport}: zpat {ours:.0f}, bare libzmq {bare:.0f} "
                  f"instructions a message; zpat adds {ours - bare:.0f} ({ours / bare:.3f}x)")


if __name__ == "__main__":
    main()
