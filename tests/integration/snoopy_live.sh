#!/bin/bash
# snoopy_live.sh - records produced by the real snoopy (Debian's libsnoopy,
# LD_PRELOAD) parsed by `trailguard ingest`: the Debian default format, and a
# custom message_format given to trailguard as [parsers] snoopy_format.
# snoopy reads only /etc/snoopy.ini, so each run bind-mounts a private
# snoopy.ini over it inside a private mount namespace (unshare -m): the
# machine's own file is never touched.
. "$TG_SRCDIR/tests/lib.sh"
SNOOPY_LIB=$(ls /lib/*/libsnoopy.so /usr/lib/*/libsnoopy.so 2>/dev/null | head -1)
if [ -z "$SNOOPY_LIB" ] || [ ! -e /etc/snoopy.ini ]; then
    echo "1..0 # SKIP snoopy is not installed (apt-get install snoopy)"
    exit 0
fi
if ! unshare -m true 2>/dev/null; then
    echo "1..0 # SKIP needs root for a private mount namespace (unshare -m)"
    exit 0
fi
D=$TG_TMP
mkdir -p "$D/work dir"

# run_snoopy INI_BODY LOG: run a few commands under snoopy with that config
run_snoopy() {
    printf '[snoopy]\noutput = file:%s\n%s\n' "$2" "$1" >"$D/snoopy.ini"
    unshare -m sh -c "mount --bind '$D/snoopy.ini' /etc/snoopy.ini && cd '$D/work dir' &&
        LD_PRELOAD='$SNOOPY_LIB' /bin/sh -c '/bin/echo hello-from-snoopy >/dev/null;
            /usr/bin/env true; /bin/printf \"%s\" \"two
lines\" >/dev/null'"
}

# 1. Debian's compiled-in default format
run_snoopy "" "$D/default.log"
check "snoopy wrote records" test -s "$D/default.log"
"$TG_BIN" ingest -q --format snoopy "$D/default.log" >"$D/default.json"
# env runs true with execvp, which snoopy does not see (formats.md 2.1)
check_eq "the 3 logged execs (echo, env, printf) are 3 snoopy events" "3 3" \
    "$(jq -s 'length' "$D/default.json") $(jq -s 'map(select(.event.dataset == "snoopy")) | length' "$D/default.json")"
ev() { jq -c "select(.process.command_line | startswith(\"$1\"))" "$D/default.json"; }
check_eq "command line exactly as executed" '"/bin/echo hello-from-snoopy"' "$(ev /bin/echo | jq -c .process.command_line)"
check_eq "user and effective user are root (uid 0)" '"root" "0" "root" "0"' \
    "$(ev /bin/echo | jq -r '[.user.name, .user.id, .user.effective.name, .user.effective.id] | map(tojson) | join(" ")')"
check_eq "working directory with a space" "\"$D/work dir\"" "$(ev /bin/echo | jq -c .process.working_directory)"
check_eq "action exec, status ok" '"exec" "ok"' "$(ev /bin/echo | jq -r '[.event.action, .trailguard.parse.status] | map(tojson) | join(" ")')"
check_eq "no tty: the field is absent" null "$(ev /bin/echo | jq -c .trailguard.process.tty)"
check_eq "the session leader pid is a number" '"number"' "$(ev /bin/echo | jq -c '.process.session_leader.pid | type')"
check_eq "a newline in an argument: one partial event, command line kept whole" '"partial" "/bin/printf %s two\nlines"' \
    "$(ev /bin/printf | jq -r '[.trailguard.parse.status, .process.command_line] | map(tojson) | join(" ")')"

# 2. a custom message_format, given to trailguard as [parsers] snoopy_format
fmt='%{datetime} pid=%{pid} ppid=%{ppid} uid=%{uid}(%{username}) euid=%{euid} cwd=%{cwd} filename=%{filename}: %{cmdline}'
run_snoopy "message_format = \"$fmt\"" "$D/custom.log"
printf '[parsers]\nsnoopy_format = %s\n' "$fmt" >"$D/tg.conf"
"$TG_BIN" ingest -q -c "$D/tg.conf" --format snoopy "$D/custom.log" >"$D/custom.json"
check_eq "custom format: 3 events, 2 ok (the newline one is partial)" "3 2" \
    "$(jq -s 'length' "$D/custom.json") $(jq -s 'map(select(.trailguard.parse.status == "ok")) | length' "$D/custom.json")"
cev() { jq -c "select(.process.command_line | startswith(\"$1\"))" "$D/custom.json"; }
check_eq "custom format: executable from filename" '"/bin/echo"' "$(cev /bin/echo | jq -c .process.executable)"
check_eq "custom format: pid and parent pid are numbers" '"number" "number"' \
    "$(cev /bin/echo | jq -r '[(.process.pid | type), (.process.parent.pid | type)] | map(tojson) | join(" ")')"
check_eq "custom format: @timestamp from %{datetime} (whole seconds, UTC)" true \
    "$(cev /bin/echo | jq '."@timestamp" | test("^[0-9-]+T[0-9:]+Z$")')"
tap_done
