/*
 * store_read.h - reading the file store for `query` and `export`: the
 * filter options, the streaming scan, and the output formats.
 *
 * One module so both commands accept the same filters with the same
 * meaning and print the same columns.  The scan streams one record at a
 * time (memory bounded by the longest record), skips a closed segment
 * whose index says it lies outside --since/--until without opening its
 * data, and returns only records the chain covers (what each segment's
 * sidecar lists), so the member being written, a crash's leftover or
 * records appended by someone else never appear.  Main thread.
 */
#ifndef TG_STORE_READ_H
#define TG_STORE_READ_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"

/* --- filters */
struct tg_filter {
    bool since_set, until_set;
    int64_t since_ns, until_ns; /* since inclusive, until exclusive */
    const char *since_arg, *until_arg;
    const char *user, *host, *action, *dataset, *decision, *grep_arg;
    void *grep;       /* pcre2_code */
    void *grep_match; /* pcre2_match_data */
};

/* The filter options, for getopt_long (each command appends its own). */
#define TG_FILTER_NOPTS 8
extern const struct option tg_filter_longopts[TG_FILTER_NOPTS];
/* The lines of --help that describe them (a string literal). */
#define TG_FILTER_USAGE                                                                            \
    "  --since T        events at or after T: RFC 3339 (2026-11-24T13:00:00Z; without\n"           \
    "                   a zone: UTC), a date (2026-11-24, midnight UTC), relative\n"               \
    "                   (-24h, -30m, -7d, -90s) or `now`\n"                                        \
    "  --until T        events before T (same forms)\n"                                            \
    "  --user U         user.name is U (case-insensitive)\n"                                       \
    "  --host H         host.name is H (case-insensitive)\n"                                       \
    "  --action A       event.action is A (exec, connect, query, ...)\n"                           \
    "  --dataset D      event.dataset is D (snoopy, percona.audit, syslog)\n"                      \
    "  --decision D     trailguard.policy.decision is D: allow, deny or not_applicable\n"          \
    "  --grep REGEX     PCRE2 REGEX matches the command line (process.command_line)\n"             \
    "                   or the SQL text (db.statement)\n"

/* getopt_long with the filter options merged in: a malloc'd table of
 * tg_filter_longopts followed by `own` (NULL-terminated). */
struct option *tg_filter_options(const struct option *own);
/*
 * Handle option `c` (from tg_filter_options) with `arg`.  0 handled, 1 not a
 * filter option, TG_EXIT_USAGE after printing why (for `cmd`).
 */
int tg_filter_option(struct tg_filter *f, int c, const char *arg, const char *cmd);
/* After the last option: the filters make sense together (--since before
 * --until).  0, or TG_EXIT_USAGE after printing why. */
int tg_filter_done(const struct tg_filter *f, const char *cmd);
void tg_filter_free(struct tg_filter *f);

/* --- records */
struct tg_record {
    struct tg_str line; /* the event JSON, without LF */
    bool has_time;
    int64_t ns; /* @timestamp, when has_time */
    void *root; /* json_object, parsed on demand */
    void *tok;  /* the scan's json_tokener, reused for every record */
    bool parsed, bad_json;
};

/* The string value at a dotted path ("user.effective.name"); NULL when
 * absent or null.  Valid until the next record. */
const char *tg_record_field(struct tg_record *r, const char *path);
/* Does r pass every filter of f? */
bool tg_filter_match(const struct tg_filter *f, struct tg_record *r);
/* Free what tg_record_field parsed. */
void tg_record_release(struct tg_record *r);

/* --- scan */
struct tg_scan_stats {
    uint64_t segments, skipped; /* segments seen / skipped by their index */
    uint64_t members_skipped;   /* gzip members skipped by their sidecar entry */
    uint64_t bytes, raw_bytes;  /* compressed bytes read, NDJSON produced */
    uint64_t records, matched;
    uint64_t damaged; /* segments not read completely (damaged, cut short, no chain) */
    double seconds;
};

/* Called per matching record; return false to stop the scan. */
typedef bool (*tg_scan_fn)(void *ctx, struct tg_record *r);

/*
 * Stream the records of the store in `dir` that match `f` to fn, oldest
 * segment first; each member is handed on only once it checks out against
 * its chain entry (key0: k_0 to check HMAC links, or NULL).  A damaged
 * segment is reported on stderr (run verify) and skipped.  `progress`: a progress line on stderr
 * (when it is a terminal) for scans longer than a second.  0, or TG_EIO (errno) when dir cannot be
 * listed.
 */
int tg_store_scan(const char *dir, const struct tg_filter *f, const uint8_t *key0, bool progress,
                  tg_scan_fn fn, void *ctx, struct tg_scan_stats *st);

/* --- output */
enum tg_out_format { TG_OUT_TABLE = 0, TG_OUT_NDJSON, TG_OUT_CSV };
extern const char *const tg_out_format_names[]; /* NULL-terminated, in enum order */

struct tg_out {
    FILE *f;
    enum tg_out_format fmt;
    int width; /* table: terminal columns */
    struct tg_buf line;
};

/* Start writing (header row for table and csv). */
void tg_out_begin(struct tg_out *o, FILE *f, enum tg_out_format fmt);
void tg_out_record(struct tg_out *o, struct tg_record *r);
void tg_out_end(struct tg_out *o);

#endif
