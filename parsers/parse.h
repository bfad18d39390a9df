/*
 * parse.h - record classification: the syslog envelope, then the body
 * parsers, per SPEC.md section 5.
 *
 * tg_parse_event() is a pure function of (context, record): it fills the
 * event's fields, allocating only in the event's arena.  Malformed input
 * becomes an `unparsed` or `partial` event, never a drop or a crash.  The
 * context is built once from [parsers] and the --format choice and is then
 * read-only, shared by all worker threads.
 */
#ifndef TG_PARSE_H
#define TG_PARSE_H

#include "core/config.h"
#include "core/event.h"

enum tg_format { TG_FMT_AUTO = 0, TG_FMT_SYSLOG, TG_FMT_SNOOPY, TG_FMT_PERCONA };

/* Names of the formats in enum order, NULL-terminated ("auto", "syslog", ...). */
extern const char *const tg_format_names[];

/* [parsers] */
struct tg_parsers_conf {
    char *snoopy_format; /* snoopy.ini message_format, or NULL for the built-in ones */
};
extern const struct tg_section_def tg_parsers_section;

struct tg_parse_ctx;

/* Build the context; on error returns NULL and sets *err (caller frees). */
struct tg_parse_ctx *tg_parse_ctx_new(const struct tg_parsers_conf *conf, enum tg_format fmt,
                                      char **err);
void tg_parse_ctx_free(struct tg_parse_ctx *pc);

/* Parse ev->original into ev's fields.  Worker thread; pure. */
void tg_parse_event(const struct tg_parse_ctx *pc, struct tg_event *ev);

#endif
