#!/bin/sh
# sudo_diff.sh - differential test: trailguard's sudo evaluator against the
# real sudo (`sudo -n -l`, through the project's oracle
# ../shared/oracles/sudo_oracle.sh, in a private mount namespace).
#   1. the shared sample sudoers.example with the shared oracle cases;
#   2. command paths spelled with //, . and .. (sudo compares files), in the
#      command run and in the rules, against plain, glob, directory and regex
#      rules;
#   3. 8 generated sudoers (tests/policy/sudo_gen.py, fixed seeds) x 60 cases.
# trailguard reads the sudoers as `cvtsudoers -f json` converts it.  Cases
# the oracle cannot answer are left out by design (see sudo_gen.py and
# reference/policy.md 6.1): sudoedit, run-as-self "()" specs, ERROR lines
# (unknown user, command not found).  Needs root and unshare (CI runs as
# root); otherwise the cases are skipped, not failed.
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
ORACLE=$TG_SHARED/oracles/sudo_oracle.sh
CASES=$TG_BUILDDIR/tests/policy/sudo_cases
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null || [ ! -x "$ORACLE" ]; then
    skip "sudo oracle needs root, unshare -m and $ORACLE"
    tap_done
    exit 0
fi

# compare DIR: DIR/oracle.tsv vs DIR/tg.tsv, ERROR lines excluded
compare() {
    grep -v '	ERROR' "$1/oracle.tsv" | sed 's/\tALLOW .*/\tALLOW/' >"$1/o"
    grep -v '	ERROR' "$1/oracle.tsv" | cut -f1 | "$CASES" "$1/snap" >"$1/t"
    n=$(wc -l <"$1/o")
    total=$((total + n))
    if [ "$n" -gt 0 ] && cmp -s "$1/o" "$1/t"; then
        ok "$2: $n sudo decisions agree with sudo -l"
    else
        not_ok "$2: trailguard and sudo -l disagree"
        diff "$1/o" "$1/t" | head -10 | sed 's/^/# /'
    fi
}

total=0
d=$TG_TMP/sample
mkdir -p "$d/snap"
cp "$TG_SHARED/samples/sudoers.json" "$TG_SHARED/oracles/oracle.passwd" \
    "$TG_SHARED/oracles/oracle.group" "$TG_SHARED/oracles/oracle.netgroup" "$d/snap/"
grep -v sudoedit "$TG_SHARED/oracles/oracle.cases" |
    "$ORACLE" -s "$TG_SHARED/samples/sudoers.example" -p "$TG_SHARED/oracles/oracle.passwd" \
        -g "$TG_SHARED/oracles/oracle.group" -n "$TG_SHARED/oracles/oracle.netgroup" \
        -t /usr/local/bin -t /usr/local/sbin -e /usr/local/bin/backup.sh \
        -x /usr/local/sbin/fixperms >"$d/oracle.tsv" 2>"$d/err"
compare "$d" "sample sudoers.example"

d=$TG_TMP/paths
mkdir -p "$d/snap"
cat >"$d/sudoers" <<'EOF'
Defaults !fqdn
u1 ALL = /usr/bin/uptime, /usr//bin/../bin/./id, /usr/local/sbin/, ^/usr/bin/who[a-z]+$
u2 ALL = /usr/bin/up*, /usr/local/bin/../../bin/./head ""
EOF
printf 'u1:x:2001:2001::/home/u1:/bin/bash\nu2:x:2002:2002::/home/u2:/bin/bash\n' >"$d/snap/passwd"
: >"$d/snap/group"
for u in u1 u2; do
    for c in /usr/bin/uptime /usr/bin/../bin/uptime /usr//bin/uptime /usr/bin/./uptime \
        /usr/sbin/../bin/uptime /usr/bin/../../usr/bin/uptime /usr/bin/id /usr//bin/id /bin/./id \
        /usr/local/sbin/../sbin/./fixperms /usr/local/sbin//fixperms /usr/bin/whoami \
        /usr/bin/../bin/whoami /usr/bin/head "/usr/bin/./head -n1" /usr//bin/head /usr/bin/date; do
        echo "-U $u -h h1.example.com $c"
    done
done >"$d/cases"
if ! cvtsudoers -f json -o "$d/snap/sudoers.json" "$d/sudoers" 2>"$d/err"; then
    not_ok "command paths: cvtsudoers failed"; sed 's/^/# /' "$d/err"
elif ! "$ORACLE" -s "$d/sudoers" -p "$d/snap/passwd" -g "$d/snap/group" -t /usr/local/sbin \
    -x /usr/local/sbin/fixperms <"$d/cases" >"$d/oracle.tsv" 2>"$d/err"; then
    not_ok "command paths: oracle failed"; sed 's/^/# /' "$d/err" | head
else
    compare "$d" "command paths with //, . and .."
fi

for seed in 1 2 3 4 5 6 7 8; do
    d=$TG_TMP/g$seed
    python3 "$TG_SRCDIR/tests/policy/sudo_gen.py" "$seed" "$d"
    mkdir -p "$d/snap"
    cp "$d/passwd" "$d/group" "$d/snap/"
    if ! cvtsudoers -f json -o "$d/snap/sudoers.json" "$d/sudoers" 2>"$d/err"; then
        not_ok "seed $seed: cvtsudoers failed"; sed 's/^/# /' "$d/err"; continue
    fi
    "$ORACLE" -s "$d/sudoers" -p "$d/passwd" -g "$d/group" <"$d/cases" >"$d/oracle.tsv" 2>"$d/err" || {
        not_ok "seed $seed: oracle failed"; sed 's/^/# /' "$d/err" | head; continue; }
    compare "$d" "generated sudoers seed $seed"
done
diag "$total sudo decisions compared"
if [ "$total" -ge 300 ]; then ok "at least 300 sudo decisions compared"; else not_ok "only $total sudo decisions compared"; fi
tap_done
