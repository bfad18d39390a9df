/*
 * snapshot.h - a loaded policy snapshot: immutable, reference-counted.
 *
 * tg_snapshot_load() reads every regular file of a directory (hidden and
 * backup files skipped), recognises each file's kind by its content (LDIF,
 * cvtsudoers JSON, passwd, group, netgroup), builds the model (model.h) and
 * its indexes, and names the result by a hash of the files' names and bytes
 * (SHA-256, first 16 hex digits).  Problems in the files never fail a load:
 * they are kept in the snapshot for `policy lint` and the log.  Only an
 * unreadable directory fails.
 *
 * Once loaded a snapshot is never written, so any thread may read it while
 * it holds a reference.  tg_snapshot_ref/unref are atomic; the last unref
 * frees it.  The swap on reload lives in policy.h (struct tg_policy).
 */
#ifndef TG_POLICY_SNAPSHOT_H
#define TG_POLICY_SNAPSHOT_H

#include <stdio.h>

#include "policy/model.h"

struct tg_snapshot {
    int refs; /* atomic */
    char id[17];
    char *dir;
    double load_seconds;
    struct tg_snapshot_data d;
};

/*
 * Load the snapshot in `dir`.  Returns 0 and a snapshot with one reference
 * in *out, or TG_EIO/TG_ENOENT with *err (caller frees) saying what is wrong
 * and what to do.  Main or reload thread.
 */
int tg_snapshot_load(const char *dir, struct tg_snapshot **out, char **err);

/* Take / drop a reference.  Any thread. */
struct tg_snapshot *tg_snapshot_ref(struct tg_snapshot *s);
void tg_snapshot_unref(struct tg_snapshot *s);

/*
 * Compute the id of the files in dir without loading them (for noticing a
 * changed snapshot directory).  Writes 17 bytes to id; returns 0 or TG_EIO.
 */
int tg_snapshot_dir_id(const char *dir, char id[17]);

/* Print what the snapshot holds and every problem (for `policy lint`).
 * Returns the number of problems that are errors (not warnings). */
size_t tg_snapshot_report(const struct tg_snapshot *s, FILE *out);

/* Look up an entity by name (case-insensitive); NULL if unknown. */
const struct tg_entity *tg_snapshot_entity(const struct tg_snapshot *s, enum tg_ns ns,
                                           const char *name, size_t len);

#endif
