#!/bin/bash
# relp_basic.sh - issue 6 test (1): a real rsyslogd (imtcp -> omrelp with a
# disk-assisted queue) forwards N records to `trailguard serve`: N events
# out, each exactly once, and the spool is empty after a clean stop.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
N=3000
D=$TG_TMP
serve_conf "$D/spool" 20610 >"$D/tg.conf"
if serve_start "$D/tg.conf" "$D/out" "$D/serve.log"; then ok "serve listens"; else
    not_ok "serve listens"; sed 's/^/# /' "$D/serve.log"; tap_done; exit 1
fi
# a second collector: the port is taken -> exit 3; the spool is locked -> exit 3
serve_conf "$D/spool2" 20610 >"$D/tg2.conf"
"$TG_BIN" serve -c "$D/tg2.conf" >/dev/null 2>"$D/serve2.log"
check_eq "cannot bind: exit 3" 3 "$?"
check "cannot bind: logged with the address" grep -q '127.0.0.1:20610: cannot listen' "$D/serve2.log"
# the second of two listeners cannot bind: the first, just started, is
# stopped and serve exits 3 (it hung in about 1 start of 8), 20 times
serve_conf "$D/spool4" 20613 >"$D/tg4.conf"
printf '[input.relp.second]\nlisten = 127.0.0.1:20610\n' >>"$D/tg4.conf"
codes=""
for _ in $(seq 20); do
    rm -rf "$D/spool4"
    timeout -k 1 20 "$TG_BIN" serve -c "$D/tg4.conf" >/dev/null 2>>"$D/serve4.log"
    codes="$codes $?"
done
check_eq "a later listener that cannot bind: exit 3, every time" \
    "$(printf ' 3%.0s' $(seq 20))" "$codes"
serve_conf "$D/spool" 20612 >"$D/tg3.conf"
"$TG_BIN" serve -c "$D/tg3.conf" >/dev/null 2>"$D/serve3.log"
check_eq "spool in use: exit 3" 3 "$?"
check "spool in use: logged" grep -q 'in use by another trailguard process' "$D/serve3.log"
rsyslog_start "$D/rs" "$(rsyslog_fwd_conf "$D/rs" 20611 20610)"
check "rsyslog imtcp is up" wait_for 100 tcp_port_open 20611
feed_tcp 20611 1 $N
if wait_for 600 lines_at_least "$D/out" $N; then ok "$N events arrived"; else
    not_ok "$N events arrived (got $(grep -c '^{' "$D/out"))"
fi
rsyslog_stop
check_eq "every record exactly once" "$N $N" "$(grep -c '^{' "$D/out") $(count_recs "$D/out")"
check_eq "no duplicate event.id" 0 "$(dup_ids "$D/out")"
check_eq "events are relp input from 127.0.0.1" "$N" \
    "$(grep -c '"input":{"type":"relp","peer":"127.0.0.1"}' "$D/out")"
check "serve exits 0 on SIGTERM" serve_stop
check_eq "spool empty after a clean stop" 0 "$(ls "$D/spool" | grep -c '\.log$')"
check "summary logged" grep -q "stopped: $N events in" "$D/serve.log"
tap_done
