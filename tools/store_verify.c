/*
 * store_verify.c - the chain check behind `trailguard verify`.  See
 * store_verify.h.
 *
 * Per segment, in number order: the sidecar header must continue the chain
 * of the segment before (number, first record index, previous link); then
 * the data is streamed: each record's CRC-32 is compared with the sidecar's
 * fingerprint list and, while they agree, the record is chained and the
 * link compared at the end of each member's run of records.  The first
 * fingerprint that disagrees is explained by looking one record ahead
 * (removed, inserted, swapped, or changed).  The links are the proof; the
 * fingerprints only locate.  Finally the index and chain.head are checked
 * against what was recomputed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/errors.h"
#include "core/mem.h"
#include "sinks/segment.h"
#include "tools/store_verify.h"

struct tg_vctx {
    const char *dir;
    const uint8_t *key0;
    struct tg_seg_entry *v;
    size_t n;
    struct tg_chain chain;
    struct tg_verify_report *rep;
    struct tg_seg_head head;
    bool have_head, head_seen;
    bool need_key;    /* a keyed segment was met without a key */
    uint64_t claimed; /* records the sidecars claim, torn ones included */
    uint32_t *f;      /* fingerprints read from the current segment */
    size_t nf, capf;
};

static void tg_vset(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tg_vset(char **slot, const char *fmt, ...)
{
    if (*slot)
        return; /* the first one found is the one reported */
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(slot, fmt, ap) < 0)
        abort();
    va_end(ap);
}

static void tg_vpush(struct tg_vctx *c, uint32_t fp)
{
    c->f = tg_xgrow(c->f, c->nf, &c->capf, sizeof(*c->f), 4096);
    c->f[c->nf++] = fp;
}

/* Another segment whose first record has fingerprint fp (data files swapped), or 0. */
static uint64_t tg_vfind_first(struct tg_vctx *c, uint64_t self, uint32_t fp)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].seq == self || !c->v[i].has[TG_SEG_CHAIN])
            continue;
        char *p = tg_seg_path(c->dir, c->v[i].seq, TG_SEG_CHAIN);
        struct tg_sidecar sc;
        uint64_t where;
        bool hit = tg_sidecar_load(p, &sc, &where) == 0 && sc.nfp > 0 && sc.fp[0] == fp;
        tg_sidecar_free(&sc);
        free(p);
        if (hit)
            return c->v[i].seq;
    }
    return 0;
}

/* Explain the first fingerprint mismatch at segment-local index i. */
static void tg_vdiagnose(struct tg_vctx *c, const struct tg_sidecar *sc, size_t i)
{
    char name[32];
    tg_seg_name(sc->hdr.seq, TG_SEG_DATA, name);
    const uint32_t *E = sc->fp, *F = c->f;
    size_t ne = sc->nfp, nf = c->nf;
    uint64_t g = sc->hdr.first_index + i + 1; /* store-wide record number, 1-based */
    bool f1 = nf > i + 1, e1 = ne > i + 1;
    struct tg_verify_report *rep = c->rep;
    if (f1 && e1 && F[i] == E[i + 1] && F[i + 1] == E[i])
        tg_vset(&rep->problem,
                "%s: records %zu and %zu (store records %" PRIu64 " and %" PRIu64
                ") were reordered (swapped)",
                name, i + 1, i + 2, g, g + 1);
    else if (e1 && F[i] == E[i + 1])
        tg_vset(&rep->problem, "%s: record %zu (store record %" PRIu64 ") was removed", name, i + 1,
                g);
    else if (f1 && F[i + 1] == E[i])
        tg_vset(&rep->problem,
                "%s: a record was inserted before record %zu (store record %" PRIu64 ")", name,
                i + 1, g);
    else if (i == 0 && tg_vfind_first(c, sc->hdr.seq, F[0]))
        tg_vset(&rep->problem,
                "%s holds the records of segment %" PRIu64
                ": segment files were renamed or reordered",
                name, tg_vfind_first(c, sc->hdr.seq, F[0]));
    else
        tg_vset(&rep->problem, "%s: record %zu (store record %" PRIu64 ") was changed", name, i + 1,
                g);
}

/* Remember the link where chain.head says the store ends. */
static void tg_vhead_mark(struct tg_vctx *c)
{
    if (c->have_head && !c->head_seen && c->chain.count == c->head.records) {
        c->head_seen = true;
        if (memcmp(c->chain.link, c->head.link, TG_LINK_LEN) != 0)
            tg_vset(&c->rep->problem,
                    "%s: the link after store record %" PRIu64
                    " differs from the recomputed chain: chain.head or the records before it "
                    "were altered",
                    TG_SEG_HEAD_FILE, c->head.records);
    }
}

static void tg_vindex(struct tg_vctx *c, const struct tg_sidecar *sc, uint64_t bytes, bool last)
{
    char iname[32];
    tg_seg_name(sc->hdr.seq, TG_SEG_INDEX, iname);
    char *ipath = tg_seg_path(c->dir, sc->hdr.seq, TG_SEG_INDEX);
    struct tg_seg_index ix;
    int rc = tg_seg_index_read(ipath, &ix);
    free(ipath);
    if (rc == TG_EIO && errno == ENOENT) {
        if (!last)
            tg_vset(&c->rep->warning,
                    "%s is missing: readers scan that segment instead of "
                    "skipping it by time",
                    iname);
        return;
    }
    if (rc == 0 && last && ix.records > sc->nfp)
        return; /* the writer closed the segment after we read its sidecar */
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    for (size_t i = 0; i < sc->nm; i++) {
        if (sc->m[i].min_ns < mn)
            mn = sc->m[i].min_ns;
        if (sc->m[i].max_ns > mx)
            mx = sc->m[i].max_ns;
    }
    const uint8_t *lastl = sc->nm ? sc->m[sc->nm - 1].link : sc->hdr.prev;
    if (rc != 0 || ix.seq != sc->hdr.seq || ix.first_index != sc->hdr.first_index ||
        ix.records != sc->nfp || ix.members != sc->nm || ix.bytes != bytes || ix.min_ns != mn ||
        ix.max_ns != mx || memcmp(ix.prev, sc->hdr.prev, TG_LINK_LEN) != 0 ||
        memcmp(ix.last, lastl, TG_LINK_LEN) != 0)
        tg_vset(&c->rep->problem,
                "%s does not match its segment (records, time range or links): the index was "
                "altered",
                iname);
}

/* Verify one segment; false when a problem was found (stop). */
static bool tg_vsegment(struct tg_vctx *c, size_t idx, uint64_t expect)
{
    const struct tg_seg_entry *e = &c->v[idx];
    struct tg_verify_report *rep = c->rep;
    bool last = idx + 1 == c->n;
    /* only the newest segment, while it has no index (the writer writes it
     * when it closes a segment), can end in what a crash leaves: a torn
     * member, records not yet chained, a partial sidecar entry */
    bool open = last && !e->has[TG_SEG_INDEX];
    char dname[32], cname[32];
    tg_seg_name(e->seq, TG_SEG_DATA, dname);
    tg_seg_name(e->seq, TG_SEG_CHAIN, cname);
    if (e->seq != expect) {
        if (expect == 1 && e->seq == 2)
            tg_vset(&rep->problem, "segment 1 is missing: the oldest segment was deleted");
        else if (expect == 1)
            tg_vset(&rep->problem,
                    "segments 1 to %" PRIu64 " are missing: the oldest segments "
                    "were deleted",
                    e->seq - 1);
        else if (e->seq - 1 == expect)
            tg_vset(&rep->problem,
                    "segment %" PRIu64 " is missing between segments %" PRIu64 " and %" PRIu64
                    ": it was deleted",
                    expect, expect - 1, e->seq);
        else
            tg_vset(&rep->problem,
                    "segments %" PRIu64 " to %" PRIu64 " are missing between segments %" PRIu64
                    " and %" PRIu64 ": they were deleted",
                    expect, e->seq - 1, expect - 1, e->seq);
        return false;
    }
    if (!e->has[TG_SEG_CHAIN]) {
        tg_vset(&rep->problem, "%s is missing: the chain of segment %" PRIu64 " was deleted", cname,
                e->seq);
        return false;
    }
    char *cpath = tg_seg_path(c->dir, e->seq, TG_SEG_CHAIN);
    char *dpath = tg_seg_path(c->dir, e->seq, TG_SEG_DATA);
    struct tg_sidecar sc;
    uint64_t where;
    struct tg_seg_reader *r = NULL;
    bool ok = false;
    int lrc = tg_sidecar_load(cpath, &sc, &where);
    if (lrc != 0) {
        if (lrc == TG_ECORRUPT)
            tg_vset(&rep->problem, "%s is damaged at byte %" PRIu64 ": the sidecar was altered",
                    cname, where);
        else
            tg_vset(&rep->problem, "cannot read %s: %s", cname, strerror(errno));
        goto out;
    }
    struct stat st;
    bool has_data = e->has[TG_SEG_DATA] && stat(dpath, &st) == 0;
    if (sc.good_len == 0) {
        if (open && (!has_data || st.st_size == 0)) {
            tg_vset(&rep->torn_note,
                    "segment %" PRIu64 " was being created when the writer "
                    "stopped (no records)",
                    e->seq);
            rep->torn = ok = true;
        } else {
            tg_vset(&rep->problem, "%s has no header: the sidecar was truncated", cname);
        }
        goto out;
    }
    if (sc.hdr.seq != e->seq) {
        tg_vset(&rep->problem,
                "%s holds the chain of segment %" PRIu64
                ": segment files were renamed or reordered",
                cname, sc.hdr.seq);
        goto out;
    }
    if (sc.hdr.first_index != c->chain.count ||
        memcmp(sc.hdr.prev, c->chain.link, TG_LINK_LEN) != 0) {
        if (idx == 0)
            tg_vset(&rep->problem,
                    "segment %" PRIu64 " does not start the chain (it continues after store "
                    "record %" PRIu64 "): the segments before it were deleted",
                    e->seq, sc.hdr.first_index);
        else
            tg_vset(&rep->problem,
                    "segment %" PRIu64 " does not continue the chain of segment %" PRIu64
                    " (it expects %" PRIu64 " records before it, the store has %" PRIu64
                    "): a segment was deleted, replaced or reordered",
                    e->seq, c->v[idx - 1].seq, sc.hdr.first_index, c->chain.count);
        goto out;
    }
    if (c->key0 && rep->keyed && !sc.hdr.keyed) {
        tg_vset(&rep->problem,
                "segment %" PRIu64 " is chained without HMAC after keyed segments (the key was "
                "dropped from [sink.file], or the segments were rewritten): its records cannot "
                "be authenticated",
                e->seq);
        goto out;
    }
    if (sc.hdr.keyed)
        rep->keyed = true;
    if (sc.hdr.keyed && !c->key0) {
        c->need_key = true;
        tg_vset(&rep->problem,
                "segment %" PRIu64 " is chained with HMAC: give the key with "
                "--key FILE",
                e->seq);
        goto out;
    }
    c->chain.keyed = sc.hdr.keyed;
    c->claimed += sc.nfp;
    if (!has_data) {
        if (sc.nfp == 0) {
            ok = true;
        } else {
            tg_vset(&rep->problem, "%s is missing: its %zu records were deleted", dname, sc.nfp);
        }
        goto out;
    }
    if (tg_seg_reader_open(dpath, &r) != 0) {
        tg_vset(&rep->problem, "cannot read %s: %s", dname, strerror(errno));
        goto out;
    }
    c->nf = 0;
    size_t mismatch = SIZE_MAX, member = 0, chained = 0;
    int rc;
    struct tg_str rec;
    while ((rc = tg_seg_reader_next(r, &rec)) > 0) {
        if (rc != TG_SEG_RECORD)
            continue;
        uint32_t f = tg_seg_fingerprint(rec.p, rec.len);
        tg_vpush(c, f);
        if (mismatch != SIZE_MAX) {
            if (c->nf >= mismatch + 2)
                break;
            continue;
        }
        size_t j = c->nf - 1;
        if (j >= sc.nfp || f != sc.fp[j]) {
            mismatch = j;
            continue;
        }
        tg_chain_add(&c->chain, rec.p, rec.len);
        chained++;
        tg_vhead_mark(c);
        if (member < sc.nm && chained == sc.m[member].first_fp + sc.m[member].records) {
            if (memcmp(c->chain.link, sc.m[member].link, TG_LINK_LEN) != 0) {
                tg_vset(&rep->problem,
                        "%s: records %zu to %zu (store records %" PRIu64 " to %" PRIu64
                        "): the chain link does not match%s",
                        dname, sc.m[member].first_fp + 1, chained,
                        sc.hdr.first_index + sc.m[member].first_fp + 1,
                        sc.hdr.first_index + chained,
                        c->rep->records == 0 && member == 0 && sc.hdr.keyed
                            ? " (wrong --key, or the records or the sidecar were altered)"
                            : ": the records or the sidecar were altered");
                goto out;
            }
            member++;
        }
    }
    rep->records += chained;
    rep->bytes += tg_seg_reader_offset(r);
    if (mismatch != SIZE_MAX && mismatch < sc.nfp) {
        tg_vdiagnose(c, &sc, mismatch);
        goto out;
    }
    if (rc == TG_ECORRUPT) {
        tg_vset(&rep->problem,
                "%s: the compressed data is damaged after record %zu (store record %" PRIu64
                "): bytes were changed",
                dname, chained, sc.hdr.first_index + chained);
        goto out;
    }
    if (rc == TG_EIO) {
        tg_vset(&rep->problem, "cannot read %s: %s", dname, strerror(errno));
        goto out;
    }
    if (rc == TG_ETRUNC && !open) {
        tg_vset(&rep->problem,
                "%s is cut short after record %zu of %zu: bytes were removed from a closed "
                "segment",
                dname, chained, sc.nfp);
        goto out;
    }
    if (rc == TG_ETRUNC) {
        rep->torn = true;
        tg_vset(&rep->torn_note,
                "%s ends in a torn gzip member (a write cut short by a crash) after record "
                "%zu%s",
                dname, chained,
                chained < sc.nfp ? "; the chained records after it are unreadable" : "");
    } else if (mismatch != SIZE_MAX) { /* more records than chained */
        if (!open) {
            tg_vset(&rep->problem,
                    "%s: %zu record(s) after record %zu are not in the chain: inserted", dname,
                    c->nf - sc.nfp, sc.nfp);
            goto out;
        }
        rep->torn = true;
        tg_vset(&rep->torn_note,
                "%s ends with record(s) after record %zu that are not chained (left by a "
                "crash between the two writes, never confirmed; or added later): query and "
                "export never return them",
                dname, sc.nfp);
    } else if (chained < sc.nfp) {
        tg_vset(&rep->problem,
                "%s: records %zu to %zu (store records %" PRIu64 " to %" PRIu64
                ") were removed from the end",
                dname, chained + 1, sc.nfp, sc.hdr.first_index + chained + 1,
                sc.hdr.first_index + sc.nfp);
        goto out;
    }
    if (sc.torn_len) {
        if (!open) {
            tg_vset(&rep->problem, "%s ends in a partial entry: the sidecar was altered", cname);
            goto out;
        }
        rep->torn = true;
        tg_vset(&rep->torn_note, "%s ends in a partial entry (a crash while chaining)", cname);
    }
    if (chained < sc.nfp) { /* torn: keep the chain where the sidecar says it ends */
        tg_chain_resume(&c->chain, sc.m[sc.nm - 1].link, sc.hdr.first_index + sc.nfp);
    }
    tg_vindex(c, &sc, sc.nm ? sc.m[sc.nm - 1].end_offset : 0, last);
    ok = rep->problem == NULL;
out:
    tg_seg_reader_close(r);
    tg_sidecar_free(&sc);
    free(cpath);
    free(dpath);
    return ok;
}

int tg_store_verify(const char *dir, const uint8_t *key0, struct tg_verify_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    struct tg_vctx c = {.dir = dir, .key0 = key0, .rep = rep};
    struct stat st;
    if (stat(dir, &st) != 0)
        return TG_EIO;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return TG_EIO;
    }
    /* the head first: a live writer names a segment in it only after creating
     * the segment's files, so the listing that follows has them all */
    int hrc = tg_seg_head_read(dir, &c.head);
    if (tg_seg_list(dir, &c.v, &c.n) != 0)
        return TG_EIO;
    tg_chain_init(&c.chain, key0);
    c.have_head = hrc == 0;
    if (c.have_head)
        tg_vhead_mark(&c); /* a head at 0 records */
    bool ok = true;
    for (size_t i = 0; i < c.n && ok; i++)
        ok = tg_vsegment(&c, i, i == 0 ? 1 : c.v[i - 1].seq + 1);
    if (ok && hrc == TG_ENOENT && c.n == 0)
        tg_vset(&rep->problem,
                "no trailguard store here (no %s, no segments): a wrong path, "
                "or every file of the store was deleted",
                TG_SEG_HEAD_FILE);
    if (ok && key0 && c.n > 0 && !rep->keyed)
        tg_vset(&rep->problem,
                "the store is not keyed (a plain SHA-256 chain): it was written without "
                "hmac_key_file, or rewritten without the key, so --key cannot authenticate it");
    /* with nothing stored, a missing or unwritten head (a full disk) says nothing */
    if (ok && (hrc == 0 || c.claimed > 0)) {
        if (hrc == TG_ENOENT)
            tg_vset(&rep->problem,
                    "%s is missing: the record of where the store ends was "
                    "deleted",
                    TG_SEG_HEAD_FILE);
        else if (hrc != 0 && hrc != TG_ENOENT)
            tg_vset(&rep->problem, "%s is damaged: it was altered", TG_SEG_HEAD_FILE);
        else if (c.have_head && c.head.records > c.claimed)
            tg_vset(&rep->problem,
                    "%s says the store holds %" PRIu64 " records up to segment %" PRIu64
                    ", but its segments hold %" PRIu64
                    ": the newest segment(s) or their last records were deleted",
                    TG_SEG_HEAD_FILE, c.head.records, c.head.seq, c.claimed);
        else if (c.have_head && c.head.records > rep->records)
            tg_vset(&rep->problem,
                    "%s says the store holds %" PRIu64 " records, but only %" PRIu64
                    " can be read: the newest segment was cut short (stored records were "
                    "removed)",
                    TG_SEG_HEAD_FILE, c.head.records, rep->records);
        else if (c.have_head && c.n > 0 && c.head.seq > c.v[c.n - 1].seq)
            tg_vset(&rep->problem,
                    "%s names segment %" PRIu64 " but the newest segment is %" PRIu64
                    ": segments were deleted",
                    TG_SEG_HEAD_FILE, c.head.seq, c.v[c.n - 1].seq);
    }
    rep->intact = rep->problem == NULL;
    rep->segments = c.n;
    if (c.n) {
        rep->first_seq = c.v[0].seq;
        rep->last_seq = c.v[c.n - 1].seq;
    }
    memcpy(rep->last_link, c.chain.link, TG_LINK_LEN);
    int rc = c.need_key ? TG_EUSAGE : 0;
    tg_chain_free(&c.chain);
    free(c.v);
    free(c.f);
    return rc;
}

void tg_verify_report_free(struct tg_verify_report *rep)
{
    free(rep->problem);
    free(rep->torn_note);
    free(rep->warning);
    rep->problem = rep->torn_note = rep->warning = NULL;
}
