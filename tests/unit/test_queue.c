/*
 * test_queue.c - the bounded queue: FIFO order, full/empty behaviour,
 * shutdown while full (blocked producers wake and fail, queued items still
 * drain), timed pops, and a multi-producer/multi-consumer run that must
 * deliver every item exactly once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/errors.h"
#include "core/queue.h"

static void test_fifo_and_capacity(void **state)
{
    struct tg_queue *q = tg_queue_new(3);
    void *it;
    for (intptr_t i = 1; i <= 3; i++)
        assert_int_equal(tg_queue_try_push(q, (void *)i), 0);
    assert_int_equal(tg_queue_try_push(q, (void *)4), TG_EAGAIN);
    assert_int_equal(tg_queue_len(q), 3);
    for (intptr_t i = 1; i <= 3; i++) {
        assert_int_equal(tg_queue_pop(q, &it), 0);
        assert_int_equal((intptr_t)it, i);
    }
    assert_int_equal(tg_queue_pop_timed(q, &it, 0), TG_EAGAIN);
    assert_int_equal(tg_queue_pop_timed(q, &it, 20), TG_EAGAIN);
    tg_queue_free(q);
}

struct pusher {
    struct tg_queue *q;
    int rc;
};

static void *push_one(void *arg)
{
    struct pusher *p = arg;
    p->rc = tg_queue_push(p->q, (void *)99);
    return NULL;
}

static void test_close_while_full(void **state)
{
    struct tg_queue *q = tg_queue_new(2);
    assert_int_equal(tg_queue_push(q, (void *)1), 0);
    assert_int_equal(tg_queue_push(q, (void *)2), 0);
    struct pusher p = {q, 12345};
    pthread_t t;
    pthread_create(&t, NULL, push_one, &p);
    /* the pusher blocks on the full queue until close */
    tg_queue_close(q);
    pthread_join(t, NULL);
    /* either it got in before close (impossible: full) or it failed closed */
    assert_int_equal(p.rc, TG_ECLOSED);
    void *it;
    assert_int_equal(tg_queue_pop(q, &it), 0);
    assert_int_equal((intptr_t)it, 1);
    assert_int_equal(tg_queue_pop(q, &it), 0);
    assert_int_equal((intptr_t)it, 2);
    assert_int_equal(tg_queue_pop(q, &it), TG_ECLOSED);
    assert_int_equal(tg_queue_push(q, (void *)3), TG_ECLOSED);
    assert_int_equal(tg_queue_try_push(q, (void *)3), TG_ECLOSED);
    tg_queue_free(q);
}

static void *pop_until_closed(void *arg)
{
    struct tg_queue *q = arg;
    void *it;
    intptr_t sum = 0;
    while (tg_queue_pop(q, &it) == 0)
        sum += (intptr_t)it;
    return (void *)sum;
}

static void test_close_wakes_blocked_consumer(void **state)
{
    struct tg_queue *q = tg_queue_new(4);
    pthread_t t;
    pthread_create(&t, NULL, pop_until_closed, q);
    tg_queue_close(q);
    void *sum;
    pthread_join(t, &sum);
    assert_int_equal((intptr_t)sum, 0);
    tg_queue_free(q);
}

#define PRODUCERS    4
#define PER_PRODUCER 20000

static void *produce(void *arg)
{
    struct tg_queue *q = arg;
    for (intptr_t i = 1; i <= PER_PRODUCER; i++)
        assert_int_equal(tg_queue_push(q, (void *)i), 0);
    return NULL;
}

static void test_mpmc_delivers_everything(void **state)
{
    struct tg_queue *q = tg_queue_new(8);
    pthread_t prod[PRODUCERS], cons[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&cons[i], NULL, pop_until_closed, q);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&prod[i], NULL, produce, q);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(prod[i], NULL);
    tg_queue_close(q);
    intptr_t total = 0;
    for (int i = 0; i < 3; i++) {
        void *s;
        pthread_join(cons[i], &s);
        total += (intptr_t)s;
    }
    assert_int_equal(total, (intptr_t)PRODUCERS * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
    tg_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_capacity),
        cmocka_unit_test(test_close_while_full),
        cmocka_unit_test(test_close_wakes_blocked_consumer),
        cmocka_unit_test(test_mpmc_delivers_everything),
    };
    return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
