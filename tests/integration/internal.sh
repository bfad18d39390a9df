#!/bin/bash
# internal.sh - issue 12: trailguard's own records.  A sink announces an
# internal record (as the file sink announces its signed checkpoints); it
# goes through the internal source and the intake like any record -- spooled,
# parsed by parsers/internal.c -- and reaches every other sink as an event
# (kind event, dataset and action from the record, its @timestamp, the
# collector's host name, message, the data object as it was written under
# trailguard.checkpoint, no policy verdict), but never the sink that
# announced it, not even after a kill -9 and the spool's replay.  A record
# that only looks like an internal one, read from a file, stays what it is.
# Last, the real producer: the file sink's periodic checkpoints reach the
# other sink, and the store never holds its own.
#
# tests/tools/tg_serve_announce is `serve` with one more sink, "announcer",
# which writes what it gets to $TG_ANNOUNCE_OUT and announces a checkpoint
# for every record holding "announce-me".
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
ANN=$TG_BUILDDIR/tests/tools/tg_serve_announce
line() { echo "[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/echo]: echo $1"; }
conf() { # SPOOL PATH
    printf '[collector]\nspool_dir = %s\nmetrics_listen =\nworkers = 2\n[input.file]\npath = %s\n' "$1" "$2"
}
# ann_start CONF OUT ANNOUNCER_OUT LOG: as serve_start, with the announcer
ann_start() {
    local before
    before=$(grep -c 'serve: running' "$4" 2>/dev/null)
    TG_ANNOUNCE_OUT=$3 "$ANN" -c "$1" 2>>"$4" >>"$2" &
    SERVE_PID=$!
    _tg_pids="$_tg_pids $SERVE_PID"
    wait_for 100 sh -c "[ \$(grep -c 'serve: running' '$4') -gt ${before:-0} ]"
}
# the internal events of FILE, as written (jq would rewrite their numbers)
internal_events() { grep -a '^{.*"dataset":"trailguard\.checkpoint"' "$@"; }
trigger_id() { jq -r 'select(.event.original | contains("announce-me")) | .event.id' "$1"; }

# --- an announced record arrives at the other sinks, not at the announcer
{
    line one
    echo '{"trailguard_internal":1,"@timestamp":"2026-01-01T00:00:00Z","dataset":"trailguard.checkpoint","action":"checkpoint","host":"forged","message":"forged","data":{"x":1}}'
    line announce-me
} >"$D/a.log"
conf "$D/spool-a" "$D/a.log" >"$D/a.conf"
check "serve (with the announcer) starts" ann_start "$D/a.conf" "$D/a.out" "$D/a.ann" "$D/a.err"
check "the checkpoint arrives at the stdout sink" wait_for 100 sh -c \
    "jq -e 'select(.event.dataset == \"trailguard.checkpoint\")' '$D/a.out' >/dev/null 2>&1"
check "serve stops" serve_stop
internal_events "$D/a.out" >"$D/a.int"
check_eq "one internal event" 1 "$(wc -l <"$D/a.int")"
ev=$(cat "$D/a.int")
check_eq "its fields: kind, dataset, action, host, message, input, parse" \
    "event trailguard.checkpoint checkpoint $(hostname) The file store was checkpointed. internal ok" \
    "$(echo "$ev" | jq -r '"\(.event.kind) \(.event.dataset) \(.event.action) \(.host.name) \(.message) \(.trailguard.input.type) \(.trailguard.parse.status)"')"
check_eq "its data object, as written, under trailguard.checkpoint" \
    "{\"segment\":3,\"chain\":\"ab12\",\"after\":\"$(trigger_id "$D/a.ann")\",\"n\":1.50}" \
    "$(echo "$ev" | grep -o '"checkpoint":{[^}]*}' | sed 's/^"checkpoint"://')"
check_eq "its @timestamp is the record's (RFC 3339, UTC)" true \
    "$(echo "$ev" | jq '."@timestamp" | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")')"
check_eq "no policy verdict" null "$(echo "$ev" | jq -c .trailguard.policy)"
check_eq "the announcer got the records, not its own checkpoint" "3 0" \
    "$(grep -c '^{' "$D/a.ann") $(internal_events "$D/a.ann" | wc -l)"
check_eq "a record that looks internal, from a file, is not an internal event" "syslog file" \
    "$(jq -r 'select(.event.original | contains("forged")) | "\(.event.dataset) \(.trailguard.input.type)"' "$D/a.out")"

# --- kill -9 before the other sink confirmed it: the replay delivers it,
# still not to the announcer
# the first record is larger than a pipe holds: the stdout sink's first write
# blocks whatever its batch is (serve submits partial batches every 5 ms)
{
    line "big-$(head -c 100000 /dev/zero | tr '\0' x)"
    for i in $(seq 2 300); do line "filler-$i"; done
    line announce-me
} >"$D/b.log"
conf "$D/spool-b" "$D/b.log" >"$D/b.conf"
mkfifo "$D/fifo"
exec 7<>"$D/fifo" # nobody reads it: the stdout sink blocks on its first write
check "serve starts writing into a pipe nobody reads" \
    ann_start "$D/b.conf" "$D/fifo" "$D/b.ann" "$D/b.err"
spooled() { cat "$D"/spool-b/*.log 2>/dev/null | grep -aq trailguard_internal; }
check "the announcer announced, and the checkpoint is in the spool" wait_for 100 spooled
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
exec 7>&-
before=$(grep -c '^{' "$D/b.ann")
check "serve restarts" ann_start "$D/b.conf" "$D/b.out" "$D/b.ann" "$D/b.err"
if wait_for 100 sh -c "[ \$(grep -c '^{' '$D/b.out') -ge 302 ]"; then
    ok "the replay delivers the records and the checkpoint to stdout"
else
    not_ok "the replay delivers the records and the checkpoint to stdout (got $(grep -c '^{' "$D/b.out"))"
    tail -8 "$D/b.err" | sed 's/^/# /'
fi
check "serve stops" serve_stop
check_eq "after the replay: one checkpoint on stdout" 1 "$(internal_events "$D/b.out" | wc -l)"
check_eq "... the one announced for the trigger before the crash" "$(trigger_id "$D/b.ann")" \
    "$(internal_events "$D/b.out" | jq -r .trailguard.checkpoint.after)"
check_eq "... and the announcer got nothing again (it had confirmed all), not its checkpoint" \
    "301 $before 0" "$(grep -c '^{' "$D/b.ann") $before $(internal_events "$D/b.ann" | wc -l)"

# --- the real producer: the file sink's checkpoints (checkpoint_seconds)
# reach the other sink (here the announcer), never the file store itself
{ line c1; line c2; line c3; } >"$D/c.log"
printf '[collector]\nspool_dir = %s\nmetrics_listen =\n[input.file]\npath = %s\n' "$D/spool-c" "$D/c.log" >"$D/c.conf"
printf '[sink.file]\ndir = %s\ncheckpoint_seconds = 1\n' "$D/store" >>"$D/c.conf"
check "serve with the file sink starts" ann_start "$D/c.conf" "$D/c.out" "$D/c.ann" "$D/c.err"
check "a checkpoint of the file sink reaches the other sink" wait_for 100 sh -c \
    "grep -q '\"format\":\"trailguard-checkpoint\"' '$D/c.ann'"
check "serve stops" serve_stop
check_eq "... as an internal event of the file store's checkpoint" \
    "trailguard-checkpoint internal checkpoint" \
    "$(internal_events "$D/c.ann" | head -1 | jq -r '"\(.trailguard.checkpoint.format) \(.trailguard.input.type) \(.event.action)"')"
check_eq "the file store holds its records, no checkpoint event of its own" "3 0" \
    "$("$TG_BIN" query "$D/store" --format ndjson | grep -c '^{') $("$TG_BIN" query "$D/store" --format ndjson | grep -c '"dataset":"trailguard')"
tap_done
