/*
 * reader.c - bytes through zlib.  See reader.h.
 *
 * 256 KiB per read, into one buffer the caller reads before the next call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "core/errors.h"
#include "core/mem.h"
#include "ingest/reader.h"

#define TG_READ_CHUNK (256u << 10)

struct tg_reader {
    gzFile gz;
    char *buf;
};

int tg_reader_open(const char *path, struct tg_reader **out)
{
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TG_EIO;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        errno = ENOMEM;
        return TG_EIO;
    }
    gzbuffer(gz, TG_READ_CHUNK);
    struct tg_reader *r = tg_xcalloc(1, sizeof(*r));
    r->gz = gz;
    r->buf = tg_xmalloc(TG_READ_CHUNK);
    *out = r;
    return 0;
}

int tg_reader_read(struct tg_reader *r, const char **p, size_t *n, const char **errmsg)
{
    *errmsg = NULL;
    int got = gzread(r->gz, r->buf, TG_READ_CHUNK);
    int zerr;
    if (got > 0) {
        *p = r->buf;
        *n = (size_t)got;
        return 0;
    }
    const char *m = gzerror(r->gz, &zerr);
    if (got == 0 && zerr == Z_BUF_ERROR) { /* zlib's "unexpected end of file" */
        *errmsg = "the compressed data ends early (a .gz file cut short)";
        return TG_EIO;
    }
    if (got < 0 || zerr != Z_OK) {
        *errmsg = m;
        return TG_EIO;
    }
    return TG_ECLOSED;
}

void tg_reader_close(struct tg_reader *r)
{
    if (!r)
        return;
    gzclose(r->gz);
    free(r->buf);
    free(r);
}
