/*
 * fuzz_percona.c - fuzz the Percona audit JSON parser and the
 * "priv_user[user] @ host [ip]" splitter.
 *
 * Invariants: a claimed record is dataset percona.audit, or unparsed with a
 * reason; split parts lie inside the input and in order.
 */
#include <stdlib.h>

#include "core/errors.h"
#include "core/event.h"
#include "parsers/percona.h"
#include "tests/fuzz/fuzz.h"

static void tg_fz_part(struct tg_str s, struct tg_str part, const char **last)
{
    if (!part.p)
        return;
    if (part.p < s.p || part.p + part.len > s.p + s.len || part.p < *last)
        abort();
    *last = part.p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_event *ev = tg_event_new((const char *)data, size, NULL, TG_FUZZ_NOW);
    int rc = tg_percona_parse(ev, ev->original);
    if (rc == 0 && ev->dataset != TG_DS_PERCONA &&
        !(ev->parse_status == TG_PARSE_UNPARSED && ev->parse_error.p))
        abort();
    if (rc == 0 && ev->dataset == TG_DS_PERCONA && !ev->action.p && !ev->parse_error.p)
        abort();
    struct tg_mysql_user u;
    struct tg_str s = ev->original;
    if (tg_percona_split_user(s, &u) != TG_EINVAL) {
        const char *last = s.p;
        tg_fz_part(s, u.priv, &last);
        tg_fz_part(s, u.user, &last);
        tg_fz_part(s, u.host, &last);
        tg_fz_part(s, u.ip, &last);
    }
    tg_event_free(ev);
    return 0;
}
