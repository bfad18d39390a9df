/*
 * test_spool.c - the durable receive log: append then replay after a
 * restart (data, peer, origin, input, flags kept), confirmations persisted
 * across a restart (out of order), fully confirmed segments deleted, a torn
 * tail and a corrupt record in the middle skipped by checksum (and
 * counted), the zero-filled tail of a segment whose writer was killed read
 * as a clean end, the directory lock, and backpressure when spool_max_bytes
 * is reached.  Issue 11: the largest record read back and anything larger
 * refused; a failed fdatasync (this file's fdatasync() wraps libc's and
 * fails on request) never reported as durable; sequence numbers never
 * reused and an orphan .ack never trusted; records owed only to removed
 * sinks counted; a record embedded in a message never accepted by resync;
 * segments of the format before tags still replayed.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
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
#include <zlib.h>

#include "core/collector_conf.h"
#include "core/errors.h"
#include "core/spool.h"

/* The next fail_log_syncs fdatasync calls on a segment (*.log) fail with
 * EIO; every call on one is counted. */
static int fail_log_syncs, log_syncs;

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    char link[64], path[512];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    path[n > 0 ? n : 0] = '\0';
    if (n > 4 && strcmp(path + n - 4, ".log") == 0) {
        log_syncs++;
        if (fail_log_syncs > 0) {
            fail_log_syncs--;
            errno = EIO;
            return -1;
        }
    }
    return real(fd);
}

struct got {
    uint64_t seq[256];
    char data[256][64];
    char peer[256][32];
    char origin[256][32];
    bool has_origin[256];
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
    snprintf(g->origin[g->n], sizeof(g->origin[0]), "%.*s", (int)rec->origin.len,
             rec->origin.p ? rec->origin.p : "");
    g->has_origin[g->n] = rec->origin.p != NULL;
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
 * any bytes, up to TG_SPOOL_ORIGIN_MAX, and an absent one absent. */
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
                                     TG_STR_NULL, tg_str_make(big, sizeof(big)),
                                     TG_STR_LIT("\x03stdin@0")};
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

/* The origin is stored with the record and handed back exactly; absent
 * stays absent. */
static void test_origin(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    struct tg_spool_rec r = {.input = TG_SPOOL_IN_FILE,
                             .peer = tg_str_c("/var/log/snoopy.log"),
                             .origin = tg_str_c("ino 123 off 4567"),
                             .data = "line one",
                             .len = 8};
    uint64_t seq;
    assert_int_equal(tg_spool_append(sp, &r, &seq), 0);
    append(sp, "no origin", TG_SPOOL_IN_RELP, "10.0.0.5", false);
    tg_spool_close(sp);
    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 2);
    assert_string_equal(g.data[0], "line one");
    assert_string_equal(g.peer[0], "/var/log/snoopy.log");
    assert_true(g.has_origin[0]);
    assert_string_equal(g.origin[0], "ino 123 off 4567");
    assert_string_equal(g.data[1], "no origin");
    assert_false(g.has_origin[1]);
    tg_spool_close(sp);
}

struct big_got {
    size_t n, len, plen, olen;
    bool intact;
};

static void collect_big(void *ctx, const struct tg_spool_rec *rec, uint64_t seq, unsigned done)
{
    struct big_got *g = ctx;
    g->n++;
    g->len = rec->len;
    g->plen = rec->peer.len;
    g->olen = rec->origin.len;
    g->intact = rec->data[0] == 'a' && rec->data[rec->len - 1] == 'z' && rec->peer.p[0] == 'p' &&
                rec->origin.p[TG_SPOOL_ORIGIN_MAX - 1] == 'o';
}

/* Issue 11 (1): the largest record any source hands on, with the longest
 * peer and origin, is read back after a restart; anything longer is
 * refused (TG_EINVAL) and not stored. */
static void test_record_max(void **state)
{
    char *data = malloc(TG_RECORD_MAX + 1);
    static char peer[TG_SPOOL_PEER_MAX + 1], origin[TG_SPOOL_ORIGIN_MAX + 1];
    memset(data, 'm', TG_RECORD_MAX + 1);
    data[0] = 'a';
    data[TG_RECORD_MAX - 1] = 'z';
    memset(peer, 'p', sizeof(peer));
    memset(origin, 'o', sizeof(origin));
    struct tg_spool *sp = open_spool(1 << 30, 0);
    struct tg_spool_rec r = {.input = TG_SPOOL_IN_RELP,
                             .peer = tg_str_make(peer, TG_SPOOL_PEER_MAX),
                             .origin = tg_str_make(origin, TG_SPOOL_ORIGIN_MAX),
                             .truncated = true,
                             .data = data,
                             .len = TG_RECORD_MAX};
    uint64_t seq;
    assert_int_equal(tg_spool_append(sp, &r, &seq), 0);
    assert_int_equal(tg_spool_commit(sp, seq), 0);
    r.len = TG_RECORD_MAX + 1;
    assert_int_equal(tg_spool_append(sp, &r, &seq), TG_EINVAL);
    r.len = 1;
    r.peer.len = TG_SPOOL_PEER_MAX + 1;
    assert_int_equal(tg_spool_append(sp, &r, &seq), TG_EINVAL);
    r.peer.len = 1;
    r.origin.len = TG_SPOOL_ORIGIN_MAX + 1;
    assert_int_equal(tg_spool_append(sp, &r, &seq), TG_EINVAL);
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.appended, 1);
    tg_spool_close(sp);
    free(data);

    sp = open_spool(1 << 30, 0);
    struct big_got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect_big, &g), 1);
    assert_int_equal(g.len, TG_RECORD_MAX);
    assert_int_equal(g.plen, TG_SPOOL_PEER_MAX);
    assert_int_equal(g.olen, TG_SPOOL_ORIGIN_MAX);
    assert_true(g.intact);
    tg_spool_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 0);
    tg_spool_close(sp);
}

static uint64_t append_only(struct tg_spool *sp, const char *data)
{
    struct tg_spool_rec r = {.input = TG_SPOOL_IN_OMPROG, .data = data, .len = strlen(data)};
    uint64_t seq = 0;
    assert_int_equal(tg_spool_append(sp, &r, &seq), 0);
    return seq;
}

/* Issue 11 (2): a failed fdatasync never leads to "durable".  (a) The
 * sealing sync of a segment fails in the middle of a transaction: the
 * transaction's sync fails (once), so does a commit of a record of that
 * segment, even after the sinks confirmed it and the segment is gone;
 * records after it, in a new segment, are durable.  (b) A commit's own
 * sync fails: that record stays undurable whatever later syncs of the file
 * say, and the next append starts a new segment. */
static void test_sync_failure(void **state)
{
    char rec[1024];
    memset(rec, 'r', sizeof(rec) - 1);
    rec[sizeof(rec) - 1] = '\0';
    /* (a) 64 KiB segments: 100 records of 1 KiB roll once */
    struct tg_spool *sp = open_spool(1 << 20, 64 << 10);
    uint64_t seqs[100];
    fail_log_syncs = 1; /* the seal's */
    for (int i = 0; i < 100; i++)
        seqs[i] = append_only(sp, rec);
    assert_int_equal(fail_log_syncs, 0);
    assert_int_equal(count_files(".log"), 2);
    assert_int_equal(tg_spool_sync(sp), TG_EIO);
    assert_int_equal(tg_spool_commit(sp, seqs[0]), TG_EIO);
    assert_int_equal(tg_spool_commit(sp, seqs[99]), 0);
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.sync_failures, 1);
    /* the failure was reported: the next transaction is judged on its own */
    uint64_t after = append_only(sp, "after");
    assert_int_equal(tg_spool_sync(sp), 0);
    assert_int_equal(tg_spool_commit(sp, after), 0);
    /* delivered: the failed segment goes, its records still are not durable */
    for (int i = 0; i < 100; i++)
        tg_spool_confirm(sp, seqs[i], 0);
    assert_int_equal(count_files(".log"), 1);
    assert_int_equal(tg_spool_commit(sp, seqs[0]), TG_EIO);
    tg_spool_close(sp);

    /* (b) */
    sp = open_spool(1 << 20, 0);
    uint64_t a = append_only(sp, "a");
    fail_log_syncs = 1;
    assert_int_equal(tg_spool_commit(sp, a), TG_EIO);
    int before = log_syncs;
    assert_int_equal(tg_spool_commit(sp, a), TG_EIO); /* no new sync can vouch for it */
    assert_int_equal(log_syncs, before);
    uint64_t b = append_only(sp, "b");
    assert_int_equal(count_files(".log"), 3); /* (a)'s last one, a's (failed) and b's */
    assert_int_equal(tg_spool_commit(sp, b), 0);
    tg_spool_close(sp);
    /* what was stored and not confirmed is replayed, durable or not: "after", a, b */
    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    tg_spool_close(sp);
}

/* Write an .ack for `first` in the current layout of one anonymous sink,
 * every record confirmed: what an interrupted deletion left behind. */
static void write_full_ack(uint64_t first)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/seg-%016llx.ack", tmpdir, (unsigned long long)first);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char hdr[4096] = "TGACK2\n";
    hdr[8] = 1;
    strcpy(hdr + 16, "sinks");
    fwrite(hdr, 1, sizeof(hdr), f);
    for (int i = 0; i < (1 << 20) / 8; i++)
        fputc(0xff, f);
    fclose(f);
}

/* Issue 11 (3): an .ack without its .log (a deletion killed in between) is
 * removed at open, numbering goes on above it, and records appended after
 * it are all replayed; numbers never go back, also after the spool was
 * emptied (the high-water mark in the lock file). */
static void test_seq_never_reused(void **state)
{
    struct tg_spool *sp = open_spool(1 << 20, 0);
    uint64_t s1 = append(sp, "one", TG_SPOOL_IN_RELP, "h", false);
    tg_spool_confirm(sp, s1, 0);
    tg_spool_close(sp);
    assert_int_equal(count_files(".log"), 0);
    sp = open_spool(1 << 20, 0);
    uint64_t s2 = append(sp, "two", TG_SPOOL_IN_RELP, "h", false);
    assert_true(s2 > s1);
    tg_spool_confirm(sp, s2, 0);
    tg_spool_close(sp);

    /* a spool of an older version: no high-water mark, an orphan .ack at 1 */
    char lock[160];
    snprintf(lock, sizeof(lock), "%s/lock", tmpdir);
    assert_int_equal(truncate(lock, 0), 0);
    write_full_ack(1);
    sp = open_spool(1 << 20, 0);
    assert_int_equal(count_files(".ack"), 0);
    uint64_t seq[3];
    for (int i = 0; i < 3; i++)
        seq[i] = append(sp, "after the orphan", TG_SPOOL_IN_RELP, "h", false);
    assert_true(seq[0] > 1);
    tg_spool_close(sp);
    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 3);
    tg_spool_close(sp);
}

/* Issue 11 (4): records that only a removed sink still owed are counted
 * when the .ack is converted; records a kept sink owes are replayed. */
static void test_removed_sink_counted(void **state)
{
    static const char *const fk[] = {"file", "kafka"};
    static const char *const f[] = {"file"};
    struct tg_spool *sp = open_spool_for(fk, 2);
    uint64_t r0 = append(sp, "r0", TG_SPOOL_IN_RELP, "h", false);
    uint64_t r1 = append(sp, "r1", TG_SPOOL_IN_RELP, "h", false);
    append(sp, "r2", TG_SPOOL_IN_RELP, "h", false);
    tg_spool_confirm(sp, r0, 0); /* the file sink only: kafka owes it */
    tg_spool_confirm(sp, r1, 0); /* both */
    tg_spool_confirm(sp, r1, 1);
    tg_spool_close(sp);
    sp = open_spool_for(f, 1);
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.dropped_unconfigured, 1);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 1);
    assert_string_equal(g.data[0], "r2");
    tg_spool_close(sp);
}

/* The record format before segment tags, by hand: [magic "TSG1"][len][seq]
 * [crc32 of seq, len, body], body [input][flags][peer len u16][sec u64]
 * [nsec u32] peer data.  Returns its size. */
static size_t v1_record(unsigned char *out, uint64_t seq, const char *peer, const char *data)
{
    size_t pl = strlen(peer), dl = strlen(data);
    uint32_t len = (uint32_t)(16 + pl + dl), magic = 0x31475354u;
    unsigned char *b = out + 20;
    uint16_t p16 = (uint16_t)pl;
    uint64_t sec = 1700000000;
    uint32_t nsec = 0;
    b[0] = TG_SPOOL_IN_RELP;
    b[1] = 0;
    memcpy(b + 2, &p16, 2);
    memcpy(b + 4, &sec, 8);
    memcpy(b + 12, &nsec, 4);
    memcpy(b + 16, peer, pl);
    memcpy(b + 16 + pl, data, dl);
    unsigned char sl[12];
    memcpy(sl, &seq, 8);
    memcpy(sl + 8, &len, 4);
    uint32_t crc = (uint32_t)crc32(crc32(0, sl, 12), b, len);
    memcpy(out, &magic, 4);
    memcpy(out + 4, &len, 4);
    memcpy(out + 8, &seq, 8);
    memcpy(out + 16, &crc, 4);
    return 20 + len;
}

/* Issue 11 (9c): a message that embeds a well-formed record of the old
 * format (or any guess at the new one) after a corrupted byte: resync
 * finds the next real record, never the embedded one. */
static void test_forged_record_rejected(void **state)
{
    unsigned char msg[512];
    size_t n = (size_t)snprintf((char *)msg, sizeof(msg), "carrier CORRUPT-ME ");
    n += v1_record(msg + n, 2, "6.6.6.6", "forged");
    struct tg_spool *sp = open_spool(1 << 20, 0);
    struct tg_spool_rec r = {.input = TG_SPOOL_IN_RELP,
                             .peer = tg_str_c("10.0.0.1"),
                             .data = (const char *)msg,
                             .len = n};
    uint64_t seq;
    assert_int_equal(tg_spool_append(sp, &r, &seq), 0);
    append(sp, "real-next", TG_SPOOL_IN_RELP, "10.0.0.2", false);
    tg_spool_close(sp);
    char path[256];
    only_segment(path, sizeof(path));
    FILE *f = fopen(path, "r+b");
    char buf[4096];
    size_t got = fread(buf, 1, sizeof(buf), f);
    char *hit = memmem(buf, got, "CORRUPT-ME", 10);
    assert_non_null(hit);
    fseek(f, hit - buf, SEEK_SET);
    fputc('c', f);
    fclose(f);
    sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 1);
    assert_string_equal(g.data[0], "real-next");
    assert_string_equal(g.peer[0], "10.0.0.2");
    struct tg_spool_stats st;
    tg_spool_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 1);
    tg_spool_close(sp);
}

/* A segment written before segment tags is replayed (and numbering goes on
 * above it); a damaged header of a tagged segment is recovered from its
 * first record. */
static void test_old_format_and_header(void **state)
{
    unsigned char seg[512];
    size_t n = v1_record(seg, 7, "10.0.0.7", "old-one");
    n += v1_record(seg + n, 8, "", "old-two");
    char path[160];
    snprintf(path, sizeof(path), "%s/seg-%016llx.log", tmpdir, 7ULL);
    FILE *f = fopen(path, "wb");
    fwrite(seg, 1, n, f);
    fclose(f);
    struct tg_spool *sp = open_spool(1 << 20, 0);
    struct got g = {0};
    assert_int_equal(tg_spool_replay(sp, collect, &g), 2);
    assert_string_equal(g.data[0], "old-one");
    assert_string_equal(g.peer[0], "10.0.0.7");
    assert_false(g.has_origin[0]);
    assert_int_equal(g.seq[1], 8);
    assert_true(append(sp, "new", TG_SPOOL_IN_RELP, "h", false) > 8);
    tg_spool_confirm(sp, g.seq[0], 0);
    tg_spool_confirm(sp, g.seq[1], 0);
    tg_spool_close(sp);
    assert_int_equal(count_files(".log"), 1); /* the new one */

    only_segment(path, sizeof(path));
    f = fopen(path, "r+b");
    fputc('X', f); /* the magic of the header */
    fclose(f);
    sp = open_spool(1 << 20, 0);
    memset(&g, 0, sizeof(g));
    assert_int_equal(tg_spool_replay(sp, collect, &g), 1);
    assert_string_equal(g.data[0], "new");
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
        cmocka_unit_test_setup_teardown(test_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_never_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_sink_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_record_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_format_and_header, setup, teardown),
    };
    return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
