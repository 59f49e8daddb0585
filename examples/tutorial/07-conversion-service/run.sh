#!/usr/bin/env bash
# Step 7, as a reader would run it: a broker, two workers, a client; one worker is killed with
# SIGKILL while the client is mid-run, and every temperature is still answered.
#   usage: run.sh BUILD_DIR        (./dev run 07-conversion-service does this for you)
set -euo pipefail
build=$1
bin=$build/examples
source "$(dirname "$0")/../lib.sh"   # $dir, $pids, cleanup on exit, start_listening
broker="ipc://$dir/broker"   # a private address: no port to collide with

timeout 60 "$build/broker/zpat-broker" --no-forwarder --no-streamer --stats-endpoint "" \
    --heartbeat-interval 250ms --service-endpoint "$broker" 2> "$dir/broker.log" &
pids+=($!)
# Not under `timeout`: SIGKILL must reach the worker itself. The trap ends it in any case.
"$bin/convert_worker" --broker "$broker" --name alice &
alice=$!
pids+=($alice)
timeout 60 "$bin/convert_worker" --broker "$broker" --name bob &
pids+=($!)

timeout 60 "$bin/convert_client" --broker "$broker" --count 10 --every-ms 200 &
client=$!
sleep 1
echo "run.sh: killing alice (SIGKILL) while the client is mid-run"
kill -KILL "$alice"
wait "$client"

# The tutorial's own conversion programs, on plain sockets: theirs against convert_worker
# --plain, and convert_client --plain against theirs, over TCP and over UDP.
here=$(dirname "$0")
for transport in tcp udp; do
    echo "== plain $transport: the tutorial's client against convert_worker --plain"
    start_listening "plain-$transport" "$bin/convert_worker" --name carol --plain "raw+$transport://127.0.0.1:*"
    timeout 30 python3 "$here/convert.py" client "$transport" 127.0.0.1 "$port" 25 | tee "$dir/py-$transport.out"
    expect_in "$dir/py-$transport.out" "convert.py: 25 C -> 77.0"
    timeout 30 python3 "$here/convert.py" client "$transport" 127.0.0.1 "$port" hot | tee "$dir/py-bad-$transport.out"
    expect_in "$dir/py-bad-$transport.out" "convert.py: hot C -> error: 'hot' is not a number"
    echo "== plain $transport: convert_client --plain against the tutorial's server"
    start_listening "py-server-$transport" python3 "$here/convert.py" server "$transport" 127.0.0.1 0 --count 3
    timeout 30 "$bin/convert_client" --plain "raw+$transport://127.0.0.1:$port" --count 3 --every-ms 0 \
        | tee "$dir/client-$transport.out"
    expect_in "$dir/client-$transport.out" "client: 10 C = 50.0 F"
    expect_in "$dir/client-$transport.out" "client: 3 of 3 answered"
done
