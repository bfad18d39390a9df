/*
 * mem.c - aborting allocators.  See mem.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static void tg_oom(size_t n)
{
    fprintf(stderr, "trailguard: out of memory allocating %zu bytes; aborting\n", n);
    abort();
}

void *tg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        tg_oom(n);
    return p;
}

void *tg_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        tg_oom(nmemb * size);
    return p;
}

void *tg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        tg_oom(n);
    return q;
}

void *tg_xgrow(void *p, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : first;
    return tg_xrealloc(p, *cap * elem);
}

char *tg_xstrndup(const char *s, size_t n)
{
    char *p = tg_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *tg_xstrdup(const char *s)
{
    return tg_xstrndup(s, strlen(s));
}

char *tg_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    va_start(ap, fmt);
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        tg_oom(0);
    return p;
}
