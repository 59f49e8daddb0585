#!/usr/bin/env bash
# Step 2, as a reader would run it: a server that crashes after three requests, restarted a
# moment later, and a client that rides it out with timeouts and retries.
#   usage: run.sh BUILD_DIR        (./dev run 02-lazy-pirate does this for you)
set -euo pipefail
bin=$1/examples
source "$(dirname "$0")/../lib.sh"   # $dir, $pids, cleanup on exit
address="ipc://$dir/hello"

timeout 30 "$bin/hello_server" --endpoint "$address" --crash-after 3 &
first=$!
timeout 30 "$bin/lazy_client" --endpoint "$address" --count 6 &
client=$!
wait "$first" || echo "run.sh: the server died; restarting it"
timeout 30 "$bin/hello_server" --endpoint "$address" &
pids+=($!)
wait "$client"
