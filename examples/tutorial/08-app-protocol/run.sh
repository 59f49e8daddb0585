#!/usr/bin/env bash
# Step 8, as a reader would run it: the application server on raw TCP; the C++ client asks it
# three things; the standard-library Python client asks it too, once a byte at a time; a client
# that breaks the protocol is dropped, and the server goes on serving.
#   usage: run.sh BUILD_DIR        (./dev run 08-app-protocol does this for you)
set -euo pipefail
bin=$1/examples
here=$(dirname "$0")
source "$here/../lib.sh"   # $dir, $pids, cleanup on exit

# The server binds a port the system picks (the README uses the tutorial's 65432) and says which.
start_server() {  # start_server OUTPUT ARGS...: sets $port to the port it bound
    local out=$1
    shift
    timeout 60 "$bin/app_server" "$@" > "$out" &
    pids+=($!)
    server_out=$out
    port=
    for _ in $(seq 1 100); do
        port=$(grep -o 'tcp://127.0.0.1:[0-9]*' "$out" | cut -d: -f3 || true)
        [ -n "$port" ] && return
        sleep 0.05
    done
    echo "run.sh: the server did not start" >&2
    exit 1
}
start_server "$dir/server.out" --endpoint "raw+tcp://127.0.0.1:*"

ask() {  # ask EXPECTED COMMAND...: runs a client, shows its output, checks it
    local expected=$1
    shift
    local out
    out=$(timeout 30 "$@") || true
    echo "$out"
    grep -qF -- "$expected" <<< "$out" && return
    echo "run.sh: expected '$expected'; the server printed:" >&2
    cat "$server_out" >&2
    exit 1
}

echo "== the C++ client"
ask "result: Take the red pill" "$bin/app_client" 127.0.0.1 "$port" search morpheus
ask "result: No match for 'neo'." "$bin/app_client" 127.0.0.1 "$port" search neo
ask "reply: the first 10 bytes you sent: double42" "$bin/app_client" 127.0.0.1 "$port" double 42
echo "== the Python client (standard library only), the request one byte at a time"
ask "result: Lost in a cave" python3 "$here/app_client.py" 127.0.0.1 "$port" search ring --trickle
ask "reply: b'the first 10 bytes you sent: frobnicate'" \
    python3 "$here/app_client.py" 127.0.0.1 "$port" frobnicate xyz
echo "== clients that break the protocol: a header that is not JSON; a 4 GiB content-length"
python3 - "$port" <<'PY'
import json, socket, struct, sys
header = json.dumps({"byteorder": "little", "content-type": "text/json",
                     "content-encoding": "utf-8", "content-length": 1 << 32}).encode()
for request in (b"\x00\x05hello", struct.pack(">H", len(header)) + header):
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
        s.sendall(request)
        print("bad client: the server answered", repr(s.recv(100)), "and closed")
PY
ask "result: Take the red pill" "$bin/app_client" 127.0.0.1 "$port" search morpheus
echo "--- what the server printed"
cat "$dir/server.out"
grep -q "dropped: the header is not a JSON object" "$dir/server.out"
grep -q "dropped: the header's 'content-length' is not a number" "$dir/server.out"

echo "== the same server on ZeroMQ: tcp:// makes its stream a ZMQ_STREAM socket"
start_server "$dir/zmq-server.out" --endpoint "tcp://127.0.0.1:*"
ask "result: Lost in a cave" python3 "$here/app_client.py" 127.0.0.1 "$port" search ring --trickle
ask "result: No match for 'neo'." "$bin/app_client" 127.0.0.1 "$port" search neo

echo "== started as the tutorial starts its server: app_server HOST PORT"
free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_server "$dir/positional-server.out" 127.0.0.1 "$free"
[ "$port" = "$free" ] || { echo "run.sh: app_server 127.0.0.1 $free bound $port" >&2; exit 1; }
ask "result: Take the red pill" python3 "$here/app_client.py" 127.0.0.1 "$port" search morpheus
status=0
"$bin/app_server" 127.0.0.1 not-a-port 2> "$dir/usage.err" || status=$?
[ "$status" = 2 ] && grep -q "usage: app_server" "$dir/usage.err" ||
    { echo "run.sh: a bad port gave exit $status, not 2 with the usage" >&2; exit 1; }
