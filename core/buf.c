/*
 * buf.c - growable byte buffer.  See buf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/mem.h"

char *tg_buf_grow(struct tg_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    b->data = tg_xrealloc(b->data, cap);
    b->cap = cap;
    return b->data + b->len;
}

void tg_buf_append(struct tg_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(tg_buf_reserve(b, n), p, n);
    b->len += n;
}

void tg_buf_puts(struct tg_buf *b, const char *s)
{
    tg_buf_append(b, s, strlen(s));
}

void tg_buf_printf(struct tg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    char *w = tg_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(w, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *tg_buf_cstr(struct tg_buf *b)
{
    tg_buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}

void tg_buf_reset(struct tg_buf *b)
{
    b->len = 0;
}

void tg_buf_free(struct tg_buf *b)
{
    free(b->data);
    *b = TG_BUF_INIT;
}
