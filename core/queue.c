/*
 * queue.c - bounded blocking queue: a ring buffer under one mutex with
 * "not full" and "not empty" condition variables.  At our batch sizes (one
 * item is a batch of events) a lock per item costs far less than the work
 * per item, so a lock-free ring would buy nothing measurable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/errors.h"
#include "core/mem.h"
#include "core/queue.h"

struct tg_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    size_t cap, head, len;
    bool closed;
    void **items;
};

struct tg_queue *tg_queue_new(size_t capacity)
{
    struct tg_queue *q = tg_xcalloc(1, sizeof(*q));
    q->cap = capacity ? capacity : 1;
    q->items = tg_xcalloc(q->cap, sizeof(void *));
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_full, &ca);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void tg_queue_free(struct tg_queue *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    free(q->items);
    free(q);
}

static void tg_queue_put_locked(struct tg_queue *q, void *item)
{
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    pthread_cond_signal(&q->not_empty);
}

int tg_queue_push(struct tg_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    int rc = TG_ECLOSED;
    if (!q->closed) {
        tg_queue_put_locked(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int tg_queue_try_push(struct tg_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    int rc = q->closed ? TG_ECLOSED : q->len == q->cap ? TG_EAGAIN : 0;
    if (rc == 0)
        tg_queue_put_locked(q, item);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int tg_queue_take_locked(struct tg_queue *q, void **item)
{
    *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    pthread_cond_signal(&q->not_full);
    return 0;
}

int tg_queue_pop(struct tg_queue *q, void **item)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    int rc = q->len ? tg_queue_take_locked(q, item) : TG_ECLOSED;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int tg_queue_pop_timed(struct tg_queue *q, void **item, long timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    int timed_out = 0;
    while (q->len == 0 && !q->closed && !timed_out)
        timed_out = pthread_cond_timedwait(&q->not_empty, &q->mu, &dl) == ETIMEDOUT;
    int rc = q->len ? tg_queue_take_locked(q, item) : q->closed ? TG_ECLOSED : TG_EAGAIN;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void tg_queue_close(struct tg_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

size_t tg_queue_len(struct tg_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->len;
    pthread_mutex_unlock(&q->mu);
    return n;
}
