/*
 * test_metrics.c - the counters registry and its renderings: finished
 * events are counted by dataset, status and decision; the exposition has
 * HELP/TYPE once per family; a snapshot id is escaped as a label value; the
 * summary line carries the same totals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/errors.h"
#include "core/metrics.h"

static struct tg_event *mk(enum tg_dataset ds, enum tg_parse_status st, enum tg_decision d)
{
    struct tg_input_meta in = {.type = "stdin"};
    struct tg_event *ev = tg_event_new("x", 1, &in, tg_time_now());
    ev->dataset = ds;
    ev->parse_status = st;
    ev->policy.decision = d;
    return ev;
}

static void count(enum tg_dataset ds, enum tg_parse_status st, enum tg_decision d)
{
    struct tg_event *ev = mk(ds, st, d);
    tg_metrics_count_event(ev);
    tg_event_free(ev);
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_count_and_render(void **state)
{
    count(TG_DS_SNOOPY, TG_PARSE_OK, TG_DECISION_ALLOW);
    count(TG_DS_SNOOPY, TG_PARSE_PARTIAL, TG_DECISION_DENY);
    count(TG_DS_PERCONA, TG_PARSE_OK, TG_DECISION_NOT_APPLICABLE);
    count(TG_DS_SYSLOG, TG_PARSE_UNPARSED, TG_DECISION_NONE);
    tg_metrics_set(TG_G_SPOOL_BYTES, 4096);
    tg_metrics_set_snapshot("ipa \"prod\"\\x\nnext", 1700000000);
    tg_metrics_set_snapshot("ipa \"prod\"\\x\nnext", 1800000000); /* same id: time kept */

    struct tg_buf b = TG_BUF_INIT;
    tg_metrics_render(NULL, &b);
    const char *t = tg_buf_cstr(&b);
    assert_non_null(strstr(t, "trailguard_events_parsed_total{dataset=\"snoopy\"} 2\n"));
    assert_non_null(strstr(t, "trailguard_events_parsed_total{dataset=\"percona.audit\"} 1\n"));
    assert_non_null(strstr(t, "trailguard_events_parsed_total{dataset=\"syslog\"} 0\n"));
    assert_non_null(strstr(t, "trailguard_events_partial_total 1\n"));
    assert_non_null(strstr(t, "trailguard_events_unparsed_total 1\n"));
    assert_non_null(strstr(t, "trailguard_policy_decisions_total{decision=\"deny\"} 1\n"));
    assert_non_null(
        strstr(t, "trailguard_policy_decisions_total{decision=\"not_applicable\"} 1\n"));
    assert_non_null(strstr(t, "trailguard_spool_bytes 4096\n"));
    assert_non_null(strstr(t, "trailguard_policy_snapshot_loaded_timestamp_seconds 1700000000\n"));
    assert_non_null(
        strstr(t, "trailguard_policy_snapshot_info{id=\"ipa \\\"prod\\\"\\\\x\\nnext\"} 1\n"));
    assert_int_equal(occurrences(t, "# TYPE trailguard_events_parsed_total counter\n"), 1);
    assert_int_equal(occurrences(t, "# HELP trailguard_policy_decisions_total "), 1);
    assert_int_equal(t[b.len - 1], '\n');

    tg_buf_reset(&b);
    tg_metrics_summary(NULL, &b);
    t = tg_buf_cstr(&b);
    assert_non_null(strstr(t, "snoopy=2 percona.audit=1 sudo=0 partial=1 unparsed=1"));
    assert_non_null(strstr(t, "allow=1 deny=1 not_applicable=1; spool_bytes=4096"));
    assert_non_null(strstr(t, "snapshot=\"ipa \\\"prod\\\"\\\\x\\nnext\""));
    assert_null(strchr(t, '\n')); /* one log line, even with a newline in the id */
    tg_buf_free(&b);
    tg_metrics_set_snapshot(NULL, 0);
}

static void test_bad_listen_address(void **state)
{
    struct tg_metrics_server *m = NULL;
    struct tg_metrics_conf mc = {.listen = "no-port-here"};
    assert_int_equal(tg_metrics_start(&mc, &m), TG_EIO);
    mc.listen = "";
    assert_int_equal(tg_metrics_start(&mc, &m), 0);
    tg_metrics_stop(m);
}

static int refreshed;

static void refresh(void *ctx)
{
    refreshed++;
    tg_metrics_set(TG_G_SPOOL_BYTES, *(int64_t *)ctx);
}

/* GET path from 127.0.0.1:port over a plain socket; the response in out. */
static void http_get(int port, const char *path, struct tg_buf *out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[128];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    char buf[4096];
    ssize_t got;
    while ((got = read(fd, buf, sizeof(buf))) > 0)
        tg_buf_append(out, buf, (size_t)got);
    close(fd);
}

static void test_http_with_refresh(void **state)
{
    int64_t spool = 123456;
    struct tg_metrics_server *m = NULL;
    char listen[32];
    int port;
    /* a free port of this suite's range (another build may run it too) */
    for (port = 20700; port < 20710; port++) {
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        struct tg_metrics_conf mc = {.listen = listen, .refresh = refresh, .refresh_ctx = &spool};
        if (tg_metrics_start(&mc, &m) == 0)
            break;
    }
    assert_non_null(m);
    struct tg_buf b = TG_BUF_INIT;
    http_get(port, "/metrics", &b);
    const char *t = tg_buf_cstr(&b);
    assert_true(strncmp(t, "HTTP/1.", 7) == 0 && strncmp(t + 8, " 200 ", 5) == 0);
    assert_non_null(strstr(t, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(t, "\ntrailguard_spool_bytes 123456\n"));
    assert_int_equal(refreshed, 1);
    tg_buf_reset(&b);
    http_get(port, "/", &b);
    assert_non_null(strstr(tg_buf_cstr(&b), " 404 "));
    tg_buf_free(&b);
    /* the port is taken: a second server cannot start */
    struct tg_metrics_server *m2 = NULL;
    struct tg_metrics_conf mc2 = {.listen = listen};
    assert_int_equal(tg_metrics_start(&mc2, &m2), TG_EIO);
    tg_metrics_stop(m);
}

/* Inputs registered once and counted under their label (escaped); an
 * optional gauge appears only once set; the build info is one sample. */
static void test_inputs_optional_build_info(void **state)
{
    struct tg_input_counters *a = tg_metrics_input("input.relp.\"x\"", 0);
    assert_non_null(a);
    assert_ptr_equal(tg_metrics_input("input.relp.\"x\"", 0), a); /* the same entry again */
    tg_metrics_input_add(a, 100);
    tg_metrics_input_add(a, 20);
    tg_metrics_input_add(NULL, 5); /* an input past the table: nothing, no crash */
    struct tg_buf b = TG_BUF_INIT;
    tg_metrics_render(NULL, &b);
    const char *t = tg_buf_cstr(&b);
    assert_non_null(
        strstr(t, "trailguard_input_records_total{input=\"input.relp.\\\"x\\\"\"} 2\n"));
    assert_non_null(
        strstr(t, "trailguard_input_bytes_total{input=\"input.relp.\\\"x\\\"\"} 120\n"));
    assert_null(strstr(t, "input_sessions")); /* no listening input */
    assert_null(strstr(t, "store_head_age_seconds"));
    assert_int_equal(occurrences(t, "trailguard_build_info{version=\""), 1);
    tg_metrics_set(TG_G_STORE_HEAD_AGE, 7);
    b.len = 0;
    tg_metrics_render(NULL, &b);
    assert_non_null(
        strstr(tg_buf_cstr(&b), "trailguard_store_head_age_seconds{sink=\"file\"} 7\n"));
    tg_metrics_unset(TG_G_STORE_HEAD_AGE);
    b.len = 0;
    tg_metrics_render(NULL, &b);
    assert_null(strstr(tg_buf_cstr(&b), "store_head_age_seconds"));
    tg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_and_render),
        cmocka_unit_test(test_bad_listen_address),
        cmocka_unit_test(test_http_with_refresh),
        cmocka_unit_test(test_inputs_optional_build_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
