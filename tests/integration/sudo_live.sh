#!/bin/bash
# sudo_live.sh - "did the host's sudo agree?" (issue 15, part 2), with the
# real sudo.  A host: the real sudo, with a private sudoers (its local
# policy) inside a private mount namespace whose /dev/log is the socket of
# a private rsyslogd (imuxsock on a socket of its own) that runs
# deploy/rsyslog/host-forward.conf, forwarding over RELP to `trailguard
# serve`.  The central policy (trailguard's snapshot) differs from the
# host's on purpose.  Checked: every attempt sudo logs arrives as a `sudo`
# event whose argv and decision (trailguard.sudo.decision) are the real
# sudo's (its exit status, and the oracle sudo_oracle.sh on the host's
# sudoers); trailguard's own verdict equals the oracle on the central
# sudoers; where the two policies differ the event carries
# trailguard.policy.drift with both decisions, and /metrics counts it.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
ORACLE=$TG_SHARED/oracles/sudo_oracle.sh
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "1..0 # SKIP needs root for a private mount namespace (unshare -m)"
    exit 0
fi
if ! command -v sudo >/dev/null || ! command -v setpriv >/dev/null || [ ! -x "$RSYSLOGD" ] ||
    [ ! -x "$ORACLE" ] || ! command -v cvtsudoers >/dev/null; then
    echo "1..0 # SKIP needs sudo (with cvtsudoers), setpriv, rsyslogd and $ORACLE"
    exit 0
fi
D=$TG_TMP
W=$D/host # the host's namespace: its /etc and /dev
mkdir -p "$W/dev" "$D/rsyslog" "$D/central"
HOSTNAME_=web1.example.com

# --- the host's local sudoers, and the central policy
cat >"$D/local.sudoers" <<'EOS'
Defaults syslog=authpriv
Defaults !authenticate
Defaults !use_pty
Defaults !pam_session
Defaults log_exit_status
alice ALL = (root) /usr/bin/ls, /usr/bin/id, /usr/bin/printf, !/usr/bin/cat /etc/shadow
alice ALL = (postgres) /usr/bin/true
EOS
cat >"$D/central.sudoers" <<'EOS'
alice ALL = (root) /usr/bin/ls, /usr/bin/uptime
alice ALL = (postgres) /usr/bin/true
EOS
visudo -c -q -f "$D/local.sudoers" && visudo -c -q -f "$D/central.sudoers" || {
    echo "1..0 # SKIP visudo rejects the test sudoers"
    exit 0
}
cvtsudoers -f json -o "$D/central/sudoers.json" "$D/central.sudoers" 2>/dev/null
printf 'alice:x:1001:1001:Alice:/home/alice:/bin/sh\npostgres:x:1002:1002::/var/lib/postgresql:/bin/sh\n' >"$D/accounts"
cp "$D/accounts" "$D/central/passwd"

# the host's /etc: a copy with the local sudoers and the test accounts
cp -a /etc "$W/etc"
install -o root -g root -m 0440 "$D/local.sudoers" "$W/etc/sudoers"
rm -rf "$W/etc/sudoers.d"
cat "$D/accounts" >>"$W/etc/passwd"
printf 'alice:x:1001:\npostgres:x:1002:\n' >>"$W/etc/group"
printf 'alice:*:19000:0:99999:7:::\npostgres:*:19000:0:99999:7:::\n' >>"$W/etc/shadow"

# --- trailguard serve: RELP in, events to a file, metrics
PORT=$(free_port 20700 20719)
MPORT=$(free_port 20720 20739)
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen = 127.0.0.1:$MPORT
workers = 2
[input.relp]
listen = 127.0.0.1:$PORT
[policy]
snapshot_dir = $D/central
EOC
check "serve starts" serve_start "$D/tg.conf" "$D/events" "$D/serve.log"

# --- the host's rsyslog: /dev/log of the namespace -> host-forward.conf -> RELP
sed -e "s|target=\"central-syslog.example.com\" port=\"2514\"|target=\"127.0.0.1\" port=\"$PORT\"|" \
    "$TG_SRCDIR/deploy/rsyslog/host-forward.conf" >"$D/rsyslog/forward.conf"
check "the snippet's target was rewritten" grep -q "port=\"$PORT\"" "$D/rsyslog/forward.conf"
cat >"$D/rsyslog/main.conf" <<EOC
global(workDirectory="$D/rsyslog" localHostname="$HOSTNAME_")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$W/log.sock")
include(file="$D/rsyslog/forward.conf")
EOC
check "rsyslogd -N1 accepts the host's config" "$RSYSLOGD" -N1 -f "$D/rsyslog/main.conf"
rsyslog_start "$D/rsyslog" "$(cat "$D/rsyslog/main.conf")"
check "rsyslogd listens on the namespace's /dev/log" wait_for 100 test -S "$W/log.sock"

# --- the attempts, as alice, through the real sudo
cases=(
    "/usr/bin/ls /"
    "/usr/bin/cat /etc/shadow"
    "/usr/bin/id -u"
    "/usr/bin/uptime"
    "-u postgres /usr/bin/true"
    "-u nobody /usr/bin/ls"
)
# run_host: each case of $D/cases ("ARGS" per line; the last one by hand:
# arguments with a space and a quote) as alice; prints "rc<TAB>case"
run_host() {
    unshare -m --propagation private sh -eu -c '
        W=$1; D=$2
        mount --bind "$W/etc" /etc
        for n in null zero tty urandom random full; do
            touch "$W/dev/$n"; mount --bind "/dev/$n" "$W/dev/$n"
        done
        ln -sf "$W/log.sock" "$W/dev/log"
        mount --rbind "$W/dev" /dev
        cd /tmp
        while IFS= read -r c; do
            set +e
            # shellcheck disable=SC2086
            setpriv --reuid=1001 --regid=1001 --clear-groups sudo -n $c >/dev/null 2>&1
            printf "%s\t%s\n" "$?" "$c"
            set -e
        done <"$D/cases"
        set +e
        setpriv --reuid=1001 --regid=1001 --clear-groups sudo -n /usr/bin/printf "%s|" "a b" "it'"'"'s" >/dev/null 2>&1
        printf "%s\t%s\n" "$?" "printf"
    ' sh "$W" "$D"
}
printf '%s\n' "${cases[@]}" >"$D/cases"
run_host >"$D/rc.tsv" 2>"$D/run.err"
check_eq "sudo ran every case" 7 "$(wc -l <"$D/rc.tsv")"
# the real sudo's verdicts: its exit status, and sudo -l on the same sudoers
sed 's/^/-U alice /' "$D/cases" >"$D/oracle.cases"
"$ORACLE" -s "$D/local.sudoers" -p "$D/accounts" <"$D/oracle.cases" >"$D/oracle.local" 2>"$D/oracle.err"
"$ORACLE" -s "$D/central.sudoers" -p "$D/accounts" <"$D/oracle.cases" >"$D/oracle.central" 2>>"$D/oracle.err"
check_eq "the oracle answers every case" "6 6" "$(wc -l <"$D/oracle.local") $(wc -l <"$D/oracle.central")"

# accept + exit for each command sudo ran, reject for the others: 5 + 5 + 2
ran=$(awk -F'\t' '$1 == 0' "$D/rc.tsv" | wc -l)
check "every attempt reaches trailguard as a sudo event" wait_for 200 sh -c \
    "[ \$(grep -c '\"dataset\":\"sudo\"' '$D/events') -ge $((7 + ran)) ]"
ev() { # ARGV_JSON ACTION: the event of that argv and action
    jq -c --argjson a "$1" --arg x "$2" 'select(.event.dataset == "sudo" and .process.args == $a
        and .event.action == $x)' "$D/events"
}
argv_json() { # CASE: the argv sudo runs, as JSON (without -u USER)
    echo "$1" | sed 's/^-u [a-z]* //' | jq -Rc 'split(" ")'
}
i=0
while IFS=$'\t' read -r rc c; do
    [ "$c" = printf ] && continue
    i=$((i + 1))
    a=$(argv_json "$c")
    local_v=$(sed -n "${i}p" "$D/oracle.local" | awk -F'\t' '{print $2}' | cut -d' ' -f1)
    central_v=$(sed -n "${i}p" "$D/oracle.central" | awk -F'\t' '{print $2}' | cut -d' ' -f1)
    want_action=$([ "$rc" = 0 ] && echo accept || echo reject)
    e=$(ev "$a" "$want_action")
    check_eq "sudo $c: the real sudo said $local_v (exit $rc): one $want_action event" 1 \
        "$(printf '%s' "$e" | grep -c .)"
    host=$(printf '%s' "$e" | jq -r '.trailguard.sudo.decision')
    pol=$(printf '%s' "$e" | jq -r '.trailguard.policy.decision')
    check_eq "sudo $c: host decision = the oracle on the host's sudoers" \
        "$(echo "$local_v" | tr 'A-Z' 'a-z')" "$host"
    check_eq "sudo $c: trailguard's verdict = the oracle on the central sudoers" \
        "$(echo "$central_v" | tr 'A-Z' 'a-z')" "$pol"
    if [ "$host" = "$pol" ]; then
        check_eq "sudo $c: no drift" null "$(printf '%s' "$e" | jq -c '.trailguard.policy.drift')"
    else
        check_eq "sudo $c: drift, with both decisions" "{\"host\":\"$host\",\"policy\":\"$pol\"}" \
            "$(printf '%s' "$e" | jq -c '.trailguard.policy.drift')"
    fi
done <"$D/rc.tsv"
e=$(ev '["/usr/bin/printf","%s|","a b","it'"'"'s"]' accept)
check "arguments with a space and a quote are read back as sudo's argv" test -n "$e"
check_eq "... the line as sudo logged it" "\"/usr/bin/printf %s| 'a b' it\\\\'s\"" \
    "$(printf '%s' "$e" | jq -c '.process.command_line')"
check_eq "... a command only the host allows: drift host allow / policy deny" \
    '{"host":"allow","policy":"deny"}' "$(printf '%s' "$e" | jq -c '.trailguard.policy.drift')"
x=$(ev '["/usr/bin/ls","/"]' exit)
check_eq "log_exit_status: the exit line, with the exit code" '"exit" 0 "end"' \
    "$(printf '%s' "$x" | jq -r '[.event.action, .process.exit_code, .event.type[0]] | map(tojson) | join(" ")')"
check_eq "user, runas user, host name and facility from the real line" \
    '"alice" "postgres" "web1.example.com" 10' \
    "$(ev '["/usr/bin/true"]' accept | jq -r '[.user.name, .user.effective.name, .host.name, .log.syslog.facility.code] | map(tojson) | join(" ")')"

# /metrics: drift counted per event (host_allowed: id and printf, their
# accept and exit lines; host_denied: uptime)
if command -v curl >/dev/null; then
    curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$D/metrics"
    check_eq "metrics: drift by kind" "4 1" \
        "$(awk '$1 == "trailguard_policy_drift_total{kind=\"host_allowed\"}" {a=$2}
            $1 == "trailguard_policy_drift_total{kind=\"host_denied\"}" {d=$2} END {print a, d}' "$D/metrics")"
    check_eq "metrics: the sudo events parsed" $((7 + ran)) \
        "$(awk '$1 == "trailguard_events_parsed_total{dataset=\"sudo\"}" {print $2}' "$D/metrics")"
else
    skip "curl not installed: drift counts not scraped"
fi
rsyslog_stop
check "serve stops" serve_stop
tap_done
