#!/bin/bash
# check.sh - `trailguard check -c FILE` (and `serve --check`): exit 0 for a
# good configuration; exit 2 with every problem as FILE:LINE: [section] key:
# what, all of them in one run (bad values, TLS files, the policy snapshot,
# addresses in use or not local, directories the service user cannot write);
# it writes nothing (missing directories stay missing), and beside a live
# `serve` on the same configuration it passes, noting the addresses the
# running collector holds, without touching its locks.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
chmod 755 "$D" # the unprivileged runs below read what is in it
SNAP=$TG_SRCDIR/deploy/policy-example
RPORT=$(free_port 20670 20679)
MPORT=$(free_port 20680 20689)

# findings FILE: the finding lines of a check's stderr, without the total
good_conf() {
    cat <<EOC
[collector]
spool_dir = $D/var/spool
metrics_listen = 127.0.0.1:$MPORT
workers = 2
[input.relp]
listen = 127.0.0.1:$RPORT
[policy]
snapshot_dir = $SNAP
[sink.file]
dir = $D/var/events
EOC
}
good_conf >"$D/good.conf"

"$TG_BIN" check -c "$D/good.conf" >"$D/good.out" 2>"$D/good.err"
check_eq "a good configuration: exit 0" 0 $?
check "... says so" grep -qx "$D/good.conf: configuration OK (2 notes above)" "$D/good.out"
check "... notes the directories it would create" \
    grep -q "^$D/good.conf:2: \[collector\] spool_dir: note: $D/var/spool does not exist yet" "$D/good.err"
check "... and creates nothing (a check writes nothing)" test ! -e "$D/var"
"$TG_BIN" serve --check -c "$D/good.conf" >/dev/null 2>&1
check_eq "serve --check: the same" 0 $?
"$TG_BIN" check >/dev/null 2>"$D/noc.err"
check_eq "no -c: a usage error" 2 $?

# --- every kind of problem, all in one run
mkdir -p "$D/bad" "$D/snap-bad" "$D/ro"
printf 'this is not a policy file\n' >"$D/snap-bad/notes.txt"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/bad/key.pem" -out "$D/bad/cert.pem" \
    -days 1 -subj /CN=tg-check >/dev/null 2>&1
chmod 600 "$D/bad/key.pem" # readable by root only: the service user cannot read it
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(600)' "$RPORT" &
BUSY=$!
_tg_pids="$_tg_pids $BUSY"
wait_for 100 tcp_port_open "$RPORT"
cat >"$D/bad.conf" <<EOC
[collector]
spool_dir = $D/ro/spool
metrics_listen = 127.0.0.1:$RPORT
workers = many
[input.relp]
listen = 127.0.0.1:$RPORT
tls = on
tls_ca = $D/bad/cert.pem
tls_cert = $D/bad/missing.pem
tls_key = $D/bad/key.pem
[input.relp.far]
listen = 192.0.2.1:$MPORT
[input.file]
path = $D/bad
[policy]
snapshot_dir = $D/snap-bad
[sink.file]
dir = $D/ro
signing_key_file = $D/bad/cert.pem
[sink.kafak]
brokers = x:9092
EOC
cp -a "$SNAP" "$D/snap-good" # as root: the unprivileged user cannot write $D/ro
setpriv --reuid=65534 --regid=65534 --clear-groups "$TG_BIN" check -c "$D/bad.conf" \
    >"$D/bad.out" 2>"$D/bad.err"
check_eq "problems: exit 2" 2 $?
sed 's/^/# /' "$D/bad.err"
has() { grep -q "^$D/bad.conf:$1: $2" "$D/bad.err"; }
check "a bad value, with its line" has 4 '\[collector\] workers: invalid value'
check "an unknown section" has 20 'unknown section \[sink.kafak\]'
check "a spool_dir the service user cannot create" \
    has 2 "\[collector\] spool_dir: $D/ro/spool does not exist and cannot be created"
check "a store dir the service user cannot write" has 18 "\[sink.file\] dir: cannot write in $D/ro"
check "a missing TLS certificate" has 9 "\[input.relp\] tls_cert: cannot read $D/bad/missing.pem"
check "a TLS key the service user cannot read" has 10 "\[input.relp\] tls_key: cannot read $D/bad/key.pem: Permission denied"
check "the readable CA is fine" sh -c "! grep -q 'tls_ca' '$D/bad.err'"
check "a port another user's program holds" \
    has 3 "\[collector\] metrics_listen: 127.0.0.1:$RPORT is in use by another process (not visible to this user)"
printf '[collector]\nspool_dir = %s\nmetrics_listen = 127.0.0.1:%s\n' "$D/var/spool" "$RPORT" >"$D/busy.conf"
"$TG_BIN" check -c "$D/busy.conf" 2>"$D/busy.err" >/dev/null
check_eq "... as root: exit 2" 2 $?
check "... naming the program that holds it" grep -q \
    "^$D/busy.conf:3: \[collector\] metrics_listen: 127.0.0.1:$RPORT is in use by python3 (pid $BUSY)" "$D/busy.err"
check "the same port twice" has 6 "\[input.relp\] listen: port $RPORT is also used by \[collector\] metrics_listen (line 3)"
check "an address that is not this machine's" has 12 "\[input.relp.far\] listen: 192.0.2.1:$MPORT is not an address of this machine"
check "a followed path that is not a file" has 14 "\[input.file\] path: $D/bad is not a regular file"
check "a signing key that is not a private key" has 19 "\[sink.file\] signing_key_file: "
check "a policy snapshot that does not load" has 16 "\[policy\] snapshot_dir: policy snapshot $D/snap-bad is damaged"
check_eq "every problem is reported, and counted" \
    "$(grep -c "^$D/bad.conf:[0-9]*: " "$D/bad.err")" \
    "$(sed -n "s|^$D/bad.conf: \([0-9]*\) problems found.*|\1|p" "$D/bad.err")"
check_eq "... 12 of them" 12 "$(grep -c "^$D/bad.conf:[0-9]*: " "$D/bad.err")"
kill "$BUSY"
wait "$BUSY" 2>/dev/null

# files in the store the service user could not open at start
mkdir -p "$D/st"
chmod 777 "$D/st"
touch "$D/st/chain.head" && chmod 644 "$D/st/chain.head"
sed "s|^dir = .*|dir = $D/st|; s|^spool_dir = .*|spool_dir = $D/st-spool|" "$D/good.conf" >"$D/st.conf"
mkdir -m 777 "$D/st-spool"
setpriv --reuid=65534 --regid=65534 --clear-groups "$TG_BIN" check -c "$D/st.conf" 2>"$D/st.err" >/dev/null
check_eq "a store whose chain.head the service user cannot write: exit 2" 2 $?
check "... names the file" grep -q "^$D/st.conf:10: \[sink.file\] dir: $D/st/chain.head: not readable and writable" "$D/st.err"

# --- beside a live serve on the same configuration
serve_start "$D/good.conf" "$D/serve.out" "$D/serve.log"
check "serve runs" kill -0 "$SERVE_PID"
ls -lR --time-style=full-iso "$D/var" >"$D/before.ls"
"$TG_BIN" check -c "$D/good.conf" >"$D/live.out" 2>"$D/live.err"
check_eq "beside the running collector: exit 0" 0 $?
sed 's/^/# /' "$D/live.err"
check "... the RELP port is a note: in use by the running collector" grep -q \
    "^$D/good.conf:6: \[input.relp\] listen: note: 127.0.0.1:$RPORT is in use (the running collector: trailguard pid $SERVE_PID" \
    "$D/live.err"
check "... and so is the metrics port" grep -q \
    "^$D/good.conf:3: \[collector\] metrics_listen: note: 127.0.0.1:$MPORT is in use (the running collector" "$D/live.err"
check "... the spool and the store are not problems (their locks are held)" \
    sh -c "! grep -v ': note: ' '$D/live.err' | grep -q ."
ls -lR --time-style=full-iso "$D/var" >"$D/after.ls"
check "... nothing in the spool or the store changed" cmp "$D/before.ls" "$D/after.ls"
"$TG_BIN" serve --check -c "$D/good.conf" >/dev/null 2>&1
check_eq "serve --check beside it: exit 0" 0 $?
check "the collector still runs and receives" "$RELP_LOAD" -p "$RPORT" -n 10 -q \
    "$TG_SHARED/samples/snoopy-2.5.1-default.log"
check "serve stops cleanly" serve_stop
tap_done
