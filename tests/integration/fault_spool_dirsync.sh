#!/bin/bash
# fault_spool_dirsync.sh - issue 11 (9a): with fsync = always, the spool
# directory is fsynced after a segment (and its .ack) is created and before
# any acknowledgement covers a record in it; otherwise a power loss can
# lose the new file's directory entry and with it acknowledged records.
# The fault injector's trace gives the order of the calls: every
# "200 OK" of a syslog frame must come after an fsync of the spool
# directory that follows the creation of the newest segment.  Two 200 kB
# messages in 128 KiB segments make two segments.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/fault_lib.sh"
D=$TG_TMP
PORT=$(free_port 20900 20919)
serve_conf "$D/spool" "$PORT" | sed 's/^metrics_listen =.*/&\nfsync = always\nspool_max_bytes = 1M/' \
    >"$D/tg.conf"
for i in 1 2; do
    { printf '<86>Nov 24 13:44:13 h1 app: dir-rec-%d ' "$i"; head -c 200000 /dev/zero | tr '\0' y; } \
        >"$D/r$i.msg"
done
export TG_FAULT_TRACE="$D/trace"
check "serve listens" with_fault serve_start "$D/tg.conf" "$D/out" "$D/serve.log"
unset TG_FAULT_TRACE
check "two records acknowledged" $RELP_SEND "$PORT" "$D/r1.msg" "$D/r2.msg"
check "both delivered" wait_for 100 lines_at_least "$D/out" 2
check "serve exits 0 on SIGTERM" serve_stop
check_eq "two segments were created" 2 "$(grep -c "^create $D/spool/seg-.*\.log$" "$D/trace")"
check_eq "two syslog frames were acknowledged" 2 "$(grep -c '^send .* rsp 6 200 OK' "$D/trace")"
violations=$(awk -v seg="$D/spool/seg-" -v dir="$D/spool" '
    $1 == "create" && index($2, seg) == 1 { pending = 1 }
    $1 == "fsync" && $2 == dir && $3 == "=" && $4 == "0" { pending = 0 }
    $1 == "send" && / rsp 6 200 OK/ && pending { n++ }
    END { print n + 0 }' "$D/trace")
check_eq "no ack before the directory of its segment was fsynced" 0 "$violations"
tap_done
