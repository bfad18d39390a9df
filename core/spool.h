/*
 * spool.h - the durable receive log (SPEC.md section 6).
 *
 * Every record a source accepts is appended here before the sender is
 * acknowledged; the sinks confirm records once they have delivered them, and
 * a segment whose records are all confirmed is deleted.  On start, every
 * record that was never confirmed is replayed.  The promise: a record whose
 * append (and, per the fsync policy, commit) succeeded is replayed until
 * every sink confirmed it.
 *
 * Files in spool_dir:
 *   seg-<first seq, 16 hex>.log   a 32-byte header [magic "TGSPOOL2"]
 *                                 [tag: 8 random bytes, new for each
 *                                 segment][12 zero][crc32 of the 28 before],
 *                                 then append-only records, each
 *                                 [tag][len u32][seq u64][crc32 u32][body len]
 *                                 crc32 (zlib's) covers the tag, seq, len and
 *                                 body; the body is [input u8][flags u8]
 *                                 [peer len u16][sec i64][nsec u32][origin
 *                                 len u8][3 zero] then peer, origin, data
 *   seg-<first seq>.ack           a 4 KiB header ("TGACK2\n", u32 sink count, the
 *                                 sinks' names, 32 bytes each), then per sink one
 *                                 bit per record (seq - first seq), set when that
 *                                 sink confirmed it; written through a shared
 *                                 mapping, so it survives a kill -9 without a
 *                                 syscall per bit.  A record is confirmed when
 *                                 all the sinks' bits are set
 *   lock                          flock()ed while a process owns the spool; it
 *                                 holds the sequence high-water mark
 *                                 ("next_seq N": every number used is below N)
 *
 * Reading back.  One limit: a record holds at most TG_RECORD_MAX data bytes
 * (core/limits.h, the limit every source cuts at), TG_SPOOL_PEER_MAX peer
 * and TG_SPOOL_ORIGIN_MAX origin bytes; the reader accepts every body up to
 * their sum plus the metadata, and tg_spool_append refuses anything larger
 * (TG_EINVAL) rather than store what it could not read back.  A torn or
 * corrupt record (crash mid-write, a flipped bit) fails its checksum: it is
 * reported with file and offset, counted, skipped and never parsed; reading
 * resumes at the next record whose tag, header and checksum are valid.  The
 * tag is random and only in the segment file (0600): a sender, who cannot
 * read the spool, cannot know it when it embeds a well-formed record in a
 * message, so resync never turns message bytes into a record with a forged
 * peer (a guess succeeds with probability 2^-64 per candidate).  Whoever
 * can write the spool can forge records anyway.  Segments of the format before
 * tags ([magic "TSG1"][len][seq][crc32 of seq, len, body], 16 bytes of
 * metadata, no origin) are still replayed, with that format's weaker resync;
 * only a spool written by an older version has them, and they go once
 * delivered.
 *
 * Sequence numbers are never reused: a new process starts above every
 * number in any file name, record or the high-water mark, which is raised
 * (and, unless fsync = never, fdatasynced) before a segment is created.
 * A segment is deleted .ack first, so an interrupted deletion leaves a .log
 * whose records are all replayed (at least once), never an .ack that a
 * later segment could inherit; an .ack without its .log is removed at open
 * and a new segment always gets a fresh .ack.
 *
 * Durability (`fsync` in [collector]):
 *   always    tg_spool_commit() returns 0 once an fdatasync covers the record;
 *             concurrent committers share one fdatasync (group commit)
 *   interval  the record is in the kernel when tg_spool_append returns (it
 *             survives a crash of the collector); a background thread
 *             fdatasyncs every fsync_interval_ms (a power loss loses at most
 *             that window).  Waiting for that thread inside a RELP callback
 *             would cap an engine at one message per interval.
 *   never     no fdatasync.
 * Unless fsync = never, creating a segment (its .log and .ack) fsyncs the
 * directory before the segment takes a record, so no acknowledged record's
 * file can lose its directory entry.  Synced state is kept per segment: a
 * failed fdatasync (logged, counted in trailguard_spool_sync_failures_total)
 * marks its segment failed, and no record of it that was not durable before
 * ever counts as durable, whatever a later fdatasync of that file says (the
 * kernel may have dropped the pages that failed); tg_spool_commit and
 * tg_spool_sync return TG_EIO for them, so the source does not acknowledge
 * them (also after the sinks confirmed them and the segment went: the
 * newest 64 such ranges are kept), and the next append starts a new
 * segment.  The retry (the RELP callback appends again, omprog's error
 * reply makes rsyslog resend, the file input keeps its saved position)
 * goes there and is synced afresh: the collector keeps trying, one fresh
 * segment per attempt.
 *
 * Space: spool_max_bytes bounds the segment files; an append that does not
 * fit blocks until confirmed segments are deleted (backpressure), counted
 * and logged once per episode.
 *
 * Sinks: the .ack of a segment written for other sinks is converted at
 * open (bits follow the names); records that only sinks no longer
 * configured still owed are dropped: one log line per segment names those
 * sinks and the count, and trailguard_spool_records_dropped_total
 * {reason="sink_removed"} counts them.
 *
 * Concurrency: every function may be called from any thread; one mutex
 * guards the segment list and the active file, fdatasync of the active
 * segment runs outside it.  One process owns a spool directory at a time
 * (flock).
 */
#ifndef TG_SPOOL_H
#define TG_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/limits.h"

/* The sources a record can come from, stored as a code per record: each
 * source plugin names its own (ingest/source.h); never reuse a number. */
enum tg_spool_input {
    TG_SPOOL_IN_RELP = 1,
    TG_SPOOL_IN_OMPROG,
    TG_SPOOL_IN_FILE,
    TG_SPOOL_IN_STDIN,
    TG_SPOOL_IN_INTERNAL,
};

#define TG_SPOOL_PEER_MAX   4096 /* a file path (PATH_MAX) or an address */
#define TG_SPOOL_ORIGIN_MAX 255

/* One record as a source received it.  All pointers are borrowed. */
struct tg_spool_rec {
    enum tg_spool_input input;
    struct tg_str peer; /* RELP peer IP, file path, or absent */
    /* where in its source the record was (opaque to the spool: the intake's
     * [format][salt], ingest/intake.h), or absent; replay hands back exactly
     * these bytes */
    struct tg_str origin;
    struct tg_time received;
    bool truncated; /* the source cut it at its size limit */
    const char *data;
    size_t len; /* at most TG_RECORD_MAX */
};

struct tg_spool_conf {
    const char *dir;
    int fsync; /* enum tg_fsync_mode (collector_conf.h) */
    int64_t fsync_interval_ms;
    int64_t max_bytes;     /* spool_max_bytes */
    int64_t segment_bytes; /* 0: derived from max_bytes (max_bytes / 8, 64 KiB..16 MiB) */
    /* the sinks that confirm, by name, in pipeline order (their index is the
     * `sink` of tg_spool_confirm); none: one anonymous sink */
    const char *const *sinks;
    size_t nsinks; /* at most TG_SPOOL_MAX_SINKS */
};

#define TG_SPOOL_MAX_SINKS 8

struct tg_spool_stats {
    uint64_t appended, appended_bytes, confirmed, replayed;
    uint64_t corrupt_records, corrupt_bytes; /* skipped by checksum on open */
    uint64_t full_waits;                     /* appends that blocked on spool_max_bytes */
    uint64_t fsyncs, segments_deleted;
    uint64_t sync_failures;        /* fdatasyncs (and directory fsyncs) that failed */
    uint64_t dropped_unconfigured; /* records only removed sinks still owed (open) */
    uint64_t bytes, segments;      /* current */
    uint64_t mapped; /* bytes of its files mapped now (the active segment's unreleased part,
                        the ack bitmaps): they count in the process's resident size */
    bool full;       /* an append is waiting for room now (spool_max_bytes) */
};

struct tg_spool;

/*
 * Open (creating) the spool directory, lock it, scan the existing segments
 * (reporting corrupt records, converting .ack files to the current sinks)
 * and start the fsync thread.  0, TG_EIO (cannot create/read; logged with
 * the path) or TG_EFULL (another process holds the lock; logged).
 */
int tg_spool_open(const struct tg_spool_conf *conf, struct tg_spool **out);

/*
 * Call `cb` for every valid record of the segments found at open that was
 * not confirmed by every sink, in sequence order; sinks_done has bit k set
 * for each sink k that did confirm it (ev->sinks_done: those skip it).
 * Call once, after open; appends may run meanwhile (they go to new
 * segments).  Returns the number of records replayed.
 */
uint64_t tg_spool_replay(struct tg_spool *sp,
                         void (*cb)(void *ctx, const struct tg_spool_rec *rec, uint64_t seq,
                                    unsigned sinks_done),
                         void *ctx);

/*
 * Append one record; *seq receives its sequence number (> 0).  Blocks while
 * the spool is full.  On return the record is in the file (see durability
 * above for what tg_spool_commit adds).  0, TG_EIO (logged) or TG_EINVAL
 * (longer than TG_RECORD_MAX, TG_SPOOL_PEER_MAX or TG_SPOOL_ORIGIN_MAX;
 * logged; nothing stored: never acknowledge it).
 */
int tg_spool_append(struct tg_spool *sp, const struct tg_spool_rec *rec, uint64_t *seq);

/* Wait until `seq` is durable per the fsync policy.  0, or TG_EIO when it
 * cannot be (its segment failed to sync: do not acknowledge it). */
int tg_spool_commit(struct tg_spool *sp, uint64_t seq);

/*
 * One group fdatasync of everything appended so far (no-op with fsync =
 * never): 0 when every record appended since the previous tg_spool_sync
 * (or open) is durable, TG_EIO when one of them is not (each failure is
 * reported to the first call after the append).  omprog's transaction
 * commit.
 */
int tg_spool_sync(struct tg_spool *sp);

/*
 * Sink number `sink` delivered records seqs[0..n) (pipeline conf.on_confirm;
 * ctx is the spool): one lock for all of them, so a sink confirming a batch
 * does not contend with the sources' appends once per record.
 * Out-of-order and repeated confirmations are fine.  Any thread.
 */
void tg_spool_confirm_many(void *spool, const uint64_t *seqs, size_t n, size_t sink);
/* The same for one record. */
void tg_spool_confirm(void *spool, uint64_t seq, size_t sink);

void tg_spool_stats(struct tg_spool *sp, struct tg_spool_stats *st);

/*
 * Stop the fsync thread, sync (unless fsync = never), delete fully confirmed
 * segments, unlock and free.  No other call may be running.
 */
void tg_spool_close(struct tg_spool *sp);

#endif
