/*
 * skipidx.c - building and probing a member's skip index.  See skipidx.h
 * for the format.
 *
 * The builder scans each record once (core/json_scan.h: the nine paths in
 * one walk, no allocation; for an event the file sink writes, the walk is
 * skipped: the serializer noted where those values went, tg_skipidx_add_event) and adds the 64-bit
 * hash of every key to an open addressing set, so a member's distinct keys are counted as they come
 * and the filter can be sized exactly at the end (10 bits per distinct key). The word keys are
 * counted apart: past TG_SKIP_MAX_WORDS distinct words (a bulk SQL load) no more are added and the
 * flag says the member's words are not indexed, so its filter stays small and word queries read it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/mem.h"
#include "sinks/skipidx.h"

const char *const tg_skip_path[TG_SKIP_NFIELDS] = {
    [TG_SKIP_USER] = "user.name",
    [TG_SKIP_EUSER] = "user.effective.name",
    [TG_SKIP_HOST] = "host.name",
    [TG_SKIP_EXE] = "process.executable",
    [TG_SKIP_DATASET] = "event.dataset",
    [TG_SKIP_ACTION] = "event.action",
    [TG_SKIP_DECISION] = "trailguard.policy.decision",
};
const bool tg_skip_fold[TG_SKIP_NFIELDS] = {
    [TG_SKIP_USER] = true, [TG_SKIP_EUSER] = true, [TG_SKIP_HOST] = true, [TG_SKIP_WORD] = true};
const char *const tg_skip_word_paths[2] = {"process.command_line", "trailguard.db.statement"};

#define TG_SKIP_HDR          12
#define TG_SKIP_BITS_PER_KEY 10
#define TG_SKIP_K            7

static bool tg_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

bool tg_skip_word_next(const char *s, size_t n, size_t *pos, const char **w, size_t *wn)
{
    size_t i = *pos;
    while (i < n && !tg_word_byte((unsigned char)s[i]))
        i++;
    if (i == n) {
        *pos = n;
        return false;
    }
    size_t j = i;
    while (j < n && tg_word_byte((unsigned char)s[j]))
        j++;
    *w = s + i;
    *wn = j - i;
    *pos = j;
    return true;
}

static uint64_t tg_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* h of the key (field, value), the value lower-cased when `fold`. */
static uint64_t tg_key_hash(enum tg_skip_field f, const char *v, size_t n, bool fold)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = (h ^ (uint8_t)f) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (fold && c >= 'A' && c <= 'Z')
            c |= 0x20;
        h = (h ^ c) * 0x100000001b3ull;
    }
    return tg_mix(h);
}

void tg_skipidx_init(struct tg_skipidx *b)
{
    memset(b, 0, sizeof(*b));
    const char *paths[TG_SKIP_NFIELDS + 1];
    size_t n = 0;
    for (int f = TG_SKIP_USER; f < TG_SKIP_WORD; f++)
        paths[n++] = tg_skip_path[f];
    paths[n++] = tg_skip_word_paths[0];
    paths[n++] = tg_skip_word_paths[1];
    if (tg_jscan_init(&b->js, paths, n) != 0)
        abort(); /* the table above is wrong */
}

/* Add h to the set; true when it was new. */
static bool tg_set_add(struct tg_skipidx *b, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (2 * (b->nset + 1) > b->capset) {
        size_t cap = b->capset ? 2 * b->capset : 1024;
        uint64_t *old = b->set;
        size_t ocap = b->capset;
        b->set = tg_xcalloc(cap, sizeof(*b->set));
        b->capset = cap;
        for (size_t i = 0; i < ocap; i++) {
            if (!old[i])
                continue;
            size_t j = old[i] & (cap - 1);
            while (b->set[j])
                j = (j + 1) & (cap - 1);
            b->set[j] = old[i];
        }
        free(old);
    }
    size_t j = h & (b->capset - 1);
    while (b->set[j]) {
        if (b->set[j] == h)
            return false;
        j = (j + 1) & (b->capset - 1);
    }
    b->set[j] = h;
    b->nset++;
    return true;
}

/* Add the keys of a record's values v (tg_skipidx_init's path order). */
static void tg_skipidx_vals(struct tg_skipidx *b, const struct tg_jval *v)
{
    size_t i = 0;
    for (int f = TG_SKIP_USER; f < TG_SKIP_WORD; f++, i++) {
        b->scratch.len = 0;
        long at = tg_jval_text(&v[i], &b->scratch);
        if (at >= 0)
            tg_set_add(b, tg_key_hash((enum tg_skip_field)f, b->scratch.data, b->scratch.len,
                                      tg_skip_fold[f]));
    }
    for (int k = 0; k < 2 && !b->words_over; k++, i++) {
        b->scratch.len = 0;
        if (tg_jval_text(&v[i], &b->scratch) < 0)
            continue;
        size_t pos = 0, wn;
        const char *w;
        while (!b->words_over && tg_skip_word_next(b->scratch.data, b->scratch.len, &pos, &w, &wn))
            if (tg_set_add(b, tg_key_hash(TG_SKIP_WORD, w, wn, true)) &&
                ++b->nwords > TG_SKIP_MAX_WORDS)
                b->words_over = true; /* no more words: the flag says they are not indexed */
    }
}

void tg_skipidx_add(struct tg_skipidx *b, const char *rec, size_t len)
{
    struct tg_jval v[TG_SKIP_NFIELDS + 1];
    if (tg_jscan_run(&b->js, rec, len, v) != 0)
        return; /* not an object: no field of it can match a filter */
    tg_skipidx_vals(b, v);
}

/* The serializer's order of the values is the paths' (skipidx_init). */
_Static_assert((int)TG_JV_USER == TG_SKIP_USER - 1 && (int)TG_JV_EUSER == TG_SKIP_EUSER - 1 &&
                   (int)TG_JV_HOST == TG_SKIP_HOST - 1 && (int)TG_JV_EXE == TG_SKIP_EXE - 1 &&
                   (int)TG_JV_DATASET == TG_SKIP_DATASET - 1 &&
                   (int)TG_JV_ACTION == TG_SKIP_ACTION - 1 &&
                   (int)TG_JV_DECISION == TG_SKIP_DECISION - 1 &&
                   (int)TG_JV_COMMAND_LINE == TG_SKIP_WORD - 1 && (int)TG_JV_N == TG_SKIP_NFIELDS,
               "enum tg_json_val follows the skip index's paths");

void tg_skipidx_add_event(struct tg_skipidx *b, const struct tg_event *ev)
{
    if (!ev->json_vals_ok) {
        tg_skipidx_add(b, ev->json.data, ev->json.len);
        return;
    }
    struct tg_jval v[TG_JV_N];
    for (size_t i = 0; i < TG_JV_N; i++) {
        const struct tg_jspan *s = &ev->json_vals[i];
        const char *p = ev->json.data + s->off;
        v[i] = s->off ? (struct tg_jval){TG_JSTRING, p, s->len, memchr(p, '\\', s->len) != NULL}
                      : (struct tg_jval){TG_JABSENT, NULL, 0, false};
    }
    tg_skipidx_vals(b, v);
}

static void tg_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t tg_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void tg_bloom_set(uint8_t *bits, uint32_t nbits, uint64_t h)
{
    uint64_t h2 = tg_mix(h ^ 0x9e3779b97f4a7c15ull) | 1;
    for (uint64_t j = 0; j < TG_SKIP_K; j++) {
        uint64_t bit = (h + j * h2) % nbits;
        bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

void tg_skipidx_finish(struct tg_skipidx *b, struct tg_buf *ext)
{
    uint64_t bits64 = (uint64_t)b->nset * TG_SKIP_BITS_PER_KEY;
    uint32_t nbits = (uint32_t)((bits64 + 63) / 64 * 64);
    if (nbits < 64)
        nbits = 64;
    uint8_t *p = (uint8_t *)tg_buf_reserve(ext, TG_SKIP_HDR + nbits / 8);
    memset(p, 0, TG_SKIP_HDR + nbits / 8);
    p[0] = TG_SKIP_VERSION;
    p[1] = b->words_over ? 0 : 1;
    p[2] = TG_SKIP_K;
    tg_put32(p + 4, nbits);
    tg_put32(p + 8, (uint32_t)b->nset);
    for (size_t i = 0; i < b->capset; i++)
        if (b->set[i])
            tg_bloom_set(p + TG_SKIP_HDR, nbits, b->set[i]);
    ext->len += TG_SKIP_HDR + nbits / 8;
    tg_skipidx_reset(b);
}

void tg_skipidx_reset(struct tg_skipidx *b)
{
    if (b->set)
        memset(b->set, 0, b->capset * sizeof(*b->set));
    b->nset = 0;
    b->nwords = 0;
    b->words_over = false;
}

void tg_skipidx_free(struct tg_skipidx *b)
{
    free(b->set);
    tg_buf_free(&b->scratch);
    b->set = NULL;
    b->capset = b->nset = 0;
}

void tg_skip_probe_init(struct tg_skip_probe *p, enum tg_skip_field f, const char *v, size_t n)
{
    p->field = f;
    p->h = tg_key_hash(f, v, n, tg_skip_fold[f]);
    if (p->h == 0)
        p->h = 1; /* as the set stores it */
    p->h2 = tg_mix(p->h ^ 0x9e3779b97f4a7c15ull) | 1;
}

bool tg_skipidx_may_hold(const void *ext, size_t len, const struct tg_skip_probe *p)
{
    const uint8_t *e = ext;
    if (len < TG_SKIP_HDR || e[0] != TG_SKIP_VERSION)
        return true;
    uint32_t nbits = tg_get32(e + 4), k = e[2];
    if (nbits == 0 || nbits % 8 || k == 0 || k > 16 || len - TG_SKIP_HDR < nbits / 8)
        return true;
    if (p->field == TG_SKIP_WORD && !(e[1] & 1))
        return true;
    const uint8_t *bits = e + TG_SKIP_HDR;
    for (uint64_t j = 0; j < k; j++) {
        uint64_t bit = (p->h + j * p->h2) % nbits;
        if (!(bits[bit >> 3] & (1u << (bit & 7))))
            return false;
    }
    return true;
}
