#!/bin/bash
# fields.sh - the field names of trailguard's events against ECS 8.11 and the
# index templates (tests/ecs/fields.py), over every golden output and the
# events of the sample data judged by the example policy, with masks,
# samples, uid-only records, sudo lines and Percona records.
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
E=$TG_SRCDIR/deploy/policy-example
cat >"$TG_TMP/f.conf" <<'CONF'
[filter.sample]
action = sample
executable = ls
rate = 2
CONF
{
    cat "$TG_SRCDIR"/tests/data/*
    cat "$TG_SRCDIR"/tests/golden/*/*.in
    printf '%s\n' '<86>Nov 24 13:42:31 web1.example.com snoopy[2]: [uid:1001 sid:1 tty:/dev/pts/0 cwd:/ filename:/usr/bin/sudo]: sudo -u postgres -g adm mysql -pS3cret' \
        '<86>Nov 24 13:42:31 web1.example.com sudo[3]:    alice : command not allowed ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id' \
        '<86>Nov 24 13:42:31 web1.example.com snoopy[4]: [uid:1001 sid:1 tty:/dev/pts/0 cwd:/ filename:/usr/bin/ls]: ls -l'
} >"$TG_TMP/all.in"
"$TG_BIN" ingest -q -c "$TG_TMP/f.conf" --snapshot "$E" "$TG_TMP/all.in" >"$TG_TMP/policy.json" 2>/dev/null
"$TG_BIN" ingest -q --snapshot "$E" --format sudo "$TG_SRCDIR"/tests/golden/sudo/*.in >"$TG_TMP/sudo.json" 2>/dev/null
python3 "$TG_SRCDIR/tests/ecs/fields.py" "$TG_SRCDIR/README.md" "$TG_SRCDIR"/tests/golden/*/*.expected \
    "$TG_TMP/policy.json" "$TG_TMP/sudo.json"
