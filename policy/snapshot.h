/*
 * snapshot.h - a loaded policy snapshot: immutable, reference-counted.
 *
 * tg_snapshot_load() reads every regular file of a directory (hidden and
 * backup files skipped), recognises each file's kind by its content (LDIF,
 * cvtsudoers JSON, passwd, group, netgroup), builds the model (model.h) and
 * its indexes, and names the result by a hash of the files' names and bytes
 * (SHA-256, first 16 hex digits).
 *
 * Problems are of two kinds.  Findings about what the files say (references
 * to entries the snapshot does not define, HBAC rules of a type other than
 * allow, rules that can never match) do not fail a load: they are kept in
 * the snapshot for `policy lint` and the log.  Damage (a file that cannot be
 * read, is not a snapshot file or is not valid JSON; a line the LDIF, passwd
 * or group syntax does not allow; an entry that had to be dropped) fails it:
 * a snapshot missing part of what its files hold would give confident wrong
 * verdicts, so the collector judges nothing with it instead (SPEC.md
 * section 4: events get not_applicable with the reason, a failed reload
 * keeps the last good snapshot).  An unreadable directory fails too.
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
 * in *out, or TG_EIO/TG_ENOENT (directory unreadable) or TG_EINVAL (damaged
 * content) with *out NULL and *err (caller frees) naming the directory, the
 * first damaged file:line, and what to do.  Main or reload thread.
 */
int tg_snapshot_load(const char *dir, struct tg_snapshot **out, char **err);

/*
 * As tg_snapshot_load, but a snapshot with damage is returned too (its
 * problems marked `damage`, d.ndamage > 0): for `policy lint`, which shows
 * every problem.  Never decide with a damaged snapshot.  Main thread.
 */
int tg_snapshot_read(const char *dir, struct tg_snapshot **out, char **err);

/* Take / drop a reference.  Any thread. */
struct tg_snapshot *tg_snapshot_ref(struct tg_snapshot *s);
void tg_snapshot_unref(struct tg_snapshot *s);

/*
 * Compute the id of the files in dir without loading them (for noticing a
 * changed snapshot directory).  Writes 17 bytes to id; returns 0 or TG_EIO.
 */
int tg_snapshot_dir_id(const char *dir, char id[17]);

/*
 * Copy the files a load of `src` reads (the same selection, names and
 * bytes, so the copy has the same id) into the existing directory `dst`,
 * each created 0640 and fsynced.  0, or TG_ENOENT/TG_EIO with *err (caller
 * frees) naming the file and what to do.  Any one thread.
 */
int tg_snapshot_copy(const char *src, const char *dst, char **err);

/* Print what the snapshot holds and every problem (for `policy lint`),
 * and, when it has damage, that the collector would not load it.
 * Returns the number of problems that are errors (damage included). */
size_t tg_snapshot_report(const struct tg_snapshot *s, FILE *out);

/* Look up an entity by name (case-insensitive); NULL if unknown. */
const struct tg_entity *tg_snapshot_entity(const struct tg_snapshot *s, enum tg_ns ns,
                                           const char *name, size_t len);
/* The user defined with this uid (the first one), or NULL (a binary
 * search).  Any thread. */
const struct tg_entity *tg_snapshot_user_by_uid(const struct tg_snapshot *s, int64_t uid);
/* Who uid is on host, for records that name a user by uid only: the
 * account of the host's own passwd file when the snapshot has one for it
 * (a "# host:" first line, model.h; host matched as given, then by its
 * short name), else the snapshot's user with that uid.  Returns the name
 * (the snapshot's string) or NULL, and where it is defined in *file (the
 * path as loaded) and *line; file and line may be NULL.  host may be NULL.
 * Any thread. */
const char *tg_snapshot_uid_name(const struct tg_snapshot *s, const char *host, int64_t uid,
                                 const char **file, int *line);

#endif
