#!/usr/bin/env bash
# Step 6, as a reader would run it: a broker and two chat clients, alice and bob, whose input is
# scripted; each sees what the other says, and bob sees alice leave. Then the tutorials' plain
# chat room over TCP and UDP: their Python clients in our chat_server, and our chat_client in
# their Python server, each beside a member of the other kind.
#   usage: run.sh BUILD_DIR        (./dev run 06-chat-room does this for you)
set -euo pipefail
build=$1
here=$(dirname "$0")
source "$here/../lib.sh"   # $dir, $pids, cleanup on exit, start_listening

timeout 60 "$build/broker/zpat-broker" --no-service --no-streamer --stats-endpoint "" \
    --forwarder-frontend "ipc://$dir/in" --forwarder-backend "ipc://$dir/out" 2> "$dir/broker.log" &
pids+=($!)
mkfifo "$dir/alice.in" "$dir/bob.in"
for who in alice bob; do
    timeout 60 "$build/examples/chat_client" --name "$who" \
        --frontend "ipc://$dir/in" --backend "ipc://$dir/out" < "$dir/$who.in" > "$dir/$who.out" &
    pids+=($!)
done
exec 3> "$dir/alice.in" 4> "$dir/bob.in"   # the keyboards

# Both must have joined (heard themselves through the broker) before anyone talks.
for _ in $(seq 1 200); do
    grep -q joined "$dir/alice.out" && grep -q joined "$dir/bob.out" && break
    sleep 0.05
done

say() {  # say WHO FD TEXT, then wait until the other one has printed it
    local other=$1 fd=$2 text=$3
    echo "$text" >&"$fd"
    for _ in $(seq 1 200); do grep -qF "$text" "$dir/$other.out" && return; sleep 0.05; done
    echo "run.sh: '$text' never reached $other" >&2
    exit 1
}
say bob 3 "hello bob, it is alice"
say alice 4 "hi alice! bob here"
say bob 3 "I have to go, bye"
echo "/quit" >&3
exec 3>&-
for _ in $(seq 1 200); do grep -q "alice left" "$dir/bob.out" && break; sleep 0.05; done
echo "/quit" >&4
exec 4>&-
wait "${pids[1]}" "${pids[2]}"

echo "--- alice's screen"; cat "$dir/alice.out"
echo "--- bob's screen"; cat "$dir/bob.out"
grep -q "\* alice left" "$dir/bob.out"
! grep -q "\[alice\]" "$dir/alice.out"   # nobody sees their own words relayed back

# plain_room TRANSPORT SERVER ALICE BOB: a plain chat room on tcp or udp, its SERVER and each
# member "ours" (chat_server, chat_client --server) or "py" (chat.py). Alice and bob greet each
# other; nobody hears their own words.
plain_room() {
    local transport=$1 server=$2 label="$1-$2-$3-$4" who kind
    echo "== plain $transport room: $server server, alice $3, bob $4"
    if [ "$server" = ours ]; then
        start_listening "$label" "$build/examples/chat_server" --endpoint "raw+$transport://127.0.0.1:*"
    else
        start_listening "$label" python3 "$here/chat.py" server "$transport" 127.0.0.1 0
    fi
    for who in alice bob; do
        kind=$3; [ "$who" = bob ] && kind=$4
        mkfifo "$dir/$label-$who.in"
        if [ "$kind" = ours ]; then
            timeout 60 "$build/examples/chat_client" --name "$who" \
                --server "raw+$transport://127.0.0.1:$port" < "$dir/$label-$who.in" > "$dir/$label-$who.out" 2>&1 &
        else
            timeout 60 python3 "$here/chat.py" client "$transport" 127.0.0.1 "$port" "$who" \
                < "$dir/$label-$who.in" > "$dir/$label-$who.out" 2>&1 &
        fi
        pids+=($!)
    done
    exec 5> "$dir/$label-alice.in" 6> "$dir/$label-bob.in"
    for _ in $(seq 1 200); do
        [ "$(grep -c joined "$dir/$label.out")" -ge 2 ] && break
        sleep 0.05
    done
    expect_in "$dir/$label.out" joined 2
    echo "hello bob, it is alice" >&5
    for _ in $(seq 1 200); do grep -qF "alice: hello bob" "$dir/$label-bob.out" && break; sleep 0.05; done
    echo "hi alice! bob here" >&6
    for _ in $(seq 1 200); do grep -qF "bob: hi alice" "$dir/$label-alice.out" && break; sleep 0.05; done
    exec 5>&- 6>&-   # the end of input: both leave
    for _ in $(seq 1 200); do
        grep -q "alice: left\|alice left" "$dir/$label-alice.out" && grep -q "bob: left\|bob left" "$dir/$label-bob.out" && break
        sleep 0.05
    done
    cat "$dir/$label-bob.out"
    expect_in "$dir/$label-bob.out" "alice: hello bob, it is alice" 1
    expect_in "$dir/$label-alice.out" "bob: hi alice! bob here" 1
    ! grep -q "alice: hello" "$dir/$label-alice.out"
}
plain_room tcp ours py ours
plain_room tcp py ours py
plain_room udp ours py ours
plain_room udp py ours py

# What chat_server must survive: an endless line, a member that never reads, one member too many.
echo "== hostile members in our plain tcp room"
start_listening limits "$build/examples/chat_server" --endpoint "raw+tcp://127.0.0.1:*"
timeout 120 python3 "$here/room_limits.py" "$port"
expect_in "$dir/limits.out" "is too slow; disconnected" 1
expect_in "$dir/limits.out" "turned away" 1
