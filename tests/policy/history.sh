#!/bin/bash
# history.sh - "was it allowed at the time?" (issue 15, part 1).  A world
# whose HBAC and sudo rules change mid-stream: `serve` with [policy]
# snapshot_history_dir records snapshot A, then (SIGHUP) snapshot B, in
# which alice lost her HBAC access and her sudo rule and bob gained both.
# Events from before and after the change arrive out of order and each is
# judged by the snapshot in force at its @timestamp; within grace_seconds
# after the change alice is still allowed (the reason names the change).
# `ingest` replaying the same records gives the same verdicts from the
# history; `policy check --at` answers the same; `policy history` lists
# both snapshots and what changed.  A restart with a damaged snapshot
# directory (and a torn index line) keeps B in force.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
P=$D/policy
H=$D/history
L=$D/in.log
mkdir -p "$P"

# world USER_WITH_ACCESS: the snapshot files; A grants alice, B grants bob
world() {
    printf 'alice:x:1001:1001::/home/alice:/bin/bash\nbob:x:1002:1002::/home/bob:/bin/bash\n' >"$P/passwd"
    printf 'ops:x:2000:alice\n' >"$P/group"
    if [ "$1" = bob ]; then
        echo 'carol:x:1003:1003::/home/carol:/bin/sh' >>"$P/passwd"
        printf 'ops:x:2000:alice,carol\n' >"$P/group"
    fi
    cat >"$P/idm.ldif" <<EOL
dn: ipaUniqueID=1,cn=hbac,dc=x
objectClass: ipahbacrule
cn: access
accessRuleType: allow
ipaEnabledFlag: TRUE
memberUser: uid=$1,cn=users,cn=accounts,dc=x
hostCategory: all
serviceCategory: all

dn: cn=$1_nginx,ou=sudoers,dc=x
objectClass: sudoRole
cn: $1_nginx
sudoUser: $1
sudoHost: ALL
sudoCommand: /usr/bin/systemctl restart nginx
EOL
}

# rec SECONDS USER CMD: a snoopy record at that unix time on web1
rec() {
    printf '%s web1.example.com snoopy[%d]: [login:%s ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) uid:%s(1001)/%s(1001) cwd:/]: %s\n' \
        "$(date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000+00:00)" $((RANDOM + 100)) "$2" "$2" "$2" "$3"
}
secs() { jq -rn --arg t "$1" '$t | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601'; }
entries() { "$TG_BIN" policy history --history "$H" --json 2>/dev/null | grep -c '^{'; }
has_entries() { [ "$(entries)" -ge "$1" ]; }
count() { [ "$(grep -c '^{' "$1" 2>/dev/null)" -ge "$2" ]; }
# verdict FILE CMD: "decision snapshot in_force" of the event whose command line is CMD
verdict() {
    jq -r --arg c "$2" 'select(.process.command_line == $c) | .trailguard.policy |
        [.decision, .snapshot, (.in_force // "-")] | join(" ")' "$1"
}
reason() { jq -r --arg c "$2" 'select(.process.command_line == $c) | .trailguard.policy.reason' "$1"; }

cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen =
workers = 2
[input.file]
path = $L
[policy]
snapshot_dir = $P
snapshot_history_dir = $H
grace_seconds = 60
EOC
: >"$L"
world alice
check "serve starts with snapshot A" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
check "A is recorded in the history" wait_for 100 has_entries 1
A=$("$TG_BIN" policy history --history "$H" --json | jq -r 'select(.until == null) | .snapshot')
T0=$(secs "$("$TG_BIN" policy history --history "$H" --json | jq -r '.from')")
check "... with a copy of its files" test -s "$H/snapshots/$A/idm.ldif"
world bob
kill -HUP "$SERVE_PID"
check "SIGHUP: B is recorded" wait_for 100 has_entries 2
B=$("$TG_BIN" policy history --history "$H" --json | jq -r 'select(.until == null) | .snapshot')
T1=$(secs "$("$TG_BIN" policy history --history "$H" --json | jq -r 'select(.until == null) | .from')")
check "the two snapshots differ" test "$A" != "$B"

# out of order: after the change, before it, inside the grace window, ...
# (sudo records are told apart by their pid: the rule names exact arguments)
SUDO='sudo systemctl restart nginx'
{
    rec $((T1 + 200)) alice '/bin/echo e5'
    rec $((T1 - 100)) alice '/bin/echo e1'
    rec $((T1 + 10)) bob '/bin/echo e7'
    rec $((T1 + 10)) alice '/bin/echo e3'
    rec $((T1 - 50)) bob '/bin/echo e6'
    rec $((T1 - 50)) alice "$SUDO" | sed 's/snoopy\[[0-9]*\]/snoopy[2]/'
    rec $((T1 + 20)) alice "$SUDO" | sed 's/snoopy\[[0-9]*\]/snoopy[4]/'
    rec $((T1 + 300)) bob "$SUDO" | sed 's/snoopy\[[0-9]*\]/snoopy[8]/'
    rec $((T0 - 1000)) alice '/bin/echo e9'
} >>"$L"
check "9 events" wait_for 100 count "$D/out" 9
# sudo events by pid
sv() { jq -r --argjson p "$2" 'select(.process.pid == $p) | .trailguard.policy |
        [.decision, .snapshot, (.in_force // "-")] | join(" ")' "$1"; }
sr() { jq -r --argjson p "$2" 'select(.process.pid == $p) | .trailguard.policy.reason' "$1"; }
check_eq "e1 alice before the change: allowed by A" "allow $A -" "$(verdict "$D/out" '/bin/echo e1')"
check_eq "e2 alice's sudo before the change: allowed by A" "allow $A -" "$(sv "$D/out" 2)"
check_eq "e6 bob before the change: denied by A (no grace before a change)" "deny $A -" \
    "$(verdict "$D/out" '/bin/echo e6')"
check_eq "e3 alice 10 s after: B denies, A allows within grace" "allow $A $B" \
    "$(verdict "$D/out" '/bin/echo e3')"
check "... the reason names the change" sh -c "echo '$(reason "$D/out" '/bin/echo e3')' |
    grep -q 'grace_seconds 60 of the change from policy snapshot $A to $B at '"
check_eq "e4 alice's sudo 20 s after: grace" "allow $A $B" "$(sv "$D/out" 4)"
check_eq "e5 alice 200 s after: denied by B" "deny $B -" "$(verdict "$D/out" '/bin/echo e5')"
check_eq "e7 bob 10 s after: allowed by B" "allow $B -" "$(verdict "$D/out" '/bin/echo e7')"
check_eq "e8 bob's sudo 300 s after: allowed by B" "allow $B -" "$(sv "$D/out" 8)"
check_eq "e9 older than the history: the oldest snapshot judges" "allow $A -" \
    "$(verdict "$D/out" '/bin/echo e9')"
check "... and says so" sh -c "echo '$(reason "$D/out" '/bin/echo e9')' | grep -q 'older than the snapshot history'"

# replayed later by `ingest` (reading the history): the same verdicts
"$TG_BIN" ingest -q -c "$D/tg.conf" "$L" >"$D/replay" 2>"$D/replay.err"
check_eq "ingest replays the 9 records" 9 "$(grep -c '^{' "$D/replay")"
summary() { jq -r '[.process.pid, .trailguard.policy.decision, .trailguard.policy.snapshot,
    (.trailguard.policy.in_force // "-")] | join(" ")' "$1" | sort -n; }
check_eq "... each judged by the snapshot of its time, as serve did" "$(summary "$D/out")" "$(summary "$D/replay")"

# policy check --at: the same path
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
out=$("$TG_BIN" policy check -c "$D/tg.conf" --at "$(at $((T1 + 10)))" --user alice --host web1.example.com --json)
check_eq "check --at inside the grace window: allow by A, B in force" "allow $A $B" \
    "$(echo "$out" | jq -r '[.decision, .snapshot, .in_force] | join(" ")')"
"$TG_BIN" policy check -c "$D/tg.conf" --at "$(at $((T1 + 200)))" --user alice --host web1.example.com >"$D/verdict.out"
check_eq "check --at after the grace window: deny, exit 1" 1 $?
check "... by B" grep -q "^snapshot: $B" "$D/verdict.out"
"$TG_BIN" policy check --history "$H" --at "$(at $((T1 - 50)))" --user alice --host web1.example.com \
    --command '/usr/bin/systemctl restart nginx' >"$D/verdict.out"
check_eq "check --at before the change, sudo, with --history alone: allow" "0 decision: allow" \
    "$? $(head -1 "$D/verdict.out")"
"$TG_BIN" policy check --snapshot "$P" --at now --user alice --host web1 >/dev/null 2>&1
check_eq "check --at without a history: usage error" 2 $?

# policy history: the list, and what changed
"$TG_BIN" policy history --history "$H" >"$D/list"
check "history lists A until the change and B until now" sh -c \
    "grep -q '^$A .* [0-9T:.-]*Z\$' '$D/list' && grep -q '^$B .*(now)\$' '$D/list'"
"$TG_BIN" policy history --history "$H" "${B:0:6}" >"$D/diff"
check "diff: the HBAC rule's users changed" grep -qx '~ HBAC rule access: users +bob -alice' "$D/diff"
check "diff: alice's sudo rule removed, with its text" grep -qxF -- \
    '- sudo rule alice_nginx (rule alice ALL = /usr/bin/systemctl restart nginx [sudoOrder 0])' "$D/diff"
check "diff: bob's sudo rule added, with its text" grep -q '^+ sudo rule bob_nginx (rule bob ALL = /usr/bin/systemctl restart nginx' "$D/diff"
check "diff: user carol added" grep -q '^+ user carol (uid 1003; ' "$D/diff"
check "diff: group ops gained a member" grep -qx '~ user group ops: members +carol' "$D/diff"
check "diff: the summary counts" grep -qx '5 changes: HBAC rules +0 -0 ~1, sudo rules +1 -1 ~0, users +1 -0 ~0, user groups +0 -0 ~1' "$D/diff"
"$TG_BIN" policy history --history "$H" "$A" "$A" >"$D/diff0"
check_eq "a snapshot against itself: no changes" "0 changes" "$(tail -1 "$D/diff0")"
"$TG_BIN" policy history --history "$H" nosuch >/dev/null 2>&1
check_eq "an unknown id: usage error" 2 $?
check "serve stops" serve_stop

# restart: a torn index line (a crash during the append) and a damaged
# snapshot directory: B stays in force, the torn line is cut
printf '2026-12-0' >>"$H/history.tsv"
check_eq "a reader skips the torn line" 2 "$(entries)"
printf '{ "User_Specs": [ {\n' >"$P/sudoers.json"
: >"$D/out2"
check "serve starts on a damaged snapshot" serve_start "$D/tg.conf" "$D/out2" "$D/serve2.log"
check "... cuts the torn index line" grep -q 'the last line is incomplete (an interrupted write); it is cut off' "$D/serve2.log"
check "... keeps B in force" grep -q "the newest snapshot of the history, $B (in force from .*), stays in force" "$D/serve2.log"
now=$(date +%s)
rec "$now" bob '/bin/echo e10' >>"$L"
check "an event after the restart" wait_for 100 count "$D/out2" 1
check_eq "... is judged by B" "allow $B -" "$(verdict "$D/out2" '/bin/echo e10')"
check_eq "the history still holds A and B, no torn line" "2 0" "$(entries) $(tail -c 1 "$H/history.tsv" | tr -d '\n' | wc -c)"
check "serve stops" serve_stop
printf '[policy]\nsnapshot_dir = %s\ngrace_seconds = 60\n' "$P" >"$D/grace.conf"
"$TG_BIN" ingest -q -c "$D/grace.conf" /dev/null 2>"$D/grace.err"
check_eq "grace_seconds without a history: a configuration error (exit 2)" 2 $?
check "... naming the file, line and key" grep -q "grace.conf:3: \[policy\] grace_seconds needs snapshot_history_dir" "$D/grace.err"
tap_done
