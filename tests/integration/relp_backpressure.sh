#!/bin/bash
# relp_backpressure.sh - spool_max_bytes: with the sink stalled, the spool
# fills up, the collector stops acknowledging (the RELP sender blocks with
# its window full: backpressure, logged), and nothing is lost: once the
# sink moves again every message arrives and the sender finishes.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
N=20000
D=$TG_TMP
serve_conf "$D/spool" 20660 >"$D/tg.conf"
MPORT=$(free_port 20820 20839)
sed -i 's/^\[input.relp\]$/spool_max_bytes = 1M\n&/' "$D/tg.conf"
sed -i "s/^metrics_listen =.*/metrics_listen = 127.0.0.1:$MPORT/" "$D/tg.conf"
# the collector's stdout: a pipe nobody reads until $D/go exists
mkfifo "$D/fifo"
python3 -c '
import os, sys, time
for _ in range(1800):
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.1)
with open(sys.argv[2], "rb") as f, open(sys.argv[1], "wb") as out:
    while True:
        b = f.read(65536)
        if not b: break
        out.write(b)
' "$D/out" "$D/fifo" "$D/go" &
READER_PID=$!
_tg_pids="$_tg_pids $READER_PID"
exec 7<>"$D/fifo"
check "serve listens" serve_start "$D/tg.conf" "$D/fifo" "$D/serve.log"
exec 7>&-
"$RELP_LOAD" -p 20660 -s 2 -n $N "$TG_SHARED/samples/snoopy-2.5.1-default.log" >"$D/load.out" 2>&1 &
LOAD_PID=$!
_tg_pids="$_tg_pids $LOAD_PID"
check "the spool fills up and says so" wait_for 300 grep -q 'is full (spool_max_bytes' "$D/serve.log"
if command -v curl >/dev/null; then
    check "... and counts it in /metrics" sh -c "curl -fsS http://127.0.0.1:$MPORT/metrics |
        awk '\$1 == \"trailguard_spool_full_waits_total\" && \$2 >= 1 { f = 1 } END { exit !f }'"
else
    skip "curl not installed: /metrics not scraped"
fi
spool_kb=$(du -sk "$D/spool" | cut -f1)
diag "spool on disk while full: ${spool_kb} kB"
check "the sender is held back (still sending)" kill -0 "$LOAD_PID"
touch "$D/go"
check "the sender finishes once the sink moves" wait "$LOAD_PID"
check "receiving resumed (logged)" grep -q 'has room again' "$D/serve.log"
check "serve exits 0 on SIGTERM" serve_stop
wait "$READER_PID"
check_eq "every message arrived, once" "$N $N" \
    "$(grep -c '^{' "$D/out") $(grep -o '"event":{"id":"[0-9a-f]*"' "$D/out" | sort -u | wc -l)"
full=$(grep -o '[0-9]* full waits' "$D/serve.log" | grep -o '^[0-9]*')
check "the blocked appends were counted" test "${full:-0}" -ge 1
tap_done
