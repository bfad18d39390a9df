/*
 * spool.c - the durable receive log.  See spool.h for the file format and
 * the durability rules.
 *
 * Design: one active segment receives appends under the mutex (records are
 * never interleaved); older segments are sealed and wait for their
 * confirmations.  The active segment is preallocated (posix_fallocate, so
 * a full disk is an error at roll time, never a SIGBUS later) and mapped
 * shared: an append is a memcpy into the page cache, which survives a kill
 * -9 of the process without a syscall per record; fdatasync on the file
 * descriptor writes the mapped pages (Linux has one page cache).  Sealing
 * unmaps it and truncates the file to the records it holds.  A crash leaves
 * the zero-filled preallocated tail behind, which the scan at open
 * recognises as the clean end of the segment.  Segments are kept in an array sorted by first
 * sequence number, so a confirmation finds its segment by binary search.
 * A new process never appends to an old segment (its tail may be torn): it
 * always starts a fresh one.
 *
 * The ack bitmaps of each segment (one per sink, see spool.h) are a
 * MAP_SHARED mapping of its .ack file: setting a bit is a memory write that
 * the kernel keeps even if the process is killed right after, so
 * confirmation progress costs no syscall.  A bit lost to a power cut only
 * means one replayed record, which dedup drops.  A record is confirmed when
 * every sink's bit is set; a replay hands the others' bits to the pipeline,
 * so a sink that already has a record does not get it twice (a Kafka outage
 * does not duplicate the file store).  An .ack file written for another set
 * of sinks is rewritten for the current one at open (bits of sinks that are
 * gone are dropped; a new sink counts as having what all earlier sinks
 * had, so it gets only what was still owed).
 *
 * Group commit: the first committer that finds the data unsynced becomes the
 * syncer (sp->syncing), drops the mutex, fdatasyncs, and wakes the others;
 * a segment is not closed while a sync of its fd runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>

#include "core/collector_conf.h"
#include "core/errors.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/spool.h"

#define TG_SPOOL_MAGIC       0x31475354u /* "TSG1" little-endian */
#define TG_SPOOL_HDR         20          /* magic, len, seq, crc */
#define TG_SPOOL_META        16          /* input, flags, peer len, sec, nsec */
#define TG_SPOOL_SEG_RECORDS (1u << 20)
#define TG_SPOOL_ACK_BYTES   (TG_SPOOL_SEG_RECORDS / 8) /* one bitmap */
#define TG_ACK_MAGIC         "TGACK2\n"                 /* 8 bytes with the NUL */
#define TG_ACK_HDR           4096                       /* magic, sink count, names */
#define TG_ACK_NAME          32                         /* bytes per sink name */
#define TG_SPOOL_MAX_BODY    (64u << 20)

struct tg_spool_seg {
    uint64_t first_seq, last_seq; /* last_seq: highest record in it (0: none) */
    uint64_t nrec;                /* valid records (for the active one: appended so far) */
    uint64_t nconf;               /* confirmed among them */
    uint64_t bytes;               /* file size */
    uint8_t *ack;                 /* shared mapping of the .ack file */
    size_t ack_bytes;             /* its size */
    bool sealed;
    /* for replay of segments found at open: the valid records' offsets */
    uint64_t *offs;
    size_t noffs;
    uint8_t *map; /* read-only mapping of the .log file (old segments) */
};

struct tg_spool {
    struct tg_spool_conf conf;
    char *dir;
    int lock_fd;
    pthread_mutex_t mu;
    pthread_cond_t space_cond, sync_cond, tick_cond;
    struct tg_spool_seg **segs;
    size_t nsegs, capsegs;
    struct tg_spool_seg *active; /* NULL until the first append */
    int fd;                      /* the active segment's .log */
    uint8_t *amap;               /* its shared mapping */
    uint64_t asize;              /* its preallocated size */
    uint64_t next_seq, synced_seq;
    char **sinks; /* the sinks' names, in pipeline order */
    size_t nsinks;
    bool syncing, stopping, full_logged;
    uint64_t total_bytes;
    pthread_t syncer;
    bool have_syncer;
    struct tg_spool_stats st;
};

static const char *const tg_spool_input_names[] = {NULL, "relp", "omprog", "file", "stdin"};

static void tg_put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void tg_put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint32_t tg_get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t tg_get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static char *tg_seg_path(const struct tg_spool *sp, uint64_t first, const char *ext)
{
    return tg_xasprintf("%s/seg-%016" PRIx64 ".%s", sp->dir, first, ext);
}

/* CRC-32 (zlib's) over seq, len and the body pieces; libdeflate's
 * carry-less-multiply implementation is about 4 times faster than zlib's,
 * and this runs on the RELP thread for every record. */
static uint32_t tg_rec_crc(uint64_t seq, uint32_t len, const struct iovec *iov, int n)
{
    uint8_t sl[12];
    tg_put64(sl, seq);
    tg_put32(sl + 8, len);
    uint32_t c = libdeflate_crc32(0, sl, sizeof(sl));
    for (int i = 0; i < n; i++)
        if (iov[i].iov_len) /* (c, NULL, 0) would restart the crc, as in zlib */
            c = libdeflate_crc32(c, iov[i].iov_base, iov[i].iov_len);
    return c;
}

static size_t tg_ack_size(size_t nsinks)
{
    return TG_ACK_HDR + nsinks * TG_SPOOL_ACK_BYTES;
}

/* Sink k's bitmap in an .ack image. */
static uint8_t *tg_ack_bits(const uint8_t *ack, size_t k)
{
    return (uint8_t *)ack + TG_ACK_HDR + k * TG_SPOOL_ACK_BYTES;
}

/* The .ack content for the current sinks, carrying over the bits of `old`
 * (osz bytes): in this layout, by sink name, and a sink that is new gets the
 * records every earlier sink had confirmed (a new sink does not get history,
 * only what was still owed); in the one-bitmap layout of earlier versions a
 * bit meant "all sinks"; anything else carries nothing (all is replayed). */
static uint8_t *tg_ack_convert(const struct tg_spool *sp, const uint8_t *old, size_t osz)
{
    uint8_t *nw = tg_xcalloc(1, tg_ack_size(sp->nsinks));
    memcpy(nw, TG_ACK_MAGIC, 8);
    tg_put32(nw + 8, (uint32_t)sp->nsinks);
    for (size_t k = 0; k < sp->nsinks; k++)
        strncpy((char *)nw + 16 + k * TG_ACK_NAME, sp->sinks[k], TG_ACK_NAME - 1);
    uint32_t on = osz >= 16 ? tg_get32(old + 8) : 0;
    bool v2 = osz >= TG_ACK_HDR && memcmp(old, TG_ACK_MAGIC, 8) == 0 && on > 0 &&
              16 + (size_t)on * TG_ACK_NAME <= TG_ACK_HDR && osz >= tg_ack_size(on);
    uint8_t *all = tg_xcalloc(1, TG_SPOOL_ACK_BYTES); /* confirmed by every old sink */
    if (osz == TG_SPOOL_ACK_BYTES)
        memcpy(all, old, TG_SPOOL_ACK_BYTES);
    if (v2) {
        memset(all, 0xff, TG_SPOOL_ACK_BYTES);
        for (uint32_t j = 0; j < on; j++)
            for (size_t i = 0; i < TG_SPOOL_ACK_BYTES; i++)
                all[i] &= tg_ack_bits(old, j)[i];
    }
    for (size_t k = 0; k < sp->nsinks; k++) {
        uint8_t *dst = tg_ack_bits(nw, k);
        memcpy(dst, all, TG_SPOOL_ACK_BYTES);
        for (uint32_t j = 0; v2 && j < on; j++)
            if (strncmp((const char *)old + 16 + j * TG_ACK_NAME, sp->sinks[k], TG_ACK_NAME - 1) ==
                0)
                memcpy(dst, tg_ack_bits(old, j), TG_SPOOL_ACK_BYTES);
    }
    free(all);
    return nw;
}

/* Map the .ack file of segment g into g->ack: created, or rewritten for the
 * current sinks when it was written for others.  0, or TG_EIO (logged). */
static int tg_ack_map(struct tg_spool *sp, struct tg_spool_seg *g)
{
    char *path = tg_seg_path(sp, g->first_seq, "ack");
    size_t size = tg_ack_size(sp->nsinks), osz = 0;
    uint8_t *old = NULL, *nw = NULL;
    int rc = TG_EIO;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        goto fail;
    osz = (size_t)st.st_size;
    if (osz > 0 && (old = mmap(NULL, osz, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        old = NULL;
        goto fail;
    }
    nw = tg_ack_convert(sp, old, osz);
    if (osz == 0) {
        /* new (a segment roll, on the receiving thread): the header and a
         * zero rest, no fsync; cut short by a crash, it reads as "nothing
         * confirmed" and everything is replayed */
        if (tg_pwrite_all(fd, nw, TG_ACK_HDR, 0) != 0)
            goto fail;
    } else if (osz != size || memcmp(old, nw, TG_ACK_HDR) != 0) {
        /* written for other sinks: replaced whole (a crash in between
         * leaves the old file, converted again next time) */
        close(fd);
        fd = -1;
        if (tg_file_replace(path, nw, size, 0600, true) != 0 ||
            (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
            goto fail;
    }
    /* every block of the mapping allocated now: setting a bit in a hole of
     * the file once the disk is full would be a SIGBUS */
    int e = posix_fallocate(fd, 0, (off_t)size);
    if (e != 0) {
        errno = e;
        goto fail;
    }
    g->ack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (g->ack == MAP_FAILED) {
        g->ack = NULL;
        goto fail;
    }
    g->ack_bytes = size;
    rc = 0;
    goto out;
fail:
    tg_err("spool: %s: cannot create or update the confirmation file: %s; check spool_dir", path,
           strerror(errno));
    if (fd >= 0 && osz == 0)
        unlink(path); /* created here: the next roll makes it again */
out:
    if (old)
        munmap(old, osz);
    if (fd >= 0)
        close(fd);
    free(nw);
    free(path);
    return rc;
}

/* Bit k of the result: sink k confirmed record idx of g. */
static unsigned tg_ack_mask(const struct tg_spool *sp, const struct tg_spool_seg *g, uint64_t idx)
{
    unsigned m = 0;
    for (size_t k = 0; k < sp->nsinks; k++)
        if (tg_ack_bits(g->ack, k)[idx / 8] & (1u << (idx % 8)))
            m |= 1u << k;
    return m;
}

static unsigned tg_ack_all(const struct tg_spool *sp)
{
    return (1u << sp->nsinks) - 1;
}

static void tg_seg_free(struct tg_spool_seg *g)
{
    if (g->ack)
        munmap(g->ack, g->ack_bytes);
    if (g->map)
        munmap(g->map, g->bytes);
    free(g->offs);
    free(g);
}

/* Remove segment index i (sealed, fully confirmed): files and memory.  Caller holds mu. */
static void tg_seg_delete(struct tg_spool *sp, size_t i)
{
    struct tg_spool_seg *g = sp->segs[i];
    char *log = tg_seg_path(sp, g->first_seq, "log");
    char *ack = tg_seg_path(sp, g->first_seq, "ack");
    if (unlink(log) != 0 && errno != ENOENT)
        tg_warn("spool: %s: cannot delete: %s", log, strerror(errno));
    unlink(ack);
    free(log);
    free(ack);
    sp->total_bytes -= g->bytes;
    sp->st.segments_deleted++;
    tg_seg_free(g);
    memmove(&sp->segs[i], &sp->segs[i + 1], (sp->nsegs - i - 1) * sizeof(*sp->segs));
    sp->nsegs--;
    pthread_cond_broadcast(&sp->space_cond);
}

static void tg_seg_push(struct tg_spool *sp, struct tg_spool_seg *g)
{
    sp->segs = tg_xgrow(sp->segs, sp->nsegs, &sp->capsegs, sizeof(*sp->segs), 16);
    sp->segs[sp->nsegs++] = g;
}

/* Decode one record at `off` of a mapped segment; 0 with *seq, *next set, or TG_ECORRUPT. */
static int tg_rec_check(const uint8_t *m, uint64_t size, uint64_t off, uint64_t *seq,
                        uint64_t *next)
{
    if (size - off < TG_SPOOL_HDR || tg_get32(m + off) != TG_SPOOL_MAGIC)
        return TG_ECORRUPT;
    uint32_t len = tg_get32(m + off + 4);
    if (len < TG_SPOOL_META || len > TG_SPOOL_MAX_BODY || size - off - TG_SPOOL_HDR < len)
        return TG_ECORRUPT;
    uint64_t s = tg_get64(m + off + 8);
    struct iovec iov = {(void *)(m + off + TG_SPOOL_HDR), len};
    if (tg_rec_crc(s, len, &iov, 1) != tg_get32(m + off + 16))
        return TG_ECORRUPT;
    *seq = s;
    *next = off + TG_SPOOL_HDR + len;
    return 0;
}

/* Scan one segment file found at open.  0 or TG_EIO. */
static int tg_seg_load(struct tg_spool *sp, uint64_t first)
{
    char *path = tg_seg_path(sp, first, "log");
    int rc = TG_EIO;
    struct tg_spool_seg *g = tg_xcalloc(1, sizeof(*g));
    g->first_seq = first;
    g->sealed = true;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat stt;
    if (fd < 0 || fstat(fd, &stt) != 0) {
        tg_err("spool: %s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    g->bytes = (uint64_t)stt.st_size;
    if (g->bytes) {
        g->map = mmap(NULL, g->bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (g->map == MAP_FAILED) {
            g->map = NULL;
            tg_err("spool: %s: mmap: %s", path, strerror(errno));
            goto out;
        }
    }
    if (tg_ack_map(sp, g) != 0)
        goto out;
    size_t cap = 0;
    uint64_t off = 0;
    /* a segment the process did not seal ends in its zero-filled preallocation */
    uint64_t zero_from = g->bytes;
    while (zero_from > 0 && g->map[zero_from - 1] == 0)
        zero_from--;
    while (off < g->bytes) {
        uint64_t seq, next;
        if (tg_rec_check(g->map, g->bytes, off, &seq, &next) != 0 || seq < first ||
            seq - first >= TG_SPOOL_SEG_RECORDS) {
            if (off >= zero_from)
                break; /* the clean end */
            /* resynchronize at the next valid record */
            uint64_t bad = off++;
            while (off < zero_from && (tg_rec_check(g->map, g->bytes, off, &seq, &next) != 0 ||
                                       seq < first || seq - first >= TG_SPOOL_SEG_RECORDS))
                off++;
            tg_warn("spool: %s: corrupt or torn record at offset %" PRIu64 ": %" PRIu64
                    " bytes skipped (checksum mismatch; not parsed)",
                    path, bad, off - bad);
            sp->st.corrupt_records++;
            sp->st.corrupt_bytes += off - bad;
            continue;
        }
        g->offs = tg_xgrow(g->offs, g->noffs, &cap, sizeof(*g->offs), 1024);
        g->offs[g->noffs++] = off;
        g->nrec++;
        if (tg_ack_mask(sp, g, seq - first) == tg_ack_all(sp))
            g->nconf++;
        if (seq >= sp->next_seq)
            sp->next_seq = seq + 1;
        if (seq > g->last_seq)
            g->last_seq = seq;
        off = next;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    if (rc == 0) {
        sp->total_bytes += g->bytes;
        tg_seg_push(sp, g);
    } else {
        tg_seg_free(g);
    }
    return rc;
}

static int tg_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Find and load every seg-*.log.  0 or TG_EIO. */
static int tg_spool_scan(struct tg_spool *sp)
{
    DIR *d = opendir(sp->dir);
    if (!d) {
        tg_err("spool: %s: cannot read: %s", sp->dir, strerror(errno));
        return TG_EIO;
    }
    uint64_t *firsts = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        char ext[8];
        if (sscanf(de->d_name, "seg-%16" SCNx64 ".%7s", &first, ext) != 2 ||
            strcmp(ext, "log") != 0)
            continue;
        firsts = tg_xgrow(firsts, n, &cap, sizeof(*firsts), 16);
        firsts[n++] = first;
    }
    closedir(d);
    if (n)
        qsort(firsts, n, sizeof(*firsts), tg_u64_cmp);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = tg_seg_load(sp, firsts[i]);
        if (firsts[i] >= sp->next_seq)
            sp->next_seq = firsts[i] + 1;
    }
    free(firsts);
    /* segments with nothing left to deliver go now */
    for (size_t i = 0; i < sp->nsegs;) {
        if (sp->segs[i]->nconf == sp->segs[i]->nrec)
            tg_seg_delete(sp, i);
        else
            i++;
    }
    return rc;
}

/* One group fdatasync covering everything appended so far.  Caller holds mu. */
static int tg_spool_sync_locked(struct tg_spool *sp, uint64_t want)
{
    int rc = 0;
    while (sp->synced_seq < want) {
        if (sp->syncing) {
            pthread_cond_wait(&sp->sync_cond, &sp->mu);
            continue;
        }
        sp->syncing = true;
        uint64_t target = sp->next_seq - 1;
        int fd = sp->fd;
        pthread_mutex_unlock(&sp->mu);
        int r = fd >= 0 ? fdatasync(fd) : 0;
        int e = errno;
        pthread_mutex_lock(&sp->mu);
        sp->syncing = false;
        sp->st.fsyncs++;
        pthread_cond_broadcast(&sp->sync_cond);
        if (r != 0) {
            tg_err("spool: fdatasync failed: %s; records stay unacknowledged", strerror(e));
            rc = TG_EIO;
            break;
        }
        if (target > sp->synced_seq)
            sp->synced_seq = target;
    }
    return rc;
}

/* Seal the active segment (syncing it per policy); caller holds mu. */
static void tg_spool_seal(struct tg_spool *sp)
{
    struct tg_spool_seg *g = sp->active;
    if (!g)
        return;
    while (sp->syncing)
        pthread_cond_wait(&sp->sync_cond, &sp->mu);
    if (sp->conf.fsync != TG_FSYNC_NEVER) {
        if (fdatasync(sp->fd) == 0)
            sp->synced_seq = sp->next_seq - 1;
        else
            tg_err("spool: fdatasync on sealing a segment failed: %s", strerror(errno));
        sp->st.fsyncs++;
    }
    munmap(sp->amap, sp->asize);
    sp->amap = NULL;
    if (ftruncate(sp->fd, (off_t)g->bytes) != 0)
        tg_warn("spool: cannot trim a sealed segment: %s", strerror(errno));
    close(sp->fd);
    sp->fd = -1;
    g->sealed = true;
    sp->active = NULL;
    if (g->nconf == g->nrec)
        tg_seg_delete(sp, sp->nsegs - 1);
}

/* Start a new active segment at next_seq, at least `need` bytes large;
 * caller holds mu.  0 or TG_EIO. */
static int tg_spool_roll(struct tg_spool *sp, uint64_t need)
{
    tg_spool_seal(sp);
    struct tg_spool_seg *g = tg_xcalloc(1, sizeof(*g));
    g->first_seq = sp->next_seq;
    char *path = tg_seg_path(sp, g->first_seq, "log");
    int rc = TG_EIO, e;
    uint64_t size = (uint64_t)sp->conf.segment_bytes;
    if (need > size)
        size = need;
    sp->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sp->fd < 0) {
        tg_err("spool: %s: cannot create: %s; check spool_dir", path, strerror(errno));
        goto out;
    }
    if ((e = posix_fallocate(sp->fd, 0, (off_t)size)) != 0) {
        tg_err("spool: %s: cannot reserve %" PRIu64 " bytes: %s; free space in spool_dir", path,
               size, strerror(e));
        goto fail;
    }
    sp->amap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, sp->fd, 0);
    if (sp->amap == MAP_FAILED) {
        sp->amap = NULL;
        tg_err("spool: %s: mmap: %s", path, strerror(errno));
        goto fail;
    }
    sp->asize = size;
    if (tg_ack_map(sp, g) != 0) {
        munmap(sp->amap, size);
        sp->amap = NULL;
        goto fail;
    }
    tg_seg_push(sp, g);
    sp->active = g;
    g = NULL;
    rc = 0;
    goto out;
fail:
    close(sp->fd);
    sp->fd = -1;
    unlink(path);
out:
    free(path);
    free(g);
    return rc;
}

static void *tg_spool_syncer(void *arg)
{
    struct tg_spool *sp = arg;
    pthread_mutex_lock(&sp->mu);
    while (!sp->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + sp->conf.fsync_interval_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&sp->tick_cond, &sp->mu, &ts);
        if (sp->active && sp->synced_seq < sp->next_seq - 1)
            tg_spool_sync_locked(sp, sp->next_seq - 1);
    }
    pthread_mutex_unlock(&sp->mu);
    return NULL;
}

int tg_spool_open(const struct tg_spool_conf *conf, struct tg_spool **out)
{
    struct tg_spool *sp = tg_xcalloc(1, sizeof(*sp));
    sp->conf = *conf;
    sp->dir = tg_xstrdup(conf->dir);
    sp->nsinks = conf->nsinks ? conf->nsinks : 1;
    if (sp->nsinks > TG_SPOOL_MAX_SINKS)
        sp->nsinks = TG_SPOOL_MAX_SINKS;
    sp->sinks = tg_xcalloc(sp->nsinks, sizeof(*sp->sinks));
    for (size_t k = 0; k < sp->nsinks; k++)
        sp->sinks[k] = tg_xstrdup(conf->nsinks ? conf->sinks[k] : "sinks");
    sp->fd = -1;
    sp->lock_fd = -1;
    sp->next_seq = 1;
    if (sp->conf.segment_bytes <= 0) {
        int64_t s = conf->max_bytes / 8;
        sp->conf.segment_bytes = s < (64 << 10) ? (64 << 10) : s > (16 << 20) ? (16 << 20) : s;
    }
    pthread_mutex_init(&sp->mu, NULL);
    pthread_cond_init(&sp->space_cond, NULL);
    pthread_cond_init(&sp->sync_cond, NULL);
    pthread_cond_init(&sp->tick_cond, NULL);
    int rc = TG_EIO;
    /* mkdir -p */
    for (char *p = sp->dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(sp->dir, 0700) != 0 && errno != EEXIST) {
                tg_err("spool: cannot create directory %s: %s; check [collector] spool_dir",
                       sp->dir, strerror(errno));
                *p = c;
                goto fail;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    char *lock = tg_xasprintf("%s/lock", sp->dir);
    sp->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lock_fd < 0) {
        tg_err("spool: %s: cannot open: %s", lock, strerror(errno));
        free(lock);
        goto fail;
    }
    if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        tg_err("spool: %s is in use by another trailguard process; give each process its own "
               "spool_dir",
               sp->dir);
        free(lock);
        rc = TG_EFULL;
        goto fail;
    }
    free(lock);
    rc = tg_spool_scan(sp);
    if (rc != 0)
        goto fail;
    sp->synced_seq = sp->next_seq - 1;
    if (sp->conf.fsync == TG_FSYNC_INTERVAL) {
        pthread_create(&sp->syncer, NULL, tg_spool_syncer, sp);
        pthread_setname_np(sp->syncer, "tg-spool-sync");
        sp->have_syncer = true;
    }
    *out = sp;
    return 0;
fail:
    tg_spool_close(sp);
    return rc;
}

uint64_t tg_spool_replay(struct tg_spool *sp,
                         void (*cb)(void *ctx, const struct tg_spool_rec *rec, uint64_t seq,
                                    unsigned sinks_done),
                         void *ctx)
{
    uint64_t n = 0;
    /* The old segments are sealed and only their ack bits change, so the
     * records can be read without the lock once their mappings and offsets
     * are taken out of the segments (confirmations may delete segments
     * meanwhile). */
    pthread_mutex_lock(&sp->mu);
    size_t nseg = sp->nsegs;
    struct tg_spool_seg **segs = sp->segs;
    struct {
        uint8_t *map;
        uint64_t bytes, first;
        uint64_t *offs;
        size_t noffs;
    } *old = tg_xcalloc(nseg + 1, sizeof(*old));
    for (size_t i = 0; i < nseg; i++) {
        old[i].map = segs[i]->map;
        old[i].bytes = segs[i]->bytes;
        old[i].first = segs[i]->first_seq;
        old[i].offs = segs[i]->offs;
        old[i].noffs = segs[i]->noffs;
        segs[i]->map = NULL;
        segs[i]->offs = NULL;
        segs[i]->noffs = 0;
    }
    pthread_mutex_unlock(&sp->mu);
    for (size_t i = 0; i < nseg; i++) {
        for (size_t k = 0; k < old[i].noffs; k++) {
            const uint8_t *r = old[i].map + old[i].offs[k];
            uint64_t seq = tg_get64(r + 8);
            uint32_t len = tg_get32(r + 4);
            const uint8_t *b = r + TG_SPOOL_HDR;
            struct tg_spool_rec rec = {
                .input = b[0],
                .truncated = b[1] & 1,
                .received = {(int64_t)tg_get64(b + 4), (int32_t)tg_get32(b + 12), 6},
            };
            uint16_t plen;
            memcpy(&plen, b + 2, 2);
            if (plen > len - TG_SPOOL_META)
                plen = 0;
            rec.peer = plen ? tg_str_make((const char *)b + TG_SPOOL_META, plen) : TG_STR_NULL;
            rec.data = (const char *)b + TG_SPOOL_META + plen;
            rec.len = len - TG_SPOOL_META - plen;
            pthread_mutex_lock(&sp->mu);
            /* which sinks have it already (from a previous run)?  A segment
             * that is gone was confirmed by all */
            unsigned done = tg_ack_all(sp);
            for (size_t s = 0; s < sp->nsegs; s++)
                if (sp->segs[s]->first_seq == old[i].first) {
                    done = tg_ack_mask(sp, sp->segs[s], seq - old[i].first);
                    break;
                }
            pthread_mutex_unlock(&sp->mu);
            if (done == tg_ack_all(sp))
                continue;
            cb(ctx, &rec, seq, done);
            n++;
        }
        if (old[i].map)
            munmap(old[i].map, old[i].bytes);
        free(old[i].offs);
    }
    free(old);
    pthread_mutex_lock(&sp->mu);
    sp->st.replayed += n;
    pthread_mutex_unlock(&sp->mu);
    return n;
}

int tg_spool_append(struct tg_spool *sp, const struct tg_spool_rec *rec, uint64_t *seq)
{
    uint8_t hdr[TG_SPOOL_HDR], meta[TG_SPOOL_META];
    size_t plen = rec->peer.p ? rec->peer.len : 0;
    if (plen > 0xffff)
        plen = 0xffff;
    uint32_t len = (uint32_t)(TG_SPOOL_META + plen + rec->len);
    uint64_t reclen = TG_SPOOL_HDR + (uint64_t)len;
    meta[0] = (uint8_t)rec->input;
    meta[1] = rec->truncated ? 1 : 0;
    uint16_t p16 = (uint16_t)plen;
    memcpy(meta + 2, &p16, 2);
    tg_put64(meta + 4, (uint64_t)rec->received.sec);
    tg_put32(meta + 12, (uint32_t)rec->received.nsec);
    struct iovec iov[4] = {{hdr, sizeof(hdr)},
                           {meta, sizeof(meta)},
                           {(void *)rec->peer.p, plen},
                           {(void *)rec->data, rec->len}};
    int rc = 0;
    pthread_mutex_lock(&sp->mu);
    bool waited = false;
    while (sp->total_bytes > 0 && sp->total_bytes + reclen > (uint64_t)sp->conf.max_bytes) {
        /* a fully confirmed active segment can go right away */
        if (sp->active && sp->active->nrec && sp->active->nconf == sp->active->nrec) {
            tg_spool_seal(sp);
            continue;
        }
        if (!waited) {
            sp->st.full_waits++;
            tg_metrics_inc(TG_C_SPOOL_FULL_WAITS, 1);
            waited = true;
        }
        if (!sp->full_logged) {
            tg_warn("spool: %s is full (spool_max_bytes = %" PRId64
                    "): receiving is blocked until the sinks confirm delivery",
                    sp->dir, sp->conf.max_bytes);
            sp->full_logged = true;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&sp->space_cond, &sp->mu, &ts);
    }
    if (waited && sp->full_logged) {
        tg_info("spool: %s has room again; receiving resumes", sp->dir);
        sp->full_logged = false;
    }
    if (!sp->active || sp->active->bytes + reclen > sp->asize ||
        sp->active->nrec == TG_SPOOL_SEG_RECORDS) {
        rc = tg_spool_roll(sp, reclen);
        if (rc != 0)
            goto out;
    }
    uint64_t s = sp->next_seq;
    tg_put32(hdr, TG_SPOOL_MAGIC);
    tg_put32(hdr + 4, len);
    tg_put64(hdr + 8, s);
    tg_put32(hdr + 16, tg_rec_crc(s, len, iov + 1, 3));
    uint8_t *dst = sp->amap + sp->active->bytes;
    for (int i = 0; i < 4; i++) {
        if (iov[i].iov_len)
            memcpy(dst, iov[i].iov_base, iov[i].iov_len);
        dst += iov[i].iov_len;
    }
    sp->next_seq++;
    sp->active->last_seq = s;
    sp->active->nrec++;
    sp->active->bytes += reclen;
    sp->total_bytes += reclen;
    sp->st.appended++;
    sp->st.appended_bytes += reclen;
    if (rec->truncated)
        tg_metrics_inc(TG_C_RECORDS_TRUNCATED, 1);
    *seq = s;
out:
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int tg_spool_commit(struct tg_spool *sp, uint64_t seq)
{
    if (sp->conf.fsync != TG_FSYNC_ALWAYS)
        return 0;
    pthread_mutex_lock(&sp->mu);
    int rc = tg_spool_sync_locked(sp, seq);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int tg_spool_sync(struct tg_spool *sp)
{
    if (sp->conf.fsync == TG_FSYNC_NEVER)
        return 0;
    pthread_mutex_lock(&sp->mu);
    int rc = tg_spool_sync_locked(sp, sp->next_seq - 1);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

void tg_spool_confirm(void *spool, uint64_t seq, size_t sink)
{
    struct tg_spool *sp = spool;
    pthread_mutex_lock(&sp->mu);
    size_t lo = 0, hi = sp->nsegs;
    while (hi - lo > 1) { /* last segment with first_seq <= seq */
        size_t mid = (lo + hi) / 2;
        if (sp->segs[mid]->first_seq <= seq)
            lo = mid;
        else
            hi = mid;
    }
    if (sp->nsegs && sp->segs[lo]->first_seq <= seq && seq <= sp->segs[lo]->last_seq) {
        struct tg_spool_seg *g = sp->segs[lo];
        uint64_t idx = seq - g->first_seq;
        uint8_t bit = (uint8_t)(1u << (idx % 8));
        uint8_t *bits = tg_ack_bits(g->ack, sink < sp->nsinks ? sink : 0);
        if (!(bits[idx / 8] & bit)) {
            bits[idx / 8] |= bit;
            if (tg_ack_mask(sp, g, idx) != tg_ack_all(sp))
                goto out; /* other sinks still owe it */
            g->nconf++;
            sp->st.confirmed++;
            if (g->sealed && g->nconf >= g->nrec)
                tg_seg_delete(sp, lo);
        }
    }
out:
    pthread_mutex_unlock(&sp->mu);
}

struct tg_event *tg_spool_event(const struct tg_spool_rec *rec, uint64_t seq)
{
    const char *type = (unsigned)rec->input < sizeof(tg_spool_input_names) / sizeof(char *)
                           ? tg_spool_input_names[rec->input]
                           : NULL;
    struct tg_input_meta in = {.type = type ? type : "unknown", .peer = rec->peer};
    struct tg_event *ev = tg_event_new(rec->data, rec->len, &in, rec->received);
    ev->truncated = rec->truncated;
    ev->spool_seq = seq;
    return ev;
}

void tg_spool_stats(struct tg_spool *sp, struct tg_spool_stats *st)
{
    pthread_mutex_lock(&sp->mu);
    *st = sp->st;
    st->bytes = sp->total_bytes;
    st->segments = sp->nsegs;
    st->full = sp->full_logged;
    pthread_mutex_unlock(&sp->mu);
}

void tg_spool_close(struct tg_spool *sp)
{
    if (!sp)
        return;
    pthread_mutex_lock(&sp->mu);
    sp->stopping = true;
    pthread_cond_broadcast(&sp->tick_cond);
    pthread_mutex_unlock(&sp->mu);
    if (sp->have_syncer)
        pthread_join(sp->syncer, NULL);
    pthread_mutex_lock(&sp->mu);
    tg_spool_seal(sp);
    for (size_t i = 0; i < sp->nsegs;) {
        if (sp->segs[i]->nconf >= sp->segs[i]->nrec)
            tg_seg_delete(sp, i);
        else
            i++;
    }
    for (size_t i = 0; i < sp->nsegs; i++)
        tg_seg_free(sp->segs[i]);
    pthread_mutex_unlock(&sp->mu);
    free(sp->segs);
    if (sp->lock_fd >= 0)
        close(sp->lock_fd);
    pthread_mutex_destroy(&sp->mu);
    pthread_cond_destroy(&sp->space_cond);
    pthread_cond_destroy(&sp->sync_cond);
    pthread_cond_destroy(&sp->tick_cond);
    free(sp->dir);
    for (size_t k = 0; k < sp->nsinks; k++)
        free(sp->sinks[k]);
    free(sp->sinks);
    free(sp);
}
