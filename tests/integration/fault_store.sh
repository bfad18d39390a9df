#!/bin/bash
# fault_store.sh - the file store's tamper evidence against the attacks and
# crashes of issue 11 (items 5-8 and 9), each of which passed as "intact" or
# broke the store on the format-1 code:
#   5  the newest segment(s) and chain.head removed, the writer restarted:
#      caught by a checkpoint held outside the store (and by the store's own
#      checkpoints while they are left); a cut member of a closed segment
#      whose .idx was deleted is not a "torn tail" (HMAC chain too), and
#      export does not call such a store intact
#   6  a member's time range in the sidecar set to hide it: caught by the seal
#   7  bytes inserted between two gzip members: caught; query returns none of
#      the records after them and export refuses the store
#   8  a power loss that left a sidecar entry whose member data never reached
#      the disk: a torn tail, not tampering; the next writer cuts it
#   9  fsync = never: chain.head on disk before the data (a power loss): the
#      writer starts anyway and says so; export checks and reads in one pass
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
EDIT="python3 $TG_SRCDIR/tests/integration/tamper.py"
cd "$TG_TMP" || exit 1

# mkstore DIR RUNS [extra [sink.file] lines]: RUNS ingest runs of 3 events
# each into DIR (each run: one member in a segment of its own)
mkstore() {
    local d=$1 runs=$2 i
    shift 2
    store_conf "$d.ini" "$d" "$@"
    for i in $(seq "$runs"); do
        gen_records 3 $((i * 5)) >"$d.in$i"
        "$TG_BIN" ingest -q -c "$d.ini" "$d.in$i" 2>>"$d.log" || return 1
    done
}
# verify_is NAME WANT-EXIT REGEX [verify args...]: verify's exit code and message
verify_is() {
    local name=$1 want=$2 re=$3
    shift 3
    "$TG_BIN" verify "$@" >v.out 2>&1
    local rc=$?
    if [ "$rc" -eq "$want" ] && grep -Eq "$re" v.out; then ok "$name"; else
        not_ok "$name"
        diag "exit $rc (want $want): $(cat v.out)"
    fi
}
export_all() { # export_all DIR [args]: export everything; prints "EXIT LINES INTACT"
    local d=$1
    shift
    "$TG_BIN" export "$d" --since 2020-01-01 --until 2030-01-01 --format ndjson --out e.ndjson \
        "$@" 2>e.err
    echo "$? $(wc -l <e.ndjson) $(jq -r .verify.intact e.ndjson.manifest.json 2>/dev/null)"
}
head -c 32 /dev/urandom | base64 >hmac.key
"$TG_BIN" keygen --out ck >/dev/null

# --- 5: the newest segments and chain.head removed, the writer restarted
mkstore s5 3 "signing_key_file = $TG_TMP/ck.key"
cp s5/checkpoints.ndjson held.ndjson # what the auditor got (Kafka, the log)
check "a store of 3 segments with signed checkpoints verifies" "$TG_BIN" verify --checkpoint held.ndjson --pubkey ck.pub s5
rm s5/seg-0000000003.* s5/chain.head
: >empty.log
"$TG_BIN" ingest -q -c s5.ini empty.log 2>restart.err
check_eq "5: the writer refuses to write on top of a store whose chain.head was removed" 3 "$?"
check "... saying what was lost and what to do" grep -q "chain.head is missing.*verify" restart.err
verify_is "5: verify names the truncation from the store's own checkpoints" 1 \
    "TAMPERED: the checkpoint on line 3 of checkpoints.ndjson counts 9 records .* holds 6" s5
# the attacker also rewrites checkpoints.ndjson and chain.head to match
head -n 2 s5/checkpoints.ndjson >x && mv x s5/checkpoints.ndjson
printf '%-191s\n' "trailguard-chain-head 2 segment=00000000000000000002 records=00000000000000000006 members=00000000000000000002 link=$(jq -r .link <(sed -n 2p s5/checkpoints.ndjson))" >s5/chain.head
verify_is "5: without a checkpoint from outside the cut cannot be seen, and verify says so" 0 \
    "from checkpoints.ndjson, which whoever can write the store can rewrite" s5
verify_is "5: with the auditor's checkpoint (signed) the truncation is named" 1 \
    "TAMPERED: the checkpoint given .* counts 9 records .* holds 6 .*removed" \
    --checkpoint held.ndjson --pubkey ck.pub s5
check_eq "5: export against that checkpoint refuses the store" "1 6 false" \
    "$(export_all s5 --checkpoint held.ndjson --pubkey ck.pub)"
check "... and its manifest names the checkpoint" jq -e '.verify.problem | test("checkpoint given")' e.ndjson.manifest.json

# a forged checkpoint (not signed by the key) and another store's checkpoint
mkstore s5f 2 "signing_key_file = $TG_TMP/ck.key"
tail -1 s5f/checkpoints.ndjson | jq -c '.records = 3 | .members = 1' >forged.ndjson
verify_is "5: a checkpoint altered after signing is refused" 1 "not signed by the key given" \
    --checkpoint forged.ndjson --pubkey ck.pub s5f
verify_is "5: checkpoints of another store only are not this store's" 1 \
    "none of the .* checkpoint\(s\) given is of this store" --checkpoint held.ndjson s5f
cat held.ndjson s5f/checkpoints.ndjson >both.ndjson
verify_is "5: another store's checkpoints among them are ignored" 0 "checkpoints? of other stores.* ignored" \
    --checkpoint both.ndjson --pubkey ck.pub s5f

# HMAC: the closed newest segment's .idx deleted and its member cut (and
# chain.head lowered to match) passed as a torn tail, export said intact
mkstore s5h 2 "hmac_key_file = $TG_TMP/hmac.key"
cp s5h/checkpoints.ndjson held5h.ndjson
rm s5h/seg-0000000002.idx
truncate -s 20 s5h/seg-0000000002.ndjson.gz
printf '%-191s\n' "trailguard-chain-head 2 segment=00000000000000000002 records=00000000000000000003 members=00000000000000000001 link=$(jq -r .link <(sed -n 1p s5h/checkpoints.ndjson))" >s5h/chain.head
verify_is "5: HMAC: a cut member of a closed segment is not a torn tail" 1 \
    "TAMPERED: seg-0000000002.ndjson.gz ends inside member 1" --key hmac.key s5h
check_eq "5: HMAC: export does not call it intact" "1 3 false" "$(export_all s5h --key hmac.key)"
head -n 1 s5h/checkpoints.ndjson >x && mv x s5h/checkpoints.ndjson
verify_is "5: HMAC: with the store's checkpoints cut too, only a torn tail is left to see" 0 \
    "torn tail \(not tampering\)" --key hmac.key s5h
verify_is "5: HMAC: ... and the checkpoint the auditor holds names the cut" 1 \
    "TAMPERED: seg-0000000002.ndjson.gz ends inside member 1" --key hmac.key --checkpoint held5h.ndjson s5h

# --- 6: a member's time range changed to hide it from time-filtered reads
mkstore s6 2 "hmac_key_file = $TG_TMP/hmac.key"
$EDIT set-time s6/seg-0000000001.chain 0 9223372036854775807 -9223372036854775808
verify_is "6: an altered time range in the sidecar is detected (HMAC)" 1 \
    "TAMPERED: seg-0000000001.ndjson.gz: the time range of member 1" --key hmac.key s6
check_eq "6: export of the range refuses the store and exports none of it" "1 0 false" \
    "$(export_all s6 --key hmac.key)"
mkstore s6b 2
$EDIT set-time s6b/seg-0000000002.chain 0 1 2
verify_is "6: ... and in an unkeyed chain" 1 "TAMPERED: seg-0000000002.ndjson.gz: the time range" s6b
$EDIT set-records s6b/seg-0000000001.chain 0 2
verify_is "6: an altered record count is detected" 1 "TAMPERED: seg-0000000001" s6b

# --- 7: bytes between gzip members (300 records: two batches, two members
# with fsync = always)
two_members() { store_conf "$1.ini" "$1" && gen_records 300 50 >"$1.in" &&
    "$TG_BIN" ingest -q -c "$1.ini" "$1.in" 2>/dev/null; }
two_members s7b
check_eq "7: the test store has two members in a segment" 2 "$($EDIT members s7b/seg-0000000001.chain | wc -l)"
read -r _ n1 _ end1 _ <<<"$($EDIT members s7b/seg-0000000001.chain | head -1)"
$EDIT insert s7b/seg-0000000001.ndjson.gz "$end1" 'JUNK\x00\x01'
verify_is "7: bytes inserted between two members are detected" 1 "TAMPERED: seg-0000000001.ndjson.gz" s7b
check_eq "7: query returns only the records before them" "$n1" "$("$TG_BIN" query s7b --format ndjson 2>/dev/null | wc -l)"
check_eq "7: export refuses the store" "1 $n1 false" "$(export_all s7b)"
two_members s7c
read -r _ _ _ end1 _ <<<"$($EDIT members s7c/seg-0000000001.chain | head -1)"
gen_records 2 70 | sed 's/ls -la/FORGED/' | "$TG_BIN" ingest -q - 2>/dev/null | gzip -n >forged.gz
$EDIT insert-file s7c/seg-0000000001.ndjson.gz "$end1" forged.gz
verify_is "7: a whole gzip member inserted between two members is detected" 1 "TAMPERED: seg-0000000001" s7c
check "7: query never returns the inserted records" sh -c "! '$TG_BIN' query s7c --format ndjson 2>/dev/null | grep -q FORGED"
check "7: nor does export" sh -c "'$TG_BIN' export s7c --since 2020-01-01 --until 2030-01-01 --format ndjson --out e7.ndjson 2>/dev/null; ! grep -q FORGED e7.ndjson"

# --- 8: a power loss: the sidecar entry reached the disk, its data did not
mkstore s8 1
gen_records 3 80 >s8.more
"$TG_BIN" ingest -q -c s8.ini s8.more 2>/dev/null
cp s8/chain.head head.before # chain.head is written only after the data is synced
gen_records 3 90 >s8.last
"$TG_BIN" ingest -q -c s8.ini s8.last 2>/dev/null
read -r _ _ start3 _ <<<"$($EDIT members s8/seg-0000000003.chain | head -1)"
truncate -s "$start3" s8/seg-0000000003.ndjson.gz # the member's data is lost
cp head.before s8/chain.head                       # as on disk before the lost flush
rm s8/seg-0000000003.idx                           # the shutdown never happened
sed -i '3d' s8/checkpoints.ndjson
verify_is "8: before the restart verify calls it a torn tail, not tampering" 0 \
    "torn tail \(not tampering\): seg-0000000003" s8
"$TG_BIN" ingest -q -c s8.ini empty.log 2>s8.err
check_eq "8: the writer starts on it" 0 "$?"
check "... and says it cut the entry that has no data" grep -q "whole on disk" s8.err
verify_is "8: after the restart the store verifies intact" 0 "intact: 2 segments.*6 records" s8
check "... with no torn tail left" sh -c "! grep -q torn v.out"

# --- 9: fsync = never: chain.head can reach the disk before the data
store_conf s9.ini s9
sed -i 's/fsync = always/fsync = never/' s9.ini
gen_records 3 100 >s9.a
"$TG_BIN" ingest -q -c s9.ini s9.a 2>/dev/null
gen_records 3 110 >s9.b
"$TG_BIN" ingest -q -c s9.ini s9.b 2>/dev/null
rm s9/seg-0000000002.* # a power loss: the data never reached the disk, the head did
sed -i '2d' s9/checkpoints.ndjson
"$TG_BIN" ingest -q -c s9.ini empty.log 2>s9.err
check_eq "9: with fsync = never the writer starts after a power loss" 0 "$?"
check "... saying what was lost" grep -q "not on disk\|no segment is left\|a power loss with fsync = never" s9.err
verify_is "9: and the store verifies" 0 "intact" s9

tap_done
