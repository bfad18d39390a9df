/*
 * pipeline.c - the threads and queues of the collector.  See pipeline.h.
 *
 * Batches carry a sequence number given under the submit lock, so the
 * dispatcher can restore submission order with a small ring indexed by
 * seq % ring size.  A fast worker can run ahead of a slow one, so the number
 * of batches between submit and dispatch is bounded explicitly: submit waits
 * for a credit (TG_INFLIGHT), the dispatcher returns it, and the ring has a
 * slot for every credit.
 * Each sink has its own queue; a slow sink fills its queue and then stalls
 * the dispatcher, the workers and finally the sources: backpressure, never
 * loss.
 *
 * Memory.  Events made with tg_source_begin live in their batch's pool (one
 * block of TG_BATCH_BLOCK, more chunks when a batch needs them): making
 * one, its parser strings and its JSON allocate nothing, and freeing a
 * batch is one reset, not a free per event on another thread (glibc's
 * arenas paid for that in locks, trims and page faults: ~1 us an event).
 * Up to TG_BATCH_SPARE freed batches are kept with their blocks for reuse.
 * What the batches in the pipeline hold (from a source to the last sink) is
 * counted, and a source submitting a batch waits while conf.max_bytes is
 * held: the queues are bounded in bytes, not only in batches, whatever the
 * size of the records.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pipeline.h"
#include "core/queue.h"

#define TG_MAX_SINKS   8
#define TG_MAX_WORKERS 64
#define TG_WORK_QUEUE  16
#define TG_DONE_QUEUE  16
#define TG_SINK_QUEUE  8
#define TG_INFLIGHT    (TG_WORK_QUEUE + TG_DONE_QUEUE)
#define TG_BATCH_BLOCK (512u << 10)
#define TG_BATCH_SPARE 8
#define TG_MAX_BYTES   ((size_t)32 << 20)

struct tg_source {
    struct tg_pipeline *pipe;
    pthread_mutex_t mu;
    struct tg_batch *cur;
    struct tg_source *next;
};

struct tg_pipeline {
    struct tg_pipeline_conf conf;
    struct tg_queue *work, *done;
    pthread_t workers[TG_MAX_WORKERS];
    int nworkers;
    pthread_t dispatcher;
    struct {
        struct tg_sink sink;
        const void *conf;
        struct tg_queue *q;
        pthread_t thread;
    } sinks[TG_MAX_SINKS];
    size_t nsinks;
    pthread_mutex_t submit_mu;
    uint64_t next_seq;
    pthread_mutex_t credit_mu; /* guards the credits, the bytes and the spares */
    pthread_cond_t credit_cv;
    size_t inflight; /* batches submitted and not yet dispatched */
    size_t bytes;    /* held by batches submitted and not yet freed */
    uint64_t full_waits;
    struct tg_batch *spare[TG_BATCH_SPARE];
    size_t nspare;
    struct tg_source *sources;
    atomic_bool stopping;
    bool started;
    atomic_uint_fast64_t events_in, duplicates, batches, abandoned;
    tg_announce_fn announce;
    void *announce_ctx;
};

static struct tg_batch *tg_batch_new(struct tg_pipeline *p)
{
    size_t cap = p->conf.batch_max;
    struct tg_batch *b = NULL;
    pthread_mutex_lock(&p->credit_mu);
    if (p->nspare)
        b = p->spare[--p->nspare];
    pthread_mutex_unlock(&p->credit_mu);
    if (!b) {
        b = tg_xmalloc(sizeof(*b) + cap * sizeof(struct tg_event *));
        b->block = tg_xmalloc(TG_BATCH_BLOCK);
        b->pool.scratch = TG_BUF_INIT;
    }
    tg_arena_init(&b->pool.arena, b->block, TG_BATCH_BLOCK);
    b->pool.arena.next_size = TG_BATCH_BLOCK; /* a batch that needs more needs much more */
    b->seq = 0;
    b->n = 0;
    b->cap = cap;
    b->pipe = p;
    b->bytes = 0;
    atomic_init(&b->pending_sinks, 0);
    atomic_init(&b->abandoned, false);
    return b;
}

/* The memory batch b holds: what its pool used (of the first block while it
 * has no more), and the events made on the heap; with `json_to_come`, the
 * JSON the workers will add (as much as tg_event_serialize reserves). */
static size_t tg_batch_bytes(const struct tg_batch *b, bool json_to_come)
{
    const struct tg_arena *a = &b->pool.arena;
    size_t n = a->chunks ? TG_BATCH_BLOCK + tg_arena_used(a) : (size_t)(a->cur - (char *)b->block);
    n += b->pool.scratch.cap;
    for (size_t i = 0; i < b->n; i++) {
        const struct tg_event *ev = b->ev[i];
        if (!ev->pool)
            n += sizeof(struct tg_event) + ev->original.len + ev->json.cap;
        if (json_to_come)
            n += 512 + 2 * ev->original.len;
    }
    return n;
}

static void tg_batch_destroy(struct tg_batch *b)
{
    tg_buf_free(&b->pool.scratch);
    free(b->block);
    free(b);
}

/* Free b's events, give its bytes back and keep it for reuse (or free it). */
static void tg_batch_free(struct tg_batch *b)
{
    struct tg_pipeline *p = b->pipe;
    for (size_t i = 0; i < b->n; i++)
        tg_event_free(b->ev[i]);
    tg_arena_free(&b->pool.arena); /* the chunks beyond the first block */
    pthread_mutex_lock(&p->credit_mu);
    p->bytes -= b->bytes;
    bool keep = p->nspare < TG_BATCH_SPARE;
    if (keep)
        p->spare[p->nspare++] = b;
    pthread_cond_broadcast(&p->credit_cv);
    pthread_mutex_unlock(&p->credit_mu);
    if (!keep)
        tg_batch_destroy(b);
}

/* One sink (or, with none, the dispatcher) is done with b; the last frees it. */
static void tg_batch_release(struct tg_batch *b)
{
    if (atomic_fetch_sub(&b->pending_sinks, 1) != 1)
        return;
    if (atomic_load(&b->abandoned))
        atomic_fetch_add(&b->pipe->abandoned, b->n);
    tg_batch_free(b);
}

void tg_batch_done(struct tg_sink *s, struct tg_batch *b)
{
    struct tg_pipeline *p = b->pipe;
    if (p->conf.on_confirm) {
        /* one call per batch (the spool takes its lock once), in steps of
         * at most 256 records */
        uint64_t seqs[256];
        size_t n = 0;
        for (size_t i = 0; i < b->n; i++) {
            if (b->ev[i]->spool_seq)
                seqs[n++] = b->ev[i]->spool_seq;
            if (n == 256 || (n && i + 1 == b->n)) {
                p->conf.on_confirm(p->conf.confirm_ctx, seqs, n, s ? s->index : 0);
                n = 0;
            }
        }
    }
    tg_batch_release(b);
}

void tg_batch_abandon(struct tg_sink *s, struct tg_batch *b)
{
    atomic_store(&b->abandoned, true);
    tg_batch_release(b);
}

void tg_pipeline_set_announce(struct tg_pipeline *p, tg_announce_fn fn, void *ctx)
{
    p->announce = fn;
    p->announce_ctx = ctx;
}

void tg_sink_announce(struct tg_sink *s, const char *rec, size_t len)
{
    struct tg_pipeline *p = s->pipe;
    if (p && p->announce)
        p->announce(p->announce_ctx, s->index, rec, len);
}

bool tg_sink_stopping(const struct tg_sink *s)
{
    return !s->pipe || atomic_load(&s->pipe->stopping); /* a sink on its own: never retry */
}

struct tg_pipeline *tg_pipeline_new(const struct tg_pipeline_conf *conf)
{
    struct tg_pipeline *p = tg_xcalloc(1, sizeof(*p));
    p->conf = *conf;
    if (p->conf.batch_max == 0)
        p->conf.batch_max = 256;
    if (p->conf.max_bytes == 0)
        p->conf.max_bytes = TG_MAX_BYTES;
    int n = conf->workers;
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    p->nworkers = n > TG_MAX_WORKERS ? TG_MAX_WORKERS : n;
    p->work = tg_queue_new(TG_WORK_QUEUE);
    p->done = tg_queue_new(TG_DONE_QUEUE);
    pthread_mutex_init(&p->submit_mu, NULL);
    pthread_mutex_init(&p->credit_mu, NULL);
    pthread_cond_init(&p->credit_cv, NULL);
    return p;
}

void tg_pipeline_set_confirm(struct tg_pipeline *p,
                             void (*on_confirm)(void *, const uint64_t *, size_t, size_t),
                             void *ctx)
{
    p->conf.on_confirm = on_confirm;
    p->conf.confirm_ctx = ctx;
}

int tg_pipeline_add_sink(struct tg_pipeline *p, const struct tg_sink_ops *ops, const void *conf)
{
    if (p->started || p->nsinks == TG_MAX_SINKS)
        return TG_EINVAL;
    size_t i = p->nsinks++;
    p->sinks[i].sink.ops = ops;
    p->sinks[i].sink.pipe = p;
    p->sinks[i].sink.index = i;
    p->sinks[i].conf = conf;
    p->sinks[i].q = tg_queue_new(TG_SINK_QUEUE);
    return 0;
}

static void *tg_worker_main(void *arg)
{
    struct tg_pipeline *p = arg;
    void *item;
    while (tg_queue_pop(p->work, &item) == 0) {
        struct tg_batch *b = item;
        for (size_t i = 0; i < b->n; i++)
            p->conf.process(p->conf.process_ctx, b->ev[i]);
        tg_queue_push(p->done, b); /* done is closed only after workers exit */
    }
    return NULL;
}

static void tg_dispatch(struct tg_pipeline *p, struct tg_batch *b)
{
    if (p->conf.is_duplicate) {
        for (size_t i = 0; i < b->n; i++) {
            if (p->conf.is_duplicate(p->conf.dedup_ctx, b->ev[i])) {
                b->ev[i]->duplicate = true;
                atomic_fetch_add(&p->duplicates, 1);
            }
        }
    }
    atomic_store(&b->pending_sinks, (int)p->nsinks);
    if (p->nsinks == 0) {
        atomic_store(&b->pending_sinks, 1);
        tg_batch_done(NULL, b);
        return;
    }
    for (size_t s = 0; s < p->nsinks; s++)
        tg_queue_push(p->sinks[s].q, b);
}

static void *tg_dispatcher_main(void *arg)
{
    struct tg_pipeline *p = arg;
    size_t ring_n = TG_INFLIGHT;
    struct tg_batch **ring = tg_xcalloc(ring_n, sizeof(*ring));
    uint64_t next = 1;
    void *item;
    while (tg_queue_pop(p->done, &item) == 0) {
        struct tg_batch *b = item;
        ring[b->seq % ring_n] = b;
        while (ring[next % ring_n] && ring[next % ring_n]->seq == next) {
            struct tg_batch *r = ring[next % ring_n];
            ring[next % ring_n] = NULL;
            /* the workers added the JSON: count what it took (it was
             * estimated at submit) before the sinks hold it */
            size_t was = r->bytes, now = tg_batch_bytes(r, false);
            pthread_mutex_lock(&p->credit_mu);
            r->bytes = now;
            p->bytes += now - was;
            p->inflight--;
            pthread_cond_broadcast(&p->credit_cv);
            pthread_mutex_unlock(&p->credit_mu);
            tg_dispatch(p, r);
            next++;
        }
    }
    free(ring);
    for (size_t s = 0; s < p->nsinks; s++)
        tg_queue_close(p->sinks[s].q);
    return NULL;
}

static void *tg_sink_main(void *arg)
{
    struct tg_sink *s = arg;
    struct tg_pipeline *p = s->pipe;
    size_t idx = 0;
    while (&p->sinks[idx].sink != s)
        idx++;
    void *item;
    for (;;) {
        int rc = tg_queue_pop_timed(p->sinks[idx].q, &item, 100);
        if (rc == TG_ECLOSED)
            break;
        if (rc == 0) {
            struct tg_batch *b = item;
            if (s->ops->write(s, b) != 0)
                tg_warn("sink %s: write failed; the events stay unconfirmed in the spool",
                        s->ops->name);
        } else if (s->ops->tick) {
            s->ops->tick(s);
        }
    }
    if (s->ops->tick)
        s->ops->tick(s);
    s->ops->close(s);
    return NULL;
}

int tg_pipeline_start(struct tg_pipeline *p)
{
    for (size_t s = 0; s < p->nsinks; s++) {
        int rc = p->sinks[s].sink.ops->open(&p->sinks[s].sink, p->sinks[s].conf);
        if (rc) {
            tg_err("sink %s: cannot open: %s", p->sinks[s].sink.ops->name, tg_strerror(rc));
            for (size_t k = 0; k < s; k++)
                p->sinks[k].sink.ops->close(&p->sinks[k].sink);
            return rc;
        }
    }
    p->started = true;
    for (size_t s = 0; s < p->nsinks; s++) {
        pthread_create(&p->sinks[s].thread, NULL, tg_sink_main, &p->sinks[s].sink);
        char name[16];
        snprintf(name, sizeof(name), "tg-%.12s", p->sinks[s].sink.ops->name);
        pthread_setname_np(p->sinks[s].thread, name);
    }
    pthread_create(&p->dispatcher, NULL, tg_dispatcher_main, p);
    pthread_setname_np(p->dispatcher, "tg-dispatch");
    for (int i = 0; i < p->nworkers; i++) {
        pthread_create(&p->workers[i], NULL, tg_worker_main, p);
        pthread_setname_np(p->workers[i], "tg-worker");
    }
    return 0;
}

struct tg_source *tg_pipeline_source(struct tg_pipeline *p)
{
    struct tg_source *s = tg_xcalloc(1, sizeof(*s));
    s->pipe = p;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_lock(&p->submit_mu);
    s->next = p->sources;
    p->sources = s;
    pthread_mutex_unlock(&p->submit_mu);
    return s;
}

/* Number and queue a batch.  Caller holds s->mu. */
static void tg_source_submit(struct tg_source *s)
{
    struct tg_pipeline *p = s->pipe;
    struct tg_batch *b = s->cur;
    s->cur = NULL;
    if (!b)
        return;
    size_t bytes = tg_batch_bytes(b, true);
    pthread_mutex_lock(&p->submit_mu);
    pthread_mutex_lock(&p->credit_mu);
    /* a batch always goes when nothing else is held, however large */
    if (p->bytes > 0 && p->bytes + bytes > p->conf.max_bytes)
        p->full_waits++;
    while (p->inflight >= TG_INFLIGHT || (p->bytes > 0 && p->bytes + bytes > p->conf.max_bytes))
        pthread_cond_wait(&p->credit_cv, &p->credit_mu);
    p->inflight++;
    b->bytes = bytes;
    p->bytes += bytes;
    pthread_mutex_unlock(&p->credit_mu);
    b->seq = ++p->next_seq;
    atomic_fetch_add(&p->batches, 1);
    atomic_fetch_add(&p->events_in, b->n);
    /* The work queue is closed only in drain, after every source was flushed
     * under this lock, so the push cannot fail. */
    tg_queue_push(p->work, b);
    pthread_mutex_unlock(&p->submit_mu);
}

void tg_source_add(struct tg_source *s, struct tg_event *ev)
{
    pthread_mutex_lock(&s->mu);
    if (!s->cur)
        s->cur = tg_batch_new(s->pipe);
    s->cur->ev[s->cur->n++] = ev;
    if (s->cur->n == s->cur->cap)
        tg_source_submit(s);
    pthread_mutex_unlock(&s->mu);
}

struct tg_event *tg_source_begin(struct tg_source *s, const char *raw, size_t len,
                                 const struct tg_input_meta *in, struct tg_time received)
{
    pthread_mutex_lock(&s->mu);
    if (!s->cur)
        s->cur = tg_batch_new(s->pipe);
    struct tg_event *ev = tg_event_new_in(&s->cur->pool, raw, len, in, received);
    s->cur->ev[s->cur->n++] = ev;
    return ev;
}

void tg_source_commit(struct tg_source *s)
{
    if (s->cur->n == s->cur->cap)
        tg_source_submit(s);
    pthread_mutex_unlock(&s->mu);
}

void tg_source_flush(struct tg_source *s)
{
    pthread_mutex_lock(&s->mu);
    tg_source_submit(s);
    pthread_mutex_unlock(&s->mu);
}

void tg_pipeline_drain(struct tg_pipeline *p)
{
    if (!p->started)
        return;
    /* From here on a failing sink gives up instead of retrying: one blocked
     * on a full disk would otherwise hold the workers and this drain. */
    atomic_store(&p->stopping, true);
    for (struct tg_source *s = p->sources; s; s = s->next)
        tg_source_flush(s);
    tg_queue_close(p->work);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    tg_queue_close(p->done);
    pthread_join(p->dispatcher, NULL);
    for (size_t s = 0; s < p->nsinks; s++)
        pthread_join(p->sinks[s].thread, NULL);
    p->started = false;
}

void tg_pipeline_free(struct tg_pipeline *p)
{
    if (!p)
        return;
    struct tg_source *s = p->sources;
    while (s) {
        struct tg_source *n = s->next;
        if (s->cur)
            tg_batch_free(s->cur);
        pthread_mutex_destroy(&s->mu);
        free(s);
        s = n;
    }
    for (size_t i = 0; i < p->nspare; i++)
        tg_batch_destroy(p->spare[i]);
    for (size_t i = 0; i < p->nsinks; i++)
        tg_queue_free(p->sinks[i].q);
    tg_queue_free(p->work);
    tg_queue_free(p->done);
    pthread_mutex_destroy(&p->submit_mu);
    pthread_mutex_destroy(&p->credit_mu);
    pthread_cond_destroy(&p->credit_cv);
    free(p);
}

void tg_pipeline_stats(struct tg_pipeline *p, struct tg_pipeline_stats *st)
{
    st->events_in = atomic_load(&p->events_in);
    st->duplicates = atomic_load(&p->duplicates);
    st->batches = atomic_load(&p->batches);
    st->abandoned = atomic_load(&p->abandoned);
    st->work_queue = tg_queue_len(p->work);
    st->done_queue = tg_queue_len(p->done);
    pthread_mutex_lock(&p->credit_mu);
    st->bytes = p->bytes;
    st->full_waits = p->full_waits;
    pthread_mutex_unlock(&p->credit_mu);
}

size_t tg_pipeline_sink_count(const struct tg_pipeline *p)
{
    return p->nsinks;
}

struct tg_sink *tg_pipeline_sink(struct tg_pipeline *p, size_t i)
{
    return &p->sinks[i].sink;
}

size_t tg_pipeline_sink_queue_len(struct tg_pipeline *p, size_t i)
{
    return tg_queue_len(p->sinks[i].q);
}
