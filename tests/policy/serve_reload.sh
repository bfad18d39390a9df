#!/bin/bash
# serve_reload.sh - `serve` with [policy]: every event carries a verdict and
# the snapshot id; SIGHUP swaps in an edited snapshot; a reload that fails
# (directory gone, or a damaged file in it) keeps the last good snapshot and
# is logged as an error; the metrics count each failure.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
MPORT=$(free_port 20800 20819)
L=$D/app.log
P=$D/policy
mkdir -p "$P"
rec() { # FIRST LAST: snoopy syslog lines by bob on web2
    for i in $(seq "$1" "$2"); do
        printf '2026-11-24T13:44:13.000000+00:00 web2 snoopy[%d]: [login:bob ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) uid:bob(1001)/bob(1001) cwd:/]: /bin/echo rec-%d\n' $((100 + i)) "$i"
    done
}
rule() { # ENABLED
    cat >"$P/hbac.ldif" <<EOL
dn: ipaUniqueID=1,cn=hbac,dc=x
objectClass: ipahbacrule
cn: everyone_ssh
accessRuleType: allow
ipaEnabledFlag: $1
userCategory: all
hostCategory: all
memberService: cn=sshd,cn=hbacservices,cn=hbac,dc=x
EOL
}
echo 'bob:x:1001:1001::/home/bob:/bin/bash' >"$P/passwd"
rule TRUE
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen = 127.0.0.1:$MPORT
workers = 2
[input.file]
path = $L
[policy]
snapshot_dir = $P
EOC
verdicts() { grep '^{' "$D/out" | jq -r '.trailguard.policy.decision + " " + .trailguard.policy.snapshot' | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' '; }
count() { [ "$(grep -c '^{' "$D/out" 2>/dev/null)" -ge "$1" ]; }
rec 1 10 >"$L"
check "serve starts with a snapshot" serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
check "10 events" wait_for 100 count 10
id1=$(grep '^{' "$D/out" | head -1 | jq -r '.trailguard.policy.snapshot')
check_eq "all allowed by everyone_ssh" "10 allow " "$(verdicts)"
rule FALSE
kill -HUP "$SERVE_PID"
# (a process substitution would be read once: wait_for must re-read the log)
check "SIGHUP loads the edited snapshot" wait_for 100 sh -c "grep -v '$id1' '$D/serve.log' | grep -q 'snapshot [0-9a-f]* loaded from $P'"
rec 11 15 >>"$L"
check "5 more events" wait_for 100 count 15
check_eq "then denied, under the new snapshot" "10 allow 5 deny " "$(verdicts)"
id2=$(grep '^{' "$D/out" | tail -1 | jq -r '.trailguard.policy.snapshot')
check "the ids differ" test "$id1" != "$id2"
mv "$P" "$P.gone"
kill -HUP "$SERVE_PID"
check "a failed reload is logged" wait_for 100 grep -q 'keeping the previous snapshot' "$D/serve.log"
rec 16 18 >>"$L"
check "3 more events" wait_for 100 count 18
check_eq "judged by the last good snapshot" "$id2" "$(grep '^{' "$D/out" | tail -1 | jq -r '.trailguard.policy.snapshot')"
# a damaged file (truncated sudoers.json) fails the reload too: the snapshot
# would otherwise judge sudo without its sudo rules
mv "$P.gone" "$P"
printf '{ "User_Specs": [ {\n' >"$P/sudoers.json"
kill -HUP "$SERVE_PID"
check "a damaged snapshot is refused, naming file:line" wait_for 100 grep -q \
    "error: policy: policy snapshot $P is damaged and was not loaded: $P/sudoers.json:2: invalid JSON.*(keeping the previous snapshot)" "$D/serve.log"
rec 19 21 >>"$L"
check "3 more events" wait_for 100 count 21
check_eq "judged by the last good snapshot" "$id2" "$(grep '^{' "$D/out" | tail -1 | jq -r '.trailguard.policy.snapshot')"
check_eq "... which denies them" "10 allow 11 deny " "$(verdicts)"
if command -v curl >/dev/null; then
    failures=$(curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "trailguard_policy_snapshot_load_failures_total" { print $2 }')
    # (at least: the 30 s directory check may have retried one of them)
    check "the metrics count both failed reloads ($failures)" test "${failures:-0}" -ge 2
else
    skip "curl not installed: the failure count is not scraped"
fi
check "serve stops" serve_stop
tap_done
