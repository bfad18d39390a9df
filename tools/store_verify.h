/*
 * store_verify.h - check a file store's hash chain (used by `verify` and by
 * `export` for its manifest).
 *
 * Recomputes every link from the records and compares with the sidecars
 * (format in sinks/segment.h), segment by segment in order, and names the
 * first segment and record that was changed, removed, inserted or
 * reordered, a deleted or reordered segment, or an altered sidecar, index
 * or chain.head.  A torn tail of the newest segment (a crash) is reported
 * as such and does not count as tampering.  Memory: one segment's sidecar
 * (4 bytes per record).  Main thread.
 */
#ifndef TG_STORE_VERIFY_H
#define TG_STORE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "sinks/chain.h"

struct tg_verify_report {
    bool intact; /* nothing was tampered with (a torn tail is allowed) */
    bool torn;   /* the newest segment ends in a torn tail */
    bool keyed;  /* some segment carries the HMAC chain */
    uint64_t segments, records, bytes;
    uint64_t first_seq, last_seq;
    uint8_t last_link[TG_LINK_LEN];
    char *problem;   /* the first tampering found (names segment and record), or NULL */
    char *torn_note; /* what the torn tail holds, or NULL */
    char *warning;   /* something worth knowing that is not tampering, or NULL */
};

/*
 * Verify the store in `dir`.  key0: k_0 (tg_chain_key_load) or NULL.
 * Returns 0 when the check ran (rep->intact says how it went), TG_EIO when
 * dir cannot be read, TG_EUSAGE when the store is keyed and key0 is NULL
 * (rep->problem says so).  Free rep with tg_verify_report_free.
 */
int tg_store_verify(const char *dir, const uint8_t *key0, struct tg_verify_report *rep);
void tg_verify_report_free(struct tg_verify_report *rep);

#endif
