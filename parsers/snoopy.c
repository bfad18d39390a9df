/*
 * snoopy.c - snoopy exec records.  See snoopy.h.
 *
 * Design.  snoopy builds its message by plain text substitution
 * (src/message.c): literal text, then a datasource's output, then literal
 * text, ...  A compiled format is therefore a prefix literal followed by
 * steps "datasource, then the literal that follows it".  Scanning a record
 * walks the steps: a value runs up to the first occurrence of the literal
 * that follows it (the last value runs to the end of the record), which is
 * snoopy's own rule of thumb ("split at the first `]: `").  Values that
 * snoopy could not produce are recognised by their error forms and skipped
 * as a whole, so an error text that contains the following literal does
 * not derail the scan: snoopy 2.5's frame around a failed datasource
 * ("[ERROR: Data source 'x' failed with the following error message:
 * '...']"), 2.4's ("ERROR(Data source failed, msg:...)"), and the
 * "ERROR(...)" that datasources print as their value (username and
 * eusername "ERROR(getpwuid_r)", tty "ERROR(ttyname_r->EBADF)", tty_uid
 * "ERROR(unable to stat() /dev/pts/3)", group "ERROR(getgrgid_r)", ...;
 * Debian's "uid:%{username}(%{uid})" puts a '(' right after such a value).
 * An error value is kept as the field's value; filling the event turns it
 * into an absent field and a reason naming the datasource.  Values are
 * slices of the record: nothing is copied, and only the array of
 * process.args (the words of the command line, see tg_sargs) and the
 * reasons of a partial event are allocated.
 *
 * Formats are tried in order (the configured one, then snoopy's built-in
 * defaults); the first that matches the whole record wins.  If none does,
 * the one that got furthest (at least two datasources) is used and the
 * event is partial: this keeps truncated records and records of a format
 * that changed half-way (an unknown datasource stops snoopy's message)
 * useful.
 *
 * process.pid is %{pid} when the record gives it; else (Debian's and the
 * upstream default formats have no %{pid}) the syslog PROCID of the
 * envelope, when it is a number: snoopy logs from inside the process that
 * calls execve, before the call (src/entrypoint/execve-wrapper.c); its
 * devlog output writes "<PRI>ident[getpid()]: " (src/output/devlogoutput.c;
 * the syslog output uses openlog(LOG_PID)); and execve keeps the pid.
 *
 * Ownership: a struct tg_snoopy_fmt owns one heap block (its steps and a
 * copy of the template text they point into); it is immutable after
 * tg_snoopy_compile and shared read-only by all workers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "parsers/snoopy.h"

/* Where a datasource's value goes.  Datasources that have no event field are
 * scanned (to find where the next one starts) and dropped. */
enum tg_sslot {
    S_NONE = 0,
    S_CMDLINE,
    S_CWD,
    S_DATETIME,
    S_EUID,
    S_EUSERNAME,
    S_FILENAME,
    S_HOSTNAME,
    S_IPADDR,
    S_LOGIN,
    S_PID,
    S_PPID,
    S_SID,
    S_TIMESTAMP,
    S_TIMESTAMP_MS,
    S_TIMESTAMP_US,
    S_TTY,
    S_TTY_UID,
    S_TTY_USERNAME,
    S_UID,
    S_USERNAME,
    S_SSH_CONNECTION, /* env:SSH_CONNECTION "client_ip client_port server_ip server_port" */
    S_SSH_CLIENT,     /* env:SSH_CLIENT "client_ip client_port server_port" */
    S_COUNT
};

#define SF_DIGITS  0x1u /* always a decimal number: may be followed directly by another field */
#define SF_LITERAL 0x2u /* snoopy_literal: its argument is literal text */

struct tg_sds {
    const char *name;
    enum tg_sslot slot;
    unsigned flags;
};

/* Every datasource of snoopy 2.4.x and 2.5.x (src/datasourceregistry.c),
 * plus 2.5's test-only "failure" and "noop". */
static const struct tg_sds tg_sds_table[] = {
    {"cgroup", S_NONE, 0},
    {"cmdline", S_CMDLINE, 0},
    {"cwd", S_CWD, 0},
    {"datetime", S_DATETIME, 0},
    {"domain", S_NONE, 0},
    {"egid", S_NONE, SF_DIGITS},
    {"egroup", S_NONE, 0},
    {"env", S_NONE, 0},
    {"env_all", S_NONE, 0},
    {"euid", S_EUID, SF_DIGITS},
    {"eusername", S_EUSERNAME, 0},
    {"failure", S_NONE, 0},
    {"filename", S_FILENAME, 0},
    {"gid", S_NONE, SF_DIGITS},
    {"group", S_NONE, 0},
    {"hostname", S_HOSTNAME, 0},
    {"ipaddr", S_IPADDR, 0},
    {"login", S_LOGIN, 0},
    {"noop", S_NONE, 0},
    {"pid", S_PID, SF_DIGITS},
    {"ppid", S_PPID, SF_DIGITS},
    {"rpname", S_NONE, 0},
    {"sid", S_SID, SF_DIGITS},
    {"snoopy_configure_command", S_NONE, 0},
    {"snoopy_literal", S_NONE, SF_LITERAL},
    {"snoopy_threads", S_NONE, SF_DIGITS},
    {"snoopy_version", S_NONE, 0},
    {"systemd_unit_name", S_NONE, 0},
    {"tid", S_NONE, SF_DIGITS},
    {"tid_kernel", S_NONE, SF_DIGITS},
    {"timestamp", S_TIMESTAMP, SF_DIGITS},
    {"timestamp_ms", S_TIMESTAMP_MS, SF_DIGITS},
    {"timestamp_us", S_TIMESTAMP_US, SF_DIGITS},
    {"tty", S_TTY, 0},
    {"tty_uid", S_TTY_UID, 0},
    {"tty_username", S_TTY_USERNAME, 0},
    {"uid", S_UID, SF_DIGITS},
    {"username", S_USERNAME, 0},
};

struct tg_sstep {
    const struct tg_sds *ds;
    enum tg_sslot slot;
    struct tg_str arg; /* "SSH_CONNECTION" of env:SSH_CONNECTION; may be empty */
    struct tg_str lit; /* literal text after the value; empty: none */
};

struct tg_snoopy_fmt {
    struct tg_str prefix; /* literal text before the first datasource */
    size_t n;
    struct tg_sstep *steps;
    char *text; /* literal texts live here */
};

const char *const tg_snoopy_builtin_formats[] = {
    TG_SNOOPY_FMT_DEBIAN,
    TG_SNOOPY_FMT_UPSTREAM, /* also 1.7.9 - 1.9 when the cwd was readable */
    "[uid:%{uid} sid:%{sid} tty:%{tty} filename:%{filename}]: %{cmdline}",
    "[uid:%{uid} sid:%{sid} cwd:%{cwd} path:%{filename}]: %{cmdline}",
    "[uid:%{uid} sid:%{sid} path:%{filename}]: %{cmdline}",
    "[uid:%{uid} sid:%{sid}]: %{cmdline}",
    "[%{login}, uid:%{uid} sid:%{sid}]: %{cmdline}",
    NULL,
};

/* ------------------------------------------------------------------ compile */

static const struct tg_sds *tg_sds_find(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof(tg_sds_table) / sizeof(tg_sds_table[0]); i++)
        if (strlen(tg_sds_table[i].name) == n && memcmp(tg_sds_table[i].name, p, n) == 0)
            return &tg_sds_table[i];
    return NULL;
}

int tg_snoopy_compile(const char *tmpl, struct tg_snoopy_fmt **out, char **err)
{
    size_t tl = strlen(tmpl);
    struct tg_snoopy_fmt *f = tg_xcalloc(1, sizeof(*f));
    /* literal text never grows: the template's length bounds it */
    f->text = tg_xmalloc(tl + 1);
    f->steps = tg_xcalloc(tl / 3 + 1, sizeof(*f->steps));
    char *w = f->text;
    struct tg_str *lit = &f->prefix;
    *lit = tg_str_make(w, 0);
    const char *p = tmpl;
    *err = NULL;
    while (*p) {
        const char *tag = strstr(p, "%{");
        size_t plain = tag ? (size_t)(tag - p) : strlen(p);
        memcpy(w, p, plain);
        w += plain;
        lit->len += plain;
        if (!tag)
            break;
        const char *close = strchr(tag + 2, '}');
        if (!close) {
            *err = tg_xasprintf("snoopy_format: '%%{' at offset %zu has no closing '}'; "
                                "copy message_format from snoopy.ini exactly",
                                (size_t)(tag - tmpl));
            goto fail;
        }
        const char *name = tag + 2, *colon = memchr(name, ':', (size_t)(close - name));
        size_t nl = (size_t)((colon ? colon : close) - name);
        const struct tg_sds *ds = tg_sds_find(name, nl);
        if (!ds) {
            *err = tg_xasprintf("snoopy_format: unknown datasource '%%{%.*s}' (snoopy 2.5 "
                                "knows cmdline, cwd, datetime, env:VAR, filename, login, pid, "
                                "sid, tty, uid, username, ...); check the spelling",
                                (int)nl, name);
            goto fail;
        }
        struct tg_str arg =
            colon ? tg_str_make(colon + 1, (size_t)(close - colon - 1)) : tg_str_make(close, 0);
        p = close + 1;
        if (ds->flags & SF_LITERAL) { /* its output is its argument */
            memcpy(w, arg.p, arg.len);
            w += arg.len;
            lit->len += arg.len;
            continue;
        }
        if (f->n > 0 && lit->len == 0 && !(f->steps[f->n - 1].ds->flags & SF_DIGITS)) {
            *err = tg_xasprintf("snoopy_format: %%{%s} is directly followed by %%{%.*s}, so "
                                "their values cannot be told apart; put a separator "
                                "between them in snoopy.ini and here",
                                f->steps[f->n - 1].ds->name, (int)nl, name);
            goto fail;
        }
        struct tg_sstep *st = &f->steps[f->n++];
        st->ds = ds;
        st->arg = arg;
        st->slot = ds->slot;
        if (strcmp(ds->name, "env") == 0) {
            if (tg_str_eq(arg, "SSH_CONNECTION"))
                st->slot = S_SSH_CONNECTION;
            else if (tg_str_eq(arg, "SSH_CLIENT"))
                st->slot = S_SSH_CLIENT;
        }
        lit = &st->lit;
        *lit = tg_str_make(w, 0);
    }
    *w = '\0';
    if (f->n == 0) {
        *err = tg_xasprintf("snoopy_format: no %%{datasource} in it; give snoopy.ini's "
                            "message_format, e.g. \"%s\"",
                            TG_SNOOPY_FMT_UPSTREAM);
        goto fail;
    }
    /* the step arguments point into tmpl: re-point them into our copy */
    for (size_t i = 0; i < f->n; i++) {
        struct tg_str a = f->steps[i].arg;
        char *copy = tg_xmalloc(a.len + 1);
        memcpy(copy, a.p, a.len);
        copy[a.len] = '\0';
        f->steps[i].arg = tg_str_make(copy, a.len);
    }
    *out = f;
    return 0;
fail:
    f->n = 0;
    tg_snoopy_free(f);
    *out = NULL;
    return TG_EINVAL;
}

void tg_snoopy_free(struct tg_snoopy_fmt *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free((char *)f->steps[i].arg.p);
    free(f->steps);
    free(f->text);
    free(f);
}

static void tg_buf_quoted(struct tg_buf *b, struct tg_str s)
{
    tg_buf_putc(b, '"');
    tg_buf_append(b, s.p, s.len);
    tg_buf_putc(b, '"');
}

void tg_snoopy_describe(const struct tg_snoopy_fmt *f, struct tg_buf *b)
{
    if (f->prefix.len) {
        tg_buf_puts(b, "lit ");
        tg_buf_quoted(b, f->prefix);
        tg_buf_putc(b, '\n');
    }
    for (size_t i = 0; i < f->n; i++) {
        const struct tg_sstep *st = &f->steps[i];
        tg_buf_puts(b, "field ");
        tg_buf_puts(b, st->ds->name);
        if (st->arg.len) {
            tg_buf_putc(b, ':');
            tg_buf_append(b, st->arg.p, st->arg.len);
        }
        if (st->lit.len) {
            tg_buf_puts(b, " until ");
            tg_buf_quoted(b, st->lit);
        } else if (i + 1 < f->n) {
            tg_buf_puts(b, " digits");
        } else {
            tg_buf_puts(b, " rest");
        }
        tg_buf_putc(b, '\n');
    }
}

/* --------------------------------------------------------------------- scan */

struct tg_sscan {
    struct tg_str val[S_COUNT];
    size_t fields;                /* datasources read */
    bool complete;                /* every step matched and the record is used up */
    const struct tg_sds *failed;  /* the first datasource without an event field that
                                     printed an error (errors of fields are their values) */
    const struct tg_sds *missing; /* snoopy stopped: "data source not found" */
    const struct tg_sds *stopped; /* where the scan lost the format */
};

/* First occurrence of [l, l+ln) in [p, e), or NULL.  Literals are short:
 * memchr on the first byte, then compare. */
static const char *tg_sfind(const char *p, const char *e, const char *l, size_t ln)
{
    while ((size_t)(e - p) >= ln) {
        const char *q = memchr(p, l[0], (size_t)(e - p) - ln + 1);
        if (!q)
            return NULL;
        if (memcmp(q + 1, l + 1, ln - 1) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* First `close` immediately followed by `lit` in [p, e); returns the
 * position of `close` or NULL. */
static const char *tg_sfind2(const char *p, const char *e, const char *close, size_t cl,
                             struct tg_str lit)
{
    while ((p = tg_sfind(p, e, close, cl)) != NULL) {
        const char *after = p + cl;
        if (lit.len == 0 || ((size_t)(e - after) >= lit.len && memcmp(after, lit.p, lit.len) == 0))
            return p;
        p++;
    }
    return NULL;
}

/* What snoopy prints for a value it does not have (src/datasource/). */
static const struct tg_str tg_novalue[] = {TG_STR_LIT("(undefined)"), TG_STR_LIT("(unknown)"),
                                           TG_STR_LIT("(none)")};

#define ERR25         "[ERROR: Data source '"
#define ERR25_FAILED  "' failed with the following error message: '"
#define ERR25_MISSING "' not found.]"
#define ERRPAREN      "ERROR(" /* 2.4's frame, and the datasources' own error values */

static bool tg_starts(const char *p, const char *e, const char *lit, size_t ln)
{
    return (size_t)(e - p) >= ln && memcmp(p, lit, ln) == 0;
}

/*
 * Read one value at *pp that ends before `st->lit` (or at e for the last
 * step).  Returns 1 with *val (an error value whole, see tg_errval), 0 when
 * the format does not match here, -1 when snoopy stopped the message here.
 */
static int tg_sscan_value(const struct tg_sstep *st, bool last, const char **pp, const char *e,
                          struct tg_str *val, struct tg_sscan *s)
{
    const char *p = *pp, *end = NULL, *next;
    if (tg_starts(p, e, ERR25, sizeof(ERR25) - 1)) {
        const char *q = tg_sfind(p, e, ERR25_MISSING, sizeof(ERR25_MISSING) - 1);
        if (q && q + sizeof(ERR25_MISSING) - 1 == e) {
            s->missing = st->ds;
            return -1;
        }
        if (tg_sfind(p, e, ERR25_FAILED, sizeof(ERR25_FAILED) - 1)) {
            q = last && !st->lit.len ? (e - 2 >= p && memcmp(e - 2, "']", 2) == 0 ? e - 2 : NULL)
                                     : tg_sfind2(p, e, "']", 2, st->lit);
            if (q)
                end = q + 2;
        }
    } else if (tg_starts(p, e, ERRPAREN, sizeof(ERRPAREN) - 1)) {
        const char *q =
            last && !st->lit.len ? (e[-1] == ')' ? e - 1 : NULL) : tg_sfind2(p, e, ")", 1, st->lit);
        if (q)
            end = q + 1;
    }
    if (end) { /* an error value, skipped whole */
        if (st->slot == S_NONE && !s->failed)
            s->failed = st->ds;
        *val = tg_str_make(p, (size_t)(end - p));
        *pp = end + st->lit.len;
        return 1;
    }
    /* snoopy's "no value" words may contain the next literal: "(undefined)(" */
    for (size_t k = 0; k < sizeof(tg_novalue) / sizeof(tg_novalue[0]) && st->lit.len && !last;
         k++) {
        if (!tg_starts(p, e, tg_novalue[k].p, tg_novalue[k].len))
            continue;
        const char *after = p + tg_novalue[k].len;
        if (tg_starts(after, e, st->lit.p, st->lit.len)) {
            *val = tg_novalue[k];
            *pp = after + st->lit.len;
            return 1;
        }
    }
    if (st->lit.len == 0) {
        if (last) {
            end = e;
        } else { /* directly followed by another field: digits only */
            end = p;
            while (end < e && *end >= '0' && *end <= '9')
                end++;
            if (end == p)
                return 0;
        }
        next = end;
    } else if (last) { /* a trailing literal closes the record */
        if ((size_t)(e - p) < st->lit.len || memcmp(e - st->lit.len, st->lit.p, st->lit.len) != 0)
            return 0;
        end = e - st->lit.len;
        next = e;
    } else {
        end = tg_sfind(p, e, st->lit.p, st->lit.len);
        if (!end)
            return 0;
        next = end + st->lit.len;
    }
    *val = tg_str_make(p, (size_t)(end - p));
    *pp = next;
    return 1;
}

static void tg_sscan_run(const struct tg_snoopy_fmt *f, const char *p, size_t len,
                         struct tg_sscan *s)
{
    const char *e = p + len;
    memset(s, 0, sizeof(*s));
    if (!tg_starts(p, e, f->prefix.p, f->prefix.len))
        return;
    p += f->prefix.len;
    for (size_t i = 0; i < f->n; i++) {
        const struct tg_sstep *st = &f->steps[i];
        struct tg_str v;
        int rc = tg_sscan_value(st, i + 1 == f->n, &p, e, &v, s);
        if (rc <= 0) {
            if (rc == 0)
                s->stopped = st->ds;
            return;
        }
        s->fields++;
        if (st->slot != S_NONE && !s->val[st->slot].p)
            s->val[st->slot] = v;
    }
    s->complete = p == e;
}

bool tg_snoopy_matches(const struct tg_snoopy_fmt *const *fmts, size_t n, const char *p, size_t len)
{
    struct tg_sscan s;
    for (size_t i = 0; i < n; i++) {
        tg_sscan_run(fmts[i], p, len, &s);
        if (s.complete)
            return true;
    }
    return false;
}

/* --------------------------------------------------------------------- fill */

/* snoopy's words for "no value" (its src/datasource/ files) */
static bool tg_sentinel(struct tg_str v)
{
    return !v.p || v.len == 0 || tg_str_eq(v, "(unknown)") || tg_str_eq(v, "(undefined)") ||
           tg_str_eq(v, "(none)");
}

/* A value snoopy could not produce: its error frames (kept whole by the
 * scanner) and the errors datasources print as their value ("ERROR(...)";
 * "(error @ ...)" of datetime, hostname, tid, timestamp; 2.5's username and
 * tty_username when getpwuid_r fails). */
static bool tg_errval(struct tg_str v)
{
    return v.p && (tg_starts(v.p, v.p + v.len, ERRPAREN, sizeof(ERRPAREN) - 1) ||
                   tg_starts(v.p, v.p + v.len, ERR25, sizeof(ERR25) - 1) ||
                   tg_starts(v.p, v.p + v.len, "(error", 6) ||
                   tg_str_eq(v, "Unable to convert UID to username"));
}

/* Arena copy of a reason naming a datasource. */
static void tg_sreason(struct tg_event *ev, const char *what, const char *ds)
{
    size_t a = strlen(what), b = strlen(ds);
    char *r = tg_arena_alloc(&ev->arena, a + b + 1);
    memcpy(r, what, a);
    memcpy(r + a, ds, b + 1);
    tg_event_partial(ev, r);
}

/* A value: absent for snoopy's "no value" words, and absent and reported
 * for an error text. */
static struct tg_str tg_sstr(struct tg_event *ev, struct tg_str v, const char *name)
{
    if (tg_errval(v)) {
        tg_sreason(ev, "snoopy could not read ", name);
        return TG_STR_NULL;
    }
    return tg_sentinel(v) ? TG_STR_NULL : v;
}

/* A decimal value; a value that is not a number is reported. */
static int64_t tg_snum(struct tg_event *ev, struct tg_str v, const char *name)
{
    v = tg_sstr(ev, v, name);
    if (!v.p)
        return TG_NUM_NONE;
    int64_t n = tg_str_digits(v);
    if (n < 0) {
        tg_sreason(ev, "snoopy value is not a number: ", name);
        return TG_NUM_NONE;
    }
    return n;
}

/* "client_ip client_port ..." of SSH_CONNECTION / SSH_CLIENT (a value). */
static void tg_sssh(struct tg_event *ev, struct tg_str v)
{
    const char *sp = memchr(v.p, ' ', v.len);
    if (!sp || sp == v.p) {
        tg_event_partial(ev, "snoopy SSH_CONNECTION is not \"ip port ip port\"");
        return;
    }
    struct tg_str ip = tg_str_make(v.p, (size_t)(sp - v.p));
    for (size_t i = 0; i < ip.len; i++) {
        char c = ip.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '.' || c == ':' || c == '%')) {
            tg_event_partial(ev, "snoopy SSH_CONNECTION is not \"ip port ip port\"");
            return;
        }
    }
    ev->source_ip = ip;
    const char *pe = sp + 1, *e = v.p + v.len;
    while (pe < e && *pe != ' ')
        pe++;
    struct tg_str port = tg_str_make(sp + 1, (size_t)(pe - sp - 1));
    int64_t pn = tg_str_digits(port);
    if (pn >= 0 && pn <= 65535)
        ev->source_port = pn;
}

static void tg_stime(struct tg_event *ev, const struct tg_sscan *s)
{
    struct tg_str dt = tg_sstr(ev, s->val[S_DATETIME], "datetime");
    struct tg_str ts = tg_sstr(ev, s->val[S_TIMESTAMP], "timestamp");
    struct tg_str us = tg_sstr(ev, s->val[S_TIMESTAMP_US], "timestamp_us");
    struct tg_str ms = tg_sstr(ev, s->val[S_TIMESTAMP_MS], "timestamp_ms");
    struct tg_time t;
    if (dt.p && tg_time_parse_iso(dt.p, dt.len, &t) == dt.len) {
        ev->timestamp = t;
    } else if (tg_str_digits(ts) >= 0) {
        t = (struct tg_time){tg_str_digits(ts), 0, 0};
        if (us.len == 6 && tg_str_digits(us) >= 0) {
            t.nsec = (int32_t)tg_str_digits(us) * 1000;
            t.frac = 6;
        } else if (ms.len == 3 && tg_str_digits(ms) >= 0) {
            t.nsec = (int32_t)tg_str_digits(ms) * 1000000;
            t.frac = 3;
        }
        ev->timestamp = t;
    }
}

/* process.args: snoopy joins the argv with single spaces (its cmdline
 * datasource), so the words of the command line are the arguments as far
 * as the record tells: an argument that held a space reads as two, and
 * empty arguments are empty words.  Slices of the command line. */
static void tg_sargs(struct tg_event *ev, struct tg_str cmd)
{
    if (!cmd.len)
        return;
    size_t n = 1;
    for (size_t i = 0; i < cmd.len; i++)
        n += cmd.p[i] == ' ';
    struct tg_str *a = tg_arena_alloc(&ev->arena, n * sizeof(*a));
    const char *p = cmd.p, *e = cmd.p + cmd.len;
    for (size_t k = 0; k < n; k++) {
        const char *sp = k + 1 < n ? memchr(p, ' ', (size_t)(e - p)) : e;
        a[k] = tg_str_make(p, (size_t)(sp - p));
        p = sp + 1;
    }
    ev->args = a;
    ev->nargs = n;
}

#define TG_SNOOPY_VALUE_MAX 2047 /* SNOOPY_DATASOURCE_MESSAGE_MAX_SIZE - 1 */

static void tg_sfill(struct tg_event *ev, const struct tg_snoopy_fmt *f, const struct tg_sscan *s)
{
    const struct tg_str *v = s->val;
    ev->dataset = TG_DS_SNOOPY;
    ev->parse_status = TG_PARSE_OK;
    ev->action = TG_STR_LIT("exec");
    ev->category[0] = "process";
    ev->type[0] = "start";
    ev->outcome = TG_OUTCOME_UNKNOWN;

    struct tg_str login = tg_sstr(ev, v[S_LOGIN], "login");
    struct tg_str uname = tg_sstr(ev, v[S_USERNAME], "username");
    ev->user_name = login.p ? login : uname;
    struct tg_str uid = TG_STR_NULL;
    if (v[S_UID].p && tg_snum(ev, v[S_UID], "uid") != TG_NUM_NONE)
        uid = v[S_UID];
    /* the tty's owner (Debian's "(1000/alice)"): the login's own id */
    struct tg_str tty_user = tg_sstr(ev, v[S_TTY_USERNAME], "tty_username");
    struct tg_str tty_uid = TG_STR_NULL;
    if (v[S_TTY_UID].p && tg_snum(ev, v[S_TTY_UID], "tty_uid") != TG_NUM_NONE)
        tty_uid = v[S_TTY_UID];
    if (!login.p || tg_str_same(login, uname)) {
        ev->user_id = uid;
    } else { /* the login is someone else (su, sudo -i): uid is the real user's */
        ev->user_real_name = uname;
        ev->user_real_id = uid;
        if (tg_str_same(login, tty_user))
            ev->user_id = tty_uid;
    }
    ev->user_eff_name = tg_sstr(ev, v[S_EUSERNAME], "eusername");
    if (v[S_EUID].p && tg_snum(ev, v[S_EUID], "euid") != TG_NUM_NONE)
        ev->user_eff_id = v[S_EUID];

    ev->pid = tg_snum(ev, v[S_PID], "pid");
    if (ev->pid == TG_NUM_NONE && tg_str_digits(ev->sl_procid) >= 0)
        ev->pid = tg_str_digits(ev->sl_procid); /* "snoopy[PID]:", see the top of this file */
    ev->ppid = tg_snum(ev, v[S_PPID], "ppid");
    ev->session_leader_pid = tg_snum(ev, v[S_SID], "sid");
    ev->executable = tg_sstr(ev, v[S_FILENAME], "filename");
    ev->command_line = tg_sstr(ev, v[S_CMDLINE], "cmdline");
    tg_sargs(ev, ev->command_line);
    ev->working_directory = tg_sstr(ev, v[S_CWD], "cwd");
    struct tg_str tty = tg_sstr(ev, v[S_TTY], "tty");
    if (tty.len > 5 && memcmp(tty.p, "/dev/", 5) == 0)
        tty = tg_str_make(tty.p + 5, tty.len - 5);
    ev->tty = tty;

    struct tg_str ssh =
        tg_sstr(ev, v[S_SSH_CONNECTION].p ? v[S_SSH_CONNECTION] : v[S_SSH_CLIENT], "env");
    if (ssh.p)
        tg_sssh(ev, ssh);
    struct tg_str ip = tg_sstr(ev, v[S_IPADDR], "ipaddr");
    if (!ev->source_ip.p && ip.p && !tg_str_eq(ip, "-"))
        ev->source_ip = ip;
    struct tg_str host = tg_sstr(ev, v[S_HOSTNAME], "hostname");
    if (!ev->host_name.p && host.p)
        ev->host_name = host;
    tg_stime(ev, s);

    for (int k = 1; k < S_COUNT; k++)
        if (v[k].len == TG_SNOOPY_VALUE_MAX) {
            const char *name = "a value";
            for (size_t i = 0; i < f->n; i++)
                if (f->steps[i].slot == (enum tg_sslot)k)
                    name = f->steps[i].ds->name;
            tg_sreason(ev, "snoopy cut this value at 2047 bytes: ", name);
        }
    if (s->failed)
        tg_sreason(ev, "snoopy could not read ", s->failed->name);
    if (s->missing)
        tg_sreason(ev,
                   "snoopy stopped the message: its format names a datasource it does "
                   "not have, after ",
                   s->missing->name);
    else if (!s->complete)
        tg_sreason(ev, "record does not follow the snoopy format from datasource ",
                   s->stopped ? s->stopped->name : "(end)");
}

/* rsyslog escapes control bytes on receipt as "#ooo" (#000..#037). */
static bool tg_has_rsyslog_escape(struct tg_str b)
{
    const char *p = b.p, *e = b.p + b.len;
    while ((p = memchr(p, '#', (size_t)(e - p))) != NULL) {
        if (e - p >= 4 && p[1] == '0' && p[2] >= '0' && p[2] <= '3' && p[3] >= '0' && p[3] <= '7')
            return true;
        p++;
    }
    return false;
}

int tg_snoopy_parse(const struct tg_snoopy_fmt *const *fmts, size_t n, struct tg_event *ev,
                    struct tg_str body)
{
    struct tg_sscan s, best;
    size_t best_i = n;
    best.fields = 0;
    for (size_t i = 0; i < n; i++) {
        tg_sscan_run(fmts[i], body.p, body.len, &s);
        if (s.complete || s.missing) {
            best = s;
            best_i = i;
            break;
        }
        if (s.fields >= 2 && s.fields > best.fields) {
            best = s;
            best_i = i;
        }
    }
    if (best_i == n)
        return TG_ENOTMINE;
    tg_sfill(ev, fmts[best_i], &best);
    if (memchr(body.p, '\n', body.len))
        tg_event_partial(ev, "record spans several lines (an argument contained a newline)");
    if (tg_has_rsyslog_escape(body))
        tg_event_partial(ev, "rsyslog escaped control characters as #ooo; kept as received");
    return 0;
}
