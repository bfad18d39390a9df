/*
 * needle.c - the vectorised substring test.  See needle.h.
 *
 * For each block of 16 positions i: A = h[i+0..16) and B = h[i+n-1..+16),
 * each OR-ed with 0x20 where the needle byte is a letter and case is
 * ignored, compared with the (lower-case) first and last needle bytes; the
 * positions where both agree are candidates, checked with a full compare.
 * The last partial block is checked byte by byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/needle.h"

typedef uint8_t tg_v16 __attribute__((vector_size(16)));

static bool tg_is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

void tg_needle_init(struct tg_needle *nd, const char *s, size_t n, bool fold)
{
    nd->s = tg_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        nd->s[i] = (char)(fold && tg_is_alpha(c) ? c | 0x20 : c);
    }
    nd->s[n] = '\0';
    nd->n = n;
    nd->fold = fold;
}

void tg_needle_free(struct tg_needle *nd)
{
    free(nd->s);
    nd->s = NULL;
}

/* Does h (at least nd->n bytes) start with the needle? */
static bool tg_needle_at(const struct tg_needle *nd, const unsigned char *h)
{
    const unsigned char *s = (const unsigned char *)nd->s;
    if (!nd->fold)
        return memcmp(h, s, nd->n) == 0;
    for (size_t i = 0; i < nd->n; i++) {
        unsigned char c = h[i];
        if (tg_is_alpha(c))
            c |= 0x20;
        if (c != s[i])
            return false;
    }
    return true;
}

bool tg_needle_in(const struct tg_needle *nd, const char *hay, size_t len)
{
    const unsigned char *h = (const unsigned char *)hay;
    size_t n = nd->n;
    if (n == 0)
        return true;
    if (len < n)
        return false;
    if (!nd->fold)
        return memmem(hay, len, nd->s, n) != NULL; /* glibc's is as fast for exact bytes */
    unsigned char c0 = (unsigned char)nd->s[0], c1 = (unsigned char)nd->s[n - 1];
    tg_v16 f0, f1, k0, k1;
    for (int j = 0; j < 16; j++) {
        f0[j] = tg_is_alpha(c0) ? 0x20 : 0;
        f1[j] = tg_is_alpha(c1) ? 0x20 : 0;
        k0[j] = c0;
        k1[j] = c1;
    }
    size_t last = len - n; /* the last start position */
    size_t i = 0;
    for (; i + 16 <= last + 1; i += 16) {
        tg_v16 a, b;
        memcpy(&a, h + i, 16);
        memcpy(&b, h + i + n - 1, 16);
        tg_v16 m = (tg_v16)(((a | f0) == k0) & ((b | f1) == k1));
        uint64_t w[2];
        memcpy(w, &m, 16);
        for (int half = 0; half < 2; half++) {
            uint64_t bits = w[half];
            while (bits) {
                int byte = __builtin_ctzll(bits) / 8;
                if (tg_needle_at(nd, h + i + 8 * (size_t)half + (size_t)byte))
                    return true;
                bits &= ~(0xffull << (8 * byte));
            }
        }
    }
    for (; i <= last; i++)
        if (tg_needle_at(nd, h + i))
            return true;
    return false;
}
