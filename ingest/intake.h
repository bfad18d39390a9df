/*
 * intake.h - the one way bytes become events, whichever way they arrive
 * (SPEC.md sections 3, 5, 6).
 *
 * Every source hands its bytes here with where they came from: a message
 * source (RELP, omprog, the internal source) one record at a time
 * (tg_intake_message), a stream source (a followed file, `ingest`'s files
 * and stdin) the bytes of one file as it reads them (tg_intake_stream_*).
 * The spool's replay comes back through here too (tg_intake_replay).  The
 * intake does, once for all of them:
 *   framing  a stream is split into lines (ingest/lines.h) and the lines into
 *            records by parsers/framer.h (pretty-printed JSON objects, snoopy
 *            argv with newlines); a message is one record as it is
 *   limit    one record size limit, TG_RECORD_MAX (core/limits.h), or a
 *            source's lower one ([input.relp] max_message): a longer record
 *            is cut there and marked truncated, never dropped
 *   salt     a stream record's event.id includes its origin: the stream's
 *            identity (the file's inode and how often it was truncated, or
 *            "stdin") and the byte offset of its first line -- a re-read after
 *            a restart is a duplicate, an identical line elsewhere is not.
 *            Message records are not salted: a RELP resend is a duplicate
 *   spool    the record is appended (and, when the source acknowledges,
 *            committed per the fsync policy before tg_intake_message returns)
 *   event    built from the record as stored, the same for a replayed one,
 *            and handed to the pipeline through the source's own batch
 * The origin is stored with the record in the spool (tg_spool_rec.origin):
 * [format][salt], format being the enum tg_format the source parses its
 * records with ([input.file] format, ingest --format), so a replayed record
 * is parsed as it would have been.  A record of the internal source is
 * parsed as one (parsers/internal.h) and by nothing else.
 *
 * Threads: the intake is shared; a struct tg_intake_src and its streams
 * belong to one source thread at a time (tg_intake_flush and the stats may
 * be called from any thread).
 */
#ifndef TG_INTAKE_H
#define TG_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pipeline.h"
#include "core/spool.h"
#include "ingest/source.h"
#include "parsers/parse.h"

struct tg_intake;
struct tg_intake_src;
struct tg_intake_stream;

struct tg_intake_conf {
    struct tg_pipeline *pipe;
    struct tg_spool *spool;                /* NULL: records are not spooled (ingest) */
    const struct tg_parsers_conf *parsers; /* [parsers] */
    /* every source, to name a replayed record's input type by its code */
    const struct tg_source_ops *const *sources;
    size_t nsources;
};

/* Build the parse contexts and the replay source.  0, or TG_ECONFIG with
 * *err set (a [parsers] snoopy_format that does not compile; caller frees). */
int tg_intake_new(const struct tg_intake_conf *conf, struct tg_intake **out, char **err);
/* After the sources and the pipeline have stopped. */
void tg_intake_free(struct tg_intake *in);
/* The parse context of a format (read-only, for any worker). */
const struct tg_parse_ctx *tg_intake_parser(const struct tg_intake *in, enum tg_format f);
/* Submit every source's partial batch (the serve loop, every few ms). */
void tg_intake_flush(struct tg_intake *in);
/* Sources that store with retries give up from now on (shutdown). */
void tg_intake_stopping(struct tg_intake *in);

/*
 * Replay every record the spool holds unconfirmed as its event (sinks that
 * confirmed it skip it), through the same path as a new record.  Once,
 * before the sources start (omprog: beside them).  Returns the number.
 */
uint64_t tg_intake_replay(struct tg_intake *in);

/* --- sources */

struct tg_intake_src_conf {
    const struct tg_source_ops *ops; /* its input type and spool code */
    const char *label;               /* names it in messages, e.g. "[input.relp] :2514" */
    int64_t max_record;              /* its limit; 0 (or above TG_RECORD_MAX): TG_RECORD_MAX */
    enum tg_format format;           /* how its records are parsed */
    /* its records and bytes in /metrics as input="METRICS_LABEL" (its
     * section, e.g. "input.relp.tls", or "omprog"; core/metrics.h), with
     * the sessions on metrics_port when it listens (0: none).  NULL: not in
     * /metrics (`ingest`, tests). */
    const char *metrics_label;
    uint16_t metrics_port;
};

/* A source's handle (label copied).  Main thread, before it feeds. */
struct tg_intake_src *tg_intake_src_new(struct tg_intake *in, const struct tg_intake_src_conf *c);
/* Submit its partial batch and free it (its streams are freed first). */
void tg_intake_src_free(struct tg_intake_src *s);
/* Submit its partial batch now (its source has nothing more ready). */
void tg_intake_src_flush(struct tg_intake_src *s);

/* tg_intake_message / tg_intake_announced flags:
 *   COMMIT  return once the record is durable per the fsync policy (the source
 *           acknowledges it then)
 *   NOWAIT  a spool that refuses the record: fail at once (else retry until
 *           it is stored, or the intake is stopping)
 *   LATER   the pipeline has drained: only spool it, for the next start's
 *           replay (no spool: TG_ENOENT, not kept) */
#define TG_INTAKE_COMMIT 1u
#define TG_INTAKE_NOWAIT 2u
#define TG_INTAKE_LATER  4u

/*
 * One record of a message source, from `peer` (RELP: the sender's IP;
 * absent: none).  Spooled (retrying while the spool refuses, unless
 * TG_INTAKE_NOWAIT or the intake is stopping), then handed to the
 * pipeline; may block on backpressure.  0, or TG_EIO: not stored (logged):
 * the sender must not be acknowledged.
 */
int tg_intake_message(struct tg_intake_src *s, struct tg_str peer, const char *p, size_t n,
                      unsigned flags);
/*
 * An internal record announced by sink `sink` (SIZE_MAX: by no sink): as a
 * message, and confirmed for that sink in the spool at once, its event
 * marked done for it -- the sink never gets its own record back, not on a
 * replay either.
 */
int tg_intake_announced(struct tg_intake_src *s, const char *p, size_t n, size_t sink,
                        unsigned flags);
/* Wait until this source's last record is durable (fsync policy).  0 or TG_EIO. */
int tg_intake_commit(struct tg_intake_src *s);
/* One group fsync of the spool (omprog's transaction commit).  0 or TG_EIO. */
int tg_intake_sync(struct tg_intake_src *s);

struct tg_intake_stats {
    uint64_t records, bytes, truncated, skipped, spool_retries;
};
/* What source s took since tg_intake_src_new (its /metrics counters go on
 * across a restart of the same input; these do not).  Any thread. */
void tg_intake_src_stats(const struct tg_intake_src *s, struct tg_intake_stats *st);

/* --- streams: the bytes of one file (one inode) or of stdin, in order */

/*
 * Begin a stream of source s at byte `off` (where reading resumes), its
 * records from `peer` (the file's path; absent for stdin), its origin
 * `identity` ("<inode>.<truncations>" for a file, "stdin"); both copied.
 */
struct tg_intake_stream *tg_intake_stream_new(struct tg_intake_src *s, struct tg_str peer,
                                              struct tg_str identity, uint64_t off);
/* The next n bytes of the stream.  0, or TG_EIO once a record could not be
 * stored (the intake is stopping); the stream takes nothing after that. */
int tg_intake_stream_feed(struct tg_intake_stream *st, const char *p, size_t n);
/* Nothing more to read for now: a complete record the framer holds goes on. */
int tg_intake_stream_idle(struct tg_intake_stream *st);
/* The end of the stream: everything held goes on, a last line without LF too. */
int tg_intake_stream_end(struct tg_intake_stream *st);
/* Where to read again after a restart: the offset before which every record
 * is stored (a line or record still held is read again). */
uint64_t tg_intake_stream_resume(const struct tg_intake_stream *st);
/* Bytes of the stream taken so far (its offset). */
uint64_t tg_intake_stream_offset(const struct tg_intake_stream *st);
void tg_intake_stream_free(struct tg_intake_stream *st);

#endif
