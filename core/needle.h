/*
 * needle.h - searching a byte string in a buffer, exactly or ignoring ASCII
 * case: the raw prefilter of the store's readers (a line that does not hold
 * the needle's JSON text cannot match, so it is never parsed).
 *
 * The search compares 16 bytes at a time against two bytes of the needle
 * (the rarest pair is not worth the bookkeeping: the first and the last),
 * folded when the byte is a letter and the search ignores case, and checks
 * the candidates in full.  Written with GCC vector extensions, so it is
 * plain SSE2 on x86-64 and NEON on arm64, and portable C elsewhere.
 *
 * A compiled needle is read-only: threads may share it.
 */
#ifndef TG_NEEDLE_H
#define TG_NEEDLE_H

#include <stdbool.h>
#include <stddef.h>

struct tg_needle {
    char *s; /* the bytes (lower-cased when fold) */
    size_t n;
    bool fold;
};

/* Compile [s, s+n) (n >= 1); `fold`: ignore ASCII case. */
void tg_needle_init(struct tg_needle *nd, const char *s, size_t n, bool fold);
void tg_needle_free(struct tg_needle *nd);
/* Does [h, h+len) hold the needle? */
bool tg_needle_in(const struct tg_needle *nd, const char *h, size_t len);

#endif
