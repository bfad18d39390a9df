/*
 * process.c - parse -> policy -> filter -> serialize.  See process.h.
 */
#include "core/metrics.h"
#include "tools/process.h"

void tg_process_event(void *chain, struct tg_event *ev)
{
    struct tg_process *pr = chain;
    tg_parse_event(ev->parser ? ev->parser : pr->parse, ev);
    if (ev->dataset != TG_DS_INTERNAL)
        tg_policy_evaluate(pr->policy, ev);
    tg_sieve_event(pr->sieve, ev); /* after the verdict: see core/sieve.h */
    if (!ev->filtered)
        tg_event_serialize(ev);
    tg_metrics_count_event(ev);
    tg_hostwatch_event(pr->hosts, ev);
}
