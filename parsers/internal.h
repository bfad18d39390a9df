/*
 * internal.h - read trailguard's own records (core/internal_rec.h has the
 * format) into events.  Run only on the records of the internal source
 * (parse.c's TG_FMT_INTERNAL, which no configuration or command line can
 * choose): whatever a sender writes, it never becomes an internal event.
 * Pure; any thread.
 */
#ifndef TG_INTERNAL_H
#define TG_INTERNAL_H

#include "core/event.h"

/*
 * Fill ev from its record: event.dataset (TG_DS_INTERNAL with the record's
 * dataset name), event.action, @timestamp, host.name, message, and the data
 * object (its bytes as they are) as trailguard.<dataset without
 * "trailguard.">.  A record that is not a valid internal record stays
 * unparsed with the reason.
 */
void tg_internal_parse(struct tg_event *ev);

#endif
