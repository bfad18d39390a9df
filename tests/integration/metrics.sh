#!/bin/bash
# metrics.sh - /metrics: scraped with curl while a pipeline runs, parsed by a
# strict exposition-format parser (prom_parse.py), totals checked against
# the input; 404 elsewhere; the summary log line; a busy port is exit 3.
. "$TG_SRCDIR/tests/lib.sh"

command -v curl >/dev/null || { echo "1..0 # SKIP curl not installed"; exit 0; }
PORT=$(free_port 20760 20779)
SERVE=$TG_BUILDDIR/tests/tools/tg_pipeline_serve
S=$TG_SHARED/samples
N=$(cat "$S/rsyslog-local-RSYSLOG_TraditionalFileFormat.log" "$S/percona-audit.json" | grep -c .)
cat >"$TG_TMP/conf.ini" <<CONF
[collector]
workers = 2
metrics_listen = 127.0.0.1:$PORT
CONF
"$SERVE" -c "$TG_TMP/conf.ini" -i 1 "$S/rsyslog-local-RSYSLOG_TraditionalFileFormat.log" \
    "$S/percona-audit.json" >/dev/null 2>"$TG_TMP/serve.err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TG_TMP"' EXIT

scrape() { curl -fsS "http://127.0.0.1:$PORT/metrics" >"$TG_TMP/m.txt"; }
all_delivered() {
    scrape && grep -qx "trailguard_sink_delivered_total{sink=\"stdout\"} $N" "$TG_TMP/m.txt"
}
check "every event reaches the sink (scraped)" wait_for 300 all_delivered
check "the exposition parses strictly" python3 "$TG_SRCDIR/tests/integration/prom_parse.py" \
    <"$TG_TMP/m.txt"
check "no warning from libmicrohttpd at start" sh -c "! grep -i warn '$TG_TMP/serve.err'"
python3 "$TG_SRCDIR/tests/integration/prom_parse.py" <"$TG_TMP/m.txt" >"$TG_TMP/samples.txt"
val() { awk -v k="$1" '$1 == k { print $2 }' "$TG_TMP/samples.txt"; }
check_eq "received_total counts every record" "$N" "$(val 'trailguard_received_total{}')"
sum=$(awk '/^trailguard_events_(parsed|unparsed)_total/ { s += $2 } END { print s }' \
    "$TG_TMP/samples.txt")
check_eq "parsed (by dataset) + unparsed = received" "$N" "$sum"
check_eq "no sink failures" 0 "$(val 'trailguard_sink_failed_total{sink="stdout"}')"
check "queue depths are exposed" grep -q '^trailguard_queue_depth{queue="sink:stdout"} ' \
    "$TG_TMP/samples.txt"
check "content type is the text format 0.0.4" sh -c \
    "curl -fsSI http://127.0.0.1:$PORT/metrics | grep -qi '^content-type: text/plain; version=0.0.4'"
check_eq "other paths are 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/other")"
check "the summary line is logged with the same totals" \
    wait_for 50 grep -q "summary: received=$N deduplicated=0 parsed: " "$TG_TMP/serve.err"

"$SERVE" -c "$TG_TMP/conf.ini" >/dev/null 2>"$TG_TMP/busy.err"
check_eq "a busy metrics port: exit 3" 3 $?
check "... naming the address and the key" grep -q "metrics_listen = 127.0.0.1:$PORT: cannot listen" \
    "$TG_TMP/busy.err"
check_eq "... in one line, without libmicrohttpd's own" 1 "$(grep -c . "$TG_TMP/busy.err")"

kill "$PID"
wait "$PID"
check_eq "exits 0 on SIGTERM" 0 $?
check "logs a last summary on exit" sh -c "[ \$(grep -c 'summary: ' '$TG_TMP/serve.err') -ge 2 ]"

# --- the same through `trailguard serve` (RELP -> spool -> sinks)
LOAD=$TG_BUILDDIR/tests/bench/relp_load
if ! "$TG_BIN" help serve >/dev/null 2>&1 || [ ! -x "$LOAD" ]; then
    skip "trailguard serve or tests/bench/relp_load not built: no serve scrape"
    tap_done
    exit
fi
SPORT=$(free_port 20780 20789)
RPORT=$(free_port 20790 20799)
cat >"$TG_TMP/serve.ini" <<CONF
[collector]
spool_dir = $TG_TMP/spool
workers = 2
metrics_listen = 127.0.0.1:$SPORT
[input.relp]
listen = 127.0.0.1:$RPORT
[policy]
snapshot_dir = $TG_SRCDIR/deploy/policy-example
CONF
"$TG_BIN" serve -c "$TG_TMP/serve.ini" >"$TG_TMP/serve.out" 2>"$TG_TMP/serve2.err" &
PID=$!
scrape2() { curl -fsS "http://127.0.0.1:$SPORT/metrics" >"$TG_TMP/m2.txt"; }
check "serve serves /metrics" wait_for 100 scrape2
M=500
"$LOAD" -p "$RPORT" -n $M -q "$S/snoopy-2.5.1-default.log" >/dev/null
check_eq "relp_load: every message acknowledged" 0 $?
serve_delivered() {
    scrape2 && grep -qx "trailguard_sink_delivered_total{sink=\"stdout\"} $M" "$TG_TMP/m2.txt"
}
check "serve: every event delivered (scraped)" wait_for 300 serve_delivered
check "serve: the exposition parses strictly" python3 \
    "$TG_SRCDIR/tests/integration/prom_parse.py" <"$TG_TMP/m2.txt"
python3 "$TG_SRCDIR/tests/integration/prom_parse.py" <"$TG_TMP/m2.txt" >"$TG_TMP/samples.txt"
check_eq "serve: received_total" "$M" "$(val 'trailguard_received_total{}')"
for ds in snoopy syslog; do
    check_eq "serve: parsed $ds events counted as in the output" \
        "$(jq -r "select(.event.dataset == \"$ds\" and .trailguard.parse.status != \"unparsed\") | 1" "$TG_TMP/serve.out" | wc -l)" \
        "$(val "trailguard_events_parsed_total{dataset=\"$ds\"}")"
done
check_eq "serve: unparsed events counted as in the output" \
    "$(jq -r 'select(.trailguard.parse.status == "unparsed") | 1' "$TG_TMP/serve.out" | wc -l)" \
    "$(val 'trailguard_events_unparsed_total{}')"
check "serve: the spool size is exposed" grep -q '^trailguard_spool_bytes{} [0-9]' "$TG_TMP/samples.txt"
# issue 14: the memory the collector holds, counted where it is
mapped=$(val 'trailguard_spool_mapped_bytes{}')
check "serve: the spool's mapped bytes are exposed, and hold what was spooled ($mapped)" \
    test "${mapped:-0}" -gt 0 -a "${mapped:-0}" -lt $((4 << 20))
# the scrape that saw the last delivery may have read the gauge just before
# the batch gave its bytes back: scrape again, a bounded number of times
queue_empty() { scrape2 && grep -qx 'trailguard_queue_bytes 0' "$TG_TMP/m2.txt"; }
check "serve: the bytes the pipeline holds are exposed (0 once delivered)" wait_for 100 queue_empty
check "serve: the waits for queue_max_bytes are counted" \
    grep -q '^trailguard_queue_full_waits_total{} [0-9]' "$TG_TMP/samples.txt"
if grep -q '"policy":{' "$TG_TMP/serve.out"; then
    check "serve: the snapshot in use is exposed" grep -q \
        "^trailguard_policy_snapshot_info{id=\"$(jq -r '.trailguard.policy.snapshot' "$TG_TMP/serve.out" | head -1)\"} 1" \
        "$TG_TMP/samples.txt"
    decided=$(awk '/^trailguard_policy_decisions_total/ { s += $2 } END { print s }' "$TG_TMP/samples.txt")
    check_eq "serve: every event has a counted decision" "$M" "$decided"
else
    skip "serve does not evaluate the policy yet: snapshot metrics not checked"
fi
kill "$PID"
wait "$PID"
check_eq "serve exits 0 on SIGTERM" 0 $?
check "serve logs the summary line on exit" grep -q "summary: received=$M " "$TG_TMP/serve2.err"
tap_done
