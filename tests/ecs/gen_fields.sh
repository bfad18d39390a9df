#!/bin/sh
# gen_fields.sh - regenerate ecs-8.11.0-fields.csv, the ECS field list the
# field tests check trailguard's events against (tests/ecs/fields.py).
#
# ECS's own fields.csv is not downloadable here; npm's @elastic/ecs 8.11.1
# carries ECS 8.11.0's ecs_flat.yml as generated/ecs_flat.ts (the same
# fields, types, levels and multi-fields).  This turns it into fields.csv's
# columns (ECS_Version,Indexed,Field_Set,Field,Type,Level,Normalization),
# without Example and Description, one row per field and per multi-field,
# as ECS's generated/csv/fields.csv has them.  Needs npm and node; not run
# by the tests (they read the committed CSV).
set -eu
out=${1:-$(cd "$(dirname "$0")" && pwd)/ecs-8.11.0-fields.csv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @elastic/ecs@8.11.1 >/dev/null && tar xzf elastic-ecs-8.11.1.tgz)
node - "$tmp/package/generated/ecs_flat.ts" >"$out" <<'JS'
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8")
    .replace(/^[\s\S]*?export const EcsFlat = /, "module.exports = ");
const m = {exports: {}};
new Function("module", src)(m);
const rows = [];
for (const [name, f] of Object.entries(m.exports)) {
    const set = name.includes(".") ? name.split(".")[0] : "base";
    const indexed = f.index === false ? "false" : "true";
    rows.push([name, indexed, set, f.type, f.level, (f.normalize || []).join("|")]);
    for (const mf of f.multi_fields || [])
        rows.push([mf.flat_name, "true", set, mf.type, f.level, ""]);
}
rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
console.log("ECS_Version,Indexed,Field_Set,Field,Type,Level,Normalization");
for (const [name, indexed, set, type, level, norm] of rows)
    console.log(["8.11.0", indexed, set, name, type, level, norm].join(","));
JS
