/*
 * tg_records.c - print the records of files as the intake frames them
 * (ingest/intake.h: lines, pretty-printed JSON, snoopy continuations, the
 * size limit), each as an RFC 6587 octet-counted frame "LEN SP BYTES" --
 * the bytes exactly, which the events' JSON cannot give back (invalid UTF-8
 * is replaced there).  intake_diff.sh sends these frames to a real rsyslogd
 * (imtcp), which forwards them over RELP and omprog.
 *
 *   tg_records [-n] FILE...    (-n: leave out the records that hold an LF)
 *
 * Exit 0, or 3 when a file cannot be read.  Main thread; the pipeline's
 * threads run the sink.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/pipeline.h"
#include "ingest/intake.h"
#include "ingest/reader.h"
#include "tools/registry.h"

static bool tg_no_lf;

static int tg_records_open(struct tg_sink *s, const void *conf)
{
    return 0;
}

static int tg_records_write(struct tg_sink *s, struct tg_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct tg_str o = b->ev[i]->original;
        if (tg_no_lf && memchr(o.p, '\n', o.len))
            continue;
        printf("%zu ", o.len);
        fwrite(o.p, 1, o.len, stdout);
    }
    fflush(stdout);
    tg_batch_done(s, b);
    return 0;
}

static void tg_records_close(struct tg_sink *s)
{
}

static const struct tg_sink_ops tg_records_sink = {
    .name = "records",
    .open = tg_records_open,
    .write = tg_records_write,
    .close = tg_records_close,
};

static void tg_records_noop(void *ctx, struct tg_event *ev)
{
}

int main(int argc, char **argv)
{
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-n") == 0) {
        tg_no_lf = true;
        first = 2;
    }
    struct tg_pipeline_conf pc = {.workers = 1, .process = tg_records_noop};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    tg_pipeline_add_sink(p, &tg_records_sink, NULL);
    size_t nsources;
    const struct tg_source_ops *const *sources = tg_registry_sources(&nsources);
    struct tg_intake_conf ic = {.pipe = p, .sources = sources, .nsources = nsources};
    struct tg_intake *in;
    char *err;
    if (tg_intake_new(&ic, &in, &err) != 0 || tg_pipeline_start(p) != 0)
        return TG_EXIT_RUNTIME;
    struct tg_intake_src *src = tg_intake_src_new(
        in, &(struct tg_intake_src_conf){.ops = &tg_in_file, .format = TG_FMT_AUTO});
    int rc = TG_EXIT_OK;
    for (int i = first; i < argc; i++) {
        struct tg_reader *r;
        if (tg_reader_open(argv[i], &r) != 0) {
            fprintf(stderr, "tg_records: cannot open %s\n", argv[i]);
            rc = TG_EXIT_RUNTIME;
            continue;
        }
        struct tg_intake_stream *st = tg_intake_stream_new(src, TG_STR_NULL, TG_STR_NULL, 0);
        const char *b, *msg;
        size_t n;
        while (tg_reader_read(r, &b, &n, &msg) == 0)
            tg_intake_stream_feed(st, b, n);
        tg_intake_stream_end(st);
        tg_intake_stream_free(st);
        tg_reader_close(r);
    }
    tg_intake_src_free(src);
    tg_pipeline_drain(p);
    tg_intake_free(in);
    tg_pipeline_free(p);
    return rc;
}
