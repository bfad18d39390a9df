#!/bin/bash
# store_query.sh - `query` and `export` on a store written by `ingest -c`:
# every filter gives the same events as jq over the same data, --limit,
# segment skipping by time, the table, CSV (parsed by Python's csv module),
# and an export whose manifest matches sha256sum and counts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"

S=$TG_TMP/store
{
    gen_records 3000
    cat "$TG_SRCDIR"/tests/data/*.log "$TG_SRCDIR"/tests/data/*.json
} >"$TG_TMP/in.log"
store_snapshot "$TG_TMP/snap"
store_conf "$TG_TMP/c.ini" "$S" "compression = gzip" "rotate_bytes = 16k"
printf '\n[policy]\nsnapshot_dir = %s\n' "$TG_TMP/snap" >>"$TG_TMP/c.ini"
check "ingest into the file sink" "$TG_BIN" ingest -q -c "$TG_TMP/c.ini" "$TG_TMP/in.log"
cat "$S"/seg-*.ndjson.gz | zcat >"$TG_TMP/all.ndjson"
total=$(wc -l <"$TG_TMP/all.ndjson")

compare() { store_compare "$1" "$S" "$TG_TMP/all.ndjson" "${@:2}"; }
compare "no filter: every event" 'true'
compare "--host (case-insensitive)" '(.host.name // "" | ascii_downcase) == "web3.example.com"' --host WEB3.example.com
compare "--user" '.user.name == "alice"' --user alice
compare "--action" '.event.action == "exec"' --action exec
compare "--dataset" '.event.dataset == "snoopy"' --dataset snoopy
compare "--decision deny" '.trailguard.policy.decision == "deny"' --decision deny
compare "--decision allow" '.trailguard.policy.decision == "allow"' --decision allow
compare "--decision not_applicable" '.trailguard.policy.decision == "not_applicable"' \
    --decision not_applicable
compare "--user and --decision" '.user.name == "carol" and .trailguard.policy.decision == "deny"' \
    --user carol --decision deny
compare "--grep over the command line or SQL" \
    '((.process.command_line // "") | test("^sudo -u")) or ((.trailguard.db.statement // "") | test("^sudo -u"))' \
    --grep '^sudo -u'
since=2026-11-24T00:10:00Z until=2026-11-24T00:20:00Z
# (string order is time order here: these records have whole seconds)
compare "--since/--until" "(.\"@timestamp\" >= \"$since\") and (.\"@timestamp\" < \"$until\")" \
    --since $since --until $until
compare "filters combine" \
    "(.host.name == \"web1.example.com\") and (.\"@timestamp\" >= \"$since\")" --host web1.example.com --since $since
check_eq "--limit stops after N" 7 "$("$TG_BIN" query "$S" --format ndjson --limit 7 | wc -l)"
check_eq "piped output defaults to NDJSON" "$total" "$("$TG_BIN" query "$S" | jq -c . | wc -l)"

# segment skipping by the index
"$TG_BIN" query "$S" --since 2026-11-24T00:45:00Z --until 2026-11-24T00:50:00Z --stats \
    2>"$TG_TMP/stats" >"$TG_TMP/out"
nseg=$(ls "$S"/seg-*.idx | wc -l)
skipped=$(sed -n 's/.* \([0-9]*\) skipped by time.*/\1/p' "$TG_TMP/stats")
check "a narrow time range skips segments by their index ($skipped of $nseg)" \
    test "${skipped:-0}" -ge $((nseg / 2))
check_eq "... and still finds every event in range (5 min, 1/s)" 300 "$(wc -l <"$TG_TMP/out")"
check "a future range skips every segment" sh -c \
    "'$TG_BIN' query '$S' --since 2030-01-01 --stats 2>&1 >/dev/null | grep -q '$nseg skipped by time'"

# member skipping inside a segment: without the indexes (as for the segment
# being written) the sidecar entries still skip the gzip members out of range
mkdir "$TG_TMP/noidx" && cp "$S"/seg-*.ndjson.gz "$S"/seg-*.chain "$S"/chain.head "$TG_TMP/noidx"/
"$TG_BIN" query "$TG_TMP/noidx" --since $since --until $until --stats 2>"$TG_TMP/stats" |
    jq -r .event.id >"$TG_TMP/got"
members=$(sed -n 's/.*(and \([0-9]*\) members).*/\1/p' "$TG_TMP/stats")
check "segments without an index skip members by their sidecar entries ($members)" \
    test "${members:-0}" -gt 0
check_eq "... and find the same events" \
    "$(jq -r "select(.\"@timestamp\" >= \"$since\" and .\"@timestamp\" < \"$until\") | .event.id" "$TG_TMP/all.ndjson" | md5sum)" \
    "$(md5sum <"$TG_TMP/got")"

# table and CSV
"$TG_BIN" query "$S" --format table --limit 20 >"$TG_TMP/table"
check "the table has a header row" grep -q '^TIME  *HOST  *USER  *ACTION  *DECISION  *COMMAND' "$TG_TMP/table"
check_eq "the table is aligned (every column starts at the same place)" "" \
    "$(awk '{ for (c = 21; c <= 77; c += 0) { if (substr($0, c, 1) != " " || substr($0, c + 1, 1) == " ") print NR ": " $0; c += c == 21 ? 17 : c == 38 ? 13 : c == 51 ? 11 : 15 } }' "$TG_TMP/table")"
"$TG_BIN" query "$S" --format csv >"$TG_TMP/all.csv"
check "CSV parses as RFC 4180 with a header and one row per event" python3 - "$TG_TMP/all.csv" "$total" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][0] == "@timestamp" and "event.id" in rows[0], rows[0]
assert len(rows) == int(sys.argv[2]) + 1, len(rows)
assert all(len(r) == len(rows[0]) for r in rows)
PY

# export
(cd "$TG_TMP" && "$TG_BIN" export store --since $since --until $until --host web2.example.com \
    --format csv --out ex.csv 2>/dev/null)
check_eq "export exits 0 on an intact store" 0 "$?"
M=$TG_TMP/ex.csv.manifest.json
check_eq "the manifest SHA-256 is sha256sum's" "$(sha256sum "$TG_TMP/ex.csv" | cut -d' ' -f1)" "$(jq -r .sha256 "$M")"
want=$(jq -r "select(.host.name == \"web2.example.com\" and .\"@timestamp\" >= \"$since\" and .\"@timestamp\" < \"$until\") | .event.id" "$TG_TMP/all.ndjson" | wc -l)
check_eq "the manifest counts the events" "$want" "$(jq -r .events "$M")"
check "the export CSV parses, with the same number of rows" python3 - "$TG_TMP/ex.csv" "$want" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert len(rows) == int(sys.argv[2]) + 1, len(rows)
PY
check_eq "the manifest records the filters" web2.example.com "$(jq -r .filters.host "$M")"
check "the manifest names the file and the store by absolute path (given relative)" \
    test "$(jq -r .file "$M")" = "$(realpath "$TG_TMP/ex.csv")" -a "$(jq -r .source.dir "$M")" = "$(realpath "$S")"
check_eq "the manifest records the range" "2026-11-24T00:10:00Z" "$(jq -r .time_range.since "$M")"
check_eq "the manifest records the verification" true "$(jq -r .verify.intact "$M")"
check_eq "the manifest lists the snapshot seen" \
    "$(jq -r .trailguard.policy.snapshot "$TG_TMP/all.ndjson" | sort -u | grep -v null)" \
    "$(jq -r '.snapshots[]' "$M")"
"$TG_BIN" export "$S" --since $since --until $until --format ndjson --out "$TG_TMP/ex.ndjson" 2>/dev/null
check_eq "an NDJSON export holds the stored lines" \
    "$(jq -c "select(.\"@timestamp\" >= \"$since\" and .\"@timestamp\" < \"$until\")" "$TG_TMP/all.ndjson" | md5sum)" \
    "$(jq -c . "$TG_TMP/ex.ndjson" | md5sum)"
check_eq "without filters the manifest says so: filters {}" "{}" \
    "$(jq -c .filters "$TG_TMP/ex.ndjson.manifest.json")"
cp -a "$S" "$TG_TMP/t"
zcat "$TG_TMP/t/seg-0000000002.ndjson.gz" | sed 3d | gzip >"$TG_TMP/x" && mv "$TG_TMP/x" "$TG_TMP/t/seg-0000000002.ndjson.gz"
"$TG_BIN" export "$TG_TMP/t" --since 2000-01-01 --until now --format csv --out "$TG_TMP/bad.csv" 2>/dev/null
check_eq "export of a tampered store exits 1" 1 "$?"
check_eq "... and its manifest says what broke" false "$(jq -r .verify.intact "$TG_TMP/bad.csv.manifest.json")"

"$TG_BIN" export "$S" --since -1d --format csv --out "$TG_TMP/x.csv" 2>"$TG_TMP/x.err"
check_eq "export without --until is a usage error" 2 "$?"
check "... naming --until" grep -q "give --until" "$TG_TMP/x.err"
"$TG_BIN" export "$S" --since -1d --until now --format csv --out - 2>"$TG_TMP/x.err"
check_eq "export --out - is a usage error" 2 "$?"
check "... saying a file path is needed" grep -q "give a file path" "$TG_TMP/x.err"
"$TG_BIN" query "$S" --decision maybe >/dev/null 2>&1
check_eq "a bad --decision is a usage error" 2 "$?"
"$TG_BIN" query "$S" --grep '(' >/dev/null 2>&1
check_eq "a bad --grep is a usage error" 2 "$?"
"$TG_BIN" query "$S" --since yesterday >/dev/null 2>&1
check_eq "a bad --since is a usage error" 2 "$?"
"$TG_BIN" query "$TG_TMP/nothing" >/dev/null 2>&1
check_eq "a missing store exits 3" 3 "$?"
check_eq "no match is still exit 0" 0 "$("$TG_BIN" query "$S" --user nobody-at-all >/dev/null; echo $?)"
"$TG_BIN" query "$S" --since -1h --until -2h >/dev/null 2>"$TG_TMP/x.err"
check_eq "--since after --until is a usage error" 2 "$?"
check_eq "--user ignores case, as the policy does" \
    "$("$TG_BIN" query "$S" --user alice --format ndjson | wc -l)" \
    "$("$TG_BIN" query "$S" --user ALICE --format ndjson | wc -l)"
# a record without a time of its own gets the receive time: `--until now`
# right after includes it (now keeps its fraction of a second)
N=$TG_TMP/now
store_conf "$TG_TMP/n.ini" "$N" "compression = gzip"
echo "a line with no timestamp" | "$TG_BIN" ingest -q -c "$TG_TMP/n.ini" -
check_eq "--until now includes what was stored this second" 1 \
    "$("$TG_BIN" query "$N" --until now --format ndjson | wc -l)"
tap_done
