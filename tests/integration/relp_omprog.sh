#!/bin/bash
# relp_omprog.sh - issue 6 test (5): a real rsyslogd runs `trailguard
# omprog` as its omprog action (confirmMessages="on", without and with
# useTransactions): N records in, N events out; the child is killed (-9)
# mid-stream, rsyslog restarts it and resends what was not confirmed, and
# nothing is lost (the restarted child replays its spool, dedup drops the
# resends).  Events go to stderr (stdout carries the protocol), which
# omprog's output= file captures.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
N=6000
D=$TG_TMP

# omprog_child RSYSLOG_PID: the pid of its trailguard omprog child, or nothing
omprog_child() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        if grep -q omprog /proc/"$c"/cmdline 2>/dev/null; then echo "$c"; return 0; fi
    done
    return 1
}

run_mode() {
    local mode=$1 txn=$2 port=$3 dir=$D/$1
    mkdir -p "$dir"
    cat >"$dir/tg.conf" <<EOC
[collector]
spool_dir = $dir/spool
metrics_listen =
workers = 2
EOC
    rsyslog_start "$dir/rs" "$(cat <<EOC
global(workDirectory="$dir/rs" maxMessageSize="64k")
module(load="imtcp")
module(load="omprog")
template(name="tgfwd" type="string"
         string="<%PRI%>%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg%\n")
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omprog" binary="$TG_BIN omprog -c $dir/tg.conf" template="tgfwd"
         confirmMessages="on" useTransactions="$txn" forceSingleInstance="on"
         confirmTimeout="30000" output="$dir/events"
         queue.type="LinkedList" queue.filename="omq" queue.saveOnShutdown="on"
         queue.dequeueBatchSize="256" action.resumeRetryCount="-1" action.resumeInterval="1")
}
EOC
)"
    check "$mode: rsyslog imtcp is up" wait_for 100 tcp_port_open "$port"
    # the first half, paced, with the kill in the middle of it; the second
    # half after it, so rsyslog must restart the child whatever the timing
    feed_tcp "$port" 1 $((N / 2)) 0.1 &
    local feed=$!
    _tg_pids="$_tg_pids $feed"
    check "$mode: first events arrive" wait_for 300 lines_at_least "$dir/events" $((N / 8))
    local child
    child=$(omprog_child "$RSYSLOG_PID")
    kill -KILL "$child"
    diag "$mode: killed the omprog child $child after $(grep -c '^{' "$dir/events") events"
    wait "$feed"
    feed_tcp "$port" $((N / 2 + 1)) $N
    check "$mode: rsyslog restarts the child" wait_for 100 sh -c "c=\$(cat /proc/$RSYSLOG_PID/task/*/children); [ -n \"\$c\" ] && ! echo \"\$c\" | grep -qw $child"
    if wait_for 600 sh -c "[ \$(grep -o 'echo rec-[0-9]*' '$dir/events' | sort -u | wc -l) -ge $N ]"; then
        ok "$mode: all $N records arrived"
    else
        not_ok "$mode: all $N records arrived (got $(count_recs "$dir/events"))"
    fi
    rsyslog_stop
    check "$mode: the child drained and exited at EOF" grep -q 'omprog: stopped:' "$dir/events"
    check_eq "$mode: every record present" $N "$(count_recs "$dir/events")"
    local uniq
    uniq=$(grep '^{' "$dir/events" | jq -rR 'fromjson? | select(.event.original | test("rec-")) | .event.id' | sort -u | wc -l)
    check_eq "$mode: exactly once after dedup by event.id" $N "$uniq"
    # whole JSON lines only: the kill -9 can leave one torn line behind
    check_eq "$mode: events are omprog input" \
        "$(grep '^{' "$dir/events" | jq -R 'fromjson? | objects | 1' | wc -l)" \
        "$(grep '^{' "$dir/events" | jq -R 'fromjson? | select(.trailguard.input.type == "omprog") | 1' | wc -l)"
    diag "$mode: $(grep -o 'replayed [0-9]* unconfirmed' "$dir/events" | head -1)" \
        "$(grep -o 'omprog: end of input: .*' "$dir/events" | tail -1)"
}

# The protocol itself, line by line: replies in order, SIGTERM drains.
mkdir -p "$D/proto"
printf '[collector]\nspool_dir = %s\nmetrics_listen =\n' "$D/proto/spool" >"$D/proto/tg.conf"
python3 - "$TG_BIN" "$D/proto/tg.conf" >"$D/proto/out" 2>"$D/proto/err" <<'PYEOF'
import signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "omprog", "-c", sys.argv[2]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=open(sys.argv[2] + ".events", "wb"))
def say(line):
    p.stdin.write(line + b"\n"); p.stdin.flush()
    return p.stdout.readline().strip().decode()
got = [p.stdout.readline().strip().decode()]
got.append(say(b"<86>Nov 24 13:44:13 h1 snoopy[1]: proto-one"))
got.append(say(b""))
got.append(say(b"BEGIN TRANSACTION"))
got.append(say(b"<86>Nov 24 13:44:13 h1 snoopy[2]: proto-two"))
got.append(say(b"<86>Nov 24 13:44:13 h1 snoopy[3]: proto-three"))
got.append(say(b"COMMIT TRANSACTION"))
p.send_signal(signal.SIGTERM)
rc = p.wait(timeout=30)
print(" ".join(got), "rc=%d" % rc)
PYEOF
check_eq "omprog replies: ready, per message, empty line, transaction" \
    "OK OK OK OK DEFER_COMMIT DEFER_COMMIT OK rc=0" "$(cat "$D/proto/out")"
check_eq "omprog: the three messages are events (on stderr)" 3 \
    "$(grep -c '^{.*proto-' "$D/proto/tg.conf.events")"
check "omprog: SIGTERM drains and says so" grep -q 'stopped by a signal: 3 messages stored (1 transactions)' "$D/proto/tg.conf.events"

run_mode per-message off 20640
run_mode transactions on 20641
tap_done
