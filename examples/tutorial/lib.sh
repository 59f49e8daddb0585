# Sourced by the steps' run.sh scripts (and tests/examples/run_example.sh): a scratch folder in
# $dir, and $pids, the processes a script starts in the background, ended by PID however the
# script ends.
dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM   # so that an interrupted run still cleans up
