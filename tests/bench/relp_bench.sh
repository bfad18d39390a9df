#!/bin/bash
# relp_bench.sh - RELP ingest throughput, in one run on the same feed (the
# Percona + snoopy mix of ../shared/samples), for:
#   noop        a librelp receiver whose callback only counts (the floor)
#   rsyslog     rsyslog imrelp -> omfile
#   trailguard  `trailguard serve`: spool (fsync = interval), parsing, policy
#               (the deploy/policy-example snapshot), the file sink
# Each rate is N messages / the time from the first send to the last
# message being out (all acknowledged for noop; N lines in the output file
# for rsyslog; N events confirmed by the file sink for trailguard, read from
# its /metrics).  The receivers take turns for ROUNDS rounds (the machine is
# shared and noisy); the script prints each round, then the median rate,
# the ratios of the medians, the receiver's CPU time per message (user +
# system of its process; the load generator's too) and peak RSS.  On a
# machine where the generator and the receiver share the cores, CPU per
# message is what decides the rate.  Not part of `make check`.
#
#   tests/bench/relp_bench.sh [-n MESSAGES] [-r ROUNDS] [-s SESSIONS] [-w WINDOW] [-z LEVEL] [-b BUILDDIR]
# -z: the file sink's compression_level (default 6, the default of [sink.file]).
# Ports 20690-20693 on 127.0.0.1.  Needs rsyslog and rsyslog-relp.
set -u
N=200000
ROUNDS=3
SESSIONS=4
WINDOW=1024
LEVEL=6
B=$(pwd)
while getopts n:r:s:w:z:b: o; do
    case $o in
    n) N=$OPTARG ;; r) ROUNDS=$OPTARG ;; s) SESSIONS=$OPTARG ;; w) WINDOW=$OPTARG ;; z) LEVEL=$OPTARG ;; b) B=$OPTARG ;;
    *) echo "usage: $0 [-n MESSAGES] [-r ROUNDS] [-s SESSIONS] [-w WINDOW] [-z LEVEL] [-b BUILDDIR]" >&2; exit 2 ;;
    esac
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${TG_SHARED:-$SRC/../shared}
S=$SHARED/samples
FEED="$S/snoopy-2.5.1-default.log $S/snoopy-2.5.1-rich.log $S/percona-audit.json $S/percona-audit-derived-from-mtr.json"
LOAD=$B/tests/bench/relp_load
NOOP=$B/tests/bench/relp_noop
TG=$B/trailguard
for f in "$LOAD" "$NOOP" "$TG"; do
    [ -x "$f" ] || { echo "relp_bench: $f not built (make check builds the helpers; -b BUILDDIR)" >&2; exit 2; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-bench.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

now() { date +%s.%N; }
# peak RSS (VmHWM, kB) of a running pid
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# wait_lines FILE N: block until FILE has N lines (bounded: 30 min)
wait_lines() {
    python3 - "$1" "$2" <<'EOF'
import os, sys, time
path, want = sys.argv[1], int(sys.argv[2]); n = 0; f = None
deadline = time.time() + 1800
while n < want and time.time() < deadline:
    if f is None and os.path.exists(path):
        f = open(path, "rb")
    b = f.read(1 << 20) if f else b""
    if b:
        n += b.count(b"\n")
    else:
        time.sleep(0.02)
sys.exit(0 if n >= want else 1)
EOF
}
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
rate() { awk -v n="$N" -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", n / (b - a) }'; }
# CPU seconds (user + system) a running pid has used
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# send PORT NAME: run the load generator; sets LOAD_CPU (its CPU seconds)
send() {
    /usr/bin/time -f "%U %S" -o "$T/load.time" "$LOAD" -q -p "$1" -s "$SESSIONS" -w "$WINDOW" \
        -n "$N" $FEED || echo "$2: sender failed" >&2
    LOAD_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$T/load.time")
}
# busiest PID: "NAME US" for the thread (by name, threads of one name
# summed) with the most CPU per message so far: on a machine with a core
# for each thread, that thread bounds the rate at 1e6 / US messages/s
busiest() {
    for t in /proc/"$1"/task/*; do
        printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" "$(awk '{ print $14 + $15 }' "$t/stat")"
    done | awk -v hz="$(getconf CLK_TCK)" -v n="$N" '{ c[$1] += $2 }
        END { for (k in c) if (c[k] > m) { m = c[k]; b = k }; printf "%s %.2f", b, m / hz * 1e6 / n }'
}
# measure PID PORT NAME CMD...: send the feed to PORT, run CMD (it waits
# until everything is out and prints how much), then take the receiver's
# figures and stop it: sets RATE, CPU, RSS, BUSIEST and OUT
measure() {
    local pid=$1 port=$2 name=$3 t0 t1 c0
    shift 3
    c0=$(cpu "$pid")
    t0=$(now)
    send "$port" "$name"
    OUT=$("$@")
    t1=$(now)
    CPU=$(echo "$(cpu "$pid") - $c0" | bc)
    RSS=$(hwm "$pid")
    BUSIEST=$(busiest "$pid")
    kill -TERM "$pid"
    wait "$pid"
    RATE=$(rate "$t0" "$t1")
}
# Each run_* sets RATE, CPU (the receiver's CPU seconds), RSS (kB), OUT and
# (rsyslog, trailguard) BUSIEST.

run_noop() {
    /usr/bin/time -f "%U %S" -o "$T/noop.time" "$NOOP" -p 20690 -n "$N" >"$T/noop.out" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    for _ in $(seq 100); do grep -q ready "$T/noop.out" && break; sleep 0.1; done
    local t0 t1
    t0=$(now)
    send 20690 noop
    t1=$(now)
    wait "$pid"
    RATE=$(rate "$t0" "$t1")
    CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$T/noop.time")
    RSS=$(awk '/peak_rss_kb/ {print $2}' "$T/noop.out")
    OUT="$(awk '/received/ {print $2}' "$T/noop.out") acked"
}

run_rsyslog() {
    rm -rf "$T/rs"
    mkdir -p "$T/rs"
    cat >"$T/rs/rsyslog.conf" <<EOF
global(workDirectory="$T/rs" maxMessageSize="64k")
module(load="imrelp")
input(type="imrelp" address="127.0.0.1" port="20691" maxDataSize="64k" ruleset="r")
ruleset(name="r") { action(type="omfile" file="$T/rs/out.log") }
EOF
    /usr/sbin/rsyslogd -n -f "$T/rs/rsyslog.conf" -i "$T/rs/rsyslog.pid" >"$T/rs/stderr" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    wait_port 20691 || { echo "rsyslog did not start:"; cat "$T/rs/stderr"; exit 3; }
    measure "$pid" 20691 rsyslog rsyslog_out
}
rsyslog_out() {
    wait_lines "$T/rs/out.log" "$N" || echo "rsyslog: not all lines arrived" >&2
    wc -l <"$T/rs/out.log"
}

# delivered N: block until the file sink confirmed N events; print the count
delivered() {
    python3 - "$1" <<'EOP'
import re, sys, time, urllib.request
want = int(sys.argv[1]); deadline = time.time() + 1800; n = 0
while time.time() < deadline:
    body = urllib.request.urlopen("http://127.0.0.1:20693/metrics").read().decode()
    m = re.search(r'trailguard_sink_delivered_total\{sink="file"\} (\d+)', body)
    n = int(m.group(1)) if m else 0
    if n >= want: break
    time.sleep(0.02)
print(n)
EOP
}

run_trailguard() {
    rm -rf "$T/tg"
    cat >"$T/tg.conf" <<EOF
[collector]
spool_dir = $T/tg/spool
metrics_listen = 127.0.0.1:20693
fsync = interval
[input.relp]
listen = 127.0.0.1:20692
[policy]
snapshot_dir = $SRC/deploy/policy-example
[sink.file]
dir = $T/tg/events
compression_level = $LEVEL
EOF
    "$TG" serve -c "$T/tg.conf" >"$T/tg.out" 2>"$T/tg.log" &
    local pid=$!
    PIDS="$PIDS $pid"
    wait_port 20692 || { echo "trailguard did not start:"; cat "$T/tg.log"; exit 3; }
    measure "$pid" 20692 trailguard delivered "$N"
    local unique
    unique=$("$TG" query "$T/tg/events" --format ndjson --limit 100000000 |
        grep -o '"event":{"id":"[0-9a-f]*"' | sort -u | wc -l)
    LOST=$((LOST + N - unique))
    SUMMARY=$(grep 'stopped:' "$T/tg.log" | sed 's/^.*stopped: /  trailguard: /')
}

echo "feed: $N messages over $SESSIONS sessions (window $WINDOW) from $(echo $FEED | wc -w) sample files;" \
    "trailguard file sink compression_level $LEVEL; $ROUNDS rounds"
LOST=0
printf '\n%-6s %-11s %10s %11s %12s %9s %13s\n' round receiver "events/s" "CPU us/msg" "load us/msg" "RSS (MB)" out
for r in $(seq "$ROUNDS"); do
    for rx in noop rsyslog trailguard; do
        "run_$rx"
        us=$(echo "$CPU * 1000000 / $N" | bc -l)
        lus=$(echo "$LOAD_CPU * 1000000 / $N" | bc -l)
        printf '%-6s %-11s %10s %11.2f %12.2f %9.1f %13s\n' "$r" "$rx" "$RATE" "$us" "$lus" \
            "$(echo "$RSS / 1024" | bc -l)" "$OUT"
        echo "$rx $RATE $us $RSS" >>"$T/results"
        [ "$rx" = noop ] || echo "$rx $BUSIEST" >>"$T/busiest"
    done
done
# median COLUMN RECEIVER: the median of a column of $T/results
median() {
    awk -v rx="$2" -v c="$1" '$1 == rx { print $c }' "$T/results" | sort -g |
        awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '\nmedians of %s rounds:\n%-11s %10s %11s %9s\n' "$ROUNDS" receiver "events/s" "CPU us/msg" "RSS (MB)"
for rx in noop rsyslog trailguard; do
    printf '%-11s %10.0f %11.2f %9.1f\n' "$rx" "$(median 2 "$rx")" "$(median 3 "$rx")" \
        "$(echo "$(median 4 "$rx") / 1024" | bc -l)"
done
awk -v t="$(median 2 trailguard)" -v r="$(median 2 rsyslog)" -v n="$(median 2 noop)" \
    -v tc="$(median 3 trailguard)" -v rc="$(median 3 rsyslog)" -v nc="$(median 3 noop)" 'BEGIN {
    printf "\ntrailguard / rsyslog = %.2fx (target >= 1.5x)\n", t / r
    printf "trailguard / noop    = %.0f%% (target >= 75%%)\n", 100 * t / n
    printf "rsyslog / noop       = %.0f%%\n", 100 * r / n
    printf "CPU per message: trailguard %.2f us = %.2fx rsyslog, %.2fx the no-op receiver\n", tc, tc / rc, tc / nc }'
echo "busiest thread, CPU per message (median), and the rate it allows when every thread has a core:"
for rx in rsyslog trailguard; do
    awk -v rx="$rx" '$1 == rx { print $3, $2 }' "$T/busiest" | sort -g |
        awk -v rx="$rx" '{ v[NR] = $1; name[NR] = $2 } END { m = int((NR + 1) / 2)
            printf "  %-11s %-16s %6.2f us -> %.0f/s\n", rx, name[m], v[m], 1e6 / v[m] }'
done
echo "(trailguard's RSS includes up to 16 MiB of mapped spool segment: page cache, not heap)"
echo "trailguard: $LOST events lost over $ROUNDS rounds (distinct event ids in the store vs sent)"
echo "last round's summary:"
echo "$SUMMARY"
