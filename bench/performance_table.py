#!/usr/bin/env python3
"""The performance table, made from `zpat bench ... --json` runs.

    usage: performance_table.py RESULTS.jsonl [--update FILE]...

RESULTS.jsonl holds one JSON object a line, as `zpat bench --json` prints them (`./dev bench`
writes build/bench/results.jsonl). Prints the table in Markdown; with --update, also writes it
into each FILE between the two marker lines, leaving the rest of FILE as it was.
"""
import argparse
import json
import sys

BEGIN = "<!-- performance table: made by bench/performance_table.py from ./dev bench -->"
END = "<!-- end of the performance table -->"


def rate(value):
    if value >= 1e6:
        return f"{value / 1e6:.2f} M/s"
    return f"{value / 1e3:.0f} k/s"


def size(n):
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


def backend(transport):
    return "raw TCP" if transport.startswith("raw") else f"ZeroMQ {transport}"


def rows_of(run):
    """(pattern, backend, size, zpat, baseline, ratio) rows for one run."""
    shape, measured, base = run["shape"], run["measured"], run["baseline"]
    where, n = backend(measured["transport"]), size(run["message_size"])
    if shape == "broker-mdp":
        return [("Majordomo echo through zpat-broker, p50", "ZeroMQ tcp", n,
                 f"{measured['p50_us']:.0f} us",
                 f"{base['label']} {base['p50_us']:.0f} us",
                 f"{run['ratios']['p50_latency']:.2f}x (lower is better)"),
                ("Majordomo echo through zpat-broker, p50, from a libzmq REQ client",
                 "ZeroMQ tcp", n, f"{measured['p50_us_libzmq_client']:.0f} us",
                 f"{base['label']} {base['p50_us']:.0f} us",
                 f"{run['ratios']['p50_latency_libzmq_client']:.2f}x (lower is better)"),
                ("Majordomo requests/s, 8 clients, 1 / 4 workers", "ZeroMQ tcp", n,
                 f"{measured['requests_per_second_1_worker']:.0f} / "
                 f"{measured['requests_per_second_4_workers']:.0f}", "", "")]
    if shape == "reqrep":
        return [("request-reply, p50", where, n, f"{measured['p50_us']:.0f} us",
                 f"{base['label']} {base['p50_us']:.0f} us",
                 f"{run['ratios']['p50_latency']:.2f}x (lower is better)")]
    names = {"pipeline": "pipeline", "pubsub": "pub-sub",
             "broker-pubsub": "pub-sub through zpat-broker",
             "broker-fanout": "pub-sub through zpat-broker, 1 publisher to 10 subscribers",
             "broker-fanin": "pub-sub through zpat-broker, 10 publishers to 1 subscriber "
                             "wanting half"}
    out = [(names.get(shape, shape), where, n, rate(measured["messages_per_second"]),
            f"{base['label']} {rate(base['messages_per_second'])}",
            f"{run['ratios']['throughput']:.2f}x")]
    if "broker_cpu_us_per_message" in measured:
        out[0] = out[0][:5] + (f"{run['ratios']['throughput']:.2f}x; broker CPU "
                               f"{measured['broker_cpu_us_per_message']:.2f} against "
                               f"{base['broker_cpu_us_per_message']:.2f} us/msg",)
    if "limit" in run:
        limit = run["limit"]
        out.append((names[shape] + ", against the limit", where, n,
                    rate(measured["messages_per_second"]),
                    f"{limit['label']} {rate(limit['messages_per_second'])}",
                    f"{run['ratios']['of_limit']:.2f}x; broker CPU "
                    f"{run['ratios']['broker_cpu_of_limit']:.1f}x the relay's"))
    return out


def table(runs):
    lines = ["| measured | backend | size | zpat | baseline (same run) | ratio |",
             "|---|---|---|---|---|---|"]
    for run in runs:
        for row in rows_of(run):
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def update(path, text):
    with open(path, encoding="utf-8") as f:
        content = f.read()
    start, end = content.find(BEGIN), content.find(END)
    if start < 0 or end < start:
        sys.exit(f"performance_table.py: {path} has no marker lines:\n{BEGIN}\n{END}")
    content = content[:start + len(BEGIN)] + "\n" + text + content[end:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--update", metavar="FILE", action="append", default=[])
    args = parser.parse_args()
    runs = []
    with open(args.results, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    runs.append(json.loads(line))
                except json.JSONDecodeError as error:
                    sys.exit(f"performance_table.py: {args.results} line {number}: {error}")
    text = table(runs)
    print(text, end="")
    for path in args.update:
        update(path, text)


if __name__ == "__main__":
    main()
