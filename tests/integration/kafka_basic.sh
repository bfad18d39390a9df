#!/bin/bash
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
# headers: dataset, and decision when the policy gave one (never here: no snapshot)
check_eq "dataset header, no decision header without a policy" "$N" \
    "$(jq -c 'select(.headers == ["dataset", (.payload | fromjson | .event.dataset)])' "$TG_TMP/out.json" | wc -l)"
check_eq "one host's events share a partition" 3 \
    "$(jq -r '"\(.key) \(.partition)"' "$TG_TMP/out.json" | sort -u | wc -l)"

# key = none, an rdkafka.* property, and a bad one
sed -i 's/^key = host/key = none/; s/^compression = zstd/compression = gzip/' "$TG_TMP/conf.ini"
sed -i 's/^topic = audit.events/topic = audit.other/' "$TG_TMP/conf.ini"
head -10 "$TG_TMP/in.log" >"$TG_TMP/in10.log"
check "key = none, gzip" "$TG_BIN" ingest -q -c "$TG_TMP/conf.ini" "$TG_TMP/in10.log"
consume audit.other "$TG_TMP/other.json"
check_eq "key = none gives no key" 10 "$(jq -r 'select(.key == null) | .offset' "$TG_TMP/other.json" | wc -l)"

# deny verdicts (the example snapshot) also go to deny_topic, with a decision header
S=$TG_SHARED/samples/rsyslog-local-RSYSLOG_TraditionalFileFormat.log
"$TG_BIN" ingest -q --snapshot "$TG_SRCDIR/deploy/policy-example" "$S" >"$TG_TMP/verdicts.json" 2>/dev/null
NDENY=$(jq -r 'select(.trailguard.policy.decision == "deny") | .event.id' "$TG_TMP/verdicts.json" | sort | tee "$TG_TMP/deny.ids" | wc -l)
cat >"$TG_TMP/deny.ini" <<CONF
[sink.kafka]
brokers = $BROKER
topic = audit.all
deny_topic = audit.deny
key = user
CONF
check "ingest with a snapshot and a deny_topic" \
    "$TG_BIN" ingest -q -c "$TG_TMP/deny.ini" --snapshot "$TG_SRCDIR/deploy/policy-example" "$S"
consume audit.all "$TG_TMP/all.json"
consume audit.deny "$TG_TMP/deny.json"
check_eq "every event on the topic" "$(wc -l <"$TG_TMP/verdicts.json")" "$(wc -l <"$TG_TMP/all.json")"
jq -r '.payload | fromjson | .event.id' "$TG_TMP/deny.json" | sort >"$TG_TMP/got-deny.ids"
check "the deny topic holds exactly the deny verdicts ($NDENY)" cmp "$TG_TMP/deny.ids" "$TG_TMP/got-deny.ids"
check_eq "decision headers match the events" 0 "$(jq -c 'select(.headers !=
    (["dataset", (.payload | fromjson | .event.dataset)] + (.payload | fromjson |
    if .trailguard.policy.decision then ["decision", .trailguard.policy.decision] else [] end)))' \
    "$TG_TMP/all.json" | wc -l)"
check_eq "key = user is user.name" 0 \
    "$(jq -r 'select(.key != (.payload | fromjson | .user.name)) | .offset' "$TG_TMP/all.json" | wc -l)"

echo "rdkafka.no.such.property = 1" >>"$TG_TMP/conf.ini"
"$TG_BIN" ingest -q -c "$TG_TMP/conf.ini" "$TG_TMP/in10.log" >/dev/null 2>"$TG_TMP/bad.err"
check_eq "unknown rdkafka property: configuration error, exit 2" 2 $?
check "... named with the file" grep -q "conf.ini:[0-9]*: \[sink.kafka\].*rdkafka.no.such.property" "$TG_TMP/bad.err"

# the delivery guarantee cannot be configured away (acks=all, idempotence,
# brokers only through `brokers`); repeating the guaranteed value is fine
for kv in "rdkafka.acks = 0" "rdkafka.request.required.acks = 1" \
    "rdkafka.enable.idempotence = false" "rdkafka.bootstrap.servers = 127.0.0.1:1"; do
    printf '[sink.kafka]\nbrokers = %s\ntopic = t\n%s\n' "$BROKER" "$kv" >"$TG_TMP/own.ini"
    "$TG_BIN" ingest -q -c "$TG_TMP/own.ini" /dev/null >/dev/null 2>"$TG_TMP/own.err"
    code=$?
    if [ $code -eq 2 ] && grep -q "own.ini:4: \[sink.kafka\] ${kv%% =*}: it changes .*, which trailguard sets" "$TG_TMP/own.err"; then
        ok "$kv: refused at load, exit 2, naming file:line"
    else
        not_ok "$kv: refused at load, exit 2, naming file:line"
        diag "exit $code: $(cat "$TG_TMP/own.err")"
    fi
done
printf '[sink.kafka]\nbrokers = %s\ntopic = t\nrdkafka.acks = all\n' "$BROKER" >"$TG_TMP/own.ini"
check "rdkafka.acks = all (the guaranteed value) is accepted" \
    "$TG_BIN" ingest -q -c "$TG_TMP/own.ini" /dev/null

printf '[sink.kafka]\ntopic = t\n' >"$TG_TMP/nobrokers.ini"
"$TG_BIN" ingest -q -c "$TG_TMP/nobrokers.ini" "$TG_TMP/in10.log" >/dev/null 2>"$TG_TMP/nb.err"
check_eq "missing brokers: exit 2" 2 $?
check "... says brokers is required" grep -q 'brokers is required' "$TG_TMP/nb.err"
tap_done
