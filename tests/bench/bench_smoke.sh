#!/usr/bin/env bash
# The benchmark harness, every shape once and briefly: it must run and lose nothing (zpat bench
# exits 1 when a lossless run lost messages or a request went unanswered), and a comparison across
# different transports is refused by name; --json prints what the table says as JSON. The figures
# themselves are for `./dev bench`.
#   usage: bench_smoke.sh PATH_TO_ZPAT
set -euo pipefail
zpat=$1
results=$(mktemp)
wrapper=$(mktemp)
forked=$(mktemp)
trap 'rm -f "$results" "$results.md" "$wrapper" "$forked"' EXIT
for shape in pipeline pubsub reqrep broker-pubsub broker-mdp; do
    "$zpat" bench "$shape" -n 400 -r 1
done
"$zpat" bench pipeline --backend raw -n 400 -r 1
"$zpat" bench broker-pubsub --transport ipc -n 400 -r 1
"$zpat" bench broker-pubsub --backend raw -n 400 -r 1
# The fan shapes, on both backends: every subscriber gets every message it wants, counted
# together.
for backend in zmq raw; do
    for shape in broker-fanout broker-fanin; do
        "$zpat" bench "$shape" --backend "$backend" -n 400 -r 1 --json | tee -a "$results" | python3 -c '
import json, sys
run = json.load(sys.stdin)
expected = {"broker-fanout": 4000, "broker-fanin": 200}[sys.argv[1]]
for side in ("baseline", "measured"):
    assert run[side]["expected"] == expected and run[side]["least_delivered"] == expected, run
    assert run[side]["count"] == 400, run  # --count: every side, no sizing
assert run["lossless"] is True and "limit" not in run, run
assert run["measured"]["transport"] == {"zmq": "tcp", "raw": "raw+tcp"}[sys.argv[2]], run
' "$shape" "$backend" || { echo "bench_smoke.sh: $shape --backend $backend" >&2; exit 1; }
    done
done
for shape in pipeline pubsub reqrep; do
    secured=$("$zpat" bench "$shape" --secure -n 400 -r 1)
    grep -q "zpat + CURVE / zpat" <<<"$secured" || { echo "bench_smoke.sh: --secure $shape: $secured" >&2; exit 1; }
    secured=$("$zpat" bench "$shape" --secure --backend raw -n 400 -r 1)
    grep -q "zpat + TLS / zpat" <<<"$secured" || { echo "bench_smoke.sh: --secure --backend raw $shape: $secured" >&2; exit 1; }
done
# --json: one object a run, with both sides and the ratios. Kept for the table below.
for shape in pipeline reqrep broker-pubsub; do
    "$zpat" bench "$shape" -n 400 -r 1 --json | tee -a "$results" | python3 -c '
import json, sys
run = json.load(sys.stdin)
assert run["shape"] == sys.argv[1] and run["lossless"] is True, run
assert run["measured"]["least_delivered"] == 400 and run["ratios"]["throughput"] > 0, run
assert ("p50_latency" in run["ratios"]) == (sys.argv[1] == "reqrep"), run
# The broker and the proxy run as processes of their own, their CPU time measured apart.
broker = sys.argv[1] == "broker-pubsub"
for side in ("baseline", "measured"):
    assert ("broker_cpu_us_per_message" in run[side]) == broker, run
    assert not broker or run[side]["broker_cpu_us_per_message"] > 0, run
# Over tcp a plain relay of the raw wire runs too: the limit.
assert ("limit" in run) == broker, run
assert not broker or (run["limit"]["least_delivered"] == 400 and run["ratios"]["of_limit"] > 0), run
' "$shape" || { echo "bench_smoke.sh: --json $shape" >&2; exit 1; }
done
"$zpat" bench broker-mdp -n 400 --json | tee -a "$results" | python3 -c '
import json, sys
run = json.load(sys.stdin)
assert run["shape"] == "broker-mdp" and run["lossless"] is True and run["lost"] == 0, run
assert run["measured"]["p50_us"] > 0 and run["baseline"]["p50_us"] > 0, run
assert run["measured"]["p50_us_libzmq_client"] > 0, run
assert run["ratios"]["p50_latency_libzmq_client"] > 0, run
assert run["measured"]["requests_per_second_4_workers"] > 0 and run["ratios"]["p50_latency"] > 0, run
assert run["measured"]["broker_cpu_us_per_request_4_workers"] > 0, run
' || { echo "bench_smoke.sh: --json broker-mdp" >&2; exit 1; }
# The performance table is made from those runs: a header and a row for each, two for a broker
# with a limit, three for broker-mdp, written between a file's markers and nowhere else.
benches=$(dirname "$0")/../../bench
python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import performance_table as t
print(f"before\n{t.BEGIN}\nold table\n{t.END}\nafter")' "$benches" >"$results.md"
python3 "$benches/performance_table.py" "$results" --update "$results.md" >/dev/null
rows=$(grep -c '^| ' "$results.md")
if [ "$rows" -ne 12 ] || grep -q "old table" "$results.md" || ! grep -q "^before$" "$results.md" ||
    ! grep -q "^after$" "$results.md" || ! grep -q "pub-sub through zpat-broker, against the limit" "$results.md"; then
    echo "bench_smoke.sh: the performance table is not what the runs say:" >&2
    cat "$results.md" >&2
    exit 1
fi
# What cannot be measured is refused with its exit status and a message naming why.
refused() {  # refused STATUS PATTERN ARGS...: zpat ARGS must exit STATUS, saying PATTERN
    local expected=$1 pattern=$2 status=0 refusal
    shift 2
    refusal=$("$zpat" "$@" 2>&1) || status=$?
    if [ "$status" -ne "$expected" ] || ! grep -q "$pattern" <<<"$refusal"; then
        echo "bench_smoke.sh: zpat $* was not refused by name (exit $status): $refusal" >&2
        exit 1
    fi
    echo "bench_smoke.sh: refused as it should: $refusal"
}
refused 2 "broker-pubsub over inproc" bench broker-pubsub --transport inproc -r 1
refused 1 "cannot start /nonexistent/zpat-broker.*--broker" \
    bench broker-mdp --broker /nonexistent/zpat-broker -n 10
# A --broker wrapper that starts the broker as its child instead of exec'ing it: the broker
# outlives the wrapper that the bench stops, holding the bench's pipe open. The bench must still
# finish, and say why a broker may be left running (ended here by the PID the wrapper noted).
cat >"$wrapper" <<EOF
#!/usr/bin/env bash
"$(dirname "$zpat")/../../broker/zpat-broker" "\$@" &
echo \$! >"$forked"
wait
EOF
chmod +x "$wrapper"
status=0
warned=$(timeout 60 "$zpat" bench broker-pubsub -n 400 -r 1 --broker "$wrapper" 2>&1) || status=$?
kill "$(cat "$forked")" 2>/dev/null || true
if [ "$status" -ne 0 ] || ! grep -q "still holds its output" <<<"$warned"; then
    echo "bench_smoke.sh: a forking --broker wrapper (exit $status): $warned" >&2
    exit 1
fi
