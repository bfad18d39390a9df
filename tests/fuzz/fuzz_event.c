/*
 * fuzz_event.c - fuzz the whole per-record path: tg_parse_event (auto
 * detection, every parser) then tg_event_finish (event.id, JSON).
 *
 * Invariants, whatever the input bytes: the serialized event is one strict,
 * valid-UTF-8 JSON object (checked with json-c); its skip index built from
 * where the serializer put the values (the file sink's way) is the one
 * walked from the line (verify's and query's way).
 */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "parsers/parse.h"
#include "sinks/skipidx.h"
#include "tests/fuzz/fuzz.h"

static void tg_fz_same_index(const struct tg_event *ev)
{
    struct tg_skipidx walk, spans;
    struct tg_buf a = TG_BUF_INIT, b = TG_BUF_INIT;
    tg_skipidx_init(&walk);
    tg_skipidx_init(&spans);
    tg_skipidx_add(&walk, ev->json.data, ev->json.len);
    tg_skipidx_add_event(&spans, ev);
    tg_skipidx_finish(&walk, &a);
    tg_skipidx_finish(&spans, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    tg_skipidx_free(&walk);
    tg_skipidx_free(&spans);
    tg_buf_free(&a);
    tg_buf_free(&b);
}

static struct tg_parse_ctx *tg_fz_ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tg_fz_ctx) {
        char *err;
        tg_fz_ctx = tg_parse_ctx_new(NULL, TG_FMT_AUTO, &err);
        if (!tg_fz_ctx)
            abort();
    }
    struct tg_input_meta in = {.type = "relp", .peer = TG_STR_LIT("192.0.2.1")};
    struct tg_event *ev = tg_event_new((const char *)data, size, &in, TG_FUZZ_NOW);
    tg_parse_event(tg_fz_ctx, ev);
    tg_event_finish(ev);
    tg_fuzz_json_object(ev->json.data, ev->json.len);
    tg_fz_same_index(ev);
    tg_event_free(ev);
    return 0;
}
