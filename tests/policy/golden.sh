#!/bin/sh
# golden.sh - `trailguard policy lint` and `policy check` on the shared
# sample snapshots: hbac.ldif (+ the memberships of hbac_oracle.input, whose
# recorded libipa_hbac output is the expectation), sudoers.json (+ the
# oracle's passwd/group/netgroup), sudoers.ldif and ipa-compat-sudoers.ldif.
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
S=$TG_SHARED/samples
O=$TG_SHARED/oracles
mkdir -p "$TG_TMP/hbac" "$TG_TMP/json" "$TG_TMP/ldif" "$TG_TMP/compat"
cp "$S/hbac.ldif" "$TG_SRCDIR/tests/policy/data/hbac-members.ldif" "$TG_TMP/hbac/"
cp "$S/sudoers.json" "$O/oracle.passwd" "$O/oracle.group" "$O/oracle.netgroup" "$TG_TMP/json/"
cp "$S/sudoers.ldif" "$O/oracle.passwd" "$O/oracle.group" "$TG_TMP/ldif/"
cp "$S/ipa-compat-sudoers.ldif" "$TG_TMP/compat/"

# lint: what each snapshot holds
lint() { "$TG_BIN" policy lint --snapshot "$TG_TMP/$1" | grep -E "^$2" ; }
check_eq "lint hbac: rules" "HBAC rules 4: 3 enabled allow, 1 disabled, 0 not of type allow" "$(lint hbac 'HBAC rules')"
check_eq "lint hbac: entities" "users 4, user groups 0, hosts 4, host groups 0, HBAC services 3, service groups 1, netgroups 0" "$(lint hbac users)"
check_eq "lint json: sudo rules" "sudo rules 11: 11 sudoers (JSON) user specs, 0 sudoRole, 0 ipaSudoRule" "$(lint json 'sudo rules')"
check_eq "lint ldif: sudo rules" "sudo rules 12: 0 sudoers (JSON) user specs, 12 sudoRole, 0 ipaSudoRule" "$(lint ldif 'sudo rules')"
check_eq "lint compat: sudo rules" "sudo rules 3: 0 sudoers (JSON) user specs, 3 sudoRole, 0 ipaSudoRule" "$(lint compat 'sudo rules')"
"$TG_BIN" policy lint --snapshot "$TG_TMP/hbac" >/dev/null
check_eq "lint exit status without errors" 0 $?

# check: HBAC cases of hbac_oracle.input/.output
grep '^req' "$O/hbac_oracle.input" >"$TG_TMP/reqs"
while read -r _ user _ host _ svc _; do
    want=$(grep "user=$user host=$host service=$svc " "$O/hbac_oracle.output" | sed 's/.*-> //')
    got=$("$TG_BIN" policy check --snapshot "$TG_TMP/hbac" --user "$user" --host "$host" --service "$svc" --json)
    dec=$(printf '%s' "$got" | jq -r '.decision')
    rule=$(printf '%s' "$got" | jq -r '.rule // empty')
    case $want in
    ALLOW*) exp="allow ${want#ALLOW }" ;;
    *) exp="deny " ;;
    esac
    check_eq "hbac $user@$host/$svc" "$exp" "$dec $rule"
done <"$TG_TMP/reqs"

# a dot-less host name is taken as the one snapshot host with that short name
got=$("$TG_BIN" policy check --snapshot "$TG_TMP/hbac" --user alice --host WEB1 --service sshd --json | jq -r '.decision + " " + .rule')
check_eq "hbac short host name" "allow admins_ssh_web" "$got"

# check: sudo cases (decision and deciding rule)
sudo_case() { # NAME SNAP USER HOST RUNAS CMD EXPECTED_DECISION EXPECTED_RULE
    if [ -n "$5" ]; then r="--runas $5"; else r=; fi
    # shellcheck disable=SC2086
    got=$("$TG_BIN" policy check --snapshot "$TG_TMP/$2" --user "$3" --host "$4" $r --command "$6" --json)
    check_eq "$1" "$7 $8" "$(printf '%s' "$got" | jq -r '.decision + " " + (.rule // "-")')"
}
sudo_case "json: operators restart on web" json alice web1.example.com "" "/usr/bin/systemctl restart nginx" allow sudoers.json:150
sudo_case "json: operators not on db1" json alice db1 "" "/usr/bin/systemctl restart nginx" deny -
sudo_case "json: dave shell denied by negation" json dave web1 "" "/bin/bash" deny sudoers.json:212
sudo_case "json: erin passwd regex" json erin web1 "" "/usr/bin/passwd bob" allow sudoers.json:241
sudo_case "json: erin passwd root negated" json erin web1 "" "/usr/bin/passwd root" deny sudoers.json:241
sudo_case "json: carol psql as postgres" json carol db1 postgres "/usr/bin/psql" allow sudoers.json:187
sudo_case "json: guest uptime excluded" json guest web1 "" "/usr/bin/uptime" deny -
sudo_case "json: hank netgroup apt" json hank web1.example.com "" "/usr/bin/apt-get install vim" allow sudoers.json:286
# sudoedit cannot be asked of sudo -l (oracle limit): these are sudoers(5) semantics
sudo_case "json: frank sudoedit motd" json frank web1 "" "sudoedit /etc/motd" allow sudoers.json:261
sudo_case "json: frank sudoedit shadow" json frank web1 "" "sudoedit /etc/shadow" deny -
sudo_case "json: frank dir spec" json frank web1 "" "/usr/local/sbin/fixperms -R" allow sudoers.json:261
sudo_case "ldif: paranoid bob" ldif dave web1 "" "/usr/bin/su" deny dave
sudo_case "ldif: guest uptime excluded" ldif guest web1 "" "/usr/bin/uptime" deny -
sudo_case "compat: negated command wins in role" compat bob x "" "/bin/sh" deny paranoid
sudo_case "compat: paranoid allows others" compat bob x "" "/usr/bin/id" allow paranoid
sudo_case "compat: webadmins on web1 as root" compat alice web1.example.com "" "/usr/bin/systemctl restart httpd" allow web_admins
sudo_case "compat: stop httpd negated" compat alice web1.example.com "" "/usr/bin/systemctl stop httpd" deny web_admins
"$TG_BIN" policy check --snapshot "$TG_TMP/json" --user nosuch --host h --command id >"$TG_TMP/na" 2>&1
check_eq "unknown user is not_applicable" "decision: not_applicable" "$(head -1 "$TG_TMP/na")"

# ingest --snapshot: every event records the snapshot id; without it no verdict
id=$("$TG_BIN" policy lint --snapshot "$TG_TMP/json" | sed -n '1s/^snapshot \([0-9a-f]*\).*/\1/p')
got=$(echo 'hello' | "$TG_BIN" ingest -q --snapshot "$TG_TMP/json" - 2>/dev/null | jq -r '.trailguard.policy.snapshot')
check_eq "ingest --snapshot records the snapshot id" "$id" "$got"
got=$(echo 'hello' | "$TG_BIN" ingest -q - 2>/dev/null | jq -r '.trailguard.policy // "none"')
check_eq "ingest without a snapshot gives no verdict" "none" "$got"
tap_done
