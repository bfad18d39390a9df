#!/bin/bash
# fault_spool_forge.sh - issue 11 (9c): a sender cannot forge a spool
# record.  Message A carries, inside its body, a well-formed spool record
# of the format before the fix (valid magic, length, sequence number and
# CRC-32) with a spoofed peer (6.6.6.6); message B is an ordinary one.
# Both are acknowledged, the collector is killed -9 before delivery, and a
# byte of A's body (before the embedded record) is flipped on disk, as a
# bad sector would.  At the restart the scanner skips A as corrupt and
# resynchronizes: before the fix it accepted the embedded bytes as a record
# and replayed an event "from" 6.6.6.6; now it finds only real records
# (B), because a record's checksum covers a random per-segment secret that
# no sender knows.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
. "$TG_SRCDIR/tests/integration/fault_lib.sh"
D=$TG_TMP
PORT=$(free_port 20920 20939)
serve_conf "$D/spool" "$PORT" >"$D/tg.conf"
python3 - "$D/a.msg" <<'PYEOF'
import struct, sys, zlib
peer = b"6.6.6.6"
data = b"<86>Nov 24 13:44:13 evil app: forged-record"
# the record format before the fix: [magic "TSG1"][len][seq][crc32(seq, len, body)]
# body = [input 1 (relp)][flags][peer len u16][sec u64][nsec u32] peer data
body = struct.pack("<BBHqI", 1, 0, len(peer), 1700000000, 0) + peer + data
seq = 1000
crc = zlib.crc32(struct.pack("<QI", seq, len(body)) + body)
fake = struct.pack("<IIQI", 0x31475354, len(body), seq, crc) + body
with open(sys.argv[1], "wb") as f:
    f.write(b"<86>Nov 24 13:44:13 h1 app: forge-carrier CORRUPT-ME " + fake + b" the end")
PYEOF
printf '<86>Nov 24 13:44:13 h1 app: forge-after' >"$D/b.msg"

stalled_fifo "$D/fifo"
check "serve listens (its sink cannot deliver)" serve_start "$D/tg.conf" "$D/fifo" "$D/serve1.log"
check "both messages acknowledged" $RELP_SEND "$PORT" "$D/a.msg" "$D/b.msg"
kill9
exec 7>&-
check "a byte of A is flipped in the spool" python3 - "$D/spool" <<'PYEOF'
import glob, sys
for path in glob.glob(sys.argv[1] + "/seg-*.log"):
    b = bytearray(open(path, "rb").read())
    i = b.find(b"CORRUPT-ME")
    if i >= 0:
        b[i] ^= 0x20
        open(path, "r+b").write(b)
        sys.exit(0)
sys.exit(1)
PYEOF
check "restarted" serve_start "$D/tg.conf" "$D/out" "$D/serve2.log"
check "the record after the corrupt one is replayed (resynchronized)" \
    wait_for 100 grep -q 'forge-after' "$D/out"
check "serve exits 0 on SIGTERM" serve_stop
check "the corrupt record is reported" grep -q 'corrupt or torn record' "$D/serve2.log"
check_eq "no event from the spoofed peer" 0 \
    "$(grep '^{' "$D/out" | jq -R 'fromjson? | select(.trailguard.input.peer == "6.6.6.6") | 1' | wc -l)"
check_eq "no event made of the embedded bytes" 0 "$(grep -c 'forged-record' "$D/out")"
tap_done
