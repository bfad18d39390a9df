#!/bin/bash
# store_index.sh - the skip index and the fast scan (issue 13):
#   - the skip index never hides a matching record: 150 random queries
#     (every filter, alone and combined, values present and absent, rare and
#     common) give exactly the events a brute-force scan of `zcat` finds
#     (tests/integration/store_oracle.py), in store order;
#   - the index is used: a rare user skips most members unread, and only the
#     members with a match are checked against the chain;
#   - --count-by gives jq's group_by counts, --fields jq's projection;
#   - --follow prints what a running collector stores, across rotations,
#     and exactly once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
. "$(dirname "$0")/relp_lib.sh"
cd "$TG_TMP" || exit 1
ORACLE="python3 $TG_SRCDIR/tests/integration/store_oracle.py"

# a store of 30 hosts, 60 users (a few busy, most rare), words rare and common
python3 - >in.log <<'PY'
import random
r = random.Random(13)
users = ["alice", "bob", "carol", "dave", "root"] + ["u%03d" % i for i in range(55)]
weights = [40, 30, 20, 10, 15] + [1] * 50 + [0.02] * 5 # u050..u054: a few events each
cmds = ["ls -la /srv/app%d", "systemctl restart nginx", "sudo -u postgres psql -c 'select %d'",
        "cat /etc/shadow", "vim /etc/hosts", "grep -r Secret_%d /opt", "tar czf /tmp/b%d.tgz /home",
        "curl -s https://example.com/x?id=%d", "echo \"quoted %d\" | tee -a log"]
for i in range(24000):
    t = i * 3
    u = r.choices(users, weights)[0]
    c = r.choice(cmds)
    c = c % r.randrange(100000) if "%d" in c else c
    if r.random() < 0.001:
        c += " NEEDLE%d" % r.randrange(20)
    print("Nov %2d %02d:%02d:%02d host%02d.example.com snoopy[%d]: [login:%s ssh:((undefined)) sid:%d "
          "tty:/dev/pts/%d ((none)/(none)) uid:%s(%d)/%s(%d) cwd:/home/%s]: %s"
          % (24 + t // 86400, t // 3600 % 24, t // 60 % 60, t % 60, r.randrange(30), 10000 + i, u,
             500 + i % 13, i % 4, u, 1000 + users.index(u), "root" if r.random() < 0.1 else u,
             0 if r.random() < 0.1 else 1000 + users.index(u), u, c))
PY
cat "$TG_SRCDIR"/tests/data/*.json >>in.log # Percona: trailguard.db.statement, other datasets and actions
store_snapshot snap
printf '[collector]\nfsync = interval\n[policy]\nsnapshot_dir = %s\n[sink.file]\ndir = S\nrotate_bytes = 256k\n' \
    "$TG_TMP/snap" >c.ini

check "ingest 24000 events" "$TG_BIN" ingest -q -c c.ini in.log
store_cat S >all.ndjson
members=$(for f in S/seg-*.chain; do python3 "$TG_SRCDIR/tests/integration/tamper.py" members "$f"; done | wc -l)
diag "$(wc -l <all.ndjson) events in $(ls S/seg-*.chain | wc -l) segments, $members members"
check "members are bounded (at most 1024 records each)" test "$members" -ge 24

# the differential test
$ORACLE queries all.ndjson 150 13 >queries.txt
bad=0 n=0
while IFS=$'\t' read -r args; do
    n=$((n + 1))
    eval "set -- $args"
    "$TG_BIN" query S --format ndjson "$@" 2>q.err | jq -r .event.id >got
    $ORACLE run all.ndjson "$@" >want
    if ! cmp -s got want; then
        bad=$((bad + 1))
        diag "query $args: $(wc -l <got) events, brute force $(wc -l <want)"
    fi
done <queries.txt
check_eq "150 random queries give exactly the brute-force scan's events, in order ($n run)" 0 "$bad"

stats() { "$TG_BIN" query S --stats "$@" 2>&1 >/dev/null | tail -1; }
num() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p"; }
rare=$(stats --user u052)
skipped=$(num "members skipped by their index" <<<"$rare")
checked=$(num "checked against the chain" <<<"$rare")
matched=$(sed -n 's/^trailguard query: \([0-9]*\) matched.*/\1/p' <<<"$rare")
check "a rare user: most members are skipped by their index ($skipped of $members)" \
    test "${skipped:-0}" -ge $((members / 2))
check "... and only members with a match are checked against the chain ($checked for $matched events)" \
    test "${checked:-99}" -le "${matched:-0}"
w=$(stats --word needle3)
check "a rare word skips members by the index" test "$(num "members skipped by their index" <<<"$w")" -ge $((members / 2))

# --count-by against jq's group_by
jq -s -c 'group_by(.user.name, .host.name) | map({user: .[0].user.name, host: .[0].host.name, count: length}) | sort_by(-.count, .user, .host) | .[]' \
    all.ndjson >want.cb
"$TG_BIN" query S --count-by user,host --format ndjson | jq -c '{user, host, count}' | sort >got.cb
check_eq "--count-by user,host gives jq's group_by counts" "$(sort want.cb | md5sum)" "$(md5sum <got.cb)"
check_eq "... most frequent first" "$(head -1 want.cb | jq .count)" \
    "$("$TG_BIN" query S --count-by user,host --format ndjson | head -1 | jq .count)"
jq -r 'select(.trailguard.policy.decision == "deny") | "\(.["@timestamp"][0:13]) \(.trailguard.policy.decision)"' all.ndjson |
    sort | uniq -c | awk '{ print $2 " " $3 " " $1 }' | sort >want.h
"$TG_BIN" query S --decision deny --count-by hour,decision --format csv | tail -n +2 | tr -d '\r' |
    tr ',' ' ' | sort >got.h
check_eq "--count-by hour,decision with a filter (CSV)" "$(md5sum <want.h)" "$(md5sum <got.h)"
check_eq "--count-by --limit N prints the N biggest groups" 3 \
    "$("$TG_BIN" query S --count-by user --limit 3 --format ndjson | wc -l)"
"$TG_BIN" query S --count-by user --fields host >/dev/null 2>&1
check_eq "--count-by with --fields is a usage error" 2 "$?"

# --fields against jq
jq -c -S 'select(.host.name == "host07.example.com") | {"@timestamp": .["@timestamp"], user: {name: .user.name, effective: {name: .user.effective.name}}, process: {command_line: .process.command_line}}' \
    all.ndjson >want.f
"$TG_BIN" query S --host host07.example.com --fields time,user,euser,command --format ndjson | jq -c -S . >got.f
check_eq "--fields projects the events (nested as stored)" "$(md5sum <want.f)" "$(md5sum <got.f)"
"$TG_BIN" query S --host host07.example.com --fields time,user,command --format csv >got.csv
check "--fields in CSV: a header of the names and one row per event" python3 - got.csv "$(wc -l <want.f)" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["time", "user", "command"], rows[0]
assert len(rows) == int(sys.argv[2]) + 1 and all(len(r) == 3 for r in rows)
PY

# --follow: a collector that keeps writing and rotates
F=$TG_TMP/live
gen_records 200 0 >feed.log
cat >f.conf <<EOC
[collector]
spool_dir = $TG_TMP/spool
metrics_listen =
fsync = always
[input.file]
path = $TG_TMP/feed.log
[sink.file]
dir = $F
rotate_bytes = 4096
EOC
serve_start f.conf serve.out serve.log
stored_n() { "$TG_BIN" query "$F" --format ndjson 2>/dev/null | wc -l; }
wait_for 200 sh -c "[ \$('$TG_BIN' query '$F' --format ndjson 2>/dev/null | wc -l) -ge 200 ]"
"$TG_BIN" query "$F" --follow --user alice --format ndjson >follow.out 2>follow.err &
FOLLOW=$!
"$TG_BIN" query "$F" --follow --since 2000-01-01 --format ndjson >follow_all.out 2>follow_all.err &
FOLLOW_ALL=$!
# a follower without --since starts at the end: write only once it holds the sidecar open
has_open() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q '\.chain$'; }
check "the followers are at the store's end" wait_for 100 has_open "$FOLLOW"
for k in 1 2 3 4 5; do # five bursts, while the followers run
    gen_records 300 $((k * 10)) >>feed.log
    wait_for 200 sh -c "[ \$('$TG_BIN' query '$F' --format ndjson 2>/dev/null | wc -l) -ge $((200 + k * 300)) ]"
done
lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
check "--follow prints alice's new events as they are stored (300)" wait_for 200 lines follow.out 300
check "--follow --since prints the history, then every new event (1700)" wait_for 200 lines follow_all.out 1700
serve_stop
kill "$FOLLOW" "$FOLLOW_ALL"
wait "$FOLLOW" "$FOLLOW_ALL" 2>/dev/null
nseg=$(ls "$F"/seg-*.chain | wc -l)
check "the writer rotated while followed ($nseg segments)" test "$nseg" -ge 5
"$TG_BIN" query "$F" --user alice --since 2026-11-24T00:10:00Z --format ndjson | jq -r .event.id >want.fo
check_eq "--follow: only events stored after it started, each once, in store order" \
    "$(md5sum <want.fo)" "$(jq -r .event.id follow.out | md5sum)"
check_eq "--follow --since: every event of the store, each once, in store order" \
    "$("$TG_BIN" query "$F" --format ndjson | jq -r .event.id | md5sum)" \
    "$(jq -r .event.id follow_all.out | md5sum)"
tap_done
