#!/bin/bash
# relp_engines.sh - [input.relp] engines = N (issue 14): N librelp engines,
# each on its own thread, listen on one address and the kernel spreads the
# sessions over them.  16 concurrent senders (each its own session and
# origin host): every message is stored once (zero loss), each host's
# records stay in the order it sent them, more than one engine took
# sessions, and the address is never shared with another process.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
port=$(free_port 21000 21019)
S=$D/store
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen =
fsync = interval
fsync_interval_ms = 50
[input.relp]
listen = 127.0.0.1:$port
engines = 3
[sink.file]
dir = $S
EOC
FEED="$TG_SHARED/samples/snoopy-2.5.1-default.log $TG_SHARED/samples/percona-audit.json"
stored() { "$TG_BIN" query "$S" --format ndjson 2>/dev/null | wc -l; }
have() { [ "$(stored)" -ge "$1" ]; }
engine_threads() { grep -lx tg-in-relp /proc/"$SERVE_PID"/task/*/comm 2>/dev/null | wc -l; }

check "serve starts with engines = 3" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
check "... and says so" grep -q "listening with 3 engines" "$D/serve.log"
check_eq "three RELP engine threads run" 3 "$(engine_threads)"
# another collector (its own spool and store) on the same address
other() { # other ENGINES: its exit status, its log in $D/other.log
    sed 's/^engines = 3$/engines = '"$1"'/; s|^dir = .*|dir = '"$D"'/store2|; s|^spool_dir = .*|spool_dir = '"$D"'/spool2|' \
        "$D/tg.conf" >"$D/other.conf"
    "$TG_BIN" serve -c "$D/other.conf" >/dev/null 2>"$D/other.log" &
    local pid=$!
    _tg_pids="$_tg_pids $pid"
    wait_for 100 sh -c "! kill -0 $pid 2>/dev/null"
    wait "$pid"
}
other 3
check_eq "a second collector with engines = 3 on the same address is refused (exit 3), not let in to share it" 3 "$?"
check "... saying it cannot listen" grep -q "cannot listen" "$D/other.log"
other 1
check_eq "... with one engine too" 3 "$?"

check "16 senders send 16000 messages, all acknowledged" \
    "$RELP_LOAD" -q -p "$port" -s 16 -w 128 -n 16000 $FEED
check "the store gets them all" wait_for 600 have 16000
check "serve stops (SIGTERM) with exit 0" serve_stop
check_eq "zero loss: 16000 distinct events, each stored once" "16000 16000" \
    "$(stored) $("$TG_BIN" query "$S" --format ndjson | jq -r .event.id | sort -u | wc -l)"
check_eq "every sender's records are there" 16 \
    "$("$TG_BIN" query "$S" --format ndjson | jq -r .host.name | sort -u | wc -l)"
# relp_load stamps each session's messages one microsecond apart in their
# syslog header, which is a snoopy record's @timestamp: in store order,
# every host's timestamps must rise
check_eq "each host's records are stored in the order it sent them" 0 \
    "$("$TG_BIN" query "$S" --format ndjson --dataset snoopy | jq -r '[.host.name, .["@timestamp"]] | @tsv' |
        awk -F'\t' '$1 in last && $2 <= last[$1] { bad++ } { last[$1] = $2 } END { print bad + 0 }')"
per=$(sed -n 's/.*messages by engine \([0-9/]*\).*/\1/p' "$D/serve.log")
check "the stop line counts messages by engine (got: $per)" test -n "$per"
check_eq "... they add up" 16000 "$(echo "$per" | tr / '\n' | awk '{ s += $1 } END { print s }')"
check "... and more than one engine took sessions" \
    test "$(echo "$per" | tr / '\n' | awk '$1 > 0' | wc -l)" -ge 2
check "verify: intact" "$TG_BIN" verify "$S"
tap_done
