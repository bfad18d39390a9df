#!/bin/bash
# cli.sh - the trailguard binary from the outside: subcommand dispatch, help
# and usage errors, and `ingest` on every sample and on bad input (unreadable
# file, binary data, NUL bytes, invalid UTF-8, a 10 MB line, a line over the
# record limit, .gz, stdin).  Every output line must be one valid JSON object.
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

run() { "$TG_BIN" "$@" >"$TG_TMP/out" 2>"$TG_TMP/err"; echo $?; }

check_eq "--version exits 0" 0 "$(run --version)"
check "--version prints the version" grep -q '^trailguard [0-9]' "$TG_TMP/out"
check_eq "--help exits 0" 0 "$(run --help)"
check "--help lists ingest" grep -q 'ingest' "$TG_TMP/out"
check_eq "no command is a usage error" 2 "$(run)"
check_eq "unknown command exits 2" 2 "$(run frobnicate)"
check "unknown command is named" grep -q "unknown command 'frobnicate'" "$TG_TMP/err"
check_eq "help ingest exits 0" 0 "$(run help ingest)"
check "help ingest shows usage" grep -q 'usage: trailguard ingest' "$TG_TMP/out"
check_eq "ingest --help exits 0" 0 "$(run ingest --help)"
check_eq "help config exits 0" 0 "$(run help config)"
check "help config documents [collector] spool_dir" grep -q 'spool_dir' "$TG_TMP/out"
check_eq "help config SECTION exits 0" 0 "$(run help config input.relp)"
check "... and shows only that section" sh -c "grep -q '^\[input.relp\]' '$TG_TMP/out' &&
    [ \$(grep -c '^\[' '$TG_TMP/out') -eq 1 ]"
check_eq "help config with an unknown section exits 2" 2 "$(run help config input.smtp)"
check "... naming it" grep -q "unknown section 'input.smtp'" "$TG_TMP/err"
check_eq "help --man 3 exits 2" 2 "$(run help --man 3)"
check_eq "ingest with an unknown option exits 2" 2 "$(run ingest --bogus)"
check_eq "ingest with a bad --format exits 2" 2 "$(run ingest --format xml /dev/null)"

# every sample: one valid JSON object per record, and every non-blank line in
# exactly one record (the file framer joins the lines of a snoopy record whose
# argument held a newline, and of a pretty-printed JSON object)
for f in "$TG_SHARED"/samples/*.log "$TG_SHARED"/samples/*.json "$TG_SHARED"/samples/*.txt; do
    name=$(basename "$f")
    want=$(grep -c . "$f")
    if "$TG_BIN" ingest -q "$f" >"$TG_TMP/ev" 2>"$TG_TMP/err"; then
        got=$(jq -c . <"$TG_TMP/ev" 2>/dev/null | wc -l)
        lines=$(wc -l <"$TG_TMP/ev")
        inrec=$(jq -r .event.original <"$TG_TMP/ev" | grep -c .)
        check_eq "ingest $name: one valid JSON object per record" "$lines $want" "$got $inrec"
    else
        not_ok "ingest $name exited non-zero"
    fi
done

# .gz is transparent; ids are deterministic; equal lines at different places differ
f="$TG_SHARED/samples/snoopy-2.5.1-default.log"
gzip -c "$f" >"$TG_TMP/s.log.gz"
"$TG_BIN" ingest -q "$f" | jq -r .event.original >"$TG_TMP/a"
"$TG_BIN" ingest -q "$TG_TMP/s.log.gz" | jq -r .event.original >"$TG_TMP/b"
check "ingest .gz gives the same records as plain" cmp -s "$TG_TMP/a" "$TG_TMP/b"
"$TG_BIN" ingest -q "$TG_TMP/s.log.gz" | jq -r .event.id >"$TG_TMP/a"
"$TG_BIN" ingest -q "$TG_TMP/s.log.gz" | jq -r .event.id >"$TG_TMP/b"
check "re-reading a file gives the same event ids" cmp -s "$TG_TMP/a" "$TG_TMP/b"
printf 'same record\nsame record\n' >"$TG_TMP/twice"
check_eq "equal records on two lines get two ids" 2 "$("$TG_BIN" ingest -q "$TG_TMP/twice" | jq -r .event.id | sort -u | wc -l)"
"$TG_BIN" ingest -q - <"$f" | jq -r .event.original >"$TG_TMP/c"
check "ingest from stdin keeps every record" test "$(wc -l <"$TG_TMP/c")" -eq "$(grep -c . "$f")"

# unreadable input: clear message naming the file, exit 3, the other file still processed
code=$(run ingest /nonexistent/x.log "$f")
check_eq "an unreadable input exits 3" 3 "$code"
check "the unreadable input is named" grep -q '/nonexistent/x.log: cannot open' "$TG_TMP/err"
check_eq "the readable input is still processed" "$("$TG_BIN" ingest -q "$f" | wc -l)" "$(wc -l <"$TG_TMP/out")"

# found by the black-box audit: the reason of a read error was printed from
# freed memory.  A directory is named as such; a .gz whose checksum is wrong
# gives zlib's reason.
code=$(run ingest "$TG_TMP")
check_eq "a directory as input exits 3" 3 "$code"
check "... and is named as a directory" grep -q "ingest: $TG_TMP: is a directory" "$TG_TMP/err"
printf 'one\ntwo\n' | gzip >"$TG_TMP/crc.gz"
printf '\377\377\377\377' |
    dd of="$TG_TMP/crc.gz" bs=1 seek=$(($(stat -c %s "$TG_TMP/crc.gz") - 8)) conv=notrunc 2>/dev/null
code=$(run ingest "$TG_TMP/crc.gz")
check_eq "a .gz with a wrong checksum exits 3" 3 "$code"
check "... and the read error says why" \
    grep -q "crc.gz: read error after 0 records: .*incorrect data check" "$TG_TMP/err"
# a .gz cut short (a copy that did not finish): what was read is kept, exit 3
gzip -c "$TG_SHARED/samples/snoopy-2.5.1-default.log" | head -c 600 >"$TG_TMP/cut.gz"
code=$(run ingest "$TG_TMP/cut.gz")
check_eq "a .gz cut short exits 3" 3 "$code"
check "... saying so, after the records it could read" \
    grep -q "cut.gz: read error after [1-9][0-9]* records: the compressed data ends early" "$TG_TMP/err"

# binary input with NUL bytes and invalid UTF-8: valid JSON, exit 0
head -c 200000 /dev/urandom >"$TG_TMP/bin"
printf 'nul\000inside\nbad \xe6\x97\xa5\xe8 utf8\n' >>"$TG_TMP/bin"
code=$(run ingest "$TG_TMP/bin")
check_eq "binary input exits 0" 0 "$code"
check "binary input gives valid JSON only" jq -e . "$TG_TMP/out"
check "NUL bytes are escaped, not lost" grep -q 'nul\\u0000inside' "$TG_TMP/out"
check "invalid UTF-8 is replaced and the reason recorded" \
    jq -e 'select(.event.original | startswith("bad ")) | (.event.original | contains("\ufffd")) and (.trailguard.parse.error | contains("invalid UTF-8"))' "$TG_TMP/out"

# a 10 MB line is one event; a line over the record limit (TG_RECORD_MAX,
# 64 MiB, core/limits.h) is cut and partial
head -c 10000000 /dev/zero | tr '\0' 'a' >"$TG_TMP/big"
echo >>"$TG_TMP/big"
code=$(run ingest "$TG_TMP/big")
check_eq "a 10 MB line exits 0" 0 "$code"
check_eq "a 10 MB line is one event of 10 MB" 10000000 "$(jq -r '.event.original | length' "$TG_TMP/out")"
head -c 68000000 /dev/zero | tr '\0' 'b' >"$TG_TMP/huge"
printf '\nafter\n' >>"$TG_TMP/huge"
code=$(run ingest "$TG_TMP/huge")
rm -f "$TG_TMP/huge"
check_eq "an over-long line exits 0" 0 "$code"
check_eq "an over-long line is cut with the reason, and the next line kept" "true 67108864 after" \
    "$(jq -r '"\(.trailguard.parse.error // "" | contains("truncated")) \(.event.original|length)"' "$TG_TMP/out" | head -1) $(jq -r .event.original "$TG_TMP/out" | tail -1)"

# a config error names the file, the line and the key, and exits 2
printf '[collector]\nworkers = 2\nfsync = sometimes\n' >"$TG_TMP/bad.ini"
code=$(run ingest -c "$TG_TMP/bad.ini" /dev/null)
check_eq "a bad config exits 2" 2 "$code"
check "the config error names file:line and key" grep -q "bad.ini:3: \[collector\] fsync: invalid value 'sometimes'" "$TG_TMP/err"
# found by the black-box audit: -c DIRECTORY ran on the built-in defaults
mkdir "$TG_TMP/confdir"
code=$(run ingest -c "$TG_TMP/confdir" /dev/null)
check_eq "ingest -c DIRECTORY exits 2" 2 "$code"
check "... saying it is a directory" grep -q "confdir: is a directory, not a configuration file" "$TG_TMP/err"
code=$(timeout 20 "$TG_BIN" serve -c "$TG_TMP/confdir" >"$TG_TMP/out" 2>"$TG_TMP/err"; echo $?)
check_eq "serve -c DIRECTORY exits 2 (does not run on defaults)" 2 "$code"

# a sink that fails for good: batch mode has no spool, so ingest says how many
# events were not delivered and exits 3 (a 16 KiB tmpfs fills at once; 5000
# events fit in what the pipeline holds, a larger input would wait for space)
mkdir -p "$TG_TMP/full"
if mount -t tmpfs -o size=16k tmpfs "$TG_TMP/full" 2>/dev/null; then
    awk 'BEGIN { for (i = 1; i <= 5000; i++)
        printf "[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/echo]: /bin/echo %d %d\n", i, i * 7919 }' \
        >"$TG_TMP/many.log"
    printf '[sink.file]\ndir = %s/store\n' "$TG_TMP/full" >"$TG_TMP/full.ini"
    code=$(timeout 120 "$TG_BIN" ingest -q -c "$TG_TMP/full.ini" "$TG_TMP/many.log" 2>"$TG_TMP/err" >/dev/null; echo $?)
    umount "$TG_TMP/full"
    check_eq "a sink failing to the end: ingest exits 3" 3 "$code"
    check "... saying how many events were not delivered" grep -q 'events were not delivered' "$TG_TMP/err"
else
    skip "failing sink: cannot mount a tmpfs (needs root)"
    skip "failing sink: message"
fi

# a record without a host of its own (Percona's audit.log) is identified by
# its file: the same file however its path is spelled gives the same ids
cp "$TG_SHARED/samples/percona-audit.json" "$TG_TMP/audit.log"
check_eq "event.id does not depend on how the path is spelled" \
    "$("$TG_BIN" ingest -q "$TG_TMP/audit.log" | jq -r .event.id | md5sum)" \
    "$(cd "$TG_TMP" && "$TG_BIN" ingest -q ./audit.log | jq -r .event.id | md5sum)"

# option errors say which option, once (getopt's own message is off)
code=$(run serve -c)
check_eq "serve -c without a file exits 2" 2 "$code"
check_eq "... saying '-c' needs a value, in one message" \
    "trailguard serve: option '-c' needs a value|Try \`trailguard serve --help\`." "$(paste -sd'|' "$TG_TMP/err")"
code=$(run query --bogus=1 "$TG_TMP")
check "an unknown long option is named" grep -q "trailguard query: unknown option '--bogus'" "$TG_TMP/err"
code=$(run policy check --json -zq)
check "an unknown letter inside a group is named, not the word before" \
    grep -q "trailguard policy: unknown option '-z'" "$TG_TMP/err"
code=$(run --bogus)
check_eq "trailguard --bogus exits 2" 2 "$code"
check "... naming an unknown option, not a command" grep -q "unknown option '--bogus'" "$TG_TMP/err"
code=$(run help --help)
check_eq "help --help exits 0" 0 "$code"
check "... and shows help's usage" grep -q "usage: trailguard help" "$TG_TMP/out"

tap_done
