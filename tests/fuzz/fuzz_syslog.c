/*
 * fuzz_syslog.c - fuzz the syslog envelope parser (parsers/syslog.c).
 *
 * Invariants: MSG (ev->body) and every header field lie inside the record;
 * PRI fields are in range; tg_syslog_clear restores the bare record.
 */
#include <stdlib.h>

#include "core/event.h"
#include "parsers/syslog.h"
#include "tests/fuzz/fuzz.h"

static void tg_fz_inside(const struct tg_event *ev, struct tg_str s)
{
    if (s.p && (s.p < ev->original.p || s.p + s.len > ev->original.p + ev->original.len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_event *ev = tg_event_new((const char *)data, size, NULL, TG_FUZZ_NOW);
    if (tg_syslog_parse(ev) == 0) {
        tg_fz_inside(ev, ev->body);
        tg_fz_inside(ev, ev->sl_hostname);
        tg_fz_inside(ev, ev->sl_appname);
        tg_fz_inside(ev, ev->sl_procid);
        tg_fz_inside(ev, ev->sl_msgid);
        tg_fz_inside(ev, ev->sl_timestamp_text);
        if (ev->sl_facility != TG_NUM_NONE && (ev->sl_facility > 23 || ev->sl_severity > 7))
            abort();
        tg_syslog_clear(ev);
        if (ev->body.p != ev->original.p || ev->host_name.p)
            abort();
    } else if (ev->body.p != ev->original.p || ev->sl_hostname.p || ev->sl_appname.p) {
        abort(); /* a record that is not syslog must be left untouched */
    }
    tg_event_free(ev);
    return 0;
}
