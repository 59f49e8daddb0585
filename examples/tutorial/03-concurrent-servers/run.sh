#!/usr/bin/env bash
# Step 3, as a reader would run it: four servers under the same load; the order of their times
# is the lesson, and is checked. Then the tutorial's own programs: its multi-echo client against
# our servers, and our load against its multi-echo server (a pool of 10 threads).
#   usage: run.sh BUILD_DIR        (./dev run 03-concurrent-servers does this for you)
set -euo pipefail
here=$(dirname "$0")
bin=$1/examples
source "$here/../lib.sh"   # $dir, $pids, cleanup on exit, start_listening
out=$dir/times.out
timeout 60 "$bin/concurrent_servers" --clients 16 --requests 5 --pool 4 | tee "$out"
ms() { grep "$1" "$out" | grep -o '[0-9]* ms' | tr -d ' ms'; }
iterative=$(ms iterative); per_client=$(ms "thread per client"); pool=$(ms "pool of")
loop=$(ms "event loop")
# Waiting in parallel beats waiting in turn: 16 clients at once are about 16x faster than one at
# a time, a pool of 4 about 4x; an event loop keeps up with a thread per client.
[ "$per_client" -lt "$pool" ] && [ "$loop" -lt "$pool" ] && [ "$pool" -lt "$iterative" ]

echo "== the tutorial's multi-echo client against each of our servers"
for kind in iterative threads pool loop; do
    start_listening "serve-$kind" "$bin/concurrent_servers" --serve "$kind"
    timeout 60 python3 "$here/multi_echo.py" client 127.0.0.1 "$port" --clients 8 --lines 3 \
        | sed "s/^/$kind: /" | tee "$dir/client-$kind.out"
    expect_in "$dir/client-$kind.out" "8 clients, 3 lines each: 8 answered in full"
done
echo "== our load against the tutorial's multi-echo server (a pool of 10 threads)"
start_listening py-server python3 "$here/multi_echo.py" server 127.0.0.1 0
timeout 60 "$bin/concurrent_servers" --against "$port" --clients 16 --requests 5 | tee "$dir/against.out"
expect_in "$dir/against.out" "your server on port $port"
! grep -q "wrong or missing" "$dir/against.out"
