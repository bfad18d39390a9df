#!/bin/bash
# bench_ingest.sh - end-to-end batch throughput: `trailguard ingest` (read,
# parse, policy, serialize, write NDJSON) on the bundled sample mix, side by
# side with rsyslog reading the same file (imfile -> omfile, no parsing: the
# transport floor of the peer most sites already run).  Prints events/s,
# MB/s, us/event, peak RSS, and the ratio.  Not part of `make check`.
# Usage: tests/bench/bench_ingest.sh [RECORDS] (default 1000000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
tg=${TG_BIN:-$top/_build/trailguard}
n=${1:-1000000}
work=$(mktemp -d /tmp/tg-bench.XXXXXX)
trap 'kill $(cat "$work/rs.pid" 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT

cat "$top"/tests/data/*.log "$top"/tests/data/*.json | grep -a . >"$work/mix"
while [ "$(wc -l <"$work/mix")" -lt "$n" ]; do cat "$work/mix" "$work/mix" >"$work/mix2"; mv "$work/mix2" "$work/mix"; done
head -n "$n" "$work/mix" >"$work/feed"
bytes=$(stat -c %s "$work/feed")
mb=$(echo "scale=1; $bytes / 1048576" | bc)
echo "feed: $n records, $mb MB (snoopy, Percona audit JSON, rsyslog file lines)"

report() { # name seconds rss_kb
    awk -v name="$1" -v s="$2" -v rss="$3" -v n="$n" -v b="$bytes" 'BEGIN {
        printf "%-34s %10.0f events/s %7.1f MB/s %6.2f us/event  peak RSS %6.1f MB\n",
               name, n / s, b / s / 1048576, s * 1e6 / n, rss / 1024 }'
}

for w in 1 2; do
    printf '[collector]\nworkers = %d\n' "$w" >"$work/w$w.ini"
    /usr/bin/time -f "%e %M" -o "$work/time" "$tg" ingest -q -c "$work/w$w.ini" "$work/feed" >/dev/null
    read -r secs rss <"$work/time"
    report "trailguard ingest, $w worker(s)" "$secs" "$rss"
    eval "tg$w=$secs"
done

cat >"$work/rs.conf" <<CONF
global(workDirectory="$work")
module(load="imfile" mode="inotify")
input(type="imfile" File="$work/feed" Tag="feed" readMode="0" freshStartTail="off")
main_queue(queue.type="LinkedList" queue.size="100000")
action(type="omfile" file="$work/rs.out" template="RSYSLOG_FileFormat" asyncWriting="on" ioBufferSize="256k" flushOnTXEnd="off")
CONF
start=$(date +%s.%N)
/usr/sbin/rsyslogd -n -f "$work/rs.conf" -i "$work/rs.pid" &
rspid=$!
for _ in $(seq 1 6000); do # bounded: 600 s
    [ -f "$work/rs.out" ] && [ "$(wc -l <"$work/rs.out")" -ge "$n" ] && break
    sleep 0.1
done
end=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' /proc/$rspid/status)
kill "$rspid"
wait "$rspid" 2>/dev/null || true
got=$(wc -l <"$work/rs.out")
rs=$(echo "$end - $start" | bc)
report "rsyslog imfile->omfile (no parse)" "$rs" "$rss"
[ "$got" -ge "$n" ] || echo "rsyslog wrote only $got of $n lines in the time allowed"
echo "ratio trailguard(2 workers)/rsyslog: $(echo "scale=2; $rs / $tg2" | bc)x"
