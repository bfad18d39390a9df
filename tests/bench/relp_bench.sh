#!/bin/bash
# relp_bench.sh - RELP ingest throughput, in one run on the same feed (the
# snoopy and Percona records of ../shared/samples, 80% snoopy / 20% Percona,
# every message distinct), for:
#   noop        a librelp receiver whose callback only counts (the floor)
#   rsyslog     rsyslog imrelp -> omfile, no parsing
#   rsyslog-parse  rsyslog imrelp -> mmnormalize (tests/bench/snoopy.rulebase,
#               liblognorm) for snoopy / mmjsonparse for Percona -> omfile
#               JSON (the header, the record and the parsed fields) with
#               zipLevel 6: rsyslog's closest job to trailguard's
#   trailguard  `trailguard serve`: spool (fsync = interval), parsing, policy
#               (the deploy/policy-example snapshot), masking, the file
#               sink with [sink.file] compression = zstd (level 1)
#   trailguard-gzip  the same with compression = gzip (level -z; the default)
# Each rate is N messages / the time from the first send to the last
# message being out (all acknowledged for noop; N lines in the output file
# for rsyslog, N lines decompressed from it for rsyslog-parse; N events
# confirmed by the file sink for trailguard, read from its /metrics).  The
# receivers take turns for ROUNDS rounds (the machine is
# shared and noisy); the script prints each round, then the median rate,
# the ratios of the medians, the receiver's CPU time per message (user +
# system of its process; the load generator's too) and peak RSS.  On a
# machine where the generator and the receiver share the cores, CPU per
# message is what decides the rate.  Not part of `make check`.
#
#   tests/bench/relp_bench.sh [-n MESSAGES] [-r ROUNDS] [-s SESSIONS] [-w WINDOW] [-z LEVEL]
#                             [-e ENGINES] [-b BUILDDIR]
# -z: trailguard-gzip's compression_level (default 6, gzip's default level).
# -e: [input.relp] engines of the trailguard rows (default 1).
# Ports 20690-20694 on 127.0.0.1.  Needs rsyslog and rsyslog-relp (Debian's
# rsyslog ships mmnormalize and mmjsonparse).
set -u
N=200000
ROUNDS=3
SESSIONS=4
WINDOW=1024
LEVEL=6
ENGINES=1
B=$(pwd)
while getopts n:r:s:w:z:e:b: o; do
    case $o in
    n) N=$OPTARG ;; r) ROUNDS=$OPTARG ;; s) SESSIONS=$OPTARG ;; w) WINDOW=$OPTARG ;; z) LEVEL=$OPTARG ;;
    e) ENGINES=$OPTARG ;; b) B=$OPTARG ;;
    *) echo "usage: $0 [-n MESSAGES] [-r ROUNDS] [-s SESSIONS] [-w WINDOW] [-z LEVEL] [-e ENGINES] [-b BUILDDIR]" >&2; exit 2 ;;
    esac
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${TG_SHARED:-$SRC/../shared}
S=$SHARED/samples
LOAD=$B/tests/bench/relp_load
NOOP=$B/tests/bench/relp_noop
TG=$B/trailguard
for f in "$LOAD" "$NOOP" "$TG"; do
    [ -x "$f" ] || { echo "relp_bench: $f not built (make check builds the helpers; -b BUILDDIR)" >&2; exit 2; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-bench.XXXXXX")
# the feed: every snoopy record of the samples (72) and a quarter as many
# Percona records (18): 80% / 20%; the generator cycles through them
FEED=$T/feed.txt
cat "$S/snoopy-2.5.1-default.log" "$S/snoopy-2.5.1-rich.log" >"$FEED"
cat "$S/percona-audit.json" "$S/percona-audit-derived-from-mtr.json" | grep -v '^$' |
    head -n $(($(grep -c . "$FEED") / 4)) >>"$FEED"
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
# wait_lines FILE N [gz]: block until FILE has N lines (gz: N lines once
# decompressed, read as the file grows) (bounded: 30 min)
wait_lines() {
    python3 - "$1" "$2" "${3:-}" <<'EOF'
import os, sys, time, zlib
path, want, gz = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "gz"; n = 0; f = None
z = zlib.decompressobj(31) if gz else None
deadline = time.time() + 1800
while n < want and time.time() < deadline:
    if f is None and os.path.exists(path):
        f = open(path, "rb")
    b = f.read(1 << 20) if f else b""
    if b and gz:
        while b:  # several gzip members: a new decompressor after each
            n += z.decompress(b).count(b"\n")
            b = z.unused_data
            if z.eof:
                z = zlib.decompressobj(31)
    elif b:
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
        -n "$N" "$FEED" || echo "$2: sender failed" >&2
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

run_rsyslog_parse() {
    rm -rf "$T/rp"
    mkdir -p "$T/rp"
    cat >"$T/rp/rsyslog.conf" <<EOF
global(workDirectory="$T/rp" maxMessageSize="64k")
module(load="imrelp")
module(load="mmnormalize")
module(load="mmjsonparse")
input(type="imrelp" address="127.0.0.1" port="20694" maxDataSize="64k" ruleset="r")
template(name="ecs" type="string" string="{\"@timestamp\":\"%timereported:::date-rfc3339%\",\"host\":\"%hostname:::json%\",\"tag\":\"%syslogtag:::json%\",\"original\":\"%msg:::json%\",\"parsed\":%\$!all-json%}\n")
ruleset(name="r") {
    if \$programname == "snoopy" then action(type="mmnormalize" ruleBase="$SRC/tests/bench/snoopy.rulebase")
    else action(type="mmjsonparse" cookie="")
    action(type="omfile" file="$T/rp/out.json.gz" template="ecs" zipLevel="6" flushOnTXEnd="on")
}
EOF
    /usr/sbin/rsyslogd -n -f "$T/rp/rsyslog.conf" -i "$T/rp/rsyslog.pid" >"$T/rp/stderr" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    wait_port 20694 || { echo "rsyslog did not start:"; cat "$T/rp/stderr"; exit 3; }
    measure "$pid" 20694 rsyslog-parse rsyslog_parse_out
    UNPARSED=$(zcat "$T/rp/out.json.gz" 2>/dev/null | grep -c '"unparsed-data"')
}
rsyslog_parse_out() {
    wait_lines "$T/rp/out.json.gz" "$N" gz || echo "rsyslog-parse: not all lines arrived" >&2
    zcat "$T/rp/out.json.gz" 2>/dev/null | wc -l
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

# tg_row [SINK.FILE LINES...]: one trailguard row
tg_row() {
    rm -rf "$T/tg"
    cat >"$T/tg.conf" <<EOF
[collector]
spool_dir = $T/tg/spool
metrics_listen = 127.0.0.1:20693
fsync = interval
[input.relp]
listen = 127.0.0.1:20692
engines = $ENGINES
[policy]
snapshot_dir = $SRC/deploy/policy-example
[sink.file]
dir = $T/tg/events
$(printf '%s\n' "$@")
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
run_trailguard() {
    tg_row "compression = zstd"
}
run_trailguard_gzip() {
    tg_row "compression = gzip" "compression_level = $LEVEL"
}

RX="noop rsyslog rsyslog_parse trailguard trailguard_gzip"
echo "feed: $N messages over $SESSIONS sessions (window $WINDOW), cycling $(grep -c . "$FEED") records" \
    "(80% snoopy, 20% Percona); trailguard: $ENGINES RELP engine(s), trailguard-gzip level $LEVEL; $ROUNDS rounds"
LOST=0
printf '\n%-6s %-16s %10s %11s %12s %9s %13s\n' round receiver "events/s" "CPU us/msg" "load us/msg" "RSS (MB)" out
for r in $(seq "$ROUNDS"); do
    for rx in $RX; do
        "run_$rx"
        us=$(echo "$CPU * 1000000 / $N" | bc -l)
        lus=$(echo "$LOAD_CPU * 1000000 / $N" | bc -l)
        printf '%-6s %-16s %10s %11.2f %12.2f %9.1f %13s\n' "$r" "${rx//_/-}" "$RATE" "$us" "$lus" \
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
printf '\nmedians of %s rounds:\n| %-16s | %10s | %11s | %9s |\n' "$ROUNDS" receiver "msgs/s" "CPU us/msg" "peak RSS"
for rx in $RX; do
    printf '| %-16s | %10.0f | %11.2f | %6.1f MB |\n' "${rx//_/-}" "$(median 2 "$rx")" "$(median 3 "$rx")" \
        "$(echo "$(median 4 "$rx") / 1024" | bc -l)"
done
awk -v tc="$(median 3 trailguard)" -v gc="$(median 3 trailguard_gzip)" -v rc="$(median 3 rsyslog)" \
    -v pc="$(median 3 rsyslog_parse)" -v nc="$(median 3 noop)" \
    -v tm="$(median 4 trailguard)" -v pm="$(median 4 rsyslog_parse)" 'BEGIN {
    printf "\nCPU per message: trailguard %.2f us = %.2fx rsyslog-parse (target <= 0.6x), %.2fx rsyslog (target <= 1.0x), %.2fx the no-op receiver\n", tc, tc / pc, tc / rc, tc / nc
    printf "trailguard-gzip %.2f us = %.2fx rsyslog-parse, %.2fx rsyslog\n", gc, gc / pc, gc / rc
    printf "peak RSS: trailguard %.1f MB = %.2fx rsyslog-parse (target <= 1.0x)\n", tm / 1024, tm / pm }'
echo "busiest thread, CPU per message (median), and the rate it allows when every thread has a core:"
for rx in rsyslog rsyslog_parse trailguard trailguard_gzip; do
    awk -v rx="$rx" '$1 == rx { print $3, $2 }' "$T/busiest" | sort -g |
        awk -v rx="${rx//_/-}" '{ v[NR] = $1; name[NR] = $2 } END { m = int((NR + 1) / 2)
            printf "  %-16s %-16s %6.2f us -> %.0f/s\n", rx, name[m], v[m], 1e6 / v[m] }'
done
echo "rsyslog-parse: $UNPARSED of the last round's $N records left unparsed by the rulebase"
echo "trailguard: $LOST events lost over $ROUNDS rounds x 2 rows (distinct event ids in the store vs sent)"
echo "last round's summary:"
echo "$SUMMARY"
