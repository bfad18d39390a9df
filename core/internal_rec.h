/*
 * internal_rec.h - the text of trailguard's own records (signed store
 * checkpoints, later host-silence health events): one JSON object, one line,
 *
 *   {"trailguard_internal":1,"@timestamp":"<RFC 3339>","dataset":"trailguard.<name>",
 *    "action":"<action>","host":"<collector hostname>","message":"<one sentence>",
 *    "data":{...any JSON...}}
 *
 * A part of the collector builds one here and hands it on: a sink with
 * tg_sink_announce (core/pipeline.h), anything else with tg_internal_emit
 * (ingest/in_internal.h).  The internal source spools it and feeds it to the
 * other sinks, where parsers/internal.c reads it into an event; that parser
 * runs only on records of the internal source, never on content that looks
 * like one, so a sender cannot forge an internal event.  Pure; any thread.
 */
#ifndef TG_INTERNAL_REC_H
#define TG_INTERNAL_REC_H

#include "core/buf.h"

#define TG_INTERNAL_PREFIX "trailguard."

/*
 * Append one internal record, stamped now and with this host's name, to
 * `out` (no newline).  `dataset` is "trailguard.<name>" (name: lower-case
 * letters, digits, '_'; not "policy", "input" or "parse", which trailguard.*
 * has already); `data` the JSON text of an object (absent: {}), copied as
 * is -- the caller makes it valid JSON (core/json.h writes it).
 */
void tg_internal_rec_build(struct tg_buf *out, const char *dataset, const char *action,
                           const char *message, struct tg_str data);

/* Whether `dataset` is a valid internal dataset name (see above). */
bool tg_internal_rec_dataset_ok(struct tg_str dataset);

#endif
