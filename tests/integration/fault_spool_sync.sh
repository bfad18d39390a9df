#!/bin/bash
# fault_spool_sync.sh - issue 11 (2): a failed fdatasync never leads to an
# acknowledgement.  The fault injector (tests/tools/tg_fault.so) makes one
# fdatasync of a spool segment fail with EIO:
# (1) omprog, useTransactions, fsync = always: a transaction of 200 records
#     of 1 KiB fills a 128 KiB segment, so the segment is sealed in the
#     middle of it and that sealing fdatasync fails.  The commit mark must
#     get an error reply, not OK (before the fix the commit synced only the
#     new segment and said OK for the ~127 records of the failed one);
#     rsyslog then resends the transaction, which is acknowledged, and every
#     record is delivered.
# (2) RELP, fsync = always, two listeners: message a's fdatasync fails after
#     message b (on the other listener) was appended to the same segment and
#     waits for that group sync.  Neither may be acknowledged on the
#     strength of a later fdatasync of the segment that failed (the kernel
#     may have dropped the failed pages: a later fdatasync of the same file
#     says nothing about them); both are retried by their callbacks and
#     acknowledged once a segment that never failed is synced.  Checked in
#     the injector's trace: every "200 OK" of a syslog frame follows a
#     successful fdatasync of a segment that had no failed one.
# Both: the failure is logged and counted (trailguard_spool_sync_failures_total).
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/fault_lib.sh"
D=$TG_TMP

# --- (1) omprog
mkdir -p "$D/om"
cat >"$D/om/tg.conf" <<EOC
[collector]
spool_dir = $D/om/spool
metrics_listen =
fsync = always
spool_max_bytes = 1M
EOC
TG_FAULT_SYNC_FAIL="$D/om/spool/seg-*.log" TG_FAULT_TRACE="$D/om/trace" \
    with_fault python3 - "$TG_BIN" "$D/om/tg.conf" >"$D/om/replies" 2>"$D/om/driver.err" <<'PYEOF'
import subprocess, sys
p = subprocess.Popen([sys.argv[1], "omprog", "-c", sys.argv[2]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=open(sys.argv[2] + ".events", "wb"))
def say(line):
    p.stdin.write(line + b"\n"); p.stdin.flush()
    return p.stdout.readline().strip().decode()
ready = p.stdout.readline().strip().decode()
def txn():
    replies = [say(b"BEGIN TRANSACTION")]
    for i in range(200):
        replies.append(say(b"<86>Nov 24 13:44:13 h1 snoopy[%d]: txn-rec-%03d " % (i, i) + b"x" * 1000))
    commit = say(b"COMMIT TRANSACTION")
    return replies, commit
r1, c1 = txn()
r2, c2 = txn()  # what rsyslog does after an error reply: the same messages again
p.stdin.close()
rc = p.wait(timeout=60)
print("ready=%s" % ready)
print("deferred=%d,%d" % (r1.count("DEFER_COMMIT"), r2.count("DEFER_COMMIT")))
print("commit1=%s" % c1)
print("commit2=%s" % c2)
print("rc=%d" % rc)
PYEOF
check "omprog: the injected fdatasync failure hit a spool segment" \
    grep -q "fdatasync $D/om/spool/seg-.*= Input/output error" "$D/om/trace"
check_eq "omprog: 2 x 200 messages deferred" "deferred=200,200" "$(grep deferred= "$D/om/replies")"
if grep -q '^commit1=OK' "$D/om/replies"; then
    not_ok "omprog: the commit of the transaction whose segment failed to sync is not OK (got OK)"
else
    check "omprog: the commit of the transaction whose segment failed to sync gets an error reply" \
        grep -q '^commit1=Error' "$D/om/replies"
fi
check_eq "omprog: the resent transaction is committed" "commit2=OK" "$(grep commit2= "$D/om/replies")"
check_eq "omprog: exit 0 at end of input" "rc=0" "$(grep rc= "$D/om/replies")"
check_eq "omprog: every record delivered" 200 \
    "$(grep -o 'txn-rec-[0-9]*' "$D/om/tg.conf.events" | sort -u | wc -l)"
check "omprog: the failure is logged, naming the segment" \
    grep -q "spool: .*seg-[0-9a-f]*\.log: fdatasync failed: Input/output error" "$D/om/tg.conf.events"
check "omprog: ... and counted" grep -Eq 'spool: .* 1 sync failures' "$D/om/tg.conf.events"

# --- (2) RELP, two listeners
P1=$(free_port 20820 20829)
P2=$(free_port 20830 20839)
PM=$(free_port 20840 20849)
serve_conf "$D/spool" "$P1" "[input.relp.b]
listen = 127.0.0.1:$P2" | sed "s/^metrics_listen =.*/metrics_listen = 127.0.0.1:$PM\nfsync = always/" \
    >"$D/tg.conf"
printf '<86>Nov 24 13:44:13 h1 app: message-a' >"$D/a.msg"
printf '<86>Nov 24 13:44:13 h1 app: message-b' >"$D/b.msg"
export TG_FAULT_SYNC_FAIL="$D/spool/seg-*.log" TG_FAULT_SYNC_GATE="$D/gate" TG_FAULT_TRACE="$D/trace"
check "serve listens on two RELP ports" with_fault serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
unset TG_FAULT_SYNC_FAIL TG_FAULT_SYNC_GATE TG_FAULT_TRACE
$RELP_SEND -t 60 "$P1" "$D/a.msg" >"$D/a.out" 2>&1 &
A_PID=$!
_tg_pids="$_tg_pids $A_PID"
check "a's fdatasync has started (and will fail)" \
    wait_for 100 grep -q "fdatasync begin $D/spool/seg-" "$D/trace"
$RELP_SEND -t 60 "$P2" "$D/b.msg" >"$D/b.out" 2>&1 &
B_PID=$!
_tg_pids="$_tg_pids $B_PID"
# b's listener thread waits for the running group sync (a futex) once b is appended
b_waits() {
    local t
    for t in /proc/"$SERVE_PID"/task/*; do
        grep -qx tg-in-relp "$t/comm" && grep -q futex "$t/wchan" && return 0
    done
    return 1
}
check "b is appended and waits for the same fdatasync" wait_for 100 b_waits
touch "$D/gate"
check "a is acknowledged (after a retry)" wait "$A_PID"
check "b is acknowledged (after a retry)" wait "$B_PID"
violations=$(awk -v seg="$D/spool/seg-" '
    ($1 == "fdatasync" || $1 == "fsync") && index($2, seg) == 1 && $3 == "=" {
        if ($4 == "0") last = $2; else { failed[$2] = 1; last = "" }
    }
    $1 == "send" && / rsp 6 200 OK/ { if (last == "" || (last in failed)) n++ }
    END { print n + 0 }' "$D/trace")
check_eq "no ack rests on an fdatasync of a segment that failed to sync" 0 "$violations"
check "both events delivered" wait_for 100 sh -c "[ \$(grep -c 'message-[ab]' '$D/out') -ge 2 ]"
check "the failure is logged" grep -q 'fdatasync failed: Input/output error' "$D/serve.log"
check "... and counted in /metrics" sh -c \
    "curl -fsS http://127.0.0.1:$PM/metrics | grep -qx 'trailguard_spool_sync_failures_total 1'"
check "serve exits 0 on SIGTERM" serve_stop
tap_done
