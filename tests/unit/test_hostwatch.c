/*
 * test_hostwatch.c - the silence rule with an injected clock
 * (core/hostwatch.h): a host goes silent only after more than
 * silence_seconds, is reported once, resumes with its next record; old
 * (replayed) records move nothing back; silence_seconds 0 never reports;
 * the table's limit; the metrics' label escaping; the saved state across a
 * restart (the downtime is not silence); the health record's data; the
 * origin of an event; the checker thread; concurrent workers (TSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "core/hostwatch.h"

#define S 1000000LL

struct seen_changes {
    struct tg_host_change c[8];
    char hosts[8][64];
    size_t n;
};

static void collect(void *ctx, const struct tg_host_change *c)
{
    struct seen_changes *s = ctx;
    if (s->n == 8)
        return;
    s->c[s->n] = *c;
    snprintf(s->hosts[s->n], sizeof(s->hosts[0]), "%s", c->host);
    s->c[s->n].host = s->hosts[s->n];
    s->n++;
}

static size_t check(struct tg_hostwatch *h, int64_t now, struct seen_changes *s)
{
    memset(s, 0, sizeof(*s));
    return tg_hostwatch_check(h, now, collect, s);
}

static void test_silent_then_resumed(void **state)
{
    (void)state;
    struct tg_hostwatch *h = tg_hostwatch_new(10, 100);
    struct seen_changes s;
    tg_hostwatch_seen(h, TG_STR_LIT("web1"), 1000 * S);
    tg_hostwatch_seen(h, TG_STR_LIT("web2"), 1005 * S);
    assert_int_equal(check(h, 1005 * S, &s), 0);
    assert_int_equal(check(h, 1010 * S, &s), 0); /* exactly silence_seconds: not longer */
    assert_int_equal(check(h, 1010 * S + 1, &s), 1);
    assert_int_equal(s.c[0].what, TG_HOST_SILENT);
    assert_string_equal(s.c[0].host, "web1");
    assert_int_equal(s.c[0].last_seen_us, 1000 * S);
    assert_int_equal(s.c[0].quiet_seconds, 10);
    bool silent;
    assert_int_equal(tg_hostwatch_last_seen(h, "web1", &silent), 1000 * S);
    assert_true(silent);
    assert_int_equal(check(h, 1012 * S, &s), 0); /* reported once */
    /* a replayed record older than the silence neither resumes nor moves last-seen back */
    tg_hostwatch_seen(h, TG_STR_LIT("web1"), 990 * S);
    assert_int_equal(check(h, 1013 * S, &s), 0);
    assert_int_equal(tg_hostwatch_last_seen(h, "web1", NULL), 1000 * S);
    tg_hostwatch_seen(h, TG_STR_LIT("web1"), 1030 * S);
    tg_hostwatch_seen(h, TG_STR_LIT("web1"), 1031 * S);
    assert_int_equal(check(h, 1031 * S, &s), 2); /* web1 resumed; web2 quiet for 26 s */
    for (size_t i = 0; i < 2; i++) {
        if (strcmp(s.c[i].host, "web1") == 0) {
            assert_int_equal(s.c[i].what, TG_HOST_RESUMED);
            assert_int_equal(s.c[i].last_seen_us, 1000 * S);
            assert_int_equal(s.c[i].resumed_us, 1030 * S); /* its first record after */
            assert_int_equal(s.c[i].quiet_seconds, 30);
        } else {
            assert_string_equal(s.c[i].host, "web2");
            assert_int_equal(s.c[i].what, TG_HOST_SILENT);
        }
    }
    assert_int_equal(tg_hostwatch_last_seen(h, "web1", &silent), 1031 * S);
    assert_false(silent);
    assert_int_equal(tg_hostwatch_last_seen(h, "nosuch", &silent), -1);
    tg_hostwatch_free(h);

    h = tg_hostwatch_new(0, 100); /* 0: last-seen only, never silent */
    tg_hostwatch_seen(h, TG_STR_LIT("web1"), 1000 * S);
    assert_int_equal(check(h, 999999 * S, &s), 0);
    tg_hostwatch_free(h);
}

static void test_limit_and_metrics(void **state)
{
    (void)state;
    struct tg_hostwatch *h = tg_hostwatch_new(10, 2);
    tg_hostwatch_seen(h, TG_STR_LIT("we\"b\\1\n"), 1500 * S);
    tg_hostwatch_seen(h, TG_STR_LIT("web2"), 1 * S);
    tg_hostwatch_seen(h, TG_STR_LIT("web3"), 1 * S); /* past the limit */
    tg_hostwatch_seen(h, TG_STR_LIT("web3"), 2 * S);
    tg_hostwatch_seen(h, TG_STR_NULL, 2 * S); /* no origin: nothing */
    struct tg_buf b = TG_BUF_INIT;
    tg_hostwatch_render(h, &b);
    const char *t = tg_buf_cstr(&b);
    assert_non_null(strstr(t, "trailguard_host_last_seen_seconds{host=\"we\\\"b\\\\1\\n\"} "
                              "1500.000\n"));
    assert_non_null(strstr(t, "trailguard_host_silent{host=\"web2\"} 0\n"));
    assert_null(strstr(t, "web3"));
    assert_non_null(strstr(t, "trailguard_hosts_untracked_total 2\n"));
    tg_buf_free(&b);
    struct seen_changes s;
    check(h, 100 * S, &s);
    b = (struct tg_buf)TG_BUF_INIT;
    tg_hostwatch_render(h, &b);
    assert_non_null(strstr(tg_buf_cstr(&b), "trailguard_host_silent{host=\"web2\"} 1\n"));
    tg_buf_free(&b);
    tg_hostwatch_free(h);
}

static void test_saved_state(void **state)
{
    (void)state;
    char dir[] = "/tmp/tg-hostwatch-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct tg_hostwatch *h = tg_hostwatch_new(10, 100);
    tg_hostwatch_seen(h, TG_STR_LIT("web1"), 1000 * S);
    tg_hostwatch_seen(h, TG_STR_LIT("bad\thost"), 1000 * S); /* not saved: not one field */
    assert_int_equal(tg_hostwatch_save(h, dir), 0);
    tg_hostwatch_free(h);
    /* restarted at 5000 s, after a long downtime */
    h = tg_hostwatch_new(10, 100);
    assert_int_equal(tg_hostwatch_load(h, dir, 5000 * S), 0);
    struct seen_changes s;
    assert_int_equal(check(h, 5010 * S, &s), 0); /* the downtime is not silence */
    assert_int_equal(tg_hostwatch_last_seen(h, "web1", NULL), 1000 * S);
    assert_int_equal(tg_hostwatch_last_seen(h, "bad\thost", NULL), -1);
    assert_int_equal(check(h, 5011 * S, &s), 1); /* quiet since the restart as well */
    assert_int_equal(s.c[0].what, TG_HOST_SILENT);
    assert_int_equal(s.c[0].quiet_seconds, 4011); /* since its real last record */
    tg_hostwatch_free(h);
    h = tg_hostwatch_new(10, 100);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tg_hostwatch_load(h, dir, 0), 0); /* nothing saved: empty */
    tg_hostwatch_free(h);
}

static void test_describe(void **state)
{
    (void)state;
    struct tg_host_change c = {TG_HOST_RESUMED, "web1", 1000 * S, 1030 * S, 30, 10};
    struct tg_buf msg = TG_BUF_INIT, data = TG_BUF_INIT;
    tg_hostwatch_describe(&c, &msg, &data);
    assert_non_null(strstr(tg_buf_cstr(&msg), "host web1 is sending again after 30 s"));
    json_object *o = json_tokener_parse(tg_buf_cstr(&data));
    assert_non_null(o);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "state", &v));
    assert_string_equal(json_object_get_string(v), "resumed");
    assert_true(json_object_object_get_ex(o, "resumed", &v));
    assert_string_equal(json_object_get_string(v), "1970-01-01T00:17:10.000000Z");
    assert_true(json_object_object_get_ex(o, "quiet_seconds", &v));
    assert_int_equal(json_object_get_int(v), 30);
    json_object_put(o);
    tg_buf_free(&msg);
    tg_buf_free(&data);
}

static void test_event_origin(void **state)
{
    (void)state;
    struct tg_hostwatch *h = tg_hostwatch_new(10, 100);
    struct tg_input_meta relp = {.type = "relp", .peer = TG_STR_LIT("10.0.0.5")};
    struct tg_input_meta internal = {.type = "internal"};
    struct tg_event *ev = tg_event_new("x", 1, &relp, (struct tg_time){100, 0, 6});
    tg_hostwatch_event(h, ev); /* no host.name: the peer */
    ev->host_name = TG_STR_LIT("web1");
    ev->ingested.sec = 200;
    tg_hostwatch_event(h, ev);
    tg_event_free(ev);
    ev = tg_event_new("x", 1, &internal, (struct tg_time){300, 0, 6});
    ev->host_name = TG_STR_LIT("collector");
    tg_hostwatch_event(h, ev); /* trailguard's own record: not a host's */
    tg_event_free(ev);
    assert_int_equal(tg_hostwatch_last_seen(h, "10.0.0.5", NULL), 100 * S);
    assert_int_equal(tg_hostwatch_last_seen(h, "web1", NULL), 200 * S);
    assert_int_equal(tg_hostwatch_last_seen(h, "collector", NULL), -1);
    tg_hostwatch_event(NULL, NULL); /* no watch: nothing */
    tg_hostwatch_free(h);
}

/* ------------------------------------------------------------ threads */

struct tg_flag {
    pthread_mutex_t mu;
    int silent;
};

static void flag_change(void *ctx, const struct tg_host_change *c)
{
    struct tg_flag *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->silent += c->what == TG_HOST_SILENT;
    pthread_mutex_unlock(&f->mu);
}

struct tg_worker {
    struct tg_hostwatch *h;
    int id;
};

static void *worker(void *arg)
{
    struct tg_worker *w = arg;
    char name[16];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(name, sizeof(name), "h%d", (i + w->id) % 50);
        tg_hostwatch_seen(w->h, tg_str_make(name, (size_t)n), (int64_t)i * S);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct tg_hostwatch *h = tg_hostwatch_new(1, 1000);
    struct tg_flag f = {PTHREAD_MUTEX_INITIALIZER, 0};
    tg_hostwatch_seen(h, TG_STR_LIT("quiet"), 1 * S); /* long ago: silent at the first check */
    tg_hostwatch_start(h, 10, NULL, flag_change, &f);
    pthread_t th[4];
    struct tg_worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct tg_worker){h, i};
        pthread_create(&th[i], NULL, worker, &w[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    int silent = 0;
    for (int tries = 0; tries < 500 && !silent; tries++) { /* bounded wait for the thread */
        pthread_mutex_lock(&f.mu);
        silent = f.silent;
        pthread_mutex_unlock(&f.mu);
        if (!silent)
            usleep(10000);
    }
    assert_true(silent >= 1);
    tg_hostwatch_stop(h);
    assert_int_equal(tg_hostwatch_last_seen(h, "h0", NULL), 1999 * S);
    tg_hostwatch_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_then_resumed), cmocka_unit_test(test_limit_and_metrics),
        cmocka_unit_test(test_saved_state),         cmocka_unit_test(test_describe),
        cmocka_unit_test(test_event_origin),        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
