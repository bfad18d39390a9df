/*
 * skipidx.h - the skip index of a gzip member of the file store (issue 13):
 * which values a member's records hold, so a query decompresses only the
 * members that can match.
 *
 * The file sink builds one per member from the member's record lines (so
 * the index is a function of the records alone) and stores it as the ext
 * bytes of the member's sidecar entry (segment.h); the member's seal covers
 * them, so an altered index breaks the chain and verify reports it, and a
 * reader that skips a member by its index needs no other proof.
 *
 * What is indexed (the keys): per record, the value of each field below
 * (decoded JSON text; ASCII lower-cased for the fields compared ignoring
 * case), and every word of process.command_line and trailguard.db.statement (a word:
 * a maximal run of ASCII letters, digits and '_' and of non-ASCII bytes,
 * lower-cased).  The fields and their case rules are the query filters'
 * (tools/store_read.c uses these definitions), so a record that matches a
 * filter always has its key in its member's index.
 *
 * Format (version 1, little-endian), the ext bytes of one entry:
 *   u8 version = 1 | u8 flags (1: words are indexed) | u8 k | u8 0 |
 *   u32 nbits | u32 keys | bloom filter, nbits / 8 bytes
 * A Bloom filter over all keys: key = field number (1 byte) then the value;
 * h = splitmix64(FNV-1a-64(key)), h2 = splitmix64(h ^ 0x9e3779b97f4a7c15) | 1;
 * probe j (0 <= j < k) sets bit (h + j * h2) mod nbits.  10 bits per key and
 * k = 7: about 1% of the members that hold no such record are read anyway.
 * A member with more than TG_SKIP_MAX_WORDS distinct words does not index
 * its words (flag clear): word queries read it.  A reader that meets a
 * version it does not know, or no index at all (stores written before it),
 * reads the member: the index only ever saves work.  Bytes after the filter
 * are reserved for later sections (readers of version 1 ignore them).
 *
 * A builder belongs to one thread; probing is pure.
 */
#ifndef TG_SKIPIDX_H
#define TG_SKIPIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json_scan.h"

enum tg_skip_field {
    TG_SKIP_USER = 1, /* user.name, case-insensitive */
    TG_SKIP_EUSER,    /* user.effective.name, case-insensitive */
    TG_SKIP_HOST,     /* host.name, case-insensitive */
    TG_SKIP_EXE,      /* process.executable */
    TG_SKIP_DATASET,  /* event.dataset */
    TG_SKIP_ACTION,   /* event.action */
    TG_SKIP_DECISION, /* trailguard.policy.decision */
    TG_SKIP_WORD,     /* a word of process.command_line or trailguard.db.statement, lower-cased */
    TG_SKIP_NFIELDS
};

/* The field path and case rule of each field (index TG_SKIP_*; WORD: NULL). */
extern const char *const tg_skip_path[TG_SKIP_NFIELDS];
extern const bool tg_skip_fold[TG_SKIP_NFIELDS];
/* The texts whose words are indexed. */
extern const char *const tg_skip_word_paths[2];

#define TG_SKIP_VERSION   1
#define TG_SKIP_MAX_WORDS 32768

/* The next word of [s, s+n) at or after *pos: true with [*w, *w+*wn), and
 * *pos after it; false when there is none. */
bool tg_skip_word_next(const char *s, size_t n, size_t *pos, const char **w, size_t *wn);

/* Building one member's index at a time. */
struct tg_skipidx {
    struct tg_jscan js;
    uint64_t *set; /* open addressing, 0 = empty */
    size_t nset, capset;
    size_t nwords;
    bool words_over;
    struct tg_buf scratch;
};

void tg_skipidx_init(struct tg_skipidx *b);
/* Add one record line (without its LF). */
void tg_skipidx_add(struct tg_skipidx *b, const char *rec, size_t len);
struct tg_event;
/* The same for a serialized event, ev->json, from where the serializer put
 * the values (ev->json_vals): the same keys, without walking the line. */
void tg_skipidx_add_event(struct tg_skipidx *b, const struct tg_event *ev);
/* Append the index of the records added since the last finish to `ext`, and
 * start over. */
void tg_skipidx_finish(struct tg_skipidx *b, struct tg_buf *ext);
/* Forget the records added since the last finish. */
void tg_skipidx_reset(struct tg_skipidx *b);
void tg_skipidx_free(struct tg_skipidx *b);

/* A value to look up (precomputed hashes). */
struct tg_skip_probe {
    enum tg_skip_field field;
    uint64_t h, h2;
};

/* The probe for field f and value [v, v+n) as the filter compares it (it is
 * lower-cased here where the field ignores case). */
void tg_skip_probe_init(struct tg_skip_probe *p, enum tg_skip_field f, const char *v, size_t n);
/* false only when the index [ext, ext+len) proves that no record of its
 * member has the probe's value; true when one may, or when there is no index
 * this version reads. */
bool tg_skipidx_may_hold(const void *ext, size_t len, const struct tg_skip_probe *p);

#endif
