/*
 * checkpoint.h - signed checkpoints of the file store (issue 11).
 *
 * A checkpoint says "store S held R records in M members up to segment N,
 * and the chain after them was L", at a time, signed with Ed25519.  The file
 * sink makes one every [sink.file] checkpoint_seconds, when it closes a
 * segment and at shutdown; it appends it to the store's checkpoints.ndjson,
 * logs it and announces it as an event to the other sinks (Kafka), where an
 * attacker who owns the collector's disk cannot rewrite it afterwards.  An
 * auditor who holds a checkpoint checks the store against it (`verify
 * --checkpoint`): records removed before it, a store cut short or replaced,
 * or a chain rewritten up to it, all show.  Truncation after the newest
 * checkpoint the auditor holds cannot be seen: the window is
 * checkpoint_seconds.
 *
 * The signature proves the checkpoint was made by the holder of the signing
 * key (the collector), so a checkpoint injected into Kafka by anyone else is
 * refused.  It does not protect against whoever can read the key on the
 * collector going forward; what was already shipped stays true.
 *
 * A prune point is a checkpoint with reason "prune": segments before
 * `segment` were removed by retention (retain_days, retain_bytes, `trailguard
 * prune`), and the chain of the store now starts at that segment, after
 * `records` records and `members` members, from `link`; the note says what
 * was removed.  The sink also stores it in the chain (as a record), so
 * verify accepts a store that starts there only when the chain itself holds
 * the prune point: a deletion without one is still tampering.
 *
 * The JSON form (one line) holds every field; the signed message is a
 * canonical text built from the fields (tg_checkpoint_message), so writer and
 * verifier cannot disagree about bytes.  Keys are PEM files (PKCS#8 private,
 * SubjectPublicKeyInfo public), made by `trailguard keygen`.  Pure functions
 * and file helpers; no logging; any thread (each call owns its objects).
 */
#ifndef TG_CHECKPOINT_H
#define TG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/chain.h"
#include "sinks/segment.h"

#define TG_CHECKPOINT_FILE "checkpoints.ndjson"
#define TG_SIG_LEN         64
#define TG_KEY_ID_LEN      16

struct tg_checkpoint {
    uint8_t store_id[TG_SEG_STORE_ID_LEN];
    uint64_t segment, records, members;
    uint8_t link[TG_LINK_LEN];
    bool keyed;
    int64_t time_us;  /* when it was made (µs since the epoch) */
    char reason[16];  /* periodic, rotation, shutdown; prune (see above) */
    char *host, *dir; /* the collector's host name, the store's path (malloc'd) */
    char *note;       /* an optional sentence (malloc'd or NULL), signed too */
    bool is_signed;
    uint8_t key_id[TG_KEY_ID_LEN]; /* of the public key (tg_sign_key_id) */
    uint8_t sig[TG_SIG_LEN];
};

void tg_checkpoint_clear(struct tg_checkpoint *cp);
/* A deep copy of src into dst (clear dst afterwards). */
void tg_checkpoint_copy(struct tg_checkpoint *dst, const struct tg_checkpoint *src);
/* The same point of the same store's chain (store, segment, records, members, link)? */
bool tg_checkpoint_same_point(const struct tg_checkpoint *a, const struct tg_checkpoint *b);

/* The canonical signed message of cp (replaces out's contents). */
void tg_checkpoint_message(const struct tg_checkpoint *cp, struct tg_buf *out);
/* Append cp as one JSON object (no LF) to out. */
void tg_checkpoint_format(const struct tg_checkpoint *cp, struct tg_buf *out);
/*
 * Parse a checkpoint from one JSON line: a checkpoint object, or an event
 * (as stored, or as consumed from Kafka) whose trailguard.checkpoint is one.
 * 0, or TG_ENOENT (the line holds none), or TG_EINVAL with a malloc'd reason
 * in *err.  Clear cp afterwards.
 */
int tg_checkpoint_parse(const char *line, size_t len, struct tg_checkpoint *cp, char **err);

/* A signing key (EVP_PKEY).  Load a PEM private (`secret`) or public key:
 * 0, or TG_EIO/TG_EINVAL with a malloc'd sentence naming the file in *err. */
int tg_sign_key_load(const char *path, bool secret, void **key, char **err);
void tg_sign_key_free(void *key);
/* The key id: the first 16 bytes of SHA-256 over the raw public key. */
void tg_sign_key_id(void *key, uint8_t id[TG_KEY_ID_LEN]);
/* Sign cp with a private key (sets is_signed, key_id, sig).  0 or TG_EIO. */
int tg_checkpoint_sign(struct tg_checkpoint *cp, void *key);
/* 0 when cp carries a valid signature by the public key `key`; TG_ENOENT
 * when it is unsigned; TG_ECORRUPT when the signature or key id is wrong. */
int tg_checkpoint_check(const struct tg_checkpoint *cp, void *key);
/*
 * Make a new Ed25519 key pair: PREFIX.key (private, mode 0600, never
 * overwritten) and PREFIX.pub.  0, or TG_EIO/TG_EINVAL with *err.
 */
int tg_sign_keygen(const char *prefix, char **err);

/* Read every checkpoint of a checkpoints file (one per line; a torn last
 * line, from a crash while appending, is skipped and counted in *torn).
 * 0 (caller frees with tg_checkpoints_free; none when the file is absent),
 * TG_EIO, or TG_EINVAL with *bad_line and *err for a line that is not a
 * checkpoint. */
int tg_checkpoints_read(const char *path, struct tg_checkpoint **out, size_t *n, size_t *torn,
                        size_t *bad_line, char **err);
void tg_checkpoints_free(struct tg_checkpoint *v, size_t n);

#endif
