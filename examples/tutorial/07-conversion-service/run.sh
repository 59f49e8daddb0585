#!/usr/bin/env bash
# Step 7, as a reader would run it: a broker, two workers, a client; one worker is killed with
# SIGKILL while the client is mid-run, and every temperature is still answered.
#   usage: run.sh BUILD_DIR        (./dev run 07-conversion-service does this for you)
set -euo pipefail
build=$1
bin=$build/examples
source "$(dirname "$0")/../lib.sh"   # $dir, $pids, cleanup on exit
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
