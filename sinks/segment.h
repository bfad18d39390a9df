/*
 * segment.h - the on-disk format of the file store, shared by the writer
 * (sinks/out_file.c) and the readers (tools/: query, export, verify).
 *
 * A store directory holds, per segment N (1, 2, 3, ... never reused):
 *
 *   seg-NNNNNNNNNN.ndjson.gz  the events: gzip members, each a run of
 *                             complete NDJSON lines (one event each).  One
 *                             member per flush, so every flushed event can be
 *                             read after a crash; `zcat` reads the
 *                             concatenation.  Nothing but events is in it.
 *   seg-NNNNNNNNNN.chain      the chain sidecar (binary, little-endian):
 *                               header, 64 bytes:
 *                                 "TGCHAIN1" | u32 flags (1 = keyed) | u32 0 |
 *                                 u64 segment | u64 first record index |
 *                                 prev link[32] (link of the record before)
 *                               then one entry per gzip member, appended after
 *                               the member was written:
 *                                 "TGM1" | u32 records | u64 end offset of the
 *                                 member in the .ndjson.gz | i64 min time |
 *                                 i64 max time (ns since the epoch, of
 *                                 @timestamp; INT64_MAX/MIN when none) |
 *                                 link[32] after the member's last record |
 *                                 u32 CRC-32 of each record, `records` times
 *                               An entry is one write(); a shorter tail is a
 *                               torn write (crash), never a valid entry.
 *   seg-NNNNNNNNNN.idx        written when the segment is closed: one JSON
 *                             object (segment, records, members, bytes,
 *                             min/max time as RFC 3339 and as ns, first
 *                             record index, prev and last link, keyed).
 *                             Readers skip a segment by time from it without
 *                             opening the data; verify checks it.
 *   chain.head                one fixed-length line, overwritten in place
 *                             after every flush: the newest segment, the
 *                             number of records in the store and the link of
 *                             the last one.  It lets verify notice that the
 *                             newest segment or its last members were removed.
 *   .lock                     flock()ed by the one writer.
 *
 * The links are those of chain.h; the CRC-32 fingerprints only let verify
 * say *which* record was changed, removed, inserted or reordered (the
 * cryptographic check is the links).  The links live outside the segment,
 * so verify recomputes them from the records and compares, rather than
 * trusting anything the segment says about itself.
 *
 * Functions here are pure format code: no policy, no logging.  A reader
 * belongs to one thread.
 */
#ifndef TG_SEGMENT_H
#define TG_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/chain.h"

#define TG_SEG_HDR_LEN   64
#define TG_SEG_ENTRY_LEN 64
#define TG_SEG_HEAD_FILE "chain.head"
#define TG_SEG_LOCK_FILE ".lock"

enum tg_seg_kind { TG_SEG_DATA = 0, TG_SEG_CHAIN, TG_SEG_INDEX };

/* "DIR/seg-NNNNNNNNNN.<ext>" for the kind, malloc'd. */
char *tg_seg_path(const char *dir, uint64_t seq, enum tg_seg_kind kind);
/* The file name (without DIR) into out (at least 32 bytes). */
const char *tg_seg_name(uint64_t seq, enum tg_seg_kind kind, char out[32]);

/* One segment number found in a directory, and which of its files exist. */
struct tg_seg_entry {
    uint64_t seq;
    bool has[3]; /* indexed by enum tg_seg_kind */
};

/* List the segments of `dir` sorted by number.  0 (caller frees *out), or
 * TG_EIO with errno set. */
int tg_seg_list(const char *dir, struct tg_seg_entry **out, size_t *n);

/* --- the chain sidecar */
struct tg_seg_header {
    uint64_t seq;
    uint64_t first_index;
    bool keyed;
    uint8_t prev[TG_LINK_LEN];
};

struct tg_seg_member {
    uint32_t records;
    uint64_t end_offset;
    int64_t min_ns, max_ns;
    uint8_t link[TG_LINK_LEN];
    size_t first_fp; /* index of its first fingerprint in tg_sidecar.fp */
};

void tg_seg_header_encode(const struct tg_seg_header *h, uint8_t out[TG_SEG_HDR_LEN]);
/* Append one member entry (header + fingerprints) to `out`. */
void tg_seg_member_encode(struct tg_buf *out, const struct tg_seg_member *m, const uint32_t *fp);

/* A whole sidecar in memory (4 bytes per record). */
struct tg_sidecar {
    struct tg_seg_header hdr;
    struct tg_seg_member *m;
    size_t nm;
    uint32_t *fp;
    size_t nfp;        /* records claimed by the complete entries */
    uint64_t good_len; /* bytes of header + complete entries */
    uint64_t torn_len; /* bytes after them: a torn last write (0 normally) */
};

/* Load a sidecar.  0; TG_EIO (errno); TG_ECORRUPT when the header or an entry
 * is not of this format (*where = byte offset). */
int tg_sidecar_load(const char *path, struct tg_sidecar *sc, uint64_t *where);
void tg_sidecar_free(struct tg_sidecar *sc);

/* Reading a sidecar's member entries one at a time (constant memory; the
 * fingerprints are skipped): the readers use it to skip members by time. */
struct tg_sidecar_cursor {
    int fd;
    uint64_t pos, size;
    struct tg_seg_header hdr;
};
/* 0; TG_EIO (errno); TG_ECORRUPT when there is no complete header. */
int tg_sidecar_cursor_open(const char *path, struct tg_sidecar_cursor *c);
/* 1 with *m (first_fp is 0), 0 at the end (a torn last entry ends it too),
 * TG_ECORRUPT or TG_EIO. */
int tg_sidecar_cursor_next(struct tg_sidecar_cursor *c, struct tg_seg_member *m);
void tg_sidecar_cursor_close(struct tg_sidecar_cursor *c);

/* The fingerprint of a record (without its LF). */
uint32_t tg_seg_fingerprint(const void *rec, size_t len);

/* --- the closed-segment index */
struct tg_seg_index {
    uint64_t seq, first_index, records, members, bytes;
    int64_t min_ns, max_ns; /* INT64_MAX / INT64_MIN when no record had a time */
    bool keyed;
    uint8_t prev[TG_LINK_LEN], last[TG_LINK_LEN];
};

/* Write `path` atomically (temporary file, fsync when `sync`, rename); files
 * 0640.  0 or TG_EIO with errno set. */
int tg_seg_index_write(const char *path, const struct tg_seg_index *ix, bool sync);
/* 0, TG_EIO (errno), or TG_ECORRUPT when it is not a valid index. */
int tg_seg_index_read(const char *path, struct tg_seg_index *ix);

/* --- chain.head */
struct tg_seg_head {
    uint64_t seq, records;
    uint8_t link[TG_LINK_LEN];
};
#define TG_SEG_HEAD_LEN 160
/* The fixed-length line (exactly TG_SEG_HEAD_LEN bytes, LF-terminated). */
void tg_seg_head_format(const struct tg_seg_head *h, char out[TG_SEG_HEAD_LEN + 1]);
/* 0, TG_ENOENT, TG_EIO, or TG_ECORRUPT. */
int tg_seg_head_read(const char *dir, struct tg_seg_head *h);

/* --- records */
/* Time of a record's "@timestamp" (ns since the epoch); 0 or TG_ENOENT. */
int tg_seg_record_time(const char *rec, size_t len, int64_t *ns);

/* --- reading a segment's events */
enum tg_seg_item {
    TG_SEG_END = 0,    /* clean end of the file (after a complete member) */
    TG_SEG_RECORD = 1, /* *rec is the next record (without LF) */
    TG_SEG_MEMBER = 2, /* a gzip member ended (tg_seg_reader_offset: its end) */
};
struct tg_seg_reader;

/* Open a data file for sequential reading.  0 or TG_EIO (errno). */
int tg_seg_reader_open(const char *path, struct tg_seg_reader **out);
/*
 * Next item (enum tg_seg_item), or TG_ETRUNC when the file ends inside a
 * member (torn tail), TG_ECORRUPT when it does not decompress (changed
 * bytes), TG_EIO on a read error.  *rec stays valid until the next call.
 * Memory is bounded by the longest record.
 */
int tg_seg_reader_next(struct tg_seg_reader *r, struct tg_str *rec);
/* Compressed bytes consumed up to the end of the last complete member. */
uint64_t tg_seg_reader_offset(const struct tg_seg_reader *r);
/* Uncompressed bytes produced so far. */
uint64_t tg_seg_reader_raw_bytes(const struct tg_seg_reader *r);
/* Compressed bytes read from the file so far. */
uint64_t tg_seg_reader_in_bytes(const struct tg_seg_reader *r);
/* Continue reading at `offset`, which must be the start of a member (a
 * sidecar end offset).  0 or TG_EIO. */
int tg_seg_reader_seek(struct tg_seg_reader *r, uint64_t offset);
void tg_seg_reader_close(struct tg_seg_reader *r);

#endif
