/*
 * history.h - every policy snapshot that was ever in force, and when
 * ([policy] snapshot_history_dir): the store behind "was it allowed at the
 * time?".
 *
 * On disk, in the history directory:
 *   snapshots/<id>/   a copy of the snapshot's files, named by its id (the
 *                     hash of those files, snapshot.h), so it is written
 *                     once and never changed; written as snapshots/.stage-*
 *                     and renamed into place when complete
 *   history.tsv       the index, append-only: one line per change,
 *                     "<in force from, RFC 3339 UTC>\t<id>\n", oldest first;
 *                     a snapshot is in force until the next line's time
 * Crash safety: a copy is fsynced before its rename, the rename before the
 * index line that names it, and the line is one O_APPEND write, fsynced.
 * So the index never names a missing copy; a torn last line (a crash during
 * the append) is cut off when the history is opened for writing and
 * skipped when only reading; leftover stage directories are removed.
 *
 * In memory: the entries (id, from), and a small LRU cache of loaded
 * historical snapshots (TG_HISTORY_CACHE of them, plus up to as many
 * pinned ones: snapshots that came into force in this run but could not be
 * stored; older ones are let go).  A snapshot is loaded lazily, on the
 * first event of its time, and checked against its id (a copy whose
 * content changed is refused).
 * Snapshots are refcounted as always: eviction drops the cache's
 * reference, a worker still judging with one keeps it alive.
 *
 * Threads: the control thread adds entries (tg_history_stage/commit/pin);
 * workers look up and load (tg_history_find/get) concurrently.  One mutex
 * guards the entries and the cache; loads run outside it.
 */
#ifndef TG_POLICY_HISTORY_H
#define TG_POLICY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/snapshot.h"

#define TG_HISTORY_INDEX "history.tsv"
#define TG_HISTORY_CACHE 4 /* historical snapshots kept loaded */

struct tg_history;

struct tg_history_entry {
    char id[17];
    int64_t from_us;  /* in force from, microseconds since the epoch */
    int64_t until_us; /* the next entry's from; INT64_MAX for the last */
};

/*
 * Open the history in `dir`.  writable: create the directory (0750) and
 * its snapshots/ when missing, cut a torn last index line, remove leftover
 * stage directories (the collector); else only read (`policy check --at`,
 * `policy history`, `ingest`): a missing directory is an empty history.
 * Returns 0 and *out, or TG_EIO with *err (caller frees) saying what to do.
 * Index lines that cannot be read are skipped and logged.  Main thread.
 */
int tg_history_open(const char *dir, bool writable, struct tg_history **out, char **err);
void tg_history_free(struct tg_history *h);

/* Number of entries; entry i (0 = oldest).  Any thread. */
size_t tg_history_len(struct tg_history *h);
bool tg_history_entry(struct tg_history *h, size_t i, struct tg_history_entry *out);

/*
 * The entry in force at t_us: the last one from at or before t_us, else
 * (t_us before the history) the oldest.  Fills *at and returns its index,
 * or -1 when the history is empty.  Any thread.
 */
long tg_history_find(struct tg_history *h, int64_t t_us, struct tg_history_entry *at);

/*
 * The snapshot of entry `id` with a reference (tg_snapshot_unref it): the
 * pinned or cached one, else loaded from its copy (and cached).  NULL with
 * *err (caller frees) when it cannot be loaded; that is remembered, logged
 * once and counted, so the copy is not tried for every event.  Any thread.
 */
struct tg_snapshot *tg_history_get(struct tg_history *h, const char *id, char **err);

/*
 * Keep s (a reference is taken) in the cache: the snapshot that was current
 * until now, so that late events of its time need no load.  Any thread.
 */
void tg_history_keep(struct tg_history *h, struct tg_snapshot *s);

/*
 * Copy the snapshot directory src into a new stage directory of the
 * history (its path in *stage, caller frees); the caller checks that the
 * copy has the id of the snapshot it loaded, so what is stored is what
 * judges.
 * 0, or TG_EIO/TG_ENOENT with *err (caller frees).  Control thread.
 */
int tg_history_stage(struct tg_history *h, const char *src, char **stage, char **err);

/*
 * The copy in `stage` holds snapshot s (the caller checked its id), which
 * comes into force at from_us: move it to snapshots/<id> (or drop it when
 * that exists) and append an index entry unless s is already the newest
 * entry.  0, or TG_EIO with *err (caller frees; nothing is recorded: the
 * caller pins s instead).  Control thread.
 */
int tg_history_commit(struct tg_history *h, const char *stage, const struct tg_snapshot *s,
                      int64_t from_us, char **err);

/* Remove a stage directory whose snapshot did not load.  Control thread. */
void tg_history_discard(struct tg_history *h, const char *stage);

/*
 * s comes into force at from_us but is not stored (a read-only history, or
 * storing failed): an entry in memory only, pinned to s (a reference is
 * taken), unless s is already the newest entry.  Control thread.
 */
void tg_history_pin(struct tg_history *h, struct tg_snapshot *s, int64_t from_us);

#endif
