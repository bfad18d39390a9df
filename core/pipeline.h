/*
 * pipeline.h - sources -> worker pool -> dispatcher -> sinks.
 *
 *   source threads   tg_source_add() groups events into batches; a full
 *                    batch (or tg_source_flush) is numbered and pushed to the
 *                    work queue, blocking while it is full (backpressure)
 *   worker pool      conf.process(ev) on every event: parse, policy, serialize
 *   dispatcher       puts batches back in submission order, drops duplicates
 *                    (conf.is_duplicate), hands each batch to every sink
 *   sink threads     ops->write(batch); when a batch is durably delivered the
 *                    sink calls tg_batch_done(), and the pipeline calls
 *                    conf.on_confirm with the batch's spooled events and that sink's
 *                    index (the spool keeps a confirmation per sink, so a
 *                    replay skips the sinks that already have a record);
 *                    when every sink is done the batch is freed.
 * Order is kept end to end (so also per origin host within a sink).
 * Shutdown: tg_pipeline_drain() closes the sources, lets every queued event
 * run through, asks the sinks to deliver what they hold, then joins all
 * threads.  Nothing queued is dropped.
 */
#ifndef TG_PIPELINE_H
#define TG_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct tg_pipeline;

struct tg_batch {
    uint64_t seq; /* submission order */
    size_t n, cap;
    atomic_int pending_sinks; /* sinks that have not called tg_batch_done */
    atomic_bool abandoned;    /* some sink gave up on it: never confirmed */
    struct tg_pipeline *pipe;
    /* the memory of the events made in it (tg_source_begin), their JSON
     * too; its first block is kept when the batch is reused */
    struct tg_event_pool pool;
    void *block;
    size_t bytes; /* memory counted against conf.max_bytes */
    struct tg_event *ev[];
};

struct tg_sink;
struct tg_section_def;

/* A sink plugin (sinks/out_*.c).  All callbacks run on the sink's own thread. */
struct tg_sink_ops {
    const char *name;
    const struct tg_section_def *section; /* its config section, e.g. [sink.file] */
    /* Set s->ctx up from the section data (may be NULL for built-in defaults). */
    int (*open)(struct tg_sink *s, const void *conf);
    /* Take the batch: write every event for which tg_sink_wants() (ev->json),
     * and call tg_batch_done(s, b) once it is durable -- now or later from tick(). */
    int (*write)(struct tg_sink *s, struct tg_batch *b);
    /* Called about every 100 ms while idle and before close: flush, fsync,
     * poll, confirm.  May be NULL. */
    int (*tick)(struct tg_sink *s);
    /* Deliver everything outstanding (calling tg_batch_done), then free s->ctx. */
    void (*close)(struct tg_sink *s);
};

struct tg_config;

struct tg_sink {
    const struct tg_sink_ops *ops;
    void *ctx;
    struct tg_pipeline *pipe;
    /* The whole loaded config, for sinks that also read other sections
     * (the file sink reads [collector] fsync); set by tg_registry_add_sinks,
     * NULL when a sink is added directly. */
    const struct tg_config *config;
    size_t index; /* position in the pipeline: bit `index` of ev->sinks_done */
    atomic_uint_fast64_t delivered, failed, retried; /* counters for metrics */
};

/* Should sink s write ev?  Not if dedup or a [filter] rule dropped it, nor
 * if a replayed record was confirmed by this sink in an earlier run
 * (ev->sinks_done). */
static inline bool tg_sink_wants(const struct tg_sink *s, const struct tg_event *ev)
{
    return !ev->duplicate && !ev->filtered && !(ev->sinks_done >> s->index & 1u);
}

/* True once shutdown (tg_pipeline_drain) has begun, while the last batches still
 * flow: a sink retrying a failing write should give up
 * (leaving the batch unconfirmed, so the spool replays it on the next start). */
bool tg_sink_stopping(const struct tg_sink *s);

/* Sink s has durably delivered batch b: its events are confirmed for s.
 * Any thread. */
void tg_batch_done(struct tg_sink *s, struct tg_batch *b);
/* Sink s gives up on batch b at shutdown without delivering it: none of its
 * events is confirmed for s (the spool replays them to s on the next start);
 * b is freed once every sink is done with it.  Any thread. */
void tg_batch_abandon(struct tg_sink *s, struct tg_batch *b);

struct tg_pipeline_conf {
    int workers;                                     /* 0: one per core */
    size_t batch_max;                                /* events per batch; 0: 256 */
    void (*process)(void *ctx, struct tg_event *ev); /* worker threads */
    void *process_ctx;
    bool (*is_duplicate)(void *ctx, const struct tg_event *ev); /* dispatcher thread; may be NULL */
    void *dedup_ctx;
    /* sink `sink` (its index) delivered the events of spool records
     * seqs[0..n) (a batch's, at most batch_max at a time); any thread; may
     * be NULL */
    void (*on_confirm)(void *ctx, const uint64_t *seqs, size_t n, size_t sink);
    void *confirm_ctx;
    /* the memory the events in the pipeline may hold, from a source's batch
     * to the last sink done with it (their records, fields and JSON): a
     * source waits while more is held (backpressure, as for the batch
     * credits); 0: 32 MiB */
    size_t max_bytes;
};

struct tg_pipeline *tg_pipeline_new(const struct tg_pipeline_conf *conf);

/*
 * trailguard's own events.  A sink (the file sink's signed checkpoints) or
 * another part of the collector hands the JSON text of an internal record to
 * the composition layer, which spools it and feeds it through the pipeline
 * as input type "internal" to every sink but `from_sink` (SIZE_MAX: to every
 * sink).  The hook must not block: it copies the record (or drops it,
 * counted and logged, when its queue is full).  Any thread.
 */
typedef void (*tg_announce_fn)(void *ctx, size_t from_sink, const char *rec, size_t len);
/* Before start: who takes announced records (none: they are dropped quietly,
 * as in a pipeline without a spool or other sinks, e.g. unit tests). */
void tg_pipeline_set_announce(struct tg_pipeline *p, tg_announce_fn fn, void *ctx);
/* Sink s announces an internal record (to the other sinks).  Any thread. */
void tg_sink_announce(struct tg_sink *s, const char *rec, size_t len);
/* Before start: add a sink; `conf` is its section data (borrowed until free). */
int tg_pipeline_add_sink(struct tg_pipeline *p, const struct tg_sink_ops *ops, const void *conf);
/* Before start: set conf.on_confirm and its ctx (for a spool opened once the
 * sinks, and so their names, are known). */
void tg_pipeline_set_confirm(struct tg_pipeline *p,
                             void (*on_confirm)(void *, const uint64_t *, size_t, size_t),
                             void *ctx);
/* Open the sinks and start the threads.  0 or the first sink's error. */
int tg_pipeline_start(struct tg_pipeline *p);
/* Drain and stop (see above).  Call once, from the thread that started it. */
void tg_pipeline_drain(struct tg_pipeline *p);
void tg_pipeline_free(struct tg_pipeline *p);

struct tg_pipeline_stats {
    uint64_t events_in, duplicates, batches;
    uint64_t abandoned; /* events of batches a sink gave up on (tg_batch_abandon) */
    size_t work_queue, done_queue;
    size_t bytes;        /* memory the batches in the pipeline hold (conf.max_bytes) */
    uint64_t full_waits; /* batches a source held back while max_bytes was reached */
};
void tg_pipeline_stats(struct tg_pipeline *p, struct tg_pipeline_stats *st);
/* Sinks, for metrics (index < count). */
size_t tg_pipeline_sink_count(const struct tg_pipeline *p);
struct tg_sink *tg_pipeline_sink(struct tg_pipeline *p, size_t i);
/* Batches queued for sink i (not yet taken by its write). */
size_t tg_pipeline_sink_queue_len(struct tg_pipeline *p, size_t i);

/* A source: one producer's batching handle.  Thread-safe (a mutex). */
struct tg_source;
struct tg_source *tg_pipeline_source(struct tg_pipeline *p);
/* Hand an event over (the pipeline owns it from now on).  May block. */
void tg_source_add(struct tg_source *s, struct tg_event *ev);
/*
 * Make an event in s's current batch, in the batch's memory (as
 * tg_event_new_in: no allocation per event), and hand it over at once; the
 * caller fills it in and then calls tg_source_commit(s).  s is locked in
 * between (nothing else may be done with s).  May block in commit.
 */
struct tg_event *tg_source_begin(struct tg_source *s, const char *raw, size_t len,
                                 const struct tg_input_meta *in, struct tg_time received);
void tg_source_commit(struct tg_source *s);
/* Submit the partial batch now (e.g. when the input has nothing more ready). */
void tg_source_flush(struct tg_source *s);

#endif
