/*
 * dedup.c - event.id deduplication window.  See dedup.h.
 *
 * Memory is 24 bytes an entry (4 Mi entries: 96 MiB), so it is kept tight:
 * - the ring holds only the 16-byte ids.  Arrival times never go back, so
 *   they are kept as runs (the ring sequence number a second ends at, and
 *   the second): one run per second with arrivals, not 8 bytes an entry.
 * - the hash index uses linear probing with backward-shift deletion, so
 *   there are no tombstones: an entry leaving the ring head is found from
 *   its own hash and removed in place.  A 32-bit slot holds a ring position
 *   + 1 (0 = empty) in its low `shift` bits and, in the bits above, a tag:
 *   more bits of the id's hash.  A lookup reads the ring only where the tag
 *   matches, so a new id (the usual case) costs one index read, not a ring
 *   read per occupied slot passed.  The index has twice as many slots as the
 *   ring; both are powers of two.  Ring entry number `seq` (counted from the
 *   first ever) is at position seq & (cap - 1).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dedup.h"
#include "core/mem.h"

#define TG_DEDUP_MIN         1024
#define TG_DEDUP_DEFAULT_MAX (4u << 20)
#define TG_DEDUP_LIMIT       (1u << 26) /* leaves 5 bits of tag */

struct tg_dedup_ent {
    uint64_t a, b; /* the 128-bit id */
};

struct tg_dedup_run {
    uint64_t end; /* the seq after the last entry that arrived in second t */
    int64_t t;
};

struct tg_dedup {
    int64_t window;
    size_t max;
    struct tg_dedup_ent *ring;
    size_t cap;          /* ring entries */
    uint64_t head, tail; /* seqs: the oldest entry, the next one */
    struct tg_dedup_run *runs;
    size_t rcap, rhead, nruns; /* a ring of rcap runs, the oldest at rhead */
    uint32_t *index;
    size_t mask;    /* index slots - 1 */
    unsigned shift; /* low bits of a slot that hold the position + 1 */
    struct tg_dedup_stats st;
};

static uint64_t tg_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The id is already a cryptographic hash: its low bits are a good slot and
 * its high bits a good tag. */
static uint64_t tg_hash_of(uint64_t a)
{
    return a ^ (a >> 29);
}

static uint32_t tg_tag_of(const struct tg_dedup *d, uint64_t h)
{
    return (uint32_t)(h >> 32) >> d->shift << d->shift;
}

static uint32_t tg_pos_bits(const struct tg_dedup *d)
{
    return (uint32_t)((1ull << d->shift) - 1);
}

static void tg_index_insert(struct tg_dedup *d, size_t pos)
{
    uint64_t h = tg_hash_of(d->ring[pos].a);
    size_t i = h & d->mask;
    while (d->index[i])
        i = (i + 1) & d->mask;
    d->index[i] = tg_tag_of(d, h) | (uint32_t)(pos + 1);
}

static void tg_index_build(struct tg_dedup *d)
{
    memset(d->index, 0, (d->mask + 1) * sizeof(*d->index));
    for (uint64_t s = d->head; s != d->tail; s++)
        tg_index_insert(d, s & (d->cap - 1));
}

static size_t tg_home_of(const struct tg_dedup *d, uint32_t slot)
{
    return tg_hash_of(d->ring[(slot & tg_pos_bits(d)) - 1].a) & d->mask;
}

/* Remove ring position `pos` from the index (backward-shift deletion). */
static void tg_index_remove(struct tg_dedup *d, size_t pos)
{
    size_t i = tg_hash_of(d->ring[pos].a) & d->mask;
    while ((d->index[i] & tg_pos_bits(d)) != pos + 1)
        i = (i + 1) & d->mask;
    for (;;) {
        size_t j = i;
        d->index[i] = 0;
        for (;;) {
            j = (j + 1) & d->mask;
            if (!d->index[j])
                return;
            size_t home = tg_home_of(d, d->index[j]);
            /* can the entry at j move to the hole at i? (home not in (i, j]) */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        d->index[i] = d->index[j];
        i = j;
    }
}

static struct tg_dedup_run *tg_run_at(const struct tg_dedup *d, size_t k)
{
    return &d->runs[(d->rhead + k) & (d->rcap - 1)];
}

/* The entry at the ring head leaves, and its run when it was the last. */
static void tg_dedup_pop(struct tg_dedup *d)
{
    tg_index_remove(d, d->head & (d->cap - 1));
    d->head++;
    if (tg_run_at(d, 0)->end == d->head) {
        d->rhead = (d->rhead + 1) & (d->rcap - 1);
        d->nruns--;
    }
}

/* Entry seq d->tail arrives at second t (never before the last run's). */
static void tg_run_note(struct tg_dedup *d, int64_t t)
{
    struct tg_dedup_run *last = d->nruns ? tg_run_at(d, d->nruns - 1) : NULL;
    if (last && last->t >= t) {
        last->end = d->tail + 1;
        return;
    }
    if (d->nruns == d->rcap) {
        struct tg_dedup_run *r = tg_xmalloc(2 * d->rcap * sizeof(*r));
        for (size_t k = 0; k < d->nruns; k++)
            r[k] = *tg_run_at(d, k);
        free(d->runs);
        d->runs = r;
        d->rcap *= 2;
        d->rhead = 0;
    }
    *tg_run_at(d, d->nruns++) = (struct tg_dedup_run){d->tail + 1, t};
}

static void tg_index_alloc(struct tg_dedup *d)
{
    d->mask = d->cap * 2 - 1;
    d->shift = 1;
    while ((1ull << (d->shift - 1)) < d->cap) /* cap = 2^(shift - 1): pos + 1 <= cap */
        d->shift++;
    d->index = tg_xmalloc((d->mask + 1) * sizeof(*d->index));
    tg_index_build(d);
}

/* Double the ring (and the index). */
static void tg_dedup_grow(struct tg_dedup *d)
{
    size_t ncap = d->cap * 2;
    struct tg_dedup_ent *r = tg_xmalloc(ncap * sizeof(*r));
    for (uint64_t s = d->head; s != d->tail; s++)
        r[s & (ncap - 1)] = d->ring[s & (d->cap - 1)];
    free(d->ring);
    d->ring = r;
    d->cap = ncap;
    free(d->index);
    tg_index_alloc(d);
}

struct tg_dedup *tg_dedup_new(int64_t window_s, size_t max_entries)
{
    struct tg_dedup *d = tg_xcalloc(1, sizeof(*d));
    d->window = window_s;
    d->max = max_entries ? max_entries : TG_DEDUP_DEFAULT_MAX;
    if (d->max < TG_DEDUP_MIN)
        d->max = TG_DEDUP_MIN;
    if (d->max > TG_DEDUP_LIMIT)
        d->max = TG_DEDUP_LIMIT;
    d->cap = TG_DEDUP_MIN;
    d->ring = tg_xmalloc(d->cap * sizeof(*d->ring));
    d->rcap = 64;
    d->runs = tg_xmalloc(d->rcap * sizeof(*d->runs));
    tg_index_alloc(d);
    return d;
}

void tg_dedup_free(struct tg_dedup *d)
{
    if (!d)
        return;
    free(d->ring);
    free(d->runs);
    free(d->index);
    free(d);
}

bool tg_dedup_check(struct tg_dedup *d, const uint8_t id[16], int64_t now_s)
{
    if (d->window <= 0)
        return false;
    d->st.seen++;
    while (d->nruns && tg_run_at(d, 0)->t <= now_s - d->window)
        tg_dedup_pop(d);
    uint64_t a = tg_be64(id), b = tg_be64(id + 8), h = tg_hash_of(a);
    uint32_t tag = tg_tag_of(d, h), pos_bits = tg_pos_bits(d);
    for (size_t i = h & d->mask; d->index[i]; i = (i + 1) & d->mask) {
        if ((d->index[i] & ~pos_bits) != tag)
            continue;
        const struct tg_dedup_ent *e = &d->ring[(d->index[i] & pos_bits) - 1];
        if (e->a == a && e->b == b) {
            d->st.duplicates++;
            return true;
        }
    }
    if (d->tail - d->head == d->cap) {
        if (d->cap * 2 <= d->max) {
            tg_dedup_grow(d);
        } else {
            tg_dedup_pop(d);
            d->st.evicted_early++;
        }
    }
    size_t pos = d->tail & (d->cap - 1);
    d->ring[pos] = (struct tg_dedup_ent){a, b};
    tg_run_note(d, now_s);
    d->tail++;
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
    st->entries = d->tail - d->head;
}
