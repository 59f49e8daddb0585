#!/usr/bin/env bash
# The certificates docs/security.md makes with the openssl command work with raw+tls: its block
# headed "# certificates for raw+tls" runs as it stands, then a zpat replier that requires client
# certificates serves a requester with alice's, and refuses one without, and one expecting
# another name, each with OpenSSL's reason.
#   usage: openssl_cli.sh ZPAT PATH/TO/docs/security.md
set -euo pipefail
zpat=$1
doc=$2
dir=$(mktemp -d)
rep=""
cleanup() {
    [ -z "$rep" ] || kill "$rep" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

awk '/^# certificates for raw\+tls/ { on = 1 } on && /^```/ { exit } on' "$doc" > "$dir/make.sh"
grep -q "openssl req" "$dir/make.sh" || { echo "openssl_cli.sh: no certificate block in $doc" >&2; exit 1; }
cd "$dir"
bash -euo pipefail make.sh 2> make.err || { cat make.err >&2; exit 1; }

timeout 60 "$zpat" rep '@raw+tls://127.0.0.1:*' --echo -t 30s --tls-cert broker.pem \
    --tls-key broker.key --tls-ca ca.pem --tls-require-client-cert > rep.out 2> rep.err &
rep=$!
port=""
for _ in $(seq 1 200); do
    port=$(sed -n 's|.*bound raw+tls://127.0.0.1:\([0-9]*\).*|\1|p' rep.err)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "openssl_cli.sh: the replier did not start:" >&2; cat rep.err >&2; exit 1; }
at="raw+tls://127.0.0.1:$port"

reply=$("$zpat" req "$at" hello --tls-ca ca.pem --tls-cert alice.pem --tls-key alice.key)
[ "$reply" = hello ] || { echo "openssl_cli.sh: alice got '$reply'" >&2; exit 1; }

refused() {  # refused REASON ARGS...: zpat req exits 2 saying REASON
    local reason=$1 status=0 said
    shift
    said=$("$zpat" req "$at" hello -t 1s "$@" 2>&1) || status=$?
    if [ "$status" -ne 2 ] || ! grep -q "$reason" <<<"$said"; then
        echo "openssl_cli.sh: expected exit 2 and '$reason', got $status: $said" >&2
        exit 1
    fi
}
refused "certificate required" --tls-ca ca.pem
refused "hostname mismatch" --tls-ca ca.pem --tls-cert alice.pem --tls-key alice.key \
    --tls-server-name broker.example
echo "openssl_cli.sh: the documented certificates work, and refusals say why"
