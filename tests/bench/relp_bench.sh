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
# its /metrics).  Prints the three rates, their ratios and
# each receiver's peak RSS.  Not part of `make check` (it takes a while).
#
#   tests/bench/relp_bench.sh [-n MESSAGES] [-s SESSIONS] [-w WINDOW] [-z LEVEL] [-b BUILDDIR]
# -z: the file sink's compression_level (default 6, the default of [sink.file]).
# Ports 20690-20693 on 127.0.0.1.  Needs rsyslog and rsyslog-relp.
set -u
N=200000
SESSIONS=4
WINDOW=1024
LEVEL=6
B=$(pwd)
while getopts n:s:w:z:b: o; do
    case $o in
    n) N=$OPTARG ;; s) SESSIONS=$OPTARG ;; w) WINDOW=$OPTARG ;; z) LEVEL=$OPTARG ;; b) B=$OPTARG ;;
    *) echo "usage: $0 [-n MESSAGES] [-s SESSIONS] [-w WINDOW] [-z LEVEL] [-b BUILDDIR]" >&2; exit 2 ;;
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

echo "feed: $N messages over $SESSIONS sessions (window $WINDOW) from $(echo $FEED | wc -w) sample files;" \
    "trailguard file sink compression_level $LEVEL"

# 1. no-op librelp receiver
"$NOOP" -p 20690 -n "$N" >"$T/noop.out" 2>&1 &
NOOP_PID=$!
PIDS="$PIDS $NOOP_PID"
for _ in $(seq 100); do grep -q ready "$T/noop.out" && break; sleep 0.1; done
t0=$(now)
"$LOAD" -q -p 20690 -s "$SESSIONS" -w "$WINDOW" -n "$N" $FEED || echo "noop: sender failed" >&2
t1=$(now)
wait "$NOOP_PID"
noop_rss=$(awk '/peak_rss_kb/ {print $2}' "$T/noop.out")
noop_rate=$(rate "$t0" "$t1")

# 2. rsyslog imrelp -> omfile
mkdir -p "$T/rs"
cat >"$T/rs/rsyslog.conf" <<EOF
global(workDirectory="$T/rs" maxMessageSize="64k")
module(load="imrelp")
input(type="imrelp" address="127.0.0.1" port="20691" maxDataSize="64k" ruleset="r")
ruleset(name="r") { action(type="omfile" file="$T/rs/out.log") }
EOF
/usr/sbin/rsyslogd -n -f "$T/rs/rsyslog.conf" -i "$T/rs/rsyslog.pid" >"$T/rs/stderr" 2>&1 &
RS_PID=$!
PIDS="$PIDS $RS_PID"
wait_port 20691 || { echo "rsyslog did not start:"; cat "$T/rs/stderr"; exit 3; }
t0=$(now)
"$LOAD" -q -p 20691 -s "$SESSIONS" -w "$WINDOW" -n "$N" $FEED || echo "rsyslog: sender failed" >&2
wait_lines "$T/rs/out.log" "$N" || echo "rsyslog: not all lines arrived" >&2
t1=$(now)
rs_rss=$(hwm "$RS_PID")
kill -TERM "$RS_PID"
wait "$RS_PID"
rs_rate=$(rate "$t0" "$t1")
rs_lines=$(wc -l <"$T/rs/out.log")

# 3. trailguard serve: spool + parse + policy + file sink
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
TG_PID=$!
PIDS="$PIDS $TG_PID"
wait_port 20692 || { echo "trailguard did not start:"; cat "$T/tg.log"; exit 3; }
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
    time.sleep(0.05)
print(n)
EOP
}
t0=$(now)
"$LOAD" -q -p 20692 -s "$SESSIONS" -w "$WINDOW" -n "$N" $FEED || echo "trailguard: sender failed" >&2
tg_lines=$(delivered "$N")
t1=$(now)
tg_rss=$(hwm "$TG_PID")
kill -TERM "$TG_PID"
wait "$TG_PID"
tg_rate=$(rate "$t0" "$t1")
tg_unique=$("$TG" query "$T/tg/events" --format ndjson --limit 100000000 | grep -o '"event":{"id":"[0-9a-f]*"' | sort -u | wc -l)

printf '\n%-12s %12s %14s %10s\n' receiver "events/s" "peak RSS (MB)" "out"
printf '%-12s %12s %14.1f %10s\n' noop "$noop_rate" "$(echo "$noop_rss / 1024" | bc -l)" "$N acked"
printf '%-12s %12s %14.1f %10s\n' rsyslog "$rs_rate" "$(echo "$rs_rss / 1024" | bc -l)" "$rs_lines"
printf '%-12s %12s %14.1f %10s\n' trailguard "$tg_rate" "$(echo "$tg_rss / 1024" | bc -l)" "$tg_lines"
awk -v t="$tg_rate" -v r="$rs_rate" -v n="$noop_rate" 'BEGIN {
    printf "\ntrailguard / rsyslog = %.2fx (target >= 1.5x)\n", t / r
    printf "trailguard / noop    = %.0f%% (target >= 75%%)\n", 100 * t / n
    printf "rsyslog / noop       = %.0f%%\n", 100 * r / n }'
echo "(trailguard's RSS includes up to 16 MiB of mapped spool segment: page cache, not heap)"
echo "trailguard: $tg_unique distinct event ids in the file store of $N sent ($((N - tg_unique)) lost)"
grep 'stopped:' "$T/tg.log" | sed 's/^.*stopped: /trailguard summary: /'
