/*
 * json_scan.c - the allocation-free JSON path scanner.  See json_scan.h.
 *
 * One recursive walk over the object.  Each level carries the bit mask of
 * the requested paths whose components so far match the keys taken; a
 * value is descended into only if some path continues below it, otherwise
 * it is skipped: a string by memchr for its closing quote (counting the
 * backslashes before it), an object or array by reading its grammar (so a
 * malformed line is refused wherever the damage is).  The walk always reads to the end of the
 * object, both to give the last occurrence of a duplicate key and to refuse a malformed line as
 * json-c would.  Depth is bounded (TG_JSCAN_MAX_DEPTH for descent, 32 as
 * json-c for skipped values), so no input can exhaust the stack.
 */
#include <stdint.h>
#include <string.h>

#include "core/errors.h"
#include "core/json_scan.h"

int tg_jscan_init(struct tg_jscan *s, const char *const *paths, size_t n)
{
    if (n > TG_JSCAN_MAX_PATHS)
        return TG_EINVAL;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i];
        size_t d = 0;
        for (;;) {
            const char *dot = strchr(p, '.');
            size_t len = dot ? (size_t)(dot - p) : strlen(p);
            if (len == 0 || d == TG_JSCAN_MAX_DEPTH)
                return TG_EINVAL;
            s->path[i].comp[d] = p;
            s->path[i].len[d] = len;
            d++;
            if (!dot)
                break;
            p = dot + 1;
        }
        s->path[i].depth = d;
    }
    return 0;
}

static const char *tg_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p is after an opening quote: the position of the closing quote, or NULL. */
static const char *tg_str_end(const char *p, const char *e, bool *escaped)
{
    const char *start = p;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        if (!q)
            return NULL;
        size_t bs = 0;
        while (q - bs > start && q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs)
            *escaped = true;
        if (bs % 2 == 0)
            return q;
        p = q + 1;
    }
}

/* Skip one value at p (after whitespace), checking its grammar (escapes
 * inside strings aside), nested at most TG_JSCAN_SKIP_DEPTH deep as json-c
 * allows: the position after it, or NULL. */
#define TG_JSCAN_SKIP_DEPTH 32
static const char *tg_skip(const char *p, const char *e, int depth)
{
    bool esc;
    if (p >= e || depth > TG_JSCAN_SKIP_DEPTH)
        return NULL;
    if (*p == '"') {
        const char *q = tg_str_end(p + 1, e, &esc);
        return q ? q + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = tg_ws(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= e || *p != '"' || !(p = tg_skip(p, e, depth + 1)))
                    return NULL;
                p = tg_ws(p, e);
                if (p >= e || *p != ':')
                    return NULL;
                p = tg_ws(p + 1, e);
            }
            if (!(p = tg_skip(p, e, depth + 1)))
                return NULL;
            p = tg_ws(p, e);
            if (p < e && *p == ',') {
                p = tg_ws(p + 1, e);
                if (p < e && *p == close) /* a trailing comma: json-c takes it */
                    return p + 1;
                continue;
            }
            return p < e && *p == close ? p + 1 : NULL;
        }
    }
    const char *q = p;
    while (q < e && *q != ',' && *q != '}' && *q != ']' && *q != ' ' && *q != '\t' && *q != '\n' &&
           *q != '\r')
        q++;
    size_t n = (size_t)(q - p);
    if ((n == 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0)) ||
        (n == 5 && memcmp(p, "false", 5) == 0))
        return q;
    if (n == 0 || !strchr("-0123456789", *p))
        return NULL;
    for (const char *c = p; c < q; c++) /* a number (its exact grammar is json-c's concern) */
        if (!strchr("-+.eE0123456789", *c))
            return NULL;
    return q;
}

/* Walk the object at p ('{') at `depth` with the candidate paths `mask`. */
static const char *tg_walk(const struct tg_jscan *s, const char *p, const char *e, size_t depth,
                           uint32_t mask, struct tg_jval *v)
{
    p = tg_ws(p + 1, e);
    if (p < e && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= e || *p != '"')
            return NULL;
        bool esc = false;
        const char *k = p + 1, *ke = tg_str_end(k, e, &esc);
        if (!ke)
            return NULL;
        size_t kn = (size_t)(ke - k);
        p = tg_ws(ke + 1, e);
        if (p >= e || *p != ':')
            return NULL;
        p = tg_ws(p + 1, e);
        if (p >= e)
            return NULL;
        uint32_t hit = 0, deeper = 0;
        for (uint32_t m = mask; m; m &= m - 1) {
            unsigned i = (unsigned)__builtin_ctz(m);
            if (s->path[i].len[depth] != kn || memcmp(s->path[i].comp[depth], k, kn) != 0)
                continue;
            v[i] = (struct tg_jval){0}; /* a later duplicate replaces */
            if (s->path[i].depth == depth + 1)
                hit |= 1u << i;
            else
                deeper |= 1u << i;
        }
        const char *end;
        if (deeper && *p == '{')
            end = tg_walk(s, p, e, depth + 1, deeper, v);
        else
            end = tg_skip(p, e, (int)depth + 1);
        if (!end)
            return NULL;
        for (uint32_t m = hit; m; m &= m - 1) {
            unsigned i = (unsigned)__builtin_ctz(m);
            if (*p == '"') {
                size_t n = (size_t)(end - p - 2);
                v[i] = (struct tg_jval){TG_JSTRING, p + 1, n, memchr(p + 1, '\\', n) != NULL};
            } else if (!(end - p == 4 && memcmp(p, "null", 4) == 0)) {
                v[i] = (struct tg_jval){TG_JOTHER, p, (size_t)(end - p), false};
            }
        }
        p = tg_ws(end, e);
        if (p < e && *p == ',') {
            p = tg_ws(p + 1, e);
            if (p < e && *p == '}') /* a trailing comma: json-c takes it */
                return p + 1;
            continue;
        }
        if (p < e && *p == '}')
            return p + 1;
        return NULL;
    }
}

int tg_jscan_run(const struct tg_jscan *s, const char *json, size_t len, struct tg_jval *v)
{
    memset(v, 0, s->n * sizeof(*v));
    const char *e = json + len, *p = tg_ws(json, e);
    uint32_t all = s->n == 32 ? UINT32_MAX : (1u << s->n) - 1;
    const char *end = p < e && *p == '{' ? tg_walk(s, p, e, 0, all, v) : NULL;
    if (end && tg_ws(end, e) == e)
        return 0;
    memset(v, 0, s->n * sizeof(*v));
    return TG_ECORRUPT;
}

static void tg_put_utf8(struct tg_buf *b, uint32_t c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | c >> 6);
        u[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | c >> 12);
        u[1] = (char)(0x80 | (c >> 6 & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | c >> 18);
        u[1] = (char)(0x80 | (c >> 12 & 0x3f));
        u[2] = (char)(0x80 | (c >> 6 & 0x3f));
        u[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    tg_buf_append(b, u, n);
}

static int tg_hex4(const char *p, const char *e)
{
    if (e - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = tg_hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Decode the escaped string [p, e) onto out. */
static void tg_unescape(const char *p, const char *e, struct tg_buf *out)
{
    while (p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        if (!bs) {
            tg_buf_append(out, p, (size_t)(e - p));
            return;
        }
        tg_buf_append(out, p, (size_t)(bs - p));
        p = bs + 1;
        if (p >= e)
            return;
        char c = *p++;
        switch (c) {
        case 'b':
            tg_buf_putc(out, '\b');
            break;
        case 'f':
            tg_buf_putc(out, '\f');
            break;
        case 'n':
            tg_buf_putc(out, '\n');
            break;
        case 'r':
            tg_buf_putc(out, '\r');
            break;
        case 't':
            tg_buf_putc(out, '\t');
            break;
        case 'u': {
            int u = tg_hex4(p, e);
            if (u < 0) {
                tg_buf_putc(out, 'u');
                break;
            }
            p += 4;
            uint32_t cp = (uint32_t)u;
            if (u >= 0xd800 && u <= 0xdbff && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int lo = tg_hex4(p + 2, e);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + (((uint32_t)u - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                    p += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xfffd; /* a lone surrogate */
            tg_put_utf8(out, cp);
            break;
        }
        default: /* \" \\ \/ and anything else: the character itself */
            tg_buf_putc(out, c);
        }
    }
}

long tg_jval_text(const struct tg_jval *v, struct tg_buf *out)
{
    if (v->type == TG_JABSENT)
        return -1;
    size_t at = out->len;
    if (v->escaped)
        tg_unescape(v->p, v->p + v->n, out);
    else
        tg_buf_append(out, v->p, v->n);
    tg_buf_cstr(out);
    return (long)at;
}

static bool tg_bytes_eq(const char *a, const char *b, size_t n, bool fold)
{
    if (!fold)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z'))
            return false;
    }
    return true;
}

bool tg_jval_equals(const struct tg_jval *v, const char *want, size_t n, bool fold,
                    struct tg_buf *scratch)
{
    if (v->type == TG_JABSENT)
        return false;
    if (!v->escaped)
        return v->n == n && tg_bytes_eq(v->p, want, n, fold);
    scratch->len = 0;
    tg_jval_text(v, scratch);
    return scratch->len == n && tg_bytes_eq(scratch->data, want, n, fold);
}
