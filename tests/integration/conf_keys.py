#!/usr/bin/env python3
"""conf_keys.py - compare a documented INI file with `trailguard help config`.

usage: conf_keys.py REFERENCE CONF [--all]

REFERENCE is the output of `trailguard help config`; CONF an INI file in
which keys may be commented out as `;key = value` (documentation lines are
`; text`, with a space).  Prints one line per finding and exits 1 if any:
  unknown KEY in [SECTION]       CONF sets or shows a key the binary lacks
  undocumented KEY in [SECTION]  (with --all) a key the binary has, CONF lacks
Sections of CONF the binary does not know are reported on stdout as
`skip [SECTION]` (not built in yet) and not checked; with --all every
section of REFERENCE must appear in CONF.
"""
import re
import sys

ref_path, conf_path = sys.argv[1], sys.argv[2]
want_all = "--all" in sys.argv[3:]

ref, section = {}, None
for line in open(ref_path):
    m = re.match(r"^\[([a-z0-9_.]+)\]$", line.rstrip("\n"))
    if m:
        section = m.group(1)
        ref[section] = set()
        continue
    m = re.match(r"^  ([a-z0-9_.]+\*?)\s", line)
    if m and section:
        ref[section].add(m.group(1))


def known(sec, key):
    keys = ref.get(sec, set())
    return key in keys or any(k.endswith("*") and key.startswith(k[:-1]) for k in keys)


conf, section, problems = {}, None, []
for n, line in enumerate(open(conf_path), 1):
    line = line.rstrip("\n")
    m = re.match(r"^;?\[([a-z0-9_.]+)\]", line)
    if m:
        section = m.group(1)
        # [input.relp.NAME] instances are checked against [input.relp]
        base = section
        while base not in ref and "." in base:
            base = base.rsplit(".", 1)[0]
        section = base if base in ref else section
        conf.setdefault(section, set())
        continue
    m = re.match(r"^;?([a-z_][a-z0-9_.]*)\s*=", line)
    if m and section:
        conf[section].add(m.group(1))
        if section in ref and not known(section, m.group(1)):
            problems.append("%s:%d: unknown %s in [%s]" % (conf_path, n, m.group(1), section))

for sec in conf:
    if sec not in ref:
        print("skip [%s]" % sec)
if want_all:
    for sec, keys in ref.items():
        if sec not in conf:
            problems.append("undocumented section [%s]" % sec)
            continue
        for k in keys:
            if k.endswith("*"):
                if not any(c.startswith(k[:-1]) for c in conf[sec]):
                    problems.append("undocumented %s in [%s]" % (k, sec))
            elif k not in conf[sec]:
                problems.append("undocumented %s in [%s]" % (k, sec))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
