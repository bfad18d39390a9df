/*
 * json.c - the fast JSON writer.  See json.h.
 *
 * tg_json_str is the hot path: it copies plain ASCII eight bytes at a time
 * (a word test finds the bytes that need care) and a 256-entry class table
 * finishes the run; only escapes and non-ASCII bytes take the slow
 * branch, where UTF-8 is validated per RFC 3629 (no overlongs, no
 * surrogates, nothing above U+10FFFF).  An invalid sequence becomes one
 * U+FFFD per maximal invalid subpart, as Unicode recommends.
 */
#include <stdio.h>
#include <string.h>

#include "core/json.h"

enum { JC_COPY = 0, JC_ESC = 1, JC_HIGH = 2 };

static const unsigned char tg_json_class[256] = {
    [0 ... 0x1f] = JC_ESC,
    ['"'] = JC_ESC,
    ['\\'] = JC_ESC,
    [0x80 ... 0xff] = JC_HIGH,
};

static const char tg_hex[] = "0123456789abcdef";

/* Whether one of the eight bytes of x is not JC_COPY: below 0x20, '"',
 * '\\' or not ASCII (the has-less-than and has-zero-byte bit tricks, which
 * are exact about whether there is one). */
static inline bool tg_json_special8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t lt = (x - ones * 0x20) & ~x;
    q = (q - ones) & ~q;
    bs = (bs - ones) & ~bs;
    return ((lt | q | bs | x) & high) != 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), or -k where k >= 1 is the
 * number of bytes forming the maximal invalid subpart. */
static int tg_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    unsigned lo = 0x80, hi = 0xbf;
    int need;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return -1;
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n)
            return -i;
        unsigned b = p[i];
        unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
        if (b < l || b > h)
            return -i;
    }
    return need + 1;
}

size_t tg_utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int k = tg_utf8_seq(p + i, n - i);
        if (k < 0)
            return i;
        i += (size_t)k;
    }
    return n;
}

void tg_json_str(struct tg_buf *b, const char *s, size_t n, unsigned *flags)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    /* Worst case 6 bytes per input byte plus quotes: reserve once. */
    tg_buf_reserve(b, n * 6 + 2);
    char *w = b->data + b->len;
    *w++ = '"';
    while (i < n) {
        uint64_t x; /* eight plain bytes at a time, copied as they are read */
        while (i + 8 <= n && (memcpy(&x, p + i, 8), !tg_json_special8(x))) {
            memcpy(w, &x, 8);
            w += 8;
            i += 8;
        }
        while (i < n && tg_json_class[p[i]] == JC_COPY) /* fewer than eight */
            *w++ = (char)p[i++];
        if (i == n)
            break;
        unsigned c = p[i];
        if (tg_json_class[c] == JC_ESC) {
            *w++ = '\\';
            switch (c) {
            case '"':
                *w++ = '"';
                break;
            case '\\':
                *w++ = '\\';
                break;
            case '\b':
                *w++ = 'b';
                break;
            case '\f':
                *w++ = 'f';
                break;
            case '\n':
                *w++ = 'n';
                break;
            case '\r':
                *w++ = 'r';
                break;
            case '\t':
                *w++ = 't';
                break;
            default:
                *w++ = 'u';
                *w++ = '0';
                *w++ = '0';
                *w++ = tg_hex[c >> 4];
                *w++ = tg_hex[c & 15];
            }
            if (c < 0x20 && flags)
                *flags |= TG_JSON_CONTROL;
            i++;
            continue;
        }
        int k = tg_utf8_seq(p + i, n - i);
        if (k > 0) {
            memcpy(w, p + i, (size_t)k);
            w += k;
            i += (size_t)k;
        } else {
            *w++ = (char)0xef;
            *w++ = (char)0xbf;
            *w++ = (char)0xbd;
            i += (size_t)-k;
            if (flags)
                *flags |= TG_JSON_INVALID_UTF8;
        }
    }
    *w++ = '"';
    b->len = (size_t)(w - b->data);
}

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm). */
static void tg_civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* v as exactly n decimal digits, zero-padded (v < 10^n) */
static void tg_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t tg_time_format(char out[32], struct tg_time t)
{
    int64_t days = t.sec / 86400, rem = t.sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y;
    unsigned mo, d;
    tg_civil(days, &y, &mo, &d);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    /* by hand: two of these per event, and snprintf showed in profiles */
    tg_digits(out, (unsigned)y, 4);
    out[4] = '-';
    tg_digits(out + 5, mo, 2);
    out[7] = '-';
    tg_digits(out + 8, d, 2);
    out[10] = 'T';
    tg_digits(out + 11, (unsigned)(rem / 3600), 2);
    out[13] = ':';
    tg_digits(out + 14, (unsigned)(rem / 60 % 60), 2);
    out[16] = ':';
    tg_digits(out + 17, (unsigned)(rem % 60), 2);
    size_t n = 19;
    if (t.frac > 0) {
        char frac[9];
        tg_digits(frac, (unsigned)t.nsec, 9);
        out[n++] = '.';
        int digits = t.frac > 9 ? 9 : t.frac;
        memcpy(out + n, frac, (size_t)digits);
        n += (size_t)digits;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

void tg_json_time(struct tg_buf *b, struct tg_time t)
{
    char tmp[32];
    size_t n = tg_time_format(tmp, t);
    char *w = tg_buf_reserve(b, n + 2);
    w[0] = '"';
    memcpy(w + 1, tmp, n);
    w[n + 1] = '"';
    b->len += n + 2;
}

void tg_jw_begin(struct tg_jw *w, struct tg_buf *b)
{
    w->b = b;
    w->depth = 0;
    w->emitted = 0;
    w->has_member[0] = false;
    tg_buf_putc(b, '{');
}

void tg_jw_end(struct tg_jw *w)
{
    tg_buf_putc(w->b, '}');
}

void tg_jw_open(struct tg_jw *w, const char *key)
{
    if (w->depth >= TG_JW_MAX_DEPTH)
        return; /* static nesting of the event writer never gets here */
    w->keys[w->depth++] = key;
    w->has_member[w->depth] = false;
}

void tg_jw_close(struct tg_jw *w)
{
    if (w->depth == 0)
        return;
    if (w->emitted == w->depth) {
        tg_buf_putc(w->b, '}');
        w->emitted--;
    }
    w->depth--;
}

/* Write pending object openings and the separator before a new member. */
static void tg_jw_sep(struct tg_jw *w)
{
    while (w->emitted < w->depth) {
        int lvl = w->emitted; /* parent level of the object being opened */
        size_t n = strlen(w->keys[lvl]), c = w->has_member[lvl];
        char *d = tg_buf_reserve(w->b, n + 5);
        d[0] = ','; /* overwritten when there is no member before it */
        d[c] = '"';
        memcpy(d + c + 1, w->keys[lvl], n);
        memcpy(d + c + 1 + n, "\":{", 3);
        w->b->len += c + n + 4;
        w->has_member[lvl] = true;
        w->emitted++;
        w->has_member[w->emitted] = false;
    }
    if (w->has_member[w->depth])
        tg_buf_putc(w->b, ',');
    w->has_member[w->depth] = true;
}

/* Write pending object openings and the member key (a static name). */
static void tg_jw_key(struct tg_jw *w, const char *key)
{
    tg_jw_sep(w);
    size_t n = strlen(key);
    char *d = tg_buf_reserve(w->b, n + 3);
    d[0] = '"';
    memcpy(d + 1, key, n);
    d[n + 1] = '"';
    d[n + 2] = ':';
    w->b->len += n + 3;
}

void tg_jw_str(struct tg_jw *w, const char *key, struct tg_str v, unsigned *flags)
{
    if (!v.p)
        return;
    tg_jw_key(w, key);
    tg_json_str(w->b, v.p, v.len, flags);
}

void tg_jw_str_at(struct tg_jw *w, const char *key, struct tg_str v, unsigned *flags,
                  struct tg_jspan *at)
{
    if (!v.p)
        return;
    tg_jw_key(w, key);
    size_t q = w->b->len; /* the opening quote */
    tg_json_str(w->b, v.p, v.len, flags);
    at->off = (uint32_t)(q + 1);
    at->len = (uint32_t)(w->b->len - q - 2);
}

void tg_jw_cstr(struct tg_jw *w, const char *key, const char *v)
{
    if (v)
        tg_jw_str(w, key, tg_str_c(v), NULL);
}

void tg_jw_int(struct tg_jw *w, const char *key, int64_t v)
{
    if (v == TG_NUM_NONE)
        return;
    tg_jw_key(w, key);
    char tmp[24], *e = tmp + sizeof(tmp), *q = e;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    tg_buf_append(w->b, q, (size_t)(e - q));
}

void tg_jw_time(struct tg_jw *w, const char *key, struct tg_time t)
{
    if (t.frac < 0)
        return;
    tg_jw_key(w, key);
    tg_json_time(w->b, t);
}

void tg_jw_raw(struct tg_jw *w, const char *key, struct tg_str json)
{
    if (!json.p)
        return;
    tg_jw_key(w, key);
    tg_buf_append(w->b, json.p, json.len);
}

void tg_jw_raw_at(struct tg_jw *w, struct tg_str key, struct tg_str json)
{
    if (!json.p || !key.p)
        return;
    tg_jw_sep(w);
    tg_json_str(w->b, key.p, key.len, NULL);
    tg_buf_putc(w->b, ':');
    tg_buf_append(w->b, json.p, json.len);
}

void tg_jw_members(struct tg_jw *w, struct tg_str obj)
{
    if (!obj.p || obj.len < 2 || obj.p[0] != '{' || obj.p[obj.len - 1] != '}')
        return;
    size_t i = 1;
    while (i < obj.len - 1 && (obj.p[i] == ' ' || obj.p[i] == '\n'))
        i++;
    if (i == obj.len - 1) /* {} */
        return;
    tg_jw_sep(w);
    tg_buf_append(w->b, obj.p + i, obj.len - 1 - i);
}

void tg_jw_null(struct tg_jw *w, const char *key)
{
    tg_jw_key(w, key);
    tg_buf_append(w->b, "null", 4);
}

void tg_jw_bool(struct tg_jw *w, const char *key, bool v)
{
    tg_jw_key(w, key);
    if (v)
        tg_buf_append(w->b, "true", 4);
    else
        tg_buf_append(w->b, "false", 5);
}

void tg_jw_str_array(struct tg_jw *w, const char *key, const char *const *v)
{
    if (!v || !v[0])
        return;
    tg_jw_key(w, key);
    tg_buf_putc(w->b, '[');
    for (int i = 0; v[i]; i++) {
        if (i)
            tg_buf_putc(w->b, ',');
        tg_json_str(w->b, v[i], strlen(v[i]), NULL);
    }
    tg_buf_putc(w->b, ']');
}

void tg_jw_str_list(struct tg_jw *w, const char *key, const struct tg_str *v, size_t n,
                    unsigned *flags)
{
    if (!v || n == 0)
        return;
    tg_jw_key(w, key);
    tg_buf_putc(w->b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            tg_buf_putc(w->b, ',');
        tg_json_str(w->b, v[i].p, v[i].len, flags);
    }
    tg_buf_putc(w->b, ']');
}
