/*
 * parse.c - classify a record and run the parsers over it.  See parse.h.
 *
 * --format auto, per record:
 *   1. the syslog envelope; when there is one, the body parsers run on MSG;
 *   2. when the envelope parsed but no body parser claimed MSG, the body
 *      parsers run on the whole record (a bare snoopy record of a custom
 *      format may start with a timestamp and look like a header:
 *      "%{datetime} %{hostname} %{username}: %{cmdline}" does; key=value
 *      formats such as "%{datetime} host=%{hostname} ..." do not, see
 *      syslog.c);
 *   3. otherwise the record stays dataset "syslog", parse.status
 *      "unparsed", with the envelope fields it had.
 * Body parsers: Percona claims bodies that start like JSON ('{', or the
 * audit_log_filter "TAG: {" syslog form); sudo claims the MSG of a record
 * whose syslog tag is sudo when it is one of sudo's log lines; snoopy tries
 * its compiled formats (the configured snoopy_format first, then snoopy's
 * built-in defaults).  --format syslog requires the envelope; --format
 * snoopy / percona / sudo run only that body parser (sudo whatever the
 * tag), on the bare record first and then on the MSG of an envelope if the
 * record has one.  TG_FMT_INTERNAL (the internal source's records) runs
 * parsers/internal.c and nothing else.
 *
 * The context is built once and read-only afterwards: any number of
 * worker threads share it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/mem.h"
#include "parsers/internal.h"
#include "parsers/parse.h"
#include "parsers/percona.h"
#include "parsers/snoopy.h"
#include "parsers/sudo.h"
#include "parsers/syslog.h"

const char *const tg_format_names[] = {"auto", "syslog", "snoopy", "percona", "sudo", NULL};

#define OFF(f) offsetof(struct tg_parsers_conf, f)
static const struct tg_opt tg_parsers_opts[] = {
    {"snoopy_format", TG_OPT_STR, NULL, OFF(snoopy_format),
     "snoopy.ini message_format of your fleet, if it is not one of snoopy's defaults "
     "(tried first; the upstream and Debian defaults are always tried too)"},
    {NULL},
};

const struct tg_section_def tg_parsers_section = {
    .name = "parsers",
    .implicit = true,
    .doc = "Record parsers (snoopy, Percona audit JSON, syslog envelope).",
    .opts = tg_parsers_opts,
    .size = sizeof(struct tg_parsers_conf),
};

#define TG_SNOOPY_MAX_FMTS 8 /* the configured one + the built-in ones */

struct tg_parse_ctx {
    enum tg_format format;
    size_t nsnoopy;
    struct tg_snoopy_fmt *snoopy[TG_SNOOPY_MAX_FMTS];
};

struct tg_parse_ctx *tg_parse_ctx_new(const struct tg_parsers_conf *conf, enum tg_format fmt,
                                      char **err)
{
    struct tg_parse_ctx *pc = tg_xcalloc(1, sizeof(*pc));
    pc->format = fmt;
    *err = NULL;
    if (conf && conf->snoopy_format) {
        /* snoopy.ini values may be quoted: accept the line as copied from it */
        const char *f = conf->snoopy_format;
        size_t n = strlen(f);
        char *tmpl =
            n >= 2 && f[0] == '"' && f[n - 1] == '"' ? tg_xstrndup(f + 1, n - 2) : tg_xstrdup(f);
        int rc = tg_snoopy_compile(tmpl, &pc->snoopy[0], err);
        free(tmpl);
        if (rc != 0) {
            free(pc);
            return NULL;
        }
        pc->nsnoopy = 1;
    }
    for (size_t i = 0; tg_snoopy_builtin_formats[i]; i++) {
        char *e = NULL;
        if (tg_snoopy_compile(tg_snoopy_builtin_formats[i], &pc->snoopy[pc->nsnoopy], &e) != 0) {
            *err = e; /* a built-in that does not compile is a bug caught by the tests */
            tg_parse_ctx_free(pc);
            return NULL;
        }
        pc->nsnoopy++;
    }
    return pc;
}

void tg_parse_ctx_free(struct tg_parse_ctx *pc)
{
    if (!pc)
        return;
    for (size_t i = 0; i < pc->nsnoopy; i++)
        tg_snoopy_free(pc->snoopy[i]);
    free(pc);
}

/* Run the body parsers the format allows; 0 when one claimed the body. */
static int tg_parse_body(const struct tg_parse_ctx *pc, struct tg_event *ev, struct tg_str body)
{
    if (pc->format == TG_FMT_SUDO)
        return tg_sudo_parse(ev, body);
    if (pc->format != TG_FMT_SNOOPY && tg_percona_claims(body) && tg_percona_parse(ev, body) == 0)
        return 0;
    if (pc->format != TG_FMT_PERCONA && pc->format != TG_FMT_SNOOPY &&
        tg_str_eq(ev->sl_appname, "sudo") && tg_sudo_parse(ev, body) == 0)
        return 0;
    if (pc->format != TG_FMT_PERCONA &&
        tg_snoopy_parse((const struct tg_snoopy_fmt *const *)pc->snoopy, pc->nsnoopy, ev, body) ==
            0)
        return 0;
    return TG_ENOTMINE;
}

void tg_parse_event(const struct tg_parse_ctx *pc, struct tg_event *ev)
{
    bool header = false, claimed = false;
    switch (pc->format) {
    case TG_FMT_INTERNAL:
        tg_internal_parse(ev);
        return;
    case TG_FMT_AUTO:
    case TG_FMT_SYSLOG:
        header = tg_syslog_parse(ev) == 0;
        if (header)
            claimed = tg_parse_body(pc, ev, ev->body) == 0;
        if (!claimed && pc->format == TG_FMT_AUTO) {
            if (header)
                tg_syslog_clear(ev);
            claimed = tg_parse_body(pc, ev, ev->original) == 0;
            if (!claimed && header)
                tg_syslog_parse(ev);
        }
        break;
    case TG_FMT_SNOOPY:
    case TG_FMT_PERCONA:
    case TG_FMT_SUDO:
        claimed = tg_parse_body(pc, ev, ev->original) == 0;
        if (!claimed) {
            header = tg_syslog_parse(ev) == 0;
            if (header)
                claimed = tg_parse_body(pc, ev, ev->body) == 0;
        }
        break;
    }
    if (claimed && ev->parse_status == TG_PARSE_OK && ev->parse_error.p)
        ev->parse_status = TG_PARSE_PARTIAL; /* the envelope had a problem */
    if (!claimed) {
        ev->dataset = TG_DS_SYSLOG;
        ev->parse_status = TG_PARSE_UNPARSED;
        if (pc->format == TG_FMT_SYSLOG && !header)
            tg_event_partial(ev, "no syslog header (--format syslog)");
        else if (pc->format == TG_FMT_SNOOPY)
            tg_event_partial(ev, "not a snoopy record of a known format (set [parsers] "
                                 "snoopy_format to your snoopy.ini message_format)");
        else if (pc->format == TG_FMT_PERCONA)
            tg_event_partial(ev, "not a Percona audit JSON record");
        else if (pc->format == TG_FMT_SUDO)
            tg_event_partial(ev, "not one of sudo's log lines (\"user : ... ; COMMAND=...\")");
    }
    if (ev->truncated)
        tg_event_partial(ev, "record truncated by the input's size limit");
}

bool tg_parse_snoopy_record(const struct tg_parse_ctx *pc, const char *p, size_t n)
{
    return tg_snoopy_matches((const struct tg_snoopy_fmt *const *)pc->snoopy, pc->nsnoopy, p, n);
}
