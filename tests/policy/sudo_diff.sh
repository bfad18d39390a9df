#!/bin/sh
# sudo_diff.sh - differential test: trailguard's sudo evaluator against the
# real sudo (`sudo -n -l`, through the project's oracle
# ../shared/oracles/sudo_oracle.sh, in a private mount namespace).
#   1. the shared sample sudoers.example with the shared oracle cases;
#   2. 8 generated sudoers (tests/policy/sudo_gen.py, fixed seeds) x 60 cases.
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
