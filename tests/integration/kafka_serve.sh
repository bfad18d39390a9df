#!/bin/bash
# kafka_serve.sh - `trailguard serve` (rsyslog -> RELP -> spool -> Kafka and
# the file store): every record reaches the topic; with the broker down, serve
# stopped and started again, the events kept in the spool are produced on
# restart and every record arrives (duplicates allowed), while the file
# store, which had them all, gets none of them twice (the spool keeps a
# confirmation per sink).
. "$TG_SRCDIR/tests/lib.sh"
if ! "$TG_BIN" help serve >/dev/null 2>&1 || [ ! -r "$TG_SRCDIR/tests/integration/relp_lib.sh" ]; then
    echo "1..0 # SKIP trailguard serve is not built in yet"
    exit 0
fi
command -v kcat >/dev/null || { echo "1..0 # SKIP kcat not installed"; exit 0; }
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/kafka_lib.sh"
broker_start audit.events:2
trap 'broker_stop; relp_cleanup' EXIT
D=$TG_TMP
RELP_PORT=$(free_port 20720 20739)
TCP_PORT=$(free_port 20740 20759)
serve_conf "$D/spool" "$RELP_PORT" "[sink.kafka]
brokers = $BROKER
topic = audit.events
flush_timeout_ms = 3000
rdkafka.message.timeout.ms = 2000
rdkafka.reconnect.backoff.max.ms = 200
[sink.file]
dir = $D/store" >"$D/tg.conf"
kafka_recs() { # distinct rec-N in the topic
    consume audit.events "$D/topic.json" && jq -r '.payload' "$D/topic.json" | count_recs
}
kafka_has() { [ "$(kafka_recs)" -ge "$1" ]; }

check "serve listens" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
rsyslog_start "$D/rs" "$(rsyslog_fwd_conf "$D/rs" "$TCP_PORT" "$RELP_PORT")"
check "rsyslog imtcp is up" wait_for 100 tcp_port_open "$TCP_PORT"
feed_tcp "$TCP_PORT" 1 1000
check "1000 records reach the topic through serve" wait_for 300 kafka_has 1000

check "broker down" broker_cmd down
feed_tcp "$TCP_PORT" 1001 2000
check "serve spools while the broker is down" wait_for 300 grep -q 'delivery to audit.events failed' "$D/serve.log"
check "serve exits 0 on SIGTERM with deliveries pending" serve_stop
check "... and says they stay in the spool" grep -q 'left unconfirmed' "$D/serve.log"
check "broker up" broker_cmd up
check "serve restarts" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
if wait_for 600 kafka_has 2000; then ok "every record arrives after the restart"; else
    not_ok "every record arrives after the restart (got $(kafka_recs))"
fi
rsyslog_stop
check "serve exits 0" serve_stop
"$TG_BIN" query "$D/store" --format ndjson >"$D/store.json" 2>/dev/null
check_eq "the file store has every record" 2000 "$(jq -r '.event.original' "$D/store.json" | count_recs)"
check_eq "... each once: the replay skipped the sink that had them" 0 "$(dup_ids "$D/store.json")"
diag "messages in the topic: $(wc -l <"$D/topic.json") for 2000 records"
tap_done
