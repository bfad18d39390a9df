#!/bin/bash
# filter.sh - [filter]: drop and sample noise (counted per rule, never a
# deny), mask secrets in the stored event while event.hash proves the
# original, and a dropped record is still confirmed to the spool (serve
# replays nothing after a restart).  Issue 16 part 8.
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
E=$TG_SRCDIR/deploy/policy-example
hdr() { printf '<86>Nov 24 13:42:%02d web1.example.com snoopy[%d]: ' "$1" "$2"; }
exec_line() { # SEC PID LOGIN UID CMD
    hdr "$1" "$2"
    printf '[login:%s ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) uid:%s(%s)/%s(%s) cwd:/]: %s\n' \
        "$3" "$3" "$4" "$3" "$4" "$5"
}
{
    exec_line 1 101 root 0 'run-parts --report /etc/cron.hourly'
    exec_line 2 102 root 0 '/usr/sbin/cron -f'
    exec_line 3 103 alice 1001 'mysql -uroot -pS3cretPw -e select'
    exec_line 4 104 alice 1001 'curl -H Authorization: Bearer tok.en https://bob:pw123@example.com/x?token=zzz&a=1'
    exec_line 5 105 dave 1004 'sudo systemctl restart nginx' # denied: never dropped
    for i in $(seq 10 49); do exec_line "$i" "$((200 + i))" alice 1001 '/usr/bin/uptime'; done
} >"$TG_TMP/in.log"
cat >"$TG_TMP/f.conf" <<'EOF'
[filter.cron]
action = drop
user = root
executable = run-parts, /usr/sbin/cron

[filter.dave]
action = drop
user = dave

[filter.uptime]
action = sample
executable = uptime
rate = 4

[filter.statement]
action = mask
dataset = percona.audit
pattern = AES_ENCRYPT\([^,]*,\s*'([^']*)'
EOF
"$TG_BIN" ingest -c "$TG_TMP/f.conf" --snapshot "$E" "$TG_TMP/in.log" >"$TG_TMP/out.json" 2>"$TG_TMP/err"
check_eq "ingest with [filter] exits 0" 0 $?
ev() { jq -c "select(.event.original | contains(\"$1\"))" "$TG_TMP/out.json"; }

check_eq "cron's commands are dropped" "" "$(ev run-parts)$(ev 'cron -f')"
check_eq "a deny is never dropped (dave's rule matched it)" deny \
    "$(ev 'restart nginx' | jq -r .trailguard.policy.decision)"
kept=$(ev uptime | wc -l)
check "sampling keeps about one in four of 40 (here $kept)" test "$kept" -ge 4 -a "$kept" -le 18
check_eq "every kept sample says so" "$kept" "$(ev uptime | jq -r 'select(.trailguard.filter == {"rule":"uptime","rate":4}) | 1' | wc -l)"
# the choice is by event.id: the same records give the same choice
"$TG_BIN" ingest -q -c "$TG_TMP/f.conf" --snapshot "$E" "$TG_TMP/in.log" 2>/dev/null | jq -r .event.id >"$TG_TMP/ids2"
check_eq "the sample is the same on a second run" "$(jq -r .event.id "$TG_TMP/out.json")" "$(cat "$TG_TMP/ids2")"
check "ingest reports the drops per rule on stderr" \
    grep -q "events dropped by \[filter\] rules; filter: cron matched=2 dropped=2 protected=0; dave matched=1 dropped=0 protected=1; uptime matched=40 dropped=$((40 - kept))" "$TG_TMP/err"

# masking: the secret is gone from every stored text; event.hash is the
# SHA-256 of the line as received
m=$(ev 'mysql -uroot')
check_eq "mysql -p: command line masked" "mysql -uroot -p**** -e select" "$(printf '%s' "$m" | jq -r .process.command_line)"
check_eq "... and the argument" '-p****' "$(printf '%s' "$m" | jq -r '.process.args[2]')"
check_eq "... and the secret is nowhere in the event" 0 "$(printf '%s' "$m" | grep -c S3cretPw)"
orig=$(grep 'mysql -uroot' "$TG_TMP/in.log")
check_eq "event.hash is sha256 of the original line" \
    "$(printf '%s' "$orig" | sha256sum | cut -d' ' -f1)" "$(printf '%s' "$m" | jq -r .event.hash)"
check_eq "trailguard.mask names the rule and the hash" '{"rules":["secrets.mysql_password"],"hash":"sha256"}' \
    "$(printf '%s' "$m" | jq -c .trailguard.mask)"
c=$(ev 'curl -H' | jq -r .process.command_line)
check_eq "URL credentials, tokens and Authorization headers" \
    'curl -H Authorization: Bearer **** https://bob:****@example.com/x?token=****&a=1' "$c"
check_eq "an event without a secret has no event.hash" null "$(ev uptime | head -1 | jq -c .event.hash)"

# SQL in Percona records: IDENTIFIED BY, and the user's own rule; the
# masked original stays valid JSON and the hash is over the record as read
printf '%s\n' '{"audit_record":{"name":"Query","record":"7_2026","timestamp":"2026-11-24T13:44:14Z","command_class":"create_user","connection_id":"9","status":0,"sqltext":"CREATE USER \"app\"@\"%\" IDENTIFIED BY '"'"'pa\"ss w0rd'"'"'","user":"root[root] @ localhost []","host":"localhost","os_user":"","ip":"","db":""}}' \
    '{"audit_record":{"name":"Query","record":"8_2026","timestamp":"2026-11-24T13:44:15Z","command_class":"select","connection_id":"9","status":0,"sqltext":"SELECT AES_ENCRYPT(col, '"'"'k3y'"'"') FROM t","user":"root[root] @ localhost []","host":"localhost","os_user":"","ip":"","db":""}}' \
    >"$TG_TMP/db.json"
"$TG_BIN" ingest -q -c "$TG_TMP/f.conf" --format percona "$TG_TMP/db.json" >"$TG_TMP/db.out" 2>/dev/null
check_eq "IDENTIFIED BY '...' masked in the statement" "CREATE USER \"app\"@\"%\" IDENTIFIED BY '****'" \
    "$(jq -r 'select(.trailguard.db.operation == "create_user") | .trailguard.db.statement' "$TG_TMP/db.out")"
check_eq "... and in the original, which is still JSON" "CREATE USER \"app\"@\"%\" IDENTIFIED BY '****'" \
    "$(jq -r 'select(.trailguard.db.operation == "create_user") | .event.original | fromjson | .audit_record.sqltext' "$TG_TMP/db.out")"
check_eq "... with the hash of the record as received" "$(head -1 "$TG_TMP/db.json" | tr -d '\n' | sha256sum | cut -d' ' -f1)" \
    "$(jq -r 'select(.trailguard.db.operation == "create_user") | .event.hash' "$TG_TMP/db.out")"
check_eq "a [filter.NAME] mask rule" "SELECT AES_ENCRYPT(col, '****') FROM t" \
    "$(jq -r 'select(.trailguard.db.operation == "select") | .trailguard.db.statement' "$TG_TMP/db.out")"

# hash_key_file: HMAC-SHA-256, so the hash is no way to test guesses
head -c 32 /dev/urandom >"$TG_TMP/key"
printf '[filter]\nhash_key_file = %s\n' "$TG_TMP/key" >"$TG_TMP/k.conf"
got=$(grep 'mysql -uroot' "$TG_TMP/in.log" | "$TG_BIN" ingest -q -c "$TG_TMP/k.conf" - | jq -r '.event.hash + " " + .trailguard.mask.hash')
want=$(printf '%s' "$orig" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(od -An -tx1 -v "$TG_TMP/key" | tr -d " \n")" | sed 's/.*= //')
check_eq "with hash_key_file event.hash is HMAC-SHA-256" "$want hmac-sha256" "$got"
printf '[filter]\nmask_secrets = false\n' >"$TG_TMP/off.conf"
check_eq "mask_secrets = false keeps the command line" "mysql -uroot -pS3cretPw -e select" \
    "$(grep 'mysql -uroot' "$TG_TMP/in.log" | "$TG_BIN" ingest -q -c "$TG_TMP/off.conf" - | jq -r .process.command_line)"

# configuration errors name the file, line and key
bad() { printf '%b' "$1" >"$TG_TMP/bad.conf"; "$TG_BIN" ingest -q -c "$TG_TMP/bad.conf" </dev/null 2>&1 >/dev/null; }
check "a drop rule without matchers is refused" sh -c "$(declare -f bad); TG_TMP='$TG_TMP' TG_BIN='$TG_BIN'; bad '[filter.all]\naction = drop\n' | grep -q 'bad.conf:2: \[filter.all\] action = drop or sample needs at least one of'"
check "a pattern that does not compile is refused" sh -c "$(declare -f bad); TG_TMP='$TG_TMP' TG_BIN='$TG_BIN'; bad '[filter.x]\naction = mask\npattern = (oops\n' | grep -q 'bad.conf:3: \[filter.x\] pattern is not a valid PCRE2 pattern'"
check "stage settings belong in [filter]" sh -c "$(declare -f bad); TG_TMP='$TG_TMP' TG_BIN='$TG_BIN'; bad '[filter]\naction = drop\n' | grep -q 'belong to a rule'"

# serve: the drops are in /metrics and the summary line, and dropped
# records are confirmed to the spool (a restart replays nothing)
port=$(free_port 20000 29999)
mport=$(free_port 30000 39999)
mkdir -p "$TG_TMP/spool" "$TG_TMP/store"
cat "$TG_TMP/f.conf" >"$TG_TMP/s.conf"
cat >>"$TG_TMP/s.conf" <<EOF
[collector]
spool_dir = $TG_TMP/spool
metrics_listen = 127.0.0.1:$mport
[input.file]
path = $TG_TMP/in.log
[policy]
snapshot_dir = $E
[sink.file]
dir = $TG_TMP/store
EOF
"$TG_BIN" serve -c "$TG_TMP/s.conf" 2>"$TG_TMP/serve.err" &
pid=$!
metric() { curl -s "http://127.0.0.1:$mport/metrics" | grep -F "$1" | awk '{print $2}'; }
dropped_ok() { [ "$(metric 'trailguard_filter_dropped_total{rule="cron"}')" = 2 ]; }
check "serve: /metrics counts the drops per rule" wait_for 100 dropped_ok
check_eq "serve: the protected deny" 1 "$(metric 'trailguard_filter_protected_total{rule="dave"}')"
check_eq "serve: the masks" 1 "$(metric 'trailguard_filter_masked_total{rule="secrets.mysql_password"}')"
stored() { [ "$("$TG_BIN" query "$TG_TMP/store" --format ndjson 2>/dev/null | wc -l)" -ge 3 ]; }
check "serve: the kept events are stored" wait_for 100 stored
kill -TERM "$pid"
wait "$pid"
check "serve: the summary line has the rules' counts" grep -q 'summary: .* filter: cron matched=2 dropped=2' "$TG_TMP/serve.err"
n1=$("$TG_BIN" query "$TG_TMP/store" --format ndjson 2>/dev/null | wc -l)
"$TG_BIN" serve -c "$TG_TMP/s.conf" 2>"$TG_TMP/serve2.err" &
pid=$!
up() { grep -q 'serve: running' "$TG_TMP/serve2.err"; }
wait_for 100 up
kill -TERM "$pid"
wait "$pid"
check "serve: a restart replays nothing (dropped records were confirmed)" sh -c "! grep -q 'replayed [0-9]* unconfirmed' '$TG_TMP/serve2.err'"
check_eq "serve: nothing stored twice" "$n1" "$("$TG_BIN" query "$TG_TMP/store" --format ndjson 2>/dev/null | wc -l)"
tap_done
