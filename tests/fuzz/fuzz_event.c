/*
 * fuzz_event.c - fuzz the whole per-record path: tg_parse_event (auto
 * detection, every parser) then tg_event_finish (event.id, JSON).
 *
 * Invariant: the serialized event is one strict, valid-UTF-8 JSON object
 * (checked with json-c), whatever the input bytes.
 */
#include <stdlib.h>

#include "core/event.h"
#include "parsers/parse.h"
#include "tests/fuzz/fuzz.h"

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
    tg_event_free(ev);
    return 0;
}
