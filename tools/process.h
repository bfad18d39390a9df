/*
 * process.h - the per-event processing chain run by the worker pool:
 * parse -> policy verdict -> [filter] (drop, sample, mask) -> event.id +
 * JSON (and the origin host's last-seen time).  Shared by `serve`, `omprog`
 * and `ingest`, so batch and daemon modes give the same events.
 * The chain is read-only after set-up and used from all worker threads.
 */
#ifndef TG_PROCESS_H
#define TG_PROCESS_H

#include "core/event.h"
#include "core/sieve.h"
#include "core/hostwatch.h"
#include "parsers/parse.h"
#include "policy/policy.h"

struct tg_process {
    const struct tg_parse_ctx *parse; /* for an event without its source's (ev->parser) */
    struct tg_policy *policy;         /* NULL: no verdicts */
    struct tg_hostwatch *hosts;       /* last-seen per origin host; NULL: not watched */
    struct tg_sieve *sieve;           /* [filter] (core/sieve.h); NULL: none */
};

/* Worker thread: process one event in place (pipeline conf.process):
 * parsed with its source's context (the intake set ev->parser); judged by
 * the policy unless it is one of trailguard's own (internal) events; then
 * filtered (a dropped event is counted and flagged, not serialized: the
 * sinks skip it and it is confirmed with its batch). */
void tg_process_event(void *chain, struct tg_event *ev);

#endif
