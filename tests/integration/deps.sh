#!/bin/bash
# deps.sh - the Debian packages scripts/quickstart installs are enough to
# configure and build trailguard (issue 12: configure needed libipa-hbac-dev,
# a test-only package, so quickstart failed on a fresh Debian 12 machine).
#
# Reads every requirement configure.ac makes -- TG_NEED (fatal) and TG_WANT
# (optional) rows, and any bare PKG_CHECK_MODULES or AC_CHECK_LIB -- and
# checks, for each fatal one, that the Debian package providing it is in the
# list quickstart passes to tg_install_deps, and that the package named in
# configure.ac's message really ships the pkg-config module (dpkg -L), so the
# names cannot drift apart.  A requirement this test cannot map to a package
# (a bare PKG_CHECK_MODULES or AC_CHECK_LIB whose failure stops configure)
# fails: write it as TG_NEED or TG_WANT.
. "$TG_SRCDIR/tests/lib.sh"
AC=$TG_SRCDIR/configure.ac
. "$TG_SRCDIR/scripts/deps.sh"
# quickstart's install line, with its variables expanded as the script does
line=$(grep -E '^[[:space:]]*tg_install_deps ' "$TG_SRCDIR/scripts/quickstart")
check "quickstart installs its dependencies with tg_install_deps" test -n "$line"
quick=" $(eval "echo ${line#*tg_install_deps}") "

# ship PACKAGE MODULE: the installed package provides MODULE.pc
ships() { dpkg -L "$1" 2>/dev/null | grep -q "/$2\.pc$"; }

n=0
while IFS= read -r row; do
    macro=${row%%(*}
    # TG_NEED([VAR], [module ...], [package]) -> module and package
    args=$(echo "$row" | sed -E 's/^[A-Z_]+\(//; s/\)[[:space:]]*$//')
    module=$(echo "$args" | sed -E 's/^\[[^]]*\], *\[([^] ]*).*/\1/')
    pkg=$(echo "$args" | sed -E 's/^\[[^]]*\], *\[[^]]*\], *\[([^]]*)\].*/\1/')
    n=$((n + 1))
    if [ "$macro" = TG_NEED ]; then
        case $quick in
        *" $pkg "*) ok "configure needs $module: $pkg is in quickstart's list" ;;
        *) not_ok "configure needs $module ($pkg), which quickstart does not install:" \
            "add $pkg to TG_BUILD_DEPS in scripts/deps.sh or make it a TG_WANT" ;;
        esac
    else
        ok "configure only wants $module ($pkg): the build works without it"
    fi
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        check "$pkg ships $module.pc" ships "$pkg" "$module"
    else
        skip "$pkg is not installed here: cannot check that it ships $module.pc"
    fi
done < <(grep -E '^(TG_NEED|TG_WANT)\(' "$AC")
check "configure.ac has its requirements as TG_NEED/TG_WANT rows" test "$n" -ge 9

# Requirements outside those rows cannot be mapped to a package.  The macro
# definitions themselves (AC_DEFUN([TG_NEED] ...) use PKG_CHECK_MODULES with
# $1/$2: they are not requirements.
stray=$(grep -nE 'PKG_CHECK_MODULES|AC_CHECK_LIB|AC_SEARCH_LIBS|AC_CHECK_HEADER' "$AC" |
    grep -v '\[\$1\], \[\$2\]')
check_eq "no requirement outside TG_NEED/TG_WANT (each names its Debian package)" "" "$stray"
tap_done
