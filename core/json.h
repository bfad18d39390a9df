/*
 * json.h - the fast JSON writer (json-c is for reading).
 *
 * Strings are escaped per SPEC.md section 3: '"' and '\\' escaped, control
 * bytes as \b \f \n \r \t or \u00XX, invalid UTF-8 sequences replaced by
 * U+FFFD; everything else (valid UTF-8, DEL) copied raw.  Output is always
 * valid UTF-8 JSON whatever the input bytes.
 *
 * struct tg_jw writes nested objects with *lazy* opening: tg_jw_open() only
 * remembers the key, and the object is emitted when its first member is, so
 * an object whose members are all absent does not appear at all.
 * Not thread-safe; a writer belongs to one thread.
 */
#ifndef TG_JSON_H
#define TG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"

/* Flags reported by tg_json_str about what it had to change. */
#define TG_JSON_INVALID_UTF8 0x1u /* replaced an invalid sequence with U+FFFD */
#define TG_JSON_CONTROL      0x2u /* escaped a control byte */

/* Append "p[0..n)" quoted and escaped; ORs TG_JSON_* into *flags if non-NULL. */
void tg_json_str(struct tg_buf *b, const char *p, size_t n, unsigned *flags);
/* Length of the longest valid UTF-8 prefix of [p, p+n). */
size_t tg_utf8_valid_prefix(const char *p, size_t n);
/* Append a time as "YYYY-MM-DDTHH:MM:SS[.frac]Z" (quoted). */
void tg_json_time(struct tg_buf *b, struct tg_time t);
/* Format t as RFC 3339 UTC into out (at least 32 bytes); returns length. */
size_t tg_time_format(char out[32], struct tg_time t);

#define TG_JW_MAX_DEPTH 8

struct tg_jw {
    struct tg_buf *b;
    int depth;                            /* open (declared) objects, root = 0 */
    int emitted;                          /* how many of them are written out */
    const char *keys[TG_JW_MAX_DEPTH];    /* key of each declared object */
    bool has_member[TG_JW_MAX_DEPTH + 1]; /* per depth: a member was written */
};

/* Start the root object. */
void tg_jw_begin(struct tg_jw *w, struct tg_buf *b);
/* Finish the root object. */
void tg_jw_end(struct tg_jw *w);
/* Declare a nested object under `key` (static string); written lazily. */
void tg_jw_open(struct tg_jw *w, const char *key);
/* Close the innermost declared object (emitting '}' only if it was written). */
void tg_jw_close(struct tg_jw *w);
/* Members; each writes nothing when the value is absent. */
void tg_jw_str(struct tg_jw *w, const char *key, struct tg_str v, unsigned *flags);
/* tg_jw_str, and where the value's text went: *at = its offset in the
 * buffer after the opening quote and its length (untouched when absent). */
void tg_jw_str_at(struct tg_jw *w, const char *key, struct tg_str v, unsigned *flags,
                  struct tg_jspan *at);
void tg_jw_cstr(struct tg_jw *w, const char *key, const char *v);
void tg_jw_int(struct tg_jw *w, const char *key, int64_t v);         /* skips TG_NUM_NONE */
void tg_jw_time(struct tg_jw *w, const char *key, struct tg_time t); /* skips frac < 0 */
void tg_jw_null(struct tg_jw *w, const char *key);
void tg_jw_bool(struct tg_jw *w, const char *key, bool v);
/* A member whose value is already JSON text (written as is); skipped when absent. */
void tg_jw_raw(struct tg_jw *w, const char *key, struct tg_str json);
/* The same under a key that is not a static name (escaped like a string,
 * e.g. an internal record's dataset); the caller keeps keys of one object
 * distinct.  Skipped when key or json is absent. */
void tg_jw_raw_at(struct tg_jw *w, struct tg_str key, struct tg_str json);
/* The members of `obj`, the JSON text of an object ("{...}"), written into
 * the innermost declared object after those written so far (so a raw
 * object and fields of our own share one object); the caller keeps the
 * keys distinct.  Skipped when absent or empty. */
void tg_jw_members(struct tg_jw *w, struct tg_str obj);
/* A NULL-terminated array of static strings; skipped when empty. */
void tg_jw_str_array(struct tg_jw *w, const char *key, const char *const *v);
/* An array of n strings (escaped as tg_json_str, flags ORed in); skipped
 * when n is 0. */
void tg_jw_str_list(struct tg_jw *w, const char *key, const struct tg_str *v, size_t n,
                    unsigned *flags);

#endif
