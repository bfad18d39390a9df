/*
 * out_stdout.c - the stdout sink: one event per line, NDJSON.
 *
 * Used when no sink is configured (`ingest`, or a config without [sink.*]).
 * Writes with stdio and flushes at the end of each batch; a batch is
 * confirmed once fflush succeeded.  A write error (closed pipe, full disk)
 * leaves the batch unconfirmed and is counted.  Sink thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/pipeline.h"
#include "sinks/sinks.h"

static int tg_stdout_open(struct tg_sink *s, const void *conf)
{
    s->ctx = stdout;
    return 0;
}

static int tg_stdout_write(struct tg_sink *s, struct tg_batch *b)
{
    FILE *f = s->ctx;
    uint64_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct tg_event *ev = b->ev[i];
        if (!tg_sink_wants(s, ev))
            continue;
        fwrite(ev->json.data, 1, ev->json.len, f);
        fputc('\n', f);
        n++;
    }
    if (fflush(f) != 0 || ferror(f)) {
        atomic_fetch_add(&s->failed, n);
        tg_err("stdout: write failed: %s", strerror(errno));
        clearerr(f);
        return TG_EIO;
    }
    tg_batch_done(s, b); /* before the count: a reader that sees it delivered sees it released */
    atomic_fetch_add(&s->delivered, n);
    return 0;
}

static void tg_stdout_close(struct tg_sink *s)
{
    fflush(s->ctx);
}

const struct tg_sink_ops tg_out_stdout = {
    .name = "stdout",
    .section = NULL,
    .open = tg_stdout_open,
    .write = tg_stdout_write,
    .close = tg_stdout_close,
};
