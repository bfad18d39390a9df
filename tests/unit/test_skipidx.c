/*
 * test_skipidx.c - the skip index of a member (sinks/skipidx.c): every
 * value a record holds is found (each field, ASCII case ignored where the
 * filters ignore it, escaped JSON decoded, every word of the command line
 * and the SQL text), so the index never hides a record; values no record
 * holds are ruled out but for about 1%; a member with too many words says
 * its words are not indexed; an unknown version, a cut or absent index is
 * never used to skip; an event's index read from where the serializer put
 * its values equals the one walked from its line (verify walks it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/event.h"
#include "sinks/skipidx.h"

static bool holds(const struct tg_buf *ext, enum tg_skip_field f, const char *v)
{
    struct tg_skip_probe p;
    tg_skip_probe_init(&p, f, v, strlen(v));
    return tg_skipidx_may_hold(ext->data, ext->len, &p);
}

static void build(struct tg_buf *ext, const char *const *recs, size_t n)
{
    struct tg_skipidx b;
    tg_skipidx_init(&b);
    for (size_t i = 0; i < n; i++)
        tg_skipidx_add(&b, recs[i], strlen(recs[i]));
    ext->len = 0;
    tg_skipidx_finish(&b, ext);
    tg_skipidx_free(&b);
}

static void test_every_value_is_found(void **state)
{
    (void)state;
    static const char *const recs[] = {
        "{\"@timestamp\":\"2026-11-24T00:00:00Z\",\"event\":{\"dataset\":\"snoopy\",\"action\":"
        "\"exec\"},\"host\":{\"name\":\"Web1.Example.com\"},\"user\":{\"name\":\"Alice\","
        "\"effective\":{\"name\":\"root\"}},\"process\":{\"executable\":\"/usr/bin/cat\","
        "\"command_line\":\"cat /etc/shadow\\nrm -rf x_y\"},\"trailguard\":{\"policy\":{"
        "\"decision\":\"deny\"}}}",
        "{\"event\":{\"dataset\":\"percona.audit\",\"action\":\"query\"},\"user\":{\"name\":"
        "\"o\\\"brien\"},\"trailguard\":{\"db\":{\"statement\":\"SELECT * FROM Cards WHERE "
        "pan='4111'\"}}}",
        "not json at all",
    };
    struct tg_buf ext = TG_BUF_INIT;
    build(&ext, recs, 3);
    assert_int_equal(ext.data[0], TG_SKIP_VERSION);
    assert_true(holds(&ext, TG_SKIP_USER, "alice"));
    assert_true(holds(&ext, TG_SKIP_USER, "ALICE"));
    assert_true(holds(&ext, TG_SKIP_USER, "o\"brien"));
    assert_true(holds(&ext, TG_SKIP_EUSER, "Root"));
    assert_true(holds(&ext, TG_SKIP_HOST, "web1.example.COM"));
    assert_true(holds(&ext, TG_SKIP_EXE, "/usr/bin/cat"));
    assert_true(holds(&ext, TG_SKIP_DATASET, "percona.audit"));
    assert_true(holds(&ext, TG_SKIP_ACTION, "query"));
    assert_true(holds(&ext, TG_SKIP_DECISION, "deny"));
    static const char *const words[] = {"cat",    "etc",   "shadow", "rm",   "rf",   "x_y",
                                        "select", "CARDS", "pan",    "4111", "where"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        assert_true(holds(&ext, TG_SKIP_WORD, words[i]));
    /* case matters where the filters compare exactly */
    int fp = holds(&ext, TG_SKIP_EXE, "/USR/BIN/CAT") + holds(&ext, TG_SKIP_DECISION, "DENY") +
             holds(&ext, TG_SKIP_USER, "root") + holds(&ext, TG_SKIP_WORD, "shado");
    assert_true(fp <= 1); /* at most a false positive */
    tg_buf_free(&ext);
}

static void test_absent_values_are_ruled_out(void **state)
{
    (void)state;
    char recs[1024][200];
    const char *rp[1024];
    for (int i = 0; i < 1024; i++) {
        snprintf(recs[i], sizeof(recs[i]),
                 "{\"host\":{\"name\":\"h%d\"},\"user\":{\"name\":\"u%d\"},\"process\":{"
                 "\"command_line\":\"run job%d --id %d\"}}",
                 i % 300, i % 700, i, i * 7);
        rp[i] = recs[i];
    }
    struct tg_buf ext = TG_BUF_INIT;
    build(&ext, rp, 1024);
    int found = 0, fp = 0;
    char v[32];
    for (int i = 0; i < 700; i++) {
        snprintf(v, sizeof(v), "u%d", i);
        found += holds(&ext, TG_SKIP_USER, v);
        snprintf(v, sizeof(v), "x%d", i);
        fp += holds(&ext, TG_SKIP_USER, v);
        snprintf(v, sizeof(v), "nojob%d", i);
        fp += holds(&ext, TG_SKIP_WORD, v);
    }
    assert_int_equal(found, 700);
    assert_true(fp < 1400 / 30); /* ~1% expected */
    tg_buf_free(&ext);
}

static void test_too_many_words(void **state)
{
    (void)state;
    struct tg_skipidx b;
    tg_skipidx_init(&b);
    char rec[256];
    for (int i = 0; i < TG_SKIP_MAX_WORDS + 100; i++) {
        snprintf(rec, sizeof(rec),
                 "{\"user\":{\"name\":\"bulk\"},\"trailguard\":{\"db\":{\"statement\":\"w%d\"}}}",
                 i);
        tg_skipidx_add(&b, rec, strlen(rec));
    }
    struct tg_buf ext = TG_BUF_INIT;
    tg_skipidx_finish(&b, &ext);
    assert_int_equal(ext.data[1] & 1, 0); /* words not indexed */
    assert_true(holds(&ext, TG_SKIP_WORD, "neverseen"));
    assert_true(holds(&ext, TG_SKIP_USER, "bulk"));
    assert_false(holds(&ext, TG_SKIP_USER, "somebody") && holds(&ext, TG_SKIP_USER, "other"));
    /* the builder starts over: the next member's index is its own */
    tg_skipidx_add(&b, "{\"user\":{\"name\":\"next\"}}", 24);
    ext.len = 0;
    tg_skipidx_finish(&b, &ext);
    assert_int_equal(ext.data[1] & 1, 1);
    assert_true(holds(&ext, TG_SKIP_USER, "next"));
    assert_false(holds(&ext, TG_SKIP_USER, "bulk"));
    tg_skipidx_free(&b);
    tg_buf_free(&ext);
}

static void test_unusable_index_never_skips(void **state)
{
    (void)state;
    static const char *const recs[] = {"{\"user\":{\"name\":\"a\"}}"};
    struct tg_buf ext = TG_BUF_INIT;
    build(&ext, recs, 1);
    assert_false(holds(&ext, TG_SKIP_USER, "zz-not-there"));
    struct tg_skip_probe p;
    tg_skip_probe_init(&p, TG_SKIP_USER, "zz-not-there", 12);
    assert_true(tg_skipidx_may_hold(NULL, 0, &p));               /* no index (older stores) */
    assert_true(tg_skipidx_may_hold(ext.data, ext.len - 1, &p)); /* cut short */
    ext.data[0] = 2;                                             /* a later version */
    assert_true(tg_skipidx_may_hold(ext.data, ext.len, &p));
    tg_buf_free(&ext);
}

static void test_words(void **state)
{
    (void)state;
    const char *s = "a-b c_d  \xc3\xa9t\xc3\xa9/x", *w;
    size_t pos = 0, n, count = 0;
    const char *want[] = {"a", "b", "c_d", "\xc3\xa9t\xc3\xa9", "x"};
    while (tg_skip_word_next(s, strlen(s), &pos, &w, &n)) {
        assert_true(count < 5);
        assert_int_equal(n, strlen(want[count]));
        assert_memory_equal(w, want[count], n);
        count++;
    }
    assert_int_equal(count, 5);
}

/* ev's index from its line (as verify and query derive it) and from the
 * serializer's spans (as the file sink builds it) are the same bytes. */
static void assert_same_index(const struct tg_event *ev)
{
    struct tg_skipidx walk, spans;
    struct tg_buf a = TG_BUF_INIT, b = TG_BUF_INIT;
    tg_skipidx_init(&walk);
    tg_skipidx_init(&spans);
    tg_skipidx_add(&walk, ev->json.data, ev->json.len);
    tg_skipidx_add_event(&spans, ev);
    tg_skipidx_finish(&walk, &a);
    tg_skipidx_finish(&spans, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    tg_skipidx_free(&walk);
    tg_skipidx_free(&spans);
    tg_buf_free(&a);
    tg_buf_free(&b);
}

static void test_event_spans_match_the_line(void **state)
{
    (void)state;
    static const struct tg_input_meta in = {.type = "relp"};
    /* escapes, control bytes, invalid UTF-8, empty and absent values */
    static const char *const texts[] = {"Alice",          "o\"brien", "tab\there\nnew",
                                        "bad\xff\xfeutf", "",         "caf\xc3\xa9 \xe2\x82\xac",
                                        "a\\b\x01c"};
    const size_t nt = sizeof(texts) / sizeof(texts[0]);
    for (size_t i = 0; i < nt * nt; i++) {
        struct tg_event *ev = tg_event_new("x", 1, &in, (struct tg_time){1, 0, 0});
        struct tg_str t1 = tg_str_c(texts[i % nt]), t2 = tg_str_c(texts[i / nt]);
        ev->dataset = i % 2 ? TG_DS_SNOOPY : TG_DS_PERCONA;
        ev->action = i % 3 ? t2 : TG_STR_NULL;
        ev->user_name = t1;
        ev->user_eff_name = i % 4 ? t2 : TG_STR_NULL;
        ev->host_name = t2;
        ev->executable = i % 5 ? t1 : TG_STR_NULL;
        ev->command_line = t2;
        ev->db_statement = i % 2 ? TG_STR_NULL : t1;
        ev->policy.decision = (enum tg_decision)(i % 4);
        ev->policy.reason = tg_str_c("r");
        tg_event_finish(ev);
        assert_true(ev->json_vals_ok);
        assert_same_index(ev);
        tg_event_free(ev);
    }
    /* an internal record's raw data could shadow a path: the line is walked */
    struct tg_event *ev = tg_event_new("x", 1, &in, (struct tg_time){1, 0, 0});
    ev->dataset = TG_DS_INTERNAL;
    ev->dataset_name = tg_str_c("trailguard.policy");
    ev->internal_key = tg_str_c("policy");
    ev->internal_data = tg_str_c("{\"decision\":\"deny\"}");
    tg_event_finish(ev);
    assert_false(ev->json_vals_ok);
    assert_same_index(ev);
    tg_event_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_value_is_found),
        cmocka_unit_test(test_absent_values_are_ruled_out),
        cmocka_unit_test(test_too_many_words),
        cmocka_unit_test(test_unusable_index_never_skips),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_event_spans_match_the_line),
    };
    return cmocka_run_group_tests_name("skipidx", tests, NULL, NULL);
}
