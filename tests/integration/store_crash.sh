#!/bin/bash
# store_crash.sh - the file store under failure: a writer killed with
# SIGKILL mid-write leaves every flushed event readable and a chain that
# verifies up to the torn tail, and the next run repairs the tail; a full
# disk (a 1 MiB tmpfs) holds the events unconfirmed until space is freed,
# then writes them all; at shutdown with the disk still full the sink gives
# up (leaving them unconfirmed) instead of hanging.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh" # relp_cleanup
. "$TG_SRCDIR/tests/integration/store_lib.sh"
MNT=$TG_TMP/mnt
trap 'umount "$MNT" 2>/dev/null; relp_cleanup' EXIT

# --- kill -9 mid-write
S=$TG_TMP/store
gen_records 400000 >"$TG_TMP/big.log"
printf '[collector]\nfsync = interval\nfsync_interval_ms = 20\n\n[sink.file]\ndir = %s\nrotate_bytes = 512k\n' \
    "$S" >"$TG_TMP/c.ini"
"$TG_BIN" ingest -q -c "$TG_TMP/c.ini" "$TG_TMP/big.log" 2>"$TG_TMP/ingest.err" &
pid=$!
segs() { [ "$(ls "$S"/seg-*.ndjson.* 2>/dev/null | wc -l)" -ge "$1" ]; }
# readers do not disturb the writer and are not disturbed by it, also when
# they list the directory while it rolls to a new segment (up to 10 rounds
# while it writes the third segment)
live_reads() {
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        "$TG_BIN" query "$S" --format ndjson >"$TG_TMP/live" 2>&1 &&
            "$TG_BIN" verify "$S" >"$TG_TMP/live.v" 2>&1 || return 1
        segs 4 && break
    done
    return 0
}
if wait_for 300 segs 2 && live_reads; then
    ok "query and verify work while the writer writes ($(wc -l <"$TG_TMP/live") events read)"
else
    not_ok "query and verify work while the writer writes"
    diag "$(tail -3 "$TG_TMP/live") $(cat "$TG_TMP/live.v")"
fi
if wait_for 300 segs 5 && kill -9 $pid 2>/dev/null; then
    ok "the writer was killed with SIGKILL mid-run"
else
    not_ok "the writer was killed with SIGKILL mid-run"
fi
wait $pid 2>/dev/null
flushed=$(head_records "$S")
diag "chain.head: $flushed records flushed when killed"
"$TG_BIN" verify "$S" >"$TG_TMP/v.out" 2>&1
check_eq "verify after SIGKILL exits 0 (intact up to any torn tail)" 0 "$?"
diag "$(cat "$TG_TMP/v.out")"
# chained >= flushed: a kill between chaining a member and updating chain.head
# leaves a member written and chained but never confirmed (the spool would
# replay it and dedup drop the repeats)
chained=$(sed -n 's/.*, \([0-9]*\) records, .*/\1/p' "$TG_TMP/v.out")
check "the chain covers at least every flushed event ($chained >= $flushed)" test "${chained:-0}" -ge "$flushed"
got=$("$TG_BIN" query "$S" --format ndjson | jq -c .event.id | wc -l)
check "every flushed event is readable ($got >= $flushed)" test "$got" -ge "$flushed"
check "what zcat/zstdcat read is valid JSON up to the tail" bash -c \
    "$(declare -f store_cat); store_cat '$S' | sed '\$d' | jq -e -c . >/dev/null"
check_eq "the chained events are the first ones of the input, in order" \
    "$(head -n "$chained" "$TG_TMP/big.log" | awk '{print $NF}' | md5sum)" \
    "$("$TG_BIN" query "$S" --format ndjson | head -n "$chained" | jq -r .event.original | awk '{print $NF}' | md5sum)"
gen_records 100 >"$TG_TMP/small.log"
check "the next run starts on the killed store" "$TG_BIN" ingest -q -c "$TG_TMP/c.ini" "$TG_TMP/small.log"
"$TG_BIN" verify "$S" >"$TG_TMP/v.out" 2>&1
check_eq "after the restart the store verifies intact" 0 "$?"
check "... without a torn tail (it was cut at start-up)" sh -c "! grep -q torn '$TG_TMP/v.out'"
check_eq "... and holds the chained events plus the new ones" $((chained + 100)) \
    "$("$TG_BIN" query "$S" --format ndjson | wc -l)"

# --- a full disk
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=1m tmpfs "$MNT" 2>/dev/null; then
    skip "full disk: cannot mount a tmpfs (needs root)"
    skip "full disk: nothing lost"
    tap_done
    exit
fi
F=$MNT/store
gen_records 6000 >"$TG_TMP/in.log"
printf '[collector]\nfsync = always\n\n[sink.file]\ndir = %s\n' "$F" >"$TG_TMP/f.ini"
mkdir -p "$F"
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
# the input stays open (a FIFO) while the disk is full, as a collector's would
mkfifo "$TG_TMP/feed"
"$TG_BIN" ingest -q -c "$TG_TMP/f.ini" - <"$TG_TMP/feed" 2>"$TG_TMP/full.err" &
pid=$!
exec 3>"$TG_TMP/feed"
cat "$TG_TMP/in.log" >&3
if wait_for 100 grep -q "No space left on device.*retrying" "$TG_TMP/full.err"; then
    ok "a full disk is logged and retried"
else
    not_ok "a full disk is logged and retried"
    diag "$(cat "$TG_TMP/full.err")"
fi
check "the writer holds on (it does not exit or drop)" kill -0 $pid
check_eq "nothing was written while the disk was full" 0 "$(count_store "$F")"
rm -f "$MNT/filler"
exec 3>&-
wait_for 300 sh -c "! kill -0 $pid 2>/dev/null"
wait $pid
check_eq "once space is freed the run finishes with exit 0" 0 "$?"
check "the recovery is logged" grep -q "writing to $F again" "$TG_TMP/full.err"
check_eq "nothing was lost" 6000 "$("$TG_BIN" query "$F" --format ndjson | wc -l)"
check_eq "every event once, in order" "$(awk '{print $NF}' "$TG_TMP/in.log" | md5sum)" \
    "$("$TG_BIN" query "$F" --format ndjson | jq -r .event.original | awk '{print $NF}' | md5sum)"
check "the store verifies intact" "$TG_BIN" verify "$F"

# shutdown while the disk stays full: give up, do not hang
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
gen_records 50 >"$TG_TMP/few.log"
"$TG_BIN" ingest -q -c "$TG_TMP/f.ini" "$TG_TMP/few.log" 2>"$TG_TMP/stop.err" &
pid=$!
if wait_for 200 sh -c "! kill -0 $pid 2>/dev/null"; then
    ok "at shutdown with the disk still full the sink gives up"
else
    kill $pid
    not_ok "at shutdown with the disk still full the sink gives up"
fi
wait $pid 2>/dev/null
check "... saying the events stay unconfirmed" grep -q "shutting down with 50 events not written" "$TG_TMP/stop.err"
rm -f "$MNT/filler"
check "... and the store still verifies intact" "$TG_BIN" verify "$F"
tap_done
