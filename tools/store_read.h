/*
 * store_read.h - reading the file store's records for `query`, `export` and
 * `report`: the filter options, record field access, and the output
 * formats.  The scan itself (which members to read, in parallel, checked
 * against the chain) is tools/store_scan.h.
 *
 * One module so every command accepts the same filters with the same
 * meaning and prints the same columns.  Matching is cheap first: a record
 * is tested on its raw line (its time prefix, then the JSON text each
 * filter value must appear as, core/needle.h) and only a line that passes
 * is read (core/json_scan.h) to confirm; the skip index of its member
 * (sinks/skipidx.h) has usually ruled out the member before.  The filters'
 * fields and case rules are the skip index's, so the index never hides a
 * record a filter matches.
 *
 * A compiled filter and struct tg_fields are read-only once the scan runs
 * (threads share them); each thread reads records with its own struct
 * tg_rctx.
 */
#ifndef TG_STORE_READ_H
#define TG_STORE_READ_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/json_scan.h"
#include "core/needle.h"
#include "sinks/skipidx.h"

/* --- the fields the commands read from records */
struct tg_fields {
    size_t n;
    const char *name[TG_JSCAN_MAX_PATHS]; /* dotted paths (static or kept by the caller) */
    struct tg_jscan js;
};

/* Index of `path` in fl, adding it; -1 when fl is full (the record is then
 * read once more for that path: slower, not wrong). */
int tg_fields_add(struct tg_fields *fl, const char *path);
int tg_fields_find(const struct tg_fields *fl, const char *path);

/* The short names of --fields and --count-by (user, host, decision, ...):
 * the dotted path, or NULL when `name` is none (then it is taken as a path).
 * "day" and "hour" are derived from @timestamp (TG_FIELD_DAY/_HOUR). */
#define TG_FIELD_DAY  "(day)"
#define TG_FIELD_HOUR "(hour)"
const char *tg_field_alias(const char *name);
/* The lines of --help that list them (a string literal). */
#define TG_FIELD_ALIASES                                                                           \
    "                   short names: time, user, euser (user.effective.name), host,\n"             \
    "                   action, dataset, decision, reason, rule, executable, command\n"            \
    "                   (process.command_line), statement (trailguard.db.statement), id, "         \
    "outcome,\n"                                                                                   \
    "                   day and hour (of @timestamp, UTC); any other dotted path\n"                \
    "                   (e.g. process.working_directory) is taken as it is\n"

/* --- filters */
struct tg_filter_eq {
    enum tg_skip_field field;
    const char *value;
    int idx;                 /* in fields */
    struct tg_skip_probe pr; /* for the skip index */
    struct tg_needle nd;     /* the value's JSON text, quoted */
};

struct tg_filter {
    bool since_set, until_set;
    int64_t since_ns, until_ns; /* since inclusive, until exclusive */
    const char *since_arg, *until_arg;
    const char *user, *euser, *host, *executable, *action, *dataset, *decision, *word, *grep_arg;
    void *grep; /* pcre2_code */
    /* compiled by tg_filter_done */
    struct tg_fields fields; /* the filters' and the output's fields */
    struct tg_filter_eq eq[TG_SKIP_NFIELDS];
    size_t neq;
    struct tg_skip_probe word_pr;
    struct tg_needle word_nd;
    int cmd_idx, stmt_idx;
    struct tg_needle grep_nd; /* a literal every --grep match holds, if one is known */
    bool grep_lit;
};

/* The filter options, for getopt_long (each command appends its own). */
#define TG_FILTER_NOPTS 11
extern const struct option tg_filter_longopts[TG_FILTER_NOPTS];
/* The lines of --help that describe them (a string literal). */
#define TG_FILTER_USAGE                                                                            \
    "  --since T        events at or after T: RFC 3339 (2026-11-24T13:00:00Z; without\n"           \
    "                   a zone: UTC), a date (2026-11-24, midnight UTC), relative\n"               \
    "                   (-24h, -30m, -7d, -90s) or `now`\n"                                        \
    "  --until T        events before T (same forms)\n"                                            \
    "  --user U         user.name is U (case-insensitive)\n"                                       \
    "  --euser U        user.effective.name is U (case-insensitive)\n"                             \
    "  --host H         host.name is H (case-insensitive)\n"                                       \
    "  --executable P   process.executable is P\n"                                                 \
    "  --action A       event.action is A (exec, connect, query, ...)\n"                           \
    "  --dataset D      event.dataset is D (snoopy, percona.audit, syslog)\n"                      \
    "  --decision D     trailguard.policy.decision is D: allow, deny or not_applicable\n"          \
    "  --word W         the command line or the SQL text holds the word W (letters,\n"             \
    "                   digits and _; case-insensitive): `--word shadow` finds\n"                  \
    "                   `cat /etc/shadow`, not `shadowsocks`\n"                                    \
    "  --grep REGEX     PCRE2 REGEX matches the command line (process.command_line)\n"             \
    "                   or the SQL text (trailguard.db.statement)\n"

/* getopt_long with the filter options merged in: a malloc'd table of
 * tg_filter_longopts followed by `own` (NULL-terminated). */
struct option *tg_filter_options(const struct option *own);
/*
 * Handle option `c` (from tg_filter_options) with `arg`.  0 handled, 1 not a
 * filter option, TG_EXIT_USAGE after printing why (for `cmd`).
 */
int tg_filter_option(struct tg_filter *f, int c, const char *arg, const char *cmd);
/* After the last option: check that the filters make sense together
 * (--since before --until) and compile them.  0, or TG_EXIT_USAGE after
 * printing why.  Commands add their output fields to f->fields after it. */
int tg_filter_done(struct tg_filter *f, const char *cmd);
void tg_filter_free(struct tg_filter *f);
/* Does any filter other than the time range apply? */
bool tg_filter_has_fields(const struct tg_filter *f);
/* false only when the skip index [ext, ext+len) of a member proves that no
 * record of it passes f. */
bool tg_filter_member_may_match(const struct tg_filter *f, const void *ext, size_t len);

/* --- records */
/* What one thread needs to read records (scratch space, regex match data). */
struct tg_rctx {
    const struct tg_filter *f;
    struct tg_buf text, tmp;
    void *grep_md; /* pcre2_match_data */
};
void tg_rctx_init(struct tg_rctx *c, const struct tg_filter *f);
void tg_rctx_free(struct tg_rctx *c);

struct tg_record {
    struct tg_str line; /* the event JSON, without LF */
    bool has_time;
    int64_t ns; /* @timestamp, when has_time */
    struct tg_rctx *c;
    bool scanned;
    struct tg_jval v[TG_JSCAN_MAX_PATHS];
    long off[TG_JSCAN_MAX_PATHS]; /* decoded text in c->text; -2: not yet */
};

/* Start reading `line` (its time is read here). */
void tg_record_init(struct tg_record *r, struct tg_rctx *c, struct tg_str line);
/* The text at a dotted path (a string decoded, a number as written; "day"
 * and "hour" as tg_field_alias names them), NULL when absent or null.
 * Valid until the next record of the same tg_rctx. */
const char *tg_record_field(struct tg_record *r, const char *path);
/* The same by index in f->fields, with its length. */
const char *tg_record_get(struct tg_record *r, int idx, size_t *len);
/* The raw value at index idx (scanned on first use). */
const struct tg_jval *tg_record_val(struct tg_record *r, int idx);
/* Does r pass every filter of its rctx's filter?  The raw line is tested
 * first; the fields are read only for a line that may match. */
bool tg_filter_match(struct tg_record *r);

/* --- output */
enum tg_out_format { TG_OUT_TABLE = 0, TG_OUT_NDJSON, TG_OUT_CSV };
extern const char *const tg_out_format_names[]; /* NULL-terminated, in enum order */

struct tg_out {
    FILE *f;
    enum tg_out_format fmt;
    int width; /* table: terminal columns */
    /* --fields: the columns (field names as given, their paths and indexes) */
    size_t ncols;
    const char **col_name, **col_path;
    int *col_idx;
    size_t *col_order; /* NDJSON: the columns in path order (to nest them) */
    struct tg_buf line;
};

/* Project on `spec` ("user,host,command": short names or paths; NULL: the
 * standard columns).  Adds the fields to f->fields.  0, or TG_EXIT_USAGE
 * after printing why. */
int tg_out_fields(struct tg_out *o, struct tg_filter *f, const char *spec, const char *cmd);
/* Start writing (header row for table and csv). */
void tg_out_begin(struct tg_out *o, FILE *f, enum tg_out_format fmt);
/* Append r as it is printed to b (any thread; o is only read). */
void tg_out_render(const struct tg_out *o, struct tg_record *r, struct tg_buf *b);
/* Render and write r. */
void tg_out_record(struct tg_out *o, struct tg_record *r);
void tg_out_end(struct tg_out *o);

/* Append s (NUL-terminated, may be NULL) as a CSV cell / a table cell of
 * `width` columns (control characters as spaces, cut with an ellipsis). */
void tg_csv_cell(struct tg_buf *b, const char *s);
void tg_table_cell(struct tg_buf *b, const char *s, int width, bool pad);

#endif
