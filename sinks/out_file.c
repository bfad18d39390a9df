/*
 * out_file.c - the file sink: [sink.file], a tamper-evident store of
 * compressed NDJSON segments (SPEC.md section 7; format in segment.h,
 * checkpoints in checkpoint.h).
 *
 * Design.  Events of incoming batches are appended to an in-memory NDJSON
 * buffer (the "pending member") and chained at once (chain.h): the chain
 * order is the write order.  A flush compresses the pending member into
 * one complete member (a gzip member or a zstd frame, segment.h), seals it (its descriptor:
 * offsets, count, time range, fingerprints, joins the chain), appends it to the open segment,
 * appends its sidecar entry to the .chain file, fsyncs both per [collector]
 * fsync, then updates chain.head, and only then confirms the batches
 * (tg_batch_done).  So a confirmed event is on disk with its chain entry,
 * and chain.head never names a member that was not synced first (except
 * with fsync = never, where nothing is ever synced).
 *
 * When to flush: [collector] fsync = always flushes after every batch;
 * interval (and never) flush once the oldest pending batch is
 * fsync_interval_ms old, 4 MiB of NDJSON are pending or the pending
 * batches hold a quarter of [collector] queue_max_bytes (they count against
 * it: waiting for the interval there would stall the sources until the idle
 * tick, 10 batches a second), giving larger
 * members (better compression) and one group fsync per interval
 * (never: no fsync), and also as soon as the input goes quiet (tick: no
 * batch for 100 ms), so the end of a burst is stored at once instead of
 * up to an interval later.  That costs ratio only at a trickle (fewer than
 * ~10 batches a second), when there is little to store.  The sink reads
 * [collector] from the whole config, which tg_registry_add_sinks hands
 * every sink as s->config.
 *
 * Compression ([sink.file] compression): zstd (the default) or gzip, each
 * member on its own, so recovery, readers and the seals do not care which.
 * A new segment takes the configured one; a store written across a change
 * holds segments of both kinds (.ndjson.zst, .ndjson.gz) and reads and
 * verifies as one.  zstd level 1 by default because, measured on the
 * collector's own events in members of 1 MiB (261 MB of NDJSON from
 * bench_store.sh's feed), it compresses 1260 MB/s at 20.4:1 where zstd 3
 * does 913 MB/s at 16.9:1 and libdeflate's gzip 6 293 MB/s at 14.1:1, and
 * query and verify read it about 25% faster than gzip: README
 * "Compression" has the numbers.
 *
 * Members: a member holds at most TG_FILE_MEMBER_RECORDS (1024) records and
 * TG_FILE_MEMBER_RAW (1 MiB) of NDJSON, so that a query skips (by time and
 * by the skip index, skipidx.h, built as records are added and stored as
 * the entry's ext bytes under the seal) in steps of about a second of a
 * busy collector.  A flush that holds more writes several members and syncs
 * once, after the last: the members before it are written as the pending
 * records reach the bound (without a sync, and chain.head follows only
 * after the sync).  Measured (200,000 snoopy events): members of 1024
 * records compress to 99% of the ratio of 4 MiB ones (14.0 vs 14.2), and
 * their sidecar entries (fingerprints and skip index) are 8.7% of the data
 * (6.5% with the fingerprints alone); on the 3M-event store of
 * tests/bench/bench_query.sh a rare user's 78 events are found in 0.05 s.
 *
 * Rotation: a segment is closed (its .idx written) when it reaches
 * rotate_bytes of compressed data, or rotate_seconds after it was opened;
 * the next flush opens segment N+1 lazily, so an idle sink creates no empty
 * segments.  Closed segments are never written again.
 *
 * Retention (retain_days, retain_bytes; `trailguard prune`): the oldest
 * closed segments are removed whole, never the newest; first a prune point
 * (a signed checkpoint with reason "prune", checkpoint.h) is stored in the
 * chain as a record, synced and published, then the files go.
 *
 * Checkpoints (checkpoint.h): every checkpoint_seconds while records were
 * added, when a segment is closed and at shutdown, the sink syncs what it
 * wrote (whatever `fsync` says: a checkpoint only covers data on disk),
 * signs the state (signing_key_file; unsigned without one), appends it to
 * checkpoints.ndjson, logs it and announces it to the other sinks
 * (tg_sink_announce), so copies live where an attacker on this disk cannot
 * rewrite them.
 *
 * Recovery at start-up: the records that were confirmed are those chain.head
 * and the newest checkpoint count (V).  The sink checks the members of the
 * newest segment that reach past V (decompressing them and recomputing their
 * links and seals) and cuts the first one that is incomplete and everything
 * after it, in the sidecar and in the data: a crash or a power loss left
 * those, they were never confirmed and the spool replays them, so a crash is
 * never reported as tampering.  What V counts is never cut: if it is gone,
 * or chain.head is missing or names more than the segments hold, data was
 * lost or removed and the sink refuses to write on top of it (the operator
 * runs verify and starts a new store) -- except with fsync = never, where a
 * power loss can do exactly that: then the sink continues from what is
 * there, saying so.  It then writes the old segment's .idx, resumes the
 * chain (and the HMAC key, evolved once per stored record) and continues in
 * a new segment.
 *
 * Failures (disk full, I/O error): the half-written member and sidecar entry
 * are truncated away, the batches stay unconfirmed, the failure is logged
 * (once, then every 30 s) and counted in s->failed, and the flush is retried
 * with a backoff up to 1 s (s->retried), blocking the sink thread: the
 * pipeline backs up into the spool, nothing is lost.  A later attempt
 * recompresses and reseals the whole pending member, so retries never leave
 * gaps.  Once shutdown has begun (tg_sink_stopping) it gives up and abandons
 * the batches (tg_batch_abandon): unconfirmed, the spool replays them on the
 * next start.
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
#include <openssl/rand.h>

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/event.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pipeline.h"
#include "sinks/chain.h"
#include "sinks/checkpoint.h"
#include "sinks/segment.h"
#include "sinks/sinks.h"
#include "sinks/skipidx.h"

#define TG_FILE_FLUSH_RAW (4u << 20) /* flush once this much NDJSON is pending */
/* A member holds at most this many records and bytes of NDJSON (see
 * "Members" above). */
#define TG_FILE_MEMBER_RECORDS 1024
#define TG_FILE_MEMBER_RAW     (1u << 20)
#define TG_FILE_RETRY_MAX_MS   1000
#define TG_FILE_LOG_EVERY_MS   30000

struct tg_file_sink_conf {
    char *dir;
    int64_t rotate_bytes;
    int64_t rotate_seconds;
    int compression; /* enum tg_file_codec */
    int64_t compression_level;
    char *hmac_key_file;
    int64_t checkpoint_seconds;
    char *signing_key_file;
    int64_t retain_days;
    int64_t retain_bytes;
};

enum tg_file_codec { TG_FILE_ZSTD = 0, TG_FILE_GZIP };
static const char *const tg_file_codecs[] = {"zstd", "gzip", NULL};
/* The level compression_level = 0 stands for, per codec. */
static const int tg_file_default_level[] = {1, 6};

static const char *tg_file_section_check(const void *section)
{
    const struct tg_file_sink_conf *c = section;
    if (c->compression == TG_FILE_GZIP && c->compression_level > 9)
        return "compression_level: gzip levels are 1 to 9 (0: 6)";
    return NULL;
}

#define OFF(f) offsetof(struct tg_file_sink_conf, f)
static const struct tg_opt tg_file_opts[] = {
    {"dir", TG_OPT_STR, "./trailguard-data/events", OFF(dir),
     "store directory (created 0750; files 0640); one writer at a time"},
    {"rotate_bytes", TG_OPT_SIZE, "256M", OFF(rotate_bytes),
     "close a segment once it holds this many compressed bytes", NULL, 4096, INT64_MAX},
    {"rotate_seconds", TG_OPT_INT, "3600", OFF(rotate_seconds),
     "close a segment this many seconds after it was opened; 0 = only by size", NULL, 0,
     86400 * 366},
    {"compression", TG_OPT_ENUM, "gzip", OFF(compression),
     "how each member of a segment is compressed: gzip (segments seg-N.ndjson.gz, read with "
     "zcat; SPEC's format) or zstd (seg-N.ndjson.zst, zstdcat: a quarter of the compression "
     "CPU, 30% smaller); a change applies from the next segment, and query, export and verify read "
     "stores that hold both",
     tg_file_codecs},
    {"compression_level", TG_OPT_INT, "0", OFF(compression_level),
     "zstd 1 (fastest) to 19 (smallest), gzip 1 to 9; 0 = the codec's default (zstd 1, gzip 6)",
     NULL, 0, 19},
    {"hmac_key_file", TG_OPT_STR, NULL, OFF(hmac_key_file),
     "optional: key file for an HMAC-SHA-256 chain with a forward-evolving key; keep a copy "
     "offline, `trailguard verify --key FILE` needs it"},
    {"checkpoint_seconds", TG_OPT_INT, "60", OFF(checkpoint_seconds),
     "make a checkpoint of the chain this often while events arrive (also when a segment is "
     "closed and at shutdown); it goes to checkpoints.ndjson, the log and the other sinks; "
     "0 = only at rotation and shutdown",
     NULL, 0, 86400},
    {"signing_key_file", TG_OPT_STR, NULL, OFF(signing_key_file),
     "optional: Ed25519 private key (`trailguard keygen`) that signs the checkpoints; "
     "auditors check them with the .pub file (`verify --checkpoint F --pubkey K`)"},
    {"retain_days", TG_OPT_INT, "0", OFF(retain_days),
     "remove closed segments whose newest event is older than this many days, after a "
     "signed prune point is in the chain (verify then says what was pruned); 0 = keep "
     "forever",
     NULL, 0, 36500},
    {"retain_bytes", TG_OPT_SIZE, "0", OFF(retain_bytes),
     "remove the oldest closed segments while the store holds more compressed bytes than "
     "this (suffixes k, M, G), the same way; 0 = no limit",
     NULL, 0, INT64_MAX},
    {NULL},
};

const struct tg_section_def tg_sink_file_section = {
    .name = "sink.file",
    .doc = "The file store: zstd or gzip NDJSON segments with a hash chain and signed "
           "checkpoints (query, export and verify read it).",
    .opts = tg_file_opts,
    .size = sizeof(struct tg_file_sink_conf),
    .check = tg_file_section_check,
};

struct tg_file_sink {
    const struct tg_file_sink_conf *conf;
    int fsync_mode;
    int64_t fsync_ms;
    struct tg_chain chain;
    int dir_fd, lock_fd, head_fd;
    bool head_ok; /* chain.head holds a complete line */
    uint8_t store_id[TG_SEG_STORE_ID_LEN];
    char *abs_dir, *host;

    /* chain state of what is on disk (after the last written member's seal) */
    uint8_t disk_link[TG_LINK_LEN];
    uint64_t disk_count, disk_members;

    /* the open segment (seg_fd < 0: none; seq is then the last one closed) */
    uint64_t seq;
    int seg_fd, chain_fd;
    uint64_t seg_off, chain_off;
    struct tg_seg_header hdr;
    struct tg_seg_index ix;
    int64_t seg_opened_ms;

    /* the pending member, and its skip index (ext: built once per member,
     * kept for retries); kind: the data file kind of new segments */
    struct tg_seg_packer *pk;
    enum tg_seg_kind kind;
    struct tg_buf raw, gz, entry, seal, ext;
    struct tg_skipidx sx;
    bool ext_ready;
    bool unsynced;     /* members written since the last sync (cut mid-flush) */
    bool broken;       /* a batch was taken in only in part: nothing more is confirmed */
    uint64_t pend_raw; /* NDJSON bytes added since the last flush */
    uint32_t *fp;
    size_t nfp, capfp;
    int64_t pmin, pmax;
    struct tg_batch **pend;
    size_t npend, cappend;
    uint64_t pend_events;
    size_t pend_bytes, flush_bytes; /* the pending batches' memory; flush at flush_bytes */
    int64_t first_pend_ms;

    /* checkpoints */
    void *sign_key;
    uint64_t cp_records; /* records the newest checkpoint covers */
    int64_t cp_ms;       /* when it was made (monotonic) */
    int64_t retain_ms;   /* when retention was last applied (monotonic) */

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
    char *dpath = tg_seg_path(fs->conf->dir, seq, fs->kind);
    struct tg_seg_header h = {.seq = seq,
                              .first_index = fs->disk_count,
                              .first_member = fs->disk_members,
                              .keyed = fs->chain.keyed};
    memcpy(h.store_id, fs->store_id, sizeof(h.store_id));
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
    fs->hdr = h;
    fs->seg_off = 0;
    fs->chain_off = sizeof(hdr);
    fs->seg_opened_ms = tg_now_ms();
    fs->ix = (struct tg_seg_index){.seq = seq,
                                   .first_index = fs->disk_count,
                                   .first_member = fs->disk_members,
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

/* Overwrite chain.head with the on-disk chain state.  0 or TG_EIO (counted
 * and logged; a head that lags behind the data is harmless for verify). */
static int tg_file_head_write(struct tg_sink *s, struct tg_file_sink *fs)
{
    struct tg_seg_head h = {.seq = fs->seq, .records = fs->disk_count, .members = fs->disk_members};
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

/* Sync what the sink wrote, whatever `fsync` says (a checkpoint only covers
 * data on disk).  0, or TG_EIO logged and counted. */
static int tg_file_sync_all(struct tg_sink *s, struct tg_file_sink *fs)
{
    if ((fs->seg_fd >= 0 && (fdatasync(fs->seg_fd) != 0 || fdatasync(fs->chain_fd) != 0)) ||
        fdatasync(fs->head_fd) != 0) {
        atomic_fetch_add(&s->failed, 1);
        tg_warn("file sink: no checkpoint: syncing %s failed: %s", fs->conf->dir, strerror(errno));
        return TG_EIO;
    }
    return 0;
}

/* A checkpoint of the chain as it is on disk, for `reason` (unsigned). */
static void tg_file_cp_init(const struct tg_file_sink *fs, struct tg_checkpoint *cp,
                            const char *reason)
{
    *cp = (struct tg_checkpoint){.segment = fs->seq,
                                 .records = fs->disk_count,
                                 .members = fs->disk_members,
                                 .keyed = fs->chain.keyed,
                                 .host = fs->host,
                                 .dir = fs->abs_dir};
    memcpy(cp->store_id, fs->store_id, sizeof(cp->store_id));
    memcpy(cp->link, fs->disk_link, TG_LINK_LEN);
    struct tg_time now = tg_time_now();
    cp->time_us = now.sec * 1000000 + now.nsec / 1000;
    snprintf(cp->reason, sizeof(cp->reason), "%s", reason);
}

/*
 * The event line of checkpoint `cp` (JSON of cp in `cpjson`): as an internal
 * record for the other sinks (internal: parsers/internal.c reads it), or as
 * the event the sink stores in its own chain (a prune point).
 */
static void tg_file_cp_event(struct tg_buf *out, const struct tg_file_sink *fs,
                             const struct tg_checkpoint *cp, struct tg_str cpjson, bool internal)
{
    struct tg_time t = {cp->time_us / 1000000, (int32_t)(cp->time_us % 1000000) * 1000, 6};
    const char *action = strcmp(cp->reason, "prune") == 0 ? "prune" : "checkpoint";
    char msg[200];
    snprintf(msg, sizeof(msg),
             strcmp(action, "prune") == 0
                 ? "file store prune point: the chain now starts at segment %" PRIu64
                   " after %" PRIu64 " records"
                 : "file store checkpoint: %" PRIu64 " segments, %" PRIu64 " records",
             cp->segment, cp->records);
    struct tg_jw w;
    out->len = 0;
    tg_jw_begin(&w, out);
    if (internal) {
        tg_jw_int(&w, "trailguard_internal", 1);
        tg_jw_time(&w, "@timestamp", t);
        tg_jw_cstr(&w, "dataset", "trailguard.checkpoint");
        tg_jw_cstr(&w, "action", action);
        tg_jw_cstr(&w, "host", fs->host);
        tg_jw_cstr(&w, "message", msg);
        tg_jw_raw(&w, "data", cpjson);
    } else {
        tg_jw_time(&w, "@timestamp", t);
        tg_jw_open(&w, "event");
        tg_jw_cstr(&w, "kind", "event");
        tg_jw_cstr(&w, "dataset", "trailguard.checkpoint");
        tg_jw_cstr(&w, "action", action);
        tg_jw_close(&w);
        tg_jw_cstr(&w, "message", msg);
        tg_jw_open(&w, "host");
        tg_jw_cstr(&w, "name", fs->host);
        tg_jw_close(&w);
        tg_jw_open(&w, "trailguard");
        tg_jw_raw(&w, "checkpoint", cpjson);
        tg_jw_close(&w);
    }
    tg_jw_end(&w);
}

/*
 * Publish checkpoint cp: sign it, append it to checkpoints.ndjson, log it
 * and announce it to the other sinks.  A failure is logged and counted; the
 * store stays as it is.  The caller synced what cp covers.
 */
static void tg_file_publish(struct tg_sink *s, struct tg_file_sink *fs, struct tg_checkpoint *cp)
{
    if (fs->sign_key && !cp->is_signed && tg_checkpoint_sign(cp, fs->sign_key) != 0)
        tg_warn("file sink: cannot sign the checkpoint (OpenSSL); it is written unsigned");
    struct tg_buf line = TG_BUF_INIT, rec = TG_BUF_INIT;
    tg_checkpoint_format(cp, &line);
    tg_buf_putc(&line, '\n');
    char *path = tg_xasprintf("%s/%s", fs->conf->dir, TG_CHECKPOINT_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st;
    bool created = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0;
    if (fd < 0 || (created && fchmod(fd, 0640) != 0) ||
        tg_pwrite_all(fd, line.data, line.len, 0) != 0 || fdatasync(fd) != 0) {
        atomic_fetch_add(&s->failed, 1);
        tg_warn("file sink: cannot append the checkpoint to %s: %s", path, strerror(errno));
    } else if (created) {
        tg_file_sync_dir(fs);
    }
    if (fd >= 0)
        close(fd);
    line.len--; /* without the LF from here on */
    tg_info("file sink: checkpoint %.*s", (int)line.len, line.data);
    tg_file_cp_event(&rec, fs, cp, tg_str_make(line.data, line.len), true);
    tg_sink_announce(s, rec.data, rec.len);
    free(path);
    tg_buf_free(&line);
    tg_buf_free(&rec);
}

/* Make a checkpoint of what is on disk (the caller flushed), for `reason`. */
static void tg_file_checkpoint(struct tg_sink *s, struct tg_file_sink *fs, const char *reason)
{
    if (fs->disk_members == 0 || tg_file_sync_all(s, fs) != 0)
        return; /* nothing stored yet, or not on disk */
    struct tg_checkpoint cp;
    tg_file_cp_init(fs, &cp, reason);
    tg_file_publish(s, fs, &cp);
    fs->cp_records = fs->disk_count;
    fs->cp_ms = tg_now_ms();
}

/* Close the open segment: write its index, then checkpoint (`reason`).
 * Never fails (a missing index only costs readers the skip; it is logged). */
static void tg_file_segment_close(struct tg_sink *s, struct tg_file_sink *fs, const char *reason)
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
    tg_file_checkpoint(s, fs, reason);
    close(fs->seg_fd);
    close(fs->chain_fd);
    fs->seg_fd = fs->chain_fd = -1;
    tg_file_sync_dir(fs);
    fs->retain_ms = 0; /* one more closed segment: retention looks at the next tick */
}

/* Add one record to the pending member (and to the chain): ev's JSON, or
 * (ev NULL) a line of the sink's own. */
static void tg_file_add(struct tg_file_sink *fs, const char *json, size_t len,
                        const struct tg_event *ev)
{
    tg_buf_append(&fs->raw, json, len);
    tg_buf_putc(&fs->raw, '\n');
    fs->fp = tg_xgrow(fs->fp, fs->nfp, &fs->capfp, sizeof(*fs->fp), 1024);
    fs->fp[fs->nfp++] = tg_seg_fingerprint(json, len);
    tg_chain_add(&fs->chain, json, len);
    tg_seg_time_span(json, len, &fs->pmin, &fs->pmax);
    if (ev)
        tg_skipidx_add_event(&fs->sx, ev);
    else
        tg_skipidx_add(&fs->sx, json, len);
    fs->pend_raw += len + 1;
}

/* Write the pending member and its sidecar entry; with `sync`, sync both
 * files and then update chain.head (without, chain.head waits for the sync
 * that ends the flush).  0 or TG_EIO (errno), after undoing any partial
 * write. */
static int tg_file_write_member(struct tg_sink *s, struct tg_file_sink *fs, bool sync)
{
    /* chain.head is written in place; until it has its bytes once (it could
     * not get them on a full disk) no data goes ahead of it */
    if (!fs->head_ok && tg_file_head_write(s, fs) != 0)
        return TG_EIO;
    if (fs->seg_fd < 0 && tg_file_segment_open(fs) != 0)
        return TG_EIO;
    tg_seg_pack(fs->pk, fs->raw.data, fs->raw.len, &fs->gz);
    if (!fs->ext_ready) { /* the skip index, once: a retry reuses it */
        fs->ext.len = 0;
        tg_skipidx_finish(&fs->sx, &fs->ext);
        fs->ext_ready = true;
    }
    struct tg_seg_member m = {.records = (uint32_t)fs->nfp,
                              .start_offset = fs->seg_off,
                              .end_offset = fs->seg_off + fs->gz.len,
                              .min_ns = fs->pmin,
                              .max_ns = fs->pmax,
                              .ext_len = (uint32_t)fs->ext.len};
    tg_seg_seal_message(&fs->seal, &fs->hdr, fs->ix.members, fs->disk_count, &m, fs->fp,
                        fs->ext.data);
    tg_chain_seal(&fs->chain, fs->seal.data, fs->seal.len, m.link);
    fs->entry.len = 0;
    tg_seg_member_encode(&fs->entry, &m, fs->fp, fs->ext.data);
    if (tg_pwrite_all(fs->seg_fd, fs->gz.data, fs->gz.len, fs->seg_off) != 0 ||
        tg_pwrite_all(fs->chain_fd, fs->entry.data, fs->entry.len, fs->chain_off) != 0 ||
        (sync && fs->fsync_mode != TG_FSYNC_NEVER &&
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
    memcpy(fs->chain.link, m.link, TG_LINK_LEN); /* the next record links to the seal */
    fs->seg_off += fs->gz.len;
    fs->chain_off += fs->entry.len;
    fs->ix.records += fs->nfp;
    fs->ix.members++;
    if (fs->pmin < fs->ix.min_ns)
        fs->ix.min_ns = fs->pmin;
    if (fs->pmax > fs->ix.max_ns)
        fs->ix.max_ns = fs->pmax;
    memcpy(fs->ix.last, m.link, TG_LINK_LEN);
    memcpy(fs->disk_link, m.link, TG_LINK_LEN);
    fs->disk_count = fs->chain.count;
    fs->disk_members++;
    fs->ext_ready = false;
    fs->unsynced = !sync;
    if (sync)
        tg_file_head_write(s, fs);
    return 0;
}

/* Write the pending member (if any) and start the next one; `sync` as for
 * tg_file_write_member.  0 or TG_EIO. */
static int tg_file_member_out(struct tg_sink *s, struct tg_file_sink *fs, bool sync)
{
    if (fs->nfp == 0)
        return 0;
    if (tg_file_write_member(s, fs, sync) != 0)
        return TG_EIO;
    fs->raw.len = 0;
    fs->nfp = 0;
    fs->pmin = INT64_MAX;
    fs->pmax = INT64_MIN;
    return 0;
}

/* Write what is pending and confirm it.  0 or TG_EIO (nothing confirmed). */
static int tg_file_flush(struct tg_sink *s, struct tg_file_sink *fs)
{
    if (fs->broken)
        return TG_EIO;
    if (tg_file_member_out(s, fs, true) != 0)
        return TG_EIO;
    if (fs->unsynced) { /* members cut before, nothing pending after them */
        if (fs->fsync_mode != TG_FSYNC_NEVER &&
            (fdatasync(fs->seg_fd) != 0 || fdatasync(fs->chain_fd) != 0))
            return TG_EIO;
        fs->unsynced = false;
        tg_file_head_write(s, fs);
    }
    fs->pend_raw = 0;
    for (size_t i = 0; i < fs->npend; i++)
        tg_batch_done(s, fs->pend[i]);
    atomic_fetch_add(&s->delivered, fs->pend_events); /* after: seen delivered, seen released */
    fs->npend = 0;
    fs->pend_events = 0;
    fs->pend_bytes = 0;
    if (fs->seg_fd >= 0 && fs->seg_off >= (uint64_t)fs->conf->rotate_bytes)
        tg_file_segment_close(s, fs, "rotation");
    return 0;
}

/* Flush (or, with `cut`, only write the pending member without syncing or
 * confirming), retrying through a failing disk until it works or shutdown
 * began. */
static int tg_file_retry(struct tg_sink *s, struct tg_file_sink *fs, bool cut)
{
    int64_t backoff = 50;
    for (;;) {
        if (fs->broken)
            return TG_EIO;
        if ((cut ? tg_file_member_out(s, fs, false) : tg_file_flush(s, fs)) == 0) {
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

static int64_t tg_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The segments to prune: how many of v[] from the front, their records and
 * newest event time.  0 or TG_EIO (a segment without its index: stop). */
static size_t tg_file_victims(const struct tg_file_sink *fs, const struct tg_seg_entry *v, size_t n,
                              int64_t before_ns, int64_t max_bytes, uint64_t *records,
                              int64_t *newest)
{
    uint64_t total = 0;
    struct stat st;
    for (size_t i = 0; i < n; i++) {
        char *p = tg_seg_path(fs->conf->dir, v[i].seq, tg_seg_data_kind(&v[i]));
        if (stat(p, &st) == 0)
            total += (uint64_t)st.st_size;
        free(p);
    }
    size_t k = 0;
    *records = 0;
    *newest = INT64_MIN;
    for (; k + 1 < n; k++) { /* never the newest: the chain resumes from it */
        if (fs->seg_fd >= 0 && v[k].seq == fs->seq)
            break;
        char *p = tg_seg_path(fs->conf->dir, v[k].seq, TG_SEG_INDEX);
        struct tg_seg_index ix;
        int rc = tg_seg_index_read(p, &ix);
        free(p);
        if (rc != 0)
            break; /* not closed cleanly: leave it (and what follows) to verify */
        bool old = before_ns != INT64_MIN && (ix.min_ns > ix.max_ns || ix.max_ns < before_ns);
        if (!old && !(max_bytes > 0 && total > (uint64_t)max_bytes))
            break;
        total -= ix.bytes < total ? ix.bytes : total;
        *records += ix.records;
        if (ix.max_ns > *newest && ix.min_ns <= ix.max_ns)
            *newest = ix.max_ns;
    }
    return k;
}

int tg_out_file_prune(struct tg_sink *s, int64_t before_ns, int64_t max_bytes, const char *why,
                      uint64_t *removed)
{
    struct tg_file_sink *fs = s->ctx;
    struct tg_seg_entry *v;
    size_t n;
    *removed = 0;
    if (tg_seg_list(fs->conf->dir, &v, &n) != 0) {
        tg_warn("file sink: retention: cannot list %s: %s", fs->conf->dir, strerror(errno));
        return TG_EIO;
    }
    uint64_t records;
    int64_t newest;
    size_t k = tg_file_victims(fs, v, n, before_ns, max_bytes, &records, &newest);
    int rc = 0;
    if (k == 0)
        goto out;
    /* where the chain of the store starts once they are gone */
    struct tg_sidecar_cursor cur;
    char *cpath = tg_seg_path(fs->conf->dir, v[k].seq, TG_SEG_CHAIN);
    rc = tg_sidecar_cursor_open(cpath, &cur);
    free(cpath);
    if (rc != 0) {
        tg_warn("file sink: retention: cannot read the header of segment %" PRIu64 "; nothing "
                "pruned",
                v[k].seq);
        rc = TG_EIO;
        goto out;
    }
    tg_sidecar_cursor_close(&cur);
    struct tg_checkpoint cp;
    tg_file_cp_init(fs, &cp, "prune");
    cp.segment = v[k].seq;
    cp.records = cur.hdr.first_index;
    cp.members = cur.hdr.first_member;
    cp.keyed = cur.hdr.keyed;
    memcpy(cp.link, cur.hdr.prev, TG_LINK_LEN);
    char t[32] = "none";
    if (newest != INT64_MIN)
        tg_time_format(t, (struct tg_time){newest / 1000000000, (int32_t)(newest % 1000000000), 9});
    cp.note = tg_xasprintf("%s: segments %" PRIu64 " to %" PRIu64 " (%" PRIu64
                           " records, the newest event at %s) removed",
                           why, v[0].seq, v[k - 1].seq, records, t);
    if (fs->sign_key && tg_checkpoint_sign(&cp, fs->sign_key) != 0)
        tg_warn("file sink: cannot sign the prune point (OpenSSL); it is written unsigned");
    /* the prune point goes into the chain first, on disk, then the files go:
     * a crash in between leaves segments verify knows to be pruned */
    struct tg_buf cpjson = TG_BUF_INIT, line = TG_BUF_INIT;
    tg_checkpoint_format(&cp, &cpjson);
    tg_file_cp_event(&line, fs, &cp, tg_str_make(cpjson.data, cpjson.len), false);
    tg_file_add(fs, line.data, line.len, NULL);
    if (fs->npend == 0)
        fs->first_pend_ms = tg_now_ms();
    if (tg_file_retry(s, fs, false) != 0 || tg_file_sync_all(s, fs) != 0) {
        rc = TG_EIO;
    } else {
        tg_file_publish(s, fs, &cp);
        for (size_t i = 0; i < k; i++)
            for (int j = 0; j < TG_SEG_KINDS; j++) {
                static const enum tg_seg_kind order[TG_SEG_KINDS] = {TG_SEG_INDEX, TG_SEG_CHAIN,
                                                                     TG_SEG_GZ, TG_SEG_ZST};
                char *p = tg_seg_path(fs->conf->dir, v[i].seq, order[j]);
                if (unlink(p) != 0 && errno != ENOENT)
                    tg_warn("file sink: retention: cannot remove %s: %s", p, strerror(errno));
                free(p);
            }
        tg_file_sync_dir(fs);
        *removed = k;
        tg_info("file sink: retention (%s): removed segments %" PRIu64 " to %" PRIu64
                " of %s (%" PRIu64 " records); the store now starts at segment %" PRIu64,
                why, v[0].seq, v[k - 1].seq, fs->conf->dir, records, v[k].seq);
    }
    cp.host = cp.dir = NULL; /* borrowed from fs */
    tg_checkpoint_clear(&cp);
    tg_buf_free(&cpjson);
    tg_buf_free(&line);
out:
    free(v);
    return rc;
}

/* Apply [sink.file] retain_days / retain_bytes (from tick, once a minute). */
static void tg_file_retention(struct tg_sink *s, struct tg_file_sink *fs)
{
    const struct tg_file_sink_conf *c = fs->conf;
    if ((c->retain_days == 0 && c->retain_bytes == 0) || tg_now_ms() - fs->retain_ms < 60000)
        return;
    fs->retain_ms = tg_now_ms();
    char why[96];
    if (c->retain_days && c->retain_bytes)
        snprintf(why, sizeof(why), "retain_days = %" PRId64 ", retain_bytes = %" PRId64,
                 c->retain_days, c->retain_bytes);
    else if (c->retain_days)
        snprintf(why, sizeof(why), "retain_days = %" PRId64, c->retain_days);
    else
        snprintf(why, sizeof(why), "retain_bytes = %" PRId64, c->retain_bytes);
    uint64_t removed;
    tg_out_file_prune(
        s, c->retain_days ? tg_real_ns() - c->retain_days * 86400 * 1000000000 : INT64_MIN,
        c->retain_bytes, why, &removed);
}

/*
 * Check member i of sc (segment data at r) against its entry: it decompresses
 * as one member ending at its end offset, holds its record count, and
 * its records and seal give its link, starting from `c` (the chain before
 * it; left after it).  true when it is whole.
 */
static bool tg_file_member_ok(struct tg_chain *c, const struct tg_sidecar *sc, size_t i,
                              struct tg_seg_reader *r, struct tg_buf *seal)
{
    const struct tg_seg_member *m = &sc->m[i];
    if (tg_seg_reader_seek(r, m->start_offset) != 0)
        return false;
    struct tg_str rec;
    uint32_t n = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    int rc;
    while ((rc = tg_seg_reader_next(r, &rec)) == TG_SEG_RECORD) {
        if (n == m->records || tg_seg_fingerprint(rec.p, rec.len) != sc->fp[m->first_fp + n])
            return false;
        tg_chain_add(c, rec.p, rec.len);
        tg_seg_time_span(rec.p, rec.len, &mn, &mx);
        n++;
    }
    if (rc != TG_SEG_MEMBER || n != m->records || tg_seg_reader_offset(r) != m->end_offset ||
        mn != m->min_ns || mx != m->max_ns)
        return false;
    uint8_t link[TG_LINK_LEN];
    tg_seg_seal_message(seal, &sc->hdr, i, sc->hdr.first_index + m->first_fp, m,
                        sc->fp + m->first_fp, sc->ext + m->ext_off);
    tg_chain_seal(c, seal->data, seal->len, link);
    memcpy(c->link, link, TG_LINK_LEN);
    return memcmp(link, m->link, TG_LINK_LEN) == 0;
}

/* The members of the newest segment that are whole on disk: members at or
 * below `v` records are only checked for their data's presence (they were
 * confirmed); the others are read and checked in full.  key0: the HMAC key
 * (NULL: unkeyed). */
static size_t tg_file_whole_members(const struct tg_sidecar *sc, const char *dpath,
                                    enum tg_seg_kind kind, uint64_t v, const uint8_t *key0)
{
    struct stat st;
    uint64_t size = stat(dpath, &st) == 0 ? (uint64_t)st.st_size : 0;
    size_t keep = 0;
    while (keep < sc->nm && tg_sidecar_records_after(sc, keep) <= v &&
           sc->m[keep].end_offset <= size)
        keep++;
    if (keep == sc->nm || tg_sidecar_records_after(sc, keep) <= v)
        return keep;            /* all there, or data that was confirmed is missing */
    if (sc->hdr.keyed && !key0) /* cannot check the links: trust what is there */
        return sc->m[sc->nm - 1].end_offset <= size ? sc->nm : keep;
    struct tg_seg_reader *r;
    if (tg_seg_reader_open(dpath, kind, &r) != 0)
        return keep;
    struct tg_chain c;
    struct tg_buf seal = TG_BUF_INIT;
    tg_chain_init(&c, key0);
    c.keyed = sc->hdr.keyed; /* a loaded key evolves for unkeyed segments too (chain.h) */
    tg_chain_resume(&c, keep ? sc->m[keep - 1].link : sc->hdr.prev,
                    sc->hdr.first_index +
                        (keep ? sc->m[keep - 1].first_fp + sc->m[keep - 1].records : 0));
    while (keep < sc->nm && tg_file_member_ok(&c, sc, keep, r, &seal))
        keep++;
    tg_chain_free(&c);
    tg_buf_free(&seal);
    tg_seg_reader_close(r);
    return keep;
}

/* A sentence for the operator when recovery must not write on top of the store. */
static char *tg_file_refuse(const char *dir, const char *what)
{
    return tg_xasprintf("%s: data that was stored and confirmed is gone (removed, or lost by the "
                        "disk); trailguard does not write on top of it. Run `trailguard verify "
                        "%s` (with your newest checkpoint: --checkpoint), keep the directory for "
                        "the audit, and point [sink.file] dir at a new one",
                        what, dir);
}

/* The newest checkpoint in the store's checkpoints.ndjson: its record count
 * (0 when none).  A damaged file is an error (*err). */
static int tg_file_newest_checkpoint(const char *dir, uint64_t *records, char **err)
{
    char *path = tg_xasprintf("%s/%s", dir, TG_CHECKPOINT_FILE);
    struct tg_checkpoint *v;
    size_t n, torn, bad;
    char *why = NULL;
    int rc = tg_checkpoints_read(path, &v, &n, &torn, &bad, &why);
    *records = 0;
    if (rc == TG_EINVAL)
        *err = tg_xasprintf("%s: line %zu: %s; run `trailguard verify %s`", path, bad, why, dir);
    else if (rc != 0)
        *err = tg_xasprintf("%s: cannot read: %s", path, strerror(errno));
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (v[i].records > *records)
            *records = v[i].records;
    if (rc == 0)
        tg_checkpoints_free(v, n);
    free(why);
    free(path);
    return rc == 0 ? 0 : TG_ECORRUPT;
}

/*
 * Finish the newest segment of an earlier run (see "Recovery" above) and
 * load the chain state from its sidecar.  key0: the HMAC key or NULL.
 */
static int tg_file_recover(struct tg_file_sink *fs, const uint8_t *key0, char **err)
{
    const char *dir = fs->conf->dir;
    bool never = fs->fsync_mode == TG_FSYNC_NEVER;
    struct tg_seg_entry *v;
    size_t n;
    if (tg_seg_list(dir, &v, &n) != 0) {
        *err = tg_xasprintf("cannot list %s: %s", dir, strerror(errno));
        return TG_EIO;
    }
    int rc = 0;
    char *cpath = NULL, *dpath = NULL, *ipath = NULL;
    struct tg_sidecar sc = {0};
    struct tg_seg_head h;
    int hr = tg_seg_head_read(dir, &h);
    uint64_t vcp, vhead = hr == 0 ? h.records : 0;
    if ((rc = tg_file_newest_checkpoint(dir, &vcp, err)) != 0)
        goto out;
    uint64_t vconf = vhead > vcp ? vhead : vcp; /* records that were confirmed */
    enum tg_seg_kind dkind = TG_SEG_GZ;
    while (n > 0) {
        uint64_t seq = v[n - 1].seq;
        free(cpath);
        free(dpath);
        dkind = tg_seg_data_kind(&v[n - 1]);
        cpath = tg_seg_path(dir, seq, TG_SEG_CHAIN);
        dpath = tg_seg_path(dir, seq, dkind);
        if (v[n - 1].has[TG_SEG_GZ] && v[n - 1].has[TG_SEG_ZST]) {
            *err = tg_xasprintf("cannot continue the chain: segment %" PRIu64 " of %s has two "
                                "data files (.ndjson.gz and .ndjson.zst); run `trailguard verify "
                                "%s` and move the one that does not belong out of the store",
                                seq, dir, dir);
            rc = TG_ECORRUPT;
            goto out;
        }
        uint64_t where;
        int lrc = v[n - 1].has[TG_SEG_CHAIN] ? tg_sidecar_load(cpath, &sc, &where) : TG_ENOENT;
        if (lrc == TG_EVERSION) {
            *err = tg_xasprintf("%s is a store of format 1 (an earlier trailguard); this version "
                                "writes format 2: point [sink.file] dir at a new directory and "
                                "keep this one (read it with the version that wrote it)",
                                dir);
            rc = TG_ECORRUPT;
            goto out;
        }
        if (lrc != 0) {
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
    if (n == 0) {
        if (vconf > 0 && !never) {
            *err = tg_file_refuse(dir, "the store has no segments but chain.head or a checkpoint "
                                       "counts records");
            rc = TG_ECORRUPT;
        } else if (vconf > 0) {
            tg_warn("file sink: %s: chain.head or a checkpoint counts %" PRIu64
                    " records but no segment is left (a power loss with fsync = never?): "
                    "starting again at the genesis",
                    dir, vconf);
        }
        goto out; /* an empty store: start at the genesis */
    }
    uint64_t claimed = sc.hdr.first_index + sc.nfp;
    if (hr == TG_ENOENT && !never) {
        *err = tg_file_refuse(dir, "chain.head is missing but the store holds segments");
        rc = TG_ECORRUPT;
        goto out;
    }
    if (hr == 0 && (h.seq > sc.hdr.seq || h.records > claimed) && !never) {
        *err = tg_xasprintf("%s/%s says the store holds %" PRIu64 " records up to segment %" PRIu64
                            ", but its segments end after %" PRIu64 " in segment %" PRIu64
                            ": segments were removed or data was lost; run `trailguard verify "
                            "%s` and move the store aside before writing to it again",
                            dir, TG_SEG_HEAD_FILE, h.records, h.seq, claimed, sc.hdr.seq, dir);
        rc = TG_ECORRUPT;
        goto out;
    }
    if (hr == TG_ECORRUPT)
        tg_warn("file sink: %s/%s is damaged (a write torn by a power loss?); it is rewritten", dir,
                TG_SEG_HEAD_FILE);
    size_t keep = tg_file_whole_members(&sc, dpath, dkind, vconf, key0);
    uint64_t kept = keep ? tg_sidecar_records_after(&sc, keep - 1) : sc.hdr.first_index;
    if (kept < vconf && !never) {
        *err = tg_file_refuse(dir, "the newest segment's data ends before the records chain.head "
                                   "and the checkpoints count");
        rc = TG_ECORRUPT;
        goto out;
    }
    if (kept < vconf)
        tg_warn("file sink: %s: %" PRIu64 " records counted by chain.head or a checkpoint are "
                "not on disk (a power loss with fsync = never): continuing after record %" PRIu64,
                dir, vconf - kept, kept);
    fs->seq = sc.hdr.seq;
    memcpy(fs->store_id, sc.hdr.store_id, sizeof(fs->store_id));
    if (keep == 0) { /* nothing of it is whole: it goes, and its number is used again */
        tg_warn("file sink: removed segment %" PRIu64 " of %s: none of its members is whole on "
                "disk (written before a crash or a power loss, never confirmed: the spool "
                "replays them)",
                fs->seq, dir);
        char *ipath0 = tg_seg_path(dir, fs->seq, TG_SEG_INDEX);
        unlink(ipath0);
        free(ipath0);
        unlink(dpath);
        unlink(cpath);
        fs->seq--;
        memcpy(fs->disk_link, sc.hdr.prev, TG_LINK_LEN);
        fs->disk_count = sc.hdr.first_index;
        fs->disk_members = sc.hdr.first_member;
        goto out;
    }
    if (sc.hdr.keyed && !fs->chain.keyed)
        tg_warn("file sink: %s was chained with HMAC but [sink.file] hmac_key_file is not set: "
                "new segments get the unkeyed chain; set the key again unless this is intended",
                dir);
    uint64_t end = keep ? sc.m[keep - 1].end_offset : 0;
    uint64_t good = keep < sc.nm ? sc.m[keep].entry_pos : sc.good_len;
    memcpy(fs->disk_link, keep ? sc.m[keep - 1].link : sc.hdr.prev, TG_LINK_LEN);
    fs->disk_count = kept;
    fs->disk_members = sc.hdr.first_member + keep;
    struct stat st;
    uint64_t size = stat(cpath, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (size > good) {
        tg_warn("file sink: %s: %" PRIu64 " bytes of sidecar entries for members that are not "
                "whole on disk (written before a crash, never confirmed: the spool replays "
                "them): cut",
                cpath, size - good);
        if (truncate(cpath, (off_t)good) != 0)
            tg_warn("file sink: cannot cut %s: %s", cpath, strerror(errno));
    }
    size = stat(dpath, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (size > end) {
        tg_warn("file sink: %s has %" PRIu64 " bytes after its last whole member (written "
                "before a crash, never confirmed: the spool replays them): cut",
                dpath, size - end);
        if (truncate(dpath, (off_t)end) != 0)
            tg_warn("file sink: cannot cut %s: %s", dpath, strerror(errno));
    }
    sc.nm = keep;
    sc.nfp = kept - sc.hdr.first_index;
    ipath = tg_seg_path(dir, fs->seq, TG_SEG_INDEX);
    struct tg_seg_index ix, old;
    tg_seg_index_of(&sc, &ix);
    if (tg_seg_index_read(ipath, &old) != 0 || !tg_seg_index_equal(&ix, &old))
        if (tg_seg_index_write(ipath, &ix, !never) != 0)
            tg_warn("file sink: cannot write index %s: %s", ipath, strerror(errno));
out:
    tg_sidecar_free(&sc);
    free(cpath);
    free(dpath);
    free(ipath);
    free(v);
    return rc;
}

/* Open (or create) chain.head; written when it is new or behind. */
static int tg_file_head_open(struct tg_sink *s, struct tg_file_sink *fs, char **err)
{
    struct tg_seg_head h;
    int hr = tg_seg_head_read(fs->conf->dir, &h);
    char *path = tg_xasprintf("%s/%s", fs->conf->dir, TG_SEG_HEAD_FILE);
    int rc = 0;
    fs->head_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fs->head_fd < 0 || fchmod(fs->head_fd, 0640) != 0) {
        *err = tg_xasprintf("cannot open %s: %s", path, strerror(errno));
        rc = TG_EIO;
        goto out;
    }
    bool same = hr == 0 && h.records == fs->disk_count && h.members == fs->disk_members &&
                memcmp(h.link, fs->disk_link, TG_LINK_LEN) == 0;
    if (same)
        fs->head_ok = true;
    else
        tg_file_head_write(s, fs); /* failing here is retried before the first member */
out:
    free(path);
    return rc;
}

/* The store id of a new store: random. */
static void tg_file_new_store_id(struct tg_file_sink *fs)
{
    if (RAND_bytes(fs->store_id, sizeof(fs->store_id)) != 1)
        abort(); /* no randomness from OpenSSL: nothing sensible to do */
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
    fs->flush_bytes = SIZE_MAX;
    const struct tg_collector_conf *cc = s->config ? tg_config_get(s->config, "collector") : NULL;
    if (cc) {
        fs->fsync_mode = cc->fsync;
        fs->fsync_ms = cc->fsync_interval_ms;
        fs->flush_bytes = (size_t)cc->queue_max_bytes / 4;
    }
    fs->dir_fd = fs->lock_fd = fs->head_fd = fs->seg_fd = fs->chain_fd = -1;
    fs->pmin = INT64_MAX;
    fs->pmax = INT64_MIN;
    tg_skipidx_init(&fs->sx);
    char *err = NULL, *lpath = NULL;
    int rc = TG_EIO;
    uint8_t key[TG_LINK_LEN];
    bool keyed = c->hmac_key_file != NULL;
    if (keyed && (rc = tg_chain_key_load(c->hmac_key_file, true, key, &err)) != 0) {
        rc = TG_ECONFIG;
        goto fail;
    }
    if (c->signing_key_file &&
        tg_sign_key_load(c->signing_key_file, true, &fs->sign_key, &err) != 0) {
        char *e = tg_xasprintf("signing_key_file %s", err);
        free(err);
        err = e;
        rc = TG_ECONFIG;
        goto fail;
    }
    tg_chain_init(&fs->chain, keyed ? key : NULL);
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
    if ((rc = tg_file_recover(fs, keyed ? key : NULL, &err)) != 0)
        goto fail;
    if (fs->seq == 0)
        tg_file_new_store_id(fs);
    tg_chain_resume(&fs->chain, fs->disk_link, fs->disk_count);
    if ((rc = tg_file_head_open(s, fs, &err)) != 0)
        goto fail;
    fs->kind = c->compression == TG_FILE_GZIP ? TG_SEG_GZ : TG_SEG_ZST;
    fs->pk =
        tg_seg_packer_new(fs->kind, c->compression_level ? (int)c->compression_level
                                                         : tg_file_default_level[c->compression]);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    fs->host = tg_xstrdup(host);
    fs->abs_dir = realpath(c->dir, NULL);
    if (!fs->abs_dir)
        fs->abs_dir = tg_xstrdup(c->dir);
    fs->cp_records = fs->disk_count; /* what is there was checkpointed at the last shutdown */
    fs->cp_ms = tg_now_ms();
    OPENSSL_cleanse(key, sizeof(key));
    free(lpath);
    s->ctx = fs;
    tg_info("file sink: writing to %s from segment %" PRIu64 " (%" PRIu64
            " records stored, %s chain, checkpoints %s)",
            c->dir, fs->seq + 1, fs->disk_count, keyed ? "HMAC" : "SHA-256",
            fs->sign_key ? "signed" : "unsigned: no signing_key_file");
    return 0;
fail:
    OPENSSL_cleanse(key, sizeof(key));
    tg_err("file sink [sink.file]: %s", err ? err : tg_strerror(rc));
    free(err);
    free(lpath);
    tg_sign_key_free(fs->sign_key);
    tg_skipidx_free(&fs->sx);
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
           (fs->fsync_mode == TG_FSYNC_ALWAYS || fs->pend_raw >= TG_FILE_FLUSH_RAW ||
            fs->pend_bytes >= fs->flush_bytes || tg_now_ms() - fs->first_pend_ms >= fs->fsync_ms);
}

static int tg_file_write(struct tg_sink *s, struct tg_batch *b)
{
    struct tg_file_sink *fs = s->ctx;
    int rc = 0;
    if (fs->npend == 0)
        fs->first_pend_ms = tg_now_ms();
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        const struct tg_event *ev = b->ev[i];
        if (!tg_sink_wants(s, ev))
            continue;
        if (fs->nfp > 0 &&
            (fs->nfp >= TG_FILE_MEMBER_RECORDS ||
             fs->raw.len + ev->json.len + 1 > TG_FILE_MEMBER_RAW) &&
            (rc = tg_file_retry(s, fs, true)) != 0) {
            fs->broken = true; /* shutdown began on a failing disk: the batch stays unconfirmed */
            break;
        }
        tg_file_add(fs, ev->json.data, ev->json.len, ev);
        fs->pend_events++;
    }
    fs->pend = tg_xgrow(fs->pend, fs->npend, &fs->cappend, sizeof(*fs->pend), 64);
    fs->pend[fs->npend++] = b;
    fs->pend_bytes += b->bytes;
    if (rc != 0)
        return rc;
    return tg_file_due(fs) ? tg_file_retry(s, fs, false) : 0;
}

static int tg_file_tick(struct tg_sink *s)
{
    struct tg_file_sink *fs = s->ctx;
    int rc = 0;
    if (fs->npend > 0) /* idle: see "When to flush" */
        rc = tg_file_retry(s, fs, false);
    if (rc != 0)
        return rc;
    int64_t now = tg_now_ms();
    if (fs->seg_fd >= 0 && fs->conf->rotate_seconds > 0 &&
        now - fs->seg_opened_ms >= fs->conf->rotate_seconds * 1000)
        tg_file_segment_close(s, fs, "rotation");
    else if (fs->conf->checkpoint_seconds > 0 && fs->disk_count != fs->cp_records &&
             now - fs->cp_ms >= fs->conf->checkpoint_seconds * 1000)
        tg_file_checkpoint(s, fs, "periodic");
    tg_file_retention(s, fs);
    return 0;
}

static void tg_file_close(struct tg_sink *s)
{
    struct tg_file_sink *fs = s->ctx;
    if (tg_file_retry(s, fs, false) == 0) {
        if (fs->seg_fd >= 0)
            tg_file_segment_close(s, fs, "shutdown");
        else if (fs->disk_count != fs->cp_records)
            tg_file_checkpoint(s, fs, "shutdown");
    } else {
        for (size_t i = 0; i < fs->npend; i++)
            tg_batch_abandon(s, fs->pend[i]); /* unconfirmed: the spool replays them */
        if (fs->seg_fd >= 0) {
            close(fs->seg_fd);
            close(fs->chain_fd);
        }
    }
    tg_seg_packer_free(fs->pk);
    tg_chain_free(&fs->chain);
    tg_sign_key_free(fs->sign_key);
    close(fs->head_fd);
    close(fs->lock_fd);
    close(fs->dir_fd);
    tg_buf_free(&fs->raw);
    tg_buf_free(&fs->gz);
    tg_buf_free(&fs->entry);
    tg_buf_free(&fs->seal);
    tg_buf_free(&fs->ext);
    tg_skipidx_free(&fs->sx);
    free(fs->fp);
    free(fs->pend);
    free(fs->host);
    free(fs->abs_dir);
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
