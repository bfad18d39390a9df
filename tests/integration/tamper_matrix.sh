#!/bin/bash
# tamper_matrix.sh - the file store against every edit an intruder who owns
# the collector's disk can make, and against what a crash leaves (issue 11).
# For each case, on a fresh copy of a store of 3 segments x 3 members with
# signed checkpoints, in an unkeyed and an HMAC chain, with gzip members and
# with zstd frames ([sink.file] compression; issue 14):
#   - `verify` exits 1 exactly for tampering, 0 (with a torn tail) for a crash;
#   - `verify --checkpoint HELD --pubkey` (the checkpoints the auditor got
#     from outside the collector before the edit) also catches what the
#     intruder covered up by rewriting chain.head and checkpoints.ndjson;
#   - `query` and `export` never return a record that was not in the store
#     before the edit (a changed, inserted or forged record), and export exits
#     1 whenever verify does; nor does a filtered query, which consults the
#     members' skip indexes (issue 13: an edited index is caught by verify,
#     and at most hides records from query).
# The matrix is printed as TAP comments (the table in the issue's note).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
T="python3 $TG_SRCDIR/tests/integration/tamper.py"
cd "$TG_TMP" || exit 1
"$TG_BIN" keygen --out ck >/dev/null
head -c 32 /dev/urandom | base64 >hmac.key
seg() { printf 'seg-%010d' "$2" | sed "s|^|$1/|"; }

# build NAME [lines]: 3 ingest runs of 600 records (segments of 3 members)
build() {
    local d=$1 i
    shift
    store_conf "$d.ini" "$d" "signing_key_file = $TG_TMP/ck.key" "$@"
    for i in 1 2 3; do
        gen_records 600 $((i * 20)) >"$d.in$i"
        "$TG_BIN" ingest -q -c "$d.ini" "$d.in$i" 2>/dev/null || return 1
    done
    cp "$d/checkpoints.ndjson" "$d.held"
    "$TG_BIN" query "$d" --format ndjson $KEYARG | sort >"$d.orig"
    "$TG_BIN" query "$d" --format ndjson --user alice $KEYARG | sort >"$d.orig_alice"
}

# the file-level tampers (the others are tamper.py apply NAME 2)
tamper() { # tamper DIR NAME
    local d=$1 n
    case $2 in
    idx-edit) sed -i 's/"records":[0-9]*/"records":1/' "$(seg "$d" 1).idx" ;;
    head-link) $T flip-head "$d" ;;
    checkpoint-edit) sed -i '1s/"records":[0-9]*/"records":5/' "$d/checkpoints.ndjson" ;;
    segment-delete) rm "$(seg "$d" 2)".* ;;
    segment-swap)
        for ext in "${DATA_EXT#.}" chain idx; do
            mv "$(seg "$d" 2).$ext" x && mv "$(seg "$d" 3).$ext" "$(seg "$d" 2).$ext" && mv x "$(seg "$d" 3).$ext"
        done ;;
    newest-delete) rm "$(seg "$d" 3)".* ;;
    newest-delete-head) rm "$(seg "$d" 3)".* "$d/chain.head" ;;
    newest-cut-all) # ... and chain.head and the checkpoints rewritten to match
        rm "$(seg "$d" 3)".*
        $T set-head "$d" 2 2
        $T cut-checkpoints "$d" "$($T records-after "$d" 2 2)" ;;
    closed-cut-noidx) # the newest segment's .idx removed, its last member cut, all covered up
        rm "$(seg "$d" 3).idx"
        read -r _ _ start _ <<<"$($T members "$(seg "$d" 3).chain" | tail -1)"
        truncate -s "$start" "$(seg "$d" 3)$DATA_EXT"
        $T set-head "$d" 3 1
        $T cut-checkpoints "$d" "$($T records-after "$d" 3 1)" ;;
    crash-*) # what a crash of the writer leaves in its open segment
        rm "$(seg "$d" 3).idx"
        $T apply "$d" "$2" 3
        if [ "$2" = crash-entry-no-data ]; then # chain.head and checkpoints never counted it
            $T set-head "$d" 3 1
            $T cut-checkpoints "$d" "$($T records-after "$d" 3 1)"
        fi ;;
    *) $T apply "$d" "$2" 2 ;;
    esac
}

# case NAME VERIFY VERIFY_WITH_HELD: expected exit codes
CASES="record-change 1 1
record-change-fp 1 1
record-delete 1 1
record-swap 1 1
record-insert 1 1
member-delete-data 1 1
member-delete 1 1
member-swap 1 1
member-insert 1 1
bytes-insert 1 1
byte-flip 1 1
sidecar-time 1 1
sidecar-offset 1 1
sidecar-count 1 1
sidecar-link 1 1
index-clear 1 1
index-fill 1 1
index-version 1 1
index-drop 1 1
idx-edit 1 1
head-link 1 1
checkpoint-edit 1 1
segment-delete 1 1
segment-swap 1 1
newest-delete 1 1
newest-delete-head 1 1
newest-cut-all 0 1
closed-cut-noidx 0 1
crash-torn-member 0 0
crash-unchained-member 0 0
crash-partial-entry 0 0
crash-entry-no-data 0 1"

for codec in gzip zstd; do
DATA_EXT=.ndjson.gz
[ $codec = zstd ] && DATA_EXT=.ndjson.zst
rm -rf base_*
for chain in sha256 hmac; do
    if [ $chain = hmac ]; then
        KEYARG="--key $TG_TMP/hmac.key"
        build base_$chain "compression = $codec" "hmac_key_file = $TG_TMP/hmac.key"
    else
        KEYARG=""
        build base_$chain "compression = $codec"
    fi
    check "$chain $codec: the store's segments are $DATA_EXT files" \
        test "$(ls base_$chain/seg-*$DATA_EXT | wc -l)" = 3
    check "$chain $codec: the untouched store verifies against its checkpoints" \
        "$TG_BIN" verify $KEYARG --checkpoint base_$chain.held --pubkey ck.pub base_$chain
    diag "$chain $codec | case | verify | verify --checkpoint held | query: records | query --user alice | export"
    while read -r name want want_held; do
        d=t_$chain
        rm -rf "$d" && cp -a base_$chain "$d"
        tamper "$d" "$name"
        "$TG_BIN" verify $KEYARG "$d" >v.out 2>&1
        v=$?
        "$TG_BIN" verify $KEYARG --checkpoint base_$chain.held --pubkey ck.pub "$d" >vh.out 2>&1
        vh=$?
        "$TG_BIN" query "$d" --format ndjson $KEYARG 2>/dev/null | sort >q.out
        "$TG_BIN" query "$d" --format ndjson --user alice $KEYARG 2>/dev/null | sort >qa.out
        "$TG_BIN" export "$d" --since 2020-01-01 --until 2030-01-01 --format ndjson --out e.out \
            $KEYARG --checkpoint base_$chain.held --pubkey ck.pub 2>/dev/null
        ex=$?
        sort e.out >e.sorted
        foreign_q=$(comm -23 q.out base_$chain.orig | wc -l)
        foreign_e=$(comm -23 e.sorted base_$chain.orig | wc -l)
        foreign_a=$(comm -23 qa.out base_$chain.orig_alice | wc -l)
        what=$(sed -n 's/.*TAMPERED: //p; s/.*torn tail (not tampering): /torn: /p' v.out | head -1 | cut -c1-90)
        diag "$chain $codec | $name | $v | $vh | $(wc -l <q.out) returned, $foreign_q foreign | $(wc -l <qa.out), $foreign_a foreign | exit $ex, $(wc -l <e.out) exported, $foreign_e foreign | ${what:-intact}"
        if [ "$v" = "$want" ] && [ "$vh" = "$want_held" ] && [ "$foreign_q" = 0 ] &&
            [ "$foreign_e" = 0 ] && [ "$foreign_a" = 0 ] && [ "$ex" = "$want_held" ]; then
            ok "$chain $codec: $name"
        else
            not_ok "$chain $codec: $name (verify $v want $want, with the held checkpoint $vh want $want_held, export $ex, foreign records: query $foreign_q, query --user $foreign_a, export $foreign_e)"
            diag "$(cat v.out vh.out)"
        fi
        case $name in crash-*)
            check_eq "$chain $codec: $name: a crash is reported as a torn tail" 1 "$(grep -c 'torn tail (not tampering)' v.out)" ;;
        esac
    done <<<"$CASES"
done
done
tap_done
