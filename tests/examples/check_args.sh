#!/usr/bin/env bash
# Every example program checks its command line: --help prints a usage and exits 0 (--version
# the version), a flag it does not know exits 2 naming it, and a count that is not a number
# exits 2 naming the flag, before anything starts.
#   usage: check_args.sh EXAMPLES_DIR
set -uo pipefail
dir=$1
failed=0
fail() { echo "check_args.sh: $*" >&2; failed=1; }
programs=$(find "$dir" -maxdepth 1 -type f -executable -printf '%f\n' | sort)
[ "$(echo "$programs" | wc -l)" -ge 25 ] || fail "expected every example in $dir, found: $programs"
for program in $programs; do
    out=$(timeout 10 "$dir/$program" --help 2>&1); code=$?
    [ "$code" -eq 0 ] || fail "$program --help exited $code"
    grep -qi "usage" <<< "$out" || fail "$program --help printed no usage: $out"
    if [ "$program" = app_client ] || [ "$program" = app_server ]; then
        continue  # positional, as the tutorial runs them: tested by step 8's run.sh
    fi
    out=$(timeout 10 "$dir/$program" --version 2>&1); code=$?
    [ "$code" -eq 0 ] && grep -q "^zpat [0-9]" <<< "$out" || fail "$program --version: $code $out"
    out=$(timeout 10 "$dir/$program" --no-such-flag 1 2>&1); code=$?
    [ "$code" -eq 2 ] || fail "$program --no-such-flag exited $code"
    grep -q -- "--no-such-flag" <<< "$out" || fail "$program did not name --no-such-flag: $out"
done
for program in hwclient hwserver wuclient mdclient echo_server convert_client; do
    out=$(timeout 10 "$dir/$program" --count ten 2>&1); code=$?
    [ "$code" -eq 2 ] && grep -q -- "--count: 'ten' is not a whole number" <<< "$out" ||
        fail "$program --count ten: exit $code, said: $out"
done
out=$(timeout 10 "$dir/hwclient" --count 0 2>&1); code=$?
[ "$code" -eq 2 ] && grep -q -- "--count: must be at least 1 (got 0)" <<< "$out" ||
    fail "hwclient --count 0: exit $code, said: $out"
[ "$failed" -eq 0 ] && echo "check_args.sh: every example checks its command line"
exit "$failed"
