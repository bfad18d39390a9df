/*
 * intake.c - records into the spool and events into the pipeline.  See
 * intake.h.
 *
 * One function stores a record (tg_intake_store: limit, origin, spool
 * append with retries, event) and one builds the event from a record as the
 * spool holds it (tg_intake_event), so a record from a source and the same
 * record replayed become the same event.  A stream runs its bytes through a
 * line splitter and a framer; the framer's records are stored in order, and
 * after a record could not be stored (shutdown) the stream takes nothing
 * more, so its resume offset is that record's.
 *
 * The list of sources (for tg_intake_flush) is guarded by a mutex; a
 * source's counters are atomics (read by the main thread for its summary).
 * Its records and bytes are counted once, here, in its row of /metrics
 * when it has one (core/metrics.h: the row outlives it, so a renderer never
 * reads freed memory), else in the source itself.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "ingest/intake.h"
#include "ingest/lines.h"
#include "parsers/framer.h"

struct tg_intake {
    struct tg_pipeline *pipe;
    struct tg_spool *spool;
    struct tg_parse_ctx *parse[TG_FMT_INTERNAL + 1];
    const struct tg_source_ops *const *sources;
    size_t nsources;
    struct tg_source *replay; /* the replay's batch */
    pthread_mutex_t mu;       /* guards srcs */
    struct tg_intake_src *srcs;
    atomic_bool stopping;
};

struct tg_intake_src {
    struct tg_intake *in;
    const struct tg_source_ops *ops;
    char *label;
    size_t max;
    enum tg_format format;
    struct tg_source *batch;
    uint64_t last_seq; /* its last spooled record */
    /* records and bytes: its own (its stats), and its row of /metrics,
     * which several sources may share (the engines of a RELP listener) */
    struct tg_input_counters own, *count;
    atomic_uint_fast64_t truncated, skipped, spool_retries;
    struct tg_intake_src *next;
};

struct tg_intake_stream {
    struct tg_intake_src *src;
    struct tg_str peer, identity; /* heap copies */
    struct tg_lines lines;
    struct tg_framer *framer;
    bool failed;         /* a record could not be stored: take nothing more */
    uint64_t failed_pos; /* that record's position */
};

int tg_intake_new(const struct tg_intake_conf *conf, struct tg_intake **out, char **err)
{
    struct tg_intake *in = tg_xcalloc(1, sizeof(*in));
    in->pipe = conf->pipe;
    in->spool = conf->spool;
    in->sources = conf->sources;
    in->nsources = conf->nsources;
    pthread_mutex_init(&in->mu, NULL);
    for (int f = TG_FMT_AUTO; f <= TG_FMT_INTERNAL; f++) {
        in->parse[f] = tg_parse_ctx_new(conf->parsers, (enum tg_format)f, err);
        if (!in->parse[f]) {
            tg_intake_free(in);
            return TG_ECONFIG;
        }
    }
    in->replay = tg_pipeline_source(in->pipe);
    *out = in;
    return 0;
}

void tg_intake_free(struct tg_intake *in)
{
    if (!in)
        return;
    while (in->srcs)
        tg_intake_src_free(in->srcs);
    for (int f = TG_FMT_AUTO; f <= TG_FMT_INTERNAL; f++)
        tg_parse_ctx_free(in->parse[f]);
    pthread_mutex_destroy(&in->mu);
    free(in);
}

const struct tg_parse_ctx *tg_intake_parser(const struct tg_intake *in, enum tg_format f)
{
    return in->parse[f];
}

void tg_intake_flush(struct tg_intake *in)
{
    pthread_mutex_lock(&in->mu);
    for (struct tg_intake_src *s = in->srcs; s; s = s->next)
        tg_source_flush(s->batch);
    pthread_mutex_unlock(&in->mu);
}

void tg_intake_stopping(struct tg_intake *in)
{
    atomic_store(&in->stopping, true);
}

/* The event of a record as the spool holds it (the same for a new record
 * and a replayed one), made in batch `to`'s memory and handed to it.  The
 * source's thread. */
static void tg_intake_event(struct tg_intake *in, struct tg_source *to,
                            const struct tg_spool_rec *rec, uint64_t seq, unsigned sinks_done)
{
    struct tg_input_meta meta = {.type = "unknown", .peer = rec->peer};
    for (size_t i = 0; i < in->nsources; i++)
        if (in->sources[i]->code == rec->input)
            meta.type = in->sources[i]->name;
    enum tg_format f = TG_FMT_AUTO;
    struct tg_str salt = TG_STR_NULL;
    if (rec->origin.p && rec->origin.len > 0 && (uint8_t)rec->origin.p[0] < TG_FMT_INTERNAL) {
        f = (enum tg_format)rec->origin.p[0];
        if (rec->origin.len > 1)
            salt = tg_str_make(rec->origin.p + 1, rec->origin.len - 1);
    }
    if (rec->input == TG_SPOOL_IN_INTERNAL) /* the source decides, never the record */
        f = TG_FMT_INTERNAL;
    struct tg_event *ev = tg_source_begin(to, rec->data, rec->len, &meta, rec->received);
    ev->truncated = rec->truncated;
    ev->spool_seq = seq;
    ev->sinks_done = (uint8_t)sinks_done;
    ev->parser = in->parse[f];
    if (salt.p)
        ev->id_salt = tg_event_strdup(ev, salt.p, salt.len);
    tg_source_commit(to);
}

/* Append rec, retrying while the spool refuses (see intake.h).  0 or TG_EIO. */
static int tg_intake_spool(struct tg_intake_src *s, const struct tg_spool_rec *rec, unsigned flags,
                           uint64_t *seq)
{
    struct tg_spool *sp = s->in->spool;
    unsigned tries = 0;
    int rc;
    while ((rc = tg_spool_append(sp, rec, seq)) != 0 ||
           ((flags & TG_INTAKE_COMMIT) && tg_spool_commit(sp, *seq) != 0)) {
        atomic_fetch_add(&s->spool_retries, 1);
        if (rc == TG_EINVAL) /* never storable (the spool logged why): no retry helps */
            return TG_EIO;
        if (flags & TG_INTAKE_NOWAIT)
            return TG_EIO;
        if (atomic_load(&s->in->stopping)) {
            tg_err("%s: the spool refuses records while stopping; this one is not stored",
                   s->label);
            return TG_EIO;
        }
        if (tries++ % 10 == 0)
            tg_err("%s: cannot store a record in the spool; holding %s and retrying (free space "
                   "in spool_dir?)",
                   s->label, flags & TG_INTAKE_COMMIT ? "the acknowledgement" : "it");
        sleep(1);
    }
    return 0;
}

/*
 * Store one record of source s: cut it at the limit, spool it with its
 * origin ([format][salt]; none for an unsalted auto record), build its
 * event and hand it on.  `done_sink`: a sink that has it already.
 */
static int tg_intake_store(struct tg_intake_src *s, struct tg_str peer, struct tg_str salt,
                           const char *p, size_t n, bool cut, unsigned flags, size_t done_sink)
{
    struct tg_intake *in = s->in;
    if (n > s->max) {
        n = s->max;
        cut = true;
    }
    char origin[TG_SPOOL_ORIGIN_MAX];
    size_t olen = 0;
    if (salt.p || s->format != TG_FMT_AUTO) {
        origin[olen++] = (char)s->format;
        size_t sl = salt.len < sizeof(origin) - 1 ? salt.len : sizeof(origin) - 1;
        if (sl)
            memcpy(origin + olen, salt.p, sl);
        olen += sl;
    }
    struct tg_spool_rec rec = {.input = s->ops->code,
                               .peer = peer,
                               .origin = olen ? tg_str_make(origin, olen) : TG_STR_NULL,
                               .received = tg_time_now(),
                               .truncated = cut,
                               .data = p,
                               .len = n};
    uint64_t seq = 0;
    unsigned done = 0;
    if ((flags & TG_INTAKE_LATER) && !in->spool)
        return TG_ENOENT;
    if (in->spool) {
        if (tg_intake_spool(s, &rec, flags, &seq) != 0)
            return TG_EIO;
        if (done_sink < TG_SPOOL_MAX_SINKS)
            tg_spool_confirm(in->spool, seq, done_sink);
        s->last_seq = seq;
    }
    if (done_sink < TG_SPOOL_MAX_SINKS)
        done = 1u << done_sink;
    tg_metrics_input_add(&s->own, n);
    tg_metrics_input_add(s->count, n); /* NULL: no row */
    if (cut)
        atomic_fetch_add(&s->truncated, 1);
    if (!(flags & TG_INTAKE_LATER))
        tg_intake_event(in, s->batch, &rec, seq, done);
    return 0;
}

static void tg_intake_replay_one(void *ctx, const struct tg_spool_rec *rec, uint64_t seq,
                                 unsigned sinks_done)
{
    struct tg_intake *in = ctx;
    tg_intake_event(in, in->replay, rec, seq, sinks_done);
}

uint64_t tg_intake_replay(struct tg_intake *in)
{
    if (!in->spool)
        return 0;
    uint64_t n = tg_spool_replay(in->spool, tg_intake_replay_one, in);
    tg_source_flush(in->replay);
    return n;
}

struct tg_intake_src *tg_intake_src_new(struct tg_intake *in, const struct tg_intake_src_conf *c)
{
    struct tg_intake_src *s = tg_xcalloc(1, sizeof(*s));
    s->in = in;
    s->ops = c->ops;
    s->label = tg_xstrdup(c->label ? c->label : c->ops->name);
    s->max = c->max_record > 0 && (uint64_t)c->max_record < TG_RECORD_MAX ? (size_t)c->max_record
                                                                          : TG_RECORD_MAX;
    s->format = c->format;
    s->count = c->metrics_label ? tg_metrics_input(c->metrics_label, c->metrics_port) : NULL;
    s->batch = tg_pipeline_source(in->pipe);
    pthread_mutex_lock(&in->mu);
    s->next = in->srcs;
    in->srcs = s;
    pthread_mutex_unlock(&in->mu);
    return s;
}

void tg_intake_src_free(struct tg_intake_src *s)
{
    if (!s)
        return;
    struct tg_intake *in = s->in;
    tg_source_flush(s->batch);
    pthread_mutex_lock(&in->mu);
    struct tg_intake_src **pp = &in->srcs;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    pthread_mutex_unlock(&in->mu);
    free(s->label);
    free(s);
}

void tg_intake_src_flush(struct tg_intake_src *s)
{
    tg_source_flush(s->batch);
}

int tg_intake_message(struct tg_intake_src *s, struct tg_str peer, const char *p, size_t n,
                      unsigned flags)
{
    return tg_intake_store(s, peer, TG_STR_NULL, p, n, false, flags, SIZE_MAX);
}

int tg_intake_announced(struct tg_intake_src *s, const char *p, size_t n, size_t sink,
                        unsigned flags)
{
    return tg_intake_store(s, TG_STR_NULL, TG_STR_NULL, p, n, false, flags, sink);
}

int tg_intake_commit(struct tg_intake_src *s)
{
    return s->in->spool && s->last_seq ? tg_spool_commit(s->in->spool, s->last_seq) : 0;
}

int tg_intake_sync(struct tg_intake_src *s)
{
    return s->in->spool ? tg_spool_sync(s->in->spool) : 0;
}

void tg_intake_src_stats(const struct tg_intake_src *s, struct tg_intake_stats *st)
{
    st->records = atomic_load(&s->own.records);
    st->bytes = atomic_load(&s->own.bytes);
    st->truncated = atomic_load(&s->truncated);
    st->skipped = atomic_load(&s->skipped);
    st->spool_retries = atomic_load(&s->spool_retries);
}

/* --- streams */

static struct tg_str tg_strdup_str(struct tg_str v)
{
    return v.p ? tg_str_make(tg_xstrndup(v.p, v.len), v.len) : TG_STR_NULL;
}

struct tg_intake_stream *tg_intake_stream_new(struct tg_intake_src *s, struct tg_str peer,
                                              struct tg_str identity, uint64_t off)
{
    struct tg_intake_stream *st = tg_xcalloc(1, sizeof(*st));
    st->src = s;
    st->peer = tg_strdup_str(peer);
    st->identity = tg_strdup_str(identity);
    tg_lines_init(&st->lines, s->max, off);
    st->framer = tg_framer_new(s->in->parse[s->format], s->max);
    return st;
}

void tg_intake_stream_free(struct tg_intake_stream *st)
{
    if (!st)
        return;
    atomic_fetch_add(&st->src->skipped, tg_framer_skipped(st->framer));
    tg_framer_free(st->framer);
    tg_lines_free(&st->lines);
    free((char *)st->peer.p);
    free((char *)st->identity.p);
    free(st);
}

/* Framer callback: store one record, salted "<identity>@<offset>". */
static void tg_stream_record(void *ctx, const char *rec, size_t len, bool cut, uint64_t pos)
{
    struct tg_intake_stream *st = ctx;
    if (st->failed)
        return;
    /* "<identity>@<pos>" without printf: once per record */
    char digits[24], *d = digits + sizeof(digits), salt[TG_SPOOL_ORIGIN_MAX];
    uint64_t v = pos;
    do
        *--d = (char)('0' + v % 10);
    while (v /= 10);
    size_t nd = (size_t)(digits + sizeof(digits) - d);
    size_t il = st->identity.len < sizeof(salt) - 1 - nd ? st->identity.len : sizeof(salt) - 1 - nd;
    if (il)
        memcpy(salt, st->identity.p, il);
    salt[il] = '@';
    memcpy(salt + il + 1, d, nd);
    if (tg_intake_store(st->src, st->peer, tg_str_make(salt, il + 1 + nd), rec, len, cut, 0,
                        SIZE_MAX) != 0) {
        st->failed = true;
        st->failed_pos = pos;
    }
}

/* Line callback: one line into the framer. */
static int tg_stream_line(void *ctx, const char *line, size_t len, bool cut, uint64_t pos)
{
    struct tg_intake_stream *st = ctx;
    tg_framer_line(st->framer, line, len, cut, pos, tg_stream_record, st);
    return st->failed ? TG_EIO : 0;
}

int tg_intake_stream_feed(struct tg_intake_stream *st, const char *p, size_t n)
{
    if (st->failed)
        return TG_EIO;
    return tg_lines_feed(&st->lines, p, n, tg_stream_line, st);
}

int tg_intake_stream_idle(struct tg_intake_stream *st)
{
    if (!st->failed)
        tg_framer_idle(st->framer, tg_stream_record, st);
    return st->failed ? TG_EIO : 0;
}

int tg_intake_stream_end(struct tg_intake_stream *st)
{
    if (st->failed || tg_lines_end(&st->lines, tg_stream_line, st) != 0)
        return TG_EIO;
    tg_framer_finish(st->framer, tg_stream_record, st);
    return st->failed ? TG_EIO : 0;
}

uint64_t tg_intake_stream_resume(const struct tg_intake_stream *st)
{
    uint64_t pos;
    if (st->failed)
        return st->failed_pos;
    if (tg_framer_holding(st->framer, &pos))
        return pos;
    if (tg_lines_pending(&st->lines, &pos))
        return pos;
    return st->lines.off;
}

uint64_t tg_intake_stream_offset(const struct tg_intake_stream *st)
{
    return st->lines.off;
}
