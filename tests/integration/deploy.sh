#!/bin/bash
# deploy.sh - the files in deploy/ are valid for the tools that read them:
# rsyslogd -N1 accepts the rsyslog snippets (alone and inside Debian's
# rsyslog.conf) and rejects a typo; `make install DESTDIR=` installs the
# binary where the installed unit runs it, the unit (systemd-analyze verify
# accepts it, its man: Documentation resolving), the manual pages (man -l
# renders them without warnings), the bash completion (it completes) and
# the example configuration (never over an edited one);
# trailguard.conf documents every key of `trailguard help config` and no
# unknown one (demo.conf too); the example policy snapshot is what
# cvtsudoers makes of its source and loads; export-policy-snapshot.sh builds
# a snapshot from a (fake) ldapsearch and leaves the old one alone on failure.
. "$TG_SRCDIR/tests/lib.sh"
D=$TG_SRCDIR/deploy

# --- rsyslog
if command -v rsyslogd >/dev/null; then
    for f in central-omrelp.conf central-omprog.conf host-forward.conf; do
        check "rsyslogd -N1 accepts rsyslog/$f" rsyslogd -N1 -f "$D/rsyslog/$f"
    done
    if [ -r /etc/rsyslog.conf ]; then
        # as installed: Debian's main config, then the snippet from rsyslog.d
        grep -v '^\$IncludeConfig\|^include(' /etc/rsyslog.conf >"$TG_TMP/main.conf"
        cat "$D/rsyslog/host-forward.conf" >>"$TG_TMP/main.conf"
        check "host-forward.conf inside Debian's rsyslog.conf" rsyslogd -N1 -f "$TG_TMP/main.conf"
    else
        skip "no /etc/rsyslog.conf to include host-forward.conf in"
    fi
    sed 's/confirmMessages=/confirmMessagez=/' "$D/rsyslog/central-omprog.conf" >"$TG_TMP/typo.conf"
    check "rsyslogd -N1 rejects a typo (the check bites)" sh -c "! rsyslogd -N1 -f '$TG_TMP/typo.conf'"
    check "omrelp forwarding retries forever" grep -q 'action.resumeRetryCount="-1"' \
        "$D/rsyslog/central-omrelp.conf"
    check "... with a disk-assisted queue" grep -q 'queue.filename=' "$D/rsyslog/central-omrelp.conf"
    check "omprog confirms and uses transactions" sh -c \
        "grep -q 'confirmMessages=\"on\"' '$D/rsyslog/central-omprog.conf' &&
         grep -q 'useTransactions=\"on\"' '$D/rsyslog/central-omprog.conf'"
else
    skip "rsyslogd not installed: rsyslog snippets not validated"
fi

# --- make install (DESTDIR): what it puts where, and the installed files work
R=$TG_TMP/root
if make -s -C "$TG_BUILDDIR" install DESTDIR="$R" >"$TG_TMP/install.out" 2>&1; then
    ok "make install DESTDIR=... exits 0"
else
    not_ok "make install DESTDIR=... exits 0"
    tail -20 "$TG_TMP/install.out" | sed 's/^/# /'
fi
unit=$(find "$R" -name trailguard.service -path '*/systemd/system/*' | head -1)
man1=$(find "$R" -name trailguard.1 -path '*/man1/*' | head -1)
man5=$(find "$R" -name trailguard.conf.5 -path '*/man5/*' | head -1)
comp=$(find "$R" -path '*/bash-completion/completions/trailguard' | head -1)
conf=$(find "$R" -path '*/trailguard/trailguard.conf' | head -1)
check "installed: the unit, both manual pages, the completion and the configuration"     test -n "$unit" -a -n "$man1" -a -n "$man5" -a -n "$comp" -a -n "$conf"
exe=$(sed -n 's/^ExecStart=\([^ ]*\) serve -c \(.*\)$/\1/p' "$unit")
cfg=$(sed -n 's/^ExecStart=[^ ]* serve -c \(.*\)$/\1/p' "$unit")
check "the unit runs the binary where make install put it" test -x "$R$exe"
check "... with the configuration where make install put it" test -f "$R$cfg"
check_eq "the configuration is the documented example" "" "$(cmp "$D/trailguard.conf" "$R$cfg" 2>&1)"
check "the unit is Type=notify" grep -qx 'Type=notify' "$unit"
check "the unit checks the configuration before starting" grep -qx "ExecStartPre=$exe check -c $cfg" "$unit"
check "... and before reloading, then sends SIGHUP" sh -c \
    "grep '^ExecReload=' '$unit' | head -1 | grep -qx 'ExecReload=$exe check -c $cfg' &&
     grep '^ExecReload=' '$unit' | tail -1 | grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID'"
doc=$(sed -n 's|^Documentation=.* file:\([^ ]*\).*|\1|p' "$unit")
check "Documentation=file: names the installed README" test -f "$R$doc"
if command -v systemd-analyze >/dev/null && systemd-analyze --version >/dev/null 2>&1; then
    # the installed unit, its paths under the staging root (as verify needs the
    # binary to exist); --man=yes runs man on each Documentation=man: entry
    prefix=${exe%/bin/trailguard}
    sed "s|$prefix/|$R$prefix/|g" "$unit" >"$TG_TMP/trailguard.service"
    MANPATH=$(dirname "$(dirname "$man1")") systemd-analyze verify --man=yes \
        "$TG_TMP/trailguard.service" >"$TG_TMP/verify.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$TG_TMP/verify.out" ]; then
        ok "systemd-analyze verify the installed unit (its man: Documentation resolves)"
    else
        not_ok "systemd-analyze verify the installed unit (its man: Documentation resolves)"
        sed 's/^/# /' "$TG_TMP/verify.out"
    fi
else
    skip "systemd-analyze not available: unit not verified"
fi
for k in 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=$' 'User=trailguard' \
    'ReadWritePaths=/var/lib/trailguard/spool /var/lib/trailguard/events'; do
    check "unit sets ${k%\$}" grep -q "^$k" "$unit"
done
if command -v man >/dev/null; then
    for page in "$man1" "$man5"; do
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >"$TG_TMP/page.txt" 2>"$TG_TMP/page.err"
        check "man -l renders $(basename "$page") without warnings" \
            sh -c "[ -s '$TG_TMP/page.txt' ] && [ ! -s '$TG_TMP/page.err' ]"
        sed 's/^/# /' "$TG_TMP/page.err" | head -5
        cp "$TG_TMP/page.txt" "$TG_TMP/$(basename "$page").txt"
    done
    missing=""
    for c in $("$TG_BIN" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
        grep -q "trailguard $c" "$TG_TMP/trailguard.1.txt" || missing="$missing $c"
    done
    check_eq "trailguard(1) has every command's help" "" "$missing"
    missing=""
    for k in $("$TG_BIN" help config | awk '/^  [a-z_]+ +(string|integer|size|boolean|choice|host:port) /{ print $1 }'); do
        grep -q "^ *$k = " "$TG_TMP/trailguard.conf.5.txt" || missing="$missing $k"
    done
    check_eq "trailguard.conf(5) has every key of help config" "" "$missing"
else
    skip "man not installed: manual pages not rendered"
fi
# complete WORDS...: what the installed completion offers for the last word
complete_words() {
    bash --norc --noprofile -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
        _trailguard; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" | sort | tr '\n' ' '
}
check "the completion script loads in bash" bash --norc --noprofile -c ". '$comp' && complete -p trailguard"
check_eq "... completes a command" "serve " "$(complete_words trailguard ser)"
check_eq "... a command's options" "--check --config " "$(complete_words trailguard serve --c)"
check_eq "... an option's values" "csv ndjson table " "$(complete_words trailguard query /x --format '')"
check_eq "... a subcommand" "check history lint " "$(complete_words trailguard policy '')"
check_eq "... the configuration sections" "input.file input.relp " "$(complete_words trailguard help config in)"
echo "; edited" >>"$R$cfg"
make -s -C "$TG_BUILDDIR" install DESTDIR="$R" >/dev/null 2>&1
check "make install again keeps an edited configuration" grep -q '^; edited' "$R$cfg"
make -s -C "$TG_BUILDDIR" uninstall DESTDIR="$R" >/dev/null 2>&1
check "make uninstall removes the binary, keeps the edited configuration" \
    sh -c "[ ! -e '$R$exe' ] && grep -q '^; edited' '$R$cfg'"

# --- configuration files against the binary's own reference
"$TG_BIN" help config >"$TG_TMP/ref.txt"
python3 "$TG_SRCDIR/tests/integration/conf_keys.py" "$TG_TMP/ref.txt" "$D/trailguard.conf" --all \
    >"$TG_TMP/keys.out"
rc=$?
if [ $rc -eq 0 ]; then ok "trailguard.conf documents every key of help config, no unknown one"; else
    not_ok "trailguard.conf documents every key of help config, no unknown one"
    grep -v '^skip' "$TG_TMP/keys.out" | sed 's/^/# /'
fi
grep '^skip' "$TG_TMP/keys.out" | sed 's/^/# not built in yet, not checked: /'
check "demo.conf uses only known keys" python3 "$TG_SRCDIR/tests/integration/conf_keys.py" \
    "$TG_TMP/ref.txt" "$D/demo.conf"
if grep -q '^skip' "$TG_TMP/keys.out"; then
    skip "loading trailguard.conf: some of its sections are not built in yet"
else
    # Every section is known: the whole file must load.  Paths are moved
    # under $TG_TMP and the brokers to a closed port; with no input nothing
    # is produced, so `ingest` only loads the config and opens the sinks.
    sed "s|/var/lib/trailguard|$TG_TMP/var|; s|/etc/trailguard/policy|$D/policy-example|;
         s|^brokers = .*|brokers = 127.0.0.1:1|" "$D/trailguard.conf" >"$TG_TMP/full.conf"
    check "trailguard.conf loads" "$TG_BIN" ingest -q -c "$TG_TMP/full.conf" /dev/null
fi

# --- example policy snapshot
if command -v cvtsudoers >/dev/null; then
    cvtsudoers -f json -o "$TG_TMP/sudoers.json" "$D/policy-example.sudoers" 2>/dev/null
    check "policy-example/sudoers.json is cvtsudoers' output of policy-example.sudoers" \
        cmp "$TG_TMP/sudoers.json" "$D/policy-example/sudoers.json"
else
    skip "cvtsudoers not installed"
fi
check "passwd has 7 fields per line" awk -F: 'NF != 7 { exit 1 }' "$D/policy-example/passwd"
check "group has 4 fields per line" awk -F: 'NF != 4 { exit 1 }' "$D/policy-example/group"
if "$TG_BIN" help policy >/dev/null 2>&1; then
    check "trailguard policy lint loads the example snapshot" \
        "$TG_BIN" policy lint --snapshot "$D/policy-example"
else
    skip "trailguard policy not built in yet: example snapshot not loaded"
fi

# --- export-policy-snapshot.sh against a fake ldapsearch serving idm.ldif
mkdir -p "$TG_TMP/bin"
cat >"$TG_TMP/bin/ldapsearch" <<'FAKE'
#!/bin/bash
# fake ldapsearch: answers from $FAKE_LDIF by the subtree of -b; logs its arguments
echo "$*" >>"$FAKE_LOG"
[ -z "${FAKE_FAIL:-}" ] || { echo "ldap_sasl_interactive_bind_s: Can't contact LDAP server (-1)" >&2; exit 255; }
while [ $# -gt 0 ]; do [ "$1" = -b ] && base=$2; shift; done
case $base in
cn=accounts,*) awk -v RS= -v ORS='\n\n' '/cn=accounts,dc=/ && !/^dn: [^\n]*cn=hbac/' "$FAKE_LDIF" | grep -v '^#' ;;
cn=hbac,*) awk -v RS= -v ORS='\n\n' '/^dn: [^\n]*cn=hbac,dc=/' "$FAKE_LDIF" ;;
ou=sudoers,*) printf 'dn: cn=ops,ou=sudoers,dc=example,dc=com\nobjectClass: sudoRole\ncn: ops\nsudoUser: %%ops\nsudoHost: ALL\nsudoCommand: /usr/bin/uptime\n\n' ;;
esac
FAKE
chmod +x "$TG_TMP/bin/ldapsearch"
export FAKE_LDIF=$D/policy-example/idm.ldif FAKE_LOG=$TG_TMP/ldap.log
snap=$TG_TMP/policy
PATH=$TG_TMP/bin:$PATH "$D/export-policy-snapshot.sh" -o "$snap" -H ldaps://ipa.example.com \
    -b dc=example,dc=com -s "$D/policy-example.sudoers" -l >"$TG_TMP/export.out" 2>&1
check_eq "export-policy-snapshot.sh exits 0" 0 $?
check "... writes idm.ldif, sudo.ldif, sudoers.json, passwd, group" \
    test -s "$snap/idm.ldif" -a -s "$snap/sudo.ldif" -a -s "$snap/sudoers.json" -a -s "$snap/passwd" -a -s "$snap/group"
check_eq "... every entry of the IdM tree exported" "$(grep -c '^dn: ' "$FAKE_LDIF")" \
    "$(grep -c '^dn: ' "$snap/idm.ldif")"
check "... uses Kerberos (GSSAPI) by default, no line wrapping" grep -q -- '-o ldif-wrap=no -H ldaps://ipa.example.com -Y GSSAPI' "$FAKE_LOG"
check_eq "... files 0640" "0640" "$(stat -c %a "$snap/idm.ldif" | sed 's/^/0/')"
cp -a "$snap" "$TG_TMP/before"
FAKE_FAIL=1 PATH=$TG_TMP/bin:$PATH "$D/export-policy-snapshot.sh" -o "$snap" -H ldaps://ipa.example.com \
    -b dc=example,dc=com >"$TG_TMP/fail.out" 2>&1
check_eq "an unreachable server: exit 3" 3 $?
check "... the current snapshot is untouched" diff -r "$TG_TMP/before" "$snap"
check "... and no half-written snapshot is left" test ! -e "$snap.new"
"$D/export-policy-snapshot.sh" >/dev/null 2>&1
check_eq "no -o: usage, exit 2" 2 $?

# --- host-side snippets
check "snoopy.ini uses only snoopy 2.5 keys" sh -c "! grep -E '^[a-z_]+ *=' '$D/snoopy.ini' |
    grep -vE '^(message_format|filter_chain|output|error_logging|syslog_facility|syslog_ident|syslog_level) *='"
check "snoopy.ini logs to syslog as snoopy" sh -c \
    "grep -q '^output = devlog' '$D/snoopy.ini' && grep -q '^syslog_ident = snoopy' '$D/snoopy.ini'"
check "Percona snippet: SYSLOG handler, JSON format" sh -c \
    "grep -q '^audit_log_handler = SYSLOG' '$D/percona-audit.cnf' && grep -q '^audit_log_format = JSON' '$D/percona-audit.cnf'"
tap_done
