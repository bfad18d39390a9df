#!/bin/bash
# store_retention.sh - retention of the file store (issue 16, part 1):
# `trailguard prune DIR --before T` and [sink.file] retain_days /
# retain_bytes remove whole old segments after a signed prune point is in
# the chain, so verify says "intact from segment N (pruned ...)"; a deletion
# without one, or with a prune point the chain does not hold, is tampering;
# checkpoints from before the prune are not held against the store; a prune
# cut short by a crash is finished by the next run; prune refuses a store a
# collector is writing to.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
cd "$TG_TMP" || exit 1
"$TG_BIN" keygen --out ck >/dev/null
# days DIR DAY...: one ingest run (one segment) of 100 records per November day
days() {
    local d=$1 day
    shift
    for day in "$@"; do
        gen_records 100 0 "$day" >"in$day"
        "$TG_BIN" ingest -q -c "$d.ini" "in$day" 2>/dev/null || return 1
    done
}
nsegs() { ls "$1"/seg-*.ndjson.gz 2>/dev/null | wc -l; }

store_conf s.ini s "signing_key_file = $TG_TMP/ck.key"
days s 10 12 14 16
cp s/checkpoints.ndjson held.ndjson
"$TG_BIN" prune s --before 2026-11-13 --signing-key ck.key >p.out 2>p.err
check_eq "prune --before removes the segments whose events are all older" "0 no" \
    "$? $(ls s/seg-000000000[12].* 2>/dev/null || echo no)"
check "... and says how many" grep -q "2 segments removed" p.out
"$TG_BIN" verify --checkpoint held.ndjson --pubkey ck.pub s >v.out 2>&1
check_eq "verify: the pruned store is intact" 0 "$?"
check "... from segment 3, naming the prune and what it removed" \
    grep -q "intact from segment 3 (the segments before it were pruned by policy at .*: trailguard prune --before 2026-11-13: segments 1 to 2 (200 records" v.out
check "... counting the records that are left" grep -q "201 records (store records 201 to 401)" v.out
check "... and the held checkpoints of the pruned part are not held against it" \
    grep -q "2 checkpoints lie in the pruned part" v.out
check "the prune point is an event in the store" sh -c \
    "'$TG_BIN' query s --format ndjson --dataset trailguard.checkpoint | jq -e 'select(.event.action == \"prune\") | .trailguard.checkpoint.signature' >/dev/null"
check_eq "query returns the records left and the prune point" 201 "$("$TG_BIN" query s --format ndjson | wc -l)"
check "export of the pruned store is intact" "$TG_BIN" export s --since 2026-11-01 --until 2026-12-01 \
    --format ndjson --out e.ndjson --checkpoint held.ndjson --pubkey ck.pub
check "... and its manifest says intact" jq -e '.verify.intact' e.ndjson.manifest.json

# deleting old segments without a prune point is still tampering
rm -rf t && cp -a s t && rm t/seg-0000000003.*
"$TG_BIN" verify t >v.out 2>&1
check_eq "a segment removed after the prune point's first one is tampering" 1 "$?"
rm -rf t && cp -a s t && sed -i '/"reason":"prune"/d' t/checkpoints.ndjson
"$TG_BIN" verify t >v.out 2>&1
check_eq "without the prune point in checkpoints.ndjson the missing segments are tampering" 1 "$?"
check "... named as deleted" grep -q "segments 1 to 2 are missing" v.out
store_conf u.ini u
days u 10 12 14
rm u/seg-0000000001.*
python3 - u <<'PY' # a prune point forged into checkpoints.ndjson (the chain holds none)
import json, struct, sys
d = sys.argv[1]
h = open(d + "/seg-0000000002.chain", "rb").read(96)
cp = json.loads(open(d + "/checkpoints.ndjson").readline())
cp.update(reason="prune", segment=2, records=struct.unpack_from("<Q", h, 24)[0],
          members=struct.unpack_from("<Q", h, 32)[0], link=h[56:88].hex())
open(d + "/checkpoints.ndjson", "a").write(json.dumps(cp, separators=(",", ":")) + "\n")
PY
"$TG_BIN" verify u >v.out 2>&1
check_eq "a prune point the chain does not hold is refused" 1 "$?"
check "... saying so" grep -q "after a prune point in checkpoints.ndjson that the chain does not hold" v.out

# a prune cut short between the prune point and the deletion
store_conf c.ini c "signing_key_file = $TG_TMP/ck.key"
days c 10 12 14
mkdir keep && cp c/seg-0000000001.* keep/
"$TG_BIN" prune c --before 2026-11-11 --signing-key ck.key >/dev/null 2>&1
cp keep/* c/ # as if the crash came before the files were removed
"$TG_BIN" verify c >v.out 2>&1
check_eq "a prune cut short by a crash is not tampering" 0 "$?"
check "... the leftover is named" grep -q "segments 1 to 1 remain from a prune that was cut short" v.out

# retention in the collector: retain_bytes and retain_days
store_conf r.ini r "retain_bytes = 30k" "signing_key_file = $TG_TMP/ck.key"
days r 20 21 22 23 24 25
check "retain_bytes keeps the store near its limit" test "$(du -cb r/seg-*.ndjson.gz | tail -1 | cut -f1)" -lt 60000
check "... removing whole segments from the oldest" test ! -e r/seg-0000000001.ndjson.gz
"$TG_BIN" verify r >v.out 2>&1
check_eq "... and verify calls the store intact" 0 "$?"
check "... naming retain_bytes" grep -q "pruned by policy at .*retain_bytes = 30720" v.out
store_conf d.ini d "retain_days = 7"
days d 1 2 3 # November: more than 7 days ago
"$TG_BIN" verify d >v.out 2>&1
check_eq "retain_days: the store is intact" 0 "$?"
check "... and its oldest segment is gone" test ! -e d/seg-0000000001.ndjson.gz
check "... pruned by retain_days" grep -q "intact from segment [23] (.*retain_days = 7" v.out

# the keyed chain goes on across a prune
head -c 32 /dev/urandom | base64 >hmac.key
store_conf k.ini k "hmac_key_file = $TG_TMP/hmac.key"
days k 10 12 14
"$TG_BIN" prune k --before 2026-11-13 --key hmac.key >/dev/null 2>&1
check_eq "prune of a keyed store" no "$(ls k/seg-000000000[12].* 2>/dev/null || echo no)"
days k 16
check "... and the keyed chain verifies after it" "$TG_BIN" verify --key hmac.key k

# not while a collector writes
mkfifo fifo
"$TG_BIN" ingest -q -c s.ini - <fifo 2>w.err &
pid=$!
exec 3>fifo
wait_for 100 grep -q "file sink: writing to" w.err
"$TG_BIN" prune s --before 2026-11-30 >p.out 2>&1
check_eq "prune refuses a store a collector writes to" 3 "$?"
check "... saying it is locked" grep -q "is locked" p.out
exec 3>&-
wait $pid
tap_done
