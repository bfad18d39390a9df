/*
 * reader.h - read records (lines) from a file, a .gz file or stdin.
 *
 * zlib reads plain and gzip input alike, so `.gz` is transparent (also on
 * stdin).  A record is a line without its LF; a line longer than
 * TG_READER_MAX_RECORD is cut there (the caller marks the event partial) and
 * the rest of the line is skipped.  NUL and other bytes are kept as they
 * are.  A reader belongs to one thread.
 */
#ifndef TG_READER_H
#define TG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_READER_MAX_RECORD (16u << 20)

struct tg_reader;

/* Open `path` ("-" means stdin).  0, or TG_EIO with errno set. */
int tg_reader_open(const char *path, struct tg_reader **out);
/*
 * Next record: 0 with *rec and *len valid until the next call (*truncated set when
 * the line was cut), TG_ECLOSED at end of input, TG_EIO on a read or
 * decompression error (*errmsg says which).
 */
int tg_reader_next(struct tg_reader *r, const char **rec, size_t *len, bool *truncated,
                   const char **errmsg);
/* Bytes consumed from the underlying (compressed) input so far. */
uint64_t tg_reader_offset(const struct tg_reader *r);
void tg_reader_close(struct tg_reader *r);

#endif
