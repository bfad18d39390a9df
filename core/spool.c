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
 * unmaps it and truncates the file to the records it holds.  What was
 * written is released from the mapping every MiB (tg_spool_release), so
 * the mapping costs the process's resident size about 1 MiB, not the
 * segment's 16.  A crash leaves
 * the zero-filled preallocated tail behind, which the scan at open
 * recognises as the clean end of the segment.  Segments are kept in an
 * array sorted by first sequence number, so a confirmation finds its
 * segment by binary search.  A new process never appends to an old segment
 * (its tail may be torn): it always starts a fresh one, above the
 * sequence high-water mark.
 *
 * A segment's format is a small descriptor (struct tg_seg_fmt): the mark
 * every record starts with (the segment's random tag, or the magic of the
 * format before tags), the metadata size and where the records start.  One
 * checker and one decoder read both formats; appends always write the
 * tagged one.  Resync after a corrupt record searches for the next mark
 * (memmem) and accepts only a record whose checksum, which covers the tag,
 * and whose lengths are valid.
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
 * gone are dropped, and so are records only they still owed: logged and
 * counted; a new sink counts as having what all earlier sinks had, so it
 * gets only what was still owed).
 *
 * Durability per segment: `synced` is the highest record known to be on
 * disk, `sync_failed` says an fdatasync of the file failed, after which no
 * later record of it counts as durable.  tg_spool_sync_range() is the one
 * place that decides whether records are durable: it fails for a failed
 * segment that holds one of them, and otherwise syncs the active segment.
 * Group commit: the first committer that finds the active segment unsynced
 * becomes the syncer (sp->syncing), drops the mutex, fdatasyncs, and wakes
 * the others; a segment is not sealed while a sync of its fd runs.  Sealing
 * and rolling sync under the mutex (once per segment).
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
#include <sys/random.h>
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

#define TG_SEG_MAGIC         "TGSPOOL2"
#define TG_SEG_HDR           32 /* magic, tag, 12 zero, crc */
#define TG_REC_HDR           24 /* tag, len, seq, crc */
#define TG_SPOOL_META        20 /* input, flags, peer len, sec, nsec, origin len, 3 zero */
#define TG_SPOOL_MAX_BODY    (TG_SPOOL_META + TG_SPOOL_PEER_MAX + TG_SPOOL_ORIGIN_MAX + TG_RECORD_MAX)
#define TG_V1_MAGIC          0x31475354u /* "TSG1": records of the format before tags */
#define TG_V1_META           16          /* input, flags, peer len, sec, nsec */
#define TG_SPOOL_SEG_RECORDS (1u << 20)
#define TG_SPOOL_ACK_BYTES   (TG_SPOOL_SEG_RECORDS / 8) /* one bitmap */
#define TG_SPOOL_RELEASE     (1u << 20)                 /* see tg_spool_release */
#define TG_ACK_MAGIC         "TGACK2\n"                 /* 8 bytes with the NUL */
#define TG_ACK_HDR           4096                       /* magic, sink count, names */
#define TG_ACK_NAME          32                         /* bytes per sink name */
#define TG_HWM_FMT           "next_seq %020" PRIu64 "\n"
#define TG_SPOOL_LOST        64 /* deleted failed segments whose failure is still reported */

/* How a segment frames its records: [mark][len u32][seq u64][crc u32]
 * [body]; the mark is the segment's tag (8 bytes, also covered by the crc)
 * or, in the format before tags, the magic (4 bytes, not covered). */
struct tg_seg_fmt {
    uint8_t mark[8];
    size_t mlen;   /* 8 or 4 */
    size_t meta;   /* TG_SPOOL_META or TG_V1_META */
    uint64_t data; /* offset of the first record */
};

struct tg_spool_seg {
    uint64_t first_seq, last_seq; /* last_seq: highest record in it (0: none) */
    uint64_t nrec;                /* valid records (for the active one: appended so far) */
    uint64_t nconf;               /* confirmed among them */
    uint64_t bytes;               /* file size (the active one: used so far) */
    struct tg_seg_fmt fmt;
    uint8_t *ack;     /* shared mapping of the .ack file */
    size_t ack_bytes; /* its size */
    bool sealed;
    uint64_t synced;  /* records up to this one are on disk */
    bool sync_failed; /* an fdatasync of it failed: nothing above `synced` ever is */
    /* for replay of segments found at open: the valid records' offsets */
    uint64_t *offs;
    size_t noffs;
    uint8_t *map; /* read-only mapping of the .log file (old segments) */
};

struct tg_spool {
    struct tg_spool_conf conf;
    char *dir;
    int lock_fd, dir_fd;
    pthread_mutex_t mu;
    pthread_cond_t space_cond, sync_cond, tick_cond;
    struct tg_spool_seg **segs;
    size_t nsegs, capsegs;
    struct tg_spool_seg *active; /* NULL until the first append */
    int fd;                      /* the active segment's .log */
    uint8_t *amap;               /* its shared mapping */
    uint64_t asize;              /* its preallocated size */
    uint64_t released;           /* amap bytes below this were given back (MADV_DONTNEED) */
    uint64_t next_seq;
    uint64_t hwm;       /* the high-water mark in the lock file */
    uint64_t sync_from; /* the first record the next tg_spool_sync covers */
    /* the records that never became durable in failed segments that were
     * deleted since (their sinks confirmed them): a commit or sync that
     * covers them still fails; a ring of the newest */
    struct {
        uint64_t lo, hi;
    } lost[TG_SPOOL_LOST];
    size_t nlost; /* ever recorded */
    char **sinks; /* the sinks' names, in pipeline order */
    size_t nsinks;
    bool syncing, stopping, full_logged;
    uint64_t total_bytes;
    pthread_t syncer;
    bool have_syncer;
    struct tg_spool_stats st;
};

static void tg_put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void tg_put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint16_t tg_get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
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

static void tg_fmt_tagged(struct tg_seg_fmt *f, const uint8_t *tag)
{
    memcpy(f->mark, tag, 8);
    f->mlen = 8;
    f->meta = TG_SPOOL_META;
    f->data = TG_SEG_HDR;
}

static void tg_fmt_v1(struct tg_seg_fmt *f)
{
    tg_put32(f->mark, TG_V1_MAGIC);
    f->mlen = 4;
    f->meta = TG_V1_META;
    f->data = 0;
}

/* CRC-32 (zlib's) over the tag (not the old magic), seq, len and the body
 * pieces; libdeflate's carry-less-multiply implementation is about 4 times
 * faster than zlib's, and this runs on the RELP thread for every record. */
static uint32_t tg_rec_crc(const struct tg_seg_fmt *f, uint64_t seq, uint32_t len,
                           const struct iovec *iov, int n)
{
    uint8_t pre[20];
    size_t k = f->mlen == 8 ? 8 : 0;
    memcpy(pre, f->mark, k);
    tg_put64(pre + k, seq);
    tg_put32(pre + k + 8, len);
    uint32_t c = libdeflate_crc32(0, pre, k + 12);
    for (int i = 0; i < n; i++)
        if (iov[i].iov_len) /* (c, NULL, 0) would restart the crc, as in zlib */
            c = libdeflate_crc32(c, iov[i].iov_base, iov[i].iov_len);
    return c;
}

/* The 32-byte header of a tagged segment. */
static void tg_seg_header(uint8_t *h, const uint8_t *tag)
{
    memset(h, 0, TG_SEG_HDR);
    memcpy(h, TG_SEG_MAGIC, 8);
    memcpy(h + 8, tag, 8);
    tg_put32(h + 28, libdeflate_crc32(0, h, 28));
}

/* Check the record at `off` of a segment image m[0, size) in format f: 0
 * with *seq and *next (the offset after it) set when its mark, length,
 * checksum and the body's own lengths are valid, else TG_ECORRUPT. */
static int tg_rec_check(const struct tg_seg_fmt *f, const uint8_t *m, uint64_t size, uint64_t off,
                        uint64_t *seq, uint64_t *next)
{
    size_t hs = f->mlen + 16;
    if (size - off < hs || memcmp(m + off, f->mark, f->mlen) != 0)
        return TG_ECORRUPT;
    const uint8_t *h = m + off + f->mlen, *b = h + 16;
    uint32_t len = tg_get32(h);
    if (len < f->meta || len > TG_SPOOL_MAX_BODY || size - off - hs < len)
        return TG_ECORRUPT;
    uint64_t s = tg_get64(h + 4);
    struct iovec iov = {(void *)b, len};
    if (tg_rec_crc(f, s, len, &iov, 1) != tg_get32(h + 12))
        return TG_ECORRUPT;
    size_t olen = f->meta == TG_SPOOL_META ? b[16] : 0;
    if (tg_get16(b + 2) + olen > len - f->meta)
        return TG_ECORRUPT;
    *seq = s;
    *next = off + hs + len;
    return 0;
}

/* The record at r (checked by tg_rec_check) as the source gave it. */
static void tg_rec_decode(const struct tg_seg_fmt *f, const uint8_t *r, struct tg_spool_rec *rec,
                          uint64_t *seq)
{
    const uint8_t *h = r + f->mlen, *b = h + 16;
    uint32_t len = tg_get32(h);
    size_t plen = tg_get16(b + 2), olen = f->meta == TG_SPOOL_META ? b[16] : 0;
    const char *p = (const char *)b + f->meta;
    *seq = tg_get64(h + 4);
    *rec = (struct tg_spool_rec){
        .input = b[0],
        .truncated = b[1] & 1,
        .received = {(int64_t)tg_get64(b + 4), (int32_t)tg_get32(b + 12), 6},
        .peer = plen ? tg_str_make(p, plen) : TG_STR_NULL,
        .origin = olen ? tg_str_make(p + plen, olen) : TG_STR_NULL,
        .data = p + plen + olen,
        .len = len - f->meta - plen - olen,
    };
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

/* Bit k of the result: sink k confirmed record idx in the .ack image `ack`
 * (of the current sinks). */
static unsigned tg_ack_mask(const struct tg_spool *sp, const uint8_t *ack, uint64_t idx)
{
    unsigned m = 0;
    for (size_t k = 0; k < sp->nsinks; k++)
        if (tg_ack_bits(ack, k)[idx / 8] & (1u << (idx % 8)))
            m |= 1u << k;
    return m;
}

static unsigned tg_ack_all(const struct tg_spool *sp)
{
    return (1u << sp->nsinks) - 1;
}

/* The .ack header for the current sinks (TG_ACK_HDR bytes at h). */
static void tg_ack_header(const struct tg_spool *sp, uint8_t *h)
{
    memset(h, 0, TG_ACK_HDR);
    memcpy(h, TG_ACK_MAGIC, 8);
    tg_put32(h + 8, (uint32_t)sp->nsinks);
    for (size_t k = 0; k < sp->nsinks; k++)
        strncpy((char *)h + 16 + k * TG_ACK_NAME, sp->sinks[k], TG_ACK_NAME - 1);
}

/* The number of sinks of an .ack image (osz bytes) in the per-sink layout,
 * or 0 for any other. */
static uint32_t tg_ack_sinks_of(const uint8_t *old, size_t osz)
{
    uint32_t on = osz >= 16 ? tg_get32(old + 8) : 0;
    bool v2 = osz >= TG_ACK_HDR && memcmp(old, TG_ACK_MAGIC, 8) == 0 && on > 0 &&
              16 + (size_t)on * TG_ACK_NAME <= TG_ACK_HDR && osz >= tg_ack_size(on);
    return v2 ? on : 0;
}

static const char *tg_ack_name(const uint8_t *ack, size_t j)
{
    return (const char *)ack + 16 + j * TG_ACK_NAME;
}

/* Old sink j of an .ack image is one of the current sinks: its index, or -1. */
static int tg_ack_current(const struct tg_spool *sp, const uint8_t *old, size_t j)
{
    for (size_t k = 0; k < sp->nsinks; k++)
        if (strncmp(tg_ack_name(old, j), sp->sinks[k], TG_ACK_NAME - 1) == 0)
            return (int)k;
    return -1;
}

/* The bitmap of the records every sink of `old` (osz bytes) confirmed: in
 * the per-sink layout, the AND of the sinks' bitmaps; in the one-bitmap
 * layout of earlier versions, that bitmap (a bit meant "all sinks");
 * anything else: none (all is replayed).  Caller frees. */
static uint8_t *tg_ack_old_all(const uint8_t *old, size_t osz)
{
    uint8_t *all = tg_xcalloc(1, TG_SPOOL_ACK_BYTES);
    uint32_t on = tg_ack_sinks_of(old, osz);
    if (osz == TG_SPOOL_ACK_BYTES)
        memcpy(all, old, TG_SPOOL_ACK_BYTES);
    if (on) {
        memset(all, 0xff, TG_SPOOL_ACK_BYTES);
        for (uint32_t j = 0; j < on; j++)
            for (size_t i = 0; i < TG_SPOOL_ACK_BYTES; i++)
                all[i] &= tg_ack_bits(old, j)[i];
    }
    return all;
}

/* The .ack content for the current sinks, carrying over the bits of `old`
 * (osz bytes; `all` from tg_ack_old_all): by sink name, and a sink that is
 * new gets `all` (a new sink does not get history, only what was still
 * owed).  Caller frees. */
static uint8_t *tg_ack_convert(const struct tg_spool *sp, const uint8_t *old, size_t osz,
                               const uint8_t *all)
{
    uint8_t *nw = tg_xcalloc(1, tg_ack_size(sp->nsinks));
    tg_ack_header(sp, nw);
    for (size_t k = 0; k < sp->nsinks; k++)
        memcpy(tg_ack_bits(nw, k), all, TG_SPOOL_ACK_BYTES);
    uint32_t on = tg_ack_sinks_of(old, osz);
    for (uint32_t j = 0; j < on; j++) {
        int k = tg_ack_current(sp, old, j);
        if (k >= 0)
            memcpy(tg_ack_bits(nw, (size_t)k), tg_ack_bits(old, j), TG_SPOOL_ACK_BYTES);
    }
    return nw;
}

/* The sequence number of the record at `off` of a loaded segment. */
static uint64_t tg_seg_seq_at(const struct tg_spool_seg *g, uint64_t off)
{
    return tg_get64(g->map + off + g->fmt.mlen + 4);
}

/* The .ack of segment g (found at open) is converted from `old` (`all`:
 * what every old sink had) to `nw`: count and log the records that only
 * sinks no longer configured still owed (confirmed by every current sink
 * now, not by every old one before). */
static void tg_ack_count_dropped(struct tg_spool *sp, const struct tg_spool_seg *g,
                                 const uint8_t *old, size_t osz, const uint8_t *all,
                                 const uint8_t *nw)
{
    uint64_t n = 0;
    for (size_t i = 0; i < g->noffs; i++) {
        uint64_t idx = tg_seg_seq_at(g, g->offs[i]) - g->first_seq;
        if (!(all[idx / 8] & (1u << (idx % 8))) && tg_ack_mask(sp, nw, idx) == tg_ack_all(sp))
            n++;
    }
    if (n == 0)
        return;
    struct tg_buf names = TG_BUF_INIT;
    uint32_t on = tg_ack_sinks_of(old, osz), gone = 0;
    for (uint32_t j = 0; j < on; j++)
        if (tg_ack_current(sp, old, j) < 0)
            tg_buf_printf(&names, "%s%.*s", gone++ ? ", " : "", TG_ACK_NAME - 1,
                          tg_ack_name(old, j));
    char *log = tg_seg_path(sp, g->first_seq, "log");
    tg_warn("spool: %s: %s %s no longer configured: %" PRIu64
            " records that only %s still owed are dropped undelivered",
            log, gone > 1 ? "sinks" : "sink", tg_buf_cstr(&names), n, gone > 1 ? "they" : "it");
    free(log);
    tg_buf_free(&names);
    sp->st.dropped_unconfigured += n;
    tg_metrics_inc(TG_C_SPOOL_DROPPED_UNCONFIGURED, n);
}

/* Map the .ack file open on fd (size bytes) into g->ack, every block
 * allocated first: setting a bit in a hole of the file once the disk is
 * full would be a SIGBUS.  0, or -1 with errno set. */
static int tg_ack_mmap(struct tg_spool_seg *g, int fd, size_t size)
{
    int e = posix_fallocate(fd, 0, (off_t)size);
    if (e != 0) {
        errno = e;
        return -1;
    }
    g->ack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (g->ack == MAP_FAILED) {
        g->ack = NULL;
        return -1;
    }
    g->ack_bytes = size;
    return 0;
}

static void tg_ack_error(const char *path)
{
    tg_err("spool: %s: cannot create or update the confirmation file: %s; check spool_dir", path,
           strerror(errno));
}

/* A fresh .ack for segment g (whatever was at its path is replaced): the
 * header and a zero rest, no fsync (the roll's directory fsync covers the
 * entry); cut short by a crash, it reads as "nothing confirmed" and
 * everything is replayed.  0, or TG_EIO (logged, nothing left behind). */
static int tg_ack_create(struct tg_spool *sp, struct tg_spool_seg *g)
{
    char *path = tg_seg_path(sp, g->first_seq, "ack");
    uint8_t hdr[TG_ACK_HDR];
    tg_ack_header(sp, hdr);
    int rc = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || tg_pwrite_all(fd, hdr, TG_ACK_HDR, 0) != 0 ||
        tg_ack_mmap(g, fd, tg_ack_size(sp->nsinks)) != 0) {
        tg_ack_error(path);
        unlink(path);
        rc = TG_EIO;
    }
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

/* Map the .ack of segment g, found at open (its records scanned): created
 * when missing or empty, replaced whole when written for other sinks (see
 * tg_ack_convert; a crash in between leaves the old file, converted again
 * next time).  0, or TG_EIO (logged). */
static int tg_ack_load(struct tg_spool *sp, struct tg_spool_seg *g)
{
    char *path = tg_seg_path(sp, g->first_seq, "ack");
    size_t size = tg_ack_size(sp->nsinks), osz = 0;
    uint8_t *old = NULL, *all = NULL, *nw = NULL, hdr[TG_ACK_HDR];
    int rc = TG_EIO;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 && errno == ENOENT) {
        rc = tg_ack_create(sp, g);
        goto out;
    }
    if (fd < 0 || fstat(fd, &st) != 0)
        goto fail;
    osz = (size_t)st.st_size;
    if (osz == 0) {
        rc = tg_ack_create(sp, g);
        goto out;
    }
    if ((old = mmap(NULL, osz, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        old = NULL;
        goto fail;
    }
    tg_ack_header(sp, hdr);
    if (osz != size || memcmp(old, hdr, TG_ACK_HDR) != 0) {
        all = tg_ack_old_all(old, osz);
        nw = tg_ack_convert(sp, old, osz, all);
        tg_ack_count_dropped(sp, g, old, osz, all, nw);
        close(fd);
        fd = -1;
        if (tg_file_replace(path, nw, size, 0600, true) != 0 ||
            (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
            goto fail;
    }
    if (tg_ack_mmap(g, fd, size) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    tg_ack_error(path);
out:
    if (old)
        munmap(old, osz);
    if (fd >= 0)
        close(fd);
    free(all);
    free(nw);
    free(path);
    return rc;
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

/* Remove segment index i (sealed, fully confirmed): files and memory.  The
 * .ack goes first: killed in between, the .log stays and its records are
 * replayed (at least once); an .ack left alone could be taken for the
 * confirmations of a later segment.  Caller holds mu. */
static void tg_seg_delete(struct tg_spool *sp, size_t i)
{
    struct tg_spool_seg *g = sp->segs[i];
    char *log = tg_seg_path(sp, g->first_seq, "log");
    char *ack = tg_seg_path(sp, g->first_seq, "ack");
    if (unlink(ack) != 0 && errno != ENOENT)
        tg_warn("spool: %s: cannot delete: %s", ack, strerror(errno));
    if (unlink(log) != 0 && errno != ENOENT)
        tg_warn("spool: %s: cannot delete: %s", log, strerror(errno));
    free(log);
    free(ack);
    if (g->sync_failed && g->synced < g->last_seq) {
        size_t k = sp->nlost++ % TG_SPOOL_LOST;
        sp->lost[k].lo = g->synced >= g->first_seq ? g->synced + 1 : g->first_seq;
        sp->lost[k].hi = g->last_seq;
    }
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

/* The index of the last segment whose first_seq <= seq (0 when none). */
static size_t tg_seg_find(const struct tg_spool *sp, uint64_t seq)
{
    size_t lo = 0, hi = sp->nsegs;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (sp->segs[mid]->first_seq <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* A valid record of loaded segment g at `off` (tg_rec_check, and a
 * sequence number this segment can hold).  0 or TG_ECORRUPT. */
static int tg_seg_rec(const struct tg_spool_seg *g, uint64_t off, uint64_t *seq, uint64_t *next)
{
    if (tg_rec_check(&g->fmt, g->map, g->bytes, off, seq, next) != 0 || *seq < g->first_seq ||
        *seq - g->first_seq >= TG_SPOOL_SEG_RECORDS)
        return TG_ECORRUPT;
    return 0;
}

/* The offset of the first valid record of g in [from, end), or end. */
static uint64_t tg_seg_resync(const struct tg_spool_seg *g, uint64_t from, uint64_t end)
{
    uint64_t seq, next;
    while (from < end) {
        const uint8_t *hit = memmem(g->map + from, end - from, g->fmt.mark, g->fmt.mlen);
        if (!hit)
            return end;
        from = (uint64_t)(hit - g->map);
        if (tg_seg_rec(g, from, &seq, &next) == 0)
            return from;
        from++;
    }
    return end;
}

/* The format of a loaded segment (at `path`) from its first bytes: the
 * old format starts with its record magic; a tagged one with its header,
 * whose tag is also the mark of every record, so a damaged header is
 * recovered from the first record (logged). */
static void tg_seg_detect(struct tg_spool_seg *g, const char *path)
{
    if (g->bytes >= 4 && tg_get32(g->map) == TG_V1_MAGIC) {
        tg_fmt_v1(&g->fmt);
        return;
    }
    uint8_t tag[8] = {0};
    bool hdr_ok = g->bytes >= TG_SEG_HDR && memcmp(g->map, TG_SEG_MAGIC, 8) == 0 &&
                  libdeflate_crc32(0, g->map, 28) == tg_get32(g->map + 28);
    if (hdr_ok) {
        memcpy(tag, g->map + 8, 8);
    } else if (g->bytes >= TG_SEG_HDR + 8) {
        memcpy(tag, g->map + TG_SEG_HDR, 8);
        tg_warn("spool: %s: damaged segment header; its tag is taken from the first record", path);
    }
    tg_fmt_tagged(&g->fmt, tag);
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
    tg_seg_detect(g, path);
    size_t cap = 0;
    uint64_t off = g->fmt.data;
    /* a segment the process did not seal ends in its zero-filled preallocation */
    uint64_t zero_from = g->bytes;
    while (zero_from > off && g->map[zero_from - 1] == 0)
        zero_from--;
    while (off < zero_from) {
        uint64_t seq, next;
        if (tg_seg_rec(g, off, &seq, &next) != 0) {
            uint64_t bad = off;
            off = tg_seg_resync(g, off + 1, zero_from);
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
        if (seq >= sp->next_seq)
            sp->next_seq = seq + 1;
        if (seq > g->last_seq)
            g->last_seq = seq;
        off = next;
    }
    g->synced = g->last_seq; /* on disk as far as this process is concerned */
    if (tg_ack_load(sp, g) != 0)
        goto out;
    for (size_t i = 0; i < g->noffs; i++)
        if (tg_ack_mask(sp, g->ack, tg_seg_seq_at(g, g->offs[i]) - first) == tg_ack_all(sp))
            g->nconf++;
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

/* Find and load every seg-*.log; remove every .ack without its .log (a
 * deletion was interrupted: never trusted).  next_seq ends above every
 * sequence number named by a file or held by a record.  0 or TG_EIO. */
static int tg_spool_scan(struct tg_spool *sp)
{
    DIR *d = opendir(sp->dir);
    if (!d) {
        tg_err("spool: %s: cannot read: %s", sp->dir, strerror(errno));
        return TG_EIO;
    }
    uint64_t *logs = NULL, *acks = NULL;
    size_t nlogs = 0, caplogs = 0, nacks = 0, capacks = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        char ext[8];
        if (sscanf(de->d_name, "seg-%16" SCNx64 ".%7s", &first, ext) != 2)
            continue;
        if (strcmp(ext, "log") == 0) {
            logs = tg_xgrow(logs, nlogs, &caplogs, sizeof(*logs), 16);
            logs[nlogs++] = first;
        } else if (strcmp(ext, "ack") == 0) {
            acks = tg_xgrow(acks, nacks, &capacks, sizeof(*acks), 16);
            acks[nacks++] = first;
        } else {
            continue;
        }
        if (first >= sp->next_seq)
            sp->next_seq = first + 1;
    }
    closedir(d);
    if (nlogs)
        qsort(logs, nlogs, sizeof(*logs), tg_u64_cmp);
    for (size_t i = 0; i < nacks; i++) {
        if (nlogs && bsearch(&acks[i], logs, nlogs, sizeof(*logs), tg_u64_cmp))
            continue;
        char *ack = tg_seg_path(sp, acks[i], "ack");
        if (unlink(ack) == 0)
            tg_info("spool: %s: removed: its segment is gone (its deletion was interrupted)", ack);
        else
            tg_warn("spool: %s: cannot remove a confirmation file without its segment: %s", ack,
                    strerror(errno));
        free(ack);
    }
    int rc = 0;
    for (size_t i = 0; i < nlogs && rc == 0; i++)
        rc = tg_seg_load(sp, logs[i]);
    free(logs);
    free(acks);
    /* segments with nothing left to deliver go now */
    for (size_t i = 0; i < sp->nsegs;) {
        if (sp->segs[i]->nconf == sp->segs[i]->nrec)
            tg_seg_delete(sp, i);
        else
            i++;
    }
    return rc;
}

/* An fdatasync of segment g failed with errno e: nothing of it that was not
 * durable ever counts as such.  Caller holds mu. */
static void tg_spool_sync_failed(struct tg_spool *sp, struct tg_spool_seg *g, int e)
{
    g->sync_failed = true;
    sp->st.sync_failures++;
    tg_metrics_inc(TG_C_SPOOL_SYNC_FAILURES, 1);
    char *log = tg_seg_path(sp, g->first_seq, "log");
    uint64_t since = g->synced ? g->synced : g->first_seq - 1;
    tg_err("spool: %s: fdatasync failed: %s; its %" PRIu64
           " records since the last good sync are not acknowledged (their senders retry); new "
           "records go to a new segment",
           log, strerror(e), g->last_seq - since);
    free(log);
}

/* Whether segment g holds a record of [from, to] not known to be durable. */
static bool tg_seg_owes(const struct tg_spool_seg *g, uint64_t from, uint64_t to)
{
    uint64_t lo = from > g->synced ? from : g->synced + 1;
    uint64_t hi = to < g->last_seq ? to : g->last_seq;
    return g->nrec && lo <= hi && hi >= g->first_seq;
}

/* Make the records [from, to] durable: 0, or TG_EIO when one of them is in
 * a segment whose sync failed (or was, before it was deleted).  Syncs the
 * active segment (group commit) when it holds one that is not yet
 * durable.  Caller holds mu. */
static int tg_spool_sync_range(struct tg_spool *sp, uint64_t from, uint64_t to)
{
    for (;;) {
        for (size_t i = 0; i < sp->nlost && i < TG_SPOOL_LOST; i++)
            if (sp->lost[i].lo <= to && from <= sp->lost[i].hi)
                return TG_EIO;
        for (size_t i = tg_seg_find(sp, from); i < sp->nsegs && sp->segs[i]->first_seq <= to; i++)
            if (sp->segs[i]->sync_failed && tg_seg_owes(sp->segs[i], from, to))
                return TG_EIO;
        struct tg_spool_seg *a = sp->active;
        if (!a || !tg_seg_owes(a, from, to))
            return 0;
        if (sp->syncing) {
            pthread_cond_wait(&sp->sync_cond, &sp->mu);
            continue;
        }
        /* the active segment stays active (and allocated) while syncing */
        sp->syncing = true;
        uint64_t target = a->last_seq;
        int fd = sp->fd;
        pthread_mutex_unlock(&sp->mu);
        int r = fdatasync(fd);
        int e = errno;
        pthread_mutex_lock(&sp->mu);
        sp->syncing = false;
        sp->st.fsyncs++;
        pthread_cond_broadcast(&sp->sync_cond);
        if (r != 0)
            tg_spool_sync_failed(sp, a, e);
        else if (target > a->synced)
            a->synced = target;
    }
}

/* Seal the active segment (syncing it per policy); caller holds mu. */
static void tg_spool_seal(struct tg_spool *sp)
{
    struct tg_spool_seg *g = sp->active;
    if (!g)
        return;
    while (sp->syncing)
        pthread_cond_wait(&sp->sync_cond, &sp->mu);
    if (sp->conf.fsync != TG_FSYNC_NEVER && !g->sync_failed && g->synced < g->last_seq) {
        sp->st.fsyncs++;
        if (fdatasync(sp->fd) == 0)
            g->synced = g->last_seq;
        else
            tg_spool_sync_failed(sp, g, errno);
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

/* Raise the sequence high-water mark in the lock file to hwm (fdatasynced
 * unless fsync = never).  Caller holds mu.  0 or TG_EIO (logged). */
static int tg_spool_set_hwm(struct tg_spool *sp, uint64_t hwm)
{
    char line[40];
    int n = snprintf(line, sizeof(line), TG_HWM_FMT, hwm);
    if (tg_pwrite_all(sp->lock_fd, line, (size_t)n, 0) != 0 ||
        (sp->conf.fsync != TG_FSYNC_NEVER && fdatasync(sp->lock_fd) != 0)) {
        tg_err("spool: %s/lock: cannot record the sequence high-water mark: %s; check spool_dir",
               sp->dir, strerror(errno));
        sp->st.sync_failures++;
        tg_metrics_inc(TG_C_SPOOL_SYNC_FAILURES, 1);
        return TG_EIO;
    }
    sp->hwm = hwm;
    return 0;
}

/* Start a new active segment at next_seq with room for a record of `need`
 * bytes: the high-water mark raised above every number it can hold, the
 * .log (header and tag) and a fresh .ack created, and the directory
 * fsynced (unless fsync = never) before it takes a record.  Caller holds
 * mu.  0 or TG_EIO (logged, nothing left behind). */
static int tg_spool_roll(struct tg_spool *sp, uint64_t need)
{
    tg_spool_seal(sp);
    struct tg_spool_seg *g = tg_xcalloc(1, sizeof(*g));
    g->first_seq = sp->next_seq;
    char *path = tg_seg_path(sp, g->first_seq, "log");
    uint8_t tag[8];
    int rc = TG_EIO, e;
    if (getrandom(tag, sizeof(tag), 0) != (ssize_t)sizeof(tag)) {
        tg_err("spool: no random bytes for a segment tag: %s", strerror(errno));
        goto out;
    }
    tag[0] |= 1; /* never zero, like the preallocated tail */
    tg_fmt_tagged(&g->fmt, tag);
    uint64_t size = (uint64_t)sp->conf.segment_bytes;
    if (need + TG_SEG_HDR > size)
        size = need + TG_SEG_HDR;
    if (g->first_seq + TG_SPOOL_SEG_RECORDS > sp->hwm &&
        tg_spool_set_hwm(sp, g->first_seq + TG_SPOOL_SEG_RECORDS) != 0)
        goto out;
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
    sp->released = 0;
    tg_seg_header(sp->amap, tag);
    if (tg_ack_create(sp, g) != 0)
        goto fail;
    if (sp->conf.fsync != TG_FSYNC_NEVER && fsync(sp->dir_fd) != 0) {
        tg_err("spool: %s: fsync of the directory failed: %s; the new segment is not used", sp->dir,
               strerror(errno));
        sp->st.sync_failures++;
        tg_metrics_inc(TG_C_SPOOL_SYNC_FAILURES, 1);
        char *ack = tg_seg_path(sp, g->first_seq, "ack");
        unlink(ack);
        free(ack);
        goto fail;
    }
    g->bytes = TG_SEG_HDR;
    sp->total_bytes += TG_SEG_HDR;
    tg_seg_push(sp, g);
    sp->active = g;
    g = NULL;
    rc = 0;
    goto out;
fail:
    if (sp->amap)
        munmap(sp->amap, size);
    sp->amap = NULL;
    close(sp->fd);
    sp->fd = -1;
    unlink(path);
out:
    free(path);
    if (g)
        tg_seg_free(g);
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
        struct tg_spool_seg *a = sp->active;
        if (a && !a->sync_failed)
            tg_spool_sync_range(sp, a->first_seq, a->last_seq);
    }
    pthread_mutex_unlock(&sp->mu);
    return NULL;
}

/* The high-water mark the lock file holds (0: none). */
static uint64_t tg_spool_read_hwm(int lock_fd)
{
    char line[40] = {0};
    uint64_t hwm = 0;
    if (pread(lock_fd, line, sizeof(line) - 1, 0) > 0 &&
        sscanf(line, "next_seq %" SCNu64, &hwm) == 1)
        return hwm;
    return 0;
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
    sp->dir_fd = -1;
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
    sp->dir_fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dir_fd < 0) {
        tg_err("spool: %s: cannot open: %s", sp->dir, strerror(errno));
        goto fail;
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
    sp->hwm = tg_spool_read_hwm(sp->lock_fd);
    if (sp->hwm > sp->next_seq)
        sp->next_seq = sp->hwm;
    rc = tg_spool_scan(sp);
    if (rc != 0)
        goto fail;
    sp->sync_from = sp->next_seq;
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
        struct tg_seg_fmt fmt;
        uint64_t *offs;
        size_t noffs;
    } *old = tg_xcalloc(nseg + 1, sizeof(*old));
    for (size_t i = 0; i < nseg; i++) {
        old[i].map = segs[i]->map;
        old[i].bytes = segs[i]->bytes;
        old[i].first = segs[i]->first_seq;
        old[i].fmt = segs[i]->fmt;
        old[i].offs = segs[i]->offs;
        old[i].noffs = segs[i]->noffs;
        segs[i]->map = NULL;
        segs[i]->offs = NULL;
        segs[i]->noffs = 0;
    }
    pthread_mutex_unlock(&sp->mu);
    for (size_t i = 0; i < nseg; i++) {
        for (size_t k = 0; k < old[i].noffs; k++) {
            struct tg_spool_rec rec;
            uint64_t seq;
            tg_rec_decode(&old[i].fmt, old[i].map + old[i].offs[k], &rec, &seq);
            pthread_mutex_lock(&sp->mu);
            /* which sinks have it already (from a previous run)?  A segment
             * that is gone was confirmed by all */
            unsigned done = tg_ack_all(sp);
            for (size_t s = 0; s < sp->nsegs; s++)
                if (sp->segs[s]->first_seq == old[i].first) {
                    done = tg_ack_mask(sp, sp->segs[s]->ack, seq - old[i].first);
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

/*
 * The written pages of the active segment are never read through its
 * mapping again (a replay maps the file anew), so every TG_SPOOL_RELEASE
 * bytes the pages below `upto` are unmapped from the process: the data
 * stays in the page cache and goes to disk as before (MADV_DONTNEED keeps a
 * shared file mapping's dirty pages), but no longer counts in the resident
 * size, which a 16 MiB segment otherwise fills.  Caller holds mu.
 */
static void tg_spool_release(struct tg_spool *sp, uint64_t upto)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), end = upto / page * page;
    if (end < sp->released + TG_SPOOL_RELEASE)
        return;
    if (madvise(sp->amap + sp->released, end - sp->released, MADV_DONTNEED) == 0)
        sp->released = end;
}

int tg_spool_append(struct tg_spool *sp, const struct tg_spool_rec *rec, uint64_t *seq)
{
    size_t plen = rec->peer.p ? rec->peer.len : 0;
    size_t olen = rec->origin.p ? rec->origin.len : 0;
    if (rec->len > TG_RECORD_MAX || plen > TG_SPOOL_PEER_MAX || olen > TG_SPOOL_ORIGIN_MAX) {
        tg_err("spool: refused a record of %zu bytes (peer %zu, origin %zu): longer than the "
               "spool reads back (%u, %u, %u); the source must cut it at TG_RECORD_MAX",
               rec->len, plen, olen, TG_RECORD_MAX, TG_SPOOL_PEER_MAX, TG_SPOOL_ORIGIN_MAX);
        return TG_EINVAL;
    }
    uint8_t hdr[TG_REC_HDR], meta[TG_SPOOL_META] = {0};
    uint32_t len = (uint32_t)(TG_SPOOL_META + plen + olen + rec->len);
    uint64_t reclen = sizeof(hdr) + (uint64_t)len;
    meta[0] = (uint8_t)rec->input;
    meta[1] = rec->truncated ? 1 : 0;
    uint16_t p16 = (uint16_t)plen;
    memcpy(meta + 2, &p16, 2);
    tg_put64(meta + 4, (uint64_t)rec->received.sec);
    tg_put32(meta + 12, (uint32_t)rec->received.nsec);
    meta[16] = (uint8_t)olen;
    struct iovec iov[5] = {{hdr, sizeof(hdr)},
                           {meta, sizeof(meta)},
                           {(void *)rec->peer.p, plen},
                           {(void *)rec->origin.p, olen},
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
    struct tg_spool_seg *a = sp->active;
    if (!a || a->sync_failed || a->bytes + reclen > sp->asize || a->nrec == TG_SPOOL_SEG_RECORDS) {
        rc = tg_spool_roll(sp, reclen);
        if (rc != 0)
            goto out;
        a = sp->active;
    }
    uint64_t s = sp->next_seq;
    memcpy(hdr, a->fmt.mark, 8);
    tg_put32(hdr + 8, len);
    tg_put64(hdr + 12, s);
    tg_put32(hdr + 20, tg_rec_crc(&a->fmt, s, len, iov + 1, 4));
    uint8_t *dst = sp->amap + a->bytes;
    for (int i = 0; i < 5; i++) {
        if (iov[i].iov_len)
            memcpy(dst, iov[i].iov_base, iov[i].iov_len);
        dst += iov[i].iov_len;
    }
    sp->next_seq++;
    a->last_seq = s;
    a->nrec++;
    a->bytes += reclen;
    tg_spool_release(sp, a->bytes);
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
    int rc = tg_spool_sync_range(sp, seq, seq);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int tg_spool_sync(struct tg_spool *sp)
{
    if (sp->conf.fsync == TG_FSYNC_NEVER)
        return 0;
    pthread_mutex_lock(&sp->mu);
    uint64_t from = sp->sync_from, to = sp->next_seq - 1;
    sp->sync_from = sp->next_seq;
    int rc = from <= to ? tg_spool_sync_range(sp, from, to) : 0;
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

/* Confirm one record for `sink`.  Caller holds sp->mu. */
static void tg_spool_confirm_locked(struct tg_spool *sp, uint64_t seq, size_t sink)
{
    size_t lo = tg_seg_find(sp, seq);
    if (!sp->nsegs || sp->segs[lo]->first_seq > seq || seq > sp->segs[lo]->last_seq)
        return;
    struct tg_spool_seg *g = sp->segs[lo];
    uint64_t idx = seq - g->first_seq;
    uint8_t bit = (uint8_t)(1u << (idx % 8));
    uint8_t *bits = tg_ack_bits(g->ack, sink < sp->nsinks ? sink : 0);
    if (bits[idx / 8] & bit)
        return;
    bits[idx / 8] |= bit;
    if (tg_ack_mask(sp, g->ack, idx) != tg_ack_all(sp))
        return; /* other sinks still owe it */
    g->nconf++;
    sp->st.confirmed++;
    if (g->sealed && g->nconf >= g->nrec)
        tg_seg_delete(sp, lo);
}

void tg_spool_confirm_many(void *spool, const uint64_t *seqs, size_t n, size_t sink)
{
    struct tg_spool *sp = spool;
    pthread_mutex_lock(&sp->mu);
    for (size_t i = 0; i < n; i++)
        tg_spool_confirm_locked(sp, seqs[i], sink);
    pthread_mutex_unlock(&sp->mu);
}

void tg_spool_confirm(void *spool, uint64_t seq, size_t sink)
{
    tg_spool_confirm_many(spool, &seq, 1, sink);
}

void tg_spool_stats(struct tg_spool *sp, struct tg_spool_stats *st)
{
    pthread_mutex_lock(&sp->mu);
    *st = sp->st;
    st->bytes = sp->total_bytes;
    st->segments = sp->nsegs;
    st->mapped = sp->active && sp->amap ? sp->active->bytes - sp->released : 0;
    for (size_t i = 0; i < sp->nsegs; i++)
        st->mapped += sp->segs[i]->ack ? tg_ack_size(sp->nsinks) : 0;
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
    if (sp->dir_fd >= 0)
        close(sp->dir_fd);
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
