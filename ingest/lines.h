/*
 * lines.h - split a byte stream into lines at one size limit.
 *
 * A line is the bytes before an LF (which is not part of it).  A line longer
 * than `max` is cut there and the rest of it, up to its LF, dropped; the
 * line is handed on, marked cut, when its LF arrives.  A line lying whole in
 * the bytes fed is handed on as a slice of them; only a line that spans two
 * feeds is copied.  Each line comes with its position: the stream offset of
 * its first byte.  Used by the intake for files and stdin (ingest/intake.h)
 * and by omprog for its protocol lines.  One thread at a time.
 */
#ifndef TG_LINES_H
#define TG_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Receives one line, valid during the call; a non-zero return stops the
 * feed, which returns it. */
typedef int (*tg_line_fn)(void *ctx, const char *line, size_t len, bool cut, uint64_t pos);

struct tg_lines {
    size_t max;
    uint64_t off;       /* stream offset of the next byte fed */
    uint64_t start;     /* offset of the pending line's first byte */
    struct tg_buf part; /* the pending line's bytes so far (at most max) */
    bool pending;       /* a line has begun and its LF has not come */
    bool cut;           /* the pending line passed max */
};

/* Start at stream offset `off`; lines are cut at `max` bytes. */
void tg_lines_init(struct tg_lines *l, size_t max, uint64_t off);
/* Feed n bytes: fn for every line they complete.  0, or fn's non-zero
 * return (the bytes after that line are not taken). */
int tg_lines_feed(struct tg_lines *l, const char *p, size_t n, tg_line_fn fn, void *ctx);
/* The end of the stream: a pending line without its LF goes to fn. */
int tg_lines_end(struct tg_lines *l, tg_line_fn fn, void *ctx);
/* Whether a line is pending (begun, no LF yet); *start is its offset. */
bool tg_lines_pending(const struct tg_lines *l, uint64_t *start);
void tg_lines_free(struct tg_lines *l);

#endif
