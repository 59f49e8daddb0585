#!/usr/bin/env bash
# Runs one example family briefly, as a reader would, over ipc endpoints in a fresh folder (no
# ports at all). Every process is bounded by `timeout`; the ones started here are ended by PID.
#   usage: run_example.sh NAME BIN_DIR
set -euo pipefail
name=$1
bin=$2
source "$(dirname "$0")/../../examples/tutorial/lib.sh"   # $dir, $pids, expect_in, cleanup

# The hello family's promise: every "Hello" got its "World", in order.
expect_hello() {
    for n in 0 1 2; do
        expect_in "$dir/client.out" "hwclient: received World $n" 1
    done
    expect_in "$dir/server.out" "hwserver: received Hello" 3
}

case "$name" in
demo)
    timeout 60 "$bin/zpat-demo"
    ;;
hello)
    timeout 30 "$bin/hwserver" --endpoint "ipc://$dir/hello" --count 3 --work-ms 1 > "$dir/server.out" &
    server=$!
    timeout 30 "$bin/hwclient" --endpoint "ipc://$dir/hello" --count 3 | tee "$dir/client.out"
    wait "$server"
    expect_hello
    ;;
hello-raw)
    # The same programs on the raw TCP backend, on a port the system picks.
    timeout 30 "$bin/hwserver" --endpoint "raw+tcp://127.0.0.1:*" --count 3 --work-ms 1 > "$dir/server.out" &
    server=$!
    endpoint=""
    for _ in $(seq 1 100); do
        endpoint=$(grep -o 'raw+tcp://[0-9.]*:[0-9]*' "$dir/server.out" || true)
        [ -n "$endpoint" ] && break
        sleep 0.05
    done
    [ -n "$endpoint" ] || { echo "hwserver did not report its endpoint" >&2; exit 1; }
    timeout 30 "$bin/hwclient" --endpoint "$endpoint" --count 3 | tee "$dir/client.out"
    wait "$server"
    expect_hello
    ;;
weather)
    timeout 30 "$bin/wuserver" --endpoint "ipc://$dir/weather" --rate 20000 &
    pids+=($!)
    timeout 30 "$bin/wuclient" --endpoint "ipc://$dir/weather" --zip 10001 --count 5 | tee "$dir/client.out"
    expect_in "$dir/client.out" "wuclient: average temperature for zip code 10001 was " 1
    # Drop-in peers of the Guide's C programs: its wuclient (SUB, filter "10001 ", sscanf of one
    # "%d %d %d" frame) against our server, and its wuserver against our client, in pyzmq.
    timeout 30 /usr/bin/python3 - "ipc://$dir/weather" <<'PY' | tee "$dir/guide-client.out"
import sys, zmq
sub = zmq.Context().socket(zmq.SUB)
sub.connect(sys.argv[1])
sub.setsockopt(zmq.SUBSCRIBE, b"10001 ")
total = 0
for _ in range(5):
    frames = sub.recv_multipart()
    assert len(frames) == 1, frames
    zipcode, temperature, humidity = (int(f) for f in frames[0].split())
    assert zipcode == 10001
    total += temperature
print("guide wuclient: average temperature for zipcode '10001 ' was %dF" % (total // 5))
PY
    expect_in "$dir/guide-client.out" "guide wuclient: average temperature for zipcode '10001 ' was " 1
    timeout 30 /usr/bin/python3 - "ipc://$dir/guide-weather" <<'PY' &
import random, sys, time, zmq
pub = zmq.Context().socket(zmq.PUB)
pub.bind(sys.argv[1])
end = time.monotonic() + 25
while time.monotonic() < end:
    pub.send_string("%05d %d %d" % (random.randrange(10000, 10010), random.randrange(215) - 80,
                                    random.randrange(50) + 10))
    time.sleep(0.0005)
PY
    pids+=($!)
    timeout 30 "$bin/wuclient" --endpoint "ipc://$dir/guide-weather" --zip 10001 --count 5 | tee "$dir/client2.out"
    expect_in "$dir/client2.out" "wuclient: average temperature for zip code 10001 was " 1
    ;;
pipeline)
    timeout 30 "$bin/tasksink" --endpoint "ipc://$dir/sink" --tasks 20 | tee "$dir/sink.out" &
    sink=$!
    for _ in 1 2; do
        timeout 30 "$bin/taskwork" --endpoint "ipc://$dir/vent" --sink "ipc://$dir/sink" --idle-ms 1500 &
        pids+=($!)
    done
    timeout 30 "$bin/taskvent" --endpoint "ipc://$dir/vent" --sink "ipc://$dir/sink" --tasks 20 --settle-ms 300
    wait "$sink"
    expect_in "$dir/sink.out" "tasksink: 20 results in " 1
    ;;
majordomo)
    # zpat-broker between the Guide's mdclient and mdworker, over ipc.
    timeout 30 "$bin/../broker/zpat-broker" --no-forwarder --no-streamer --stats-endpoint "" \
        --service-endpoint "ipc://$dir/broker" 2> "$dir/broker.log" &
    pids+=($!)
    timeout 30 "$bin/mdworker" --endpoint "ipc://$dir/broker" --count 3 > "$dir/worker.out" &
    worker=$!
    timeout 30 "$bin/mdclient" --endpoint "ipc://$dir/broker" --count 3 | tee "$dir/client.out"
    wait "$worker"
    for n in 0 1 2; do
        expect_in "$dir/client.out" "mdclient: reply $n: Hello world" 1
        expect_in "$dir/worker.out" "mdworker: request $n: Hello world" 1
    done
    ;;
*)
    echo "run_example.sh: unknown example '$name'" >&2
    exit 2
    ;;
esac
