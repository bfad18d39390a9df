#!/bin/sh
# hbac_diff.sh - differential test: trailguard's HBAC evaluator against
# SSSD's libipa_hbac (tests/oracles/hbac_oracle.c, the project-provided
# oracle) on generated IdM snapshots: 20 fixed seeds x 5..154 rules x 250
# requests = 5000 decisions, which must agree exactly (decision and the
# reported rule).  hbac_oracle holds at most 256 rules, hence one run per seed.
. "${TG_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
GEN=$TG_BUILDDIR/tests/policy/hbac_gen
ORACLE=$TG_BUILDDIR/tests/oracles/hbac_oracle
if [ ! -x "$ORACLE" ]; then
    # configure found no libipa_hbac, so the oracle was not built (the build
    # itself does not need it): fail, saying what to install
    not_ok "the HBAC oracle $ORACLE is built: install libipa-hbac-dev" \
        "(apt-get install -y libipa-hbac-dev, or run scripts/test, which installs every test peer)," \
        "then configure again"
    tap_done
    exit
fi
total=0
for seed in $(seq 1 20); do
    d=$TG_TMP/s$seed
    nr=$(( (seed * 37) % 150 + 5 ))
    if ! "$GEN" "$seed" "$nr" 250 "$d" >"$TG_TMP/gen.err" 2>&1; then
        not_ok "seed $seed: generator failed"; sed 's/^/# /' "$TG_TMP/gen.err"; continue
    fi
    ASAN_OPTIONS=detect_leaks=0 "$ORACLE" "$d/oracle.input" >"$d/oracle.out" 2>"$TG_TMP/oracle.err" || {
        not_ok "seed $seed: oracle failed"; sed 's/^/# /' "$TG_TMP/oracle.err"; continue; }
    n=$(wc -l <"$d/oracle.out")
    total=$((total + n))
    if [ "$n" -eq 250 ] && cmp -s "$d/oracle.out" "$d/trailguard.out"; then
        ok "seed $seed: $n HBAC decisions agree with libipa_hbac"
    else
        not_ok "seed $seed: trailguard and libipa_hbac disagree"
        diff "$d/oracle.out" "$d/trailguard.out" | head -10 | sed 's/^/# /'
    fi
done
allows=$(cat "$TG_TMP"/s*/oracle.out | grep -c ALLOW)
diag "$total decisions compared, $allows of them ALLOW"
check_eq "enough decisions compared" 5000 "$total"
tap_done
