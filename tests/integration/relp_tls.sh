#!/bin/bash
# relp_tls.sh - issue 6 test (3): a TLS listener with fingerprint
# authentication accepts the permitted client and refuses another client
# (same CA, different certificate) before any of its messages reach the
# spool; the refusal is logged.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
N=500
D=$TG_TMP
P=$D/pki
mkdir -p "$P"
mkcert() { # NAME CN: key + certificate signed by the test CA
    openssl req -newkey rsa:2048 -nodes -keyout "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
            -days 2 -out "$P/$1.pem" -extfile <(printf 'subjectAltName=DNS:%s,IP:127.0.0.1\n' "$2") 2>/dev/null
}
check "test CA" openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -subj "/CN=tg test CA" \
    -days 2 -out "$P/ca.pem"
check "server certificate" mkcert server localhost
check "client certificate (permitted)" mkcert good client-good
check "client certificate (not permitted)" mkcert bad client-bad
fp=$(openssl x509 -in "$P/good.pem" -noout -fingerprint -sha1 | sed 's/^.*=/SHA1:/')
diag "permitted fingerprint $fp"
serve_conf "$D/spool" 20650 "tls = on
tls_ca = $P/ca.pem
tls_cert = $P/server.pem
tls_key = $P/server.key
tls_auth_mode = fingerprint
tls_permitted_peers = $fp" >"$D/tg.conf"
check "serve listens with TLS" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
check "permitted client sends $N messages" "$RELP_LOAD" -p 20650 -n $N \
    --ca "$P/ca.pem" --cert "$P/good.pem" --key "$P/good.key" "$TG_SHARED/samples/snoopy-2.5.1-default.log"
check "its $N events arrive" wait_for 300 lines_at_least "$D/out" $N
timeout 60 "$RELP_LOAD" -p 20650 -n 50 --ca "$P/ca.pem" --cert "$P/bad.pem" --key "$P/bad.key" \
    "$TG_SHARED/samples/percona-audit.json" >"$D/bad.out" 2>&1
check_eq "other client is refused (its sender fails)" 1 "$?"
check "the refusal is logged" wait_for 50 grep -q 'TLS peer refused' "$D/serve.log"
check_eq "nothing from it in the spool" 0 "$(cat "$D"/spool/*.log 2>/dev/null | grep -c audit_record)"
check "serve exits 0 on SIGTERM" serve_stop
check_eq "no event from the refused client" 0 "$(grep -c percona "$D/out")"
check_eq "exactly the permitted client's events" $N "$(grep -c '^{' "$D/out")"
grep "TLS peer refused" "$D/serve.log" | head -1 | sed "s/^/# /"

# a certificate file that is not there: a configuration error naming the key
serve_conf "$D/spool2" 20651 "tls = on
tls_ca = $D/missing-ca.pem
tls_cert = $P/server.pem
tls_key = $P/server.key" >"$D/tg2.conf"
"$TG_BIN" serve -c "$D/tg2.conf" >/dev/null 2>"$D/serve2.log"
check_eq "a missing tls_ca: exit 3 (cannot start the listener)" 3 "$?"
check "... naming the listener, key and path" \
    grep -q "\[input.relp\] 127.0.0.1:20651: tls_ca: cannot read $D/missing-ca.pem: No such file" \
    "$D/serve2.log"
tap_done
