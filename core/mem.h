/*
 * mem.h - allocation that aborts on out-of-memory.
 *
 * Like Redis' zmalloc: a collector that cannot allocate cannot keep its
 * promises, so instead of half-handled NULLs every allocation either succeeds
 * or the process aborts with a message (the spool then replays what was not
 * confirmed).  Thread-safe.
 */
#ifndef TG_MEM_H
#define TG_MEM_H

#include <stddef.h>

void *tg_xmalloc(size_t n);
void *tg_xcalloc(size_t nmemb, size_t size);
void *tg_xrealloc(void *p, size_t n);
/*
 * Growing arrays: when n == *cap, double *cap (from `first`) and realloc p to
 * *cap elements of `elem` bytes; returns p, moved or not.  Use as
 *   v = tg_xgrow(v, n, &cap, sizeof(*v), 16); v[n++] = x;
 */
void *tg_xgrow(void *p, size_t n, size_t *cap, size_t elem, size_t first);
char *tg_xstrdup(const char *s);
char *tg_xstrndup(const char *s, size_t n);
/* Formatted allocation; aborts on OOM. Caller frees. */
char *tg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
