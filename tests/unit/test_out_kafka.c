/*
 * test_out_kafka.c - the Kafka sink through the pipeline against an
 * in-process librdkafka mock cluster: every spooled event is confirmed once
 * its message is delivered, duplicates are not produced, deny verdicts also
 * go to deny_topic, the key follows `key = user`, and the headers carry
 * dataset and decision.  Messages are read back with a librdkafka consumer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/config.h"
#include "core/pipeline.h"
#include "sinks/sinks.h"

#define N_EVENTS 300

static atomic_int confirmed;

/* Event i: user "uK" (K = i % 4); every third is a deny, every fifth a duplicate. */
static void process(void *ctx, struct tg_event *ev)
{
    long i = strtol(ev->original.p, NULL, 10);
    char u[8];
    snprintf(u, sizeof(u), "u%ld", i % 4);
    ev->user_name = tg_event_strdup(ev, u, strlen(u));
    ev->dataset = TG_DS_SNOOPY;
    ev->policy.decision = i % 3 == 0 ? TG_DECISION_DENY : TG_DECISION_ALLOW;
    tg_event_finish(ev);
}

static bool every_fifth_is_dup(void *ctx, const struct tg_event *ev)
{
    return strtol(ev->original.p, NULL, 10) % 5 == 4;
}

static void on_confirm(void *ctx, const uint64_t *seqs, size_t n, size_t sink)
{
    atomic_fetch_add(&confirmed, n);
}

/* Read every message of partition 0 of `topic`; checks each, returns the count. */
static int consume_all(const char *bootstrap, const char *topic, const char *want_decision)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(c, "enable.partition.eof", "true", errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(c, "group.id", "test", errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof(errstr));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    int n = 0;
    for (int tries = 0; tries < 600; tries++) { /* bounded: 600 polls of at most 100 ms */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        assert_int_equal(m->err, 0);
        long i = strtol(strstr(m->payload, "\"original\":\"") + 12, NULL, 10);
        assert_int_not_equal(i % 5, 4); /* duplicates are not produced */
        char key[8];
        snprintf(key, sizeof(key), "u%ld", i % 4);
        assert_int_equal(m->key_len, strlen(key));
        assert_memory_equal(m->key, key, m->key_len);
        rd_kafka_headers_t *h;
        const void *v;
        size_t vlen;
        assert_int_equal(rd_kafka_message_headers(m, &h), 0);
        assert_int_equal(rd_kafka_header_get_last(h, "dataset", &v, &vlen), 0);
        assert_int_equal(vlen, 6);
        assert_memory_equal(v, "snoopy", 6);
        assert_int_equal(rd_kafka_header_get_last(h, "decision", &v, &vlen), 0);
        const char *want = want_decision ? want_decision : i % 3 == 0 ? "deny" : "allow";
        assert_int_equal(vlen, strlen(want));
        assert_memory_equal(v, want, vlen);
        rd_kafka_message_destroy(m);
        n++;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

static void test_deliver_confirm_deny_topic(void **state)
{
    char errstr[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr));
    assert_non_null(mrk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "ev", 1, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "deny", 1, 1), 0);
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);

    char text[512];
    snprintf(text, sizeof(text),
             "[sink.kafka]\nbrokers = %s\ntopic = ev\ndeny_topic = deny\nkey = user\n"
             "compression = none\nrdkafka.linger.ms = 5\n",
             bootstrap);
    const struct tg_section_def *defs[] = {&tg_kafka_section};
    struct tg_config *cfg;
    assert_int_equal(tg_config_load_string("test.ini", text, defs, 1, &cfg), 0);

    struct tg_pipeline_conf pc = {.workers = 2,
                                  .batch_max = 64,
                                  .process = process,
                                  .is_duplicate = every_fifth_is_dup,
                                  .on_confirm = on_confirm};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    assert_int_equal(tg_pipeline_add_sink(p, &tg_out_kafka, tg_config_get(cfg, "sink.kafka")), 0);
    assert_int_equal(tg_pipeline_start(p), 0);
    struct tg_source *src = tg_pipeline_source(p);
    struct tg_input_meta in = {.type = "stdin"};
    for (int i = 0; i < N_EVENTS; i++) {
        char rec[32];
        int len = snprintf(rec, sizeof(rec), "%d", i);
        struct tg_event *ev = tg_event_new(rec, (size_t)len, &in, tg_time_now());
        ev->spool_seq = (uint64_t)i + 1;
        tg_source_add(src, ev);
    }
    tg_pipeline_drain(p);

    int ndup = 0, ndeny = 0;
    for (int i = 0; i < N_EVENTS; i++) {
        ndup += i % 5 == 4;
        ndeny += i % 5 != 4 && i % 3 == 0;
    }
    assert_int_equal(atomic_load(&confirmed), N_EVENTS);
    struct tg_sink *s = tg_pipeline_sink(p, 0);
    assert_int_equal(atomic_load(&s->delivered), N_EVENTS - ndup + ndeny);
    assert_int_equal(atomic_load(&s->failed), 0);
    tg_pipeline_free(p);
    tg_config_free(cfg);

    assert_int_equal(consume_all(bootstrap, "ev", NULL), N_EVENTS - ndup);
    assert_int_equal(consume_all(bootstrap, "deny", "deny"), ndeny);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

/* Broker down through shutdown: after flush_timeout_ms the batches are
 * abandoned (freed, never confirmed: LeakSanitizer checks the freeing). */
static void test_undelivered_abandoned_at_shutdown(void **state)
{
    char errstr[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
    char text[512];
    snprintf(text, sizeof(text),
             "[sink.kafka]\nbrokers = %s\ntopic = ev\nflush_timeout_ms = 300\n"
             "rdkafka.message.timeout.ms = 100\n",
             rd_kafka_mock_cluster_bootstraps(mc));
    const struct tg_section_def *defs[] = {&tg_kafka_section};
    struct tg_config *cfg;
    assert_int_equal(tg_config_load_string("test.ini", text, defs, 1, &cfg), 0);
    atomic_store(&confirmed, 0);
    struct tg_pipeline_conf pc = {
        .workers = 1, .batch_max = 16, .process = process, .on_confirm = on_confirm};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    assert_int_equal(tg_pipeline_add_sink(p, &tg_out_kafka, tg_config_get(cfg, "sink.kafka")), 0);
    assert_int_equal(tg_pipeline_start(p), 0);
    struct tg_source *src = tg_pipeline_source(p);
    struct tg_input_meta in = {.type = "stdin"};
    for (int i = 0; i < 50; i++) {
        struct tg_event *ev = tg_event_new("1", 1, &in, tg_time_now());
        ev->spool_seq = (uint64_t)i + 1;
        tg_source_add(src, ev);
    }
    tg_pipeline_drain(p);
    assert_int_equal(atomic_load(&confirmed), 0);
    struct tg_sink *s = tg_pipeline_sink(p, 0);
    assert_int_equal(atomic_load(&s->delivered), 0);
    assert_true(atomic_load(&s->failed) > 0);
    tg_pipeline_free(p);
    tg_config_free(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliver_confirm_deny_topic),
        cmocka_unit_test(test_undelivered_abandoned_at_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
