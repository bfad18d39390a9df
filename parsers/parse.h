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

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/event.h"

/* TG_FMT_INTERNAL: trailguard's own records (parsers/internal.h); only the
 * internal source's records are parsed so, and it has no name below, so no
 * configuration or command line can choose it.  The values of the others
 * are kept in the spool with each stream record: new ones go before it. */
enum tg_format {
    TG_FMT_AUTO = 0,
    TG_FMT_SYSLOG,
    TG_FMT_SNOOPY,
    TG_FMT_PERCONA,
    TG_FMT_SUDO,
    TG_FMT_INTERNAL
};

/* Names of the formats a user can choose, in enum order, NULL-terminated
 * ("auto", "syslog", "snoopy", "percona", "sudo"). */
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

/* True when [p, p+n) is a complete bare snoopy record of one of the
 * context's formats (used by the file framer to tell a new record from the
 * continuation of one whose arguments held a newline).  Any thread. */
bool tg_parse_snoopy_record(const struct tg_parse_ctx *pc, const char *p, size_t n);

#endif
