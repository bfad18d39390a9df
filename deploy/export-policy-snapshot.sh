#!/bin/bash
# export-policy-snapshot.sh - export a trailguard policy snapshot from a
# FreeIPA (IdM) server: HBAC rules, services and service groups, users,
# groups, hosts and host groups (LDIF), the sudo rules of IdM's compat tree
# (sudoRole LDIF), and optionally a local sudoers file (cvtsudoers JSON)
# and the local passwd/group databases.
#
#   export-policy-snapshot.sh -o DIR [-H LDAP_URI] [-b BASE_DN]
#        [-D BIND_DN -y PASSWORD_FILE | -x] [-s SUDOERS_FILE] [-l] [-r]
#
#   -o DIR    the snapshot directory ([policy] snapshot_dir), e.g.
#             /etc/trailguard/policy.  Written as DIR.new, checked, then
#             swapped in (the previous one is kept as DIR.old), so a
#             collector never sees half a snapshot.
#   -H URI    LDAP server (default: the server of /etc/ipa/default.conf).
#   -b BASE   base DN (default: from the domain of /etc/ipa/default.conf).
#   -D/-y     simple bind with a DN and a password file; -x anonymous
#             (compat tree and memberships may then be hidden); default
#             SASL/GSSAPI with the current Kerberos ticket (kinit first,
#             e.g. with a keytab of a read-only service principal).
#   -s FILE   also convert this sudoers file with `cvtsudoers -f json`.
#   -l        also include `getent passwd` and `getent group` of this host.
#   -r        reload the collector afterwards (systemctl reload trailguard).
#
# Needs ldapsearch (Debian: ldap-utils), and cvtsudoers (sudo) for -s.
# Exit 0 on success, 2 on usage errors, 3 when an export step failed (the
# current snapshot is then left untouched).
set -eu -o pipefail

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit 2
}
new=
die() {
    echo "export-policy-snapshot: $*" >&2
    [ -z "$new" ] || rm -rf "$new"
    exit 3
}

out= uri= base= binddn= passfile= anon= sudoers= local_accounts= reload=
while getopts o:H:b:D:y:xs:lrh opt; do
    case $opt in
    o) out=$OPTARG ;;
    H) uri=$OPTARG ;;
    b) base=$OPTARG ;;
    D) binddn=$OPTARG ;;
    y) passfile=$OPTARG ;;
    x) anon=1 ;;
    s) sudoers=$OPTARG ;;
    l) local_accounts=1 ;;
    r) reload=1 ;;
    *) usage ;;
    esac
done
[ -n "$out" ] || usage
[ -z "$binddn" ] || [ -n "$passfile" ] || { echo "export-policy-snapshot: -D needs -y PASSWORD_FILE" >&2; exit 2; }

ipaconf=/etc/ipa/default.conf
if [ -z "$uri" ] && [ -r "$ipaconf" ]; then
    server=$(sed -n 's/^server *= *//p' "$ipaconf" | head -1)
    [ -n "$server" ] && uri=ldaps://$server
fi
if [ -z "$base" ] && [ -r "$ipaconf" ]; then
    base=$(sed -n 's/^basedn *= *//p' "$ipaconf" | head -1)
    if [ -z "$base" ]; then
        domain=$(sed -n 's/^domain *= *//p' "$ipaconf" | head -1)
        [ -n "$domain" ] && base=$(echo "dc=$domain" | sed 's/\./,dc=/g')
    fi
fi
[ -n "$uri" ] || { echo "export-policy-snapshot: no LDAP server: give -H ldaps://ipa.example.com" >&2; exit 2; }
[ -n "$base" ] || { echo "export-policy-snapshot: no base DN: give -b dc=example,dc=com" >&2; exit 2; }
command -v ldapsearch >/dev/null || die "ldapsearch not found: apt-get install ldap-utils"

if [ -n "$anon" ]; then
    auth=(-x)
elif [ -n "$binddn" ]; then
    auth=(-x -D "$binddn" -y "$passfile")
else
    auth=(-Y GSSAPI -Q)
fi

rm -rf "$out.new"
new=$out.new
mkdir -p "$new"
chmod 0750 "$new"

# search SUBTREE FILTER [ATTR...]: one ldapsearch, LDIF without line wrapping
search() {
    local sub=$1 filter=$2
    shift 2
    ldapsearch -LLL -o ldif-wrap=no -H "$uri" "${auth[@]}" -b "$sub,$base" "$filter" "$@"
}

idm_attrs=(objectClass cn uid uidNumber gidNumber memberOf member fqdn description
    accessRuleType userCategory hostCategory serviceCategory memberUser memberHost
    memberService externalHost ipaEnabledFlag ipaUniqueID)
{
    search cn=accounts "(|(objectClass=posixAccount)(objectClass=ipaUserGroup)(objectClass=ipaHost)(objectClass=ipaHostGroup))" \
        "${idm_attrs[@]}" &&
        search cn=hbac "(|(objectClass=ipaHBACRule)(objectClass=ipaHBACService)(objectClass=ipaHBACServiceGroup))" \
            "${idm_attrs[@]}"
} >"$new/idm.ldif" || die "ldapsearch of the IdM tree failed (see above); snapshot $out left as it was"
grep -qi '^objectClass: ipahbacrule' "$new/idm.ldif" ||
    die "no HBAC rule in the export of $base from $uri: check the base DN and the bind's rights"

search ou=sudoers "(objectClass=sudoRole)" >"$new/sudo.ldif" ||
    die "ldapsearch of the sudo compat tree (ou=sudoers,$base) failed"
[ -s "$new/sudo.ldif" ] || {
    echo "export-policy-snapshot: warning: no sudoRole under ou=sudoers,$base (is the compat plugin on?)" >&2
    rm -f "$new/sudo.ldif"
}

if [ -n "$sudoers" ]; then
    command -v cvtsudoers >/dev/null || die "cvtsudoers not found: apt-get install sudo"
    cvtsudoers -f json -o "$new/sudoers.json" "$sudoers" || die "cvtsudoers could not convert $sudoers"
fi
if [ -n "$local_accounts" ]; then
    getent passwd >"$new/passwd" || die "getent passwd failed"
    getent group >"$new/group" || die "getent group failed"
fi
chmod 0640 "$new"/*

if command -v trailguard >/dev/null; then
    trailguard policy lint --snapshot "$new" || die "trailguard policy lint rejected $new; $out left as it was"
fi

rm -rf "$out.old"
[ ! -e "$out" ] || mv "$out" "$out.old"
mv "$new" "$out"
echo "export-policy-snapshot: $out updated from $uri ($(ls "$out" | tr '\n' ' '))"
if [ -n "$reload" ]; then
    systemctl reload trailguard || die "systemctl reload trailguard failed"
fi
