#!/bin/bash
# fault_spool_size.sh - issue 11 (1): one size limit, so that an acknowledged
# record is always readable again.  A RELP message longer than the largest
# record any source hands on (TG_RECORD_MAX, 64 MiB), sent with
# max_message = 64M, is acknowledged, cut at 64 MiB and marked truncated
# (SPEC.md section 5; the parse error says so); the collector is killed -9 before its sink delivers
# it; after the restart the spool replays it and the event arrives.  (The
# spool record is the 64 MiB plus the metadata: before the fix it exceeded
# the reader's body limit, was called corrupt at the restart, and the
# acknowledged message was lost.)  max_message above 64 MiB is refused.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/fault_lib.sh"
D=$TG_TMP
PORT=$(free_port 20800 20819)
serve_conf "$D/spool" "$PORT" "max_message = 64M" >"$D/tg.conf"
MAX=$((64 << 20))
python3 - "$D/big.msg" $((MAX + 1000)) <<'PYEOF'
import sys
head = b"<13>Nov 24 13:44:13 web1 bigapp: start-of-the-big-one "
with open(sys.argv[1], "wb") as f:
    f.write(head + b"x" * (int(sys.argv[2]) - len(head)))
PYEOF

stalled_fifo "$D/fifo"
check "serve listens (its sink cannot deliver)" serve_start "$D/tg.conf" "$D/fifo" "$D/serve1.log"
check "a message of 64 MiB + 1000 bytes is acknowledged" $RELP_SEND "$PORT" "$D/big.msg"
kill9
exec 7>&-
check "restarted after kill -9" serve_start "$D/tg.conf" "$D/out" "$D/serve2.log"
if wait_for 300 lines_at_least "$D/out" 1; then
    ok "the acknowledged message arrives after the restart"
else
    not_ok "the acknowledged message arrives after the restart"
    grep -i 'corrupt\|spool' "$D/serve2.log" | head -5 | sed 's/^/# /'
fi
check_eq "... cut at 64 MiB and marked as truncated" "$MAX truncated start" "$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        e = json.loads(line)
        o = e["event"]["original"]
        print(len(o), "truncated" if "truncated" in e["trailguard"]["parse"].get("error", "") else "-",
              "start" if o.startswith("<13>Nov 24 13:44:13 web1 bigapp: start") else "-")
' "$D/out" 2>&1 | head -1)"
check "no record was called corrupt" sh -c "! grep -q corrupt '$D/serve2.log'"
check "serve exits 0 on SIGTERM" serve_stop

serve_conf "$D/spool2" "$PORT" "max_message = 65M" >"$D/over.conf"
"$TG_BIN" serve -c "$D/over.conf" >/dev/null 2>"$D/over.err"
check_eq "max_message above 64 MiB is a configuration error (exit 2)" 2 $?
check "... naming the key" grep -q 'max_message' "$D/over.err"
tap_done
