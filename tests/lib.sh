# tests/lib.sh - TAP helpers for the shell tests.  Source it, call tap_plan
# (or let tap_done print a trailing plan), then ok/not_ok per case.
#
# Environment from `make check`: TG_BIN (the binary), TG_SRCDIR, TG_BUILDDIR,
# TG_SHARED (../shared with the samples and oracles).
set -u
TG_BIN=${TG_BIN:-$(pwd)/trailguard}
TG_SRCDIR=${TG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TG_SHARED=${TG_SHARED:-$TG_SRCDIR/../shared}
_tap_n=0
_tap_failed=0
TG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tg-test.XXXXXX")
trap 'rm -rf "$TG_TMP"' EXIT

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - # SKIP $*"; }
diag() { printf '# %s\n' "$@"; }

# check NAME CMD...: ok when CMD succeeds
check() {
    local name=$1
    shift
    if "$@" >"$TG_TMP/check.out" 2>&1; then ok "$name"; else
        not_ok "$name"
        sed 's/^/# /' "$TG_TMP/check.out" | head -20
    fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        not_ok "$1"
        diag "expected: $2" "actual:   $3"
    fi
}

tap_done() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }

# wait_for TRIES CMD...: run CMD every 0.1 s until it succeeds, at most TRIES times
wait_for() {
    local tries=$1
    shift
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        tries=$((tries - 1))
        sleep 0.1
    done
    return 1
}

# free_port LO HI: a port in [LO, HI] on 127.0.0.1 that nothing listens on.
# The search starts at a random place, so the same test run at the same time
# from another worktree (another build of this suite) rarely takes it too.
free_port() {
    local lo=$1 n=$(($2 - $1 + 1)) start=$((RANDOM % ($2 - $1 + 1))) i p
    for ((i = 0; i < n; i++)); do
        p=$((lo + (start + i) % n))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}
