#!/usr/bin/env bash
# Step 9, as a reader would run it: one program with the broker inside; its output is checked.
#   usage: run.sh BUILD_DIR        (./dev run 09-embedded-broker does this for you)
set -euo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 30 "$1/examples/embedded-broker" | tee "$out"
grep -q "upper(gamma) = GAMMA" "$out"
grep -q "subscriber got news.local sunny" "$out"
grep -q "service 'upper': 3 requests, 3 replies" "$out"
