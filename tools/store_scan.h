/*
 * store_scan.h - the parallel scan of the file store behind `query`: which
 * gzip members to read, read on all cores, checked against the chain, the
 * matches handed back in store order.
 *
 * The main thread walks the segments and their sidecar entries in order
 * and skips what cannot match without reading it: a closed segment whose
 * .idx lies outside --since/--until, a member whose entry's time range
 * does, and a member whose skip index (sinks/skipidx.h) proves it holds no
 * value a filter asks for.  Both are covered by the member's seal, so an
 * altered range or index breaks the chain (verify says so) and a skipped
 * member never needs checking: nothing of it is returned.  The members left
 * go to worker threads (one per core), each of which reads the member
 * whole (segment.h: tg_seg_member_read), tests each record (store_read.h:
 * raw prefilter, then the fields) and renders the matches.  A member with a
 * match is then checked against its sidecar entry -- its record count, the
 * fingerprints and, unless the chain is keyed and no key was given, the
 * links from the previous entry's link through its seal -- and only a
 * member that checks out hands its matches on, so a record verify would not
 * vouch for is never returned.  The main thread emits the members' matches
 * in store order.  At most 4 members per worker are in flight: memory is
 * bounded by a few members, whatever the store's size.
 *
 * Follow mode (query --follow) goes on at the end of the newest segment:
 * it takes in the entries the writer appends (each member checked like any
 * other) and moves on to the next segment when the writer rotates.
 */
#ifndef TG_STORE_SCAN_H
#define TG_STORE_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "tools/store_read.h"

struct tg_scan_stats {
    uint64_t segments, skipped; /* segments seen / skipped by their index (time) */
    uint64_t members_skipped;   /* members skipped by their entry's time range */
    uint64_t members_index;     /* members skipped by their skip index */
    uint64_t members_read;      /* members decompressed */
    uint64_t members_checked;   /* of them, checked against the chain (they had a match) */
    uint64_t bytes, raw_bytes;  /* compressed bytes read, NDJSON produced */
    uint64_t records, matched;  /* records tested, records that matched */
    uint64_t damaged;           /* segments not read completely (damaged, cut short, no chain) */
    double seconds;
};

struct tg_scan_opts {
    const struct tg_filter *f; /* compiled (tg_filter_done), with every field render reads */
    const uint8_t *key0;       /* k_0, to check HMAC links; NULL: unkeyed links only */
    bool progress;             /* a progress line on stderr (a terminal) after a second */
    bool follow;               /* go on with what the writer appends (see above) */
    /* worker threads: append what record r contributes (its output line, a
     * count-by key) to out; ctx is only read */
    void (*render)(void *ctx, struct tg_record *r, struct tg_buf *out);
    /* main thread, store order: one match's rendered bytes; false stops */
    bool (*emit)(void *ctx, const char *p, size_t n);
    /* main thread, follow mode: the matches up to now are emitted (flush) */
    void (*idle)(void *ctx);
    void *ctx;
};

/*
 * Scan the store in `dir` (see above).  A damaged segment is reported on
 * stderr (run verify) and counted in st->damaged; the scan goes on with the
 * next.  0, or TG_EIO (errno) when dir cannot be listed.  In follow mode it
 * returns only when emit says stop.
 */
int tg_store_scan(const char *dir, const struct tg_scan_opts *o, struct tg_scan_stats *st);

#endif
