#!/bin/bash
# store.sh - the file store written by `ingest -c` with [sink.file]:
# readable with zcat and jq, file modes, rotation, the chain across runs,
# and `verify` against every kind of tampering: a changed record, a removed,
# inserted or reordered record, changed compressed bytes, a deleted segment,
# reordered segments, a deleted newest segment; a torn tail is reported as
# such; the HMAC chain needs its key.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"

S=$TG_TMP/store
gen_records 1500 >"$TG_TMP/in.log"
store_conf "$TG_TMP/c.ini" "$S" "rotate_bytes = 12k"
check "ingest into the file sink exits 0" "$TG_BIN" ingest -q -c "$TG_TMP/c.ini" "$TG_TMP/in.log"

check_eq "every event is in the store, readable with zcat" 1500 "$(count_store "$S")"
check "every line is valid JSON for jq" sh -c "cat '$S'/seg-*.ndjson.gz | zcat | jq -e -c . >/dev/null"
check_eq "the events keep their order" "$(awk '{print $NF}' "$TG_TMP/in.log" | md5sum)" \
    "$(cat "$S"/seg-*.ndjson.gz | zcat | jq -r .event.original | awk '{print $NF}' | md5sum)"
check_eq "the store directory is 0750" 750 "$(stat -c %a "$S")"
check_eq "every store file is 0640" "" "$(find "$S" -type f ! -perm 0640)"
nseg=$(ls "$S"/seg-*.ndjson.gz | wc -l)
check "rotation by size made several segments ($nseg)" test "$nseg" -ge 4
check_eq "every closed segment has an index" "$nseg" "$(ls "$S"/seg-*.idx | wc -l)"
check "verify: intact exits 0" "$TG_BIN" verify "$S"
"$TG_BIN" verify "$S" >"$TG_TMP/v.out"
check "verify: the summary counts the records" grep -q "intact: $nseg segments.*1500 records" "$TG_TMP/v.out"

# a second run continues the chain in new segments
gen_records 300 600 >"$TG_TMP/in2.log"
check "a second run appends" "$TG_BIN" ingest -q -c "$TG_TMP/c.ini" "$TG_TMP/in2.log"
check_eq "the store holds both runs" 1800 "$(count_store "$S")"
check "verify: the chain crosses runs and segments" "$TG_BIN" verify "$S"
check_eq "chain.head counts every record" 1800 "$(head_records "$S")"

# rotation by time: a segment open for rotate_seconds is closed (its index
# written) even while no events come; the next events go to a new segment
R=$TG_TMP/rot
store_conf "$TG_TMP/r.ini" "$R" "rotate_seconds = 1"
mkfifo "$TG_TMP/feed"
"$TG_BIN" ingest -q -c "$TG_TMP/r.ini" - <"$TG_TMP/feed" 2>/dev/null &
pid=$!
exec 3>"$TG_TMP/feed"
gen_records 4000 >&3 # > the reader's 256 KiB chunk: full batches go through at once
n=0
while [ ! -e "$R/seg-0000000001.idx" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
check "an idle segment is closed after rotate_seconds" test -e "$R/seg-0000000001.idx"
gen_records 10 300 >&3
exec 3>&-
wait $pid
check_eq "the next events start a new segment" "2 4010" \
    "$(ls "$R"/seg-*.ndjson.gz | wc -l) $(count_store "$R")"
check "a store rotated by time verifies" "$TG_BIN" verify "$R"

# --- tampering, each on a fresh copy
seg2=seg-0000000002
fresh() { rm -rf "$TG_TMP/t" && cp -a "$S" "$TG_TMP/t"; }
rewrite() { # rewrite SEG SED-SCRIPT: edit the decompressed NDJSON of a segment
    zcat "$TG_TMP/t/$1.ndjson.gz" | sed "$2" | gzip >"$TG_TMP/t/x.gz"
    mv "$TG_TMP/t/x.gz" "$TG_TMP/t/$1.ndjson.gz"
}
expect_tamper() { # NAME REGEX: verify exits 1 and its message matches
    "$TG_BIN" verify "$TG_TMP/t" >"$TG_TMP/v.out" 2>&1
    local rc=$?
    if [ $rc -eq 1 ] && grep -Eq "$2" "$TG_TMP/v.out"; then ok "$1"; else
        not_ok "$1"
        diag "exit $rc: $(cat "$TG_TMP/v.out")"
    fi
}

fresh
rewrite $seg2 '5s/"kind":"event"/"kind":"alert"/'
expect_tamper "a changed record is named" "TAMPERED: $seg2.ndjson.gz: record 5 .*was changed"
fresh
rewrite $seg2 '5d'
expect_tamper "a removed record is named" "TAMPERED: $seg2.ndjson.gz: record 5 .*was removed"
fresh
rewrite $seg2 '5{h;d};6G'
expect_tamper "a reordered pair is named" "TAMPERED: $seg2.ndjson.gz: records 5 and 6 .*reordered"
fresh
rewrite $seg2 '5{h;s/"kind":"event"/"kind":"extra"/;p;x}'
expect_tamper "an inserted record is named" "TAMPERED: $seg2.ndjson.gz: a record was inserted before record 5"
fresh
rewrite $seg2 '$d'
expect_tamper "a record removed from the end is named" "TAMPERED: $seg2.ndjson.gz: records .* removed from the end"
fresh
size=$(stat -c %s "$TG_TMP/t/$seg2.ndjson.gz")
printf 'Z' | dd of="$TG_TMP/t/$seg2.ndjson.gz" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_tamper "a changed compressed byte is detected" "TAMPERED: $seg2.ndjson.gz: .*(damaged|changed|removed|inserted)"
fresh
rm "$TG_TMP/t/$seg2".*
expect_tamper "a deleted segment is named" "TAMPERED: segment 2 is missing"
fresh
rm "$TG_TMP/t/seg-0000000001".*
expect_tamper "a deleted oldest segment is named" "TAMPERED: segment 1 is missing|TAMPERED: segment 2 does not start the chain"
fresh
for ext in ndjson.gz chain idx; do
    mv "$TG_TMP/t/seg-0000000002.$ext" "$TG_TMP/t/x"
    mv "$TG_TMP/t/seg-0000000003.$ext" "$TG_TMP/t/seg-0000000002.$ext"
    mv "$TG_TMP/t/x" "$TG_TMP/t/seg-0000000003.$ext"
done
expect_tamper "reordered segments (renamed) are detected" "TAMPERED: $seg2.chain holds the chain of segment 3"
fresh
mv "$TG_TMP/t/seg-0000000002.ndjson.gz" "$TG_TMP/t/x"
mv "$TG_TMP/t/seg-0000000003.ndjson.gz" "$TG_TMP/t/seg-0000000002.ndjson.gz"
mv "$TG_TMP/t/x" "$TG_TMP/t/seg-0000000003.ndjson.gz"
expect_tamper "swapped segment data is detected" "TAMPERED: $seg2.ndjson.gz holds the records of segment 3"
fresh
last=$(ls "$TG_TMP/t"/seg-*.ndjson.gz | tail -1)
rm "${last%.ndjson.gz}".*
expect_tamper "a deleted newest segment is detected" "TAMPERED: .* counts 1800 records .* the newest records or segments were removed"
fresh
python3 - "$TG_TMP/t/$seg2.idx" <<'PY'
import json, sys
p = sys.argv[1]; ix = json.load(open(p)); ix["max_ns"] += 1; json.dump(ix, open(p, "w"))
PY
expect_tamper "an altered index is detected" "TAMPERED: $seg2.idx does not match"

# what a crash leaves in the newest segment while it is open (no .idx yet)
# is not tampering: a torn member, or a whole member not yet chained; query
# never returns those records
crash_tail() { # crash_tail HOW: make the newest segment look like a crash left it
    last=$(ls "$TG_TMP/t"/seg-*.ndjson.gz | tail -1)
    rm "${last%.ndjson.gz}.idx"
    zcat "$last" | tail -1 | sed 's/"decision":"[a-z_]*"/"decision":"allow"/' | gzip >"$TG_TMP/m.gz"
    [ "$1" = torn ] && truncate -s 20 "$TG_TMP/m.gz"
    cat "$TG_TMP/m.gz" >>"$last"
}
fresh
crash_tail torn
"$TG_BIN" verify "$TG_TMP/t" >"$TG_TMP/v.out" 2>&1
check_eq "a torn tail exits 0" 0 "$?"
check "a torn tail is reported as torn" grep -q "torn tail (not tampering): $(basename "$last") ends in a torn gzip member" "$TG_TMP/v.out"
fresh
crash_tail whole
"$TG_BIN" verify "$TG_TMP/t" >"$TG_TMP/v.out" 2>&1
check_eq "an unchained member in the open segment exits 0" 0 "$?"
check "... reported as not chained" grep -q "never chained.* query and export never return it" "$TG_TMP/v.out"
check_eq "... and query does not return it" "$(count_store "$S")" \
    "$("$TG_BIN" query "$TG_TMP/t" --format ndjson | wc -l)"
# the same in a closed segment (it has its .idx) is tampering
fresh
last=$(ls "$TG_TMP/t"/seg-*.ndjson.gz | tail -1)
zcat "$last" | tail -1 | gzip >>"$last"
expect_tamper "a member appended to the closed newest segment is tampering" \
    "TAMPERED: $(basename "$last"): data after its last member .*added to a closed segment"
fresh
last=$(ls "$TG_TMP/t"/seg-*.ndjson.gz | tail -1)
truncate -s $(($(stat -c %s "$last") - 40)) "$last"
expect_tamper "the closed newest segment cut short is tampering" "TAMPERED: $(basename "$last") ends inside member [0-9]*.* are cut off"
# ... and stored records cut from the open one too (chain.head counts them)
rm "${last%.ndjson.gz}.idx"
expect_tamper "stored records cut from the open segment are tampering" \
    "TAMPERED: $(basename "$last") ends inside member [0-9]*.* are cut off"
"$TG_BIN" query "$TG_TMP/t" --format ndjson >/dev/null 2>"$TG_TMP/q.err"
check_eq "query on it exits 3 (incomplete)" 3 "$?"
check "... naming the segment" grep -q "$(basename "$last"): cut short after" "$TG_TMP/q.err"
fresh
truncate -s $(($(stat -c %s "$TG_TMP/t/$seg2.ndjson.gz") - 40)) "$TG_TMP/t/$seg2.ndjson.gz"
expect_tamper "a cut closed segment is tampering" "TAMPERED: $seg2.ndjson.gz ends inside member [0-9]*.* are cut off"
# not a store at all
mkdir -p "$TG_TMP/empty"
"$TG_BIN" verify "$TG_TMP/empty" >"$TG_TMP/v.out" 2>&1
check_eq "a directory without a store is not intact (exit 1)" 1 "$?"
check "... and says so" grep -q "no trailguard store here" "$TG_TMP/v.out"
"$TG_BIN" verify "$S/chain.head" >"$TG_TMP/v.out" 2>&1
check_eq "a file instead of a directory exits 3" 3 "$?"
check "... saying it is not a directory" grep -q "Not a directory" "$TG_TMP/v.out"

# --- the keyed chain
K=$TG_TMP/keyed
head -c 32 /dev/urandom | base64 >"$TG_TMP/key"
head -c 32 /dev/urandom | base64 >"$TG_TMP/otherkey"
store_conf "$TG_TMP/k.ini" "$K" "rotate_bytes = 12k" "hmac_key_file = $TG_TMP/key"
check "ingest with hmac_key_file" "$TG_BIN" ingest -q -c "$TG_TMP/k.ini" "$TG_TMP/in.log"
check "a second keyed run resumes the key" "$TG_BIN" ingest -q -c "$TG_TMP/k.ini" "$TG_TMP/in2.log"
"$TG_BIN" verify "$K" >/dev/null 2>&1
check_eq "verify without the key exits 2" 2 "$?"
check "verify with the key: intact" "$TG_BIN" verify --key "$TG_TMP/key" "$K"
"$TG_BIN" verify --key "$TG_TMP/otherkey" "$K" >"$TG_TMP/v.out" 2>&1
check_eq "verify with a wrong key exits 1" 1 "$?"
check "a wrong key is suggested" grep -q "wrong --key" "$TG_TMP/v.out"
# an attacker without the key recomputes a plain SHA-256 chain: still caught
python3 - "$K" <<'PY'
import glob, gzip, hashlib, sys, zlib
d = sys.argv[1]
seg = sorted(glob.glob(d + "/seg-*.ndjson.gz"))[1]
recs = gzip.open(seg).read().split(b"\n")[:-1]
recs[3] = recs[3].replace(b'"kind":"event"', b'"kind":"alert"')
ch = seg[:-len(".ndjson.gz")] + ".chain"
raw = bytearray(open(ch, "rb").read())
# fix the fingerprint and the member offsets (each member recompressed on
# its own), so that only the (keyed) link can tell
pos, i, data, end = 96, 0, b"", 0
while pos < len(raw):
    n = int.from_bytes(raw[pos + 4:pos + 8], "little")
    ext = int.from_bytes(raw[pos + 32:pos + 36], "little")
    for k in range(n):
        if i + k == 3:
            raw[pos + 72 + 4 * k:pos + 76 + 4 * k] = (zlib.crc32(recs[3]) & 0xffffffff).to_bytes(4, "little")
    data += gzip.compress(b"".join(r + b"\n" for r in recs[i:i + n]))
    raw[pos + 8:pos + 16] = len(data).to_bytes(8, "little")
    i += n
    pos += 72 + 4 * n + ext
open(ch, "wb").write(raw)
open(seg, "wb").write(data)
PY
"$TG_BIN" verify --key "$TG_TMP/key" "$K" >"$TG_TMP/v.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "chain link does not match" "$TG_TMP/v.out"; then
    ok "a record changed with its fingerprint fixed breaks the keyed link"
else
    not_ok "a record changed with its fingerprint fixed breaks the keyed link"
    diag "exit $rc: $(cat "$TG_TMP/v.out")"
fi
# --key cannot vouch for records chained without it
"$TG_BIN" verify --key "$TG_TMP/key" "$S" >"$TG_TMP/v.out" 2>&1
check_eq "--key on a store that is not keyed exits 1" 1 "$?"
check "... saying it is not keyed" grep -q "the store is not keyed" "$TG_TMP/v.out"
K2=$TG_TMP/keyed2
store_conf "$TG_TMP/k2.ini" "$K2" "rotate_bytes = 12k" "hmac_key_file = $TG_TMP/key"
"$TG_BIN" ingest -q -c "$TG_TMP/k2.ini" "$TG_TMP/in.log"
store_conf "$TG_TMP/k3.ini" "$K2" "rotate_bytes = 12k"
"$TG_BIN" ingest -q -c "$TG_TMP/k3.ini" "$TG_TMP/in2.log" 2>"$TG_TMP/k3.err"
check "the writer warns when a keyed store goes on without the key" grep -q "chained with HMAC but" "$TG_TMP/k3.err"
"$TG_BIN" verify --key "$TG_TMP/key" "$K2" >"$TG_TMP/v.out" 2>&1
check_eq "with --key, unkeyed segments after keyed ones are not intact" 1 "$?"
check "... naming the first of them" grep -q "is chained without HMAC after keyed segments" "$TG_TMP/v.out"

"$TG_BIN" verify /nonexistent/store >/dev/null 2>&1
check_eq "verify on a missing directory exits 3" 3 "$?"
"$TG_BIN" verify >/dev/null 2>&1
check_eq "verify without DIR exits 2" 2 "$?"
check "verify --help documents --key" sh -c "'$TG_BIN' verify --help | grep -q -- --key"
tap_done
