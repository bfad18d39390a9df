/*
 * test_pipeline.c - the pipeline end to end with in-test sinks: order is
 * kept across a worker pool, duplicates are marked and skipped, every
 * spooled event is confirmed exactly once and only after every sink
 * confirmed (one sink confirms late, from tick), and drain loses nothing;
 * events made in their batch's memory (tg_source_begin) travel the same way
 * and the memory the pipeline holds stays within conf.max_bytes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/pipeline.h"

#define N_EVENTS 20000

struct rec_sink {
    long seen[N_EVENTS];
    size_t n;
    struct tg_batch *held[4096]; /* late sink: batches not yet confirmed */
    size_t nheld;
    bool late;
};

static struct rec_sink sink_a, sink_b;
static uint8_t confirmed[2][N_EVENTS + 1]; /* per sink */
static pthread_mutex_t confirm_mu = PTHREAD_MUTEX_INITIALIZER;

static int rec_open(struct tg_sink *s, const void *conf)
{
    s->ctx = (void *)conf;
    return 0;
}

static int rec_write(struct tg_sink *s, struct tg_batch *b)
{
    struct rec_sink *r = s->ctx;
    for (size_t i = 0; i < b->n; i++) {
        if (!tg_sink_wants(s, b->ev[i]))
            continue;
        r->seen[r->n++] = strtol(b->ev[i]->original.p, NULL, 10);
    }
    if (r->late)
        r->held[r->nheld++] = b;
    else
        tg_batch_done(s, b);
    return 0;
}

static int rec_tick(struct tg_sink *s)
{
    struct rec_sink *r = s->ctx;
    for (size_t i = 0; i < r->nheld; i++)
        tg_batch_done(s, r->held[i]);
    r->nheld = 0;
    return 0;
}

static void rec_close(struct tg_sink *s)
{
    rec_tick(s);
}

static const struct tg_sink_ops rec_ops = {
    .name = "rec", .open = rec_open, .write = rec_write, .tick = rec_tick, .close = rec_close};

static void process(void *ctx, struct tg_event *ev)
{
    ev->user_name = TG_STR_LIT("u");
    tg_event_finish(ev);
}

static bool every_tenth_is_dup(void *ctx, const struct tg_event *ev)
{
    return strtol(ev->original.p, NULL, 10) % 10 == 9;
}

static void on_confirm(void *ctx, const uint64_t *seqs, size_t n, size_t sink)
{
    pthread_mutex_lock(&confirm_mu);
    for (size_t i = 0; i < n; i++) {
        assert_true(seqs[i] >= 1 && seqs[i] <= N_EVENTS && sink < 2);
        confirmed[sink][seqs[i]]++;
    }
    pthread_mutex_unlock(&confirm_mu);
}

static void test_order_dedup_confirm(void **state)
{
    memset(&sink_a, 0, sizeof(sink_a));
    memset(&sink_b, 0, sizeof(sink_b));
    memset(confirmed, 0, sizeof(confirmed));
    sink_b.late = true;
    struct tg_pipeline_conf conf = {.workers = 4,
                                    .batch_max = 7, /* many small batches: more reordering */
                                    .process = process,
                                    .is_duplicate = every_tenth_is_dup,
                                    .on_confirm = on_confirm};
    struct tg_pipeline *p = tg_pipeline_new(&conf);
    assert_int_equal(tg_pipeline_add_sink(p, &rec_ops, &sink_a), 0);
    assert_int_equal(tg_pipeline_add_sink(p, &rec_ops, &sink_b), 0);
    assert_int_equal(tg_pipeline_start(p), 0);
    struct tg_source *src = tg_pipeline_source(p);
    struct tg_input_meta in = {.type = "test"};
    for (long i = 0; i < N_EVENTS; i++) {
        char raw[32];
        int n = snprintf(raw, sizeof(raw), "%ld", i);
        struct tg_event *ev = tg_event_new(raw, (size_t)n, &in, tg_time_now());
        ev->spool_seq = (uint64_t)i + 1;
        if (i % 10 == 3)
            ev->sinks_done = 1; /* replayed: sink_a had it already */
        tg_source_add(src, ev);
    }
    tg_pipeline_drain(p);
    struct tg_pipeline_stats st;
    tg_pipeline_stats(p, &st);
    assert_int_equal(st.events_in, N_EVENTS);
    assert_int_equal(st.duplicates, N_EVENTS / 10);
    tg_pipeline_free(p);

    size_t want = N_EVENTS - N_EVENTS / 10;
    assert_int_equal(sink_a.n, want - N_EVENTS / 10); /* not the ones it had */
    assert_int_equal(sink_b.n, want);
    long prev = -1;
    for (size_t i = 0, a = 0; i < want; i++) {
        assert_true(sink_b.seen[i] > prev); /* submission order kept */
        assert_int_not_equal(sink_b.seen[i] % 10, 9);
        if (sink_b.seen[i] % 10 != 3)
            assert_int_equal(sink_a.seen[a++], sink_b.seen[i]);
        prev = sink_b.seen[i];
    }
    for (long i = 1; i <= N_EVENTS; i++) { /* duplicates and skipped ones too */
        assert_int_equal(confirmed[0][i], 1);
        assert_int_equal(confirmed[1][i], 1);
    }
}

static void test_drain_without_sinks_or_events(void **state)
{
    struct tg_pipeline_conf conf = {.workers = 2, .process = process};
    struct tg_pipeline *p = tg_pipeline_new(&conf);
    assert_int_equal(tg_pipeline_start(p), 0);
    tg_pipeline_drain(p);
    tg_pipeline_free(p);
}

/* A slow sink; it records the most memory the pipeline held while it
 * wrote. */
static size_t slow_max_bytes, slow_seen;
static long slow_prev = -1;
static bool slow_in_order = true;

static int slow_write(struct tg_sink *s, struct tg_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        long v = strtol(b->ev[i]->original.p, NULL, 10);
        slow_in_order = slow_in_order && v == slow_prev + 1 && b->ev[i]->json.len > 0;
        slow_prev = v;
        slow_seen++;
    }
    struct tg_pipeline_stats st;
    tg_pipeline_stats(s->pipe, &st);
    if (st.bytes > slow_max_bytes)
        slow_max_bytes = st.bytes;
    usleep(2000);
    tg_batch_done(s, b);
    return 0;
}

static void slow_close(struct tg_sink *s)
{
}

static const struct tg_sink_ops slow_ops = {
    .name = "slow", .open = rec_open, .write = slow_write, .close = slow_close};

/* Events made in their batches' memory, each with a record of a few KiB so
 * that a batch needs more than its first block: all arrive, in order, with
 * their JSON, and the pipeline never holds more than max_bytes and one
 * batch (the sources wait: counted). */
static void test_batch_memory_bounded_in_bytes(void **state)
{
    const size_t max = 3u << 20;
    struct tg_pipeline_conf conf = {
        .workers = 2, .batch_max = 64, .process = process, .max_bytes = max};
    struct tg_pipeline *p = tg_pipeline_new(&conf);
    assert_int_equal(tg_pipeline_add_sink(p, &slow_ops, NULL), 0);
    assert_int_equal(tg_pipeline_start(p), 0);
    struct tg_source *src = tg_pipeline_source(p);
    struct tg_input_meta in = {.type = "test"};
    static char raw[8192];
    const long n = 6000;
    for (long i = 0; i < n; i++) {
        int k = snprintf(raw, sizeof(raw), "%ld ", i);
        size_t len = (size_t)k + (size_t)(i % 7) * 1000; /* 0 to 6 KB of padding */
        memset(raw + k, 'x', len - (size_t)k);
        struct tg_event *ev = tg_source_begin(src, raw, len, &in, tg_time_now());
        assert_non_null(ev->pool);
        ev->spool_seq = (uint64_t)i + 1;
        tg_source_commit(src);
    }
    tg_pipeline_drain(p);
    struct tg_pipeline_stats st;
    tg_pipeline_stats(p, &st);
    assert_int_equal(st.events_in, n);
    assert_int_equal(slow_seen, n);
    assert_true(slow_in_order);
    /* one batch of 64 records of up to 6 KB and their JSON: under 2 MiB */
    assert_true(slow_max_bytes <= max + (2u << 20));
    assert_true(st.full_waits > 0);
    assert_int_equal(st.bytes, 0); /* every batch gave its memory back */
    tg_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_dedup_confirm),
        cmocka_unit_test(test_drain_without_sinks_or_events),
        cmocka_unit_test(test_batch_memory_bounded_in_bytes),
    };
    return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
