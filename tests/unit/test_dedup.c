/*
 * test_dedup.c - the event.id window: repeats inside the window are
 * duplicates, after it they pass; window 0 disables; the ring grows and,
 * at its limit, evicts the oldest (counted); many ids with deletions keep
 * the hash index consistent (every id still present is found).
 */
#include <setjmp.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_limit_evicts_oldest),
        cmocka_unit_test(test_growth_and_expiry),
    };
    return cmocka_run_group_tests_name("dedup", tests, NULL, NULL);
}
