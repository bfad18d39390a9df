/*
 * test_spool.c - the durable receive log: append then replay after a
 * restart (data, peer, input, flags kept), confirmations persisted across a
 * restart (out of order), fully confirmed segments deleted, a torn tail and
 * a corrupt record in the middle skipped by checksum (and counted), the
 * zero-filled tail of a segment whose writer was killed read as a clean end,
 * the directory lock, and backpressure when spool_max_bytes is reached.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/collector_conf.h"
#include "core/errors.h"
#include "core/spool.h"

struct got {
    uint64_t seq[256];
    char data[256][64];
    char peer[256][32];
    int input[256];
    bool truncated[256];
    unsigned done[256]; /* sinks that had it */
    size_t n;
};

static void collect(void *ctx, const struct tg_spool_rec *rec, uint64_t seq, unsigned done)
{
    struct got *g = ctx;
    assert_true(g->n < 256);
    g->seq[g->n] = seq;
    g->done[g->n] = done;
    snprintf(g->data[g->n], sizeof(g->data[0]), "%.*s", (int)rec->len, rec->data);
    snprintf(g->peer[g->n], sizeof(g->peer[0]), "%.*s", (int)rec->peer.len,
             rec->peer.p ? rec->peer.p : "");
    g->input[g->n] = rec->input;
    g->truncated[g->n] = rec->truncated;
    g->n++;
}

static char tmpdir[64];

static int setup(void **state)
{
    strcpy(tmpdir, "/tmp/tg-spool-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

/* A spool confirmed by the sinks named in `sinks` (NULL: one anonymous sink). */
static struct tg_spool *open_spool_for(const char *const *sinks, size_t nsinks)
{
    struct tg_spool_conf c = {.dir = tmpdir,
                              .fsync = TG_FSYNC_ALWAYS,
                              .fsync_interval_ms = 50,
                              .max_bytes = 1 << 20,
                              .sinks = sinks,
                              .nsinks = nsinks};
    struct tg_spool *sp = NULL;
    assert_int_equal(tg_spool_open(&c, &sp), 0);
    return sp;
}

static struct tg_spool *open_spool(int64_t max_bytes, int64_t seg_bytes)
{
    struct tg_spool_conf c = {.dir = tmpdir,
                              .fsync = TG_FSYNC_ALWAYS,
                              .fsync_interval_ms = 50,
                              .max_bytes = max_bytes,
                              .segment_bytes = seg_bytes};
    struct tg_spool *sp = NULL;
    assert_int_equal(tg_spool_open(&c, &sp), 0);
    return sp;
}

static uint64_t append(struct tg_spool *sp, const char *data, enum tg_spool_input in,
                       const char *peer, bool cut)
{
    struct tg_spool_rec r = {.input = in,
                             .peer = peer ? tg_str_c(peer) : TG_STR_NULL,
                             .received = {1700000000, 123456000, 6},
                             .truncated = cut,
                             .data = data,
                             .len = strlen(data)};
    uint64_t seq = 0;
    assert_int_equal(tg_spool_append(sp, &r, &seq), 0);
    assert_int_equal(tg_spool_commit(sp, seq), 0);
    return seq;
}

static int count_files(const char *suffix)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), s = strlen(suffix);
        n += l > s && strcmp(de->d_name + l - s, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* The path of the only .log segment. */
static void only_segment(char *out, size_t n)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".log"))
            snprintf(out, n, "%s/%.*s", tmpdir, 100, de->d_name);
    closedir(d);
}

static void test_append_replay(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    uint64_t s1 = append(sp, "first record", TG_SPOOL_IN_RELP, "10.0.0.5", false);
    uint64_t s2 = append(sp, "second", TG_SPOOL_IN_OMPROG, NULL, true);
    assert_true(s2 == s1 + 1);
    tg_spool_close(sp);

    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 2);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.data[0], "first record");
    assert_string_equal(g.peer[0], "10.0.0.5");
    assert_int_equal(g.input[0], TG_SPOOL_IN_RELP);
    assert_false(g.truncated[0]);
    assert_string_equal(g.data[1], "second");
    assert_string_equal(g.peer[1], "");
    assert_true(g.truncated[1]);
    assert_int_equal(g.seq[0], s1);
    /* new appends get higher numbers than anything replayed */
    uint64_t s3 = append(sp, "third", TG_SPOOL_IN_FILE, "/var/log/x", false);
    assert_true(s3 > s2);
    tg_spool_close(sp);
}

/* The origin (the intake's opaque position of a record) comes back exactly:
 * any bytes, up to TG_SPOOL_ORIGIN_MAX; an empty one is not an absent one. */
struct origin_got {
    bool present;
    size_t len;
    char bytes[TG_SPOOL_ORIGIN_MAX];
};

static void origin_collect(void *ctx, const struct tg_spool_rec *rec, uint64_t seq, unsigned done)
{
    struct origin_got *o = (struct origin_got *)ctx + (seq - 1);
    o->present = rec->origin.p != NULL;
    o->len = rec->origin.len;
    if (o->len)
        memcpy(o->bytes, rec->origin.p, o->len);
    assert_int_equal(rec->len, 4);
    assert_memory_equal(rec->data, "data", 4);
}

static void test_origin_replayed(void **state)
{
    char big[TG_SPOOL_ORIGIN_MAX];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    const struct tg_str origins[] = {TG_STR_LIT("\x01"
                                                "12345.0@4096"),
                                     TG_STR_NULL, TG_STR_LIT(""), tg_str_make(big, sizeof(big))};
    struct tg_spool *sp = open_spool(1 << 20, 0);
    for (size_t i = 0; i < 4; i++) {
        struct tg_spool_rec r = {.input = TG_SPOOL_IN_FILE,
                                 .peer = i == 1 ? TG_STR_NULL : tg_str_c("/var/log/x"),
                                 .origin = origins[i],
                                 .data = "data",
                                 .len = 4};
        uint64_t seq;
        assert_int_equal(tg_spool_append(sp, &r, &seq), 0);
    }
    tg_spool_close(sp);
    sp = open_spool(1 << 20, 0);
    struct origin_got got[4];
    memset(got, 0, sizeof(got));
    assert_int_equal(tg_spool_replay(sp, origin_collect, got), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(got[i].present, origins[i].p != NULL);
        assert_int_equal(got[i].len, origins[i].len);
        if (origins[i].len)
            assert_memory_equal(got[i].bytes, origins[i].p, origins[i].len);
    }
    tg_spool_close(sp);
}

static void test_confirm_persists(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    uint64_t seq[6];
    char buf[16];
    for (int i = 0; i < 6; i++) {
        snprintf(buf, sizeof(buf), "rec %d", i);
        seq[i] = append(sp, buf, TG_SPOOL_IN_RELP, "h", false);
    }
    /* out of order, and one twice */
    tg_spool_confirm(sp, seq[4], 0);
    tg_spool_confirm(sp, seq[0], 0);
    tg_spool_confirm(sp, seq[2], 0);
    tg_spool_confirm(sp, seq[2], 0);
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.confirmed, 3);
    tg_spool_close(sp);

    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    assert_string_equal(g.data[0], "rec 1");
    assert_string_equal(g.data[1], "rec 3");
    assert_string_equal(g.data[2], "rec 5");
    /* confirming the rest deletes the old segment */
    for (size_t i = 0; i < g.n; i++)
        tg_spool_confirm(sp, g.seq[i], 0);
    assert_int_equal(count_files(".log"), 0);
    tg_spool_close(sp);
    assert_int_equal(count_files(".log"), 0);
    assert_int_equal(count_files(".ack"), 0);
}

/* Each sink confirms on its own: a record is replayed only to the sinks
 * that do not have it; the sinks are matched by name across restarts. */
static void test_per_sink(void **state)
{
    static const char *const fk[] = {"file", "kafka"};
    struct tg_spool *sp = open_spool_for(fk, 2);
    uint64_t seq[4];
    for (int i = 0; i < 4; i++)
        seq[i] = append(sp,
                        i == 0   ? "r0"
                        : i == 1 ? "r1"
                        : i == 2 ? "r2"
                                 : "r3",
                        TG_SPOOL_IN_RELP, "h", false);
    tg_spool_confirm(sp, seq[0], 0); /* file only */
    tg_spool_confirm(sp, seq[1], 0); /* both */
    tg_spool_confirm(sp, seq[1], 1);
    tg_spool_confirm(sp, seq[2], 1); /* kafka only */
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.confirmed, 1);
    tg_spool_close(sp);

    sp = open_spool_for(fk, 2);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    assert_string_equal(g.data[0], "r0");
    assert_int_equal(g.done[0], 1); /* the file sink has it */
    assert_string_equal(g.data[1], "r2");
    assert_int_equal(g.done[1], 2);
    assert_string_equal(g.data[2], "r3");
    assert_int_equal(g.done[2], 0);
    tg_spool_close(sp);

    /* sinks reordered, one added: bits follow the names; the new one has
     * what all the others had (r1), it gets only what is still owed */
    static const char *const kfs[] = {"kafka", "file", "stdout"};
    sp = open_spool_for(kfs, 3);
    memset(&g, 0, sizeof(g));
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    assert_int_equal(g.done[0], 2); /* file is now sink 1 */
    assert_int_equal(g.done[1], 1); /* kafka is sink 0 */
    assert_int_equal(g.done[2], 0);
    assert_string_equal(g.data[2], "r3");
    tg_spool_close(sp);

    /* only the file sink left: r0 and r1 are done for it, r2 and r3 remain */
    static const char *const f[] = {"file"};
    sp = open_spool_for(f, 1);
    memset(&g, 0, sizeof(g));
    assert_int_equal(tg_spool_replay(sp, collect, &g), 2);
    assert_string_equal(g.data[0], "r2");
    assert_string_equal(g.data[1], "r3");
    tg_spool_confirm(sp, g.seq[0], 0);
    tg_spool_confirm(sp, g.seq[1], 0);
    assert_int_equal(count_files(".log"), 0); /* all confirmed: the segment went */
    tg_spool_close(sp);
}

/* An .ack file of the one-bitmap layout of earlier versions (a bit meant
 * "confirmed by all") still counts; one of unknown layout counts as nothing
 * confirmed: everything is replayed (at least once, never lost). */
static void test_ack_upgrade(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    for (int i = 0; i < 3; i++)
        append(sp, "rec", TG_SPOOL_IN_RELP, "h", false);
    tg_spool_close(sp);
    char path[160];
    only_segment(path, sizeof(path));
    strcpy(path + strlen(path) - 3, "ack");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputc(0x02, f); /* record 1 confirmed */
    for (int i = 1; i < (1 << 20) / 8; i++)
        fputc(0, f);
    fclose(f);
    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 2);
    tg_spool_close(sp);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    sp = open_spool(1 << 20, 0);
    memset(&g, 0, sizeof(g));
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    tg_spool_close(sp);
}

static void test_segments_deleted(void **state)
{
    /* 64 KiB segments: 300 records of ~1 KiB roll several times */
    struct tg_spool *sp = open_spool(1 << 20, 64 << 10);
    char big[1024];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    uint64_t seqs[300];
    for (int i = 0; i < 300; i++)
        seqs[i] = append(sp, big, TG_SPOOL_IN_RELP, "h", false);
    assert_true(count_files(".log") >= 4);
    for (int i = 299; i >= 0; i--)
        tg_spool_confirm(sp, seqs[i], 0);
    /* only the active segment may remain */
    assert_true(count_files(".log") <= 1);
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_true(st.segments_deleted >= 3);
    tg_spool_close(sp);
    assert_int_equal(count_files(".log"), 0);
}

static void test_torn_tail(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    for (int i = 0; i < 5; i++)
        append(sp, "complete record", TG_SPOOL_IN_RELP, "h", false);
    tg_spool_close(sp);
    char path[256];
    only_segment(path, sizeof(path));
    /* a crash mid-write: the start of a sixth record */
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    static const unsigned char torn[] = {0x54, 0x53, 0x47, 0x31, 0x40, 0, 0, 0, 6, 0, 7};
    assert_int_equal(write(fd, torn, sizeof(torn)), sizeof(torn));
    close(fd);

    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 5);
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 1);
    assert_int_equal(st.corrupt_bytes, sizeof(torn));
    tg_spool_close(sp);
}

/* A process killed without closing leaves its active segment preallocated
 * and zero-filled after the last record: a clean end, not corruption. */
static void test_killed_writer(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct tg_spool *sp = open_spool(1 << 20, 0);
        append(sp, "one", TG_SPOOL_IN_RELP, "h", false);
        append(sp, "two", TG_SPOOL_IN_RELP, "h", false);
        append(sp, "three", TG_SPOOL_IN_RELP, "h", false);
        _exit(0); /* no tg_spool_close: as after a kill -9 */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct tg_spool *sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    assert_string_equal(g.data[2], "three");
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 0);
    tg_spool_close(sp);
}

static void test_corrupt_middle(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    const char *recs[] = {"alpha-record", "bravo-record", "charlie-record", "delta-record"};
    for (int i = 0; i < 4; i++)
        append(sp, recs[i], TG_SPOOL_IN_RELP, "h", false);
    tg_spool_close(sp);
    char path[256];
    only_segment(path, sizeof(path));
    /* flip one byte inside "bravo-record" */
    FILE *f = fopen(path, "r+b");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf), f);
    char *hit = memmem(buf, n, "bravo", 5);
    assert_non_null(hit);
    fseek(f, hit - buf, SEEK_SET);
    fputc('B', f);
    fclose(f);

    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    assert_string_equal(g.data[0], "alpha-record");
    assert_string_equal(g.data[1], "charlie-record"); /* resynchronized after the bad one */
    assert_string_equal(g.data[2], "delta-record");
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 1);
    tg_spool_close(sp);
}

static void test_lock(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    struct tg_spool_conf c = {.dir = tmpdir, .fsync = TG_FSYNC_NEVER, .max_bytes = 1 << 20};
    struct tg_spool *other = NULL;
    assert_int_equal(tg_spool_open(&c, &other), TG_EFULL);
    assert_null(other);
    tg_spool_close(sp);
}

struct appender {
    struct tg_spool *sp;
    uint64_t seq;
    int rc;
};

static void *append_big(void *arg)
{
    struct appender *a = arg;
    static char big[40 << 10];
    memset(big, 'y', sizeof(big));
    struct tg_spool_rec r = {.input = TG_SPOOL_IN_RELP, .data = big, .len = sizeof(big)};
    a->rc = tg_spool_append(a->sp, &r, &a->seq);
    return NULL;
}

static void test_backpressure(void **state)
{
    /* 100 KiB spool, 64 KiB segments: two 40 KiB records fit, the third waits */
    struct tg_spool *sp = open_spool(100 << 10, 64 << 10);
    struct appender a[3] = {{sp}, {sp}, {sp}};
    pthread_t th;
    for (int i = 0; i < 2; i++) {
        append_big(&a[i]);
        assert_int_equal(a[i].rc, 0);
    }
    pthread_create(&th, NULL, append_big, &a[2]);
    struct tg_spool_stats st;
    for (int tries = 0; tries < 200; tries++) {
        tg_spool_stats(sp, &st);
        if (st.full_waits)
            break;
        usleep(10000);
    }
    assert_int_equal(st.full_waits, 1);
    assert_int_equal(st.appended, 2);
    tg_spool_confirm(sp, a[0].seq, 0);
    tg_spool_confirm(sp, a[1].seq, 0);
    pthread_join(th, NULL);
    assert_int_equal(a[2].rc, 0);
    tg_spool_stats(sp, &st);
    assert_int_equal(st.appended, 3);
    tg_spool_close(sp);
}

static void test_interval_and_never(void **state)
{
    struct tg_spool_conf c = {
        .dir = tmpdir, .fsync = TG_FSYNC_INTERVAL, .fsync_interval_ms = 10, .max_bytes = 1 << 20};
    struct tg_spool *sp = NULL;
    assert_int_equal(tg_spool_open(&c, &sp), 0);
    uint64_t seq = append(sp, "interval", TG_SPOOL_IN_RELP, "h", false);
    struct tg_spool_stats st;
    for (int tries = 0; tries < 200; tries++) {
        tg_spool_stats(sp, &st);
        if (st.fsyncs)
            break;
        usleep(10000);
    }
    assert_true(st.fsyncs >= 1); /* the background thread synced */
    assert_int_equal(tg_spool_sync(sp), 0);
    tg_spool_confirm(sp, seq, 0);
    tg_spool_close(sp);
    c.fsync = TG_FSYNC_NEVER;
    assert_int_equal(tg_spool_open(&c, &sp), 0);
    append(sp, "never", TG_SPOOL_IN_RELP, "h", false);
    tg_spool_stats(sp, &st);
    assert_int_equal(st.fsyncs, 0);
    tg_spool_close(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirm_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_and_never, setup, teardown),
    };
    return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
