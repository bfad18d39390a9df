/*
 * test_intake.c - the intake (ingest/intake.c) and its line splitter
 * (ingest/lines.c): lines and their positions, over feeds of any size, cut
 * at the limit; stream records framed, salted with the stream's identity and
 * offset (identical lines stay distinct, the same line at the same place of
 * the same file is the same), the resume offset before what is still held;
 * messages cut at the source's limit and unsalted; records and bytes counted
 * once, in the source's /metrics row when it has one; and a record replayed
 * from the spool becoming the very event it was when it arrived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/collector_conf.h"
#include "core/errors.h"
#include "core/internal_rec.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/pipeline.h"
#include "core/spool.h"
#include "ingest/in_internal.h"
#include "ingest/intake.h"
#include "ingest/lines.h"
#include "tools/process.h"
#include "tools/registry.h"

/* --- lines */

struct lines_got {
    struct tg_buf b; /* "POS:line" or "POS!line" (cut), "|"-joined */
    int n;
};

static int lines_collect(void *ctx, const char *line, size_t len, bool cut, uint64_t pos)
{
    struct lines_got *g = ctx;
    if (g->n++)
        tg_buf_putc(&g->b, '|');
    tg_buf_printf(&g->b, "%llu%c", (unsigned long long)pos, cut ? '!' : ':');
    tg_buf_append(&g->b, line, len);
    return 0;
}

/* Split `text` fed in pieces of `step` bytes, lines cut at `max`. */
static void split(const char *text, size_t step, size_t max, const char *want)
{
    struct tg_lines l;
    struct lines_got g = {TG_BUF_INIT, 0};
    tg_lines_init(&l, max, 100);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += step)
        assert_int_equal(
            tg_lines_feed(&l, text + i, n - i < step ? n - i : step, lines_collect, &g), 0);
    tg_lines_end(&l, lines_collect, &g);
    assert_string_equal(tg_buf_cstr(&g.b), want);
    tg_buf_free(&g.b);
    tg_lines_free(&l);
}

static void test_lines(void **state)
{
    const char *text = "one\n\nthree is long\nlast";
    const char *want = "100:one|104:|105:three is long|119:last";
    for (size_t step = 1; step <= strlen(text); step++)
        split(text, step, 64, want);
    /* cut at 5 bytes, the rest of the line dropped, the next line whole */
    for (size_t step = 1; step <= strlen(text); step++)
        split(text, step, 5, "100:one|104:|105!three|119:last");
}

static void test_lines_pending(void **state)
{
    struct tg_lines l;
    struct lines_got g = {TG_BUF_INIT, 0};
    uint64_t start;
    tg_lines_init(&l, 64, 0);
    tg_lines_feed(&l, "ab\ncd", 5, lines_collect, &g);
    assert_true(tg_lines_pending(&l, &start));
    assert_int_equal(start, 3);
    tg_lines_feed(&l, "e\n", 2, lines_collect, &g);
    assert_false(tg_lines_pending(&l, &start));
    assert_int_equal(l.off, 7);
    assert_string_equal(tg_buf_cstr(&g.b), "0:ab|3:cde");
    tg_buf_free(&g.b);
    tg_lines_free(&l);
}

/* --- the intake, with a pipeline whose sink keeps what it gets */

#define MAXEV 64
struct capture {
    char *json[MAXEV];
    char *salt[MAXEV];
    bool truncated[MAXEV];
    bool wanted[MAXEV]; /* tg_sink_wants: not done for this sink already */
    const char *type[MAXEV];
    _Atomic size_t n;
};

static struct capture cap;

static int cap_open(struct tg_sink *s, const void *conf)
{
    return 0;
}

static int cap_write(struct tg_sink *s, struct tg_batch *b)
{
    for (size_t i = 0; i < b->n && cap.n < MAXEV; i++) {
        struct tg_event *ev = b->ev[i];
        /* the JSON without event.ingested: the receive time differs */
        const char *ing = strstr(tg_buf_cstr(&ev->json), ",\"ingested\":\"");
        size_t cut = ing ? (size_t)(ing - ev->json.data) : ev->json.len;
        const char *rest = ing ? strchr(ing + 13, '"') + 1 : "";
        cap.json[cap.n] = tg_xasprintf("%.*s%s", (int)cut, ev->json.data, rest);
        cap.salt[cap.n] =
            ev->id_salt.p ? tg_xstrndup(ev->id_salt.p, ev->id_salt.len) : tg_xstrdup("-");
        cap.truncated[cap.n] = ev->truncated;
        cap.wanted[cap.n] = tg_sink_wants(s, ev);
        cap.type[cap.n] = ev->input.type;
        cap.n++;
    }
    tg_batch_done(s, b);
    return 0;
}

static void cap_close(struct tg_sink *s)
{
}

static const struct tg_sink_ops cap_sink = {
    .name = "capture", .open = cap_open, .write = cap_write, .close = cap_close};

static void cap_reset(void)
{
    for (size_t i = 0; i < cap.n; i++) {
        free(cap.json[i]);
        free(cap.salt[i]);
    }
    memset(&cap, 0, sizeof(cap));
}

struct rig {
    struct tg_pipeline *pipe;
    struct tg_intake *in;
    struct tg_process chain;
};

/* A pipeline into the capture sink, and an intake spooling into sp (NULL:
 * none); `confirm`: the sink's confirmations reach the spool. */
static void rig_start(struct rig *r, struct tg_spool *sp, bool confirm)
{
    struct tg_pipeline_conf pc = {
        .workers = 2, .process = tg_process_event, .process_ctx = &r->chain};
    r->pipe = tg_pipeline_new(&pc);
    tg_pipeline_add_sink(r->pipe, &cap_sink, NULL);
    if (sp && confirm)
        tg_pipeline_set_confirm(r->pipe, tg_spool_confirm_many, sp);
    size_t ns;
    const struct tg_source_ops *const *sources = tg_registry_sources(&ns);
    struct tg_intake_conf ic = {.pipe = r->pipe, .spool = sp, .sources = sources, .nsources = ns};
    char *err = NULL;
    assert_int_equal(tg_intake_new(&ic, &r->in, &err), 0);
    r->chain.parse = tg_intake_parser(r->in, TG_FMT_AUTO);
    assert_int_equal(tg_pipeline_start(r->pipe), 0);
}

static void rig_stop(struct rig *r)
{
    tg_pipeline_drain(r->pipe);
    tg_intake_free(r->in);
    tg_pipeline_free(r->pipe);
}

/* Feed `text` as the stream `identity` of source s, in pieces of `step`. */
static void feed(struct tg_intake_src *s, const char *identity, const char *text, size_t step)
{
    struct tg_intake_stream *st =
        tg_intake_stream_new(s, tg_str_c("/var/log/x.log"), tg_str_c(identity), 0);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += step)
        assert_int_equal(tg_intake_stream_feed(st, text + i, n - i < step ? n - i : step), 0);
    assert_int_equal(tg_intake_stream_end(st), 0);
    tg_intake_stream_free(st);
}

#define SNOOPY "[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/true]: /usr/bin/true"

static void test_stream_records_and_salts(void **state)
{
    struct rig r = {0};
    cap_reset();
    rig_start(&r, NULL, false);
    struct tg_intake_src *s =
        tg_intake_src_new(r.in, &(struct tg_intake_src_conf){.ops = &tg_in_file});
    const char *text = SNOOPY "\n" SNOOPY "\n[\n  {\n    \"class\": \"audit\",\n    \"event\": "
                              "\"startup\"\n  }\n]\n";
    feed(s, "42.0", text, 7);
    tg_intake_src_free(s);
    rig_stop(&r);
    assert_int_equal(cap.n, 3);
    /* identical lines: distinct salts, so distinct ids; the object framed */
    assert_string_equal(cap.salt[0], "42.0@0");
    assert_string_equal(cap.salt[1], "42.0@69");
    assert_string_equal(cap.salt[2], "42.0@140");
    assert_true(strcmp(cap.json[0], cap.json[1]) != 0);
    assert_non_null(strstr(cap.json[2], "\"dataset\":\"percona.audit\""));
    assert_string_equal(cap.type[0], "file");
    cap_reset();
}

static void test_same_place_same_id(void **state)
{
    /* the same record at the same offset of the same file (a re-read) has
     * the same id; in another file (identity) another */
    char *json[3]; /* the event.id member of each */
    const char *ids[] = {"42.0", "42.0", "43.0"};
    for (int k = 0; k < 3; k++) {
        struct rig r = {0};
        cap_reset();
        rig_start(&r, NULL, false);
        struct tg_intake_src *s =
            tg_intake_src_new(r.in, &(struct tg_intake_src_conf){.ops = &tg_in_file});
        feed(s, ids[k], SNOOPY "\n", 64);
        tg_intake_src_free(s);
        rig_stop(&r);
        assert_int_equal(cap.n, 1);
        const char *id = strstr(cap.json[0], "\"id\":\"");
        assert_non_null(id);
        json[k] = tg_xstrndup(id, 40);
    }
    cap_reset();
    assert_string_equal(json[0], json[1]);
    assert_true(strcmp(json[0], json[2]) != 0);
    for (int k = 0; k < 3; k++)
        free(json[k]);
}

static void test_resume_offset(void **state)
{
    struct rig r = {0};
    cap_reset();
    rig_start(&r, NULL, false);
    struct tg_intake_src *s =
        tg_intake_src_new(r.in, &(struct tg_intake_src_conf){.ops = &tg_in_file});
    struct tg_intake_stream *st = tg_intake_stream_new(s, TG_STR_NULL, tg_str_c("1.0"), 1000);
    tg_intake_stream_feed(st, "a\n{\n  \"x\": 1\n", 13);
    assert_int_equal(tg_intake_stream_resume(st), 1002); /* the object is still open */
    tg_intake_stream_feed(st, "}\npart", 6);
    assert_int_equal(tg_intake_stream_resume(st), 1015); /* a line without its LF */
    tg_intake_stream_feed(st, "ial\n", 4);
    assert_int_equal(tg_intake_stream_resume(st), 1023);
    assert_int_equal(tg_intake_stream_offset(st), 1023);
    tg_intake_stream_end(st);
    tg_intake_stream_free(st);
    tg_intake_src_free(s);
    rig_stop(&r);
    assert_int_equal(cap.n, 3);
    cap_reset();
}

static void test_message_limit(void **state)
{
    struct rig r = {0};
    cap_reset();
    rig_start(&r, NULL, false);
    struct tg_intake_src *s =
        tg_intake_src_new(r.in, &(struct tg_intake_src_conf){.ops = &tg_in_relp, .max_record = 8});
    assert_int_equal(tg_intake_message(s, tg_str_c("10.0.0.1"), "12345678", 8, 0), 0);
    assert_int_equal(tg_intake_message(s, tg_str_c("10.0.0.1"), "123456789", 9, 0), 0);
    tg_intake_src_free(s);
    rig_stop(&r);
    assert_int_equal(cap.n, 2);
    assert_false(cap.truncated[0]);
    assert_true(cap.truncated[1]);
    assert_non_null(strstr(cap.json[1], "\"original\":\"12345678\""));
    assert_string_equal(cap.salt[0], "-"); /* messages are not salted */
    assert_string_equal(cap.type[1], "relp");
    cap_reset();
}

/* The value of the sample `name` in the rendered /metrics, or -1. */
static long long metric(const char *name)
{
    struct tg_buf m = TG_BUF_INIT;
    tg_metrics_render(NULL, &m);
    const char *at = strstr(tg_buf_cstr(&m), name);
    long long v = at ? strtoll(at + strlen(name), NULL, 10) : -1;
    tg_buf_free(&m);
    return v;
}

static void test_counted_once(void **state)
{
    /* a source's records and bytes are counted once, by the intake, in its
     * row of /metrics when it names one; its stats are its own, the row
     * goes on across a restart of the same input */
    struct rig r = {0};
    cap_reset();
    rig_start(&r, NULL, false);
    struct tg_intake_src_conf c = {
        .ops = &tg_in_relp, .max_record = 8, .metrics_label = "input.relp.unit"};
    struct tg_intake_src *s = tg_intake_src_new(r.in, &c);
    assert_int_equal(tg_intake_message(s, TG_STR_NULL, "hello", 5, 0), 0);
    assert_int_equal(tg_intake_message(s, TG_STR_NULL, "123456789", 9, 0), 0); /* cut at 8 */
    struct tg_intake_stats st;
    tg_intake_src_stats(s, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.bytes, 13);
    assert_int_equal(metric("trailguard_input_records_total{input=\"input.relp.unit\"} "), 2);
    assert_int_equal(metric("trailguard_input_bytes_total{input=\"input.relp.unit\"} "), 13);
    tg_intake_src_free(s);
    s = tg_intake_src_new(r.in, &c); /* the same input again */
    struct tg_intake_src *plain =
        tg_intake_src_new(r.in, &(struct tg_intake_src_conf){.ops = &tg_in_file});
    assert_int_equal(tg_intake_message(s, TG_STR_NULL, "abc", 3, 0), 0);
    feed(plain, "7.0", "one\ntwo\n", 64);
    tg_intake_src_stats(s, &st);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.bytes, 3);
    assert_int_equal(metric("trailguard_input_records_total{input=\"input.relp.unit\"} "), 3);
    assert_int_equal(metric("trailguard_input_bytes_total{input=\"input.relp.unit\"} "), 16);
    tg_intake_src_stats(plain, &st); /* no row: counted in the source alone */
    assert_int_equal(st.records, 2);
    assert_int_equal(st.bytes, 6);
    assert_int_equal(metric("input=\"input.file\"} "), -1);
    tg_intake_src_free(plain);
    tg_intake_src_free(s);
    rig_stop(&r);
    assert_int_equal(cap.n, 5);
    cap_reset();
}

static char tmpdir[64];

static void test_replay_same_event(void **state)
{
    strcpy(tmpdir, "/tmp/tg-intake-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    const char *sinks[] = {"capture"};
    struct tg_spool_conf sc = {.dir = tmpdir,
                               .fsync = TG_FSYNC_NEVER,
                               .fsync_interval_ms = 1000,
                               .max_bytes = 1 << 20,
                               .sinks = sinks,
                               .nsinks = 1};
    /* first run: a file stream of format percona and a RELP message, spooled;
     * the sink's confirmations do not reach the spool, so all is replayed */
    struct tg_spool *sp;
    assert_int_equal(tg_spool_open(&sc, &sp), 0);
    struct rig r = {0};
    cap_reset();
    rig_start(&r, sp, false);
    struct tg_intake_src *f = tg_intake_src_new(
        r.in, &(struct tg_intake_src_conf){.ops = &tg_in_file, .format = TG_FMT_PERCONA});
    feed(f, "7.1", SNOOPY "\n" SNOOPY "\n{\"audit_record\":{\"name\":\"Query\"}}\n", 5);
    struct tg_intake_src *m =
        tg_intake_src_new(r.in, &(struct tg_intake_src_conf){.ops = &tg_in_relp, .max_record = 10});
    assert_int_equal(
        tg_intake_message(m, tg_str_c("10.0.0.9"), "<14>Nov 24 13:44:13 h x: long", 29, 0), 0);
    tg_intake_src_free(f);
    tg_intake_src_free(m);
    rig_stop(&r);
    tg_spool_close(sp);
    assert_int_equal(cap.n, 4);
    char *first[4];
    for (int i = 0; i < 4; i++)
        first[i] = tg_xasprintf("%s %s %d", cap.json[i], cap.salt[i], cap.truncated[i]);
    /* second run: the replay */
    cap_reset();
    assert_int_equal(tg_spool_open(&sc, &sp), 0);
    rig_start(&r, sp, true);
    assert_int_equal(tg_intake_replay(r.in), 4);
    rig_stop(&r);
    tg_spool_close(sp);
    assert_int_equal(cap.n, 4);
    for (int i = 0; i < 4; i++) {
        char *again = tg_xasprintf("%s %s %d", cap.json[i], cap.salt[i], cap.truncated[i]);
        assert_string_equal(again, first[i]);
        free(again);
        free(first[i]);
    }
    /* percona format travelled with the record: the snoopy lines stay unparsed */
    assert_non_null(strstr(cap.json[0], "not a Percona audit JSON record"));
    assert_non_null(strstr(cap.json[2], "\"dataset\":\"percona.audit\""));
    cap_reset();
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* Wait (bounded) until the capture sink has n events. */
static void cap_wait(size_t n)
{
    for (int i = 0; i < 1000 && cap.n < n; i++)
        usleep(10000);
    assert_int_equal(cap.n, n);
}

static void test_internal_source(void **state)
{
    struct rig r = {0};
    cap_reset();
    rig_start(&r, NULL, false);
    struct tg_input in = {.ops = &tg_in_internal, .intake = r.in};
    assert_int_equal(in.ops->start(&in, NULL), 0);
    struct tg_buf rec = TG_BUF_INIT;
    tg_internal_rec_build(&rec, "trailguard.health", "silence", "Host h1 went silent.",
                          TG_STR_LIT("{\"host\":\"h1\",\"seconds\":600.0}"));
    /* emitted by some part of the collector: to every sink */
    assert_int_equal(tg_internal_emit(rec.data, rec.len), 0);
    cap_wait(1);
    /* announced by sink 0: done for it */
    tg_internal_announce(&in, 0, rec.data, rec.len);
    cap_wait(2);
    in.ops->stop(&in);
    tg_pipeline_drain(r.pipe);
    in.ops->finish(&in); /* after the drain, before the intake goes */
    tg_intake_free(r.in);
    tg_pipeline_free(r.pipe);
    assert_int_equal(tg_internal_emit(rec.data, rec.len), TG_ECLOSED); /* none runs */
    tg_buf_free(&rec);
    assert_true(cap.wanted[0]);
    assert_false(cap.wanted[1]);
    assert_string_equal(cap.type[0], "internal");
    const char *j = cap.json[0];
    assert_non_null(strstr(
        j, "\"kind\":\"event\",\"module\":\"trailguard\",\"dataset\":\"trailguard.health\""));
    assert_non_null(strstr(j, "\"action\":\"silence\""));
    assert_non_null(strstr(j, "\"message\":\"Host h1 went silent.\""));
    assert_non_null(strstr(j, "\"trailguard\":{\"health\":{\"host\":\"h1\",\"seconds\":600.0},"
                              "\"input\":{\"type\":\"internal\"},\"parse\":{\"status\":\"ok\"}}"));
    cap_reset();
}

/* The spool stores a source's code with each record and the events carry
 * its name: both must be unique among the registry's sources. */
static void test_source_codes_unique(void **state)
{
    size_t n;
    const struct tg_source_ops *const *src = tg_registry_sources(&n);
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++) {
            assert_int_not_equal(src[i]->code, src[k]->code);
            assert_string_not_equal(src[i]->name, src[k]->name);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_lines_pending),
        cmocka_unit_test(test_stream_records_and_salts),
        cmocka_unit_test(test_same_place_same_id),
        cmocka_unit_test(test_resume_offset),
        cmocka_unit_test(test_message_limit),
        cmocka_unit_test(test_counted_once),
        cmocka_unit_test(test_replay_same_event),
        cmocka_unit_test(test_internal_source),
        cmocka_unit_test(test_source_codes_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
