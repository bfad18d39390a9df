#!/usr/bin/env python3
"""store_oracle.py - the brute-force scan the skip index is checked against
(tests/integration/store_index.sh): every event of a store (zcat of its
segments, as NDJSON) filtered in Python with the meaning `trailguard query`
gives its filters, and random queries over the values the events hold.

  store_oracle.py queries ALL.ndjson N SEED   N random queries, one per line
                                             (shell-quoted query arguments)
  store_oracle.py run ALL.ndjson ARGS...     the event ids ARGS select, in order
"""
import json
import random
import re
import shlex
import sys

FIELDS = {  # option: (path, case-insensitive)
    "--user": ("user.name", True),
    "--euser": ("user.effective.name", True),
    "--host": ("host.name", True),
    "--executable": ("process.executable", False),
    "--action": ("event.action", False),
    "--dataset": ("event.dataset", False),
    "--decision": ("trailguard.policy.decision", False),
}
WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")


def get(ev, path):
    for k in path.split("."):
        if not isinstance(ev, dict) or k not in ev:
            return None
        ev = ev[k]
    return ev


def text(v):
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v)


def words(ev):
    out = set()
    for p in ("process.command_line", "trailguard.db.statement"):
        t = text(get(ev, p))
        if t is not None:
            out.update(w.lower() for w in WORD.findall(t.encode("utf-8", "surrogateescape")))
    return out


def ns(ts):
    """RFC 3339 UTC ("...Z", any fraction) as ns since the epoch."""
    import calendar
    import time
    base, _, frac = ts.rstrip("Z").partition(".")
    sec = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return sec * 10**9 + int((frac + "000000000")[:9])


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]


def match(ev, opts):
    for opt, val in opts:
        if opt in FIELDS:
            path, fold = FIELDS[opt]
            v = text(get(ev, path))
            if v is None or (v.encode().lower() != val.encode().lower() if fold else v != val):
                return False
        elif opt == "--word":
            if val.encode().lower() not in words(ev):  # ASCII case only, as trailguard
                return False
        elif opt == "--grep":
            rx = re.compile(val)
            if not any(t is not None and rx.search(t) for t in
                       (text(get(ev, "process.command_line")), text(get(ev, "trailguard.db.statement")))):
                return False
        elif opt in ("--since", "--until"):
            ts = ev.get("@timestamp")
            if ts is None or (opt == "--since" and ns(ts) < ns(val)) or \
                    (opt == "--until" and ns(ts) >= ns(val)):
                return False
    return True


def queries(evs, n, seed):
    r = random.Random(seed)
    values = {opt: sorted({text(get(e, p)) for e in evs if get(e, p) is not None})
              for opt, (p, _) in FIELDS.items()}
    allwords = sorted(set().union(*(words(e) for e in r.sample(evs, min(3000, len(evs))))))
    sqlwords = sorted(set().union(set(), *(words(e) for e in evs if get(e, "trailguard.db.statement"))))
    stamps = sorted(e["@timestamp"] for e in evs)
    greps = ["^sudo", "shadow", "Secret_[0-9]{3}", "NEEDLE1[0-9]", "select [0-9]+", "quoted 9",
             "(hosts|shadow)$", "app1?2"]
    for _ in range(n):
        q = []
        kinds = r.sample(list(FIELDS) + ["--word", "--grep", "--time"], r.choice([1, 1, 2, 2, 3]))
        for kind in kinds:  # each option once: a repeated one replaces, as in getopt tools
            if kind == "--time":
                a, b = sorted(r.sample(stamps, 2))
                q += [("--since", a), ("--until", b)]
            elif kind == "--word":
                pool = sqlwords if sqlwords and r.random() < 0.4 else allwords
                w = r.choice(pool).decode("utf-8", "replace")
                if WORD.fullmatch(w.encode()):
                    up = w.encode().upper().decode()  # ASCII letters only
                    q.append(("--word", up if r.random() < 0.2 else w))
            elif kind == "--grep":
                q.append(("--grep", r.choice(greps)))
            else:
                vals = values[kind]
                v = r.choice(vals) if vals and r.random() < 0.9 else "nobody-%d" % r.randrange(99)
                if FIELDS[kind][1] and r.random() < 0.3:
                    v = v.upper()
                q.append((kind, v))
        print(" ".join(shlex.quote(x) for kv in q for x in kv))


def main(argv):
    if argv[1] == "queries":
        queries(load(argv[2]), int(argv[3]), int(argv[4]))
        return
    args = argv[3:]
    opts = list(zip(args[0::2], args[1::2]))
    for ev in load(argv[2]):
        if match(ev, opts):
            print(ev["event"]["id"])


main(sys.argv)
