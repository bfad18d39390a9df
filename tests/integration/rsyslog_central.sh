#!/bin/bash
# rsyslog_central.sh - the central rsyslog snippets do what their comments
# say: the audit records (snoopy, percona-audit) go to trailguard and
# "everything else stays in the usual rules".  A private rsyslogd runs
# Debian's own /etc/rsyslog.conf (paths moved under $TG_TMP, no /dev/log
# or kernel input) with the snippet dropped into its rsyslog.d/ as an
# operator would; an sshd line and a snoopy line arrive over RELP (as from
# host-forward.conf); the sshd line must reach the default ruleset's
# auth.log, the snoopy line trailguard (over omrelp to `serve`, or through
# `omprog`).  Both configurations must also pass rsyslogd -N1.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_SRCDIR/deploy

if [ ! -x "$RSYSLOGD" ] || [ ! -r /etc/rsyslog.conf ] || [ ! -x "$RELP_LOAD" ]; then
    echo "1..0 # SKIP needs rsyslogd, /etc/rsyslog.conf and tests/bench/relp_load"
    exit 0
fi

SSHD='<38>2026-11-24T13:42:31.000001+00:00 web1 sshd[811]: Accepted publickey for alice from 203.0.113.5 port 52144 ssh2: ED25519 SHA256:tgtest'
SNOOPY='<86>2026-11-24T13:42:32.000001+00:00 web1 snoopy[812]: [login:alice ssh:(203.0.113.5 52144 10.0.0.1 22) sid:800 tty:/dev/pts/0 (1000/alice) uid:alice(1000)/root(0) cwd:/root]: /usr/bin/systemctl restart tgtest-nginx'

# central_conf DIR SNIPPET: Debian's rsyslog.conf under DIR, including DIR/rsyslog.d/*.conf,
# with SNIPPET installed there as 60-trailguard.conf (the edits an operator makes:
# the listen port and where trailguard is)
central_conf() {
    local dir=$1
    mkdir -p "$dir/rsyslog.d" "$dir/log" "$dir/work"
    sed -e '/^module(load="im\(uxsock\|klog\)")/d' -e '/:omusrmsg:/d' \
        -e "s|^\$WorkDirectory .*|\$WorkDirectory $dir/work|" \
        -e "s|^\$IncludeConfig /etc/rsyslog.d/|\$IncludeConfig $dir/rsyslog.d/|" \
        -e "s|/var/log/|$dir/log/|g" /etc/rsyslog.conf >"$dir/rsyslog.conf"
    sed -e "s|input(type=\"imrelp\" port=\"2514\"|input(type=\"imrelp\" address=\"127.0.0.1\" port=\"$IN_PORT\"|" \
        -e "s|target=\"trailguard.example.com\" port=\"2514\"|target=\"127.0.0.1\" port=\"$TG_PORT\"|" \
        -e "s|binary=\"/usr/bin/trailguard omprog -c /etc/trailguard/trailguard.conf\"|binary=\"$TG_BIN omprog -c $dir/tg.conf\"|" \
        -e "s|output=\"/var/log/trailguard/omprog.log\"|output=\"$dir/log/omprog.log\"|" \
        "$D/rsyslog/$2" >"$dir/rsyslog.d/60-trailguard.conf"
}

# run_central NAME SNIPPET: start rsyslogd on the config, send the two lines
run_central() {
    local name=$1 dir=$TG_TMP/$1
    central_conf "$dir" "$2"
    check "$name: rsyslogd -N1 accepts Debian's rsyslog.conf with the snippet included" \
        "$RSYSLOGD" -N1 -f "$dir/rsyslog.conf"
    "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" >"$dir/rsyslogd.out" 2>&1 &
    RSYSLOG_PID=$!
    _tg_pids="$_tg_pids $RSYSLOG_PID"
    check "$name: rsyslogd listens for RELP" wait_for 100 tcp_port_open "$IN_PORT"
    printf '%s\n%s\n' "$SSHD" "$SNOOPY" >"$dir/lines"
    check "$name: both lines acknowledged over RELP" "$RELP_LOAD" -p "$IN_PORT" -n 2 -q "$dir/lines"
}

# --- central-omrelp.conf: omrelp to `trailguard serve`
IN_PORT=$(free_port 20640 20649)
TG_PORT=$(free_port 20650 20659)
dir=$TG_TMP/omrelp
mkdir -p "$dir"
serve_conf "$dir/spool" "$TG_PORT" >"$dir/tg.conf"
serve_start "$dir/tg.conf" "$dir/events" "$dir/serve.log"
run_central omrelp central-omrelp.conf
check "omrelp: the snoopy line reaches trailguard" \
    wait_for 100 grep -q 'tgtest-nginx' "$dir/events"
check "omrelp: the sshd line reaches the default ruleset's auth.log" \
    wait_for 100 grep -q 'Accepted publickey for alice.*tgtest' "$dir/log/auth.log"
check "omrelp: the sshd line is not sent to trailguard" sh -c "! grep -q 'Accepted publickey' '$dir/events'"
rsyslog_stop
serve_stop

# --- central-omprog.conf: rsyslog runs `trailguard omprog`
IN_PORT=$(free_port 20660 20669)
dir=$TG_TMP/omprog
mkdir -p "$dir"
cat >"$dir/tg.conf" <<EOC
[collector]
spool_dir = $dir/spool
metrics_listen =
workers = 2
EOC
run_central omprog central-omprog.conf
check "omprog: the snoopy line reaches trailguard" \
    wait_for 100 grep -q '"command_line":"/usr/bin/systemctl restart tgtest-nginx"' "$dir/log/omprog.log"
check "omprog: the sshd line reaches the default ruleset's auth.log" \
    wait_for 100 grep -q 'Accepted publickey for alice.*tgtest' "$dir/log/auth.log"
check "omprog: the sshd line is not sent to trailguard" sh -c "! grep -q 'Accepted publickey' '$dir/log/omprog.log'"
rsyslog_stop
tap_done
