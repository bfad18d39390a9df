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
 * The intake (ingest/intake.h) runs one per stream; a line's `pos` is its
 * position there (the byte offset of its first byte), and a record's is
 * that of its first line.  A framer belongs to one thread; records handed
 * to the emit callback are valid only during the call.
 */
#ifndef TG_FRAMER_H
#define TG_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/parse.h"

/* Receives one record; `cut` when a line of it was cut by the line limit
 * or the record passed the framer's `max`; `pos` is that of its first line. */
typedef void (*tg_frame_fn)(void *ctx, const char *rec, size_t len, bool cut, uint64_t pos);

struct tg_framer;

/* A framer using pc's snoopy formats to recognise snoopy records; a joined
 * record ends (cut) at `max` bytes (the intake's one record limit). */
struct tg_framer *tg_framer_new(const struct tg_parse_ctx *pc, size_t max);
void tg_framer_free(struct tg_framer *f);

/* Feed the line at `pos` (without its LF); emits 0, 1 or 2 records. */
void tg_framer_line(struct tg_framer *f, const char *line, size_t len, bool cut, uint64_t pos,
                    tg_frame_fn emit, void *ctx);
/* No more lines for now (a followed file has nothing new): a held snoopy
 * record is complete -- snoopy writes a record, continuation lines and all,
 * at once -- and is emitted; an unfinished JSON object is kept. */
void tg_framer_idle(struct tg_framer *f, tg_frame_fn emit, void *ctx);
/* End of input: emit what is pending. */
void tg_framer_finish(struct tg_framer *f, tg_frame_fn emit, void *ctx);
/* Whether lines are held for a record not emitted yet, and the position of
 * its first line in *pos: where to read again after a restart. */
bool tg_framer_holding(const struct tg_framer *f, uint64_t *pos);
/* Lines that carried no record (blank lines, JSON array brackets). */
uint64_t tg_framer_skipped(const struct tg_framer *f);

#endif
