#!/bin/bash
# relp_file.sh - [input.file]: follow a file across rename rotation and
# copytruncate, resume from the remembered position after a restart (no
# record read twice, none missed while stopped), read a .gz file once;
# SIGHUP reloads the policy snapshot (events carry verdicts) and reopens;
# `format` forces a parser as `ingest --format` does.
. "$TG_SRCDIR/tests/lib.sh"
. "$TG_SRCDIR/tests/integration/relp_lib.sh"
D=$TG_TMP
L=$D/app.log
rec() { # FIRST LAST: snoopy syslog lines rec-FIRST..rec-LAST
    for i in $(seq "$1" "$2"); do
        printf '2026-11-24T13:44:13.000000+00:00 web2 snoopy[%d]: [login:bob ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) uid:bob(1001)/bob(1001) cwd:/]: /bin/echo rec-%d\n' $((100 + i)) "$i"
    done
}
rec 1000 1019 | gzip >"$D/old.log.gz"
cat >"$D/tg.conf" <<EOC
[collector]
spool_dir = $D/spool
metrics_listen =
workers = 2
; no dedup: a line read twice would show
dedup_window = 0
[input.file]
path = $L
[input.file.old]
path = $D/old.log.gz
[policy]
snapshot_dir = $TG_SRCDIR/deploy/policy-example
EOC
have() { [ "$(count_recs "$D"/out*)" -ge "$1" ]; }
rec 1 100 >"$L"
check "serve starts" serve_start "$D/tg.conf" "$D/out1" "$D/serve.log"
check "100 lines of the followed file" wait_for 100 have 100
check "and the 20 of the .gz file" wait_for 100 have 120
rec 101 110 >>"$L"
mv "$L" "$L.1"
rec 111 150 >"$L"
check "rename rotation: the old file's tail and the new file" wait_for 100 have 170
kill -HUP "$SERVE_PID"
check "SIGHUP reloads the policy and reopens the files" wait_for 50 grep -q 'SIGHUP: reopening 2 file inputs, reloading the policy snapshot' "$D/serve.log"
check "the snapshot was loaded again" wait_for 50 sh -c "[ \$(grep -c 'policy: snapshot .* loaded' '$D/serve.log') -ge 2 ]"
printf '2026-11-24T13:44:13.000000+00:00 web2 snoopy[9]: [login:bob ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) uid:bob(1001)/bob(1001) cwd:/]: /bin/echo rec-99' >>"$L"
kill -HUP "$SERVE_PID"
printf '9\n' >>"$L"
check "after SIGHUP the file goes on where it was (a line split by it is one record)" \
    wait_for 100 have 171
cp "$L" "$L.2"
: >"$L"
rec 151 155 >>"$L"
check "copytruncate: read from the start again" wait_for 100 have 176
check "serve stops" serve_stop
rec 156 170 >>"$L"
check "serve restarts" serve_start "$D/tg.conf" "$D/out2" "$D/serve.log"
check "lines written while stopped are read" wait_for 100 have 191
check "serve stops again" serve_stop
check_eq "every record once, none read twice" "191 191" \
    "$(cat "$D"/out* | grep -c '^{') $(count_recs "$D"/out*)"
check_eq "every event has a policy verdict" 191 "$(cat "$D"/out* | grep -c '"trailguard":{"policy":{"decision"')"
check_eq "events are file input" 191 "$(cat "$D"/out* | grep -c '"input":{"type":"file"')"

# found by the black-box audit: format took only auto.  A file read as
# percona gives percona.audit and leaves a snoopy record unparsed; a file read
# as snoopy the other way round.
P=$(grep -m1 '"name":"Query"' "$TG_SHARED/samples/percona-audit.json")
S='[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: /bin/true'
printf '%s\n%s\n' "$P" "$S" >"$D/audit.log"
printf '%s\n%s\n' "$S" "$P" >"$D/exec.log"
cat >"$D/fmt.conf" <<EOC
[collector]
spool_dir = $D/spool-fmt
metrics_listen =
[input.file.audit]
path = $D/audit.log
format = percona
[input.file.exec]
path = $D/exec.log
format = snoopy
EOC
check "serve starts with format = percona and format = snoopy inputs" \
    serve_start "$D/fmt.conf" "$D/fmt.ndjson" "$D/fmt.log"
check "their 4 records" wait_for 100 lines_at_least "$D/fmt.ndjson" 4
check "serve stops" serve_stop
parsed() { # PATH: dataset/parse status of the events read from PATH, in order
    jq -r --arg p "$1" 'select(.trailguard.input.peer == $p)
        | "\(.event.dataset)/\(.trailguard.parse.status)"' "$D/fmt.ndjson" | paste -sd' '
}
check_eq "format = percona: the Percona record only" "percona.audit/ok syslog/unparsed" \
    "$(parsed "$D/audit.log")"
check_eq "format = snoopy: the snoopy record only" "snoopy/ok syslog/unparsed" \
    "$(parsed "$D/exec.log")"
tap_done
