#!/bin/sh
# tests/golden/run.sh - golden tests of the parsers, one TAP case per input.
#
# Every tests/golden/<dir>/NNN-name.in is run through
#   trailguard ingest -q --format F [-c NNN-name.conf] < NNN-name.in
# where F is the directory name (auto, syslog, snoopy, percona) unless
# NNN-name.format says otherwise, and the output is compared with
# NNN-name.expected after removing what changes from run to run:
# event.ingested, and @timestamp when it fell back to the receive time (it
# then equals event.ingested).  NNN-name.jq, when present, is a further jq
# filter (e.g. to blank the year that an RFC 3164 timestamp does not carry).
#
# TG_GOLDEN_UPDATE=1 rewrites the .expected files instead of comparing:
# review every changed line before committing it.
. "${TG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

volatile='if ."@timestamp" == .event.ingested then del(."@timestamp") else . end | del(.event.ingested)'

for in in "$TG_SRCDIR"/tests/golden/*/[0-9]*.in; do
    base=${in%.in}
    dir=$(basename "$(dirname "$in")")
    name=$dir/$(basename "$base")
    fmt=$dir
    [ -f "$base.format" ] && fmt=$(cat "$base.format")
    set -- --format "$fmt"
    [ -f "$base.conf" ] && set -- "$@" -c "$base.conf"
    filter=$volatile
    [ -f "$base.jq" ] && filter="$filter | $(cat "$base.jq")"
    if ! "$TG_BIN" ingest -q "$@" <"$in" >"$TG_TMP/out.json" 2>"$TG_TMP/err"; then
        not_ok "$name: trailguard ingest failed"
        sed 's/^/# /' "$TG_TMP/err" | head -10
        continue
    fi
    if ! jq -c "$filter" <"$TG_TMP/out.json" >"$TG_TMP/actual" 2>"$TG_TMP/err"; then
        not_ok "$name: output is not JSON lines"
        sed 's/^/# /' "$TG_TMP/err" | head -10
        continue
    fi
    if [ "${TG_GOLDEN_UPDATE:-0}" = 1 ]; then
        cp "$TG_TMP/actual" "$base.expected"
        ok "$name (updated)"
    elif [ ! -f "$base.expected" ]; then
        not_ok "$name: $base.expected is missing (TG_GOLDEN_UPDATE=1 creates it)"
    elif cmp -s "$TG_TMP/actual" "$base.expected"; then
        ok "$name"
    else
        not_ok "$name"
        diff "$base.expected" "$TG_TMP/actual" | head -20 | sed 's/^/# /'
    fi
done
tap_done
