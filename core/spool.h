/*
 * spool.h - the durable receive log (SPEC.md section 6).
 *
 * Every record a source accepts is appended here before the sender is
 * acknowledged; the sinks confirm records once they have delivered them, and
 * a segment whose records are all confirmed is deleted.  On start, every
 * record that was never confirmed is replayed.
 *
 * Files in spool_dir:
 *   seg-<first seq, 16 hex>.log   append-only records, each
 *                                 [magic u32][len u32][seq u64][crc32 u32][body len]
 *                                 crc32 (zlib) covers seq, len and body
 *   seg-<first seq>.ack           a 4 KiB header ("TGACK2\n", u32 sink count, the
 *                                 sinks' names, 32 bytes each), then per sink one
 *                                 bit per record (seq - first seq), set when that
 *                                 sink confirmed it; written through a shared
 *                                 mapping, so it survives a kill -9 without a
 *                                 syscall per bit.  A record is confirmed when
 *                                 all the sinks' bits are set
 *   lock                          flock()ed while a process owns the spool
 * A torn or corrupt record (crash mid-write, a flipped bit) fails its
 * checksum: it is reported with file and offset, counted, skipped and never
 * parsed; reading resumes at the next record whose header and checksum are
 * valid.
 *
 * Durability (`fsync` in [collector]):
 *   always    tg_spool_commit() returns once an fdatasync covers the record;
 *             concurrent committers share one fdatasync (group commit)
 *   interval  the record is in the kernel when tg_spool_append returns (it
 *             survives a crash of the collector); a background thread
 *             fdatasyncs every fsync_interval_ms (a power loss loses at most
 *             that window).  Waiting for that thread inside a RELP callback
 *             would cap an engine at one message per interval.
 *   never     no fdatasync.
 * tg_spool_sync() forces a group fdatasync (omprog's transaction commit).
 *
 * Space: spool_max_bytes bounds the segment files; an append that does not
 * fit blocks until confirmed segments are deleted (backpressure), counted
 * and logged once per episode.
 *
 * Concurrency: every function may be called from any thread; one mutex
 * guards the segment list and the active file, fdatasync runs outside it.
 * One process owns a spool directory at a time (flock).
 */
#ifndef TG_SPOOL_H
#define TG_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"

/* Input types a record can come from (stored as a code). */
enum tg_spool_input {
    TG_SPOOL_IN_RELP = 1,
    TG_SPOOL_IN_OMPROG,
    TG_SPOOL_IN_FILE,
    TG_SPOOL_IN_STDIN,
};

/* One record as a source received it.  All pointers are borrowed. */
struct tg_spool_rec {
    enum tg_spool_input input;
    struct tg_str peer; /* RELP peer IP, file path, or absent */
    struct tg_time received;
    bool truncated; /* the source cut it at its size limit */
    const char *data;
    size_t len;
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
    uint64_t bytes, segments; /* current */
    bool full;                /* an append is waiting for room now (spool_max_bytes) */
};

struct tg_spool;

/*
 * Open (creating) the spool directory, lock it, scan the existing segments
 * (reporting corrupt records) and start the fsync thread.  0, TG_EIO (cannot
 * create/read; logged with the path) or TG_EFULL (another process holds the
 * lock; logged).
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
 * above for what tg_spool_commit adds).  0 or TG_EIO (logged).
 */
int tg_spool_append(struct tg_spool *sp, const struct tg_spool_rec *rec, uint64_t *seq);

/* Wait until `seq` is durable per the fsync policy.  0 or TG_EIO. */
int tg_spool_commit(struct tg_spool *sp, uint64_t seq);

/* Force one group fdatasync of everything appended so far (no-op with fsync = never). */
int tg_spool_sync(struct tg_spool *sp);

/*
 * Sink number `sink` delivered record `seq` (pipeline conf.on_confirm; ctx
 * is the spool).  Out-of-order and repeated confirmations are fine.
 */
void tg_spool_confirm(void *spool, uint64_t seq, size_t sink);

/* Build the pipeline event for a record (spool_seq = seq).  Caller owns it. */
struct tg_event *tg_spool_event(const struct tg_spool_rec *rec, uint64_t seq);

void tg_spool_stats(struct tg_spool *sp, struct tg_spool_stats *st);

/*
 * Stop the fsync thread, sync (unless fsync = never), delete fully confirmed
 * segments, unlock and free.  No other call may be running.
 */
void tg_spool_close(struct tg_spool *sp);

#endif
