/*
 * test_health.c - the /healthz and /readyz answers (core/health.c): not
 * ready and not live until the daemon says so; a sink whose failures move
 * while its deliveries do not is failing from the first sample that sees
 * it, reported once the allowance is over, and healthy again at its next
 * delivery; a sink that fails and delivers is not failing.  The sinks are
 * never started: the test moves their counters as a sink would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/health.h"
#include "core/pipeline.h"

static const struct tg_sink_ops t_sink = {.name = "fake"};

static void t_process(void *ctx, struct tg_event *ev)
{
}

static bool live(struct tg_health *h, char *body, size_t n)
{
    struct tg_buf b = TG_BUF_INIT;
    bool ok = tg_health_live(h, &b);
    snprintf(body, n, "%s", tg_buf_cstr(&b));
    tg_buf_free(&b);
    return ok;
}

static void test_ready_and_listening(void **state)
{
    struct tg_pipeline_conf pc = {.workers = 1, .process = t_process};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    struct tg_health_conf hc = {.pipe = p, .sink_failing_s = 0};
    struct tg_health *h = tg_health_new(&hc);
    struct tg_buf b = TG_BUF_INIT;
    char body[512];
    assert_false(tg_health_ready(h, &b));
    assert_non_null(strstr(tg_buf_cstr(&b), "starting"));
    assert_false(live(h, body, sizeof(body)));
    assert_non_null(strstr(body, "inputs: not started"));
    tg_health_set_listening(h);
    tg_health_set_ready(h);
    b.len = 0;
    assert_true(tg_health_ready(h, &b));
    assert_true(live(h, body, sizeof(body)));
    assert_string_equal(body, "ok\n");
    tg_buf_free(&b);
    tg_health_free(h);
    tg_pipeline_free(p);
}

static void test_failing_sink(void **state)
{
    struct tg_pipeline_conf pc = {.workers = 1, .process = t_process};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    assert_int_equal(tg_pipeline_add_sink(p, &t_sink, NULL), 0);
    struct tg_sink *s = tg_pipeline_sink(p, 0);
    char body[512];

    /* a day's allowance: failing, but not reported */
    struct tg_health_conf slow = {.pipe = p, .sink_failing_s = 86400};
    struct tg_health *h = tg_health_new(&slow);
    tg_health_set_listening(h);
    atomic_fetch_add(&s->failed, 3);
    tg_health_sample(h);
    assert_true(live(h, body, sizeof(body)));
    tg_health_free(h);

    /* no allowance: reported at once, until the next delivery */
    struct tg_health_conf now = {.pipe = p, .sink_failing_s = 0};
    h = tg_health_new(&now);
    tg_health_set_listening(h);
    tg_health_sample(h); /* the counters as they are: nothing new */
    assert_true(live(h, body, sizeof(body)));
    atomic_fetch_add(&s->failed, 1);
    assert_false(live(h, body, sizeof(body))); /* a probe samples too */
    assert_non_null(strstr(body, "sink fake: failing for 0 s"));
    tg_health_sample(h); /* no new failure: still failing (nothing was delivered) */
    assert_false(live(h, body, sizeof(body)));
    atomic_fetch_add(&s->delivered, 10);
    assert_true(live(h, body, sizeof(body)));
    /* failures with deliveries in the same window: working, not failing */
    atomic_fetch_add(&s->failed, 1);
    atomic_fetch_add(&s->delivered, 1);
    assert_true(live(h, body, sizeof(body)));
    tg_health_free(h);
    tg_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_and_listening),
        cmocka_unit_test(test_failing_sink),
    };
    return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
