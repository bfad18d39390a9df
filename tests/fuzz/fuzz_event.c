/*
 * fuzz_event.c - fuzz the whole per-record path: tg_parse_event (auto
 * detection, every parser) then tg_event_finish (event.id, JSON).
 *
 * Invariant: the serialized event is one strict, valid-UTF-8 JSON object
 * (checked with json-c), whatever the input bytes.
 */
#include <stdlib.h>

#include <json-c/json.h>

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
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, ev->json.data, (int)ev->json.len);
    if (!o || !json_object_is_type(o, json_type_object) ||
        json_tokener_get_parse_end(tok) != ev->json.len)
        abort();
    json_object_put(o);
    json_tokener_free(tok);
    tg_event_free(ev);
    return 0;
}
