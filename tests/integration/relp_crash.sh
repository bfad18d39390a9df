#!/bin/bash
# relp_crash.sh - issue 6 test (2): kill -9 the collector while rsyslog is
# sending, restart it: every record rsyslog sent arrives, and after
# deduplication (the collector's own, by event.id) exactly once.
#
# What is checked: no record is lost across the crash; the restarted
# collector replays its spool and rsyslog resends what was not acknowledged,
# and the restarted process writes no event.id twice.  Events the first
# process had already written but whose confirmation had not reached the
# spool's ack bitmap when it died (a window of microseconds, plus whatever
# the stdout sink had written of an unconfirmed batch) are replayed once
# more: they are the same event.id, so a consumer deduplicating across the
# restart by event.id sees every record exactly once; their number is
# printed as a diagnostic.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
N=20000
D=$TG_TMP
serve_conf "$D/spool" 20620 >"$D/tg.conf"
# The first collector's stdout is a pipe whose reader stops reading after
# 300 kB: its sink stalls, so records pile up in the spool unconfirmed --
# the kill -9 then hits a collector with acknowledged, undelivered records.
# After the kill the reader takes what the pipe still holds (delivered
# from the collector's point of view) and exits.
mkfifo "$D/fifo"
python3 -c '
import os, sys, time
out = open(sys.argv[1], "wb"); n = 0
with open(sys.argv[2], "rb") as f:
    while n < 300000:
        b = f.read(min(65536, 300000 - n))
        if not b: break
        out.write(b); out.flush(); n += len(b)
    for _ in range(1200):
        if os.path.exists(sys.argv[3]): break
        time.sleep(0.1)
    out.write(f.read())
' "$D/out1" "$D/fifo" "$D/drain" &
READER_PID=$!
_tg_pids="$_tg_pids $READER_PID"
exec 7<>"$D/fifo" # so that opening it for writing cannot block on the reader
check "serve listens" serve_start "$D/tg.conf" "$D/fifo" "$D/serve1.log"
exec 7>&-
rsyslog_start "$D/rs" "$(rsyslog_fwd_conf "$D/rs" 20621 20620)"
check "rsyslog imtcp is up" wait_for 100 tcp_port_open 20621
feed_tcp 20621 1 $N 0.02 &
FEED_PID=$!
_tg_pids="$_tg_pids $FEED_PID"
spooled() { [ "$(cat "$D"/spool/*.log 2>/dev/null | grep -c 'echo rec-')" -ge "$1" ]; }
check "records pile up in the spool behind the stalled sink" wait_for 300 spooled $((N / 4))
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
touch "$D/drain"
wait "$READER_PID"
diag "killed the collector (-9) with $(grep -c '^{' "$D/out1") events written"
check "restarted collector listens" serve_start "$D/tg.conf" "$D/out2" "$D/serve2.log"
wait "$FEED_PID"
if wait_for 900 sh -c "[ \$(cat '$D/out1' '$D/out2' | grep -o 'echo rec-[0-9]*' | sort -u | wc -l) -ge $N ]"; then
    ok "all $N records arrived"
else
    not_ok "all $N records arrived (got $(count_recs "$D/out1" "$D/out2"))"
fi
rsyslog_stop
check "collector exits 0 on SIGTERM" serve_stop
check_eq "every record present" $N "$(count_recs "$D/out1" "$D/out2")"
check_eq "restarted collector wrote no event.id twice" 0 "$(dup_ids "$D/out2")"
uniq_ids=$(cat "$D/out1" "$D/out2" | grep '^{' | jq -rR 'fromjson? | .event.id' | sort -u | wc -l)
check_eq "exactly once after dedup by event.id" $N "$uniq_ids"
replayed=$(grep -o 'replayed [0-9]* unconfirmed' "$D/serve2.log" | grep -o '[0-9]*' || echo 0)
dups=$(grep -o 'stopped: .*' "$D/serve2.log" | grep -o '[0-9]* duplicates dropped' | grep -o '^[0-9]*')
diag "replayed from the spool: ${replayed:-0}; duplicates dropped by dedup: ${dups:-0};" \
    "written again across the crash: $(dup_ids "$D/out1" "$D/out2")"
check_eq "spool empty after a clean stop" 0 "$(ls "$D/spool" | grep -c '\.log$')"
tap_done
