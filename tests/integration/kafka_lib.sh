# tests/integration/kafka_lib.sh - helpers for the Kafka sink tests: a mock
# broker (tests/tools/tg_mock_broker) controlled through a FIFO, and kcat as
# the consumer.  Source after tests/lib.sh.  Every wait is a bounded poll.

TG_MOCK=${TG_MOCK:-$TG_BUILDDIR/tests/tools/tg_mock_broker}

# broker_start TOPIC...: start the mock broker; sets BROKER (bootstrap
# address) and BROKER_PID; commands go through broker_cmd.  The EXIT trap
# stops it (a test that sets its own trap calls broker_stop there).
broker_start() {
    local t args=""
    for t in "$@"; do args="$args -t $t"; done
    mkfifo "$TG_TMP/broker.in"
    # shellcheck disable=SC2086
    "$TG_MOCK" -o "$TG_TMP/broker.addr" $args <"$TG_TMP/broker.in" >"$TG_TMP/broker.out" \
        2>"$TG_TMP/broker.err" &
    BROKER_PID=$!
    exec 8>"$TG_TMP/broker.in" # keep the FIFO open: the broker reads commands until we close it
    if ! wait_for 100 test -s "$TG_TMP/broker.addr"; then
        echo "Bail out! mock broker did not start: $(cat "$TG_TMP/broker.err")"
        exit 1
    fi
    BROKER=$(cat "$TG_TMP/broker.addr")
    trap 'broker_stop; rm -rf "$TG_TMP"' EXIT
}

# broker_cmd LINE: send a command and wait for its answer
broker_cmd() {
    echo "$1" >&8
    wait_for 100 grep -qxF "ok $1" "$TG_TMP/broker.out"
}

broker_stop() {
    [ -n "${BROKER_PID:-}" ] || return 0
    exec 8>&-
    kill "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
    BROKER_PID=
}

# consume TOPIC OUT: every message of TOPIC (one kcat -J JSON object per line)
consume() {
    timeout 60 kcat -C -b "$BROKER" -t "$1" -e -J -q >"$2" 2>"$2.err"
}

# gen_records N FILE: N distinct syslog records (snoopy lines from 3 hosts)
gen_records() {
    awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
        printf "Nov 24 13:44:13 host%d snoopy[%d]: [login:alice ssh:((undefined)) sid:2381 tty:(none) ((none)/(none)) uid:alice(1000)/alice(1000) cwd:/tmp]: /bin/echo %d\n", i % 3, 10000 + i, i }' >"$2"
}
