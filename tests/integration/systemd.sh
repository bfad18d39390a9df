#!/bin/bash
# systemd.sh - what systemd sees of `serve`: sd_notify over a fake
# NOTIFY_SOCKET (a python3 unix datagram socket that, when READY=1 arrives,
# connects to the RELP port at once and records whether it accepted), with
# STATUS= lines, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM and WATCHDOG=1
# when WATCHDOG_USEC is set; log lines with <N> syslog priorities when stderr
# is the journal stream (JOURNAL_STREAM names it), plain ones otherwise; and
# --version with the build features.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
RPORT=$(free_port 20720 20729)

"$TG_BIN" --version >"$D/version.txt"
check "--version: the version first" grep -qx "trailguard $(sed -n 's/^AC_INIT(\[trailguard\], \[\([^]]*\)\].*/\1/p' "$TG_SRCDIR/configure.ac")" \
    <(head -1 "$D/version.txt")
check "--version: the build features (TLS, libsystemd, sanitizers)" \
    grep -q '^features: TLS (RELP) [a-z].*, libsystemd (sd_notify) .*, sanitizers ' "$D/version.txt"
check "--version: the linked library versions" grep -Eq \
    '^linked: +librelp [0-9.]+, librdkafka [0-9.]+, json-c [0-9.]+, zlib [0-9.]+, OpenSSL [0-9.]+' \
    "$D/version.txt"
sed 's/^/# /' "$D/version.txt"

if ! grep -q 'libsystemd (sd_notify) [0-9]' "$D/version.txt"; then
    skip "built without libsystemd: no sd_notify"
    tap_done
    exit
fi
# the fake systemd: records every datagram; on READY=1, tries the RELP port
python3 - "$D/notify.sock" "$RPORT" "$D/notify.log" <<'EOF' &
import socket, sys
path, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "w", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        for line in msg.split("\n"):
            out.write(line + "\n")
        if "READY=1" in msg.split("\n"):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                out.write("relp-accepts-at-ready=yes\n")
            except OSError as e:
                out.write("relp-accepts-at-ready=no (%s)\n" % e)
EOF
_tg_pids="$_tg_pids $!"
wait_for 100 test -S "$D/notify.sock"
serve_conf "$D/spool" "$RPORT" >"$D/tg.conf"
NOTIFY_SOCKET=$D/notify.sock WATCHDOG_USEC=200000 "$TG_BIN" serve -c "$D/tg.conf" >"$D/out" 2>"$D/serve.log" &
SERVE_PID=$!
_tg_pids="$_tg_pids $SERVE_PID"
check "READY=1 arrives" wait_for 100 grep -qx 'READY=1' "$D/notify.log"
check "... only once the RELP port accepts connections" wait_for 100 grep -qx 'relp-accepts-at-ready=yes' "$D/notify.log"
check "... with a STATUS= line saying what runs" grep -q '^STATUS=running: 1 RELP listener, 0 followed files' "$D/notify.log"
check "STATUS= lines during start-up" grep -q '^STATUS=starting: replaying the spool' "$D/notify.log"
watchdogs() { [ "$(grep -c '^WATCHDOG=1$' "$D/notify.log")" -ge 3 ]; }
check "WATCHDOG=1 keep-alives (WATCHDOG_USEC set)" wait_for 100 watchdogs
kill -HUP "$SERVE_PID"
reloaded() { grep -qx 'RELOADING=1' "$D/notify.log" && [ "$(grep -cx 'READY=1' "$D/notify.log")" -ge 2 ]; }
check "SIGHUP: RELOADING=1, then READY=1 again" wait_for 100 reloaded
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
check_eq "SIGTERM: exit 0" 0 $?
check "... after STOPPING=1" grep -qx 'STOPPING=1' "$D/notify.log"

# no NOTIFY_SOCKET, no WATCHDOG_USEC: nothing is sent (and nothing breaks)
serve_start "$D/tg.conf" "$D/out" "$D/plain.log"
check "without NOTIFY_SOCKET serve runs as before" kill -0 "$SERVE_PID"
check "... and logs plain lines (time, pid, level)" grep -Eq \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z trailguard\[[0-9]+\]: info: serve: running' "$D/plain.log"
serve_stop

# --- the journal: JOURNAL_STREAM names stderr
: >"$D/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$D/journal.log") "$TG_BIN" serve -c "$D/tg.conf" \
    >"$D/out" 2>>"$D/journal.log" &
SERVE_PID=$!
_tg_pids="$_tg_pids $SERVE_PID"
check "stderr is the journal: info lines start with <6>" wait_for 100 grep -q '^<6>info: serve: running' "$D/journal.log"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
printf '[collector]\nworkers = many\n' >"$D/bad.conf"
JOURNAL_STREAM=$(stat -c '%d:%i' "$D/journal.log") "$TG_BIN" serve -c "$D/bad.conf" 2>>"$D/journal.log"
check "... a configuration error starts with <3> (journalctl -p err shows it)" \
    grep -q "^<3>$D/bad.conf:2: \[collector\] workers: invalid value" "$D/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$D/journal.log") "$TG_BIN" check -c "$D/bad.conf" 2>>"$D/journal.log"
check "... and so does a problem trailguard check finds" grep -q "^<3>$D/bad.conf: 1 problem found" "$D/journal.log"
check "... no line without a priority" sh -c "! grep -v '^<[0-7]>' '$D/journal.log'"
: >"$D/other.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$D/journal.log") "$TG_BIN" serve -c "$D/bad.conf" 2>"$D/other.log"
check "stderr redirected elsewhere (JOURNAL_STREAM names another file): no prefix" \
    grep -q "^$D/bad.conf:2: " "$D/other.log"
tap_done
