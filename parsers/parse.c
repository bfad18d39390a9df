/*
 * parse.c - classify a record and run the parsers over it.  See parse.h.
 *
 * Order: the syslog envelope (unless --format says the input is bare), then
 * the body parsers in turn; each answers TG_ENOTMINE when the body is not
 * its format.  A record no parser claims stays dataset "syslog" with
 * parse.status "unparsed" and is kept whole in event.original.
 */
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/mem.h"
#include "parsers/parse.h"
#include "parsers/syslog.h"

const char *const tg_format_names[] = {"auto", "syslog", "snoopy", "percona", NULL};

#define OFF(f) offsetof(struct tg_parsers_conf, f)
static const struct tg_opt tg_parsers_opts[] = {
    {"snoopy_format", TG_OPT_STR, NULL, OFF(snoopy_format),
     "snoopy.ini message_format of your fleet, if it is not one of snoopy's defaults"},
    {NULL},
};

const struct tg_section_def tg_parsers_section = {
    .name = "parsers",
    .implicit = true,
    .doc = "Record parsers (snoopy, Percona audit JSON, syslog envelope).",
    .opts = tg_parsers_opts,
    .size = sizeof(struct tg_parsers_conf),
};

struct tg_parse_ctx {
    enum tg_format format;
};

struct tg_parse_ctx *tg_parse_ctx_new(const struct tg_parsers_conf *conf, enum tg_format fmt,
                                      char **err)
{
    struct tg_parse_ctx *pc = tg_xcalloc(1, sizeof(*pc));
    pc->format = fmt;
    *err = NULL;
    return pc;
}

void tg_parse_ctx_free(struct tg_parse_ctx *pc)
{
    free(pc);
}

void tg_parse_event(const struct tg_parse_ctx *pc, struct tg_event *ev)
{
    if (pc->format == TG_FMT_AUTO || pc->format == TG_FMT_SYSLOG)
        tg_syslog_parse(ev);
    ev->dataset = TG_DS_SYSLOG;
    ev->parse_status = TG_PARSE_UNPARSED;
    if (ev->truncated)
        tg_event_partial(ev, "record truncated by the input's size limit");
}
