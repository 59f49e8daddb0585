#!/usr/bin/env bash
# Step 5, as a reader would run it: the same batch of tasks through the ventilator, 1, 2 and 4
# workers, and the sink, printing the time and the speed-up over one worker.
#   usage: run.sh BUILD_DIR        (./dev run 05-parallel-speedup does this for you)
set -euo pipefail
bin=$1/examples
source "$(dirname "$0")/../lib.sh"   # $dir, $pids, cleanup on exit
tasks=60

batch() {   # batch WORKERS: prints the sink's milliseconds for one batch
    local n=$1
    timeout 30 "$bin/tasksink" --endpoint "ipc://$dir/sink" --tasks $tasks > "$dir/sink.out" &
    local sink=$!
    local workers=()
    for _ in $(seq 1 "$n"); do
        timeout 30 "$bin/taskwork" --endpoint "ipc://$dir/vent" --sink "ipc://$dir/sink" \
            > /dev/null &
        workers+=($!)
        pids+=($!)
    done
    # A second for the workers to connect: started together on a loaded machine, they can take
    # longer than the tutorial's 300 ms, and a worker late for the deal gets no task.
    timeout 30 "$bin/taskvent" --endpoint "ipc://$dir/vent" --sink "ipc://$dir/sink" \
        --tasks $tasks --seed 7 --settle-ms 1000 > "$dir/vent.out"
    wait "$sink"
    # This batch's workers go, so the next batch has exactly its own.
    kill "${workers[@]}" 2>/dev/null || true
    wait "${workers[@]}" 2>/dev/null || true
    grep -o '[0-9]* ms$' "$dir/sink.out" | tr -d ' ms'
}

one=$(batch 1)
echo "1 worker:  $one ms ($(grep -o '[0-9]* ms of work' "$dir/vent.out"))"
for n in 2 4; do
    ms=$(batch "$n")
    speedup=$(awk -v a="$one" -v b="$ms" 'BEGIN { printf "%.1f", a / b }')
    echo "$n workers: $ms ms, ${speedup}x faster than one"
done
# The lesson holds: four workers beat one by well over half again.
awk -v a="$one" -v b="$ms" 'BEGIN { exit !(a / b > 1.8) }'
