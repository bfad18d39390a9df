#!/bin/bash
# layers.sh - the source tree's layers include only downwards (issue 12:
# core/ included parsers/, policy/, ingest/, sinks/ and tools/, and
# libtrailguard.a called usage helpers only core/main.c defined, so no test
# could link a command).
#
#   core/                  nothing above it
#   parsers/ policy/ sinks/  core/ and themselves
#   ingest/                core/, parsers/ and itself (the intake frames and
#                          classifies with the parsers' help)
#   tools/                 the top layer: anything
# Every `#include "dir/..."` of every .c/.h file is checked against its
# directory's row; buildconf.h (configure's) is allowed everywhere.
. "$TG_SRCDIR/tests/lib.sh"
cd "$TG_SRCDIR" || exit 1
allowed() { # DIR: the directories DIR may include from
    case $1 in
    core) echo "core" ;;
    parsers | policy | sinks) echo "core $1" ;;
    ingest) echo "core parsers ingest" ;;
    tools) echo "core parsers policy sinks ingest tools" ;;
    esac
}
for dir in core parsers policy sinks ingest tools; do
    bad=""
    for f in "$dir"/*.[ch]; do
        while IFS= read -r inc; do
            top=${inc%%/*}
            case " $(allowed "$dir") " in
            *" $top "*) ;;
            *) bad="$bad $f:$inc" ;;
            esac
        done < <(sed -n 's/^#include "\([a-z_]*\/[^"]*\)".*/\1/p' "$f")
    done
    if [ -z "$bad" ]; then
        ok "$dir/ includes only from: $(allowed "$dir")"
    else
        not_ok "$dir/ includes from above its layer:$bad"
    fi
done
check_eq "the binary's own file is tools/main.c, with main() alone" "tools/main.c" \
    "$(grep -l '^int main(' core/*.c parsers/*.c policy/*.c sinks/*.c ingest/*.c tools/*.c)"
tap_done
