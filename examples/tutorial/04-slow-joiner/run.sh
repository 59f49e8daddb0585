#!/usr/bin/env bash
# Step 4, as a reader would run it: the slow joiner shown (a publisher that starts sending at
# once loses the first updates to a subscriber still connecting), then solved (--wait 1).
#   usage: run.sh BUILD_DIR        (./dev run 04-slow-joiner does this for you)
set -euo pipefail
bin=$1/examples
source "$(dirname "$0")/../lib.sh"   # $dir, expect_in, cleanup on exit
feed="ipc://$dir/weather"

echo "== 1. The publisher starts at once; the subscriber is still connecting"
timeout 30 "$bin/weather_subscriber" --endpoint "$feed" --count 20000 > "$dir/sub1.out" &
sub=$!
timeout 30 "$bin/weather_publisher" --endpoint "$feed" --count 20000
wait "$sub" || true
cat "$dir/sub1.out"

echo "== 2. The publisher waits for one subscription first, and stays until it is read"
timeout 30 "$bin/weather_subscriber" --endpoint "$feed" --count 20000 > "$dir/sub2.out" &
sub=$!
# --stay: a closing publisher would take the updates the subscriber has not read yet with it;
# it stays until the subscriber has all it asked for, then this script ends it.
timeout 60 "$bin/weather_publisher" --endpoint "$feed" --count 20000 --wait 1 --stay 30 &
pub=$!
wait "$sub"
kill "$pub"
wait "$pub" || true
cat "$dir/sub2.out"
# The cure is the lesson: with --wait nothing may be missing, from the first update to the last.
expect_in "$dir/sub2.out" "subscriber: 20000 updates for 10001," 1
expect_in "$dir/sub2.out" "first was #0," 1
expect_in "$dir/sub2.out" "none missing after it" 1
