#!/bin/bash
# uid_names.sh - records that name their user by uid only (snoopy's upstream
# default format, "[uid:1001 sid:... filename:...]: CMD") are judged as the
# snapshot's account with that uid, on each host by the host's own passwd
# file when the snapshot holds one ("# host: NAME" first line), and the
# event says where the name came from (trailguard.user.name_from).
# Issue 16 part 6: such a record was not_applicable, "names no user".
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
E=$TG_SRCDIR/deploy/policy-example
S=$TG_TMP/snap
mkdir -p "$S"
cp "$E"/* "$S/"
# db1's own /etc/passwd: uid 1001 is a local service account there, not alice
printf '# host: db1.example.com\nroot:x:0:0:root:/root:/bin/bash\nsvc_backup:x:1001:1001::/var/backups:/bin/sh\n' \
    >"$S/passwd.db1"

ingest() { "$TG_BIN" ingest -q --snapshot "$S" - 2>/dev/null; }
rec() { # HOST UID CMD: an upstream-format snoopy record over syslog
    printf '<86>Nov 24 13:42:31 %s snoopy[4242]: [uid:%s sid:4200 tty:/dev/pts/0 cwd:/home filename:/usr/bin/sudo]: %s\n' \
        "$1" "$2" "$3"
}

# the issue's case: uid 1001 is alice in the snapshot (its LDIF, loaded
# before its passwd file: the first definition wins, as in NSS)
got=$(rec web1.example.com 1001 'sudo systemctl restart nginx' | ingest |
    jq -r '[.user.name, .user.id, .trailguard.user.name_from, .trailguard.policy.decision, .trailguard.policy.rule] | join(" ")')
check_eq "uid 1001 on web1 is alice, judged by the sudo rules" \
    "alice 1001 idm.ldif:14 allow sudoers.json:72" "$got"

# db1 has its own passwd: there uid 1001 is svc_backup, a local account the
# directory does not know
got=$(rec db1.example.com 1001 'sudo systemctl restart nginx' | ingest |
    jq -r '[.user.name, .trailguard.user.name_from, .trailguard.policy.decision] | join(" ")')
check_eq "uid 1001 on db1 is db1's own svc_backup" "svc_backup passwd.db1:3 not_applicable" "$got"
rec db1 1001 /usr/bin/id | ingest >"$TG_TMP/short.json"
check_eq "a host's short name finds its passwd file" svc_backup "$(jq -r .user.name "$TG_TMP/short.json")"
check "... and the reason says the snapshot does not know that user" \
    grep -q 'User svc_backup is not in policy snapshot' "$TG_TMP/short.json"
# a uid db1's file does not have falls back to the directory's
got=$(rec db1.example.com 1002 /usr/bin/id | ingest | jq -r '.user.name + " " + .trailguard.user.name_from')
check_eq "uid 1002 on db1 (not in its file) is the directory's bob" "bob idm.ldif:28" "$got"

# a uid no account has: not_applicable with a reason that says so
rec web1.example.com 4321 /usr/bin/id | ingest >"$TG_TMP/unknown.json"
check_eq "an unknown uid keeps user.name absent" "null null" \
    "$(jq -c '.user.name, .trailguard.user.name_from' "$TG_TMP/unknown.json" | paste -sd' ')"
check "... and its reason names the uid, not 'names no user'" \
    grep -q 'names only uid 4321, which no account of policy snapshot' "$TG_TMP/unknown.json"

# the shared sample of snoopy's upstream default format (uids 0 and 65534),
# as web1 sends it: root and nobody by name, system accounts, not "no user"
sed 's/^/<86>Nov 24 13:42:31 web1.example.com snoopy[1]: /' \
    "$TG_SHARED/samples/snoopy-2.5.1-upstream-default-format.log" | ingest >"$TG_TMP/sample.json"
check_eq "sample: every record names its user" \
    "$(grep -c '^\[uid:' "$TG_SHARED/samples/snoopy-2.5.1-upstream-default-format.log")" \
    "$(jq -r 'select(.user.name) | .user.name' "$TG_TMP/sample.json" | wc -l)"
check_eq "sample: uid 0 is root, 65534 nobody, from passwd:1 and passwd:5" \
    "0 root passwd:1|65534 nobody passwd:5" \
    "$(jq -r 'select(.user.id) | [.user.id, .user.name, .trailguard.user.name_from] | join(" ")' "$TG_TMP/sample.json" | sort -u | paste -sd'|')"
check_eq "sample: none says 'names no user'" 0 \
    "$(jq -r .trailguard.policy.reason "$TG_TMP/sample.json" | grep -c 'names no user')"
check_eq "sample: root is a system account below min_uid" \
    "$(jq -r 'select(.user.id == "0") | .event.id' "$TG_TMP/sample.json" | wc -l)" \
    "$(jq -r 'select(.user.id == "0") | .trailguard.policy.reason' "$TG_TMP/sample.json" | grep -c 'system account below')"

# without a snapshot nothing is guessed
got=$(rec web1.example.com 1001 /usr/bin/id | "$TG_BIN" ingest -q - | jq -c '[.user.name, .trailguard.user]')
check_eq "no snapshot: no name" "[null,null]" "$got"

# policy lint shows a host's passwd file, and a group file with a host line
# is reported as unused
printf '# host: db1.example.com\nlocal:x:3000:\n' >"$S/group.db1"
"$TG_BIN" policy lint --snapshot "$S" >"$TG_TMP/lint" 2>&1
check "lint counts the host passwd file" grep -q '^host passwd files 1: passwd.db1 (db1.example.com)' "$TG_TMP/lint"
check "lint warns about a host's group file" grep -q "group.db1:1: warning: a host's own group file is not used" "$TG_TMP/lint"
tap_done
