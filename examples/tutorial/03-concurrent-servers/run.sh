#!/usr/bin/env bash
# Step 3, as a reader would run it: four servers under the same load; the order of their times
# is the lesson, and is checked.
#   usage: run.sh BUILD_DIR        (./dev run 03-concurrent-servers does this for you)
set -euo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 60 "$1/examples/concurrent_servers" --clients 16 --requests 5 --pool 4 | tee "$out"
ms() { grep "$1" "$out" | grep -o '[0-9]* ms' | tr -d ' ms'; }
iterative=$(ms iterative); per_client=$(ms "thread per client"); pool=$(ms "pool of")
loop=$(ms "event loop")
# Waiting in parallel beats waiting in turn: 16 clients at once are about 16x faster than one at
# a time, a pool of 4 about 4x; an event loop keeps up with a thread per client.
[ "$per_client" -lt "$pool" ] && [ "$loop" -lt "$pool" ] && [ "$pool" -lt "$iterative" ]
