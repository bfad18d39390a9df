/*
 * test_history.c - the snapshot history (policy/history.h) and judging
 * over time (tg_policy_judge): entries and their times, the index read
 * back (torn last line cut or skipped, unreadable lines skipped, a clock
 * stepped back, the same id twice), lazy loads with the LRU cache and its
 * refcounts, a stored copy that was changed, the snapshot in force at an
 * instant and the grace window's edges, and concurrent loads (TSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/metrics.h"
#include "policy/history.h"
#include "policy/policy.h"

static char dir[64];

static void put(const char *sub, const char *name, const char *text)
{
    char p[400];
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tg-history-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path(const char *sub)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    return p;
}

/* A snapshot "src/<name>" whose passwd holds `user`. */
static struct tg_snapshot *snap(const char *name, const char *user)
{
    char sub[64], line[128];
    snprintf(sub, sizeof(sub), "src-%s", name);
    snprintf(line, sizeof(line), "%s:x:1001:1001::/home/%s:/bin/sh\n", user, user);
    put(sub, "passwd", line);
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(path(sub), &s, &err), 0);
    return s;
}

/* Record s as coming into force at from_us (stage, check, commit). */
static void record(struct tg_history *h, struct tg_snapshot *s, const char *name, int64_t from_us)
{
    char sub[64], *stage = NULL, *err = NULL, id[17];
    snprintf(sub, sizeof(sub), "src-%s", name);
    assert_int_equal(tg_history_stage(h, path(sub), &stage, &err), 0);
    assert_int_equal(tg_snapshot_dir_id(stage, id), 0);
    assert_string_equal(id, s->id);
    assert_int_equal(tg_history_commit(h, stage, s, from_us, &err), 0);
    free(stage);
}

#define S 1000000LL /* one second in microseconds */

static void test_entries_and_find(void **state)
{
    (void)state;
    struct tg_history *h;
    char *err = NULL;
    assert_int_equal(tg_history_open(path("h"), true, &h, &err), 0);
    struct tg_snapshot *a = snap("a", "alice"), *b = snap("b", "bob");
    record(h, a, "a", 100 * S);
    record(h, a, "a", 150 * S); /* the same snapshot again: no new entry */
    record(h, b, "b", 200 * S);
    assert_int_equal(tg_history_len(h), 2);
    struct tg_history_entry e;
    assert_int_equal(tg_history_find(h, 199 * S, &e), 0);
    assert_string_equal(e.id, a->id);
    assert_int_equal(e.from_us, 100 * S);
    assert_int_equal(e.until_us, 200 * S);
    assert_int_equal(tg_history_find(h, 200 * S, &e), 1);
    assert_string_equal(e.id, b->id);
    assert_true(e.until_us == INT64_MAX);
    assert_int_equal(tg_history_find(h, 5 * S, &e), 0); /* before the history: the oldest */
    /* the copies are where the index says, and load to their ids */
    struct tg_snapshot *got = tg_history_get(h, a->id, &err);
    assert_non_null(got);
    assert_string_equal(got->id, a->id);
    tg_snapshot_unref(got);
    tg_history_free(h);

    /* read back by a reader, and a writer */
    assert_int_equal(tg_history_open(path("h"), false, &h, &err), 0);
    assert_int_equal(tg_history_len(h), 2);
    assert_true(tg_history_entry(h, 1, &e));
    assert_string_equal(e.id, b->id);
    assert_int_equal(e.from_us, 200 * S);
    tg_history_free(h);
    tg_snapshot_unref(a);
    tg_snapshot_unref(b);
}

static void append_index(const char *text)
{
    FILE *f = fopen(path("h/" TG_HISTORY_INDEX), "a");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_index_damage(void **state)
{
    (void)state;
    struct tg_history *h;
    char *err = NULL;
    assert_int_equal(tg_history_open(path("h"), true, &h, &err), 0);
    struct tg_snapshot *a = snap("a", "alice"), *b = snap("b", "bob");
    record(h, a, "a", 100 * S);
    record(h, b, "b", 200 * S);
    tg_history_free(h);
    uint64_t failures = tg_metrics_get(TG_C_HISTORY_FAILURES);
    append_index("# a comment\nnot a line\n");
    char line[80];
    /* a clock stepped back: a's return is taken as at b's time */
    snprintf(line, sizeof(line), "1970-01-01T00:02:30Z\t%s\n1970-01-01T00:05:00Z\t%s", a->id,
             b->id);
    append_index(line); /* the last line torn: no newline */
    assert_int_equal(tg_history_open(path("h"), false, &h, &err), 0);
    assert_int_equal(tg_history_len(h), 3); /* the torn line skipped */
    assert_int_equal(tg_metrics_get(TG_C_HISTORY_FAILURES), failures + 1);
    struct tg_history_entry e;
    assert_true(tg_history_entry(h, 2, &e));
    assert_string_equal(e.id, a->id);
    assert_int_equal(e.from_us, 200 * S);
    tg_history_free(h);
    struct stat st0, st1;
    assert_int_equal(stat(path("h/" TG_HISTORY_INDEX), &st0), 0);
    assert_int_equal(tg_history_open(path("h"), true, &h, &err), 0); /* a writer cuts it */
    assert_int_equal(stat(path("h/" TG_HISTORY_INDEX), &st1), 0);
    assert_int_equal(st0.st_size - st1.st_size, strlen("1970-01-01T00:05:00Z\t") + 16);
    record(h, b, "b", 400 * S);
    assert_int_equal(tg_history_len(h), 4);
    tg_history_free(h);
    assert_int_equal(tg_history_open(path("h"), false, &h, &err), 0);
    assert_int_equal(tg_history_len(h), 4);
    tg_history_free(h);
    tg_snapshot_unref(a);
    tg_snapshot_unref(b);
}

static void test_cache(void **state)
{
    (void)state;
    struct tg_history *h;
    char *err = NULL;
    assert_int_equal(tg_history_open(path("h"), true, &h, &err), 0);
    enum { N = TG_HISTORY_CACHE + 2 };
    struct tg_snapshot *s[N];
    char names[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "u%d", i);
        s[i] = snap(names[i], names[i]);
        record(h, s[i], names[i], (i + 1) * 100 * S);
    }
    struct tg_snapshot *first = tg_history_get(h, s[0]->id, &err);
    assert_non_null(first);
    assert_ptr_not_equal(first, s[0]); /* loaded from its copy */
    struct tg_snapshot *again = tg_history_get(h, s[0]->id, &err);
    assert_ptr_equal(again, first); /* cached */
    tg_snapshot_unref(again);
    for (int i = 1; i < N; i++) /* evicts s[0]'s copy: the least recently used */
        tg_snapshot_unref(tg_history_get(h, s[i]->id, &err));
    assert_string_equal(first->id, s[0]->id); /* still ours: refcounted */
    struct tg_snapshot *reloaded = tg_history_get(h, s[0]->id, &err);
    assert_ptr_not_equal(reloaded, first);
    assert_string_equal(reloaded->id, s[0]->id);
    tg_snapshot_unref(reloaded);
    tg_snapshot_unref(first);
    /* keep(): the outgoing current snapshot is served without a load */
    tg_history_keep(h, s[1]);
    struct tg_snapshot *kept = tg_history_get(h, s[1]->id, &err);
    assert_ptr_equal(kept, s[1]);
    tg_snapshot_unref(kept);
    /* a stored copy changed afterwards is refused, and that is remembered */
    char p[400];
    snprintf(p, sizeof(p), "h/snapshots/%s/passwd", s[2]->id);
    FILE *f = fopen(path(p), "a");
    fputs("mallory:x:0:0::/:/bin/sh\n", f);
    fclose(f);
    for (int i = 3; i < N; i++) /* push s[2] out of the cache first */
        tg_snapshot_unref(tg_history_get(h, s[i]->id, &err));
    tg_snapshot_unref(tg_history_get(h, s[0]->id, &err));
    uint64_t failures = tg_metrics_get(TG_C_HISTORY_FAILURES);
    assert_null(tg_history_get(h, s[2]->id, &err));
    assert_non_null(strstr(err, "was changed after it was stored"));
    free(err);
    assert_null(tg_history_get(h, s[2]->id, &err));
    assert_non_null(err);
    free(err);
    assert_int_equal(tg_metrics_get(TG_C_HISTORY_FAILURES), failures + 1); /* logged once */
    tg_history_free(h);
    for (int i = 0; i < N; i++)
        tg_snapshot_unref(s[i]);
}

/* decide(): allow iff the snapshot knows user ctx (a passwd entry) */
static void knows(void *ctx, const struct tg_snapshot *s, struct tg_verdict *v)
{
    bool yes = tg_snapshot_entity(s, TG_NS_USER, ctx, strlen(ctx)) != NULL;
    v->decision = yes ? TG_DECISION_ALLOW : TG_DECISION_DENY;
    v->check = TG_CHECK_HBAC;
    v->rule = NULL;
    snprintf(v->reason, sizeof(v->reason), "%s %s.", s->id, yes ? "knows" : "does not know");
}

static void test_judge_grace(void **state)
{
    (void)state;
    struct tg_history *h;
    char *err = NULL;
    assert_int_equal(tg_history_open(path("h"), true, &h, &err), 0);
    struct tg_snapshot *a = snap("a", "alice"), *b = snap("b", "bob");
    record(h, a, "a", 100 * S);
    record(h, b, "b", 200 * S);
    tg_history_free(h);
    struct tg_policy_conf c = {0};
    tg_config_defaults(&tg_policy_section, &c);
    char histdir[512];
    snprintf(histdir, sizeof(histdir), "%s", path("h"));
    c.snapshot_history_dir = histdir;
    c.grace_seconds = 30;
    struct tg_policy *p = tg_policy_new(&c, NULL);
    struct tg_judgement j;
    tg_policy_judge(p, 150 * S, knows, "alice", &j); /* before the change: a */
    assert_int_equal(j.v.decision, TG_DECISION_ALLOW);
    assert_string_equal(j.judged->id, a->id);
    assert_null(j.in_force);
    tg_judgement_release(&j);
    tg_policy_judge(p, 150 * S, knows, "bob", &j); /* no grace before a change */
    assert_int_equal(j.v.decision, TG_DECISION_DENY);
    tg_judgement_release(&j);
    uint64_t graced = tg_metrics_get(TG_C_GRACE_ALLOWED);
    tg_policy_judge(p, 230 * S - 1, knows, "alice", &j); /* the last instant of grace */
    assert_int_equal(j.v.decision, TG_DECISION_ALLOW);
    assert_string_equal(j.judged->id, a->id);
    assert_string_equal(j.in_force->id, b->id);
    assert_non_null(strstr(j.v.reason, "grace_seconds 30 of the change from policy snapshot"));
    assert_non_null(strstr(j.v.reason, "does not know")); /* what b says */
    tg_judgement_release(&j);
    assert_int_equal(tg_metrics_get(TG_C_GRACE_ALLOWED), graced + 1);
    tg_policy_judge(p, 230 * S, knows, "alice", &j); /* grace is over */
    assert_int_equal(j.v.decision, TG_DECISION_DENY);
    assert_string_equal(j.judged->id, b->id);
    assert_null(j.in_force);
    tg_judgement_release(&j);
    tg_policy_judge(p, 210 * S, knows, "bob", &j); /* b allows: its own verdict */
    assert_int_equal(j.v.decision, TG_DECISION_ALLOW);
    assert_string_equal(j.judged->id, b->id);
    assert_null(j.in_force);
    tg_judgement_release(&j);
    tg_policy_judge(p, 10 * S, knows, "alice", &j); /* before the history */
    assert_string_equal(j.judged->id, a->id);
    assert_non_null(strstr(j.v.reason, "older than the snapshot history"));
    tg_judgement_release(&j);
    tg_policy_free(p);
    c.grace_seconds = 0; /* no grace: b decides right after the change */
    p = tg_policy_new(&c, NULL);
    tg_policy_judge(p, 200 * S, knows, "alice", &j);
    assert_int_equal(j.v.decision, TG_DECISION_DENY);
    tg_judgement_release(&j);
    tg_policy_free(p);
    free(c.session_services);
    tg_snapshot_unref(a);
    tg_snapshot_unref(b);
}

/* A writable history that cannot store: the snapshot still comes into
 * force (pinned), and judging of its time works in this run. */
static void test_record_failure_pins(void **state)
{
    (void)state;
    put("snap", "passwd", "alice:x:1001:1001::/home/alice:/bin/sh\n");
    struct tg_policy_conf c = {0};
    tg_config_defaults(&tg_policy_section, &c);
    char snapdir[512], histdir[512];
    snprintf(snapdir, sizeof(snapdir), "%s", path("snap"));
    snprintf(histdir, sizeof(histdir), "%s", path("h"));
    c.snapshot_dir = snapdir;
    c.snapshot_history_dir = histdir;
    struct tg_policy *p = tg_policy_open(&c, NULL, TG_POLICY_RECORD);
    struct tg_history *h = tg_policy_history(p);
    assert_non_null(h);
    assert_int_equal(tg_history_len(h), 1);
    tg_policy_free(p);
    char cmd[512]; /* (root ignores modes: snapshots/ becomes a file instead) */
    snprintf(cmd, sizeof(cmd), "rm -rf %s/h/snapshots && touch %s/h/snapshots", dir, dir);
    assert_int_equal(system(cmd), 0);
    put("snap", "group", "ops:x:2000:alice\n");
    uint64_t failures = tg_metrics_get(TG_C_HISTORY_FAILURES);
    p = tg_policy_open(&c, NULL, TG_POLICY_RECORD);
    assert_true(tg_metrics_get(TG_C_HISTORY_FAILURES) > failures);
    struct tg_snapshot *cur = tg_policy_acquire(p);
    assert_non_null(cur);     /* in force all the same */
    h = tg_policy_history(p); /* the new snapshot is pinned as the newest entry */
    assert_non_null(h);
    struct tg_history_entry e;
    assert_int_equal(tg_history_len(h), 2);
    assert_true(tg_history_entry(h, 1, &e));
    assert_string_equal(e.id, cur->id);
    tg_snapshot_unref(cur);
    /* storing keeps failing: only the newest few stay pinned (memory bounded) */
    for (int i = 0; i < TG_HISTORY_CACHE + 1; i++) {
        char g[64];
        snprintf(g, sizeof(g), "ops:x:%d:alice\n", 3000 + i);
        put("snap", "group", g);
        assert_int_equal(tg_policy_reload(p), 0);
    }
    assert_int_equal(tg_history_len(h), TG_HISTORY_CACHE + 3);
    char *err = NULL;
    assert_true(tg_history_entry(h, 1, &e));
    assert_null(tg_history_get(h, e.id, &err)); /* let go, and never stored */
    assert_non_null(err);
    free(err);
    assert_true(tg_history_entry(h, TG_HISTORY_CACHE + 2, &e));
    struct tg_snapshot *newest = tg_history_get(h, e.id, &err);
    assert_non_null(newest);
    tg_snapshot_unref(newest);
    tg_policy_free(p);
    free(c.session_services);
}

/* ------------------------------------------------------- concurrency */

struct tg_th {
    struct tg_history *h;
    const char *const *ids;
    int n, bad;
};

static void *getter(void *arg)
{
    struct tg_th *t = arg;
    for (int i = 0; i < 300; i++) {
        char *err = NULL;
        const char *id = t->ids[(i * 7 + t->n) % 6];
        struct tg_snapshot *s = tg_history_get(t->h, id, &err);
        if (!s || strcmp(s->id, id) != 0)
            t->bad++;
        tg_snapshot_unref(s);
        free(err);
    }
    return NULL;
}

static void test_concurrent_gets(void **state)
{
    (void)state;
    struct tg_history *h;
    char *err = NULL;
    assert_int_equal(tg_history_open(path("h"), true, &h, &err), 0);
    struct tg_snapshot *s[6];
    const char *ids[6];
    for (int i = 0; i < 6; i++) {
        char name[8];
        snprintf(name, sizeof(name), "c%d", i);
        s[i] = snap(name, name);
        record(h, s[i], name, (i + 1) * S);
        ids[i] = s[i]->id;
    }
    pthread_t th[4];
    struct tg_th args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct tg_th){h, ids, i, 0};
        pthread_create(&th[i], NULL, getter, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].bad, 0);
    }
    tg_history_free(h);
    for (int i = 0; i < 6; i++)
        tg_snapshot_unref(s[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entries_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_failure_pins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_gets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
