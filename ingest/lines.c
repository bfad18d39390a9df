/*
 * lines.c - bytes to lines.  See lines.h.
 */
#include "ingest/lines.h"

void tg_lines_init(struct tg_lines *l, size_t max, uint64_t off)
{
    *l = (struct tg_lines){.max = max, .off = off, .start = off, .part = TG_BUF_INIT};
}

void tg_lines_free(struct tg_lines *l)
{
    tg_buf_free(&l->part);
}

bool tg_lines_pending(const struct tg_lines *l, uint64_t *start)
{
    *start = l->start;
    return l->pending;
}

/* Keep up to max bytes of the pending line. */
static void tg_lines_keep(struct tg_lines *l, const char *p, size_t n)
{
    size_t room = l->max - l->part.len;
    if (n > room) {
        l->cut = true;
        n = room;
    }
    tg_buf_append(&l->part, p, n);
}

/* The pending line is complete: hand it on and start the next at `next`. */
static int tg_lines_emit(struct tg_lines *l, tg_line_fn fn, void *ctx, uint64_t next)
{
    int rc = fn(ctx, l->part.data ? l->part.data : "", l->part.len, l->cut, l->start);
    l->part.len = 0;
    l->cut = false;
    l->pending = false;
    l->start = next;
    return rc;
}

int tg_lines_feed(struct tg_lines *l, const char *p, size_t n, tg_line_fn fn, void *ctx)
{
    const char *end = p + n;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t take = lf ? (size_t)(lf - p) : (size_t)(end - p);
        uint64_t at = l->off;
        l->off += take + (lf ? 1 : 0);
        if (!lf) { /* the line goes on in the next feed */
            if (!l->pending)
                l->start = at;
            l->pending = true;
            tg_lines_keep(l, p, take);
            return 0;
        }
        int rc;
        if (!l->pending) { /* whole in this feed: no copy */
            bool cut = take > l->max;
            rc = fn(ctx, p, cut ? l->max : take, cut, at);
            l->start = l->off;
        } else {
            tg_lines_keep(l, p, take);
            rc = tg_lines_emit(l, fn, ctx, l->off);
        }
        if (rc)
            return rc;
        p = lf + 1;
    }
    return 0;
}

int tg_lines_end(struct tg_lines *l, tg_line_fn fn, void *ctx)
{
    if (!l->pending)
        return 0;
    return tg_lines_emit(l, fn, ctx, l->off);
}
