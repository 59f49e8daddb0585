#!/usr/bin/env bash
# Step 1, as a reader would run it: echo over UDP and over TCP, each in plain bytes against the
# tutorial's own Python programs (both ways) and in zpat's wire; then many connections at once
# against one single-threaded server, again both ways.
#   usage: run.sh BUILD_DIR        (./dev run 01-echo does this for you)
set -euo pipefail
bin=$1/examples
here=$(dirname "$0")
source "$here/../lib.sh"   # $dir, $pids, cleanup on exit, start_listening

# client NAME COMMAND...: runs a client, shows and keeps what it printed.
client() {
    local name=$1
    shift
    timeout 30 "$@" 2>&1 | tee "$dir/$name.out"
}

echo "== UDP, plain datagrams: the tutorial's programs against ours, and ours against theirs"
start_listening udp-server "$bin/echo_server" --endpoint "raw+udp://127.0.0.1:*"
client udp-py-client python3 "$here/udp_echo.py" client 127.0.0.1 "$port"
expect_in "$dir/udp-py-client.out" "udp_echo.py: received 'hi, server!' from 127.0.0.1:$port"
client udp-client "$bin/echo_client" --endpoint "raw+udp://127.0.0.1:$port"
expect_in "$dir/udp-client.out" "echo_client: the server said 'hi, server!'"
expect_in "$dir/udp-client.out" "echo_client: refused: datagram of 100000 bytes exceeds the 65507 bytes"
expect_in "$dir/udp-server.out" "echo_server: got 'hi, server!' (11 bytes) from 127.0.0.1:" 2
start_listening udp-py-server python3 "$here/udp_echo.py" server 127.0.0.1 0 --count 1
client udp-client-py "$bin/echo_client" --endpoint "raw+udp://127.0.0.1:$port"
expect_in "$dir/udp-client-py.out" "echo_client: the server said 'hi, client!'"

echo "== UDP, zpat's wire: request ids, retries answered once"
start_listening udp-zpat "$bin/echo_server" --wire zpat --endpoint "raw+udp://127.0.0.1:*"
client udp-zpat-client "$bin/echo_client" --wire zpat --endpoint "raw+udp://127.0.0.1:$port"
expect_in "$dir/udp-zpat-client.out" "echo_client: the server said 'hi, server!'"
expect_in "$dir/udp-zpat-client.out" "echo_client: refused: message of 100000 bytes does not fit one UDP datagram"

echo "== TCP, plain bytes: the tutorial's programs against ours, and ours against theirs"
start_listening tcp-server "$bin/echo_server" --endpoint "raw+tcp://127.0.0.1:*"
tcp=$port
client tcp-py-client python3 "$here/tcp_echo.py" client 127.0.0.1 "$tcp"
expect_in "$dir/tcp-py-client.out" "tcp_echo.py: received 'hi, server!'"
client tcp-client "$bin/echo_client" --endpoint "raw+tcp://127.0.0.1:$tcp"
expect_in "$dir/tcp-client.out" "echo_client: the server said 'hi, server!'"
expect_in "$dir/tcp-client.out" "echo_client: a 100000-byte message came back whole, in"
start_listening tcp-py-server python3 "$here/tcp_echo.py" server 127.0.0.1 0 --count 1
client tcp-client-py "$bin/echo_client" --endpoint "raw+tcp://127.0.0.1:$port"
expect_in "$dir/tcp-client-py.out" "echo_client: the server said 'hi, server!'"
expect_in "$dir/tcp-client-py.out" "echo_client: the server closed the connection after its answer"

echo "== TCP, zpat's wire: whole messages"
start_listening tcp-zpat "$bin/echo_server" --wire zpat --endpoint "raw+tcp://127.0.0.1:*"
tcp_zpat=$port
client tcp-zpat-client "$bin/echo_client" --wire zpat --endpoint "raw+tcp://127.0.0.1:$tcp_zpat"
expect_in "$dir/tcp-zpat-client.out" "echo_client: a 100000-byte message came back whole (zpat's framing"

echo "== 20 connections at once, one server thread"
client many "$bin/many_connections" --endpoint "raw+tcp://127.0.0.1:$tcp" --connections 20 --messages 5
expect_in "$dir/many.out" "many_connections: 20 connections sent 2450 bytes and got 2450 back"
client many-py python3 "$here/multiconn.py" client 127.0.0.1 "$tcp" 20
expect_in "$dir/many-py.out" "multiconn.py: 20 connections sent 880 bytes and got 880 back"
start_listening multiconn-py python3 "$here/multiconn.py" server 127.0.0.1 0 --count 20
client many-to-py "$bin/many_connections" --endpoint "raw+tcp://127.0.0.1:$port" --connections 20 --messages 5
expect_in "$dir/many-to-py.out" "many_connections: 20 connections sent 2450 bytes and got 2450 back"
client many-zpat "$bin/many_connections" --wire zpat --endpoint "raw+tcp://127.0.0.1:$tcp_zpat" --connections 20 --messages 5
expect_in "$dir/many-zpat.out" "many_connections: 20 connections sent 2450 bytes and got 2450 back"
echo "--- what the plain TCP server printed (its first lines)"
head -4 "$dir/tcp-server.out"
