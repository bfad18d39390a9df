/*
 * strmap.c - case-insensitive interning map.  See strmap.h.
 *
 * FNV-1a over the ASCII-lowercased bytes; the table is kept at most half
 * full so probes stay short on the decision path.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "policy/strmap.h"

static inline unsigned char tg_lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static uint32_t tg_strmap_hash(const char *k, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= tg_lc((unsigned char)k[i]);
        h *= 16777619u;
    }
    return h;
}

static int tg_strmap_keyeq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (tg_lc((unsigned char)a[i]) != tg_lc((unsigned char)b[i]))
            return 0;
    return 1;
}

void tg_strmap_init(struct tg_strmap *m)
{
    m->cap = 16;
    m->n = 0;
    m->slots = tg_xcalloc(m->cap, sizeof(*m->slots));
}

void tg_strmap_free(struct tg_strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

uint32_t tg_strmap_get(const struct tg_strmap *m, const char *key, size_t len)
{
    if (!m->slots)
        return TG_STRMAP_NONE;
    uint32_t h = tg_strmap_hash(key, len);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const struct tg_strmap_slot *s = &m->slots[i];
        if (!s->key)
            return TG_STRMAP_NONE;
        if (s->hash == h && s->len == len && tg_strmap_keyeq(s->key, key, len))
            return s->value;
    }
}

static void tg_strmap_grow(struct tg_strmap *m)
{
    struct tg_strmap_slot *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = tg_xcalloc(m->cap, sizeof(*m->slots));
    for (size_t k = 0; k < oldcap; k++) {
        if (!old[k].key)
            continue;
        size_t i = old[k].hash & (m->cap - 1);
        while (m->slots[i].key)
            i = (i + 1) & (m->cap - 1);
        m->slots[i] = old[k];
    }
    free(old);
}

uint32_t tg_strmap_put(struct tg_strmap *m, const char *key, size_t len, uint32_t value)
{
    if ((m->n + 1) * 2 > m->cap)
        tg_strmap_grow(m);
    uint32_t h = tg_strmap_hash(key, len);
    size_t i = h & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        struct tg_strmap_slot *s = &m->slots[i];
        if (!s->key)
            break;
        if (s->hash == h && s->len == len && tg_strmap_keyeq(s->key, key, len))
            return s->value;
    }
    m->slots[i] = (struct tg_strmap_slot){key, (uint32_t)len, h, value};
    m->n++;
    return value;
}

void tg_strmap_set(struct tg_strmap *m, const char *key, size_t len, uint32_t value)
{
    uint32_t h = tg_strmap_hash(key, len);
    for (size_t i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1)) {
        struct tg_strmap_slot *s = &m->slots[i];
        if (s->hash == h && s->len == len && tg_strmap_keyeq(s->key, key, len)) {
            s->value = value;
            return;
        }
    }
}
