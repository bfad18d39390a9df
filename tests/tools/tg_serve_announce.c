/*
 * tg_serve_announce.c - `trailguard serve` with one more sink, for
 * tests/integration/internal.sh (every command links from a test):
 *
 *   TG_ANNOUNCE_OUT=FILE tg_serve_announce [-c CONF]
 *
 * The extra sink, "announcer", appends the JSON of every event it gets to
 * FILE, and for every event whose record holds "announce-me" announces an
 * internal record (tg_sink_announce) as the file sink announces its signed
 * checkpoints: dataset trailguard.checkpoint, data {"segment":3,
 * "chain":"ab12","after":"<that event's id>","n":1.50}.  It confirms every
 * batch at once.  Exit codes as `serve`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/internal_rec.h"
#include "core/pipeline.h"
#include "tools/commands.h"

static int tg_ann_open(struct tg_sink *s, const void *conf)
{
    const char *path = getenv("TG_ANNOUNCE_OUT");
    s->ctx = path ? fopen(path, "a") : NULL;
    return s->ctx ? 0 : TG_EIO;
}

static int tg_ann_write(struct tg_sink *s, struct tg_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct tg_event *ev = b->ev[i];
        if (!tg_sink_wants(s, ev))
            continue;
        fprintf(s->ctx, "%.*s\n", (int)ev->json.len, ev->json.data);
        if (!memmem(ev->original.p, ev->original.len, "announce-me", 11))
            continue;
        struct tg_buf data = TG_BUF_INIT, rec = TG_BUF_INIT;
        tg_buf_printf(&data, "{\"segment\":3,\"chain\":\"ab12\",\"after\":\"%s\",\"n\":1.50}",
                      ev->id);
        tg_internal_rec_build(&rec, "trailguard.checkpoint", "checkpoint",
                              "The file store was checkpointed.", tg_str_make(data.data, data.len));
        tg_sink_announce(s, rec.data, rec.len);
        tg_buf_free(&data);
        tg_buf_free(&rec);
    }
    fflush(s->ctx);
    tg_batch_done(s, b);
    return 0;
}

static void tg_ann_close(struct tg_sink *s)
{
    fclose(s->ctx);
}

static const struct tg_sink_ops tg_announcer = {
    .name = "announcer",
    .open = tg_ann_open,
    .write = tg_ann_write,
    .close = tg_ann_close,
};

int main(int argc, char **argv)
{
    const char *config = NULL;
    int c;
    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c != 'c') {
            fprintf(stderr, "usage: TG_ANNOUNCE_OUT=FILE tg_serve_announce [-c CONF]\n");
            return TG_EXIT_USAGE;
        }
        config = optarg;
    }
    return tg_serve_run(config, &tg_announcer);
}
