/*
 * store_read.c - filters, streaming scan and output formats shared by
 * `query` and `export`.  See store_read.h.
 *
 * Cost model: the time filter is checked on the raw line (the writer puts
 * "@timestamp" first, so it is a prefix parse) and only records that pass
 * it and need a field (another filter, table or CSV output) are parsed with
 * json-c, reusing one tokener.  NDJSON output writes the stored line as is.
 * Each member read is held until it checks out against its sidecar entry
 * (count, end offset, fingerprints, its links and seal: a SHA-256 or HMAC
 * per record), so query returns only records verify would vouch for.  A
 * keyed chain's links need the key (query --key; the key is evolved over
 * the records skipped, one SHA-256 of 32 bytes each); without it, query says
 * so and checks the fingerprints only.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <pcre2.h>

#include "core/errors.h"
#include "core/event.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sinks/segment.h"
#include "tools/commands.h"
#include "tools/store_read.h"

enum {
    TG_OPT_SINCE = 1000,
    TG_OPT_UNTIL,
    TG_OPT_USER,
    TG_OPT_HOST,
    TG_OPT_ACTION,
    TG_OPT_DATASET,
    TG_OPT_DECISION,
    TG_OPT_GREP,
};

const struct option tg_filter_longopts[TG_FILTER_NOPTS] = {
    {"since", required_argument, NULL, TG_OPT_SINCE},
    {"until", required_argument, NULL, TG_OPT_UNTIL},
    {"user", required_argument, NULL, TG_OPT_USER},
    {"host", required_argument, NULL, TG_OPT_HOST},
    {"action", required_argument, NULL, TG_OPT_ACTION},
    {"dataset", required_argument, NULL, TG_OPT_DATASET},
    {"decision", required_argument, NULL, TG_OPT_DECISION},
    {"grep", required_argument, NULL, TG_OPT_GREP},
};

struct option *tg_filter_options(const struct option *own)
{
    size_t n = 0;
    while (own[n].name)
        n++;
    struct option *o = tg_xmalloc((TG_FILTER_NOPTS + n + 1) * sizeof(*o));
    memcpy(o, tg_filter_longopts, sizeof(tg_filter_longopts));
    memcpy(o + TG_FILTER_NOPTS, own, (n + 1) * sizeof(*o));
    return o;
}

static int tg_filter_time(const char *arg, const char *opt, const char *cmd, int64_t *ns)
{
    struct tg_time t;
    if (tg_time_parse_arg(arg, tg_time_now(), &t) != 0)
        return tg_usage_error(cmd,
                              "--%s '%s': not a time; use RFC 3339 (2026-11-24T13:00:00Z), a "
                              "date (2026-11-24), relative (-24h) or now",
                              opt, arg);
    *ns = t.sec * 1000000000 + t.nsec;
    return 0;
}

int tg_filter_option(struct tg_filter *f, int c, const char *arg, const char *cmd)
{
    switch (c) {
    case TG_OPT_SINCE:
        f->since_set = true;
        f->since_arg = arg;
        return tg_filter_time(arg, "since", cmd, &f->since_ns);
    case TG_OPT_UNTIL:
        f->until_set = true;
        f->until_arg = arg;
        return tg_filter_time(arg, "until", cmd, &f->until_ns);
    case TG_OPT_USER:
        f->user = arg;
        return 0;
    case TG_OPT_HOST:
        f->host = arg;
        return 0;
    case TG_OPT_ACTION:
        f->action = arg;
        return 0;
    case TG_OPT_DATASET:
        f->dataset = arg;
        return 0;
    case TG_OPT_DECISION:
        if (strcmp(arg, "allow") != 0 && strcmp(arg, "deny") != 0 &&
            strcmp(arg, "not_applicable") != 0)
            return tg_usage_error(cmd, "--decision '%s': use allow, deny or not_applicable", arg);
        f->decision = arg;
        return 0;
    case TG_OPT_GREP: {
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)arg, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof(msg));
            return tg_usage_error(cmd, "--grep '%s': at offset %zu: %s", arg, (size_t)off,
                                  (const char *)msg);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
        if (f->grep) {
            pcre2_match_data_free(f->grep_match);
            pcre2_code_free(f->grep);
        }
        f->grep = re;
        f->grep_match = pcre2_match_data_create_from_pattern(re, NULL);
        f->grep_arg = arg;
        return 0;
    }
    default:
        return 1;
    }
}

int tg_filter_done(const struct tg_filter *f, const char *cmd)
{
    if (f->since_set && f->until_set && f->since_ns >= f->until_ns)
        return tg_usage_error(cmd, "--since %s is not before --until %s: no event can match",
                              f->since_arg, f->until_arg);
    return 0;
}

void tg_filter_free(struct tg_filter *f)
{
    if (f->grep) {
        pcre2_match_data_free(f->grep_match);
        pcre2_code_free(f->grep);
    }
    f->grep = f->grep_match = NULL;
}

static bool tg_filter_needs_fields(const struct tg_filter *f)
{
    return f->user || f->host || f->action || f->dataset || f->decision || f->grep;
}

/* --- records */
const char *tg_record_field(struct tg_record *r, const char *path)
{
    if (!r->parsed) {
        r->parsed = true;
        json_tokener_reset(r->tok);
        r->root = json_tokener_parse_ex(r->tok, r->line.p, (int)r->line.len);
        r->bad_json = r->root == NULL;
    }
    json_object *o = r->root;
    const char *p = path;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[64];
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &o))
            return NULL;
        p += n + (dot ? 1 : 0);
    }
    if (!o || json_object_is_type(o, json_type_null))
        return NULL;
    return json_object_get_string(o);
}

void tg_record_release(struct tg_record *r)
{
    if (r->root)
        json_object_put(r->root);
    r->root = NULL;
}

static bool tg_eq(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

/* Names: as the policy compares them (FreeIPA and sudo ignore case). */
static bool tg_caseeq(const char *v, const char *want)
{
    return v && strcasecmp(v, want) == 0;
}

static bool tg_grep(const struct tg_filter *f, const char *s)
{
    return s && pcre2_match(f->grep, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, f->grep_match,
                            NULL) >= 0;
}

/* The SQL text: trailguard.db.statement, or db.statement in records stored
 * before the Percona fields moved under trailguard.db (ECS has no db). */
static const char *tg_record_statement(struct tg_record *r)
{
    const char *v = tg_record_field(r, "trailguard.db.statement");
    return v ? v : tg_record_field(r, "db.statement");
}

bool tg_filter_match(const struct tg_filter *f, struct tg_record *r)
{
    if ((f->since_set || f->until_set) && (!r->has_time || (f->since_set && r->ns < f->since_ns) ||
                                           (f->until_set && r->ns >= f->until_ns)))
        return false;
    if (!tg_filter_needs_fields(f))
        return true;
    if (f->user && !tg_caseeq(tg_record_field(r, "user.name"), f->user))
        return false;
    if (f->host && !tg_caseeq(tg_record_field(r, "host.name"), f->host))
        return false;
    if (f->action && !tg_eq(tg_record_field(r, "event.action"), f->action))
        return false;
    if (f->dataset && !tg_eq(tg_record_field(r, "event.dataset"), f->dataset))
        return false;
    if (f->decision && !tg_eq(tg_record_field(r, "trailguard.policy.decision"), f->decision))
        return false;
    if (f->grep && !tg_grep(f, tg_record_field(r, "process.command_line")) &&
        !tg_grep(f, tg_record_statement(r)))
        return false;
    return true;
}

/* --- scan */
static double tg_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool tg_skip_by_index(const char *dir, uint64_t seq, const struct tg_filter *f)
{
    if (!f->since_set && !f->until_set)
        return false;
    char *p = tg_seg_path(dir, seq, TG_SEG_INDEX);
    struct tg_seg_index ix;
    bool have = tg_seg_index_read(p, &ix) == 0;
    free(p);
    if (!have)
        return false;
    if (ix.records == 0 || ix.min_ns > ix.max_ns)
        return true; /* no record with a time: none can pass a time filter */
    return (f->since_set && ix.max_ns < f->since_ns) || (f->until_set && ix.min_ns >= f->until_ns);
}

struct tg_progress {
    bool on;
    double start, next;
    bool shown;
};

static void tg_progress(struct tg_progress *p, const struct tg_scan_stats *st, size_t i, size_t n)
{
    double now = tg_mono();
    if (!p->on || now < p->next)
        return;
    p->next = now + 0.25;
    double el = now - p->start;
    fprintf(stderr, "\r\033[Kscanning segment %zu/%zu: %llu events, %llu matched, %.1f MB/s", i + 1,
            n, (unsigned long long)st->records, (unsigned long long)st->matched,
            el > 0 ? (double)st->raw_bytes / 1e6 / el : 0.0);
    p->shown = true;
}

/* One scan in progress. */
struct tg_scan {
    const char *dir;
    const struct tg_filter *f;
    tg_scan_fn fn;
    void *ctx;
    struct tg_scan_stats *st;
    struct tg_progress pg;
    json_tokener *tok;
    bool go;
    size_t seg, nseg;      /* for the progress line */
    uint64_t raw_base;     /* st->raw_bytes before this segment */
    struct tg_chain chain; /* to check each member's links (keyed ones: with --key) */
    bool warned_key;
    struct tg_buf recs, seal;
    size_t *roff; /* the member's records in recs */
    size_t nroff, caproff;
    uint32_t *fp, *got; /* its fingerprints: listed, and read */
    size_t capfp;
    uint8_t *ext;
    size_t capext;
};

/*
 * Read member m (the entry `cur` just returned, number `index` of the
 * segment, `first` records of the store before it, `prev` the link before
 * it) from r, which is at its start.  Its records are held until the member
 * checks out -- exactly its record count, ending at its end offset, the
 * fingerprints listed and, for an unkeyed chain, the links and seal -- and
 * only then handed to the filter: a record the chain does not vouch for is
 * never returned.  0, TG_ECORRUPT (it does not check out), TG_ETRUNC (the
 * file ends inside it) or TG_EIO.
 */
static int tg_scan_member(struct tg_scan *sc, struct tg_sidecar_cursor *cur,
                          const struct tg_seg_member *m, uint64_t index, uint64_t first,
                          const uint8_t prev[TG_LINK_LEN], struct tg_seg_reader *r)
{
    struct tg_scan_stats *st = sc->st;
    if (m->records > sc->capfp) {
        sc->capfp = m->records;
        sc->fp = tg_xrealloc(sc->fp, sc->capfp * sizeof(*sc->fp));
        sc->got = tg_xrealloc(sc->got, sc->capfp * sizeof(*sc->got));
    }
    if (m->ext_len > sc->capext) {
        sc->capext = m->ext_len;
        sc->ext = tg_xrealloc(sc->ext, sc->capext);
    }
    if (tg_sidecar_cursor_detail(cur, m, sc->fp, sc->ext) != 0)
        return TG_EIO;
    /* a keyed chain's links need the key: without it the fingerprints only */
    bool links = !cur->hdr.keyed || sc->chain.has_key;
    sc->chain.keyed = cur->hdr.keyed;
    if (sc->chain.has_key && first < sc->chain.count)
        return TG_ECORRUPT; /* the store goes back in the chain: never written so */
    tg_chain_resume(&sc->chain, prev, first); /* the key evolves forward to record `first` */
    if (cur->hdr.keyed && !sc->chain.has_key && !sc->warned_key) {
        sc->warned_key = true;
        fprintf(stderr,
                "trailguard: %s holds segments chained with HMAC: without --key their "
                "records are checked against their fingerprints only (verify --key "
                "authenticates them)\n",
                sc->dir);
    }
    sc->recs.len = 0;
    sc->nroff = 0;
    struct tg_str line;
    uint32_t n = 0;
    int rc;
    while ((rc = tg_seg_reader_next(r, &line)) == TG_SEG_RECORD) {
        if (n == m->records)
            return TG_ECORRUPT;
        sc->got[n++] = tg_seg_fingerprint(line.p, line.len);
        if (links)
            tg_chain_add(&sc->chain, line.p, line.len);
        sc->roff = tg_xgrow(sc->roff, sc->nroff, &sc->caproff, sizeof(*sc->roff), 1024);
        sc->roff[sc->nroff++] = sc->recs.len;
        tg_buf_append(&sc->recs, line.p, line.len);
    }
    if (rc == TG_SEG_END)
        return TG_ETRUNC; /* the file ends before the member listed */
    if (rc != TG_SEG_MEMBER)
        return rc;
    if (n != m->records || tg_seg_reader_offset(r) != m->end_offset ||
        memcmp(sc->fp, sc->got, 4 * (size_t)n) != 0)
        return TG_ECORRUPT;
    if (links) {
        uint8_t link[TG_LINK_LEN];
        tg_seg_seal_message(&sc->seal, &cur->hdr, index, first, m, sc->fp, sc->ext);
        tg_chain_seal(&sc->chain, sc->seal.data, sc->seal.len, link);
        if (memcmp(link, m->link, TG_LINK_LEN) != 0)
            return TG_ECORRUPT;
    }
    for (size_t k = 0; k < sc->nroff && sc->go; k++) {
        size_t end = k + 1 < sc->nroff ? sc->roff[k + 1] : sc->recs.len;
        struct tg_record rec = {.line = tg_str_make(sc->recs.data + sc->roff[k], end - sc->roff[k]),
                                .tok = sc->tok};
        rec.has_time = tg_seg_record_time(rec.line.p, rec.line.len, &rec.ns) == 0;
        st->records++;
        if (tg_filter_match(sc->f, &rec)) {
            st->matched++;
            sc->go = sc->fn(sc->ctx, &rec);
        }
        tg_record_release(&rec);
    }
    st->raw_bytes = sc->raw_base + tg_seg_reader_raw_bytes(r);
    tg_progress(&sc->pg, st, sc->seg, sc->nseg);
    return 0;
}

static bool tg_member_in_range(const struct tg_filter *f, const struct tg_seg_member *m)
{
    return m->min_ns <= m->max_ns && !(f->since_set && m->max_ns < f->since_ns) &&
           !(f->until_set && m->min_ns >= f->until_ns);
}

/*
 * Read one segment: the gzip members its sidecar (.chain) lists, in order.
 * With a time filter a member whose entry's time range cannot hold a match
 * is skipped by seeking past it (members are independent gzip streams; the
 * range is covered by the member's seal, so an altered one is reported by
 * verify).  Whatever the sidecar does not list is never returned: the
 * member being written right now, the unchained leftover of a crash, or
 * records someone added.  0 when the segment was read, else the first
 * error: TG_ECORRUPT (a member does not check out), TG_ETRUNC (a listed
 * member is cut short), TG_EIO (errno), TG_ENOENT (the sidecar cannot be
 * read: errno), TG_EVERSION.
 */
static int tg_scan_segment(struct tg_scan *sc, uint64_t seq, struct tg_seg_reader *r)
{
    struct tg_sidecar_cursor cur = {.fd = -1};
    char *cpath = tg_seg_path(sc->dir, seq, TG_SEG_CHAIN);
    int rc = tg_sidecar_cursor_open(cpath, &cur);
    free(cpath);
    if (rc != 0)
        return rc == TG_EVERSION ? rc : TG_ENOENT; /* errno says why */
    bool by_time = sc->f->since_set || sc->f->until_set;
    uint64_t at = 0, first = cur.hdr.first_index; /* where the reader is; records before */
    uint8_t prev[TG_LINK_LEN];
    memcpy(prev, cur.hdr.prev, TG_LINK_LEN);
    struct tg_seg_member m;
    while (sc->go && (rc = tg_sidecar_cursor_next(&cur, &m)) == 1) {
        if (!by_time || tg_member_in_range(sc->f, &m)) {
            if (at != m.start_offset && (rc = tg_seg_reader_seek(r, m.start_offset)) != 0)
                break;
            if ((rc = tg_scan_member(sc, &cur, &m, cur.index - 1, first, prev, r)) != 0)
                break;
            at = m.end_offset;
        } else {
            sc->st->members_skipped++;
        }
        first += m.records;
        memcpy(prev, m.link, TG_LINK_LEN);
    }
    tg_sidecar_cursor_close(&cur);
    return rc < 0 ? rc : 0;
}

int tg_store_scan(const char *dir, const struct tg_filter *f, const uint8_t *key0, bool progress,
                  tg_scan_fn fn, void *ctx, struct tg_scan_stats *st)
{
    memset(st, 0, sizeof(*st));
    struct tg_seg_entry *v;
    size_t n;
    if (tg_seg_list(dir, &v, &n) != 0)
        return TG_EIO;
    double t0 = tg_mono();
    struct tg_scan sc = {.dir = dir,
                         .f = f,
                         .fn = fn,
                         .ctx = ctx,
                         .st = st,
                         .pg = {.on = progress && isatty(2), .start = t0, .next = t0 + 1.0},
                         .tok = json_tokener_new_ex(64),
                         .go = true,
                         .nseg = n};
    tg_chain_init(&sc.chain, key0);
    for (size_t i = 0; i < n && sc.go; i++) {
        if (!v[i].has[TG_SEG_DATA])
            continue;
        st->segments++;
        if (tg_skip_by_index(dir, v[i].seq, f)) {
            st->skipped++;
            continue;
        }
        char *path = tg_seg_path(dir, v[i].seq, TG_SEG_DATA);
        struct tg_seg_reader *r;
        if (tg_seg_reader_open(path, &r) != 0) {
            fprintf(stderr, "trailguard: %s: cannot open: %s; skipped\n", path, strerror(errno));
            st->damaged++;
            free(path);
            continue;
        }
        sc.seg = i;
        sc.raw_base = st->raw_bytes;
        uint64_t before = st->records;
        int rc = tg_scan_segment(&sc, v[i].seq, r);
        if (rc == TG_EVERSION) {
            st->damaged++;
            fprintf(stderr,
                    "trailguard: %s: a segment of store format 1 (an earlier trailguard); "
                    "skipped: read it with the version that wrote it\n",
                    path);
        } else if (rc == TG_ENOENT) {
            st->damaged++;
            fprintf(stderr,
                    "trailguard: %s: its chain (.chain) cannot be read: %s; skipped (run "
                    "`trailguard verify %s`)\n",
                    path, strerror(errno), dir);
        } else if (rc < 0) {
            st->damaged++;
            fprintf(stderr,
                    "trailguard: %s: %s after %llu of its records were read; the rest of it "
                    "is skipped (run `trailguard verify %s`)\n",
                    path,
                    rc == TG_ECORRUPT ? "a member that does not match its chain entry"
                    : rc == TG_ETRUNC ? "cut short"
                                      : strerror(errno),
                    (unsigned long long)(st->records - before), dir);
        }
        st->bytes += tg_seg_reader_in_bytes(r);
        st->raw_bytes = sc.raw_base + tg_seg_reader_raw_bytes(r);
        tg_seg_reader_close(r);
        free(path);
    }
    if (sc.pg.shown)
        fputs("\r\033[K", stderr);
    st->seconds = tg_mono() - t0;
    free(v);
    json_tokener_free(sc.tok);
    tg_chain_free(&sc.chain);
    tg_buf_free(&sc.recs);
    tg_buf_free(&sc.seal);
    free(sc.roff);
    free(sc.fp);
    free(sc.got);
    free(sc.ext);
    return 0;
}

/* --- output */
const char *const tg_out_format_names[] = {"table", "ndjson", "csv", NULL};

static const char *const tg_csv_cols[] = {
    "@timestamp",
    "event.id",
    "event.dataset",
    "event.action",
    "event.outcome",
    "host.name",
    "user.name",
    "user.effective.name",
    "process.command_line",
    "trailguard.db.name",
    "trailguard.db.statement",
    "source.ip",
    "trailguard.policy.decision",
    "trailguard.policy.check",
    "trailguard.policy.rule",
    "trailguard.policy.reason",
    "trailguard.policy.snapshot",
    "trailguard.parse.status",
    NULL,
};

/* Table columns: header, field, width (0: the rest of the line). */
static const struct {
    const char *title, *field;
    int width;
} tg_table_cols[] = {
    {"TIME", "@timestamp", 20},
    {"HOST", "host.name", 16},
    {"USER", "user.name", 12},
    {"ACTION", "event.action", 10},
    {"DECISION", "trailguard.policy.decision", 14},
    {"COMMAND / STATEMENT", NULL, 0},
};
#define TG_TABLE_NCOLS (sizeof(tg_table_cols) / sizeof(tg_table_cols[0]))

/* Append s as a table cell of `width` display columns (one per character;
 * control characters become spaces; a cut is marked with an ellipsis). */
static void tg_cell(struct tg_buf *b, const char *s, int width, bool pad)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    int col = 0;
    while (*p && col < width) {
        size_t len = *p < 0xc0 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
        for (size_t k = 1; k < len; k++)
            if (p[k] == '\0')
                len = k;
        if (col == width - 1 && p[len] != '\0') {
            tg_buf_puts(b, "\xe2\x80\xa6");
            col++;
            break;
        }
        if (*p < 0x20 || *p == 0x7f)
            tg_buf_putc(b, ' ');
        else
            tg_buf_append(b, p, len);
        col++;
        p += len;
    }
    while (pad && col++ < width)
        tg_buf_putc(b, ' ');
}

static void tg_csv_cell(struct tg_buf *b, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        tg_buf_puts(b, s);
        return;
    }
    tg_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            tg_buf_putc(b, '"');
        tg_buf_putc(b, *p);
    }
    tg_buf_putc(b, '"');
}

void tg_out_begin(struct tg_out *o, FILE *f, enum tg_out_format fmt)
{
    o->f = f;
    o->fmt = fmt;
    o->line = TG_BUF_INIT;
    o->width = 160;
    struct winsize ws;
    if (fmt == TG_OUT_TABLE && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        o->width = ws.ws_col;
    if (fmt == TG_OUT_CSV) {
        for (size_t i = 0; tg_csv_cols[i]; i++) {
            if (i)
                tg_buf_putc(&o->line, ',');
            tg_csv_cell(&o->line, tg_csv_cols[i]);
        }
        tg_buf_puts(&o->line, "\r\n");
    } else if (fmt == TG_OUT_TABLE) {
        for (size_t i = 0; i < TG_TABLE_NCOLS; i++) {
            tg_buf_puts(&o->line, tg_table_cols[i].title);
            for (int k = (int)strlen(tg_table_cols[i].title); k < tg_table_cols[i].width; k++)
                tg_buf_putc(&o->line, ' ');
            if (tg_table_cols[i].width)
                tg_buf_putc(&o->line, ' ');
        }
        tg_buf_putc(&o->line, '\n');
    }
    if (o->line.len)
        fwrite(o->line.data, 1, o->line.len, o->f);
}

void tg_out_record(struct tg_out *o, struct tg_record *r)
{
    struct tg_buf *b = &o->line;
    b->len = 0;
    switch (o->fmt) {
    case TG_OUT_NDJSON:
        fwrite(r->line.p, 1, r->line.len, o->f);
        fputc('\n', o->f);
        return;
    case TG_OUT_CSV:
        for (size_t i = 0; tg_csv_cols[i]; i++) {
            if (i)
                tg_buf_putc(b, ',');
            tg_csv_cell(b, tg_record_field(r, tg_csv_cols[i]));
        }
        tg_buf_puts(b, "\r\n");
        break;
    case TG_OUT_TABLE: {
        int used = 0;
        for (size_t i = 0; i < TG_TABLE_NCOLS; i++) {
            const char *v;
            if (tg_table_cols[i].field) {
                v = tg_record_field(r, tg_table_cols[i].field);
            } else {
                v = tg_record_field(r, "process.command_line");
                if (!v)
                    v = tg_record_statement(r);
                if (!v)
                    v = tg_record_field(r, "event.original");
            }
            char ts[21];
            if (i == 0 && v && strlen(v) >= 19) { /* to the second; the full time is in ndjson */
                memcpy(ts, v, 19);
                memcpy(ts + 19, "Z", 2);
                v = ts;
            }
            int w = tg_table_cols[i].width;
            if (w) {
                tg_cell(b, v, w, true);
                tg_buf_putc(b, ' ');
                used += w + 1;
            } else {
                tg_cell(b, v, o->width - used > 20 ? o->width - used : 20, false);
            }
        }
        tg_buf_putc(b, '\n');
        break;
    }
    }
    fwrite(b->data, 1, b->len, o->f);
}

void tg_out_end(struct tg_out *o)
{
    fflush(o->f);
    tg_buf_free(&o->line);
}
