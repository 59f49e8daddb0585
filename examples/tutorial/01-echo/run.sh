#!/usr/bin/env bash
# Step 1, as a reader would run it: echo over UDP, echo over TCP, then twenty connections at
# once against one single-threaded server.
#   usage: run.sh BUILD_DIR        (./dev run 01-echo does this for you)
set -euo pipefail
bin=$1/examples
source "$(dirname "$0")/../lib.sh"   # $dir, $pids, cleanup on exit

# Servers bind a port the system picks, and say which; the clients read it from their output.
start_server() {  # start_server ENDPOINT NAME: sets $bound to the endpoint it bound
    timeout 60 "$bin/echo_server" --endpoint "$1" > "$dir/$2.out" &
    pids+=($!)
    for _ in $(seq 1 100); do
        bound=$(grep -o 'raw+[a-z]*://[0-9.]*:[0-9]*' "$dir/$2.out" || true)
        [ -n "$bound" ] && return
        sleep 0.05
    done
    echo "run.sh: the echo server did not start" >&2
    exit 1
}

echo "== UDP"
start_server "raw+udp://127.0.0.1:*" udp
timeout 30 "$bin/echo_client" --endpoint "$bound" | tee "$dir/udp-client.out"
expect_in "$dir/udp-client.out" "echo_client: the server said 'hi, server!'"
expect_in "$dir/udp-client.out" "echo_client: refused: message of 100000 bytes does not fit one UDP datagram"
echo "== TCP"
start_server "raw+tcp://127.0.0.1:*" tcp
tcp=$bound
timeout 30 "$bin/echo_client" --endpoint "$tcp" | tee "$dir/tcp-client.out"
expect_in "$dir/tcp-client.out" "echo_client: the server said 'hi, server!'"
expect_in "$dir/tcp-client.out" "echo_client: a 100000-byte message came back whole"
echo "== 20 connections at once, one server thread"
timeout 30 "$bin/many_connections" --endpoint "$tcp" --connections 20 --messages 5
echo "--- what the TCP server printed (its first lines)"
head -4 "$dir/tcp.out"
