#!/bin/bash
# serve_defaults.sh - `trailguard serve` without -c (SPEC.md section 2): it
# listens on 127.0.0.1:2514, spools under ./trailguard-data/spool and keeps
# the file store in ./trailguard-data/events, which verify and query read.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
cd "$TG_TMP" || exit 1
if tcp_port_open 2514; then
    echo "1..0 # SKIP something already listens on 127.0.0.1:2514"
    exit 0
fi
"$TG_BIN" serve >out 2>serve.log &
SERVE_PID=$!
_tg_pids="$_tg_pids $SERVE_PID"
check "serve without -c starts" wait_for 100 grep -q 'serve: running' serve.log
check "it listens on 127.0.0.1:2514" grep -q '127.0.0.1:2514: listening' serve.log
check "a RELP client sends 50 messages" "$RELP_LOAD" -p 2514 -n 50 "$TG_SHARED/samples/snoopy-2.5.1-default.log"
check "serve exits 0 on SIGTERM" serve_stop
check "the spool is in ./trailguard-data/spool" test -f trailguard-data/spool/lock
check "verify: the store in ./trailguard-data/events is intact" "$TG_BIN" verify trailguard-data/events
check_eq "query finds the 50 events there" 50 "$("$TG_BIN" query trailguard-data/events --format ndjson | wc -l)"
tap_done
