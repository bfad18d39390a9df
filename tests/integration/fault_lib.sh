# tests/integration/fault_lib.sh - helpers for the fault tests
# (fault_spool_*.sh): the fault injector (tests/tools/tg_fault.so, see its
# file comment for the TG_FAULT_* variables), the raw RELP client, and a
# sink that cannot deliver.  Source after tests/lib.sh and relp_lib.sh.

FAULT_SO=${TG_BUILDDIR:-$(dirname "$TG_BIN")}/tests/tools/tg_fault.so
RELP_SEND="python3 $TG_SRCDIR/tests/tools/relp_send.py"
# a sanitizer build wants its runtime first in the library list; the
# injector goes before it, which is harmless here
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# with_fault CMD...: run CMD with the injector preloaded (the TG_FAULT_*
# variables come from the caller's environment)
with_fault() { LD_PRELOAD=$FAULT_SO "$@"; }

# stalled_fifo PATH: a FIFO whose pipe is already full, held open on fd 7
# (reader and writer): `trailguard serve >>PATH` opens it at once and its
# stdout sink blocks on the first event, confirming nothing.  Close with
# `exec 7>&-` after the process is gone.
stalled_fifo() {
    mkfifo "$1"
    exec 7<>"$1"
    python3 - "$1" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
try:
    while True:
        os.write(fd, b"\0" * 65536)
except BlockingIOError:
    pass
os.close(fd)
EOF
}

# kill9: kill -9 the collector started by serve_start and reap it
kill9() {
    kill -KILL "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
    return 0
}

# events_with FILE TEXT: the number of events in FILE whose original holds TEXT
events_with() { grep '^{' "$1" | jq -R "fromjson? | select(.event.original | contains(\"$2\")) | 1" | wc -l; }
