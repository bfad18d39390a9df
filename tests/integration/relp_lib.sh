# tests/integration/relp_lib.sh - helpers for the RELP/omprog integration
# tests: start and stop `trailguard serve` and a private rsyslogd (by pid),
# feed rsyslog over TCP, poll for a condition with a bounded number of tries.
# Source after tests/lib.sh.  Ports: 20600-20699 on 127.0.0.1.

RELP_LOAD=${TG_BUILDDIR:-$(dirname "$TG_BIN")}/tests/bench/relp_load
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
_tg_pids=""

# Stop everything this test started (by pid), also on failure.
relp_cleanup() {
    for p in $_tg_pids; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $_tg_pids; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$TG_TMP"
}
trap relp_cleanup EXIT

# lines_at_least FILE N
lines_at_least() { [ -f "$1" ] && [ "$(grep -c '^{' "$1")" -ge "$2" ]; }

# serve_start CONF OUT LOG: start `trailguard serve -c CONF`, stdout to OUT
# (appended), stderr to LOG; sets SERVE_PID; waits until it listens.
serve_start() {
    # the log may already hold an earlier run's "running": wait for one more
    local before
    before=$(grep -c 'serve: running' "$3" 2>/dev/null)
    "$TG_BIN" serve -c "$1" 2>>"$3" >>"$2" &
    SERVE_PID=$!
    _tg_pids="$_tg_pids $SERVE_PID"
    wait_for 100 sh -c "[ \$(grep -c 'serve: running' '$3') -gt ${before:-0} ]"
}

# serve_stop: SIGTERM, wait (bounded); returns the exit status.
serve_stop() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    local rc=0
    wait_for 300 sh -c "! kill -0 $SERVE_PID 2>/dev/null" || kill -KILL "$SERVE_PID"
    wait "$SERVE_PID" || rc=$?
    [ $rc -eq 0 ] || echo "serve exited with status $rc"
    return $rc
}

# rsyslog_start DIR CONFTEXT: run a private rsyslogd (foreground, own pid
# file and work dir); sets RSYSLOG_PID.
rsyslog_start() {
    local dir=$1
    mkdir -p "$dir"
    printf '%s\n' "$2" >"$dir/rsyslog.conf"
    "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" >"$dir/rsyslogd.out" 2>&1 &
    RSYSLOG_PID=$!
    _tg_pids="$_tg_pids $RSYSLOG_PID"
    wait_for 100 test -s "$dir/rsyslog.pid"
}

rsyslog_stop() {
    kill -TERM "$RSYSLOG_PID" 2>/dev/null
    wait_for 300 sh -c "! kill -0 $RSYSLOG_PID 2>/dev/null" || kill -KILL "$RSYSLOG_PID"
    wait "$RSYSLOG_PID" 2>/dev/null
    return 0
}

# tcp_port_open PORT: something listens on 127.0.0.1:PORT
tcp_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# feed_tcp PORT FIRST LAST [PAUSE]: send syslog lines FIRST..LAST to imtcp,
# one per LF, each a snoopy record with a unique "rec-N" command; PAUSE
# seconds after every 500 lines (default 0).
feed_tcp() {
    python3 - "$@" <<'EOF'
import socket, sys, time
port, first, last = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0
s = socket.create_connection(("127.0.0.1", port))
buf = []
for i in range(first, last + 1):
    buf.append("<86>Nov 24 13:44:13 web1 snoopy[%d]: [login:alice ssh:(10.0.0.9 5555 10.0.0.1 22) "
               "sid:100 tty:/dev/pts/0 (1000/alice) uid:alice(1000)/root(0) cwd:/root]: "
               "/bin/echo rec-%d\n" % (1000 + i % 30000, i))
    if len(buf) == 500:
        s.sendall("".join(buf).encode()); buf = []
        if pause:
            time.sleep(pause)
s.sendall("".join(buf).encode())
s.close()
EOF
}

# count_recs FILE: distinct rec-N numbers in the events of FILE(s)
count_recs() { cat "$@" | grep -o 'echo rec-[0-9]*' | sort -u | wc -l; }
# dup_ids FILE...: event ids that occur more than once
dup_ids() { cat "$@" | grep '^{' | jq -rR 'fromjson? | .event.id' | sort | uniq -d | wc -l; }

# rsyslog_fwd_conf DIR IN_PORT OUT_PORT: imtcp on IN_PORT -> omrelp to
# OUT_PORT with a disk-assisted queue (the central rsyslog of SPEC.md).
rsyslog_fwd_conf() {
    cat <<EOC
global(workDirectory="$1" maxMessageSize="64k")
module(load="imtcp")
module(load="omrelp")
input(type="imtcp" address="127.0.0.1" port="$2" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omrelp" target="127.0.0.1" port="$3" windowSize="1024" timeout="5"
         queue.type="LinkedList" queue.filename="fwdq" queue.saveOnShutdown="on"
         queue.size="100000" action.resumeRetryCount="-1" action.resumeInterval="1")
}
EOC
}

# serve_conf SPOOL PORT [EXTRA]: a minimal serve config with one RELP listener
serve_conf() {
    cat <<EOC
[collector]
spool_dir = $1
metrics_listen =
workers = 2
[input.relp]
listen = 127.0.0.1:$2
${3:-}
EOC
}
