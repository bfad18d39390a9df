/*
 * check.h - `trailguard check -c FILE` (and `serve --check`): is this
 * configuration good enough to start with?
 *
 * A check reads and never writes: it loads the configuration as `serve`
 * does (every problem of every key), then looks at what the keys name --
 * the TLS files, the policy snapshot, the followed files, the listen
 * addresses (bound and closed at once), the spool and store directories --
 * without taking the spool's or the store's lock, so it runs beside the
 * collector (the unit's ExecReload).  What it finds is reported as
 * "FILE:LINE: [section] key: what" on stderr: a problem makes the exit
 * status 2; a note (e.g. an address held by the running collector, a
 * directory that start-up will create) does not.  Main thread.
 */
#ifndef TG_CHECK_H
#define TG_CHECK_H

#include "core/config.h"

/* The report being built: the file and the counts so far. */
struct tg_findings {
    const char *file;
    int problems, notes;
};

/* Report a problem (or a note) about `key` of section s (key NULL: the
 * section), at the line of that key.  The text says what is wrong and what
 * to do. */
void tg_check_problem(struct tg_findings *ck, const struct tg_section *s, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tg_check_note(struct tg_findings *ck, const struct tg_section *s, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Check the configuration file `path`; prints the findings and a last line,
 * returns the exit status (0 good, 2 problems). */
int tg_check_config(const char *path);

#endif
