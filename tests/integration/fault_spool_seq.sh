#!/bin/bash
# fault_spool_seq.sh - issue 11 (3): sequence numbers are never reused and a
# stale .ack file is never trusted.  The collector is killed (-9, by the
# fault injector) in the middle of deleting a delivered segment: between
# the unlinks of its two files.  Before the fix that left seg-1.ack behind,
# the next process started again at sequence number 1, its new seg-1.log
# took over the stale .ack with every bit set, and its records counted as
# delivered: acknowledged, killed before delivery, never replayed.  Now the
# records acknowledged after the interrupted deletion are all replayed; a
# new process numbers its records above every number used before, also
# after the spool was emptied.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/fault_lib.sh"
D=$TG_TMP
PORT=$(free_port 20850 20869)
serve_conf "$D/spool" "$PORT" >"$D/tg.conf"
for i in 1 2 3 4 5 6 7; do
    printf '<86>Nov 24 13:44:13 h1 app: seq-rec-%d' "$i" >"$D/r$i.msg"
done
# first_seq TEXT: the first sequence number (decimal) of the segment holding TEXT
first_seq() {
    local f
    f=$(grep -l "$1" "$D"/spool/seg-*.log | head -1)
    f=${f##*/seg-}
    echo $((16#${f%.log}))
}

# run 1: three records delivered, then SIGTERM; the clean stop deletes the
# segment and is killed between the two unlinks
export TG_FAULT_KILL_UNLINK="$D/spool/seg-*" TG_FAULT_KILL_AT=2 TG_FAULT_TRACE="$D/trace"
check "run 1 listens" with_fault serve_start "$D/tg.conf" "$D/out1" "$D/serve1.log"
unset TG_FAULT_KILL_UNLINK TG_FAULT_KILL_AT TG_FAULT_TRACE
check "run 1: three records acknowledged" $RELP_SEND "$PORT" "$D/r1.msg" "$D/r2.msg" "$D/r3.msg"
check "run 1: ... and delivered" wait_for 100 lines_at_least "$D/out1" 3
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
check_eq "run 1 was killed between the two unlinks of the delivered segment" "137 1" \
    "$? $(grep -c '^kill before unlink' "$D/trace")"
diag "left behind: $(cd "$D/spool" && ls | tr '\n' ' ')"

# run 2: three more records, acknowledged; killed before they are delivered
stalled_fifo "$D/fifo"
check "run 2 listens (its sink cannot deliver)" serve_start "$D/tg.conf" "$D/fifo" "$D/serve2.log"
check "run 2: three records acknowledged" $RELP_SEND "$PORT" "$D/r4.msg" "$D/r5.msg" "$D/r6.msg"
kill9
exec 7>&-
seg2=$(first_seq seq-rec-4)
check "run 2 numbered its records above those of run 1 (segment starts at $seg2)" test "$seg2" -gt 3

# run 3: every acknowledged record arrives
check "run 3 listens" serve_start "$D/tg.conf" "$D/out3" "$D/serve3.log"
if wait_for 100 sh -c "[ \$(grep -o 'seq-rec-[456]' '$D/out3' | sort -u | wc -l) -eq 3 ]"; then
    ok "run 3: the three records acknowledged by run 2 are replayed"
else
    not_ok "run 3: the three records acknowledged by run 2 are replayed (got:" \
        "$(grep -o 'seq-rec-[456]' "$D/out3" | sort -u | tr '\n' ' '))"
fi
check "run 3 exits 0 on SIGTERM" serve_stop
check_eq "the spool is empty after the clean stop" 0 "$(ls "$D/spool" | grep -c '^seg-')"

# run 4, on the empty spool: numbers still go up
stalled_fifo "$D/fifo4"
check "run 4 listens" serve_start "$D/tg.conf" "$D/fifo4" "$D/serve4.log"
check "run 4: a record acknowledged" $RELP_SEND "$PORT" "$D/r7.msg"
kill9
exec 7>&-
seg4=$(first_seq seq-rec-7)
check "run 4 on an empty spool numbers above run 2 ($seg4 > $seg2)" test "$seg4" -gt "$seg2"
tap_done
