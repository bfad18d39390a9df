/*
 * store_verify.h - check a file store's hash chain (used by `verify`, and by
 * `export`, which exports in the same pass what the check vouches for).
 *
 * Recomputes every link from the records and the member seals (format in
 * sinks/segment.h), segment by segment in order, and checks what readers
 * rely on against what the data is: every gzip member ends exactly at the
 * offset its entry names, holds exactly its record count, carries exactly its
 * time range, and nothing lies between or after the members of a closed
 * segment.  It names the first segment and record that was changed,
 * removed, inserted or reordered, a deleted or reordered segment, or an
 * altered sidecar, index, chain.head or checkpoint.
 *
 * What is confirmed (V): the records chain.head counts, and those the
 * newest checkpoint counts (the store's own checkpoints.ndjson and the ones
 * the auditor gives).  Records up to V must all be there, whole.  Past V, in
 * the newest segment while it has no index, what a crash leaves (a torn
 * member, members not yet whole, an unchained member, a partial entry) is a
 * torn tail, not tampering: those records were never confirmed.  A
 * checkpoint must match the chain at its record count (same store, same
 * link), so a store cut short, rewritten or replaced before the newest
 * checkpoint the auditor holds is reported.  What lies after that checkpoint
 * cannot be proven complete (the report says how many records).
 *
 * Retention removes the oldest segments after storing a prune point (a
 * checkpoint with reason "prune", checkpoint.h) in the chain and in
 * checkpoints.ndjson: a store whose first segment is not 1 is intact only
 * from the segment a prune point names, and only if the chain itself holds
 * that prune point.
 *
 * Memory: one segment's sidecar (4 bytes per record) and, with a record
 * callback, one member's records.  Main thread.
 */
#ifndef TG_STORE_VERIFY_H
#define TG_STORE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/chain.h"
#include "sinks/checkpoint.h"

struct tg_verify_opts {
    const uint8_t *key0;               /* k_0 (tg_chain_key_load) or NULL */
    const struct tg_checkpoint *given; /* the auditor's checkpoints */
    size_t ngiven;
    void *pubkey; /* when set, every checkpoint used must carry its valid signature */
    /* Called for each record of a member once the member checked out, in
     * store order; return false to stop reading records (the check goes on).
     * ns: its @timestamp (has_time false when it has none). */
    bool (*on_record)(void *ctx, struct tg_str rec, bool has_time, int64_t ns);
    void *ctx;
};

struct tg_verify_report {
    bool intact; /* nothing was tampered with (a torn tail is allowed) */
    bool torn;   /* the newest segment ends in a torn tail */
    bool keyed;  /* some segment carries the HMAC chain */
    uint64_t segments, records, members, bytes;
    uint64_t first_seq, last_seq;
    uint8_t store_id[16];
    uint8_t last_link[TG_LINK_LEN];
    uint64_t confirmed; /* V: records chain.head and the checkpoints count */
    /* the newest checkpoint that the store matched, and where it came from */
    bool have_checkpoint;
    struct tg_checkpoint checkpoint;
    const char *checkpoint_from; /* "given" or TG_CHECKPOINT_FILE */
    bool checkpoint_signed;      /* its signature was checked with the given key */
    uint64_t unproven;           /* records after it (all of them: none) */
    size_t store_checkpoints;    /* in checkpoints.ndjson */
    size_t given_used;           /* checkpoints given that are of this store */
    size_t given_other;          /* and those of other stores, ignored */
    size_t before_prune;         /* checkpoints that lie in the pruned part, not checkable */
    bool pruned;                 /* the store starts after a prune point the chain holds */
    struct tg_checkpoint prune;  /* that prune point */
    char *problem;               /* the first tampering found (names segment and record), or NULL */
    char *torn_note;             /* what the torn tail holds, or NULL */
    char *warning;               /* something worth knowing that is not tampering, or NULL */
};

/*
 * Verify the store in `dir`.  Returns 0 when the check ran (rep->intact says
 * how it went), TG_EIO when dir cannot be read, TG_EUSAGE when the check
 * needs something from the caller (a key for a keyed store, a signed
 * checkpoint for --pubkey; rep->problem says what).  Free rep with
 * tg_verify_report_free.
 */
/*
 * Read the checkpoints an auditor gives (--checkpoint PATH, "-" for stdin):
 * one per line, as checkpoint objects, log lines' JSON or events; other
 * lines that are JSON events are skipped.  0, or TG_EIO/TG_EINVAL with a
 * malloc'd sentence in *err.  Free with tg_checkpoints_free.
 */
int tg_verify_read_checkpoints(const char *path, struct tg_checkpoint **out, size_t *n, char **err);
/*
 * For the commands (verify, export): load --key into `key`, --checkpoint into
 * *given and --pubkey, and fill o with them.  Returns an exit code: 0, or
 * TG_EXIT_USAGE after printing why (as "trailguard CMD: ...").
 */
int tg_verify_prepare(const char *cmd, const char *key_path, const char *cp_path,
                      const char *pub_path, uint8_t key[TG_LINK_LEN], struct tg_checkpoint **given,
                      size_t *ngiven, struct tg_verify_opts *o);
int tg_store_verify(const char *dir, const struct tg_verify_opts *o, struct tg_verify_report *rep);
void tg_verify_report_free(struct tg_verify_report *rep);

#endif
