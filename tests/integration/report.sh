#!/bin/bash
# report.sh - `trailguard report` (issue 13): one self-contained HTML page,
# checked in headless Chromium: the DOM's totals are jq's over the same
# events, the silent host is named, a screenshot renders, and the page
# prints to a readable PDF (pdftotext); the page fetches nothing (no script,
# no external reference); a tampered store gives exit 1 and says so; the
# checkpoint an auditor gives is named.  The browser parts skip, saying so,
# only when chromium cannot start here.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
cd "$TG_TMP" || exit 1
"$TG_BIN" keygen --out ck >/dev/null
store_snapshot snap
# two hours on 7 hosts, one per second; web6 goes silent after the first hour
gen_records 7200 | awk '!(/ web6\.example\.com / && $3 >= "01:00:00")' >in.log
printf '[collector]\nfsync = interval\n[policy]\nsnapshot_dir = %s/snap\n[sink.file]\ndir = S\nsigning_key_file = %s/ck.key\n' \
    "$TG_TMP" "$TG_TMP" >c.ini
check "ingest" "$TG_BIN" ingest -q -c c.ini in.log
cp S/checkpoints.ndjson held.ndjson
store_cat S >all.ndjson
since=2026-11-24T00:00:00Z until=2026-11-24T02:00:00Z
"$TG_BIN" report S --since $since --until $until --out r.html --checkpoint held.ndjson --pubkey ck.pub 2>r.err
check_eq "report exits 0 on an intact store" 0 "$?"
check "... and writes the page" test -s r.html
check_eq "the page is self-contained: no script, no external reference" "" \
    "$(grep -Eio '<script|src=|href=|url\(|@import|<link' r.html)"
check "the page names the checkpoint the auditor gave, its signature checked" \
    grep -q 'given by the auditor, signature checked' r.html

events=$(wc -l <all.ndjson)
deny=$(jq -c 'select(.trailguard.policy.decision == "deny")' all.ndjson | wc -l)
sudo=$(jq -c 'select(.process.command_line | startswith("sudo "))' all.ndjson | wc -l)

CHROME="chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir=$TG_TMP/profile"
mkdir -p profile
if ! command -v chromium >/dev/null || ! timeout 120 $CHROME --dump-dom "file://$TG_TMP/r.html" >dom.html 2>chrome.err || ! grep -q 'total-events' dom.html; then
    skip "chromium cannot start here ($(command -v chromium || echo 'not installed'); $(tail -1 chrome.err 2>/dev/null)): the DOM, screenshot and PDF checks are skipped"
else
    check "Chromium's DOM: the totals are jq's over the same events ($events events, $deny denied, $sudo sudo)" \
        python3 - dom.html "$events" "$deny" "$sudo" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.ids = {}; s.cur = None; s.silent = []; s.in_silent = False; s.td = 0
    def handle_starttag(s, tag, a):
        a = dict(a)
        if "id" in a: s.cur = a["id"]; s.ids[s.cur] = ""
        if a.get("id") == "silent": s.in_silent = True
        if s.in_silent and tag == "tr": s.td = 0
        if s.in_silent and tag == "td": s.td += 1
    def handle_endtag(s, tag):
        if tag in ("b", "p", "svg"): s.cur = None
        if tag == "table": s.in_silent = False
    def handle_data(s, d):
        if s.cur: s.ids[s.cur] += d
        if s.in_silent and s.td == 1 and d.strip(): s.silent.append(d.strip())
p = P(); p.feed(open(sys.argv[1]).read())
assert p.ids["total-events"] == sys.argv[2], p.ids.get("total-events")
assert p.ids["total-deny"] == sys.argv[3], p.ids.get("total-deny")
assert p.ids["total-sudo"] == sys.argv[4], p.ids.get("total-sudo")
assert p.ids["total-hosts"] == "7", p.ids["total-hosts"]
assert p.ids["verify-result"] == "intact", p.ids["verify-result"]
assert p.silent == ["web6.example.com"], p.silent
PY
    check "Chromium's DOM: the chart has a bar per hour with events" \
        test "$(grep -o '<rect ' dom.html | wc -l)" -eq 2
    timeout 120 $CHROME --window-size=1200,1800 --screenshot="$TG_TMP/shot.png" "file://$TG_TMP/r.html" >/dev/null 2>&1
    check "a screenshot of the page renders (1200x1800 PNG, not blank)" python3 - shot.png <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (1200, 1800), (w, h)
raw, pos = b"", 8
while pos < len(d):
    n, t = struct.unpack(">I4s", d[pos:pos + 8])
    if t == b"IDAT": raw += d[pos + 8:pos + 8 + n]
    pos += 12 + n
px = zlib.decompress(raw)
assert len(set(px[::97])) > 20, "a blank page"
PY
    timeout 120 $CHROME --no-pdf-header-footer --print-to-pdf="$TG_TMP/r.pdf" "file://$TG_TMP/r.html" >/dev/null 2>&1
    pdftotext r.pdf r.txt 2>/dev/null
    check "the page prints to a readable PDF (pdftotext finds the title, totals and sections)" \
        sh -c "grep -q 'trailguard audit report' r.txt && grep -q '$events' r.txt && grep -q 'Hosts that went silent' r.txt && grep -q 'Denies and their reasons' r.txt"
fi

cp -a S T
python3 "$TG_SRCDIR/tests/integration/tamper.py" apply T record-change 1
"$TG_BIN" report T --since $since --until $until --out t.html 2>t.err
check_eq "report on a tampered store exits 1" 1 "$?"
check "... and the page says TAMPERED, naming the record" \
    sh -c "grep -q 'id=\"verify-result\">TAMPERED' t.html && grep -q 'record 5 .* was changed' t.html"
"$TG_BIN" report S --since $since --out x.html 2>/dev/null
check_eq "report without --until is a usage error" 2 "$?"
"$TG_BIN" report S --since $since --until $until --decision deny --out d.html 2>/dev/null
check "filters apply: --decision deny counts the denies only" grep -q "id=\"total-events\">$deny<" d.html
tap_done
