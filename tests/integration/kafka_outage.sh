#!/bin/bash
# kafka_outage.sh - the broker goes down mid-stream and comes back: every
# event still arrives (duplicates allowed, deduplicated by event.id here).
# Also: injected retriable Produce errors are retried, and messages that time
# out during the outage are produced again by the sink (counted as retried).
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/kafka_lib.sh"

command -v kcat >/dev/null || { echo "1..0 # SKIP kcat not installed"; exit 0; }
broker_start audit.events:2
N=1024
gen_records $N "$TG_TMP/in.log"
head -512 "$TG_TMP/in.log" >"$TG_TMP/part1.log"
tail -n +513 "$TG_TMP/in.log" >"$TG_TMP/part2.log"
# event.id includes the record's file:line, so the expected ids come from the same files
"$TG_BIN" ingest -q "$TG_TMP/part1.log" "$TG_TMP/part2.log" | jq -r '.event.id' | sort \
    >"$TG_TMP/expected.ids"

# A short message timeout makes librdkafka give up during the outage, so the
# sink's own re-produce path is exercised too.
cat >"$TG_TMP/conf.ini" <<CONF
[collector]
workers = 2
[sink.kafka]
brokers = $BROKER
topic = audit.events
flush_timeout_ms = 120000
rdkafka.message.timeout.ms = 1500
rdkafka.retry.backoff.ms = 50
rdkafka.reconnect.backoff.max.ms = 200
CONF

check "first half delivered with the broker up" \
    "$TG_BIN" ingest -q -c "$TG_TMP/conf.ini" "$TG_TMP/part1.log"
check "broker down" broker_cmd down
"$TG_BIN" ingest -c "$TG_TMP/conf.ini" "$TG_TMP/part2.log" >/dev/null 2>"$TG_TMP/ingest.err" &
INGEST_PID=$!
check "the sink reports failed deliveries while the broker is down" \
    wait_for 300 grep -q 'delivery to audit.events failed' "$TG_TMP/ingest.err"
check "broker up" broker_cmd up
check "retriable Produce errors injected" broker_cmd "error 3 NOT_ENOUGH_REPLICAS"
wait "$INGEST_PID"
check_eq "ingest exits 0 once everything is delivered" 0 $?
check "the sink produced the failed messages again" grep -q 'undelivered message.* again' "$TG_TMP/ingest.err"
check "nothing left undelivered" sh -c "! grep -q 'not delivered within' '$TG_TMP/ingest.err'"

# A fatal idempotence error (sequence desynchronisation) makes the sink
# recreate its producer and produce the undelivered events again.
tail -100 "$TG_TMP/in.log" | sed 's/echo /echo again /' >"$TG_TMP/part3.log"
"$TG_BIN" ingest -q "$TG_TMP/part3.log" | jq -r '.event.id' >>"$TG_TMP/expected.ids"
sort -o "$TG_TMP/expected.ids" "$TG_TMP/expected.ids"
check "fatal Produce errors injected" broker_cmd "error 2 OUT_OF_ORDER_SEQUENCE_NUMBER"
"$TG_BIN" ingest -c "$TG_TMP/conf.ini" "$TG_TMP/part3.log" >/dev/null 2>"$TG_TMP/fatal.err"
check_eq "ingest exits 0 after the producer was recreated" 0 $?
check "the sink recreated the producer" grep -q 'recreating the producer' "$TG_TMP/fatal.err"

consume audit.events "$TG_TMP/out.json"
jq -r '.payload | fromjson | .event.id' "$TG_TMP/out.json" | sort -u >"$TG_TMP/got.ids"
check "every event arrived (dedup by id)" cmp "$TG_TMP/expected.ids" "$TG_TMP/got.ids"
diag "messages consumed: $(wc -l <"$TG_TMP/out.json") for $((N + 100)) events"
tap_done
