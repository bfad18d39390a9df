# tests/integration/store_lib.sh - helpers shared by the file store tests
# (sourced after tests/lib.sh).

# gen_records N [START_MINUTE [START_DAY]]: N distinct syslog records (snoopy
# bodies), one per second from Nov START_DAY (default 24) 00:START_MINUTE:00
# on, over 7 hosts and 5 users.
gen_records() {
    awk -v n="$1" -v m0="${2:-0}" -v d0="${3:-24}" 'BEGIN {
        split("alice bob carol dave root", users, " ")
        split("ls -la /srv|systemctl restart nginx|sudo -u postgres psql|cat /etc/shadow|vim /etc/hosts", cmds, "|")
        for (i = 0; i < n; i++) {
            t = m0 * 60 + i; h = int(t / 3600) % 24; mi = int(t / 60) % 60; s = t % 60
            printf "Nov %2d %02d:%02d:%02d web%d snoopy[%d]: [uid:%d sid:%d tty:/dev/pts/%d cwd:/home/%s filename:/usr/bin/x]: %s %d\n",
                d0 + int(t / 86400), h, mi, s, i % 7, 10000 + i, 1000 + i % 5, 500 + i % 13, i % 4, users[i % 5 + 1], cmds[i % 5 + 1], i
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

# count_store DIR: events readable with zcat (torn tails tolerated)
count_store() {
    cat "$1"/seg-*.ndjson.gz 2>/dev/null | zcat 2>/dev/null | grep -c '^{' || true
}

# head_records DIR: the record count in chain.head
head_records() {
    sed -n 's/.* records=0*\([0-9][0-9]*\) .*/\1/p' "$1/chain.head"
}
