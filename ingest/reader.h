/*
 * reader.h - read the bytes of a file, a .gz file or stdin.
 *
 * zlib reads plain and gzip input alike, so `.gz` is transparent (also on
 * stdin).  The bytes come out as they are, decompressed; lines and records
 * are the intake's business (ingest/intake.h).  A reader belongs to one
 * thread.
 */
#ifndef TG_READER_H
#define TG_READER_H

#include <stddef.h>

struct tg_reader;

/* Open `path` ("-" means stdin).  0, or TG_EIO with errno set. */
int tg_reader_open(const char *path, struct tg_reader **out);
/*
 * The next bytes: 0 with [*p, *p + *n) valid until the next call (*n > 0),
 * TG_ECLOSED at the end of the input, TG_EIO on a read or decompression
 * error (*errmsg says which).
 */
int tg_reader_read(struct tg_reader *r, const char **p, size_t *n, const char **errmsg);
void tg_reader_close(struct tg_reader *r);

#endif
