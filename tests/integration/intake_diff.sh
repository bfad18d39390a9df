#!/bin/bash
# intake_diff.sh - issue 12: the same record becomes the same event whichever
# way it arrives.  Every golden input (tests/golden/*/*.in) and every file of
# ../shared/samples goes through
#   ingest     `trailguard ingest FILE`, one file at a time: the reference
#   file       serve's [input.file] following the same file
#   relp       a real rsyslogd: imtcp -> omrelp -> serve's [input.relp]
#   omprog     a real rsyslogd: imtcp -> omprog running `trailguard omprog`
#   replay     serve's [input.file] with a sink that never confirms (Kafka at
#              a closed port), kill -9, and a serve with the stdout sink that
#              gets every record from the spool's replay
# and the events must be identical except for what by definition depends on
# the arrival:
#   trailguard.input.*  the input type and peer: the way it arrived
#   event.ingested      the receive time
#   @timestamp          only when it is the receive time (the record has no
#                       time of its own: then it equals event.ingested)
#   event.id            for relp and omprog only: a file record's id is salted
#                       with its inode and offset (a re-read after a restart is
#                       a duplicate, an identical line elsewhere is not), a
#                       message's is not (a RELP resend must be a duplicate),
#                       and a record without a host name is hashed with the
#                       peer, which differs by source
# Records are sent to rsyslog as RFC 6587 octet-counted frames of the bytes
# the intake frames from each file (tests/tools/tg_records), with control
# characters passed unescaped, and rsyslog forwards %rawmsg%: the record as
# it was.  omprog's protocol is one message per line, so the records holding
# an LF (pretty-printed JSON, snoopy arguments with newlines) cannot travel
# it unescaped and are left out there; they go through every other way.
# Dedup is off for relp and omprog (dedup_window = 0): identical lines of the
# corpus are identical messages there, which dedup would rightly drop as
# resends.  Everything runs with auto format detection (the only format RELP
# and omprog have), the default [parsers] and the example policy snapshot;
# the golden tests cover formats and custom snoopy formats.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
RECORDS=$TG_BUILDDIR/tests/tools/tg_records
SNAP=$TG_SRCDIR/deploy/policy-example
files=()
for f in "$TG_SRCDIR"/tests/golden/*/[0-9]*.in "$TG_SHARED"/samples/*; do
    files+=("$(realpath "$f")")
done
nfiles=${#files[@]}
diag "$nfiles inputs"
AS_FILE='if ."@timestamp" == .event.ingested then del(."@timestamp") else . end
         | del(.event.ingested, .trailguard.input)'
AS_MSG="$AS_FILE | del(.event.id)"
collector() { # SPOOL DEDUP: the [collector] and [policy] sections
    printf '[collector]\nspool_dir = %s\nmetrics_listen =\nworkers = 2\ndedup_window = %s\n' "$1" "$2"
    printf '[policy]\nsnapshot_dir = %s\n' "$SNAP"
}
file_inputs() {
    for i in "${!files[@]}"; do printf '[input.file.f%d]\npath = %s\n' "$i" "${files[$i]}"; done
}
events() { grep -c '^{' "$1" 2>/dev/null || echo 0; }
has_events() { [ "$(events "$1")" -ge "$2" ]; }
of_file() { # OUT PATH FILTER: the events of OUT read from PATH, normalised
    jq -c --arg p "$2" "select(.trailguard.input.peer == \$p) | $3" "$1"
}
# compare NAME EXPECTED ACTUAL: equal, or the first difference
compare() {
    if cmp -s "$2" "$3"; then ok "$1"; else
        not_ok "$1"
        diff "$2" "$3" | head -6 | cut -c1-400 | sed 's/^/# /'
    fi
}

# --- ingest: the reference
mkdir -p "$D/ingest"
total=0
failed=0
for i in "${!files[@]}"; do
    "$TG_BIN" ingest -q --snapshot "$SNAP" "${files[$i]}" >"$D/ingest/$i" 2>"$D/ingest/$i.err" ||
        failed=$((failed + 1))
    total=$((total + $(events "$D/ingest/$i")))
done
check_eq "ingest reads every input" 0 "$failed"
diag "$total events through ingest"

# --- [input.file]
{ collector "$D/spool-file" 600; file_inputs; } >"$D/file.conf"
check "serve follows every input" serve_start "$D/file.conf" "$D/file.out" "$D/file.log"
check "every record through [input.file]" wait_for 300 has_events "$D/file.out" $total
check "serve stops" serve_stop
bad=0
for i in "${!files[@]}"; do
    jq -c "$AS_FILE" "$D/ingest/$i" >"$D/want"
    of_file "$D/file.out" "${files[$i]}" "$AS_FILE" >"$D/got"
    if ! cmp -s "$D/want" "$D/got"; then
        bad=$((bad + 1))
        not_ok "[input.file] = ingest: ${files[$i]#"$TG_SRCDIR"/}"
        diff "$D/want" "$D/got" | head -4 | cut -c1-300 | sed 's/^/# /'
    fi
done
check_eq "[input.file] gives ingest's events for every input (event.id included)" 0 "$bad"

# --- the frames rsyslog gets: every record of every file, in order
"$RECORDS" "${files[@]}" >"$D/frames"
"$RECORDS" -n "${files[@]}" >"$D/frames-nolf"
for i in "${!files[@]}"; do cat "$D/ingest/$i"; done >"$D/ingest.all"
jq -c "$AS_MSG" "$D/ingest.all" >"$D/want-msg"
jq -c "select(.event.original | contains(\"\\n\") | not) | $AS_MSG" "$D/ingest.all" \
    >"$D/want-nolf"
send_frames() { # PORT FILE: the frames over one TCP connection
    python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.close()' "$1" "$2"
}
rs_global() { # DIR: rsyslog's globals: nothing escaped, room for the largest record
    printf 'global(workDirectory="%s" maxMessageSize="256k" parser.escapeControlCharactersOnReceive="off")\n' "$1"
    printf 'module(load="imtcp")\ntemplate(name="raw" type="string" string="%%rawmsg%%")\n'
    printf 'template(name="rawlf" type="string" string="%%rawmsg%%\\n")\n'
}

# --- relp: rsyslogd imtcp -> omrelp -> serve
RP=$(free_port 20750 20799)
TP=$(free_port 20800 20849)
{ collector "$D/spool-relp" 0; printf '[input.relp]\nlisten = 127.0.0.1:%s\n' "$RP"; } >"$D/relp.conf"
check "serve listens for RELP" serve_start "$D/relp.conf" "$D/relp.out" "$D/relp.log"
rsyslog_start "$D/rs-relp" "$(rs_global "$D/rs-relp"; cat <<EOC
module(load="omrelp")
input(type="imtcp" address="127.0.0.1" port="$TP" ruleset="fwd")
ruleset(name="fwd") { action(type="omrelp" target="127.0.0.1" port="$RP" template="raw") }
EOC
)"
check "rsyslog (imtcp -> omrelp) is up" wait_for 100 tcp_port_open "$TP"
send_frames "$TP" "$D/frames"
check "every record through rsyslog and RELP" wait_for 300 has_events "$D/relp.out" $total
rsyslog_stop
check "serve stops" serve_stop
jq -c "$AS_MSG" "$D/relp.out" >"$D/got-relp"
compare "RELP gives ingest's events, in order (event.id aside)" "$D/want-msg" "$D/got-relp"

# --- omprog: rsyslogd imtcp -> omprog -> trailguard omprog (events on stderr)
OP=$(free_port 20850 20899)
collector "$D/spool-omprog" 0 >"$D/omprog.conf"
rsyslog_start "$D/rs-omprog" "$(rs_global "$D/rs-omprog"; cat <<EOC
module(load="omprog")
input(type="imtcp" address="127.0.0.1" port="$OP" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omprog" binary="$TG_BIN omprog -c $D/omprog.conf" template="rawlf"
         confirmMessages="on" forceSingleInstance="on" confirmTimeout="30000"
         output="$D/omprog.out")
}
EOC
)"
check "rsyslog (imtcp -> omprog) is up" wait_for 100 tcp_port_open "$OP"
send_frames "$OP" "$D/frames-nolf"
nolf=$(wc -l <"$D/want-nolf")
check "every record without an LF through rsyslog and omprog" wait_for 300 has_events "$D/omprog.out" "$nolf"
rsyslog_stop
check "omprog drained at the end of its input" wait_for 100 grep -q 'omprog: stopped:' "$D/omprog.out"
grep '^{' "$D/omprog.out" | jq -c "$AS_MSG" >"$D/got-omprog"
compare "omprog gives ingest's events, in order (event.id aside)" "$D/want-nolf" "$D/got-omprog"

# --- replay: spooled, never confirmed, kill -9, replayed
KP=$(free_port 20900 20949)
{
    collector "$D/spool-replay" 600
    file_inputs
    printf '[sink.kafka]\nbrokers = 127.0.0.1:%s\ntopic = never\n' "$KP"
} >"$D/replay1.conf"
check "serve follows every input, into a sink that never confirms" \
    serve_start "$D/replay1.conf" "$D/replay1.out" "$D/replay1.log"
# every file read to its end, its records committed to the spool: the
# position files say so
cat >"$D/at_end.py" <<'PYEOF'
import os, sys, zlib
spool, paths = sys.argv[1], sys.argv[2:]
for p in paths:
    pos = os.path.join(spool, "file-%08x.pos" % zlib.crc32(p.encode()))
    try:
        off = int(open(pos).read().split()[1])
    except (OSError, IndexError, ValueError):
        sys.exit(1)
    if off != os.path.getsize(p):
        sys.exit(1)
PYEOF
check "every record is in the spool" wait_for 300 python3 "$D/at_end.py" "$D/spool-replay" "${files[@]}"
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
collector "$D/spool-replay" 600 >"$D/replay2.conf"
check "serve restarts with the stdout sink only" serve_start "$D/replay2.conf" "$D/replay.out" "$D/replay2.log"
check "every record comes back from the spool" wait_for 300 has_events "$D/replay.out" $total
check "serve stops" serve_stop
check "... by the replay" grep -q "replayed $total unconfirmed records" "$D/replay2.log"
bad=0
for i in "${!files[@]}"; do
    jq -c "$AS_FILE" "$D/ingest/$i" >"$D/want"
    of_file "$D/replay.out" "${files[$i]}" "$AS_FILE" >"$D/got"
    if ! cmp -s "$D/want" "$D/got"; then
        bad=$((bad + 1))
        not_ok "replay = ingest: ${files[$i]#"$TG_SRCDIR"/}"
        diff "$D/want" "$D/got" | head -4 | cut -c1-300 | sed 's/^/# /'
    fi
done
check_eq "the replay gives ingest's events for every input (event.id included)" 0 "$bad"
check_eq "replayed events are still file input" "$total" \
    "$(jq -r 'select(.trailguard.input.type == "file") | 1' "$D/replay.out" | wc -l)"
tap_done
