#!/bin/bash
# file_follow.sh - issue 12: serve's [input.file] reads records as `ingest`
# does, keeps every line of a followed file once, across a crash and across
# rotation while a writer keeps appending.
#  (1) two identical snoopy lines (snoopy's file output has no time or pid)
#      are two events, with dedup on: a file record's event.id includes its
#      position, so a repeated command is not a duplicate
#  (2) after a kill -9 and a lost position file the whole file is read again:
#      the re-read records have the ids of the replayed ones and dedup drops
#      them -- every line once, both identical lines kept
#  (3) the pretty-printed audit_log_filter array gives the same 8 ok events
#      through serve as through ingest (it gave 83 unparsed ones)
#  (4) rename rotation while the writer goes on writing to the renamed file
#      until it reopens, with lines written in two pieces: no line lost,
#      doubled or split
#  (5) copytruncate while the writer appends: no line lost or doubled
# Dedup is off in (4) and (5) (dedup_window = 0), so a line read twice shows.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
S='[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/true]: /usr/bin/true'
conf() { # SPOOL PATH DEDUP: a serve config following PATH
    cat <<EOC
[collector]
spool_dir = $1
metrics_listen =
workers = 2
dedup_window = $3
[input.file]
path = $2
EOC
}
# events without what depends on how they arrived (see intake_diff.sh)
norm() { jq -c 'if ."@timestamp" == .event.ingested then del(."@timestamp") else . end
                | del(.event.ingested, .trailguard.input)' "$@"; }

# --- (1) identical lines are two events
{
    echo "$S"
    echo "$S"
    echo '[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/echo]: echo sentinel-1'
} >"$D/ident.log"
conf "$D/spool1" "$D/ident.log" 600 >"$D/c1.conf"
check "serve starts" serve_start "$D/c1.conf" "$D/out1" "$D/serve1.log"
check "the file is read" wait_for 100 grep -q sentinel-1 "$D/out1"
check "serve stops" serve_stop
check_eq "two identical lines in a followed file are two events (dedup on)" 2 \
    "$(jq -r 'select(.event.original == "'"$S"'") | .event.id' "$D/out1" | sort -u | wc -l)"
check_eq "... the same events as ingest gives" "$("$TG_BIN" ingest -q "$D/ident.log" | norm)" \
    "$(norm "$D/out1")"

# --- (2) kill -9, position lost: the re-read is deduplicated against the replay
{
    # larger than a pipe holds: the stdout sink's first write blocks,
    # whatever its batch is (serve submits partial batches every 5 ms)
    echo "[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/echo]: echo big-$(head -c 100000 /dev/zero | tr '\0' x)"
    for i in $(seq 2 300); do
        echo "[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/echo]: echo filler-$i"
    done
    echo "$S"
    echo "$S"
    echo '[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/echo]: echo sentinel-2'
} >"$D/crash.log"
conf "$D/spool2" "$D/crash.log" 600 >"$D/c2.conf"
# nobody reads the FIFO: the stdout sink's first write blocks, nothing is confirmed
mkfifo "$D/fifo"
exec 7<>"$D/fifo"
check "serve starts writing into a pipe nobody reads" serve_start "$D/c2.conf" "$D/fifo" "$D/serve2.log"
size=$(stat -c %s "$D/crash.log")
at_end() { [ "$(awk '{print $2}' "$D"/spool2/file-*.pos 2>/dev/null)" = "$size" ]; }
check "every record is spooled and the position saved" wait_for 100 at_end
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
exec 7>&-
rm -f "$D"/spool2/file-*.pos # as if the crash came before the position was saved
check "serve restarts" serve_start "$D/c2.conf" "$D/out2" "$D/serve2.log"
check "the replay and the re-read are done" wait_for 100 grep -q sentinel-2 "$D/out2"
check "serve stops" serve_stop
check_eq "after the crash every line is an event once: replayed, the re-read dropped" 303 \
    "$(grep -c '^{' "$D/out2")"
check_eq "... both identical lines among them" 2 \
    "$(jq -r 'select(.event.original == "'"$S"'") | .event.id' "$D/out2" | sort -u | wc -l)"
check_eq "... and the re-read records were the duplicates dedup dropped" 303 \
    "$(grep -o '[0-9]* duplicates dropped' "$D/serve2.log" | tail -1 | grep -o '^[0-9]*')"

# --- (3) the pretty-printed audit_log_filter array through serve
cp "$TG_SRCDIR/tests/golden/percona/003-filter-pretty-array.in" "$D/audit.json"
echo '[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/echo]: echo sentinel-3' >>"$D/audit.json"
conf "$D/spool3" "$D/audit.json" 600 >"$D/c3.conf"
check "serve starts" serve_start "$D/c3.conf" "$D/out3" "$D/serve3.log"
check "the file is read" wait_for 100 grep -q sentinel-3 "$D/out3"
check "serve stops" serve_stop
check_eq "the pretty-printed array gives 8 ok Percona events through serve" 8 \
    "$(jq -r 'select(.event.dataset == "percona.audit" and .trailguard.parse.status == "ok") | 1' "$D/out3" | wc -l)"
check_eq "... the events ingest gives from it" "$("$TG_BIN" ingest -q "$D/audit.json" | norm)" \
    "$(norm "$D/out3")"

# writer.py LOG N MODE SERVELOG: append snoopy lines rec-1..rec-N to LOG (every
# 7th in two writes), rotating twice on the way.  MODE rename: rename LOG to
# LOG.1 (LOG.1 to LOG.2 first), write on into the renamed file until serve
# has logged the rotation, 20 lines more, then reopen LOG.  MODE copytruncate:
# copy LOG to LOG.1 and truncate LOG between two lines, writing on at once.
cat >"$D/writer.py" <<'PYEOF'
import os, shutil, sys, time
log, n, mode, servelog = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
def line(i):
    rec = ("2026-11-24T13:44:13.000000+00:00 web3 snoopy[%d]: [login:bob ssh:((undefined)) "
           "sid:1 tty:(none) ((none)/(none)) uid:bob(1001)/bob(1001) cwd:/]: /bin/echo rec-%d\n"
           % (1000 + i, i)).encode()
    if i % 7 == 0:
        os.write(fd, rec[:40]); time.sleep(0.002); os.write(fd, rec[40:])
    else:
        os.write(fd, rec)
    time.sleep(0.001)
def rotations():
    try:
        return open(servelog).read().count("rotated (renamed)")
    except OSError:
        return 0
i, rotated = 1, 0
while i <= n:
    line(i); i += 1
    if i - 1 in (n // 3, 2 * n // 3):
        rotated += 1
        if mode == "rename":
            if os.path.exists(log + ".1"):
                os.rename(log + ".1", log + ".2")
            os.rename(log, log + ".1")
            deadline = time.time() + 30
            while rotations() < rotated and time.time() < deadline and i <= n:
                line(i); i += 1
            for _ in range(20):
                if i <= n:
                    line(i); i += 1
            os.close(fd)
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        else:
            shutil.copyfile(log, log + ".1")
            os.truncate(log, 0)
os.close(fd)
PYEOF
N=1500
rotate_case() { # MODE
    local mode=$1 dir=$D/$1
    mkdir -p "$dir"
    conf "$dir/spool" "$dir/app.log" 0 >"$dir/c.conf"
    : >"$dir/app.log"
    serve_start "$dir/c.conf" "$dir/out" "$dir/serve.log" || not_ok "$mode: serve starts"
    python3 "$D/writer.py" "$dir/app.log" $N "$mode" "$dir/serve.log"
    have_all() { [ "$(count_recs "$dir/out")" -ge $N ]; }
    wait_for 300 have_all
    serve_stop
    check_eq "$mode while writing: every line arrived" $N "$(count_recs "$dir/out")"
    check_eq "$mode while writing: no line read twice" $N "$(grep -c '^{' "$dir/out")"
    check_eq "$mode while writing: no line split (every event a whole snoopy record)" $N \
        "$(jq -r 'select(.event.dataset == "snoopy" and .trailguard.parse.status == "ok"
                         and (.process.command_line | test("^/bin/echo rec-[0-9]+$"))) | 1' \
            "$dir/out" | wc -l)"
    diag "$mode: $(grep -E 'rotated|truncated|done with' "$dir/serve.log" | sed 's/.*\] //' | paste -sd';')"
}
rotate_case rename
rotate_case copytruncate
tap_done
