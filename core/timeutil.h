/*
 * timeutil.h - timestamp parsing shared by the parsers and the query tools.
 * Pure functions; any thread.
 */
#ifndef TG_TIMEUTIL_H
#define TG_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t tg_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * Parse an RFC 3339 / ISO 8601 date-time at p: "YYYY-MM-DD" (a day that
 * exists) then 'T', 't' or ' ', "hh:mm:ss", an optional fraction (1-9
 * digits), then an optional zone: 'Z' or 'z', "+hh:mm", "+hhmm", or " UTC".
 * Without a zone the time is taken as UTC.  On success returns the bytes consumed (> 0) and fills
 * *out (frac = the number of fraction digits); returns 0 if p does not start with one.
 */
size_t tg_time_parse_iso(const char *p, size_t n, struct tg_time *out);

/*
 * Parse an RFC 3164 "Mmm dd hh:mm:ss" (day may be space-padded).  The year is
 * not in the text: it is chosen so that the result is closest to `ref`
 * (a record from late December read in January belongs to the last year).
 * Returns bytes consumed or 0.
 */
size_t tg_time_parse_bsd(const char *p, size_t n, int64_t ref_sec, struct tg_time *out);

/*
 * Parse a user-facing time for --since/--until: RFC 3339 (or a date alone,
 * midnight UTC), or relative to `now` ("-24h", "-30m", "-7d", "-90s", or
 * "now"), keeping now's fraction of a second.  0 or TG_EINVAL.
 */
int tg_time_parse_arg(const char *s, struct tg_time now, struct tg_time *out);

#endif
