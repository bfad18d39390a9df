/*
 * test_dedup.c - the event.id window: repeats inside the window are
 * duplicates, after it they pass; window 0 disables; the ring grows and,
 * at its limit, evicts the oldest (counted); many ids with deletions keep
 * the hash index consistent (every id still present is found); ids whose
 * index tags are equal, or whose slots are, stay apart through expiry; a
 * long random run gives the answers of a plain FIFO model.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core/dedup.h"

static void mkid(uint8_t *id, uint64_t a, uint64_t b)
{
    for (int i = 0; i < 8; i++) {
        id[i] = (uint8_t)(a >> (56 - 8 * i));
        id[8 + i] = (uint8_t)(b >> (56 - 8 * i));
    }
}

static void test_window(void **state)
{
    struct tg_dedup *d = tg_dedup_new(10, 0);
    uint8_t id[16], other[16];
    mkid(id, 0x1234, 0x5678);
    mkid(other, 0x1234, 0x5679); /* same first half */
    assert_false(tg_dedup_check(d, id, 100));
    assert_true(tg_dedup_check(d, id, 105));
    assert_false(tg_dedup_check(d, other, 105));
    assert_true(tg_dedup_check(d, id, 109));
    assert_false(tg_dedup_check(d, id, 111)); /* window over: seen again, recorded anew */
    assert_true(tg_dedup_check(d, id, 112));
    struct tg_dedup_stats st;
    tg_dedup_stats(d, &st);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.seen, 6);
    tg_dedup_free(d);
}

static void test_disabled(void **state)
{
    struct tg_dedup *d = tg_dedup_new(0, 0);
    uint8_t id[16];
    mkid(id, 1, 2);
    assert_false(tg_dedup_check(d, id, 1));
    assert_false(tg_dedup_check(d, id, 1));
    tg_dedup_free(d);
}

static void test_limit_evicts_oldest(void **state)
{
    struct tg_dedup *d = tg_dedup_new(1000, 1024);
    uint8_t id[16];
    for (uint64_t i = 0; i < 1500; i++) {
        mkid(id, i * 0x9e3779b97f4a7c15ull, i);
        assert_false(tg_dedup_check(d, id, 1));
    }
    struct tg_dedup_stats st;
    tg_dedup_stats(d, &st);
    assert_int_equal(st.entries, 1024);
    assert_int_equal(st.evicted_early, 1500 - 1024);
    /* the newest 1024 are still known, the oldest are not */
    for (uint64_t i = 1500 - 1024; i < 1500; i++) {
        mkid(id, i * 0x9e3779b97f4a7c15ull, i);
        assert_true(tg_dedup_check(d, id, 2));
    }
    mkid(id, 0, 0);
    assert_false(tg_dedup_check(d, id, 2));
    tg_dedup_free(d);
}

static void test_growth_and_expiry(void **state)
{
    /* clustered hashes (same low bits) stress the probing and the deletions */
    struct tg_dedup *d = tg_dedup_new(5, 1 << 16);
    uint8_t id[16];
    for (uint64_t t = 0; t < 20; t++)
        for (uint64_t i = 0; i < 3000; i++) {
            mkid(id, (i % 7) << 32 | (t * 3000 + i), t);
            assert_false(tg_dedup_check(d, id, (int64_t)t));
        }
    /* entries from the last 5 seconds (t = 15..19) are all found */
    for (uint64_t t = 15; t < 20; t++)
        for (uint64_t i = 0; i < 3000; i += 7) {
            mkid(id, (i % 7) << 32 | (t * 3000 + i), t);
            assert_true(tg_dedup_check(d, id, 19));
        }
    struct tg_dedup_stats st;
    tg_dedup_stats(d, &st);
    assert_int_equal(st.evicted_early, 0);
    assert_int_equal(st.entries, 5 * 3000);
    tg_dedup_free(d);
}

/* The index slot is the low bits of h = a ^ (a >> 29), the tag its top bits
 * (from bit 32 + the position bits: 43 with a ring of 1024): bits 40-42 of `a`
 * reach neither (they land on bits 40-42 and 11-13 of h), bits 50-51 change
 * the tag (bit 50-51 of h) but not the slot (bits 21-22). */
static uint64_t tag_twin(uint64_t k, uint64_t j)
{
    return 0xabcdeull | k << 40 | j << 50;
}

static void test_tag_collisions(void **state)
{
    struct tg_dedup *d = tg_dedup_new(2, 0);
    uint8_t id[16];
    for (uint64_t t = 0; t < 2; t++) /* t = 0: k even, t = 1: k odd */
        for (uint64_t k = t; k < 8; k += 2)
            for (uint64_t j = 0; j < 4; j++)
                for (uint64_t b = 0; b < 3; b++) {
                    mkid(id, tag_twin(k, j), b);
                    assert_false(tg_dedup_check(d, id, (int64_t)t));
                }
    /* every id is told apart from its twins: each is found, a fourth b is not */
    for (uint64_t k = 0; k < 8; k++)
        for (uint64_t j = 0; j < 4; j++) {
            mkid(id, tag_twin(k, j), 1);
            assert_true(tg_dedup_check(d, id, 1));
        }
    mkid(id, tag_twin(3, 2), 3);
    assert_false(tg_dedup_check(d, id, 1));
    /* at t = 2 the t = 0 entries leave (removed through their tags): the
     * odd k are still found, the even k are new again */
    for (uint64_t k = 0; k < 8; k++)
        for (uint64_t j = 0; j < 4; j++)
            for (uint64_t b = 0; b < 3; b++) {
                mkid(id, tag_twin(k, j), b);
                if (k % 2)
                    assert_true(tg_dedup_check(d, id, 2));
                else
                    assert_false(tg_dedup_check(d, id, 2));
            }
    struct tg_dedup_stats st;
    tg_dedup_stats(d, &st);
    assert_int_equal(st.entries, 8 * 4 * 3 + 1);
    tg_dedup_free(d);
}

/* 40000 checks of ids drawn from a pool (repeats, clustered slots and tags),
 * the clock moving on by 0-2 seconds now and then, against a plain FIFO
 * model of the same rules: window expiry, growth from 1024 to 4096 entries,
 * then early eviction of the oldest. */
static void test_against_model(void **state)
{
    enum { MAXN = 4096, OPS = 40000, WINDOW = 30 };
    static uint64_t ma[MAXN], mb[MAXN];
    static int64_t mt[MAXN];
    size_t mhead = 0, mn = 0;
    uint64_t evicted = 0, expired = 0, dups = 0;
    struct tg_dedup *d = tg_dedup_new(WINDOW, MAXN);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    int64_t now = 1000;
    uint8_t id[16];
    for (int op = 0; op < OPS; op++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        if ((rng >> 56) == 0)
            now += (int64_t)(rng >> 40) % 3;
        uint64_t k = (rng >> 33) % 6000;
        uint64_t a = (k % 5) | (k % 3) << 40 | (k / 15) << 50, b = k;
        while (mn && mt[mhead] <= now - WINDOW) {
            mhead = (mhead + 1) % MAXN;
            mn--;
            expired++;
        }
        bool found = false;
        for (size_t i = 0; i < mn && !found; i++) {
            size_t j = (mhead + i) % MAXN;
            found = ma[j] == a && mb[j] == b;
        }
        if (found) {
            dups++;
        } else {
            if (mn == MAXN) {
                mhead = (mhead + 1) % MAXN;
                mn--;
                evicted++;
            }
            size_t j = (mhead + mn++) % MAXN;
            ma[j] = a;
            mb[j] = b;
            mt[j] = now;
        }
        mkid(id, a, b);
        assert_int_equal(tg_dedup_check(d, id, now), found);
    }
    struct tg_dedup_stats st;
    tg_dedup_stats(d, &st);
    assert_int_equal(st.entries, mn);
    assert_int_equal(st.duplicates, dups);
    assert_int_equal(st.evicted_early, evicted);
    assert_true(dups > 1000 && evicted > 1000 && expired > 1000); /* every way was taken */
    tg_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_limit_evicts_oldest),
        cmocka_unit_test(test_growth_and_expiry),
        cmocka_unit_test(test_tag_collisions),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests_name("dedup", tests, NULL, NULL);
}
