#!/usr/bin/env python3
"""make_templates.py - write the index templates for trailguard's events.

usage: make_templates.py [OUTDIR]   (default: deploy/index-template)

From tests/ecs/event-fields.txt (every field the events carry) and ECS
8.11's field list (tests/ecs/ecs-8.11.0-fields.csv) it writes
  elasticsearch.json  a composable index template (PUT _index_template/
                      trailguard) with ECS's own types: wildcard,
                      match_only_text, flattened, keyword (ignore_above 1024)
  opensearch.json     the same for OpenSearch (2.x), whose types differ:
                      keyword for wildcard, text for match_only_text,
                      flat_object for flattened
Both map with "dynamic": false: a field not listed is kept in _source but
not indexed, so no event is ever refused.  tests/ecs/fields.py checks the
committed files are what this writes.
"""
import csv
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "deploy", "index-template")

ecs = {}
for row in csv.DictReader(open(os.path.join(here, "ecs-8.11.0-fields.csv"))):
    ecs[row["Field"]] = row


def fields():
    for line in open(os.path.join(here, "event-fields.txt")):
        line = line.strip()
        if line and not line.startswith("#"):
            name, kind = line.split()
            yield name, kind


def es_leaf(name, kind):
    if kind == "ecs":
        row = ecs[name]
        t = row["Type"]
        m = {"type": t}
        if t == "keyword":
            if row["Indexed"] == "false":
                m.update(index=False, doc_values=False)
            else:
                m["ignore_above"] = 1024
        multi = {k[len(name) + 1:]: {"type": v["Type"]} for k, v in ecs.items()
                 if k.startswith(name + ".") and "." not in k[len(name) + 1:]
                 and v["Type"] in ("match_only_text", "text")}
        if multi:
            m["fields"] = multi
        return m
    if kind == "text":
        return {"type": "match_only_text"}
    if kind == "wildcard":
        return {"type": "wildcard", "fields": {"text": {"type": "match_only_text"}}}
    if kind == "keyword":
        return {"type": "keyword", "ignore_above": 1024}
    return {"type": kind}


OS_TYPES = {"wildcard": "keyword", "match_only_text": "text", "flattened": "flat_object"}


def os_leaf(m):
    m = json.loads(json.dumps(m))
    t = m["type"] = OS_TYPES.get(m["type"], m["type"])
    if t == "keyword" and "ignore_above" not in m and m.get("index", True):
        m["ignore_above"] = 8191  # was wildcard: long command lines
    for sub in m.get("fields", {}).values():
        sub["type"] = OS_TYPES.get(sub["type"], sub["type"])
    return m


def tree(leaf):
    props = {}
    for name, kind in fields():
        parts = name.split(".") if name != "@timestamp" else ["@timestamp"]
        node = props
        for p in parts[:-1]:
            node = node.setdefault(p, {"properties": {}})["properties"]
        node[parts[-1]] = leaf(name, kind)
    return props


def template(props, desc):
    return {
        "index_patterns": ["trailguard-*"],
        "priority": 200,
        "_meta": {"description": desc, "ecs_version": "8.11.0",
                  "source": "trailguard tests/ecs/make_templates.py"},
        "template": {
            "settings": {"index": {"mapping": {"total_fields": {"limit": 2000}}}},
            "mappings": {"dynamic": False, "date_detection": False, "properties": props},
        },
    }


es = template(tree(es_leaf), "trailguard events (ECS 8.11 field types); "
              "PUT _index_template/trailguard with this body")
osd = template(tree(lambda n, k: os_leaf(es_leaf(n, k))),
               "trailguard events for OpenSearch 2.x (ECS 8.11 names, OpenSearch types); "
               "PUT _index_template/trailguard with this body")
os.makedirs(out_dir, exist_ok=True)
for name, body in (("elasticsearch.json", es), ("opensearch.json", osd)):
    with open(os.path.join(out_dir, name), "w") as f:
        json.dump(body, f, indent=2, sort_keys=True)
        f.write("\n")
