#!/bin/bash
# fault_spool_sink_removed.sh - issue 11 (4): records that only a sink
# removed from the configuration still owed are dropped from the spool at
# the next start; SPEC.md section 6 says every drop is counted and logged.
# Run 1 has a file sink (delivers) and a Kafka sink whose broker is
# unreachable (delivers nothing); 5 records are delivered to the file store
# and the collector is killed -9.  Run 2 has the file sink only: its spool
# logs one line for the segment, naming the kafka sink and the 5 records,
# and /metrics counts them.  Before the fix they vanished without a trace.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/fault_lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl not installed"; exit 0; }
D=$TG_TMP
PORT=$(free_port 20870 20879)
PM=$(free_port 20880 20889)
DEAD=$(free_port 20890 20899) # nothing listens there: the broker is down
conf() {
    cat <<EOC
[collector]
spool_dir = $D/spool
metrics_listen = 127.0.0.1:$PM
workers = 2
[input.relp]
listen = 127.0.0.1:$PORT
[sink.file]
dir = $D/store
EOC
}
conf >"$D/run2.conf"
{
    conf
    printf '%s\n' "[sink.kafka]" "brokers = 127.0.0.1:$DEAD" "topic = audit.events"
} >"$D/run1.conf"
for i in 1 2 3 4 5; do
    printf '<86>Nov 24 13:44:13 h1 app: owed-rec-%d' "$i" >"$D/r$i.msg"
done
metric() { curl -fsS "http://127.0.0.1:$PM/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

check "run 1 listens (file sink + Kafka sink, broker down)" \
    serve_start "$D/run1.conf" "$D/out1" "$D/serve1.log"
check "five records acknowledged" $RELP_SEND "$PORT" "$D"/r[1-5].msg
check "the file sink delivered them" \
    wait_for 100 sh -c "[ \"\$(curl -fsS http://127.0.0.1:$PM/metrics | grep '^trailguard_sink_delivered_total{sink=\"file\"}')\" = 'trailguard_sink_delivered_total{sink=\"file\"} 5' ]"
check_eq "the Kafka sink delivered nothing" 0 "$(metric 'trailguard_sink_delivered_total{sink="kafka"}')"
kill9

check "run 2 listens (the Kafka sink removed)" serve_start "$D/run2.conf" "$D/out2" "$D/serve2.log"
check "one line for the segment names the removed sink and the 5 records only it owed" \
    grep -Eq "spool: .*seg-[0-9a-f]+\.log: .*kafka.* 5 records" "$D/serve2.log"
check_eq "... exactly one such line" 1 "$(grep -c 'no longer configured' "$D/serve2.log")"
check_eq "they are counted in /metrics" 5 \
    "$(metric 'trailguard_spool_records_dropped_total{reason="sink_removed"}')"
check "serve exits 0 on SIGTERM" serve_stop
check_eq "the file store holds each record once" 5 \
    "$("$TG_BIN" query "$D/store" --format ndjson | grep -o 'owed-rec-[0-9]' | wc -l)"
tap_done
