/*
 * in_internal.c - the internal source.  See in_internal.h.
 *
 * The queue is a core/queue.h queue of copies (struct tg_irec), pushed
 * without waiting (tg_queue_try_push) and popped by the source's thread with
 * a short timeout so that stop() ends it promptly.  tg_internal_emit finds
 * the running source through one process-wide pointer, set by start and
 * cleared by finish under a mutex, so an emit never races a finish.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/queue.h"
#include "ingest/in_internal.h"
#include "ingest/intake.h"

#define TG_INTERNAL_QUEUE 1024

struct tg_irec {
    size_t sink; /* the sink that announced it, or SIZE_MAX */
    size_t len;
    char data[];
};

struct tg_internal {
    struct tg_intake_src *src;
    struct tg_queue *q;
    pthread_t thread;
    atomic_bool stop;
    atomic_bool full; /* in a dropping episode: logged once */
};

static pthread_mutex_t tg_internal_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tg_internal *tg_internal_running; /* for tg_internal_emit */

static void tg_internal_dropped(struct tg_internal *t, const char *why)
{
    tg_metrics_inc(TG_C_INTERNAL_DROPPED, 1);
    if (!atomic_exchange(&t->full, true))
        tg_warn("internal: %s; dropping trailguard's own records (checkpoints, ...) until it "
                "has room (counted in trailguard_internal_records_dropped_total)",
                why);
}

/* Queue a copy; never blocks. */
static int tg_internal_queue(struct tg_internal *t, size_t sink, const char *rec, size_t len)
{
    struct tg_irec *r = tg_xmalloc(sizeof(*r) + len);
    r->sink = sink;
    r->len = len;
    memcpy(r->data, rec, len);
    int rc = tg_queue_try_push(t->q, r);
    if (rc == 0)
        return 0;
    free(r);
    tg_internal_dropped(t, "the queue is full (the spool or the pipeline is slow)");
    return TG_EFULL;
}

void tg_internal_announce(void *ctx, size_t from_sink, const char *rec, size_t len)
{
    struct tg_input *in = ctx;
    tg_internal_queue(in->ctx, from_sink, rec, len);
}

int tg_internal_emit(const char *rec, size_t len)
{
    pthread_mutex_lock(&tg_internal_mu);
    int rc = tg_internal_running ? tg_internal_queue(tg_internal_running, SIZE_MAX, rec, len)
                                 : TG_ECLOSED;
    pthread_mutex_unlock(&tg_internal_mu);
    if (rc == TG_ECLOSED)
        tg_metrics_inc(TG_C_INTERNAL_DROPPED, 1);
    return rc;
}

static void *tg_internal_main(void *arg)
{
    struct tg_internal *t = arg;
    void *item;
    while (!atomic_load(&t->stop)) {
        if (tg_queue_pop_timed(t->q, &item, 100) != 0)
            continue;
        struct tg_irec *r = item;
        atomic_store(&t->full, false);
        if (tg_intake_announced(t->src, r->data, r->len, r->sink, 0) != 0)
            tg_internal_dropped(t, "the spool refuses records while stopping");
        free(r);
        if (tg_queue_len(t->q) == 0)
            tg_intake_src_flush(t->src);
    }
    return NULL;
}

static int tg_internal_start(struct tg_input *in, const void *conf)
{
    struct tg_internal *t = tg_xcalloc(1, sizeof(*t));
    struct tg_intake_src_conf ic = {
        .ops = &tg_in_internal, .label = "internal", .format = TG_FMT_AUTO};
    t->src = tg_intake_src_new(in->intake, &ic);
    t->q = tg_queue_new(TG_INTERNAL_QUEUE);
    pthread_create(&t->thread, NULL, tg_internal_main, t);
    pthread_setname_np(t->thread, "tg-in-internal");
    in->ctx = t;
    pthread_mutex_lock(&tg_internal_mu);
    tg_internal_running = t;
    pthread_mutex_unlock(&tg_internal_mu);
    return 0;
}

static void tg_internal_stop(struct tg_input *in)
{
    struct tg_internal *t = in->ctx;
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    tg_intake_src_flush(t->src);
}

static void tg_internal_finish(struct tg_input *in)
{
    struct tg_internal *t = in->ctx;
    pthread_mutex_lock(&tg_internal_mu);
    tg_internal_running = NULL;
    pthread_mutex_unlock(&tg_internal_mu);
    void *item;
    uint64_t kept = 0, lost = 0;
    while (tg_queue_pop_timed(t->q, &item, 0) == 0) {
        struct tg_irec *r = item;
        if (tg_intake_announced(t->src, r->data, r->len, r->sink, TG_INTAKE_LATER) == 0)
            kept++;
        else
            lost++;
        free(r);
    }
    if (kept)
        tg_info("internal: %llu records announced while stopping are in the spool for the next "
                "start",
                (unsigned long long)kept);
    if (lost) {
        tg_metrics_inc(TG_C_INTERNAL_DROPPED, lost);
        tg_info("internal: %llu records announced while stopping were not delivered (no spool "
                "keeps them)",
                (unsigned long long)lost);
    }
    tg_queue_close(t->q);
    tg_queue_free(t->q);
    tg_intake_src_free(t->src);
    free(t);
    in->ctx = NULL;
}

const struct tg_source_ops tg_in_internal = {
    .name = "internal",
    .code = TG_SPOOL_IN_INTERNAL,
    .start = tg_internal_start,
    .stop = tg_internal_stop,
    .finish = tg_internal_finish,
};
