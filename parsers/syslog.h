/*
 * syslog.h - the syslog envelope: RFC 3164 (classic and rsyslog's
 * high-precision RFC 3339 timestamp), RFC 5424.  Pure; any thread.
 */
#ifndef TG_SYSLOG_H
#define TG_SYSLOG_H

#include "core/event.h"

/*
 * Parse the header of ev->original: fills ev->sl_*, ev->host_name and sets
 * ev->body to the MSG part.  Returns 0, or TG_ENOTMINE when the record has no
 * syslog header (ev is then unchanged).
 */
int tg_syslog_parse(struct tg_event *ev);

/* Undo tg_syslog_parse: clear the envelope fields and host.name, and make
 * ev->body the whole record again. */
void tg_syslog_clear(struct tg_event *ev);

#endif
