/*
 * segment.h - the on-disk format of the file store (format 2), shared by the
 * writer (sinks/out_file.c) and the readers (tools/: query, export, verify).
 *
 * A store directory holds, per segment N (1, 2, 3, ... never reused):
 *
 *   seg-NNNNNNNNNN.ndjson.gz  the events: gzip members, each a run of
 *   or seg-NNNNNNNNNN.ndjson.zst  complete NDJSON lines (one event each);
 *                             in a .zst file each member is one zstd frame
 *                             (with its content size and checksum).  One
 *                             member per flush, so every flushed event can be
 *                             read after a crash; `zcat` (`zstdcat`) reads
 *                             the concatenation.  Nothing but events is in
 *                             it.  The writer picks the compression
 *                             ([sink.file] compression) when it opens a
 *                             segment, so a store written across a change of
 *                             it holds segments of both kinds; a segment has
 *                             exactly one data file.
 *   seg-NNNNNNNNNN.chain      the chain sidecar (binary, little-endian):
 *                               header, TG_SEG_HDR_LEN (96) bytes:
 *                                 "TGCHAIN2" | u32 flags (1 = keyed) | u32 0 |
 *                                 u64 segment | u64 first record index |
 *                                 u64 first member index | store id[16] |
 *                                 prev link[32] (the chain before it) | u64 0
 *                               then one entry per member, appended
 *                               (one write) after the member was written:
 *                                 "TGM2" | u32 records | u64 end offset of
 *                                 the member in the data file | i64 min time
 *                                 | i64 max time (ns since the epoch, of
 *                                 @timestamp; INT64_MAX/MIN when none) |
 *                                 u32 ext length | u32 0 | link[32] after the
 *                                 member's seal | u32 CRC-32 of each record,
 *                                 `records` times | ext bytes (a member's
 *                                 skip index, sinks/skipidx.h)
 *                               A shorter tail is a torn write (crash).
 *   seg-NNNNNNNNNN.idx        written when the segment is closed: one JSON
 *                             object summing the sidecar up (records,
 *                             members, bytes, time range, links), so a
 *                             reader can skip the segment by time without
 *                             reading the sidecar.  Derived: verify checks
 *                             it against the sidecar.
 *   chain.head                one fixed-length line, overwritten in place
 *                             after every flush once the data is synced: the
 *                             newest segment, the records and members stored
 *                             and the link after the last seal.
 *   checkpoints.ndjson        the checkpoints (sinks/checkpoint.h), one JSON
 *                             line each, appended.
 *   .lock                     flock()ed by the one writer.
 *
 * The chain (chain.h) runs over every record of the store and, after each
 * member, over the member's seal: its descriptor (store id, segment,
 * member number, first record index, record count, start and end offset,
 * time range, the fingerprints and the ext bytes).  So everything a reader
 * trusts about a member (where it is, how many records it holds, when they
 * are) is covered by the links: an edit anywhere makes the recomputed link
 * differ.  The CRC-32 fingerprints (covered too) let verify say *which*
 * record was changed, removed, inserted or reordered.
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

#define TG_SEG_HDR_LEN      96
#define TG_SEG_ENTRY_LEN    72
#define TG_SEG_STORE_ID_LEN 16
#define TG_SEG_HEAD_FILE    "chain.head"
#define TG_SEG_LOCK_FILE    ".lock"

/* The files of a segment.  The data file is of one of two kinds, by its
 * compression: TG_SEG_GZ (gzip members) or TG_SEG_ZST (zstd frames). */
enum tg_seg_kind { TG_SEG_GZ = 0, TG_SEG_CHAIN, TG_SEG_INDEX, TG_SEG_ZST, TG_SEG_KINDS };

/* "DIR/seg-NNNNNNNNNN.<ext>" for the kind, malloc'd. */
char *tg_seg_path(const char *dir, uint64_t seq, enum tg_seg_kind kind);
/* The file name (without DIR) into out (at least 32 bytes). */
const char *tg_seg_name(uint64_t seq, enum tg_seg_kind kind, char out[32]);

/* One segment number found in a directory, and which of its files exist. */
struct tg_seg_entry {
    uint64_t seq;
    bool has[TG_SEG_KINDS]; /* indexed by enum tg_seg_kind */
};

/* Does the segment have a data file (of either kind)? */
static inline bool tg_seg_has_data(const struct tg_seg_entry *e)
{
    return e->has[TG_SEG_GZ] || e->has[TG_SEG_ZST];
}
/* The kind of its data file: TG_SEG_ZST when a .ndjson.zst exists, else
 * TG_SEG_GZ (also when there is none).  A segment with both is damaged
 * (verify says so); readers then take the .zst. */
static inline enum tg_seg_kind tg_seg_data_kind(const struct tg_seg_entry *e)
{
    return e->has[TG_SEG_ZST] ? TG_SEG_ZST : TG_SEG_GZ;
}

/* The kind of segment seq's data file in dir, as tg_seg_data_kind: the
 * .ndjson.zst when it exists, else the .ndjson.gz (also when neither does:
 * the writer creates it right after the sidecar). */
enum tg_seg_kind tg_seg_data_kind_in(const char *dir, uint64_t seq);

/* List the segments of `dir` sorted by number.  0 (caller frees *out), or
 * TG_EIO with errno set. */
int tg_seg_list(const char *dir, struct tg_seg_entry **out, size_t *n);

/* --- the chain sidecar */
struct tg_seg_header {
    uint64_t seq;
    uint64_t first_index;  /* records in the store before this segment */
    uint64_t first_member; /* members in the store before this segment */
    bool keyed;
    uint8_t store_id[TG_SEG_STORE_ID_LEN];
    uint8_t prev[TG_LINK_LEN];
};

struct tg_seg_member {
    uint32_t records;
    uint64_t start_offset; /* derived: the previous member's end (0 for the first) */
    uint64_t end_offset;
    int64_t min_ns, max_ns;
    uint8_t link[TG_LINK_LEN]; /* after the seal */
    size_t first_fp;           /* index of its first fingerprint in tg_sidecar.fp */
    uint32_t ext_len;
    size_t ext_off;     /* its ext bytes in tg_sidecar.ext */
    uint64_t entry_pos; /* byte offset of its entry in the sidecar file */
};

void tg_seg_header_encode(const struct tg_seg_header *h, uint8_t out[TG_SEG_HDR_LEN]);
/* Append one member entry (header + fingerprints + ext) to `out`. */
void tg_seg_member_encode(struct tg_buf *out, const struct tg_seg_member *m, const uint32_t *fp,
                          const void *ext);

/*
 * The seal of member `index` (0-based within the segment) of segment h: the
 * message the chain absorbs after the member's records (tg_chain_seal).
 * m->start_offset must be set.  Replaces `out`'s contents.
 */
void tg_seg_seal_message(struct tg_buf *out, const struct tg_seg_header *h, uint64_t index,
                         uint64_t first_record, const struct tg_seg_member *m, const uint32_t *fp,
                         const void *ext);

/* A whole sidecar in memory (4 bytes per record). */
struct tg_sidecar {
    struct tg_seg_header hdr;
    struct tg_seg_member *m;
    size_t nm;
    uint32_t *fp;
    size_t nfp; /* records claimed by the complete entries */
    uint8_t *ext;
    size_t next;
    uint64_t good_len; /* bytes of header + complete entries (0: no complete header) */
    uint64_t torn_len; /* bytes after them: a torn last write (0 normally) */
};

/* Load a sidecar.  0; TG_EIO (errno); TG_ECORRUPT when the header or an entry
 * is not of this format (*where = byte offset); TG_EVERSION when it is of the
 * earlier format 1. */
int tg_sidecar_load(const char *path, struct tg_sidecar *sc, uint64_t *where);
void tg_sidecar_free(struct tg_sidecar *sc);
/* Records of the store after member i of sc. */
static inline uint64_t tg_sidecar_records_after(const struct tg_sidecar *sc, size_t i)
{
    return sc->hdr.first_index + sc->m[i].first_fp + sc->m[i].records;
}

/* Reading a sidecar's member entries one at a time (constant memory): the
 * readers use it to skip members by time.  The fingerprints and ext bytes of
 * an entry are read only when asked for. */
struct tg_sidecar_cursor {
    int fd;
    uint64_t pos, size;
    uint64_t end;    /* the current entry's data end offset (the next start) */
    uint64_t index;  /* entries returned so far */
    uint64_t fp_pos; /* file offset of the current entry's fingerprints */
    struct tg_seg_header hdr;
};
/* 0; TG_EIO (errno); TG_ECORRUPT when there is no complete header;
 * TG_EVERSION for format 1. */
int tg_sidecar_cursor_open(const char *path, struct tg_sidecar_cursor *c);
/* 1 with *m (first_fp and ext_off 0, start_offset set), 0 at the end (a torn
 * last entry ends it too), TG_ECORRUPT or TG_EIO. */
int tg_sidecar_cursor_next(struct tg_sidecar_cursor *c, struct tg_seg_member *m);
/* The fingerprints and ext bytes of the entry just returned (m from next),
 * into fp (m->records) and ext (m->ext_len).  0 or TG_EIO. */
int tg_sidecar_cursor_detail(struct tg_sidecar_cursor *c, const struct tg_seg_member *m,
                             uint32_t *fp, void *ext);
/* The same for any entry m returned by a cursor on the sidecar open as fd
 * (pread: any thread may call it); fp or ext may be NULL to skip them. */
int tg_sidecar_entry_detail(int fd, const struct tg_seg_member *m, uint32_t *fp, void *ext);
/* Take in what the writer appended since the cursor was opened (a reader
 * following a live segment).  0 or TG_EIO. */
int tg_sidecar_cursor_refresh(struct tg_sidecar_cursor *c);
void tg_sidecar_cursor_close(struct tg_sidecar_cursor *c);

/* The fingerprint of a record (without its LF). */
uint32_t tg_seg_fingerprint(const void *rec, size_t len);

/* --- the closed-segment index */
struct tg_seg_index {
    uint64_t seq, first_index, first_member, records, members, bytes;
    int64_t min_ns, max_ns; /* INT64_MAX / INT64_MIN when no record had a time */
    bool keyed;
    uint8_t prev[TG_LINK_LEN], last[TG_LINK_LEN];
};

/* The index of a whole sidecar whose data ends at `bytes`. */
void tg_seg_index_of(const struct tg_sidecar *sc, struct tg_seg_index *ix);
/* Write `path` atomically (temporary file, fsync when `sync`, rename); files
 * 0640.  0 or TG_EIO with errno set. */
int tg_seg_index_write(const char *path, const struct tg_seg_index *ix, bool sync);
/* 0, TG_EIO (errno), or TG_ECORRUPT when it is not a valid index. */
int tg_seg_index_read(const char *path, struct tg_seg_index *ix);
/* Same content? */
bool tg_seg_index_equal(const struct tg_seg_index *a, const struct tg_seg_index *b);

/* --- chain.head */
struct tg_seg_head {
    uint64_t seq, records, members;
    uint8_t link[TG_LINK_LEN];
};
#define TG_SEG_HEAD_LEN 192
/* The fixed-length line (exactly TG_SEG_HEAD_LEN bytes, LF-terminated). */
void tg_seg_head_format(const struct tg_seg_head *h, char out[TG_SEG_HEAD_LEN + 1]);
/* 0, TG_ENOENT, TG_EIO, or TG_ECORRUPT. */
int tg_seg_head_read(const char *dir, struct tg_seg_head *h);

/* --- records */
/* Time of a record's "@timestamp" (ns since the epoch); 0 or TG_ENOENT. */
int tg_seg_record_time(const char *rec, size_t len, int64_t *ns);
/* Widen [*mn, *mx] by the time of rec, if it has one. */
void tg_seg_time_span(const char *rec, size_t len, int64_t *mn, int64_t *mx);

/* --- compressing a member */
struct tg_seg_packer; /* one writer's compressor */
/* A compressor for data files of `kind` (TG_SEG_GZ: gzip via libdeflate,
 * level 1-9; TG_SEG_ZST: one zstd frame with content size and checksum,
 * level 1-19). */
struct tg_seg_packer *tg_seg_packer_new(enum tg_seg_kind kind, int level);
void tg_seg_packer_free(struct tg_seg_packer *p);
/* Compress [raw, raw+len) into out (replacing its contents): one complete
 * member.  Never fails (aborts on OOM). */
void tg_seg_pack(struct tg_seg_packer *p, const void *raw, size_t len, struct tg_buf *out);

/* --- reading one member whole (the readers' fast path) */
/* The most NDJSON one member may decompress to: the writer's members are
 * bounded far below it (out_file.c), so more is damage. */
#define TG_SEG_MEMBER_MAX_RAW (256u << 20)
struct tg_seg_inflater; /* per thread: the decompressors and a buffer */
struct tg_seg_inflater *tg_seg_inflater_new(void);
void tg_seg_inflater_free(struct tg_seg_inflater *z);
/*
 * Read the member [start, end) of the data file of `kind` (TG_SEG_GZ or
 * TG_SEG_ZST) open as fd (pread: threads may share fd) and decompress it
 * into out (replacing its contents).  The bytes must be exactly one
 * complete member whose checks pass: a gzip member's CRC and size
 * (libdeflate, the writer's library: about 4 times zlib's speed), or one
 * zstd frame (no skippable frame) with its content size and checksum.
 * This and tg_seg_pack are the places that know how a member is
 * compressed.  0, TG_ETRUNC (the file ends before `end`), TG_ECORRUPT (not
 * one valid member of that length), or TG_EIO (errno).
 */
int tg_seg_member_read(struct tg_seg_inflater *z, int fd, enum tg_seg_kind kind, uint64_t start,
                       uint64_t end, struct tg_buf *out);

/* --- reading a segment's events */
enum tg_seg_item {
    TG_SEG_END = 0,    /* clean end of the file (after a complete member) */
    TG_SEG_RECORD = 1, /* *rec is the next record (without LF) */
    TG_SEG_MEMBER = 2, /* a member ended (tg_seg_reader_offset: its end) */
};
struct tg_seg_reader;

/* Open a data file of `kind` (TG_SEG_GZ or TG_SEG_ZST) for sequential
 * reading.  0 or TG_EIO (errno). */
int tg_seg_reader_open(const char *path, enum tg_seg_kind kind, struct tg_seg_reader **out);
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
