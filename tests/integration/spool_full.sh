#!/bin/bash
# spool_full.sh - the spool's disk fills up (a 24 MiB tmpfs, filled with dd):
# (1) after a segment was started but before its records were confirmed:
# the confirmations still land (the .ack file's blocks were allocated when
# the segment was made; a hole there would be a SIGBUS) and every event is
# delivered; (2) before the first segment: the message is held
# unacknowledged, the failure logged and retried, and it is delivered once
# space is freed.  Needs root (mount); skipped otherwise.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
MNT=$D/mnt
trap 'umount "$MNT" 2>/dev/null; relp_cleanup' EXIT
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=24m tmpfs "$MNT" 2>/dev/null; then
    echo "1..0 # SKIP cannot mount a tmpfs (needs root)"
    exit 0
fi
fill() { dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null; }
serve_conf "$MNT/spool" 20670 >"$D/tg.conf"

# --- (1) full between the append and the confirmation
# one record whose event (~120 kB of JSON) does not fit in a pipe: the
# stdout sink blocks on it until the reader starts, before confirming
mkfifo "$D/fifo"
exec 7<>"$D/fifo"
check "serve listens" serve_start "$D/tg.conf" "$D/fifo" "$D/serve.log"
{
    printf '[uid:1000 sid:1 tty:/dev/pts/0 cwd:/home/a filename:/usr/bin/echo]: echo '
    head -c 60000 /dev/zero | tr '\0' x
    echo
} >"$D/big.txt"
check "a 60 kB record is acknowledged" "$RELP_LOAD" -p 20670 -n 1 "$D/big.txt"
fill
check_eq "the disk is full" 0 "$(df --output=avail "$MNT" | tail -1 | tr -d ' ')"
cat <&7 >"$D/out" &
_tg_pids="$_tg_pids $!"
check "the event is delivered" wait_for 100 lines_at_least "$D/out" 1
check "serve still runs (confirming wrote into allocated blocks)" kill -0 "$SERVE_PID"
check "serve exits 0 on SIGTERM" serve_stop
check "... having confirmed the record" grep -q 'spool: 1 appended, 1 confirmed' "$D/serve.log"
exec 7>&-

# --- (2) full before the first segment
: >"$D/serve.log"
fill # again: the delivered segment was deleted
check_eq "the disk is full again" 0 "$(df --output=avail "$MNT" | tail -1 | tr -d ' ')"
check "serve starts on the full disk" serve_start "$D/tg.conf" "$D/out2" "$D/serve.log"
"$RELP_LOAD" -p 20670 -n 3 "$TG_SHARED/samples/snoopy-2.5.1-default.log" >"$D/load.out" 2>&1 &
LOAD_PID=$!
_tg_pids="$_tg_pids $LOAD_PID"
check "the failed reservation is logged, naming the file and what to do" \
    wait_for 100 grep -q 'seg-[0-9]*\.log: cannot reserve .*No space left on device; free space in spool_dir' \
    "$D/serve.log"
check "... and the message is held, not acknowledged" wait_for 100 grep -q 'holding the acknowledgement and retrying' \
    "$D/serve.log"
check "the sender is held back" kill -0 "$LOAD_PID"
check_eq "nothing was delivered yet" 0 "$(grep -c '^{' "$D/out2" 2>/dev/null || true)"
rm -f "$MNT/filler"
check "once space is freed the sender finishes" wait "$LOAD_PID"
check "every message is delivered" wait_for 100 lines_at_least "$D/out2" 3
check "serve exits 0 on SIGTERM" serve_stop
check "... with the retries counted" grep -Eq '[1-9][0-9]* spool retries' "$D/serve.log"
tap_done
