/*
 * health.c - /healthz and /readyz.  See health.h.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/health.h"
#include "core/mem.h"

struct tg_health_sink {
    uint64_t failed, delivered; /* at the last sample */
    int64_t failing_since;      /* monotonic seconds; 0: not failing */
};

struct tg_health {
    struct tg_health_conf conf;
    pthread_mutex_t mu;
    bool listening, ready;
    size_t nsinks;
    struct tg_health_sink *sinks;
};

static int64_t tg_health_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0: 0 means "not failing" */
}

struct tg_health *tg_health_new(const struct tg_health_conf *conf)
{
    struct tg_health *h = tg_xcalloc(1, sizeof(*h));
    h->conf = *conf;
    pthread_mutex_init(&h->mu, NULL);
    h->nsinks = tg_pipeline_sink_count(conf->pipe);
    h->sinks = tg_xcalloc(h->nsinks + 1, sizeof(*h->sinks));
    for (size_t i = 0; i < h->nsinks; i++) { /* what came before is not news */
        struct tg_sink *s = tg_pipeline_sink(conf->pipe, i);
        h->sinks[i].failed = atomic_load(&s->failed);
        h->sinks[i].delivered = atomic_load(&s->delivered);
    }
    return h;
}

void tg_health_free(struct tg_health *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->mu);
    free(h->sinks);
    free(h);
}

void tg_health_set_listening(struct tg_health *h)
{
    pthread_mutex_lock(&h->mu);
    h->listening = true;
    pthread_mutex_unlock(&h->mu);
}

void tg_health_set_ready(struct tg_health *h)
{
    pthread_mutex_lock(&h->mu);
    h->ready = true;
    pthread_mutex_unlock(&h->mu);
}

/* Caller holds mu. */
static void tg_health_sample_locked(struct tg_health *h, int64_t now)
{
    for (size_t i = 0; i < h->nsinks; i++) {
        struct tg_sink *s = tg_pipeline_sink(h->conf.pipe, i);
        struct tg_health_sink *hs = &h->sinks[i];
        uint64_t f = atomic_load(&s->failed), d = atomic_load(&s->delivered);
        if (d != hs->delivered)
            hs->failing_since = 0;
        else if (f != hs->failed && !hs->failing_since)
            hs->failing_since = now;
        hs->failed = f;
        hs->delivered = d;
    }
}

void tg_health_sample(struct tg_health *h)
{
    pthread_mutex_lock(&h->mu);
    tg_health_sample_locked(h, tg_health_now());
    pthread_mutex_unlock(&h->mu);
}

bool tg_health_live(struct tg_health *h, struct tg_buf *body)
{
    size_t start = body->len;
    int64_t now = tg_health_now();
    pthread_mutex_lock(&h->mu);
    tg_health_sample_locked(h, now);
    if (!h->listening)
        tg_buf_puts(body, "inputs: not started (the listeners are not bound yet)\n");
    for (size_t i = 0; i < h->nsinks; i++) {
        const struct tg_health_sink *hs = &h->sinks[i];
        if (hs->failing_since && now - hs->failing_since >= h->conf.sink_failing_s)
            tg_buf_printf(body,
                          "sink %s: failing for %" PRId64 " s without delivering "
                          "(sink_failing_seconds = %" PRId64 ")\n",
                          tg_pipeline_sink(h->conf.pipe, i)->ops->name, now - hs->failing_since,
                          h->conf.sink_failing_s);
    }
    pthread_mutex_unlock(&h->mu);
    if (h->conf.spool) {
        struct tg_spool_stats st;
        tg_spool_stats(h->conf.spool, &st);
        if (st.full || st.bytes >= (uint64_t)h->conf.spool_max_bytes)
            tg_buf_printf(body,
                          "spool: full (%" PRIu64 " of spool_max_bytes = %" PRId64
                          " bytes): the inputs are blocked until the sinks deliver\n",
                          st.bytes, h->conf.spool_max_bytes);
    }
    bool ok = body->len == start;
    if (ok)
        tg_buf_puts(body, "ok\n");
    return ok;
}

bool tg_health_ready(struct tg_health *h, struct tg_buf *body)
{
    pthread_mutex_lock(&h->mu);
    bool ready = h->ready;
    pthread_mutex_unlock(&h->mu);
    tg_buf_puts(body, ready ? "ready\n" : "starting: replaying the spool, starting the inputs\n");
    return ready;
}
