#!/bin/bash
# health.sh - /healthz, /readyz and the operating metrics of `serve`:
#  - a healthy collector: both 200; /metrics passes the real `promtool check
#    metrics` and the strict parser, and has the per-input records, bytes and
#    sessions (a RELP listener's; a followed file's records and bytes), spool
#    capacity, build info, start time and store head age;
#  - a sink failing (the file store on a full tmpfs): /healthz 503 naming the
#    sink, 200 again once space is freed and the events are delivered;
#  - the spool over its limit (spool_max_bytes) with the sinks judged healthy:
#    /healthz 503 naming the spool, not the sink.
# The failing parts need root (mount); they are skipped otherwise.  /readyz
# before the replay is done is tests/unit/test_health.c (a replay that waits
# for a failing sink is not reached from outside: the same backpressure
# stops the inputs first).
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl not installed"; exit 0; }
D=$TG_TMP
FS=$D/fs
S=$TG_SHARED/samples
RPORT=$(free_port 20700 20709)
MPORT=$(free_port 20710 20719)
trap 'umount -l "$FS" 2>/dev/null; relp_cleanup' EXIT

# conf SPOOL_MAX FAILING_S: the collector, its store under $FS/events
conf() {
    serve_conf "$D/spool" "$RPORT" "[input.file.app]
path = $D/app.log
[sink.file]
dir = $FS/events" | sed "s|^metrics_listen =.*|metrics_listen = 127.0.0.1:$MPORT\\
spool_max_bytes = $1\\
sink_failing_seconds = $2|"
}
# probe PATH: the status code, the body in $D/body
probe() { curl -s -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$MPORT$1"; }
probe_is() { [ "$(probe "$1")" = "$2" ] && grep -q "$3" "$D/body"; }
scrape() { curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$D/m.txt"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$D/samples.txt"; }

mkdir -p "$FS"
head -5 "$S/snoopy-2.5.1-default.log" >"$D/app.log"
MOUNTED=0
mount -t tmpfs -o size=16m tmpfs "$FS" 2>/dev/null && MOUNTED=1
conf 64M 0 >"$D/tg.conf"

# --- healthy
serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
check "serve runs" kill -0 "$SERVE_PID"
check_eq "/readyz: 200 once started" 200 "$(probe /readyz)"
check_eq "/healthz: 200 while healthy" 200 "$(probe /healthz)"
check "... saying ok" grep -qx ok "$D/body"
head -100 "$S/snoopy-2.5.1-default.log" >"$D/100.log"
check "100 records acknowledged" "$RELP_LOAD" -p "$RPORT" -n 100 -q "$D/100.log"
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(600)' "$RPORT" &
IDLE=$!
_tg_pids="$_tg_pids $IDLE"
sessions_one() { scrape && grep -qx 'trailguard_input_sessions{input="input.relp"} 1' "$D/m.txt"; }
check "an open RELP connection is one session" wait_for 100 sessions_one
kill "$IDLE"
stored() { scrape && grep -q '^trailguard_store_head_age_seconds{sink="file"} [0-9]' "$D/m.txt"; }
check "the store head age is exposed once the store flushed" wait_for 100 stored
if command -v promtool >/dev/null; then
    check "promtool check metrics accepts /metrics" sh -c "promtool check metrics <'$D/m.txt'"
else
    skip "promtool not installed (Debian package prometheus): only the strict parser"
fi
check "the strict parser accepts /metrics" python3 "$TG_SRCDIR/tests/integration/prom_parse.py" <"$D/m.txt"
python3 "$TG_SRCDIR/tests/integration/prom_parse.py" <"$D/m.txt" >"$D/samples.txt"
check_eq "records per input" 100 "$(val 'trailguard_input_records_total{input="input.relp"}')"
check "bytes per input: at least a byte per record" \
    test "$(val 'trailguard_input_bytes_total{input="input.relp"}')" -ge 100
file_read() { scrape && grep -qx 'trailguard_input_records_total{input="input.file.app"} 5' "$D/m.txt"; }
check "a followed file's records are counted once, under its section" wait_for 100 file_read
python3 "$TG_SRCDIR/tests/integration/prom_parse.py" <"$D/m.txt" >"$D/samples.txt"
check_eq "... and its bytes (the lines without their LF)" $(($(wc -c <"$D/app.log") - 5)) \
    "$(val 'trailguard_input_bytes_total{input="input.file.app"}')"
check_eq "spool capacity beside spool bytes" $((64 << 20)) "$(val 'trailguard_spool_max_bytes{}')"
start=$(val 'trailguard_start_time_seconds{}')
check "start time: a unix time, not in the future" test "$start" -gt 1700000000 -a "$start" -le "$(date +%s)"
check "build info with the version --version prints" grep -q \
    "^trailguard_build_info{.*version=\"$("$TG_BIN" --version | sed -n '1s/^trailguard //p')\".*} 1$" \
    "$D/samples.txt"
check "... and the linked libraries" grep -q '^trailguard_build_info{.*librelp="[0-9.]*".*openssl="[0-9]' \
    "$D/samples.txt"
check "/healthz and /readyz are not Prometheus text" sh -c \
    "curl -fsSI http://127.0.0.1:$MPORT/healthz | grep -qi '^content-type: text/plain; charset=utf-8'"

if [ "$MOUNTED" != 1 ]; then
    serve_stop
    skip "cannot mount a tmpfs (needs root): the failing sink and full spool states are not tested"
    tap_done
    exit
fi
fill() { dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null; }

# --- a sink failing
fill
# enough that the members outgrow the tail pages the files already have
check "more records acknowledged (the spool is elsewhere)" "$RELP_LOAD" -p "$RPORT" -n 3000 -q \
    "$S/snoopy-2.5.1-default.log"
check "/healthz: 503 while the file sink fails" wait_for 100 probe_is /healthz 503 'sink file: failing for'
sed 's/^/# /' "$D/body"
check "... /readyz stays 200 (started is started)" probe_is /readyz 200 ready
rm -f "$FS/filler"
check "/healthz: 200 again once the sink delivers" wait_for 100 probe_is /healthz 200 ok
check "serve stops" serve_stop

# --- the spool over its limit; the sink is only slow (sink_failing_seconds = 1 day)
conf 1M 86400 >"$D/full.conf"
sed -i "s|^spool_dir = .*|spool_dir = $D/spool-small|" "$D/full.conf"
serve_start "$D/full.conf" "$D/out" "$D/serve.log"
fill
"$RELP_LOAD" -p "$RPORT" -n 8000 -q "$S/snoopy-2.5.1-default.log" >/dev/null 2>&1 &
LOAD=$!
_tg_pids="$_tg_pids $LOAD"
check "/healthz: 503 once the spool is full" wait_for 300 probe_is /healthz 503 'spool: full'
sed 's/^/# /' "$D/body"
check "... naming the limit" grep -q 'spool_max_bytes = 1048576' "$D/body"
check "... and not the sink, which is within its allowance" sh -c "! grep -q 'sink file' '$D/body'"
check "the sender is held back (backpressure)" kill -0 "$LOAD"
rm -f "$FS/filler"
check "once space is freed the sender finishes" wait "$LOAD"
check "/healthz: 200 again" wait_for 300 probe_is /healthz 200 ok
check "serve stops" serve_stop
tap_done
