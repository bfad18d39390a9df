/*
 * reader.c - line reader over zlib.  See reader.h.
 *
 * Reads 256 KiB at a time into a buffer and hands out slices of it; a line
 * that spans reads is moved to the front of the buffer (the buffer grows up
 * to TG_READER_MAX_RECORD, past which the line is cut).
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
    size_t cap, start, end; /* unconsumed bytes are buf[start..end) */
    bool eof, skipping;     /* skipping: discarding the tail of a cut line */
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
    r->cap = 2 * TG_READ_CHUNK;
    r->buf = tg_xmalloc(r->cap);
    *out = r;
    return 0;
}

/* Read more input after buf[end]; 0, TG_ECLOSED at EOF, TG_EIO. */
static int tg_reader_fill(struct tg_reader *r, const char **errmsg)
{
    if (r->eof)
        return TG_ECLOSED;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < TG_READ_CHUNK) {
        r->cap = r->end + TG_READ_CHUNK;
        r->buf = tg_xrealloc(r->buf, r->cap);
    }
    int n = gzread(r->gz, r->buf + r->end, TG_READ_CHUNK);
    if (n < 0) {
        int zerr;
        *errmsg = gzerror(r->gz, &zerr);
        return TG_EIO;
    }
    if (n == 0) {
        int zerr;
        const char *m = gzerror(r->gz, &zerr);
        r->eof = true;
        if (zerr == Z_BUF_ERROR) { /* zlib's "unexpected end of file" */
            *errmsg = "the compressed data ends early (a .gz file cut short)";
            return TG_EIO;
        }
        if (zerr != Z_OK) {
            *errmsg = m;
            return TG_EIO;
        }
        return TG_ECLOSED;
    }
    r->end += (size_t)n;
    return 0;
}

int tg_reader_next(struct tg_reader *r, const char **rec, size_t *len, bool *truncated,
                   const char **errmsg)
{
    *truncated = false;
    *errmsg = NULL;
    size_t scanned = 0;
    for (;;) {
        char *s = r->buf + r->start;
        size_t avail = r->end - r->start;
        char *nl = memchr(s + scanned, '\n', avail - scanned);
        if (nl) {
            size_t l = (size_t)(nl - s);
            r->start += l + 1;
            if (r->skipping) {
                r->skipping = false;
                scanned = 0;
                continue;
            }
            *rec = s;
            *len = l;
            return 0;
        }
        scanned = avail;
        if (r->skipping) {
            r->start = r->end;
            scanned = 0;
        } else if (avail >= TG_READER_MAX_RECORD) {
            *rec = s;
            *len = TG_READER_MAX_RECORD;
            *truncated = true;
            r->start += TG_READER_MAX_RECORD;
            r->skipping = true;
            return 0;
        }
        int rc = tg_reader_fill(r, errmsg);
        if (rc == TG_ECLOSED) {
            avail = r->end - r->start;
            if (avail == 0 || r->skipping)
                return TG_ECLOSED;
            *rec = r->buf + r->start; /* last line without LF */
            *len = avail;
            r->start = r->end;
            return 0;
        }
        if (rc)
            return rc;
    }
}

uint64_t tg_reader_offset(const struct tg_reader *r)
{
    return (uint64_t)gzoffset(r->gz);
}

void tg_reader_close(struct tg_reader *r)
{
    if (!r)
        return;
    gzclose(r->gz);
    free(r->buf);
    free(r);
}
