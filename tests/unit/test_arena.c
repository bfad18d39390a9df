/*
 * test_arena.c - the bump allocator: alignment, growth past the inline
 * block, large allocations, string copies.  Run under ASan in CI, which
 * catches any overrun of the chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"

static void test_alignment_and_inline_block(void **state)
{
    char block[64];
    struct tg_arena a;
    tg_arena_init(&a, block, sizeof(block));
    char *s = tg_arena_alloc(&a, 3);
    uint64_t *n = tg_arena_alloc(&a, sizeof(*n));
    assert_true((char *)s >= block && (char *)s < block + sizeof(block));
    assert_int_equal((uintptr_t)n % 8, 0);
    *n = 42;
    assert_int_equal(tg_arena_used(&a), 0); /* still in the inline block */
    tg_arena_free(&a);
}

static void test_growth_keeps_earlier_data(void **state)
{
    struct tg_arena a;
    tg_arena_init(&a, NULL, 0);
    char *ptrs[1000];
    for (int i = 0; i < 1000; i++) {
        ptrs[i] = tg_arena_alloc(&a, 100);
        memset(ptrs[i], i & 0xff, 100);
    }
    for (int i = 0; i < 1000; i++)
        for (int k = 0; k < 100; k++)
            assert_int_equal((unsigned char)ptrs[i][k], i & 0xff);
    assert_true(tg_arena_used(&a) >= 100000);
    tg_arena_free(&a);
}

static void test_large_allocation_gets_own_chunk(void **state)
{
    char block[256];
    struct tg_arena a;
    tg_arena_init(&a, block, sizeof(block));
    char *small1 = tg_arena_alloc(&a, 16);
    char *big = tg_arena_alloc(&a, 1 << 20);
    memset(big, 'x', 1 << 20);
    char *small2 = tg_arena_alloc(&a, 16);
    /* the inline block is still used after the big one */
    assert_true(small2 > small1 && small2 < block + sizeof(block));
    tg_arena_free(&a);
}

static void test_strndup(void **state)
{
    struct tg_arena a;
    tg_arena_init(&a, NULL, 0);
    struct tg_str s = tg_arena_strndup(&a, "hello\0world", 11);
    assert_int_equal(s.len, 11);
    assert_memory_equal(s.p, "hello\0world", 11);
    assert_int_equal(s.p[11], '\0');
    struct tg_str e = tg_arena_strndup(&a, "", 0);
    assert_non_null(e.p);
    assert_int_equal(e.len, 0);
    tg_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_inline_block),
        cmocka_unit_test(test_growth_keeps_earlier_data),
        cmocka_unit_test(test_large_allocation_gets_own_chunk),
        cmocka_unit_test(test_strndup),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
