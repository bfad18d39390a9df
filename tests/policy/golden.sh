#!/bin/sh
# golden.sh - `trailguard policy lint` and `policy check` on the shared
# sample snapshots: hbac.ldif (+ the memberships of hbac_oracle.input, whose
# recorded libipa_hbac output is the expectation), sudoers.json (+ the
# oracle's passwd/group/netgroup), sudoers.ldif and ipa-compat-sudoers.ldif;
# `policy check` against the verdict `ingest` gives the equivalent snoopy
# record (deploy/policy-example and the sudoers.json snapshot); check's and
# lint's usage errors and warnings; damaged snapshots (truncated JSON, a
# damaged LDIF dn: line) and what ingest, lint and check make of them;
# Percona connects through the account gate with [policy] db_service.
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

# check gives the collector's verdict: system accounts below [policy] min_uid
# are not_applicable (check used to say deny for root), with min_uid from -c
E=$TG_SRCDIR/deploy/policy-example
"$TG_BIN" policy check --snapshot "$E" --user root --host web1.example.com >"$TG_TMP/out"
check_eq "root session is not_applicable, exit 0" "0 decision: not_applicable" "$? $(head -1 "$TG_TMP/out")"
check_eq "... because uid 0 is below min_uid" \
    "reason: root (uid 0) is a system account below [policy] min_uid 1000, which the policy does not cover." \
    "$(grep '^reason' "$TG_TMP/out")"
got=$("$TG_BIN" policy check --snapshot "$E" --user mysql --host db1.example.com --command /usr/bin/id --json)
check_eq "sudo by mysql (uid 105) is not_applicable, exit 0" \
    "0 not_applicable mysql (uid 105) is a system account below [policy] min_uid 1000, which the policy does not cover." \
    "$? $(printf '%s' "$got" | jq -r '.decision + " " + .reason')"
printf '[policy]\nmin_uid = 100\n' >"$TG_TMP/min100.conf"
got=$("$TG_BIN" policy check -c "$TG_TMP/min100.conf" --snapshot "$E" --user mysql --host db1.example.com --json)
check_eq "-c [policy] min_uid 100: mysql is judged" "deny" "$(printf '%s' "$got" | jq -r .decision)"
got=$("$TG_BIN" policy check -c "$TG_TMP/min100.conf" --snapshot "$E" --user root --host db1.example.com --json)
check_eq "-c [policy] min_uid 100: root is not" "root (uid 0) is a system account below [policy] min_uid 100, which the policy does not cover." \
    "$(printf '%s' "$got" | jq -r .reason)"

# ... and the same decision, check, rule and reason as the event of ingest on
# the snoopy record of that exec: `sudo [-u RUNAS] CMD`, or a session
# command when CMD is empty.  CONF, when set, is given to both as -c.
CONF=
same_verdict() { # SNAP USER UID HOST RUNAS CMD
    local snap=$1 user=$2 uid=$3 host=$4 runas=$5 cmd=$6 line chk ev
    set -- --snapshot "$snap"
    [ -n "$CONF" ] && set -- "$@" -c "$CONF"
    local fields='{decision, check, rule, reason, snapshot}'
    if [ -n "$cmd" ]; then
        line="sudo ${runas:+-u $runas }$cmd"
        chk=$("$TG_BIN" policy check "$@" --user "$user" --host "$host" ${runas:+--runas "$runas"} --command "$cmd" --json)
    else
        line="/usr/bin/ls -l"
        chk=$("$TG_BIN" policy check "$@" --user "$user" --host "$host" --json)
    fi
    ev=$(printf '%s %s snoopy[4242]: [login:%s ssh:((undefined)) sid:4200 tty:/dev/pts/1 (%s/%s) uid:%s(%s)/%s(%s) cwd:/]: %s\n' \
        "Nov 24 13:42:31" "$host" "$user" "$uid" "$user" "$user" "$uid" "$user" "$uid" "$line" |
        "$TG_BIN" ingest -q "$@" - 2>/dev/null | jq -c ".trailguard.policy | $fields")
    check_eq "check = ingest: $user@$host${CONF:+ (-c)}: ${line}" "$ev" "$(printf '%s' "$chk" | jq -c "$fields")"
}
same_verdict "$E" root 0 web1.example.com "" ""
same_verdict "$E" root 0 web1.example.com "" "/usr/bin/id"
same_verdict "$E" mysql 105 db1.example.com "" ""
same_verdict "$E" postgres 106 db1.example.com "" "/usr/bin/psql"
same_verdict "$E" nobody 65534 web1.example.com "" ""
same_verdict "$E" zoe 1500 web1.example.com "" ""
same_verdict "$E" zoe 1500 web1.example.com "" "/usr/bin/id"
same_verdict "$E" alice 1001 web1.example.com "" ""
same_verdict "$E" bob 1002 web1.example.com "" ""
same_verdict "$E" alice 1001 vm "" "systemctl restart nginx"
same_verdict "$E" alice 1001 web1.example.com "" "/usr/bin/systemctl stop nginx"
same_verdict "$E" alice 1001 web1.example.com "" "sudoedit /etc/motd"
same_verdict "$E" carol 1003 db1.example.com postgres "/usr/bin/psql -c select 1"
same_verdict "$E" carol 1003 db1.example.com postgres "/usr/bin/bash"
same_verdict "$E" dave 1004 web1.example.com "" "/usr/bin/uptime"
same_verdict "$TG_TMP/json" frank 2006 web1 "" "sudoedit /etc/motd"
same_verdict "$TG_TMP/json" erin 2005 web1 "" "/usr/bin/passwd root"
same_verdict "$TG_TMP/json" carol 2003 db1 postgres "/usr/bin/psql"
CONF=$TG_TMP/min100.conf
same_verdict "$E" mysql 105 db1.example.com "" ""
same_verdict "$E" root 0 db1.example.com "" ""
CONF=

# check's usage errors: exit 2 and say what to give
usage() { # NAME EXPECTED_MESSAGE_PART ARGS...
    local name=$1 want=$2
    shift 2
    "$TG_BIN" policy check --snapshot "$E" --user alice --host web1.example.com "$@" >"$TG_TMP/out" 2>&1
    local rc=$?
    if [ "$rc" = 2 ] && grep -qF -- "$want" "$TG_TMP/out"; then ok "$name"; else
        not_ok "$name"
        diag "exit $rc, expected 2 and a message with: $want" "$(cat "$TG_TMP/out")"
    fi
}
usage "empty --command is a usage error" "--command is empty: give the command" --command ''
usage "blank --command is a usage error" "--command is empty: give the command" --command '   '
usage "--runas without --command is a usage error" "give --command 'CMD ARGS' too" --runas postgres
usage "--runas with --service and no --command too" "give --command 'CMD ARGS' too" --runas postgres --service sshd
usage "empty --runas is a usage error" "--runas '': give one user name" --runas '' --command /usr/bin/id

# lint on a directory without policy files: a warning (exit 0, like other
# warnings: the snapshot loads and the collector runs with it)
mkdir -p "$TG_TMP/empty"
"$TG_BIN" policy lint --snapshot "$TG_TMP/empty" >"$TG_TMP/out"
check_eq "lint empty directory: exit 0" 0 $?
check_eq "lint empty directory: warning" \
    "$TG_TMP/empty: warning: the directory holds no policy files (LDIF, cvtsudoers JSON, passwd, group or netgroup), so every event would be not_applicable; export the policy into it (see deploy/export-policy-snapshot.sh)" \
    "$(grep warning "$TG_TMP/out")"
: >"$TG_TMP/empty/passwd"
check_eq "lint directory with only an empty file: warning" 1 "$("$TG_BIN" policy lint --snapshot "$TG_TMP/empty" | grep -c 'holds no policy files')"
check_eq "lint a snapshot with policy files: no such warning" 0 "$("$TG_BIN" policy lint --snapshot "$E" | grep -c 'holds no policy files')"

# a damaged snapshot is not loaded (it used to load without the damaged part:
# a truncated sudoers.json made HBAC alone allow every sudo command): ingest
# gives not_applicable with the load error, which names file:line; lint lists
# it as an error (exit 1); check cannot answer (exit 3)
snoopy_rec() { # USER UID HOST CMD
    printf '%s %s snoopy[4242]: [login:%s ssh:((undefined)) sid:4200 tty:/dev/pts/1 (%s/%s) uid:%s(%s)/%s(%s) cwd:/]: %s\n' \
        "Nov 24 13:42:31" "$3" "$1" "$2" "$1" "$1" "$2" "$1" "$2" "$4"
}
damaged() { # NAME DIR FILE:LINE MESSAGE
    local name=$1 dir=$2 want="$3: $4" got
    got=$({ snoopy_rec alice 1001 web1.example.com "sudo systemctl restart nginx"
        snoopy_rec alice 1001 web1.example.com "/usr/bin/ls -l"; } |
        "$TG_BIN" ingest -q --snapshot "$dir" - 2>"$TG_TMP/err" | jq -r '.trailguard.policy.decision' | tr '\n' ' ')
    check_eq "$name: every event not_applicable" "not_applicable not_applicable " "$got"
    got=$(snoopy_rec alice 1001 web1.example.com "sudo systemctl restart nginx" |
        "$TG_BIN" ingest -q --snapshot "$dir" - 2>/dev/null | jq -r '.trailguard.policy.reason')
    check_eq "$name: ... with the load error as the reason" \
        "No policy snapshot is loaded (policy snapshot $dir is damaged and was not loaded: $dir/$want" \
        "${got%%; *}"
    check "$name: ... logged as an error" grep -qF "error: policy: policy snapshot $dir is damaged and was not loaded: $dir/$want" "$TG_TMP/err"
    "$TG_BIN" policy lint --snapshot "$dir" >"$TG_TMP/out"
    check_eq "$name: lint exit 1" 1 $?
    check "$name: lint lists it" grep -qF "$dir/$3: error: $4" "$TG_TMP/out"
    "$TG_BIN" policy check --snapshot "$dir" --user alice --host web1.example.com >/dev/null 2>&1
    check_eq "$name: check exit 3" 3 $?
}
mkdir -p "$TG_TMP/trunc" "$TG_TMP/baddn"
cp "$E"/* "$TG_TMP/trunc/"
truncate -s 1500 "$TG_TMP/trunc/sudoers.json"
n=$(($(head -c 1500 "$E/sudoers.json" | wc -l) + 1))
damaged "truncated sudoers.json" "$TG_TMP/trunc" "sudoers.json:$n" "invalid JSON (the file ends in the middle of it)"
cp "$E"/* "$TG_TMP/baddn/"
n=$(grep -n -m1 '^dn: ipaUniqueID=.*,cn=hbac,' "$E/idm.ldif" | cut -d: -f1)
sed -i "${n}s/^dn: /dn /" "$TG_TMP/baddn/idm.ldif"
damaged "HBAC rule with a damaged dn: line" "$TG_TMP/baddn" "idm.ldif:$n" "not an LDIF 'attribute: value' line"

# Percona connects with [policy] db_service: the exec's account gate first
# (root and mysql used to be denied by HBAC), then HBAC for a directory user
printf '[policy]\ndb_service = mysql\n' >"$TG_TMP/db.conf"
connect() { # USER: decision, check and reason of a Percona connect by USER on db1
    printf '<14>2026-11-24T13:44:14.095658+00:00 db1.example.com mysqld: {"audit_record":{"name":"Connect","record":"1_2026","timestamp":"2026-11-24T13:44:14Z","connection_id":"9","status":0,"user":"%s","priv_user":"%s","os_login":"","proxy_user":"","host":"localhost","ip":"","db":""}}\n' "$1" "$1" |
        "$TG_BIN" ingest -q -c "$TG_TMP/db.conf" --snapshot "$E" - 2>/dev/null |
        jq -r '.trailguard.policy | .decision + " " + (.check // "-") + " " + .reason'
}
check_eq "connect by root: below min_uid" \
    "not_applicable - root (uid 0) is a system account below [policy] min_uid 1000, which the policy does not cover." \
    "$(connect root)"
check_eq "connect by mysql: below min_uid" \
    "not_applicable - mysql (uid 105) is a system account below [policy] min_uid 1000, which the policy does not cover." \
    "$(connect mysql)"
check_eq "connect by an unknown account: not_applicable" "not_applicable -" "$(connect appuser | cut -d' ' -f1,2)"
check_eq "connect by alice: the HBAC verdict for mysql" \
    "deny hbac No enabled HBAC allow rule grants alice the service mysql on db1.example.com;" \
    "$(connect alice | cut -d';' -f1);"

# ingest --snapshot: every event records the snapshot id; without it no verdict
id=$("$TG_BIN" policy lint --snapshot "$TG_TMP/json" | sed -n '1s/^snapshot \([0-9a-f]*\).*/\1/p')
got=$(echo 'hello' | "$TG_BIN" ingest -q --snapshot "$TG_TMP/json" - 2>/dev/null | jq -r '.trailguard.policy.snapshot')
check_eq "ingest --snapshot records the snapshot id" "$id" "$got"
got=$(echo 'hello' | "$TG_BIN" ingest -q - 2>/dev/null | jq -r '.trailguard.policy // "none"')
check_eq "ingest without a snapshot gives no verdict" "none" "$got"
tap_done
