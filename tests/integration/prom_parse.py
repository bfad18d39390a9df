#!/usr/bin/env python3
"""prom_parse.py - strict parser of the Prometheus text exposition format
(version 0.0.4) for the /metrics test.

Reads the exposition on stdin; exits 1 naming the first line that breaks
the grammar or its rules: every line is a comment (# HELP / # TYPE with a
valid metric name), a blank line, or a sample `name{label="value",...} value
[timestamp]`; label values use only the \\\\, \\" and \\n escapes; HELP and
TYPE appear at most once per family and before its samples; a family's
samples are contiguous; no series appears twice; counters are named *_total
and are non-negative.  On success prints every sample as
`name{labels} value`, one per line, labels sorted, for the test to grep.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def fail(lineno, line, why):
    sys.stderr.write("line %d: %s: %r\n" % (lineno, why, line))
    sys.exit(1)


def parse_labels(s, lineno, line):
    """Parse `{a="x",b="y"}` starting at s[0] == '{'; returns (dict, rest)."""
    labels, i = {}, 1
    while True:
        if s[i] == "}":
            return labels, s[i + 1:]
        m = re.match(LABEL, s[i:])
        if not m:
            fail(lineno, line, "bad label name")
        name = m.group(0)
        i += len(name)
        if s[i:i + 2] != '="':
            fail(lineno, line, "label %s: expected =\"" % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                fail(lineno, line, "unterminated label value")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    fail(lineno, line, "bad escape \\%s in a label value" % nxt)
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if name in labels:
            fail(lineno, line, "label %s twice" % name)
        labels[name] = "".join(val)
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            fail(lineno, line, "expected , or } after a label")


def parse_value(v, lineno, line):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", v):
        fail(lineno, line, "bad sample value %r" % v)
    return float(v)


def main():
    text = sys.stdin.read()
    if text and not text.endswith("\n"):
        fail(0, text[-40:], "exposition does not end with a newline")
    helps, types, done_families, series = set(), {}, set(), set()
    current, out = None, []
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s)(?: (.*))?" % NAME, line)
            if not m:
                if re.match(r"# (HELP|TYPE)", line):
                    fail(lineno, line, "malformed HELP/TYPE line")
                continue  # other comments are allowed
            kind, fam, rest = m.groups()
            if fam in done_families or (current and fam != current and fam in types):
                fail(lineno, line, "%s for family %s after its samples" % (kind, fam))
            if kind == "HELP":
                if fam in helps:
                    fail(lineno, line, "second HELP for " + fam)
                helps.add(fam)
            else:
                if fam in types:
                    fail(lineno, line, "second TYPE for " + fam)
                if rest not in TYPES:
                    fail(lineno, line, "unknown type %r" % rest)
                types[fam] = rest
            continue
        m = re.match(NAME, line)
        if not m:
            fail(lineno, line, "bad metric name")
        name = m.group(0)
        rest = line[len(name):]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest, lineno, line)
        parts = rest.split(" ")
        if len(parts) not in (2, 3) or parts[0] != "":
            fail(lineno, line, "expected one space, a value and an optional timestamp")
        value = parse_value(parts[1], lineno, line)
        if len(parts) == 3 and not re.fullmatch(r"-?\d+", parts[2]):
            fail(lineno, line, "bad timestamp")
        fam = name
        if current != fam:
            if fam in done_families:
                fail(lineno, line, "samples of %s are not contiguous" % fam)
            if current:
                done_families.add(current)
            current = fam
        if types.get(fam) == "counter":
            if not fam.endswith("_total"):
                fail(lineno, line, "counter %s is not named *_total" % fam)
            if math.isnan(value) or value < 0:
                fail(lineno, line, "negative counter")
        key = name + "{" + ",".join('%s="%s"' % kv for kv in sorted(labels.items())) + "}"
        if key in series:
            fail(lineno, line, "series twice: " + key)
        series.add(key)
        out.append("%s %s" % (key, parts[1]))
    for fam in types:
        if fam not in series and not any(s.startswith(fam + "{") for s in series):
            fail(0, fam, "TYPE without samples")
    print("\n".join(out))


main()
