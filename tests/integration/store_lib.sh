# tests/integration/store_lib.sh - helpers shared by the file store tests
# (sourced after tests/lib.sh).

# gen_records N [START_MINUTE [START_DAY]]: N distinct syslog records (snoopy
# bodies), one per second from Nov START_DAY (default 24) 00:START_MINUTE:00
# on, over 7 hosts (webN.example.com) and 5 users (Debian's snoopy format).
gen_records() {
    awk -v n="$1" -v m0="${2:-0}" -v d0="${3:-24}" 'BEGIN {
        split("alice bob carol dave root", users, " ")
        split("ls -la /srv|systemctl restart nginx|sudo -u postgres psql|cat /etc/shadow|vim /etc/hosts", cmds, "|")
        for (i = 0; i < n; i++) {
            t = m0 * 60 + i; h = int(t / 3600) % 24; mi = int(t / 60) % 60; s = t % 60
            u = users[i % 5 + 1]
            printf "Nov %2d %02d:%02d:%02d web%d.example.com snoopy[%d]: [login:%s ssh:((undefined)) sid:%d tty:/dev/pts/%d ((none)/(none)) uid:%s(%d)/%s(%d) cwd:/home/%s]: %s %d\n",
                d0 + int(t / 86400), h, mi, s, i % 7, 10000 + i, u, 500 + i % 13, i % 4, u, 1000 + i % 5, u, 1000 + i % 5, u, cmds[i % 5 + 1], i
        }
    }'
}

# store_conf FILE DIR [extra lines for [sink.file]...]: a config writing to DIR.
store_conf() {
    local f=$1 d=$2
    shift 2
    {
        printf '[collector]\nfsync = always\n\n[sink.file]\ndir = %s\n' "$d"
        printf '%s\n' "$@"
    } >"$f"
}

# store_cat DIR: the NDJSON of every data file of the store, in segment
# order, as zcat (.ndjson.gz) and zstdcat (.ndjson.zst) read them (a torn
# tail is tolerated: what decompresses is printed)
store_cat() {
    local f
    for f in "$1"/seg-*.ndjson.*; do
        case $f in
        *.ndjson.gz) zcat "$f" 2>/dev/null ;;
        *.ndjson.zst) zstdcat -q "$f" 2>/dev/null ;;
        esac
    done
}

# count_store DIR: events readable with zcat/zstdcat (torn tails tolerated)
count_store() {
    store_cat "$1" | grep -c '^{' || true
}

# head_records DIR: the record count in chain.head
head_records() {
    sed -n 's/.* records=0*\([0-9][0-9]*\) .*/\1/p' "$1/chain.head"
}

# store_compare NAME STORE ALL.ndjson 'JQ-SELECT' QUERY-ARGS...: `query STORE
# QUERY-ARGS` gives the same event ids, in the same order, as jq selecting
# over ALL.ndjson (every event of the store)
store_compare() {
    local name=$1 store=$2 all=$3 sel=$4
    shift 4
    jq -r "select($sel) | .event.id" "$all" >"$TG_TMP/want"
    "$TG_BIN" query "$store" --format ndjson "$@" | jq -r .event.id >"$TG_TMP/got"
    if cmp -s "$TG_TMP/want" "$TG_TMP/got"; then ok "$name ($(wc -l <"$TG_TMP/want") events)"; else
        not_ok "$name"
        diag "jq: $(wc -l <"$TG_TMP/want") events, query: $(wc -l <"$TG_TMP/got")"
    fi
}

# store_snapshot DIR: a policy snapshot where alice and bob may log in
# everywhere (allow), carol and dave nowhere (deny), root is unknown
# (not_applicable)
store_snapshot() {
    mkdir -p "$1"
    cp "$TG_SRCDIR/tests/policy/data/hbac-members.ldif" "$1/"
    cat >"$1/rules.ldif" <<'LDIF'
dn: ipaUniqueID=11,cn=hbac,dc=example,dc=com
objectClass: ipaassociation
objectClass: ipaHBACRule
cn: ops_ssh
accessRuleType: allow
ipaEnabledFlag: TRUE
memberUser: uid=alice,cn=users,cn=accounts,dc=example,dc=com
memberUser: uid=bob,cn=users,cn=accounts,dc=example,dc=com
hostCategory: all
memberService: cn=sshd,cn=hbacservices,cn=hbac,dc=example,dc=com
LDIF
}
