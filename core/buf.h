/*
 * buf.h - the string slice and the growable byte buffer used everywhere.
 *
 * struct tg_str is a non-owning (pointer, length) view; p == NULL means
 * "absent" (distinct from an empty string).  struct tg_buf owns a heap
 * buffer that grows geometrically; appends never fail (allocation aborts on
 * OOM, see mem.h).  Neither is thread-safe; each belongs to one thread at a
 * time.
 */
#ifndef TG_BUF_H
#define TG_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tg_str {
    const char *p;
    size_t len;
};

#define TG_STR_NULL   ((struct tg_str){NULL, 0})
#define TG_STR_LIT(s) ((struct tg_str){(s), sizeof(s) - 1})

static inline struct tg_str tg_str_make(const char *p, size_t len)
{
    return (struct tg_str){p, len};
}

static inline struct tg_str tg_str_c(const char *s)
{
    return (struct tg_str){s, s ? strlen(s) : 0};
}

static inline bool tg_str_present(struct tg_str s)
{
    return s.p != NULL;
}

static inline bool tg_str_eq(struct tg_str a, const char *lit)
{
    size_t n = strlen(lit);
    return a.p && a.len == n && memcmp(a.p, lit, n) == 0;
}

static inline bool tg_str_same(struct tg_str a, struct tg_str b)
{
    return a.p && b.p && a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

/* The value of a decimal number of 1 to 18 digits (no sign, nothing else),
 * or -1. */
static inline int64_t tg_str_digits(struct tg_str s)
{
    if (!s.p || s.len == 0 || s.len > 18)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        n = n * 10 + (s.p[i] - '0');
    }
    return n;
}

/* Value of a hex digit (either case), or -1. */
static inline int tg_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

struct tg_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define TG_BUF_INIT ((struct tg_buf){NULL, 0, 0})

/* tg_buf_reserve's slow path: grow the buffer (doubling). */
char *tg_buf_grow(struct tg_buf *b, size_t extra);
/* Make room for at least `extra` more bytes; returns the write position.
 * Inline: the JSON writer reserves before every member. */
static inline char *tg_buf_reserve(struct tg_buf *b, size_t extra)
{
    return b->len + extra > b->cap ? tg_buf_grow(b, extra) : b->data + b->len;
}
void tg_buf_append(struct tg_buf *b, const void *p, size_t n);
void tg_buf_puts(struct tg_buf *b, const char *s);
void tg_buf_printf(struct tg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keep a NUL after the data (not counted in len); returns data. */
const char *tg_buf_cstr(struct tg_buf *b);
void tg_buf_reset(struct tg_buf *b);
void tg_buf_free(struct tg_buf *b);

static inline void tg_buf_putc(struct tg_buf *b, char c)
{
    if (b->len + 1 > b->cap)
        tg_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

#endif
