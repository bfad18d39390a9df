/*
 * json_scan.h - reading a few fields out of one JSON object line, fast and
 * without allocating: the store's readers (query, export, report) and the
 * file sink's skip index use it on every stored event.
 *
 * Why not json-c here: building a json-c tree of a 1 KB event costs ~17 us
 * (and a malloc per member); the readers need two or three fields of it.
 * The scanner walks the text once, descends only into the objects on a
 * requested path, skips everything else (a string with memchr), and hands
 * back where each requested value lies.  json-c stays the reader of
 * configuration, checkpoints and indexes; tests/unit/test_json_scan.c checks
 * the scanner against json-c on the samples and on random objects.
 *
 * Semantics (json-c's, for the lines the store holds): the value of a path
 * is the value of its last occurrence (a duplicate key replaces); a line
 * that is not one well-formed object has no values at all -- except that
 * the escapes inside strings are not validated (a bad one decodes as the
 * character after the backslash; the writer never makes one).  Keys are
 * compared as written (the writer never escapes a key).  A string value is
 * decoded on request (\uXXXX, surrogate pairs; a lone surrogate becomes
 * U+FFFD); a number, true or false is its text as written; null is absent;
 * an object or array is its text as written.
 *
 * Pure functions; a compiled struct tg_jscan may be shared by threads.
 */
#ifndef TG_JSON_SCAN_H
#define TG_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define TG_JSCAN_MAX_PATHS 32
#define TG_JSCAN_MAX_DEPTH 6

enum tg_jtype { TG_JABSENT = 0, TG_JSTRING, TG_JOTHER };

/* Where one value lies in the line. */
struct tg_jval {
    enum tg_jtype type;
    const char *p; /* a string: its bytes between the quotes, still escaped */
    size_t n;
    bool escaped; /* a string holding a backslash (needs decoding) */
};

/* A compiled set of dotted paths ("user.effective.name", "@timestamp"). */
struct tg_jscan {
    size_t n;
    struct {
        const char *comp[TG_JSCAN_MAX_DEPTH];
        size_t len[TG_JSCAN_MAX_DEPTH];
        size_t depth;
    } path[TG_JSCAN_MAX_PATHS];
};

/* Compile `n` paths (the strings must outlive s).  0, or TG_EINVAL when
 * there are too many, one is too deep or has an empty component. */
int tg_jscan_init(struct tg_jscan *s, const char *const *paths, size_t n);

/*
 * Find the values of s's paths in [json, json+len): v[i] for path i (absent
 * when the path is not there).  0, or TG_ECORRUPT when the text is not one
 * JSON object (then every v[i] is absent).
 */
int tg_jscan_run(const struct tg_jscan *s, const char *json, size_t len, struct tg_jval *v);

/*
 * The text of v: a string decoded, other values as written.  Appends it to
 * out (NUL-terminated, the NUL not counted) and returns its offset in out,
 * or -1 when v is absent.  A string without escapes is copied as is.
 */
long tg_jval_text(const struct tg_jval *v, struct tg_buf *out);

/* Is v a string (or scalar) whose text is exactly [want, want+n)?  `fold`:
 * ASCII case-insensitively.  No allocation when v holds no escapes;
 * `scratch` is used otherwise. */
bool tg_jval_equals(const struct tg_jval *v, const char *want, size_t n, bool fold,
                    struct tg_buf *scratch);

#endif
