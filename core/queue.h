/*
 * queue.h - bounded blocking MPMC queue of pointers.
 *
 * The queues between pipeline stages.  push blocks while the queue is full:
 * that block is the backpressure a RELP client feels.  close() is the
 * shutdown signal: pushes after it fail with TG_ECLOSED (also a push that was
 * blocked), while pops keep draining what is queued and return TG_ECLOSED
 * only when the queue is closed *and* empty, so nothing queued is lost.
 * Any thread may call any function; the queue owns no items.
 */
#ifndef TG_QUEUE_H
#define TG_QUEUE_H

#include <stddef.h>

struct tg_queue;

struct tg_queue *tg_queue_new(size_t capacity);
/* Free the queue; items still queued are not touched (caller drains first). */
void tg_queue_free(struct tg_queue *q);
/* 0, or TG_ECLOSED. Blocks while full. */
int tg_queue_push(struct tg_queue *q, void *item);
/* 0, TG_EAGAIN when full, TG_ECLOSED. */
int tg_queue_try_push(struct tg_queue *q, void *item);
/* 0 with *item set, or TG_ECLOSED when closed and drained. Blocks while empty. */
int tg_queue_pop(struct tg_queue *q, void **item);
/* As pop, but gives up after timeout_ms with TG_EAGAIN (timeout_ms 0: no wait). */
int tg_queue_pop_timed(struct tg_queue *q, void **item, long timeout_ms);
void tg_queue_close(struct tg_queue *q);
size_t tg_queue_len(struct tg_queue *q);

#endif
