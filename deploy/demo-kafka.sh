#!/bin/bash
# demo-kafka.sh - the README's Kafka demo: start a Kafka broker from
# librdkafka's mock cluster (tests/tools/tg_mock_broker), send the sample
# records through `trailguard ingest` with a [sink.kafka] section, and read
# them back with kcat.  Run from the top of the source tree after `make`:
#
#   deploy/demo-kafka.sh [BUILD_DIR] [RECORDS_FILE...]
#
# BUILD_DIR defaults to ./_build; records default to the bundled samples.
# Everything runs on 127.0.0.1 and is stopped at the end.
set -eu -o pipefail
build=${1:-./_build}
shift || true
[ $# -gt 0 ] || set -- "${TG_SHARED:-../shared}"/samples/rsyslog-local-RSYSLOG_TraditionalFileFormat.log
command -v kcat >/dev/null || { echo "demo-kafka: kcat not found: apt-get install kcat" >&2; exit 2; }
[ -x "$build/tests/tools/tg_mock_broker" ] || make -C "$build" tests/tools/tg_mock_broker
tmp=$(mktemp -d)
broker=
cleanup() {
    [ -z "$broker" ] || { kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT

"$build/tests/tools/tg_mock_broker" -o "$tmp/addr" -t audit.events:3 -t audit.deny </dev/null &
broker=$!
for _ in $(seq 100); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
[ -s "$tmp/addr" ] || { echo "demo-kafka: the mock broker did not start" >&2; exit 3; }
addr=$(cat "$tmp/addr")

# demo.conf without its file sink, plus a Kafka sink on the mock broker
sed '/^\[sink.file\]/,$d' deploy/demo.conf >"$tmp/demo-kafka.conf"
cat >>"$tmp/demo-kafka.conf" <<CONF
[sink.kafka]
brokers = $addr
topic = audit.events
deny_topic = audit.deny
key = host
CONF
echo "== trailguard ingest -c demo-kafka.conf $*"
"$build/trailguard" ingest -c "$tmp/demo-kafka.conf" "$@"
echo "== kcat -C -b $addr -t audit.events -e (key, headers, event)"
kcat -C -b "$addr" -t audit.events -e -q -f 'partition %p key %k headers %h\n%s\n'
echo "== deny verdicts also on audit.deny: $(kcat -C -b "$addr" -t audit.deny -e -q | wc -l) events"
