# deps.sh - the Debian packages trailguard needs, in one place; sourced by
# quickstart, test and .ci/run.  tg_install_deps installs whichever are
# missing (apt-get update first), as root or through sudo.

TG_BUILD_DEPS="build-essential autoconf automake pkg-config
  librelp-dev librdkafka-dev libjson-c-dev libpcre2-dev zlib1g-dev libdeflate-dev libzstd-dev libssl-dev
  libinih-dev libmicrohttpd-dev libcmocka-dev libsystemd-dev"
# Real peers and oracles the tests run against, and the tools they use.
TG_TEST_DEPS="rsyslog rsyslog-relp snoopy sudo libipa-hbac-dev kcat jq python3 curl
  openssl gzip zstd clang libclang-rt-14-dev clang-format prometheus man-db groff-base systemd
  chromium poppler-utils"

tg_install_deps() {
    local missing="" p
    for p in $*; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "trailguard: installing missing Debian packages:$missing" >&2
    local SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || {
            echo "trailguard: run as root, or install:$missing" >&2
            return 1
        }
        SUDO=sudo
    fi
    $SUDO apt-get update -q >/dev/null || return 1
    # snoopy asks whether to preload itself system-wide: never, here.
    echo "snoopy snoopy/install-ld-preload boolean false" | $SUDO debconf-set-selections 2>/dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
}

# tg_build DIR [configure args...]: configure (once) and build out of tree in DIR.
tg_build() {
    local dir=$1
    shift
    local top
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1) || return 1
    mkdir -p "$top/$dir"
    if [ ! -f "$top/$dir/Makefile" ]; then
        # configure's "rm -f core" complains about our core/ directory: harmless
        (cd "$top/$dir" && "$top/configure" -q "$@" 2> >(grep -v "cannot remove 'core'" >&2)) ||
            return 1
    fi
    make -C "$top/$dir" -j"$(nproc)" >/dev/null || make -C "$top/$dir" -j1
}

# tg_check DIR TARGET: run `make TARGET` (a TAP test target) in DIR and print
# "N passed, N failed" from its test-suite.log; returns non-zero on failure.
tg_check() {
    local top dir target log rc passed failed
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    dir=$top/$1
    target=$2
    rm -f "$dir/test-suite.log"
    make -C "$dir" -j"$(nproc)" "$target" >"$dir/$target.out" 2>&1
    rc=$?
    log="$dir/test-suite.log"
    grep -E '^(FAIL|ERROR|XPASS)' "$dir/$target.out" | head -50
    n() { sed -n "s/^# $1: *//p" "$log" 2>/dev/null | head -1; }
    passed=$(($(n PASS) + $(n XFAIL) + 0))
    failed=$(($(n FAIL) + $(n ERROR) + $(n XPASS) + 0))
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
        tail -30 "$dir/$target.out"
    fi
    echo "$1 $target: $passed passed, $failed failed, $(($(n SKIP) + 0)) skipped"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
