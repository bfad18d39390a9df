#!/bin/bash
# checkpoint_kafka.sh - the file store's signed checkpoints leave the
# collector (issue 11): `serve` with a followed file, the file store (signed
# checkpoints every second, small segments) and Kafka (the mock broker);
# kcat consumes the topic as an auditor would.  The checkpoint events are in
# the topic (signed, and never stored in the file store itself); `verify
# --checkpoint` with that dump vouches for the store; then an intruder on
# the collector's disk removes the newest segments and rewrites chain.head
# and checkpoints.ndjson to match: verify alone cannot tell, verify against
# the dump from Kafka names the truncation.
. "$TG_SRCDIR/tests/lib.sh"
command -v kcat >/dev/null || { echo "1..0 # SKIP kcat not installed"; exit 0; }
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/kafka_lib.sh"
. "$TG_SRCDIR/tests/integration/store_lib.sh"
broker_start audit.events:1
trap 'broker_stop; relp_cleanup' EXIT
D=$TG_TMP
T="python3 $TG_SRCDIR/tests/integration/tamper.py"
"$TG_BIN" keygen --out "$D/ck" >/dev/null
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen =
fsync = always
[input.file]
path = $D/in.log
[sink.file]
dir = $D/store
rotate_bytes = 4096
checkpoint_seconds = 1
signing_key_file = $D/ck.key
[sink.kafka]
brokers = $BROKER
topic = audit.events
EOC
: >"$D/in.log"
check "serve starts" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
dump() { consume audit.events "$D/topic.json" && jq -r .payload "$D/topic.json" >"$D/topic.ndjson"; }
cps() { dump && jq -r 'select(.event.dataset == "trailguard.checkpoint") | .trailguard.checkpoint.records' "$D/topic.ndjson" | sort -n | tail -1; }
cp_covers() { [ "$(cps)" -ge "$1" ] 2>/dev/null; }
for round in 1 2 3; do
    gen_records 300 $((round * 10)) >>"$D/in.log"
    if wait_for 300 cp_covers $((round * 300)); then ok "round $round: a checkpoint covering it is in the topic"; else
        not_ok "round $round: a checkpoint covering it is in the topic (newest: $(cps))"
    fi
done
check "the checkpoint events in the topic are signed" sh -c \
    "jq -e 'select(.event.dataset == \"trailguard.checkpoint\") | .trailguard.checkpoint.signature' '$D/topic.ndjson' >/dev/null"
check "the file store never stores its own checkpoints" sh -c \
    "! '$TG_BIN' query '$D/store' --format ndjson --dataset trailguard.checkpoint | grep -q checkpoint"
check "serve stops" serve_stop
dump
"$TG_BIN" verify --checkpoint "$D/topic.ndjson" --pubkey "$D/ck.pub" "$D/store" >"$D/v.out" 2>&1
check_eq "verify against the topic's checkpoints: intact" 0 "$?"
check "... checked against a checkpoint from the topic" grep -q "from given, signature checked" "$D/v.out"

# the intruder: the newest segments go, chain.head and checkpoints.ndjson follow
last=$(ls "$D"/store/seg-*.chain | tail -1 | sed 's/.*seg-0*\([0-9]*\).chain/\1/')
keep=$((last - 2))
rm "$D"/store/seg-"$(printf %010d $((keep + 1)))".* "$D"/store/seg-"$(printf %010d $last)".*
$T set-head "$D/store" "$keep" $(($($T members "$D/store/seg-$(printf %010d $keep).chain" | wc -l) - 1))
n=$($T records-after "$D/store" "$keep" $(($($T members "$D/store/seg-$(printf %010d $keep).chain" | wc -l) - 1)))
$T cut-checkpoints "$D/store" "$n"
"$TG_BIN" verify "$D/store" >"$D/v.out" 2>&1
check_eq "after the cut, verify on its own cannot tell" 0 "$?"
"$TG_BIN" verify --checkpoint "$D/topic.ndjson" --pubkey "$D/ck.pub" "$D/store" >"$D/v.out" 2>&1
check_eq "verify against the checkpoints from Kafka names the truncation" 1 "$?"
check "... saying the newest records were removed" grep -q "TAMPERED: the checkpoint given .* counts [0-9]* records .* the newest records or segments were removed" "$D/v.out"
diag "$(cat "$D/v.out")"
tap_done
