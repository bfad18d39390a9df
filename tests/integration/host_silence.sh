#!/bin/bash
# host_silence.sh - "did a host stop talking?" (issue 15, part 3).  `serve`
# with a short [collector] silence_seconds: a host that sent a record and
# then stops is reported (trailguard.health host_silent), and again when it
# resumes (host_resumed); /metrics has trailguard_host_last_seen_seconds
# and trailguard_host_silent per host; a host known before a restart that
# stays quiet after it is reported too.  Every wait is on the report itself.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
L=$D/in.log
MPORT=$(free_port 20740 20759)
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen = 127.0.0.1:$MPORT
workers = 2
silence_seconds = 2
[input.file]
path = $L
EOC
rec() { # HOST N: a snoopy record from HOST
    printf '%s %s snoopy[%d]: [login:bob ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) uid:bob(1001)/bob(1001) cwd:/]: /bin/echo %s-%d\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.000000+00:00)" "$1" $((100 + $2)) "$1" "$2"
}
metrics() { curl -fsS "http://127.0.0.1:$MPORT/metrics" 2>/dev/null; }
metric() { metrics | awk -v k="$1" '$1 == k { print $2 }'; }
has_metric() { [ "$(metric "$1")" = "$2" ]; }
logged() { grep -c "$2" "$1" 2>/dev/null; }
logged_n() { [ "$(logged "$1" "$2")" -ge "$3" ]; }
# health FILE ACTION: the trailguard.health events of ACTION about web1 in FILE
health() {
    grep '^{' "$1" | jq -c --arg a "$2" 'select(.event.dataset == "trailguard.health" and
        .event.action == $a and .trailguard.health.host == "web1")'
}
health_n() { [ "$(health "$1" "$2" | grep -c .)" -ge "$3" ]; }
if ! command -v curl >/dev/null; then
    echo "1..0 # SKIP curl is not installed"
    exit 0
fi
SILENT='trailguard.health: host_silent: host web1 has sent nothing for'
RESUMED='trailguard.health: host_resumed: host web1 is sending again after'

: >"$L"
check "serve starts" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
rec web1 1 >>"$L"
check "web1's record arrives" wait_for 100 grep -q 'web1-1' "$D/out"
check "/metrics: web1's last-seen time" wait_for 50 sh -c \
    "curl -fsS http://127.0.0.1:$MPORT/metrics | grep -q '^trailguard_host_last_seen_seconds{host=\"web1\"} [0-9]'"
t=$(metric 'trailguard_host_last_seen_seconds{host="web1"}')
now=$(date +%s)
check "... a unix time of now ($t)" awk -v t="$t" -v n="$now" 'BEGIN { exit !(t > n - 60 && t <= n + 1) }'
check "web1 goes silent: a trailguard.health host_silent event reaches the sink" \
    wait_for 100 health_n "$D/out" host_silent 1
e=$(health "$D/out" host_silent | head -1)
check_eq "... with the host, its last record and how long it has been quiet" \
    '"silent" "string" true 2 "internal"' \
    "$(echo "$e" | jq -r '[.trailguard.health.state, (.trailguard.health.last_seen | type),
        (.trailguard.health.quiet_seconds >= 2), .trailguard.health.silence_seconds,
        .trailguard.input.type] | map(tojson) | join(" ")')"
check "... and a sentence" sh -c "echo '$e' | jq -r .message | grep -q '^host web1 has sent nothing for'"
check "... logged too" grep -q "$SILENT" "$D/serve.log"
check "... once" test "$(health "$D/out" host_silent | grep -c .)" -eq 1
check "/metrics: web1 silent" wait_for 50 has_metric 'trailguard_host_silent{host="web1"}' 1
rec web1 2 >>"$L"
check "web1 resumes: a host_resumed event" wait_for 100 health_n "$D/out" host_resumed 1
check "... logged too" grep -q "$RESUMED" "$D/serve.log"
check "/metrics: web1 no longer silent" wait_for 50 has_metric 'trailguard_host_silent{host="web1"}' 0
check "... and silent again after its last record" wait_for 100 health_n "$D/out" host_silent 2
check "serve stops" serve_stop
check "the last-seen times are kept in the spool directory" grep -q '^web1	[0-9]*$' "$D/spool/hosts.last_seen"

# a restart: web1 is known, sends nothing, and is reported again
: >"$D/serve2.log"
check "serve starts again" serve_start "$D/tg.conf" "$D/out" "$D/serve2.log"
check "/metrics: web1 known from before the restart" wait_for 50 sh -c \
    "curl -fsS http://127.0.0.1:$MPORT/metrics | grep -q '^trailguard_host_last_seen_seconds{host=\"web1\"} [0-9]'"
check "web1 quiet after the restart: reported" wait_for 100 health_n "$D/out" host_silent 3
check "serve stops" serve_stop
tap_done
