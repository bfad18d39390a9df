/*
 * check.h - findings about what a loaded configuration names, for
 * `trailguard check` (tools/check.c) and for the plugins whose sections
 * name files and addresses (a source's check callback, ingest/source.h):
 * every layer reports a problem the same way, so a new input brings its
 * own check.
 *
 * A finding is a problem (the configuration will not work: `check` exits
 * 2) or a note (worth knowing, not wrong).  `trailguard check` prints each
 * as "FILE:LINE: [section] key: what" on stderr, LINE being the key's (core
 * config keeps the line of every key).  A source starting up reports
 * through the same functions in log mode (ck->file NULL): each finding is
 * logged as "LABEL: key: what", a problem as an error, so start-up and the
 * check say the same thing about the same file.
 *
 * The checks here read and never write: a file is judged with access(2) as
 * the user running them, a listen address is bound with SO_REUSEADDR (as
 * the listeners bind) and closed at once, never listened on.  When it is
 * in use, the holder is looked up in /proc (core/sockinfo.h): trailguard
 * itself is a note ("in use (the running collector?)", definite when that
 * process holds this configuration's spool lock), anything else a problem.
 * Main thread; a struct tg_findings belongs to one check run.
 */
#ifndef TG_CHECK_H
#define TG_CHECK_H

#include <stddef.h>

#include "core/config.h"

struct tg_findings {
    const char *file;  /* the configuration's path; NULL: log mode */
    const char *label; /* log mode: what each line starts with ("[input.relp] :2514") */
    /* check mode: the configuration, for the listen checks (its
     * [collector] spool_dir names the running collector's lock) */
    const struct tg_config *cfg;
    int problems, notes;
    struct { /* listen addresses seen so far: a port named twice is a problem */
        const struct tg_section *s;
        const char *key;
        char port[8];
    } ports[64];
    size_t nports;
};

/* Report a problem (or a note) about `key` of section s (key NULL: the
 * section), at the line of that key (s may be NULL in log mode).  The text
 * says what is wrong and what to do. */
void tg_check_problem(struct tg_findings *ck, const struct tg_section *s, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tg_check_note(struct tg_findings *ck, const struct tg_section *s, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A file start-up will read (`what`: "a PEM file"): readable by this user,
 * and a regular file; else a problem at `key`. */
void tg_check_readable(struct tg_findings *ck, const struct tg_section *s, const char *key,
                       const char *path, const char *what);

/* The listen address in string key `key` of s (unset: nothing): not named
 * by another listen key of this check, resolvable, bindable now (in use by
 * the running collector: a note).  Check mode only. */
void tg_check_listen(struct tg_findings *ck, const struct tg_section *s, const char *key);

#endif
