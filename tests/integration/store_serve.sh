#!/bin/bash
# store_serve.sh - the file store written by `trailguard serve` ([input.file]
# -> parse -> policy -> [sink.file], gzip by default, as SPEC section 7
# says): readable with zcat and jq, verified,
# queried and exported; the sink confirms to the spool, so a restart
# replays nothing, and after a SIGKILL of serve mid-stream the spool
# replays what the store had not confirmed: every event arrives.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/store_lib.sh"
D=$TG_TMP
S=$D/store
store_snapshot "$D/snap"
gen_records 5000 >"$D/app.log"
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen =
workers = 2
fsync_interval_ms = 100
[input.file]
path = $D/app.log
[policy]
snapshot_dir = $D/snap
[sink.file]
dir = $S
rotate_bytes = 32k
EOC
stored() { "$TG_BIN" query "$S" --format ndjson 2>/dev/null | wc -l; }
have() { [ "$(stored)" -ge "$1" ]; }
unique() { "$TG_BIN" query "$S" --format ndjson | jq -r .event.id | sort -u | wc -l; }

check "serve starts with [sink.file]" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
check "the store fills up" wait_for 300 have 5000
check "serve stops (SIGTERM) with exit 0" serve_stop
check_eq "every event is stored once" "5000 5000" "$(stored) $(unique)"
check "the default compression is gzip: only .ndjson.gz segments" \
    test "$(ls "$S"/seg-*.ndjson.gz | wc -l) $(ls "$S"/seg-*.ndjson.zst 2>/dev/null | wc -l)" = "$(ls "$S"/seg-*.chain | wc -l) 0"
check "zcat and jq read the store" sh -c "zcat '$S'/seg-*.ndjson.gz | jq -e -c . >/dev/null"
check "verify: intact" "$TG_BIN" verify "$S"
zcat "$S"/seg-*.ndjson.gz >"$D/all.ndjson"
store_compare "query --decision deny on the served store" "$S" "$D/all.ndjson" \
    '.trailguard.policy.decision == "deny"' --decision deny
store_compare "query --user --host on the served store" "$S" "$D/all.ndjson" \
    '.user.name == "bob" and .host.name == "web1.example.com"' --user bob --host web1.example.com
"$TG_BIN" export "$S" --since 2026-11-24 --until 2026-11-25 --format csv --out "$D/ex.csv" 2>/dev/null
check_eq "export from the served store: manifest sha256 = sha256sum" \
    "$(sha256sum "$D/ex.csv" | cut -d' ' -f1)" "$(jq -r .sha256 "$D/ex.csv.manifest.json")"
check_eq "... with every event of the day" 5000 "$(jq -r .events "$D/ex.csv.manifest.json")"

# (a new log per start: serve_start waits for "running" in it)
check "serve restarts" serve_start "$D/tg.conf" "$D/out" "$D/serve2.log"
check "and stops" serve_stop
check_eq "the store confirmed to the spool: nothing is replayed" 5000 "$(stored)"

gen_records 30000 100 >>"$D/app.log"
check "serve starts on more input" serve_start "$D/tg.conf" "$D/out" "$D/serve3.log"
if wait_for 300 have 6000 && kill -KILL "$SERVE_PID"; then ok "serve killed with SIGKILL mid-stream"; else
    not_ok "serve killed with SIGKILL mid-stream"
fi
wait "$SERVE_PID" 2>/dev/null
diag "stored when killed: $(stored)"
check "serve restarts after SIGKILL" serve_start "$D/tg.conf" "$D/out" "$D/serve4.log"
uniq_at_least() { [ "$(unique)" -ge "$1" ]; }
check "the spool replays: every event arrives" wait_for 300 uniq_at_least 35000
check "serve stops" serve_stop
check_eq "35000 distinct events, none lost" 35000 "$(unique)"
"$TG_BIN" verify "$S" >"$D/v.out" 2>&1
check_eq "verify after the crash and the replay: intact" 0 "$?"
diag "$(cat "$D/v.out")"

# A burst is stored once the input goes quiet, not an fsync interval later
# (here 10 minutes, far beyond the 30 s this waits).
gen_records 300 >"$D/burst.log"
sed -e "s|^fsync_interval_ms = .*|fsync_interval_ms = 600000|" -e "s|^dir = .*|dir = $D/burst|" \
    -e "s|^path = .*|path = $D/burst.log|" -e "s|^spool_dir = .*|spool_dir = $D/spool2|" \
    "$D/tg.conf" >"$D/burst.conf"
burst_stored() { [ "$("$TG_BIN" query "$D/burst" --format ndjson 2>/dev/null | wc -l)" -ge 300 ]; }
check "serve starts with fsync_interval_ms = 600000" serve_start "$D/burst.conf" "$D/out" "$D/serve5.log"
check "a burst is stored when the input goes quiet, before the interval" wait_for 300 burst_stored
check "and it stops" serve_stop
tap_done
