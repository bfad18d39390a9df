#!/usr/bin/env python3
"""fields.py - every field name trailguard emits is ECS 8.11's or a
documented custom one under trailguard.*, and the index templates map it.

usage: fields.py README EVENTS.ndjson...

Prints one TAP line per check.  The field names are collected over every
event given (the golden outputs and the events tests/ecs/fields.sh makes);
a name is
  ECS      when ECS 8.11's list (tests/ecs/ecs-8.11.0-fields.csv, from npm's
           @elastic/ecs 8.11.1, see gen_fields.sh) has it, or it lies under
           an ECS field of type flattened (log.syslog.structured_data.*);
  custom   when it starts with trailguard. and README's table of custom
           fields names it (or a prefix of it given as `trailguard.x.*`),
           and no ECS field starts with trailguard.;
and it must be listed in tests/ecs/event-fields.txt, whose ECS entries must
have ECS's type in deploy/index-template/elasticsearch.json; both templates
must map every name and be what make_templates.py writes.
"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
readme, events = sys.argv[1], sys.argv[2:]
n = failed = 0


def tap(ok, name, detail=()):
    global n, failed
    n += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    for d in list(detail)[:20]:
        print("# " + d)


ecs = {r["Field"]: r for r in csv.DictReader(open(os.path.join(here, "ecs-8.11.0-fields.csv")))}
flattened = [f for f, r in ecs.items() if r["Type"] == "flattened"]
listed = {}
for line in open(os.path.join(here, "event-fields.txt")):
    line = line.strip()
    if line and not line.startswith("#"):
        name, kind = line.split()
        listed[name] = kind


def paths(obj, prefix=""):
    for k, v in obj.items():
        p = prefix + k
        if isinstance(v, dict) and v:
            yield from paths(v, p + ".")
        else:
            yield p


seen = {}
for path in events:
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line:
            for p in paths(json.loads(line)):
                seen.setdefault(p, path)
tap(len(seen) > 40, "collected %d field names from %d files" % (len(seen), len(events)))


def covering(name, names):
    """the entry of names that is name or a flattened/prefix parent of it"""
    if name in names:
        return name
    for f in names:
        if name.startswith(f + ".") and (listed.get(f) == "flattened" or f in flattened):
            return f
    return None


doc = open(readme, encoding="utf-8").read()
documented = set(re.findall(r"`(trailguard\.[a-z0-9_.*]+)`", doc))


def is_documented(name):
    return name in documented or any(
        d.endswith(".*") and name.startswith(d[:-1]) for d in documented)


bad = []
for name in sorted(seen):
    if name.startswith("trailguard."):
        if not is_documented(name):
            bad.append("%s (from %s): custom, but README does not document it" % (name, seen[name]))
    elif not (name in ecs and ecs[name]["Type"] != "object") and not covering(name, flattened):
        bad.append("%s (from %s): not an ECS 8.11 field, and not under trailguard.*" % (name, seen[name]))
tap(not bad, "every field is ECS 8.11's or a documented custom field under trailguard.*", bad)
tap(not [f for f in ecs if f.startswith("trailguard.")], "ECS has no trailguard.* field to clash with")

unlisted = ["%s (from %s)" % (f, seen[f]) for f in sorted(seen) if not covering(f, listed)]
tap(not unlisted, "tests/ecs/event-fields.txt lists every field emitted", unlisted)
wrong = ["%s: event-fields.txt says ecs, but ECS 8.11 has no such field" % f
         for f, k in listed.items() if k == "ecs" and f not in ecs]
wrong += ["%s: custom, but outside trailguard.*" % f for f, k in listed.items()
          if k != "ecs" and not f.startswith("trailguard.")]
tap(not wrong, "event-fields.txt: ecs entries are ECS's, custom ones under trailguard.*", wrong)


def mapping(tmpl, name):
    node = tmpl["template"]["mappings"]
    parts = name.split(".") if name != "@timestamp" else ["@timestamp"]
    for i, p in enumerate(parts):
        props = node.get("properties", {})
        if p not in props:
            return None
        node = props[p]
        if node.get("type") in ("flattened", "flat_object"):
            return node
    return node


for which in ("elasticsearch", "opensearch"):
    tmpl = json.load(open(os.path.join(top, "deploy", "index-template", which + ".json")))
    miss = [f for f in sorted(seen) if not (mapping(tmpl, f) or {}).get("type")]
    tap(not miss, "%s template maps every field emitted" % which, miss)
tmpl = json.load(open(os.path.join(top, "deploy", "index-template", "elasticsearch.json")))
types = ["%s: template %s, ECS %s" % (f, (mapping(tmpl, f) or {}).get("type"), ecs[f]["Type"])
         for f, k in listed.items() if k == "ecs" and f in ecs
         and (mapping(tmpl, f) or {}).get("type") != ecs[f]["Type"]]
tap(not types, "elasticsearch template gives every ECS field ECS's type", types)
with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, os.path.join(here, "make_templates.py"), d], check=True)
    stale = [w for w in ("elasticsearch.json", "opensearch.json")
             if open(os.path.join(d, w)).read() !=
             open(os.path.join(top, "deploy", "index-template", w)).read()]
tap(not stale, "deploy/index-template/ is what make_templates.py writes", stale)
print("1..%d" % n)
sys.exit(1 if failed else 0)
