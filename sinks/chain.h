/*
 * chain.h - the hash chain of the file store (SPEC.md section 7).
 *
 * Every record of the store is linked to the one before it:
 *
 *   unkeyed  L_i = SHA-256(L_{i-1} || record_i)
 *   keyed    L_i = HMAC-SHA-256(k_i, L_{i-1} || record_i),  k_{i+1} = SHA-256(k_i)
 *
 * and after the last record of each gzip member the chain also absorbs the
 * member's seal, its descriptor (segment.h), the same way with the key of the
 * next record: L' = SHA-256(L || seal) or HMAC-SHA-256(k_{i+1}, L || seal).
 * The next record links to L'.  So the links cover where each member is, how
 * many records it holds and their time range, not only the records.
 *
 * L_0 (before the first record of the store) is 32 zero bytes; record_i is
 * the event's JSON line without its LF; i counts records over the whole
 * store, across segments, from 0.  k_0 is derived from the hmac_key_file
 * (tg_chain_key_load).  The key evolves forward after every record and the
 * previous state is wiped with OPENSSL_cleanse, so a process compromised
 * later cannot recompute the links of records written before: it only holds
 * k_i for the records still to come.  A verifier holding k_0 (kept offline)
 * re-derives every k_i.  A key, when set, evolves for every record, keyed
 * or not, so k_i always belongs to record i even if a store switches from
 * unkeyed to keyed segments.
 *
 * A struct tg_chain belongs to one thread.
 */
#ifndef TG_CHAIN_H
#define TG_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_LINK_LEN 32

struct tg_chain {
    bool has_key;              /* a key is loaded (it evolves per record) */
    bool keyed;                /* links are HMACs (else plain SHA-256) */
    uint8_t key[TG_LINK_LEN];  /* k_count: the key of the next record */
    uint8_t link[TG_LINK_LEN]; /* L of the last record chained */
    uint64_t count;            /* records chained so far */
    void *md;                  /* EVP_MD_CTX */
    void *sha256;              /* EVP_MD */
};

/*
 * Read the key file at `path` and derive k_0 = SHA-256(contents without
 * trailing whitespace).  0, or TG_EIO/TG_EINVAL with a malloc'd sentence in
 * *err (names the file and what to do).  The file's bytes are wiped from
 * memory after use.
 */
int tg_chain_key_load(const char *path, bool writer, uint8_t key[TG_LINK_LEN], char **err);

/* Start at the genesis (count 0, L_0 = zeros).  key0 NULL: unkeyed and no key.
 * The caller should wipe its copy of key0. */
void tg_chain_init(struct tg_chain *c, const uint8_t *key0);

/* Continue a chain that already holds `count` records ending in `link`:
 * evolves the key `count` times (cost: one SHA-256 of 32 bytes each). */
void tg_chain_resume(struct tg_chain *c, const uint8_t link[TG_LINK_LEN], uint64_t count);

/* Link record [rec, rec+len) (without its LF): updates c->link, c->count
 * and evolves the key. */
void tg_chain_add(struct tg_chain *c, const void *rec, size_t len);

/*
 * The link after a member's seal (segment.h: tg_seg_seal_message), into out,
 * without changing c: SHA-256(L || msg), or keyed HMAC-SHA-256(k, L || msg)
 * with the key of the next record (a seal does not evolve the key, and
 * count counts records only).  The writer sets c->link = out once the
 * member is on disk; a verifier compares out with the sidecar's link and
 * continues from it.
 */
void tg_chain_seal(struct tg_chain *c, const void *msg, size_t len, uint8_t out[TG_LINK_LEN]);

/* Wipe the key and free the digest context. */
void tg_chain_free(struct tg_chain *c);

/* Lower-case hex of a link: out has room for 65 bytes (NUL included). */
void tg_link_hex(const uint8_t link[TG_LINK_LEN], char out[2 * TG_LINK_LEN + 1]);
/* Parse 64 hex digits; 0 or TG_EINVAL. */
int tg_link_unhex(const char *hex, size_t n, uint8_t link[TG_LINK_LEN]);

#endif
