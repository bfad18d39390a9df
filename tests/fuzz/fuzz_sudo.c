/*
 * fuzz_sudo.c - fuzz the sudo log line parser, alone on the bare input and
 * as --format sudo does (bare, then the MSG of a syslog record), then
 * serialize.
 *
 * Invariants: a claimed line is dataset sudo with a non-empty user; its
 * argv has no more words than the command has spaces plus one, each no
 * longer than the record; only accept, exit and reject lines carry a host
 * decision; and the serialized event (trailguard.sudo included, which the
 * parser writes as JSON text) is one strict, valid-UTF-8 JSON object.
 */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "parsers/parse.h"
#include "parsers/sudo.h"
#include "tests/fuzz/fuzz.h"

static struct tg_parse_ctx *tg_fz_ctx;

static void tg_fz_check(struct tg_event *ev, size_t size)
{
    if (ev->dataset == TG_DS_SUDO) {
        if (!ev->user_name.p || ev->user_name.len == 0)
            abort();
        size_t spaces = 0;
        for (size_t i = 0; i < ev->command_line.len; i++)
            spaces += ev->command_line.p[i] == ' ';
        if (ev->nargs > spaces + 1)
            abort();
        for (size_t i = 0; i < ev->nargs; i++)
            if (ev->args[i].len > size)
                abort();
        bool decides = tg_str_eq(ev->action, "accept") || tg_str_eq(ev->action, "exit") ||
                       tg_str_eq(ev->action, "reject");
        if (ev->host_decision != TG_DECISION_NONE && !decides)
            abort();
    }
    tg_event_finish(ev);
    tg_fuzz_json_object(ev->json.data, ev->json.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tg_fz_ctx) {
        char *err;
        tg_fz_ctx = tg_parse_ctx_new(NULL, TG_FMT_SUDO, &err);
        if (!tg_fz_ctx)
            abort();
    }
    struct tg_event *ev = tg_event_new((const char *)data, size, NULL, TG_FUZZ_NOW);
    int rc = tg_sudo_parse(ev, ev->original);
    if (rc != 0 && ev->dataset != TG_DS_SYSLOG)
        abort(); /* not mine: the event is unchanged */
    tg_fz_check(ev, size);
    tg_event_free(ev);
    ev = tg_event_new((const char *)data, size, NULL, TG_FUZZ_NOW);
    tg_parse_event(tg_fz_ctx, ev);
    tg_fz_check(ev, size);
    tg_event_free(ev);
    return 0;
}
