/*
 * count_by.h - counting matching events by the values of a few fields
 * (`query --count-by user,host`, and the tables of `report`).
 *
 * The scan's workers render each match as its key (the values of the
 * fields, tg_countby_render); the main thread counts the keys in a hash
 * table (tg_countby_add) and prints the groups, most frequent first, as a
 * table, NDJSON or CSV.  Memory grows with the number of distinct groups,
 * not with the events.  A struct tg_countby belongs to the main thread;
 * render only reads it.
 */
#ifndef TG_COUNT_BY_H
#define TG_COUNT_BY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "tools/store_read.h"

struct tg_group {
    char *key; /* the serialized values (see count_by.c) */
    size_t klen;
    uint64_t count;
};

struct tg_countby {
    size_t nkeys;
    char **name;        /* as given */
    const char **path;  /* dotted path, or TG_FIELD_DAY / TG_FIELD_HOUR */
    int *idx;           /* in the filter's fields, or -1 */
    struct tg_group *g; /* open addressing */
    size_t ng, capg;
    bool sorted;
    uint64_t total;
};

/* Parse "user,host" (short names or paths; store_read.h) and add the
 * fields to f->fields.  0, or TG_EXIT_USAGE after printing why. */
int tg_countby_init(struct tg_countby *cb, struct tg_filter *f, const char *spec, const char *cmd);
/* Append r's key to out (any thread). */
void tg_countby_render(const struct tg_countby *cb, struct tg_record *r, struct tg_buf *out);
/* Append one value (NULL: absent) to a key being built by hand (report). */
void tg_group_key_put(struct tg_buf *key, const char *v);
/* Count `n` events of key [key, key+klen). */
void tg_countby_add(struct tg_countby *cb, const char *key, size_t klen, uint64_t n);
/* The groups sorted by count (descending), then by their values; the
 * array is the table's own: valid until the next add. */
struct tg_group *tg_countby_sorted(struct tg_countby *cb, size_t *n);
/* Value k of a group's key: its text (NUL-terminated copy into tmp), or
 * NULL when absent. */
const char *tg_group_value(const struct tg_group *g, size_t k, struct tg_buf *tmp);
/* Print the groups (at most `limit`, 0: all) in format fmt. */
void tg_countby_print(struct tg_countby *cb, FILE *f, enum tg_out_format fmt, uint64_t limit);
void tg_countby_free(struct tg_countby *cb);

#endif
