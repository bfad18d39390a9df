/*
 * out_file.c - the file sink: [sink.file], a tamper-evident store of
 * gzip-compressed NDJSON segments (SPEC.md section 7; format in segment.h).
 *
 * Design.  Events of incoming batches are appended to an in-memory NDJSON
 * buffer (the "pending member") and chained at once (chain.h): the chain
 * order is the write order.  A flush compresses the pending member into
 * one complete gzip member, appends it to the open segment, appends its
 * sidecar entry (record count, end offset, time range, link, per-record
 * CRC-32) to the .chain file, fsyncs both per [collector] fsync, updates
 * chain.head, and only then confirms the batches (tg_batch_done).  So a
 * confirmed event is on disk with its chain entry; a crash leaves at most a
 * torn member or an unchained member at the tail, never a confirmed event
 * missing.
 *
 * When to flush: [collector] fsync = always flushes after every batch;
 * interval (and never) flush once the oldest pending batch is
 * fsync_interval_ms old or 4 MiB of NDJSON are pending, giving larger
 * members (better compression) and one group fsync per interval
 * (never: no fsync), and also as soon as the input goes quiet (tick: no
 * batch for 100 ms), so the end of a burst is stored at once instead of
 * up to an interval later.  That costs ratio only at a trickle (fewer than
 * ~10 batches a second), when there is little to store.  The sink reads
 * [collector] from the whole config, which tg_registry_add_sinks hands
 * every sink as s->config.
 *
 * Rotation: a segment is closed (its .idx written) when it reaches
 * rotate_bytes of compressed data, or rotate_seconds after it was opened;
 * the next flush opens segment N+1 lazily, so an idle sink creates no empty
 * segments.  Closed segments are never written again.  At start-up the sink
 * finishes the last segment of an earlier run: it cuts a torn or unchained
 * tail (those events were never confirmed: the spool replays them), writes
 * the missing .idx, resumes the chain (and the HMAC key, evolved once per
 * stored record) and continues in a new segment.
 *
 * Failures (disk full, I/O error): the half-written member and sidecar entry
 * are truncated away, the batches stay unconfirmed, the failure is logged
 * (once, then every 30 s) and counted in s->failed, and the flush is retried
 * with a backoff up to 1 s (s->retried), blocking the sink thread: the
 * pipeline backs up into the spool, nothing is lost.  A later attempt
 * recompresses the whole pending member, so retries never leave gaps.  Once
 * shutdown has begun (tg_sink_stopping) it gives up and abandons the batches
 * (tg_batch_abandon): unconfirmed, the spool replays them on the next start.
 *
 * Concurrency: everything runs on the sink's thread; readers (query,
 * export, verify) may read the files at any time, and see at worst a torn
 * last member.  A .lock file (flock) keeps a second writer out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <libdeflate.h>

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pipeline.h"
#include "sinks/chain.h"
#include "sinks/segment.h"
#include "sinks/sinks.h"

#define TG_FILE_FLUSH_RAW    (4u << 20) /* flush once this much NDJSON is pending */
#define TG_FILE_RETRY_MAX_MS 1000
#define TG_FILE_LOG_EVERY_MS 30000

struct tg_file_sink_conf {
    char *dir;
    int64_t rotate_bytes;
    int64_t rotate_seconds;
    int64_t compression_level;
    char *hmac_key_file;
};

#define OFF(f) offsetof(struct tg_file_sink_conf, f)
static const struct tg_opt tg_file_opts[] = {
    {"dir", TG_OPT_STR, "./trailguard-data/events", OFF(dir),
     "store directory (created 0750; files 0640); one writer at a time"},
    {"rotate_bytes", TG_OPT_SIZE, "256M", OFF(rotate_bytes),
     "close a segment once it holds this many compressed bytes", NULL, 4096, INT64_MAX},
    {"rotate_seconds", TG_OPT_INT, "3600", OFF(rotate_seconds),
     "close a segment this many seconds after it was opened; 0 = only by size", NULL, 0,
     86400 * 366},
    {"compression_level", TG_OPT_INT, "6", OFF(compression_level),
     "gzip level, 1 (fastest) to 9 (smallest)", NULL, 1, 9},
    {"hmac_key_file", TG_OPT_STR, NULL, OFF(hmac_key_file),
     "optional: key file for an HMAC-SHA-256 chain with a forward-evolving key; keep a copy "
     "offline, `trailguard verify --key FILE` needs it"},
    {NULL},
};

const struct tg_section_def tg_sink_file_section = {
    .name = "sink.file",
    .doc = "The file store: gzip NDJSON segments with a hash chain (query, export and verify "
           "read it).",
    .opts = tg_file_opts,
    .size = sizeof(struct tg_file_sink_conf),
};

struct tg_file_sink {
    const struct tg_file_sink_conf *conf;
    int fsync_mode;
    int64_t fsync_ms;
    struct tg_chain chain;
    int dir_fd, lock_fd, head_fd;
    bool head_ok; /* chain.head holds a complete line */

    /* chain state of what is on disk (the end of the last written member) */
    uint8_t disk_link[TG_LINK_LEN];
    uint64_t disk_count;

    /* the open segment (seg_fd < 0: none; seq is then the last one closed) */
    uint64_t seq;
    int seg_fd, chain_fd;
    uint64_t seg_off, chain_off;
    struct tg_seg_index ix;
    int64_t seg_opened_ms;

    /* the pending member */
    struct libdeflate_compressor *dc;
    struct tg_buf raw, gz, entry;
    uint32_t *fp;
    size_t nfp, capfp;
    int64_t pmin, pmax;
    struct tg_batch **pend;
    size_t npend, cappend;
    uint64_t pend_events;
    int64_t first_pend_ms;

    /* failure state */
    bool failing, gave_up;
    int64_t fail_since_ms, next_log_ms;
};

static int64_t tg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tg_sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int tg_mkdirs(const char *dir)
{
    char *p = tg_xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0750) != 0 && errno != EEXIST) {
            rc = TG_EIO;
            break;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    return rc;
}

static void tg_file_sync_dir(struct tg_file_sink *fs)
{
    if (fs->fsync_mode != TG_FSYNC_NEVER && fsync(fs->dir_fd) != 0)
        tg_warn("file sink: fsync of directory %s failed: %s", fs->conf->dir, strerror(errno));
}

/* Open a segment file for writing, mode 0640 whatever the umask. */
static int tg_file_create(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0 && fchmod(fd, 0640) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Open segment seq+1 (header written).  0 or TG_EIO (errno). */
static int tg_file_segment_open(struct tg_file_sink *fs)
{
    uint64_t seq = fs->seq + 1;
    char *cpath = tg_seg_path(fs->conf->dir, seq, TG_SEG_CHAIN);
    char *dpath = tg_seg_path(fs->conf->dir, seq, TG_SEG_DATA);
    struct tg_seg_header h = {.seq = seq, .first_index = fs->disk_count, .keyed = fs->chain.keyed};
    memcpy(h.prev, fs->disk_link, TG_LINK_LEN);
    uint8_t hdr[TG_SEG_HDR_LEN];
    tg_seg_header_encode(&h, hdr);
    int rc = TG_EIO;
    /* the sidecar first: a data file never exists without one */
    fs->chain_fd = tg_file_create(cpath);
    if (fs->chain_fd < 0)
        goto out;
    if (tg_pwrite_all(fs->chain_fd, hdr, sizeof(hdr), 0) != 0)
        goto fail;
    fs->seg_fd = tg_file_create(dpath);
    if (fs->seg_fd < 0)
        goto fail;
    rc = 0;
    fs->seq = seq;
    fs->seg_off = 0;
    fs->chain_off = sizeof(hdr);
    fs->seg_opened_ms = tg_now_ms();
    fs->ix = (struct tg_seg_index){.seq = seq,
                                   .first_index = fs->disk_count,
                                   .min_ns = INT64_MAX,
                                   .max_ns = INT64_MIN,
                                   .keyed = fs->chain.keyed};
    memcpy(fs->ix.prev, fs->disk_link, TG_LINK_LEN);
    memcpy(fs->ix.last, fs->disk_link, TG_LINK_LEN);
    tg_file_sync_dir(fs);
    goto out;
fail : {
    int e = errno;
    close(fs->chain_fd);
    fs->chain_fd = -1;
    unlink(cpath);
    errno = e;
}
out:
    free(cpath);
    free(dpath);
    return rc;
}

/* Close the open segment: write its index.  Never fails (a missing index
 * only costs readers the skip; it is logged). */
static void tg_file_segment_close(struct tg_file_sink *fs)
{
    if (fs->seg_fd < 0)
        return;
    fs->ix.bytes = fs->seg_off;
    char *ipath = tg_seg_path(fs->conf->dir, fs->seq, TG_SEG_INDEX);
    if (tg_seg_index_write(ipath, &fs->ix, fs->fsync_mode != TG_FSYNC_NEVER) != 0)
        tg_warn("file sink: cannot write index %s: %s; readers will scan that segment instead "
                "of skipping it",
                ipath, strerror(errno));
    free(ipath);
    close(fs->seg_fd);
    close(fs->chain_fd);
    fs->seg_fd = fs->chain_fd = -1;
    tg_file_sync_dir(fs);
}

/* Overwrite chain.head with the on-disk chain state.  0 or TG_EIO (counted
 * and logged; a head that lags behind the data is harmless for verify). */
static int tg_file_head_write(struct tg_sink *s, struct tg_file_sink *fs)
{
    struct tg_seg_head h = {.seq = fs->seq, .records = fs->disk_count};
    memcpy(h.link, fs->disk_link, TG_LINK_LEN);
    char line[TG_SEG_HEAD_LEN + 1];
    tg_seg_head_format(&h, line);
    if (tg_pwrite_all(fs->head_fd, line, TG_SEG_HEAD_LEN, 0) != 0 ||
        (fs->fsync_mode != TG_FSYNC_NEVER && fdatasync(fs->head_fd) != 0)) {
        int e = errno;
        atomic_fetch_add(&s->failed, 1);
        tg_warn("file sink: cannot update %s/%s: %s; verify may not notice a removed newest "
                "segment until the next update",
                fs->conf->dir, TG_SEG_HEAD_FILE, strerror(e));
        errno = e;
        fs->head_ok = false;
        return TG_EIO;
    }
    fs->head_ok = true;
    return 0;
}

/* Add one event to the pending member (and to the chain). */
static void tg_file_add(struct tg_file_sink *fs, const struct tg_event *ev)
{
    tg_buf_append(&fs->raw, ev->json.data, ev->json.len);
    tg_buf_putc(&fs->raw, '\n');
    fs->fp = tg_xgrow(fs->fp, fs->nfp, &fs->capfp, sizeof(*fs->fp), 1024);
    fs->fp[fs->nfp++] = tg_seg_fingerprint(ev->json.data, ev->json.len);
    tg_chain_add(&fs->chain, ev->json.data, ev->json.len);
    int64_t ns;
    if (tg_seg_record_time(ev->json.data, ev->json.len, &ns) == 0) {
        if (ns < fs->pmin)
            fs->pmin = ns;
        if (ns > fs->pmax)
            fs->pmax = ns;
    }
}

/* Compress the pending member into fs->gz: one complete gzip member.
 * libdeflate rather than zlib here: the whole member is in memory, and it
 * compresses it about 2.4 times faster than zlib at the same level and
 * ratio (level 6: 470 vs 195 MB/s of NDJSON), and this is the sink thread's
 * hot path.  Readers use zlib: the format is the same. */
static void tg_file_compress(struct tg_file_sink *fs)
{
    fs->gz.len = 0;
    size_t bound = libdeflate_gzip_compress_bound(fs->dc, fs->raw.len);
    tg_buf_reserve(&fs->gz, bound);
    fs->gz.len = libdeflate_gzip_compress(fs->dc, fs->raw.data, fs->raw.len, fs->gz.data, bound);
    if (fs->gz.len == 0)
        abort(); /* the bound guarantees room */
}

/* Write the pending member and its sidecar entry.  0 or TG_EIO (errno),
 * after undoing any partial write. */
static int tg_file_write_member(struct tg_sink *s, struct tg_file_sink *fs)
{
    /* chain.head is written in place; until it has its bytes once (it could
     * not get them on a full disk) no data goes ahead of it */
    if (!fs->head_ok && tg_file_head_write(s, fs) != 0)
        return TG_EIO;
    if (fs->seg_fd < 0 && tg_file_segment_open(fs) != 0)
        return TG_EIO;
    tg_file_compress(fs);
    struct tg_seg_member m = {.records = (uint32_t)fs->nfp,
                              .end_offset = fs->seg_off + fs->gz.len,
                              .min_ns = fs->pmin,
                              .max_ns = fs->pmax};
    memcpy(m.link, fs->chain.link, TG_LINK_LEN);
    fs->entry.len = 0;
    tg_seg_member_encode(&fs->entry, &m, fs->fp);
    if (tg_pwrite_all(fs->seg_fd, fs->gz.data, fs->gz.len, fs->seg_off) != 0 ||
        tg_pwrite_all(fs->chain_fd, fs->entry.data, fs->entry.len, fs->chain_off) != 0 ||
        (fs->fsync_mode != TG_FSYNC_NEVER &&
         (fdatasync(fs->seg_fd) != 0 || fdatasync(fs->chain_fd) != 0))) {
        int e = errno;
        /* shrinking frees space, so this works on a full disk too */
        if (ftruncate(fs->seg_fd, (off_t)fs->seg_off) != 0 ||
            ftruncate(fs->chain_fd, (off_t)fs->chain_off) != 0)
            tg_err("file sink: cannot undo a partial write in segment %" PRIu64 ": %s", fs->seq,
                   strerror(errno));
        errno = e;
        return TG_EIO;
    }
    fs->seg_off += fs->gz.len;
    fs->chain_off += fs->entry.len;
    fs->ix.records += fs->nfp;
    fs->ix.members++;
    if (fs->pmin < fs->ix.min_ns)
        fs->ix.min_ns = fs->pmin;
    if (fs->pmax > fs->ix.max_ns)
        fs->ix.max_ns = fs->pmax;
    memcpy(fs->ix.last, fs->chain.link, TG_LINK_LEN);
    memcpy(fs->disk_link, fs->chain.link, TG_LINK_LEN);
    fs->disk_count = fs->chain.count;
    tg_file_head_write(s, fs);
    return 0;
}

/* Write what is pending and confirm it.  0 or TG_EIO (nothing confirmed). */
static int tg_file_flush(struct tg_sink *s, struct tg_file_sink *fs)
{
    if (fs->nfp > 0) {
        if (tg_file_write_member(s, fs) != 0)
            return TG_EIO;
        fs->raw.len = 0;
        fs->nfp = 0;
        fs->pmin = INT64_MAX;
        fs->pmax = INT64_MIN;
    }
    atomic_fetch_add(&s->delivered, fs->pend_events);
    for (size_t i = 0; i < fs->npend; i++)
        tg_batch_done(s, fs->pend[i]);
    fs->npend = 0;
    fs->pend_events = 0;
    if (fs->seg_fd >= 0 && fs->seg_off >= (uint64_t)fs->conf->rotate_bytes)
        tg_file_segment_close(fs);
    return 0;
}

/* Flush, retrying through a failing disk until it works or shutdown began. */
static int tg_file_flush_retry(struct tg_sink *s, struct tg_file_sink *fs)
{
    int64_t backoff = 50;
    for (;;) {
        if (tg_file_flush(s, fs) == 0) {
            if (fs->failing)
                tg_info("file sink: writing to %s again after %" PRId64 " s", fs->conf->dir,
                        (tg_now_ms() - fs->fail_since_ms) / 1000);
            fs->failing = false;
            return 0;
        }
        int e = errno;
        int64_t now = tg_now_ms();
        atomic_fetch_add(&s->failed, 1);
        if (!fs->failing || now >= fs->next_log_ms) {
            tg_err("file sink: cannot write segment %" PRIu64 " in %s: %s; %" PRIu64
                   " events stay unconfirmed (the spool keeps them); retrying%s",
                   fs->seq + (fs->seg_fd < 0), fs->conf->dir, strerror(e), fs->pend_events,
                   e == ENOSPC ? " until space is freed" : "");
            if (!fs->failing)
                fs->fail_since_ms = now;
            fs->failing = true;
            fs->next_log_ms = now + TG_FILE_LOG_EVERY_MS;
        }
        if (tg_sink_stopping(s)) {
            if (!fs->gave_up)
                tg_err("file sink: shutting down with %" PRIu64 " events not written to %s; "
                       "they stay in the spool and are replayed on the next start",
                       fs->pend_events, fs->conf->dir);
            fs->gave_up = true;
            return TG_EIO;
        }
        atomic_fetch_add(&s->retried, 1);
        tg_sleep_ms(backoff);
        backoff = backoff * 2 > TG_FILE_RETRY_MAX_MS ? TG_FILE_RETRY_MAX_MS : backoff * 2;
    }
}

/*
 * Finish the newest segment of an earlier run: cut a torn or unchained tail,
 * write a missing index, and load the chain state from its sidecar.
 */
static int tg_file_recover(struct tg_file_sink *fs, char **err)
{
    const char *dir = fs->conf->dir;
    struct tg_seg_entry *v;
    size_t n;
    if (tg_seg_list(dir, &v, &n) != 0) {
        *err = tg_xasprintf("cannot list %s: %s", dir, strerror(errno));
        return TG_EIO;
    }
    int rc = 0;
    char *cpath = NULL, *dpath = NULL, *ipath = NULL;
    struct tg_sidecar sc = {0};
    while (n > 0) {
        uint64_t seq = v[n - 1].seq;
        free(cpath);
        free(dpath);
        cpath = tg_seg_path(dir, seq, TG_SEG_CHAIN);
        dpath = tg_seg_path(dir, seq, TG_SEG_DATA);
        uint64_t where;
        if (!v[n - 1].has[TG_SEG_CHAIN] || tg_sidecar_load(cpath, &sc, &where) != 0) {
            *err = tg_xasprintf("cannot continue the chain: %s is missing or damaged; run "
                                "`trailguard verify %s` and move the damaged segment out of "
                                "the store",
                                cpath, dir);
            rc = TG_ECORRUPT;
            goto out;
        }
        struct stat st;
        bool no_data = stat(dpath, &st) != 0 || st.st_size == 0;
        if (sc.nm == 0 && no_data) {
            /* created just before a crash or a failed first write: nothing in it */
            char *ipath0 = tg_seg_path(dir, seq, TG_SEG_INDEX);
            unlink(ipath0);
            free(ipath0);
            unlink(dpath);
            unlink(cpath);
            tg_sidecar_free(&sc);
            tg_info("file sink: removed segment %" PRIu64 " of %s, created empty before a crash",
                    seq, dir);
            n--;
            continue;
        }
        if (sc.good_len == 0) {
            *err = tg_xasprintf("cannot continue the chain: %s has no header but %s has data; "
                                "run `trailguard verify %s` and move that segment away",
                                cpath, dpath, dir);
            rc = TG_ECORRUPT;
            goto out;
        }
        break;
    }
    if (n == 0)
        goto out; /* an empty store: start at the genesis */

    if (sc.hdr.keyed && !fs->chain.keyed)
        tg_warn("file sink: %s was chained with HMAC but [sink.file] hmac_key_file is not set: "
                "new segments get the unkeyed chain; set the key again unless this is intended",
                dir);
    fs->seq = sc.hdr.seq;
    uint64_t end = sc.nm ? sc.m[sc.nm - 1].end_offset : 0;
    memcpy(fs->disk_link, sc.nm ? sc.m[sc.nm - 1].link : sc.hdr.prev, TG_LINK_LEN);
    fs->disk_count = sc.hdr.first_index + sc.nfp;
    if (sc.torn_len) {
        tg_warn("file sink: %s ends in a torn entry (%" PRIu64 " bytes, a crash): cut", cpath,
                sc.torn_len);
        if (truncate(cpath, (off_t)sc.good_len) != 0)
            tg_warn("file sink: cannot cut %s: %s", cpath, strerror(errno));
    }
    struct stat st;
    uint64_t size = stat(dpath, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (size > end) {
        tg_warn("file sink: %s has %" PRIu64 " bytes after its last chained member (written "
                "before a crash, never confirmed: the spool replays them): cut",
                dpath, size - end);
        if (truncate(dpath, (off_t)end) != 0)
            tg_warn("file sink: cannot cut %s: %s", dpath, strerror(errno));
    } else if (size < end) {
        tg_err("file sink: %s is shorter than its chain says (data lost or removed); run "
               "`trailguard verify %s`; continuing in a new segment",
               dpath, dir);
    }
    ipath = tg_seg_path(dir, fs->seq, TG_SEG_INDEX);
    if (access(ipath, F_OK) != 0) {
        struct tg_seg_index ix = {.seq = fs->seq,
                                  .first_index = sc.hdr.first_index,
                                  .records = sc.nfp,
                                  .members = sc.nm,
                                  .bytes = end,
                                  .min_ns = INT64_MAX,
                                  .max_ns = INT64_MIN,
                                  .keyed = sc.hdr.keyed};
        for (size_t i = 0; i < sc.nm; i++) {
            if (sc.m[i].min_ns < ix.min_ns)
                ix.min_ns = sc.m[i].min_ns;
            if (sc.m[i].max_ns > ix.max_ns)
                ix.max_ns = sc.m[i].max_ns;
        }
        memcpy(ix.prev, sc.hdr.prev, TG_LINK_LEN);
        memcpy(ix.last, fs->disk_link, TG_LINK_LEN);
        if (tg_seg_index_write(ipath, &ix, fs->fsync_mode != TG_FSYNC_NEVER) != 0)
            tg_warn("file sink: cannot write index %s: %s", ipath, strerror(errno));
    }
out:
    tg_sidecar_free(&sc);
    free(cpath);
    free(dpath);
    free(ipath);
    free(v);
    return rc;
}

/* Open (or create) chain.head and check it against the recovered state. */
static int tg_file_head_open(struct tg_sink *s, struct tg_file_sink *fs, char **err)
{
    struct tg_seg_head h;
    int hr = tg_seg_head_read(fs->conf->dir, &h);
    char *path = tg_xasprintf("%s/%s", fs->conf->dir, TG_SEG_HEAD_FILE);
    int rc = 0;
    if (hr == 0 && h.records > fs->disk_count) {
        *err = tg_xasprintf("%s says the store holds %" PRIu64 " records up to segment %" PRIu64
                            ", but its segments end after %" PRIu64
                            ": segments were removed or data was lost; run `trailguard verify "
                            "%s` and move the store aside before writing to it again",
                            path, h.records, h.seq, fs->disk_count, fs->conf->dir);
        rc = TG_ECORRUPT;
        goto out;
    }
    fs->head_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fs->head_fd < 0 || fchmod(fs->head_fd, 0640) != 0) {
        *err = tg_xasprintf("cannot open %s: %s", path, strerror(errno));
        rc = TG_EIO;
        goto out;
    }
    if (hr == 0)
        fs->head_ok = true;
    else
        tg_file_head_write(s, fs); /* failing here is retried before the first member */
out:
    free(path);
    return rc;
}

static int tg_file_open(struct tg_sink *s, const void *conf)
{
    const struct tg_file_sink_conf *c = conf;
    if (!c)
        return TG_ECONFIG;
    struct tg_file_sink *fs = tg_xcalloc(1, sizeof(*fs));
    fs->conf = c;
    fs->fsync_mode = TG_FSYNC_INTERVAL;
    fs->fsync_ms = 1000;
    const struct tg_collector_conf *cc = s->config ? tg_config_get(s->config, "collector") : NULL;
    if (cc) {
        fs->fsync_mode = cc->fsync;
        fs->fsync_ms = cc->fsync_interval_ms;
    }
    fs->dir_fd = fs->lock_fd = fs->head_fd = fs->seg_fd = fs->chain_fd = -1;
    fs->pmin = INT64_MAX;
    fs->pmax = INT64_MIN;
    char *err = NULL, *lpath = NULL;
    int rc = TG_EIO;
    uint8_t key[TG_LINK_LEN];
    bool keyed = c->hmac_key_file != NULL;
    if (keyed && (rc = tg_chain_key_load(c->hmac_key_file, true, key, &err)) != 0) {
        rc = TG_ECONFIG;
        goto fail;
    }
    tg_chain_init(&fs->chain, keyed ? key : NULL);
    OPENSSL_cleanse(key, sizeof(key));
    rc = TG_EIO;
    if (tg_mkdirs(c->dir) != 0) {
        err = tg_xasprintf("cannot create %s: %s", c->dir, strerror(errno));
        goto fail;
    }
    fs->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    lpath = tg_xasprintf("%s/%s", c->dir, TG_SEG_LOCK_FILE);
    fs->lock_fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fs->dir_fd < 0 || fs->lock_fd < 0) {
        err = tg_xasprintf("cannot open %s: %s", fs->dir_fd < 0 ? c->dir : lpath, strerror(errno));
        goto fail;
    }
    if (flock(fs->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        err = tg_xasprintf("%s is locked: another trailguard process writes to this store; "
                           "give each collector its own [sink.file] dir",
                           c->dir);
        goto fail;
    }
    if ((rc = tg_file_recover(fs, &err)) != 0)
        goto fail;
    tg_chain_resume(&fs->chain, fs->disk_link, fs->disk_count);
    if ((rc = tg_file_head_open(s, fs, &err)) != 0)
        goto fail;
    fs->dc = libdeflate_alloc_compressor((int)c->compression_level);
    if (!fs->dc)
        abort(); /* only fails for lack of memory */
    free(lpath);
    s->ctx = fs;
    tg_info("file sink: writing to %s from segment %" PRIu64 " (%" PRIu64
            " records stored, %s chain)",
            c->dir, fs->seq + 1, fs->disk_count, keyed ? "HMAC" : "SHA-256");
    return 0;
fail:
    tg_err("file sink [sink.file]: %s", err ? err : tg_strerror(rc));
    free(err);
    free(lpath);
    if (fs->chain.md)
        tg_chain_free(&fs->chain);
    if (fs->head_fd >= 0)
        close(fs->head_fd);
    if (fs->lock_fd >= 0)
        close(fs->lock_fd);
    if (fs->dir_fd >= 0)
        close(fs->dir_fd);
    free(fs);
    return rc;
}

static bool tg_file_due(const struct tg_file_sink *fs)
{
    return fs->npend > 0 &&
           (fs->fsync_mode == TG_FSYNC_ALWAYS || fs->raw.len >= TG_FILE_FLUSH_RAW ||
            tg_now_ms() - fs->first_pend_ms >= fs->fsync_ms);
}

static int tg_file_write(struct tg_sink *s, struct tg_batch *b)
{
    struct tg_file_sink *fs = s->ctx;
    for (size_t i = 0; i < b->n; i++) {
        if (tg_sink_wants(s, b->ev[i])) {
            tg_file_add(fs, b->ev[i]);
            fs->pend_events++;
        }
    }
    fs->pend = tg_xgrow(fs->pend, fs->npend, &fs->cappend, sizeof(*fs->pend), 64);
    if (fs->npend == 0)
        fs->first_pend_ms = tg_now_ms();
    fs->pend[fs->npend++] = b;
    return tg_file_due(fs) ? tg_file_flush_retry(s, fs) : 0;
}

static int tg_file_tick(struct tg_sink *s)
{
    struct tg_file_sink *fs = s->ctx;
    int rc = 0;
    if (fs->npend > 0) /* idle: see "When to flush" */
        rc = tg_file_flush_retry(s, fs);
    if (rc == 0 && fs->seg_fd >= 0 && fs->conf->rotate_seconds > 0 &&
        tg_now_ms() - fs->seg_opened_ms >= fs->conf->rotate_seconds * 1000 &&
        (rc = tg_file_flush_retry(s, fs)) == 0)
        tg_file_segment_close(fs);
    return rc;
}

static void tg_file_close(struct tg_sink *s)
{
    struct tg_file_sink *fs = s->ctx;
    if (tg_file_flush_retry(s, fs) == 0) {
        tg_file_segment_close(fs);
    } else {
        for (size_t i = 0; i < fs->npend; i++)
            tg_batch_abandon(s, fs->pend[i]); /* unconfirmed: the spool replays them */
        if (fs->seg_fd >= 0) {
            close(fs->seg_fd);
            close(fs->chain_fd);
        }
    }
    libdeflate_free_compressor(fs->dc);
    tg_chain_free(&fs->chain);
    close(fs->head_fd);
    close(fs->lock_fd);
    close(fs->dir_fd);
    tg_buf_free(&fs->raw);
    tg_buf_free(&fs->gz);
    tg_buf_free(&fs->entry);
    free(fs->fp);
    free(fs->pend);
    free(fs);
    s->ctx = NULL;
}

const struct tg_sink_ops tg_out_file = {
    .name = "file",
    .section = &tg_sink_file_section,
    .open = tg_file_open,
    .write = tg_file_write,
    .tick = tg_file_tick,
    .close = tg_file_close,
};
