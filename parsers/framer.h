/*
 * framer.h - turn the lines of a file into records.
 *
 * Most inputs have one record per line, but two writers break that:
 *  - the Percona audit_log_filter component writes its JSON file as one
 *    array whose records are pretty-printed over several lines
 *    ("[", "  {", ... "  },", "]");
 *  - snoopy's file output writes argv as is, so an argument holding a
 *    newline continues the record on the next line.
 * The framer joins such lines back into one record (with "\n" between
 * them), drops the array brackets, and passes every other line through.
 * A framer belongs to one reader thread; records handed to the emit
 * callback are valid only during the call.
 */
#ifndef TG_FRAMER_H
#define TG_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/parse.h"

/* Receives one record; `cut` when a line of it was cut by the reader or the
 * framer's size limit; `lineno` is the number of its first line. */
typedef void (*tg_frame_fn)(void *ctx, const char *rec, size_t len, bool cut, uint64_t lineno);

struct tg_framer;

/* A framer using pc's snoopy formats to recognise snoopy records. */
struct tg_framer *tg_framer_new(const struct tg_parse_ctx *pc);
void tg_framer_free(struct tg_framer *f);

/* Feed line number `lineno` (without its LF); emits 0, 1 or 2 records. */
void tg_framer_line(struct tg_framer *f, const char *line, size_t len, bool cut, uint64_t lineno,
                    tg_frame_fn emit, void *ctx);
/* End of input: emit what is pending. */
void tg_framer_finish(struct tg_framer *f, tg_frame_fn emit, void *ctx);
/* Lines that carried no record (blank lines, JSON array brackets). */
uint64_t tg_framer_skipped(const struct tg_framer *f);

#endif
