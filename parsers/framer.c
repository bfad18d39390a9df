/*
 * framer.c - lines to records.  See framer.h.
 *
 * States: IDLE (nothing held), SNOOPY (a bare snoopy record is held until
 * the next line shows whether it continues), JSON (the lines of a
 * pretty-printed object are being collected).
 *  - A JSON object starts only on a line that is exactly "{" after
 *    trimming, which is how the audit_log_filter pretty printer starts a
 *    record; a single-line record, even one cut short, is never held, so
 *    a broken line cannot swallow the lines after it.  The object ends when
 *    its braces balance (counted outside strings); its trailing ',' is
 *    dropped.  More than `max` bytes ends it as cut.
 *  - A line that follows a held snoopy record and is not itself a snoopy
 *    record, nor starts like a syslog header or a JSON object, is a
 *    continuation: "\n" + line is appended.  Blank lines after a held
 *    record are kept aside: they belong to it (an argument with "\n\n")
 *    when a continuation follows them, else they are skipped.
 *  - Blank lines outside a record are skipped (counted).
 *  - Trimmed lines "[", "]" and "[]" are the array's brackets: skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "parsers/framer.h"

enum tg_fstate { F_IDLE = 0, F_SNOOPY, F_JSON };

struct tg_framer {
    const struct tg_parse_ctx *pc;
    size_t max; /* the longest record */
    enum tg_fstate state;
    struct tg_buf held;
    bool held_cut;
    uint64_t held_pos; /* position of the held record's first line */
    uint64_t blanks;   /* SNOOPY: blank lines after the held record */
    int depth;         /* JSON: open braces */
    bool in_str;       /* JSON: inside a string */
    bool esc;          /* JSON: after a backslash in a string */
    uint64_t skipped;
};

struct tg_framer *tg_framer_new(const struct tg_parse_ctx *pc, size_t max)
{
    struct tg_framer *f = tg_xcalloc(1, sizeof(*f));
    f->pc = pc;
    f->max = max;
    f->held = TG_BUF_INIT;
    return f;
}

void tg_framer_free(struct tg_framer *f)
{
    if (!f)
        return;
    tg_buf_free(&f->held);
    free(f);
}

uint64_t tg_framer_skipped(const struct tg_framer *f)
{
    return f->skipped;
}

bool tg_framer_holding(const struct tg_framer *f, uint64_t *pos)
{
    *pos = f->held_pos;
    return f->state != F_IDLE;
}

static void tg_ftrim(const char **p, size_t *n)
{
    while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
        (*n)--;
}

/* A line that starts like a record of another kind (a syslog header, a
 * JSON object) never continues a snoopy record. */
static bool tg_fstarts_record(const char *p, size_t n)
{
    struct tg_time t;
    if (n >= 3 && p[0] == '<' && p[1] >= '0' && p[1] <= '9')
        return true;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < n && p[i] == '{')
        return true;
    return tg_time_parse_iso(p, n, &t) > 0 || tg_time_parse_bsd(p, n, 0, &t) > 0;
}

static void tg_fjson_scan(struct tg_framer *f, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (f->in_str) {
            if (f->esc)
                f->esc = false;
            else if (c == '\\')
                f->esc = true;
            else if (c == '"')
                f->in_str = false;
        } else if (c == '"') {
            f->in_str = true;
        } else if (c == '{') {
            f->depth++;
        } else if (c == '}') {
            f->depth--;
        }
    }
}

static void tg_femit_held(struct tg_framer *f, tg_frame_fn emit, void *ctx)
{
    f->skipped += f->blanks; /* blank lines that no continuation followed */
    f->blanks = 0;
    if (f->state == F_IDLE)
        return;
    const char *p = f->held.data;
    size_t n = f->held.len;
    if (f->state == F_JSON) { /* the separator after the object is not part of it */
        while (n && (p[n - 1] == ',' || p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\n'))
            n--;
    }
    emit(ctx, p, n, f->held_cut, f->held_pos);
    f->state = F_IDLE;
    f->held.len = 0;
    f->held_cut = false;
}

static void tg_fhold(struct tg_framer *f, enum tg_fstate st, const char *line, size_t len, bool cut,
                     uint64_t pos)
{
    f->state = st;
    f->held_pos = pos;
    f->held.len = 0;
    tg_buf_append(&f->held, line, len);
    f->held_cut = cut;
}

static void tg_fappend(struct tg_framer *f, const char *line, size_t len, bool cut)
{
    tg_buf_putc(&f->held, '\n');
    tg_buf_append(&f->held, line, len);
    f->held_cut |= cut;
}

void tg_framer_line(struct tg_framer *f, const char *line, size_t len, bool cut, uint64_t pos,
                    tg_frame_fn emit, void *ctx)
{
    if (f->state == F_JSON) {
        tg_fappend(f, line, len, cut);
        tg_fjson_scan(f, line, len);
        if (f->depth <= 0 || f->held.len > f->max) {
            f->held_cut |= f->depth > 0;
            tg_femit_held(f, emit, ctx);
        }
        return;
    }
    if (f->state == F_SNOOPY) {
        if (len == 0 && f->held.len + f->blanks < f->max) {
            f->blanks++;
            return;
        }
        if (len && !tg_fstarts_record(line, len) && !tg_parse_snoopy_record(f->pc, line, len) &&
            f->held.len + f->blanks < f->max) {
            for (; f->blanks; f->blanks--)
                tg_fappend(f, "", 0, false);
            tg_fappend(f, line, len, cut);
            return;
        }
        tg_femit_held(f, emit, ctx);
    }
    if (len == 0) {
        f->skipped++;
        return;
    }
    const char *t = line;
    size_t tn = len;
    tg_ftrim(&t, &tn);
    if ((tn == 1 && (t[0] == '[' || t[0] == ']')) || (tn == 2 && t[0] == '[' && t[1] == ']')) {
        f->skipped++;
        return;
    }
    if (tn == 1 && t[0] == '{') {
        tg_fhold(f, F_JSON, line, len, cut, pos);
        f->depth = 1;
        f->in_str = f->esc = false;
        return;
    }
    if (!cut && tg_parse_snoopy_record(f->pc, line, len)) {
        tg_fhold(f, F_SNOOPY, line, len, cut, pos);
        return;
    }
    emit(ctx, line, len, cut, pos);
}

void tg_framer_idle(struct tg_framer *f, tg_frame_fn emit, void *ctx)
{
    if (f->state == F_SNOOPY)
        tg_femit_held(f, emit, ctx);
}

void tg_framer_finish(struct tg_framer *f, tg_frame_fn emit, void *ctx)
{
    if (f->state == F_JSON && f->depth > 0)
        f->held_cut = true;
    tg_femit_held(f, emit, ctx);
}
