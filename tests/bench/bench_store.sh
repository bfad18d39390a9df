#!/bin/bash
# bench_store.sh - the file store, with each compression (zstd, gzip):
# events/s into the file sink (against the stdout sink as the baseline), the
# compression ratio, query MB/s and events/s for a full scan and a field
# filter, and verify's speed; then the time saved by skipping segments by
# their index.  Not part of `make check`
# (`make bench` runs it).
# Usage: tests/bench/bench_store.sh [RECORDS] (default 2000000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
tg=${TG_BIN:-$top/_build/trailguard}
n=${1:-2000000}
work=$(mktemp -d /tmp/tg-bench-store.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$top/tests/integration/store_lib.sh"

secs() { # secs CMD...: wall seconds of CMD (output discarded)
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
rate() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
mbs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b / 1048576 }'; }

gen_records "$n" 0 1 >"$work/feed" # one record per second from Nov 1 on
echo "feed: $n snoopy records over $((n / 86400 + 1)) days, $(du -m "$work/feed" | cut -f1) MB"

printf '[collector]\nworkers = 2\n' >"$work/stdout.ini"
t_out=$(secs "$tg" ingest -q -c "$work/stdout.ini" "$work/feed")
printf '%-50s %9s events/s\n' "ingest -> stdout sink (baseline)" "$(rate "$n" "$t_out")"

# both compressions of [sink.file] on the same feed: the writer's rate, the
# ratio, and the readers' speed (query, verify)
for codec in zstd gzip; do
    s=$work/store-$codec
    printf '[collector]\nworkers = 2\nfsync = interval\n\n[sink.file]\ndir = %s\nrotate_bytes = 8M\ncompression = %s\n' \
        "$s" "$codec" >"$work/file-$codec.ini"
    t_file=$(secs "$tg" ingest -q -c "$work/file-$codec.ini" "$work/feed")
    ext=$([ "$codec" = zstd ] && echo zst || echo gz)
    cat_=$([ "$codec" = zstd ] && echo zstdcat || echo zcat)
    raw=$(cat "$s"/seg-*.ndjson.$ext | $cat_ | wc -c)
    packed=$(cat "$s"/seg-*.ndjson.$ext | wc -c)
    side=$(cat "$s"/seg-*.chain "$s"/seg-*.idx | wc -c)
    nseg=$(ls "$s"/seg-*.ndjson.$ext | wc -l)
    echo "--- compression = $codec (level: its default)"
    printf '%-50s %9s events/s  (%.2f s)\n' "ingest -> file sink ($codec, chain, fsync 1s)" "$(rate "$n" "$t_file")" "$t_file"
    awk -v r="$raw" -v g="$packed" -v s="$side" -v n="$nseg" -v c="$codec" 'BEGIN {
        printf "store: %d segments, NDJSON %.1f MB -> %s %.1f MB: ratio %.1f:1; sidecars + indexes %.1f MB (%.1f%% of the data)\n",
            n, r / 1048576, c, g / 1048576, r / g, s / 1048576, 100 * s / g }'
    t_scan=$(secs "$tg" query "$s" --format ndjson)
    printf '%-50s %7s MB/s %9s events/s\n' "query, full scan, NDJSON out" "$(mbs "$raw" "$t_scan")" "$(rate "$n" "$t_scan")"
    t_host=$(secs "$tg" query "$s" --host web3 --format ndjson)
    printf '%-50s %7s MB/s %9s events/s\n' "query --host (JSON parse per event)" "$(mbs "$raw" "$t_host")" "$(rate "$n" "$t_host")"
    t_grep=$(secs "$tg" query "$s" --grep 'shadow|hosts' --format csv)
    printf '%-50s %7s MB/s %9s events/s\n' "query --grep, CSV out" "$(mbs "$raw" "$t_grep")" "$(rate "$n" "$t_grep")"
    t_verify=$(secs "$tg" verify "$s")
    printf '%-50s %7s MB/s %9s events/s\n' "verify (decompress + SHA-256 chain)" "$(mbs "$raw" "$t_verify")" "$(rate "$n" "$t_verify")"
done

# one hour in the middle of the zstd store: with the indexes (segments
# skipped) and the sidecars (members skipped), with the sidecars only, and
# with neither
s=$work/store-zstd
since=$(date -u -d "2026-11-01 + $((n / 2 / 3600)) hours" +%Y-%m-%dT%H:00:00Z)
until=$(date -u -d "$since + 1 hour" +%Y-%m-%dT%H:00:00Z)
"$tg" query "$s" --since "$since" --until "$until" --stats 2>"$work/stats" >"$work/hour"
mkdir "$work/noidx" "$work/bare"
ln "$s"/seg-*.ndjson.zst "$s"/seg-*.chain "$work/noidx"/
ln "$s"/seg-*.ndjson.zst "$work/bare"/
t_skip=$(secs "$tg" query "$s" --since "$since" --until "$until")
t_member=$(secs "$tg" query "$work/noidx" --since "$since" --until "$until")
t_full=$(secs "$tg" query "$work/bare" --since "$since" --until "$until")
echo "query one hour ($(wc -l <"$work/hour") events): $(sed -n 's/.*; \([0-9]* segments, .* members)\).*/\1/p' "$work/stats")"
awk -v a="$t_skip" -v m="$t_member" -v b="$t_full" 'BEGIN {
    printf "  indexes + sidecars %.3f s; sidecars only (member skipping) %.3f s; decompressing everything %.3f s\n", a, m, b
    printf "  skipping saves %.2f s (%.0fx faster)\n", b - a, b / a }'
