/*
 * store_read.c - filters, record fields and output formats shared by
 * `query`, `export` and `report`.  See store_read.h.
 *
 * Cost model: a record is tested on its raw line first -- the time prefix
 * (the writer puts "@timestamp" first), then, for each filter value, the
 * JSON text it must appear as: a field value V appears as the quoted,
 * escaped "V" (escaped by the writer's own tg_json_str, so the bytes are
 * the writer's; ignoring ASCII case where the filter does), a --word as its
 * letters, a --grep regex as the longest literal every match of it holds
 * (when the regex makes one certain).  Only a line holding them all is read
 * (core/json_scan.h, no allocation) to confirm; output formats read the
 * fields they print the same way.  A line the writer made holds the quoted
 * value whenever the field has it, so the raw test never refuses a match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <pcre2.h>

#include "core/errors.h"
#include "core/event.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sinks/segment.h"
#include "tools/commands.h"
#include "tools/store_read.h"

enum {
    TG_OPT_SINCE = 1000,
    TG_OPT_UNTIL,
    TG_OPT_USER,
    TG_OPT_EUSER,
    TG_OPT_HOST,
    TG_OPT_EXECUTABLE,
    TG_OPT_ACTION,
    TG_OPT_DATASET,
    TG_OPT_DECISION,
    TG_OPT_GREP,
    TG_OPT_WORD,
};

const struct option tg_filter_longopts[TG_FILTER_NOPTS] = {
    {"since", required_argument, NULL, TG_OPT_SINCE},
    {"until", required_argument, NULL, TG_OPT_UNTIL},
    {"user", required_argument, NULL, TG_OPT_USER},
    {"euser", required_argument, NULL, TG_OPT_EUSER},
    {"host", required_argument, NULL, TG_OPT_HOST},
    {"executable", required_argument, NULL, TG_OPT_EXECUTABLE},
    {"action", required_argument, NULL, TG_OPT_ACTION},
    {"dataset", required_argument, NULL, TG_OPT_DATASET},
    {"decision", required_argument, NULL, TG_OPT_DECISION},
    {"grep", required_argument, NULL, TG_OPT_GREP},
    {"word", required_argument, NULL, TG_OPT_WORD},
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
    case TG_OPT_EUSER:
        f->euser = arg;
        return 0;
    case TG_OPT_HOST:
        f->host = arg;
        return 0;
    case TG_OPT_EXECUTABLE:
        f->executable = arg;
        return 0;
    case TG_OPT_WORD: {
        size_t pos = 0, wn;
        const char *w;
        if (!tg_skip_word_next(arg, strlen(arg), &pos, &w, &wn) || w != arg || wn != strlen(arg))
            return tg_usage_error(cmd,
                                  "--word '%s': give one word (letters, digits, _); use --grep "
                                  "for other text",
                                  arg);
        f->word = arg;
        return 0;
    }
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
        if (f->grep)
            pcre2_code_free(f->grep);
        f->grep = re;
        f->grep_arg = arg;
        return 0;
    }
    default:
        return 1;
    }
}

/* --- fields */
int tg_fields_find(const struct tg_fields *fl, const char *path)
{
    for (size_t i = 0; i < fl->n; i++)
        if (strcmp(fl->name[i], path) == 0)
            return (int)i;
    return -1;
}

int tg_fields_add(struct tg_fields *fl, const char *path)
{
    int i = tg_fields_find(fl, path);
    if (i >= 0 || fl->n == TG_JSCAN_MAX_PATHS)
        return i;
    struct tg_fields next = *fl;
    next.name[next.n++] = path;
    if (tg_jscan_init(&next.js, next.name, next.n) != 0)
        return -1; /* too deep a path: read on its own */
    *fl = next;
    return (int)fl->n - 1;
}

static const struct {
    const char *name, *path;
} tg_aliases[] = {
    {"time", "@timestamp"},
    {"user", "user.name"},
    {"euser", "user.effective.name"},
    {"host", "host.name"},
    {"action", "event.action"},
    {"dataset", "event.dataset"},
    {"decision", "trailguard.policy.decision"},
    {"reason", "trailguard.policy.reason"},
    {"rule", "trailguard.policy.rule"},
    {"executable", "process.executable"},
    {"command", "process.command_line"},
    {"statement", "trailguard.db.statement"},
    {"id", "event.id"},
    {"outcome", "event.outcome"},
    {"day", TG_FIELD_DAY},
    {"hour", TG_FIELD_HOUR},
};

const char *tg_field_alias(const char *name)
{
    for (size_t i = 0; i < sizeof(tg_aliases) / sizeof(tg_aliases[0]); i++)
        if (strcmp(tg_aliases[i].name, name) == 0)
            return tg_aliases[i].path;
    return NULL;
}

/* --- filters */
/*
 * A literal that every match of the regex `re` contains, if the pattern
 * makes one certain: the longest run of plain characters outside groups
 * and classes, in a pattern without alternation or inline options (a
 * character followed by ?, * or { is not certain, one followed by + is but
 * ends the run).  Conservative: anything unusual (an escape of a letter or
 * digit, a byte >= 0x80) gives none.  The run's characters are ones the
 * JSON writer copies as they are, so the line holds them too.
 */
static bool tg_grep_literal(const char *re, size_t *at, size_t *len)
{
    if (strchr(re, '|') || strstr(re, "(?") || strstr(re, "(*"))
        return false;
    size_t best = 0, best_at = 0, run = 0, run_at = 0, n = strlen(re);
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)re[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c >= 0x20 && c < 0x7f && !strchr("\\^$.|?*+()[]{}\"", c));
        if (depth == 0 && plain) {
            if (run == 0)
                run_at = i;
            run++;
            char q = i + 1 < n ? re[i + 1] : '\0';
            if (q == '?' || q == '*' || q == '{') {
                run--; /* optional: not certain */
            } else if (q != '+') {
                if (run > best) {
                    best = run;
                    best_at = run_at;
                }
                continue;
            }
            if (run > best) {
                best = run;
                best_at = run_at;
            }
            run = 0;
            continue;
        }
        if (run > best) {
            best = run;
            best_at = run_at;
        }
        run = 0;
        if (c >= 0x80)
            return false;
        if (c == '\\') {
            unsigned char e = (unsigned char)re[i + 1];
            if (e == '\0' || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
                (e >= '0' && e <= '9') || e >= 0x80)
                return false;
            i++; /* an escaped punctuation character: not part of a run (kept simple) */
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < n && re[j] == '^')
                j++;
            if (j < n && re[j] == ']')
                j++;
            while (j < n && re[j] != ']')
                j += re[j] == '\\' ? 2 : 1;
            i = j;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
    }
    *at = best_at;
    *len = best;
    return best >= 3;
}

static void tg_filter_eq_add(struct tg_filter *f, enum tg_skip_field field, const char *value)
{
    if (!value)
        return;
    struct tg_filter_eq *e = &f->eq[f->neq++];
    e->field = field;
    e->value = value;
    e->idx = tg_fields_add(&f->fields, tg_skip_path[field]);
    tg_skip_probe_init(&e->pr, field, value, strlen(value));
    struct tg_buf q = TG_BUF_INIT;
    tg_json_str(&q, value, strlen(value), NULL); /* the writer's own quoting */
    tg_needle_init(&e->nd, q.data, q.len, tg_skip_fold[field]);
    tg_buf_free(&q);
}

int tg_filter_done(struct tg_filter *f, const char *cmd)
{
    if (f->since_set && f->until_set && f->since_ns >= f->until_ns)
        return tg_usage_error(cmd, "--since %s is not before --until %s: no event can match",
                              f->since_arg, f->until_arg);
    tg_filter_eq_add(f, TG_SKIP_USER, f->user);
    tg_filter_eq_add(f, TG_SKIP_EUSER, f->euser);
    tg_filter_eq_add(f, TG_SKIP_HOST, f->host);
    tg_filter_eq_add(f, TG_SKIP_EXE, f->executable);
    tg_filter_eq_add(f, TG_SKIP_DATASET, f->dataset);
    tg_filter_eq_add(f, TG_SKIP_ACTION, f->action);
    tg_filter_eq_add(f, TG_SKIP_DECISION, f->decision);
    f->cmd_idx = tg_fields_add(&f->fields, tg_skip_word_paths[0]);
    f->stmt_idx = tg_fields_add(&f->fields, tg_skip_word_paths[1]);
    if (f->word) {
        tg_skip_probe_init(&f->word_pr, TG_SKIP_WORD, f->word, strlen(f->word));
        tg_needle_init(&f->word_nd, f->word, strlen(f->word), true);
    }
    size_t at, len;
    if (f->grep_arg && tg_grep_literal(f->grep_arg, &at, &len)) {
        tg_needle_init(&f->grep_nd, f->grep_arg + at, len, false);
        f->grep_lit = true;
    }
    return 0;
}

void tg_filter_free(struct tg_filter *f)
{
    if (f->grep)
        pcre2_code_free(f->grep);
    f->grep = NULL;
    for (size_t i = 0; i < f->neq; i++)
        tg_needle_free(&f->eq[i].nd);
    f->neq = 0;
    if (f->word)
        tg_needle_free(&f->word_nd);
    if (f->grep_lit)
        tg_needle_free(&f->grep_nd);
    f->grep_lit = false;
}

bool tg_filter_has_fields(const struct tg_filter *f)
{
    return f->neq > 0 || f->word || f->grep;
}

bool tg_filter_member_may_match(const struct tg_filter *f, const void *ext, size_t len)
{
    for (size_t i = 0; i < f->neq; i++)
        if (!tg_skipidx_may_hold(ext, len, &f->eq[i].pr))
            return false;
    return !f->word || tg_skipidx_may_hold(ext, len, &f->word_pr);
}

/* --- records */
void tg_rctx_init(struct tg_rctx *c, const struct tg_filter *f)
{
    memset(c, 0, sizeof(*c));
    c->f = f;
    if (f->grep)
        c->grep_md = pcre2_match_data_create_from_pattern(f->grep, NULL);
}

void tg_rctx_free(struct tg_rctx *c)
{
    if (c->grep_md)
        pcre2_match_data_free(c->grep_md);
    tg_buf_free(&c->text);
    tg_buf_free(&c->tmp);
}

void tg_record_init(struct tg_record *r, struct tg_rctx *c, struct tg_str line)
{
    r->line = line;
    r->c = c;
    r->scanned = false;
    r->has_time = tg_seg_record_time(line.p, line.len, &r->ns) == 0;
    /* room for every text of the record up front: a pointer handed out
     * stays valid while the others are decoded (decoding never grows a
     * string; the slack is for day/hour and paths read alone) */
    c->text.len = 0;
    tg_buf_reserve(&c->text, 2 * line.len + 4096);
}

/* Room for n more bytes without moving the texts handed out? */
static bool tg_record_room(const struct tg_record *r, size_t n)
{
    return r->c->text.cap - r->c->text.len > n;
}

const struct tg_jval *tg_record_val(struct tg_record *r, int idx)
{
    if (!r->scanned) {
        const struct tg_fields *fl = &r->c->f->fields;
        tg_jscan_run(&fl->js, r->line.p, r->line.len, r->v);
        for (size_t i = 0; i < fl->n; i++)
            r->off[i] = -2;
        r->scanned = true;
    }
    return &r->v[idx];
}

const char *tg_record_get(struct tg_record *r, int idx, size_t *len)
{
    const struct tg_jval *v = tg_record_val(r, idx);
    if (r->off[idx] == -2) {
        long at = tg_jval_text(v, &r->c->text);
        r->off[idx] = at;
        if (at >= 0)
            tg_buf_putc(&r->c->text, '\0'); /* the length is kept apart: see below */
    }
    if (r->off[idx] < 0)
        return NULL;
    const char *p = r->c->text.data + r->off[idx];
    if (len)
        *len = v->escaped ? strlen(p) : v->n; /* a decoded NUL ends the text */
    return p;
}

/* "day" / "hour" of the record's time. */
static const char *tg_record_period(struct tg_record *r, bool hour)
{
    if (!r->has_time || !tg_record_room(r, 16))
        return NULL;
    char ts[32];
    int64_t sec = r->ns / 1000000000 - (r->ns % 1000000000 < 0);
    tg_time_format(ts, (struct tg_time){sec, 0, 0});
    size_t at = r->c->text.len;
    tg_buf_append(&r->c->text, ts, hour ? 13 : 10);
    tg_buf_putc(&r->c->text, '\0');
    return r->c->text.data + at;
}

const char *tg_record_field(struct tg_record *r, const char *path)
{
    if (strcmp(path, TG_FIELD_DAY) == 0 || strcmp(path, TG_FIELD_HOUR) == 0)
        return tg_record_period(r, path[1] == 'h');
    int idx = tg_fields_find(&r->c->f->fields, path);
    if (idx >= 0)
        return tg_record_get(r, idx, NULL);
    /* not one of the fields compiled for the command: read it alone */
    struct tg_jscan js;
    struct tg_jval v;
    if (tg_jscan_init(&js, &path, 1) != 0 || tg_jscan_run(&js, r->line.p, r->line.len, &v) != 0 ||
        !tg_record_room(r, v.n + 2))
        return NULL;
    long at = tg_jval_text(&v, &r->c->text);
    if (at < 0)
        return NULL;
    tg_buf_putc(&r->c->text, '\0');
    return r->c->text.data + at;
}

static bool tg_grep_text(struct tg_record *r, int idx)
{
    size_t n;
    const char *s = tg_record_get(r, idx, &n);
    return s && pcre2_match(r->c->f->grep, (PCRE2_SPTR)s, n, 0, 0, r->c->grep_md, NULL) >= 0;
}

static bool tg_word_in(struct tg_record *r, int idx)
{
    size_t n, pos = 0, wn, want = strlen(r->c->f->word);
    const char *s = tg_record_get(r, idx, &n), *w;
    while (s && tg_skip_word_next(s, n, &pos, &w, &wn))
        if (wn == want && strncasecmp(w, r->c->f->word, wn) == 0)
            return true;
    return false;
}

bool tg_filter_match(struct tg_record *r)
{
    const struct tg_filter *f = r->c->f;
    if ((f->since_set || f->until_set) && (!r->has_time || (f->since_set && r->ns < f->since_ns) ||
                                           (f->until_set && r->ns >= f->until_ns)))
        return false;
    if (!tg_filter_has_fields(f))
        return true;
    const char *p = r->line.p;
    size_t n = r->line.len;
    for (size_t i = 0; i < f->neq; i++)
        if (!tg_needle_in(&f->eq[i].nd, p, n))
            return false;
    if ((f->word && !tg_needle_in(&f->word_nd, p, n)) ||
        (f->grep_lit && !tg_needle_in(&f->grep_nd, p, n)))
        return false;
    for (size_t i = 0; i < f->neq; i++) {
        const struct tg_filter_eq *e = &f->eq[i];
        if (!tg_jval_equals(tg_record_val(r, e->idx), e->value, strlen(e->value),
                            tg_skip_fold[e->field], &r->c->tmp))
            return false;
    }
    if (f->word && !tg_word_in(r, f->cmd_idx) && !tg_word_in(r, f->stmt_idx))
        return false;
    if (f->grep && !tg_grep_text(r, f->cmd_idx) && !tg_grep_text(r, f->stmt_idx))
        return false;
    return true;
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

void tg_table_cell(struct tg_buf *b, const char *s, int width, bool pad)
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

void tg_csv_cell(struct tg_buf *b, const char *s)
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

/* Compare dotted paths component by component. */
static int tg_path_cmp(const char *a, const char *b)
{
    for (;;) {
        size_t na = strcspn(a, "."), nb = strcspn(b, ".");
        size_t n = na < nb ? na : nb;
        int c = memcmp(a, b, n);
        if (c || na != nb)
            return c ? c : na < nb ? -1 : 1;
        if (!a[na] || !b[nb])
            return !a[na] && !b[nb] ? 0 : !a[na] ? -1 : 1;
        a += na + 1;
        b += nb + 1;
    }
}

/* The key column i has in NDJSON: its path, or its name when derived. */
static const char *tg_out_key(const struct tg_out *o, size_t i)
{
    return o->col_idx[i] >= 0 || o->col_path[i][0] != '(' ? o->col_path[i] : o->col_name[i];
}

int tg_out_fields(struct tg_out *o, struct tg_filter *f, const char *spec, const char *cmd)
{
    memset(o, 0, sizeof(*o));
    if (!spec) {
        for (size_t i = 0; tg_csv_cols[i]; i++)
            tg_fields_add(&f->fields, tg_csv_cols[i]);
        tg_fields_add(&f->fields, "event.original");
        return 0;
    }
    char *copy = tg_xstrdup(spec), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        const char *path = tg_field_alias(t);
        if (!path && (strchr(t, ' ') || t[strlen(t) - 1] == '.' || strstr(t, "..") || *t == '.')) {
            free(copy);
            return tg_usage_error(cmd, "'%s': not a field: give short names or dotted paths", t);
        }
        bool dup = false;
        for (size_t i = 0; i < o->ncols; i++)
            dup |= strcmp(o->col_name[i], t) == 0;
        if (dup)
            continue;
        o->col_name = tg_xrealloc(o->col_name, (o->ncols + 1) * sizeof(char *));
        o->col_path = tg_xrealloc(o->col_path, (o->ncols + 1) * sizeof(char *));
        o->col_idx = tg_xrealloc(o->col_idx, (o->ncols + 1) * sizeof(int));
        o->col_order = tg_xrealloc(o->col_order, (o->ncols + 1) * sizeof(size_t));
        o->col_order[o->ncols] = o->ncols;
        o->col_name[o->ncols] = tg_xstrdup(t);
        o->col_path[o->ncols] = path ? path : o->col_name[o->ncols];
        o->col_idx[o->ncols] =
            path && path[0] == '(' ? -1 : tg_fields_add(&f->fields, o->col_path[o->ncols]);
        o->ncols++;
    }
    free(copy);
    if (o->ncols == 0)
        return tg_usage_error(cmd, "--fields '%s': name at least one field", spec);
    /* NDJSON nests by path: order the columns so that paths sharing a
     * prefix are adjacent (insertion sort by components; a handful) */
    for (size_t i = 1; i < o->ncols; i++)
        for (size_t j = i; j > 0 && tg_path_cmp(tg_out_key(o, o->col_order[j - 1]),
                                                tg_out_key(o, o->col_order[j])) > 0;
             j--) {
            size_t t = o->col_order[j];
            o->col_order[j] = o->col_order[j - 1];
            o->col_order[j - 1] = t;
        }
    return 0;
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
        size_t n = o->ncols;
        for (size_t i = 0; n ? i < n : tg_csv_cols[i] != NULL; i++) {
            if (i)
                tg_buf_putc(&o->line, ',');
            tg_csv_cell(&o->line, n ? o->col_name[i] : tg_csv_cols[i]);
        }
        tg_buf_puts(&o->line, "\r\n");
    } else if (fmt == TG_OUT_TABLE && o->ncols) {
        for (size_t i = 0; i < o->ncols; i++) {
            char title[64];
            snprintf(title, sizeof(title), "%s", o->col_name[i]);
            for (char *p = title; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            bool last = i + 1 == o->ncols;
            tg_table_cell(&o->line, title,
                          last                                   ? 64
                          : strcmp(o->col_path[i], "@timestamp") ? 16
                                                                 : 20,
                          !last);
            if (!last)
                tg_buf_putc(&o->line, ' ');
        }
        tg_buf_putc(&o->line, '\n');
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

/* A time to the second for the table (the full time is in ndjson). */
static const char *tg_table_time(const char *v, char ts[21])
{
    if (!v || strlen(v) < 19)
        return v;
    memcpy(ts, v, 19);
    memcpy(ts + 19, "Z", 2);
    return ts;
}

/* The value of column i of a projection. */
static const char *tg_out_col(const struct tg_out *o, struct tg_record *r, size_t i)
{
    return o->col_idx[i] >= 0 ? tg_record_get(r, o->col_idx[i], NULL)
                              : tg_record_field(r, o->col_path[i]);
}

/* NDJSON of a projection: the columns' values in objects nested as their
 * paths are (user.name -> {"user":{"name":...}}), in the order given;
 * absent values are left out.  Values are copied as stored. */
static void tg_out_project(const struct tg_out *o, struct tg_record *r, struct tg_buf *b)
{
    tg_buf_putc(b, '{');
    const char *open[TG_JSCAN_MAX_DEPTH];
    size_t open_len[TG_JSCAN_MAX_DEPTH], depth = 0;
    bool first[TG_JSCAN_MAX_DEPTH + 1] = {true};
    for (size_t oi = 0; oi < o->ncols; oi++) {
        size_t i = o->col_order[oi];
        const char *path = tg_out_key(o, i);
        struct tg_jval v;
        struct tg_buf *esc = &r->c->tmp;
        if (o->col_idx[i] >= 0) {
            v = *tg_record_val(r, o->col_idx[i]);
        } else { /* derived, or a path read alone: written as a string */
            const char *t = tg_out_col(o, r, i);
            esc->len = 0;
            if (t)
                tg_json_str(esc, t, strlen(t), NULL);
            v = (struct tg_jval){t ? TG_JSTRING : TG_JABSENT, esc->data + 1, t ? esc->len - 2 : 0,
                                 false};
        }
        if (v.type == TG_JABSENT)
            continue;
        /* the components of path: close what differs, open what is new */
        const char *comp[TG_JSCAN_MAX_DEPTH + 1];
        size_t clen[TG_JSCAN_MAX_DEPTH + 1], nc = 0;
        for (const char *p = path; nc <= TG_JSCAN_MAX_DEPTH;) {
            const char *dot = strchr(p, '.');
            comp[nc] = p;
            clen[nc++] = dot ? (size_t)(dot - p) : strlen(p);
            if (!dot)
                break;
            p = dot + 1;
        }
        size_t same = 0;
        while (same < depth && same + 1 < nc && open_len[same] == clen[same] &&
               memcmp(open[same], comp[same], clen[same]) == 0)
            same++;
        for (; depth > same; depth--)
            tg_buf_putc(b, '}');
        for (size_t k = depth; k < nc; k++) {
            if (!first[k])
                tg_buf_putc(b, ',');
            first[k] = false;
            tg_json_str(b, comp[k], clen[k], NULL);
            tg_buf_putc(b, ':');
            if (k + 1 < nc) {
                tg_buf_putc(b, '{');
                open[k] = comp[k];
                open_len[k] = clen[k];
                first[k + 1] = true;
                depth = k + 1;
            }
        }
        if (v.type == TG_JSTRING) {
            tg_buf_putc(b, '"');
            tg_buf_append(b, v.p, v.n);
            tg_buf_putc(b, '"');
        } else {
            tg_buf_append(b, v.p, v.n);
        }
    }
    for (; depth > 0; depth--)
        tg_buf_putc(b, '}');
    tg_buf_putc(b, '}');
}

void tg_out_render(const struct tg_out *o, struct tg_record *r, struct tg_buf *b)
{
    switch (o->fmt) {
    case TG_OUT_NDJSON:
        if (o->ncols)
            tg_out_project(o, r, b);
        else
            tg_buf_append(b, r->line.p, r->line.len);
        tg_buf_putc(b, '\n');
        return;
    case TG_OUT_CSV: {
        size_t n = o->ncols;
        for (size_t i = 0; n ? i < n : tg_csv_cols[i] != NULL; i++) {
            if (i)
                tg_buf_putc(b, ',');
            tg_csv_cell(b, n ? tg_out_col(o, r, i) : tg_record_field(r, tg_csv_cols[i]));
        }
        tg_buf_puts(b, "\r\n");
        return;
    }
    case TG_OUT_TABLE: {
        int used = 0;
        char ts[21];
        if (o->ncols) {
            for (size_t i = 0; i < o->ncols; i++) {
                bool time = strcmp(o->col_path[i], "@timestamp") == 0;
                const char *v = tg_out_col(o, r, i);
                if (time)
                    v = tg_table_time(v, ts);
                int w = time ? 20 : 16;
                if (i + 1 < o->ncols) {
                    tg_table_cell(b, v, w, true);
                    tg_buf_putc(b, ' ');
                    used += w + 1;
                } else {
                    tg_table_cell(b, v, o->width - used > 20 ? o->width - used : 20, false);
                }
            }
            tg_buf_putc(b, '\n');
            return;
        }
        for (size_t i = 0; i < TG_TABLE_NCOLS; i++) {
            const char *v;
            if (tg_table_cols[i].field) {
                v = tg_record_field(r, tg_table_cols[i].field);
            } else {
                v = tg_record_field(r, "process.command_line");
                if (!v)
                    v = tg_record_field(r, "trailguard.db.statement");
                if (!v)
                    v = tg_record_field(r, "event.original");
            }
            if (i == 0)
                v = tg_table_time(v, ts);
            int w = tg_table_cols[i].width;
            if (w) {
                tg_table_cell(b, v, w, true);
                tg_buf_putc(b, ' ');
                used += w + 1;
            } else {
                tg_table_cell(b, v, o->width - used > 20 ? o->width - used : 20, false);
            }
        }
        tg_buf_putc(b, '\n');
        return;
    }
    }
}

void tg_out_record(struct tg_out *o, struct tg_record *r)
{
    o->line.len = 0;
    tg_out_render(o, r, &o->line);
    fwrite(o->line.data, 1, o->line.len, o->f);
}

void tg_out_end(struct tg_out *o)
{
    fflush(o->f);
    tg_buf_free(&o->line);
    for (size_t i = 0; i < o->ncols; i++)
        free((char *)o->col_name[i]);
    free(o->col_name);
    free(o->col_path);
    free(o->col_idx);
    free(o->col_order);
    o->ncols = 0;
}
