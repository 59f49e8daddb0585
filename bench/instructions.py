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

Needs valgrind (Debian package valgrind). About 20 seconds a pattern and build.
"""

import argparse
import re
import subprocess
import sys

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zpat", help="the zpat binary to measure")
    parser.add_argument("patterns", nargs="+", choices=["pipeline", "pubsub", "reqrep"])
    parser.add_argument("--transport", default="tcp",
                        help="tcp, ipc or inproc (reqrep: inproc, so that both ends are counted)")
    parser.add_argument("--against", help="a second zpat binary (another build) to measure too")
    args = parser.parse_args()
    builds = [("", args.zpat)] + ([("against: ", args.against)] if args.against else [])
    for pattern in args.patterns:
        transport = "inproc" if pattern == "reqrep" else args.transport
        for label, zpat in builds:
            ours = per_message(zpat, pattern, transport, "zpat")
            bare = per_message(zpat, pattern, transport, "bare")
            print(f"{label}{pattern} over {transport}: zpat {ours:.0f}, bare libzmq {bare:.0f} "
                  f"instructions a message; zpat adds {ours - bare:.0f} ({ours / bare:.3f}x)")


if __name__ == "__main__":
    main()
