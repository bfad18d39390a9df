#!/bin/bash
# store_zstd.sh - [sink.file] compression = zstd and gzip (the default)
# (issue 14): a zstd store reads with zstdcat and jq, query, export and
# verify; a store written across changes of the compression holds segments
# of both kinds and reads and verifies as one, in order; a zstd member torn
# by a crash is reported as a torn tail and cut by the writer's recovery,
# which then continues the chain.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
T="python3 $TG_SRCDIR/tests/integration/tamper.py"
cd "$TG_TMP" || exit 1

# --- a zstd store
store_conf z.ini z "compression = zstd" "rotate_bytes = 16k"
gen_records 1500 >z.in
check "ingest into a store with compression = zstd" "$TG_BIN" ingest -q -c z.ini z.in
check "its segments are .ndjson.zst, and there are several" \
    test "$(ls z/seg-*.ndjson.zst | wc -l)" -ge 3 -a "$(ls z/seg-*.ndjson.gz 2>/dev/null | wc -l)" = 0
check "every segment is zstd frames (zstd -t)" zstd -q -t z/seg-*.ndjson.zst
check_eq "zstdcat | jq reads every event" 1500 "$(zstdcat z/seg-*.ndjson.zst | jq -c .event.id | wc -l)"
check_eq "... in the order they were ingested" \
    "$(awk '{print $NF}' z.in | md5sum)" \
    "$(zstdcat z/seg-*.ndjson.zst | jq -r .event.original | awk '{print $NF}' | md5sum)"
check "verify: intact" "$TG_BIN" verify z
check_eq "query returns what zstdcat reads" \
    "$(zstdcat z/seg-*.ndjson.zst | jq -r .event.id | md5sum)" \
    "$("$TG_BIN" query z --format ndjson | jq -r .event.id | md5sum)"
check_eq "query --user on a zstd store" "$(zstdcat z/seg-*.ndjson.zst | jq -r 'select(.user.name == "bob") | .event.id' | md5sum)" \
    "$("$TG_BIN" query z --user bob --format ndjson | jq -r .event.id | md5sum)"
"$TG_BIN" export z --since 2026-11-01 --until 2026-12-01 --format ndjson --out z.ndjson 2>/dev/null
check_eq "export: every event, manifest intact" "1500 true" \
    "$(wc -l <z.ndjson) $(jq -r .verify.intact z.ndjson.manifest.json)"
check "compression_level 19 is a zstd level" sh -c \
    "printf 'compression_level = 19\n' >>z.ini && '$TG_BIN' ingest -q -c z.ini z.in"
check_eq "gzip takes levels up to 9 only (exit 2, naming the key)" "2 1" \
    "$(store_conf g.ini g "compression = gzip" "compression_level = 12"
        "$TG_BIN" ingest -q -c g.ini z.in 2>g.err
        echo "$? $(grep -c compression_level g.err)")"
check_eq "an unknown compression is refused (exit 2)" 2 \
    "$(store_conf u.ini u "compression = lz4"
        "$TG_BIN" ingest -q -c u.ini z.in 2>/dev/null
        echo $?)"

# --- a mixed store: gzip, then zstd, then gzip again (each run ends its segment)
for i in 1 2 3 4; do gen_records 200 $((i * 10)) >m.in$i; done
for run in "1 gzip" "2 zstd" "3 gzip" "4 zstd"; do
    set -- $run
    store_conf m.ini m "compression = $2"
    "$TG_BIN" ingest -q -c m.ini m.in$1 2>/dev/null
done
check_eq "a store written across changes holds both kinds, one data file per segment" \
    "seg-0000000001.ndjson.gz seg-0000000002.ndjson.zst seg-0000000003.ndjson.gz seg-0000000004.ndjson.zst" \
    "$(cd m && echo seg-*.ndjson.*)"
check "verify: the mixed store is intact" "$TG_BIN" verify m
check "... and says how many segments" grep -q "intact: 4 segments" <("$TG_BIN" verify m 2>&1)
check_eq "query returns every event of both kinds, in order" \
    "$(cat m.in1 m.in2 m.in3 m.in4 | awk '{print $NF}' | md5sum)" \
    "$("$TG_BIN" query m --format ndjson | jq -r .event.original | awk '{print $NF}' | md5sum)"
check_eq "store_cat (zcat and zstdcat) reads the same" 800 "$(count_store m)"
"$TG_BIN" export m --since 2026-11-01 --until 2026-12-01 --format csv --out m.csv 2>/dev/null
check_eq "export of the mixed store: every event, intact" "801 true" \
    "$(wc -l <m.csv) $(jq -r .verify.intact m.csv.manifest.json)"
cp -a m m2 && cp m2/seg-0000000001.ndjson.gz m2/seg-0000000002.ndjson.gz
"$TG_BIN" verify m2 >v.out 2>&1
check_eq "a segment with two data files is tampering" 1 "$?"
check "... named" grep -q "segment 2 has two data files" v.out

# --- a zstd member torn by a crash (the writer stopped in the middle of it)
store_conf c.ini c "compression = zstd"
for i in 1 2 3; do
    gen_records 300 $((i * 10)) >c.in$i
    "$TG_BIN" ingest -q -c c.ini c.in$i 2>/dev/null
done
read -r _ _ start end _ <<<"$($T members c/seg-0000000003.chain | tail -1)"
rm c/seg-0000000003.idx             # the segment was still open
truncate -s $(((start + end) / 2)) c/seg-0000000003.ndjson.zst # its last frame half written
$T set-head c 3 0                   # ... so chain.head and the checkpoints never counted it
$T cut-checkpoints c "$($T records-after c 3 0)"
kept=$($T records-after c 3 0)
"$TG_BIN" verify c >v.out 2>&1
check_eq "verify: a torn zstd member in the open segment is a torn tail, not tampering" 0 "$?"
check "... said so" grep -q "torn tail (not tampering)" v.out
check_eq "query returns only the whole members" "$kept" "$("$TG_BIN" query c --format ndjson | wc -l)"
gen_records 100 70 >c.in4
"$TG_BIN" ingest -q -c c.ini c.in4 2>c.err
check_eq "the writer starts on it" 0 "$?"
check "... and cuts the torn member" grep -q "not whole on disk\|after its last whole member" c.err
check "verify: intact after the recovery" "$TG_BIN" verify c
check_eq "the records before the torn member and the new ones are there" "$((kept + 100))" \
    "$("$TG_BIN" query c --format ndjson | wc -l)"
check "the writer continued in a new zstd segment" test -s c/seg-0000000004.ndjson.zst
tap_done
