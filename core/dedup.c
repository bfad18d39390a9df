/*
 * dedup.c - event.id deduplication window.  See dedup.h.
 *
 * The hash index uses linear probing with backward-shift deletion, so there
 * are no tombstones: an entry leaving the ring head is found from its own
 * hash and removed in place.  Index slots hold ring positions + 1 (0 =
 * empty); the index has at least twice as many slots as the ring.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dedup.h"
#include "core/mem.h"

#define TG_DEDUP_MIN         1024
#define TG_DEDUP_DEFAULT_MAX (4u << 20)

struct tg_dedup_ent {
    uint64_t a, b; /* the 128-bit id */
    int64_t t;     /* when first seen */
};

struct tg_dedup {
    int64_t window;
    size_t max;
    struct tg_dedup_ent *ring;
    size_t cap, head, n; /* ring: cap entries, oldest at head */
    uint32_t *index;
    size_t mask; /* index slots - 1 */
    struct tg_dedup_stats st;
};

static uint64_t tg_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The id is already a cryptographic hash: its low bits are a good index. */
static size_t tg_slot_of(const struct tg_dedup *d, uint64_t a)
{
    return (size_t)(a ^ (a >> 29)) & d->mask;
}

static void tg_index_insert(struct tg_dedup *d, size_t pos)
{
    size_t i = tg_slot_of(d, d->ring[pos].a);
    while (d->index[i])
        i = (i + 1) & d->mask;
    d->index[i] = (uint32_t)(pos + 1);
}

static void tg_index_build(struct tg_dedup *d)
{
    memset(d->index, 0, (d->mask + 1) * sizeof(*d->index));
    for (size_t k = 0; k < d->n; k++)
        tg_index_insert(d, (d->head + k) % d->cap);
}

/* Remove ring position `pos` from the index (backward-shift deletion). */
static void tg_index_remove(struct tg_dedup *d, size_t pos)
{
    size_t i = tg_slot_of(d, d->ring[pos].a);
    while (d->index[i] != pos + 1)
        i = (i + 1) & d->mask;
    for (;;) {
        size_t j = i;
        d->index[i] = 0;
        for (;;) {
            j = (j + 1) & d->mask;
            if (!d->index[j])
                return;
            size_t home = tg_slot_of(d, d->ring[d->index[j] - 1].a);
            /* can the entry at j move to the hole at i? (home not in (i, j]) */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        d->index[i] = d->index[j];
        i = j;
    }
}

static void tg_dedup_pop(struct tg_dedup *d)
{
    tg_index_remove(d, d->head);
    d->head = (d->head + 1) % d->cap;
    d->n--;
}

/* Double the ring (and the index), keeping arrival order. */
static void tg_dedup_grow(struct tg_dedup *d)
{
    size_t ncap = d->cap * 2;
    struct tg_dedup_ent *r = tg_xmalloc(ncap * sizeof(*r));
    for (size_t k = 0; k < d->n; k++)
        r[k] = d->ring[(d->head + k) % d->cap];
    free(d->ring);
    d->ring = r;
    d->cap = ncap;
    d->head = 0;
    free(d->index);
    d->mask = ncap * 2 - 1;
    d->index = tg_xmalloc((d->mask + 1) * sizeof(*d->index));
    tg_index_build(d);
}

struct tg_dedup *tg_dedup_new(int64_t window_s, size_t max_entries)
{
    struct tg_dedup *d = tg_xcalloc(1, sizeof(*d));
    d->window = window_s;
    d->max = max_entries ? max_entries : TG_DEDUP_DEFAULT_MAX;
    if (d->max < TG_DEDUP_MIN)
        d->max = TG_DEDUP_MIN;
    d->cap = TG_DEDUP_MIN;
    d->ring = tg_xmalloc(d->cap * sizeof(*d->ring));
    d->mask = d->cap * 2 - 1;
    d->index = tg_xcalloc(d->mask + 1, sizeof(*d->index));
    return d;
}

void tg_dedup_free(struct tg_dedup *d)
{
    if (!d)
        return;
    free(d->ring);
    free(d->index);
    free(d);
}

bool tg_dedup_check(struct tg_dedup *d, const uint8_t id[16], int64_t now_s)
{
    if (d->window <= 0)
        return false;
    d->st.seen++;
    while (d->n && d->ring[d->head].t <= now_s - d->window)
        tg_dedup_pop(d);
    uint64_t a = tg_be64(id), b = tg_be64(id + 8);
    size_t i = tg_slot_of(d, a);
    while (d->index[i]) {
        const struct tg_dedup_ent *e = &d->ring[d->index[i] - 1];
        if (e->a == a && e->b == b) {
            d->st.duplicates++;
            return true;
        }
        i = (i + 1) & d->mask;
    }
    if (d->n == d->cap) {
        if (d->cap * 2 <= d->max) {
            tg_dedup_grow(d);
        } else {
            tg_dedup_pop(d);
            d->st.evicted_early++;
        }
    }
    size_t pos = (d->head + d->n) % d->cap;
    d->ring[pos] = (struct tg_dedup_ent){a, b, now_s};
    d->n++;
    tg_index_insert(d, pos);
    return false;
}

bool tg_dedup_is_duplicate(void *dedup, const struct tg_event *ev)
{
    if (ev->filtered) /* dropped by [filter]: it has no id, and it goes nowhere */
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return tg_dedup_check(dedup, ev->id_bin, ts.tv_sec);
}

void tg_dedup_stats(const struct tg_dedup *d, struct tg_dedup_stats *st)
{
    *st = d->st;
    st->entries = d->n;
}
