#!/usr/bin/env bash
# Step 6, as a reader would run it: a broker and two chat clients, alice and bob, whose input is
# scripted; each sees what the other says, and bob sees alice leave.
#   usage: run.sh BUILD_DIR        (./dev run 06-chat-room does this for you)
set -euo pipefail
build=$1
dir=$(mktemp -d)
pids=()
cleanup() {
    exec 3>&- 4>&- 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

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
