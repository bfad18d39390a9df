#!/bin/sh
# kafka_basic.sh - events through `trailguard ingest -c` with a [sink.kafka]
# to the mock broker, read back with kcat: same count, same ids, the key is
# host.name, the dataset header is set, the value is the event JSON.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/kafka_lib.sh"

command -v kcat >/dev/null || { echo "1..0 # SKIP kcat not installed"; exit 0; }
broker_start audit.events:3
N=500
gen_records $N "$TG_TMP/in.log"
"$TG_BIN" ingest -q "$TG_TMP/in.log" | jq -r '.event.id' | sort >"$TG_TMP/expected.ids"

cat >"$TG_TMP/conf.ini" <<CONF
[sink.kafka]
brokers = $BROKER
topic = audit.events
key = host
compression = zstd
rdkafka.linger.ms = 20
CONF
check "ingest to kafka exits 0" "$TG_BIN" ingest -q -c "$TG_TMP/conf.ini" "$TG_TMP/in.log"
consume audit.events "$TG_TMP/out.json"
check_eq "every event arrived once" "$N" "$(wc -l <"$TG_TMP/out.json")"
jq -r '.payload | fromjson | .event.id' "$TG_TMP/out.json" | sort >"$TG_TMP/got.ids"
check "same event ids" cmp "$TG_TMP/expected.ids" "$TG_TMP/got.ids"
check_eq "key is host.name" 0 \
    "$(jq -r 'select(.key != (.payload | fromjson | .host.name)) | .offset' "$TG_TMP/out.json" | wc -l)"
check_eq "dataset header is the event's dataset" "$N" \
    "$(jq -c 'select(.headers[0:2] == ["dataset", "snoopy"] and (.payload | fromjson | .event.dataset) == "snoopy")' "$TG_TMP/out.json" | wc -l)"
check_eq "one host's events share a partition" 3 \
    "$(jq -r '"\(.key) \(.partition)"' "$TG_TMP/out.json" | sort -u | wc -l)"

# key = none, an rdkafka.* property, and a bad one
sed -i 's/^key = host/key = none/; s/^compression = zstd/compression = gzip/' "$TG_TMP/conf.ini"
sed -i 's/^topic = audit.events/topic = audit.other/' "$TG_TMP/conf.ini"
head -10 "$TG_TMP/in.log" >"$TG_TMP/in10.log"
check "key = none, gzip" "$TG_BIN" ingest -q -c "$TG_TMP/conf.ini" "$TG_TMP/in10.log"
consume audit.other "$TG_TMP/other.json"
check_eq "key = none gives no key" 10 "$(jq -r 'select(.key == null) | .offset' "$TG_TMP/other.json" | wc -l)"

echo "rdkafka.no.such.property = 1" >>"$TG_TMP/conf.ini"
"$TG_BIN" ingest -q -c "$TG_TMP/conf.ini" "$TG_TMP/in10.log" >/dev/null 2>"$TG_TMP/bad.err"
check_eq "unknown rdkafka property: exit 3" 3 $?
check "... named in the error" grep -q 'rdkafka.no.such.property' "$TG_TMP/bad.err"

printf '[sink.kafka]\ntopic = t\n' >"$TG_TMP/nobrokers.ini"
"$TG_BIN" ingest -q -c "$TG_TMP/nobrokers.ini" "$TG_TMP/in10.log" >/dev/null 2>"$TG_TMP/nb.err"
check_eq "missing brokers: exit 2" 2 $?
check "... says brokers is required" grep -q 'brokers is required' "$TG_TMP/nb.err"
tap_done
