#!/usr/bin/env bash
# Step 2, as a reader would run it: a server that crashes after three requests, restarted a
# moment later, and a client that rides it out with timeouts and retries.
#   usage: run.sh BUILD_DIR        (./dev run 02-lazy-pirate does this for you)
set -euo pipefail
bin=$1/examples
source "$(dirname "$0")/../lib.sh"   # $dir, $pids, cleanup on exit
address="ipc://$dir/hello"

timeout 30 "$bin/hello_server" --endpoint "$address" --crash-after 3 | tee "$dir/server.out" &
first=$!
timeout 30 "$bin/lazy_client" --endpoint "$address" --count 6 | tee "$dir/client.out" &
client=$!
wait "$first" || echo "run.sh: the server died; restarting it"
timeout 30 "$bin/hello_server" --endpoint "$address" &
pids+=($!)
wait "$client"   # with pipefail, the client's own status (tee's ends with it)

# The lesson, checked: the server crashed with request 3 unanswered, and the client got that
# request answered by retrying it on a fresh connection, then every later one at the first try.
expect_in "$dir/server.out" "server: crashing with 'Hello 3' unanswered"
expect_in "$dir/client.out" "client: Hello 3 -> World 3 (after " 1
for n in 0 1 2 4 5; do
    expect_in "$dir/client.out" "client: Hello $n -> World $n" 1
done
expect_in "$dir/client.out" "retr" 1
