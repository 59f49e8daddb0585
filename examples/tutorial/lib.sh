# Sourced by the steps' run.sh scripts (and tests/examples/run_example.sh): a scratch folder in
# $dir, $pids, the processes a script starts in the background, ended by PID however the script
# ends, and expect_in, which checks what a program printed.
dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM   # so that an interrupted run still cleans up

# expect_in FILE TEXT [COUNT]: FILE has a line containing TEXT (exactly COUNT such lines, if
# given). A run is judged by what its programs print, not only by their exit codes.
expect_in() {
    local found
    found=$(grep -cF -- "$2" "$1" || true)
    if [ -z "${3:-}" ] && [ "$found" -gt 0 ]; then return 0; fi
    if [ -n "${3:-}" ] && [ "$found" -eq "$3" ]; then return 0; fi
    echo "run.sh: expected ${3:-at least 1} line(s) with '$2' in the output, found $found" >&2
    exit 1
}

# start_listening NAME COMMAND...: runs a server in the background on a port the system picks,
# waits for its "listening on [SCHEME://]HOST:PORT" line and sets $port to that port. Its
# output goes to $dir/NAME.out.
start_listening() {
    local name=$1
    shift
    timeout 60 "$@" > "$dir/$name.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on [a-z+:/]*[0-9.]*:\([0-9]*\).*/\1/p' "$dir/$name.out" \
               2>/dev/null || true)   # the file may not be there yet
        [ -n "$port" ] && return
        sleep 0.05
    done
    echo "run.sh: $name did not start:" >&2
    cat "$dir/$name.out" >&2
    exit 1
}
