/*
 * store_verify.c - the chain check behind `verify` and `export`.  See
 * store_verify.h.
 *
 * Per segment, in number order: the sidecar header must continue the chain
 * of the segment before (number, first record and member index, previous
 * link, store id); then the data is streamed member by member: each
 * record's CRC-32 is compared with the sidecar's fingerprint, the record is
 * chained and its time taken; at the member's end the reader's offset must
 * be the entry's end offset, the count and time range must be the entry's,
 * and the seal must give the entry's link.  The links are the proof; the
 * fingerprints only locate (a mismatch is explained by looking one record
 * ahead: removed, inserted, swapped, or changed).  A member whose check
 * fails stops the walk: past the confirmed records of the open segment that
 * is a torn tail, anywhere else tampering.  Checkpoints and chain.head are
 * targets: at the member boundary where the chain reaches their record count
 * the link must be theirs.
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

/* A point the chain must pass through: a checkpoint or chain.head. */
struct tg_vtarget {
    uint64_t records, members;
    uint8_t link[TG_LINK_LEN];
    const struct tg_checkpoint *cp; /* NULL: chain.head */
    const char *from;               /* "given", TG_CHECKPOINT_FILE or TG_SEG_HEAD_FILE */
    size_t line;                    /* in checkpoints.ndjson, 1-based */
    bool hit;
};

struct tg_vctx {
    const char *dir;
    const struct tg_verify_opts *o;
    struct tg_seg_entry *v;
    size_t n;
    struct tg_chain chain;
    uint64_t members; /* members verified, store-wide */
    struct tg_verify_report *rep;
    struct tg_seg_head head;
    int hr;
    bool need_key;
    bool have_store_id;
    uint8_t store_id[TG_SEG_STORE_ID_LEN];
    struct tg_checkpoint *scp; /* the store's own checkpoints */
    size_t nscp;
    struct tg_vtarget *t;
    size_t nt;
    uint32_t *f; /* fingerprints read from the current member */
    size_t nf, capf;
    struct tg_buf recs; /* the current member's records, for on_record */
    size_t *roff;
    size_t nroff, caproff;
    struct tg_buf seal;
    bool feed;                         /* on_record still wants records */
    const struct tg_checkpoint *prune; /* the prune point the store starts at, or NULL */
    bool prune_seen, prune_pending;    /* the chain holds it (in a member being checked) */
    size_t start;                      /* the first segment (index in v) the walk checks */
    uint8_t good_link[TG_LINK_LEN];    /* after the last member that checked out */
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

static const char *tg_vwhat(const struct tg_vtarget *t, char buf[96])
{
    if (!t->cp)
        return TG_SEG_HEAD_FILE;
    if (t->line)
        snprintf(buf, 96, "the checkpoint on line %zu of %s", t->line, TG_CHECKPOINT_FILE);
    else
        snprintf(buf, 96, "the checkpoint given (%s, %s)", t->cp->reason, t->cp->host);
    return buf;
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

/* Explain the first fingerprint mismatch of member mi, at member-local index j. */
static void tg_vdiagnose(struct tg_vctx *c, const struct tg_sidecar *sc, size_t mi, size_t j,
                         char **slot)
{
    char name[32];
    tg_seg_name(sc->hdr.seq, TG_SEG_DATA, name);
    const struct tg_seg_member *m = &sc->m[mi];
    const uint32_t *E = sc->fp + m->first_fp, *F = c->f;
    size_t ne = m->records, nf = c->nf;
    size_t i = m->first_fp + j;               /* segment-local index */
    uint64_t g = sc->hdr.first_index + i + 1; /* store-wide record number, 1-based */
    bool f1 = nf > j + 1, e1 = ne > j + 1;
    if (f1 && e1 && F[j] == E[j + 1] && F[j + 1] == E[j])
        tg_vset(slot,
                "%s: records %zu and %zu (store records %" PRIu64 " and %" PRIu64
                ") were reordered (swapped)",
                name, i + 1, i + 2, g, g + 1);
    else if (e1 && j < nf && F[j] == E[j + 1])
        tg_vset(slot, "%s: record %zu (store record %" PRIu64 ") was removed", name, i + 1, g);
    else if (f1 && j < ne && F[j + 1] == E[j])
        tg_vset(slot, "%s: a record was inserted before record %zu (store record %" PRIu64 ")",
                name, i + 1, g);
    else if (i == 0 && nf > 0 && tg_vfind_first(c, sc->hdr.seq, F[0]))
        tg_vset(slot,
                "%s holds the records of segment %" PRIu64
                ": segment files were renamed or reordered",
                name, tg_vfind_first(c, sc->hdr.seq, F[0]));
    else if (j >= nf)
        tg_vset(slot,
                "%s: records %zu to %zu (store records %" PRIu64 " to %" PRIu64
                ") were removed from the end of member %zu",
                name, i + 1, m->first_fp + ne, g, sc->hdr.first_index + m->first_fp + ne, mi + 1);
    else if (j >= ne)
        tg_vset(slot,
                "%s: %zu record(s) after record %zu (store record %" PRIu64
                ") are not in the chain: inserted",
                name, nf - ne, i, g - 1);
    else
        tg_vset(slot, "%s: record %zu (store record %" PRIu64 ") was changed", name, i + 1, g);
}

/* The chain reached a member boundary: compare with the targets there. */
static void tg_vtargets(struct tg_vctx *c)
{
    for (size_t k = 0; k < c->nt; k++) {
        struct tg_vtarget *t = &c->t[k];
        if (t->hit || t->records != c->chain.count || t->members != c->members)
            continue;
        t->hit = true;
        char buf[96];
        if (memcmp(t->link, c->chain.link, TG_LINK_LEN) != 0)
            tg_vset(&c->rep->problem,
                    "%s holds another link after store record %" PRIu64
                    " than the recomputed chain: %s",
                    tg_vwhat(t, buf), t->records,
                    t->cp ? "the records before it or the sidecars were rewritten"
                          : "chain.head was altered (or the records before it)");
    }
}

static void tg_vpush(struct tg_vctx *c, uint32_t fp, struct tg_str rec)
{
    c->f = tg_xgrow(c->f, c->nf, &c->capf, sizeof(*c->f), 4096);
    c->f[c->nf++] = fp;
    if (!c->feed)
        return;
    c->roff = tg_xgrow(c->roff, c->nroff, &c->caproff, sizeof(*c->roff), 4096);
    c->roff[c->nroff++] = c->recs.len;
    tg_buf_append(&c->recs, rec.p, rec.len);
}

/* Hand the checked member's records to on_record. */
static void tg_vfeed(struct tg_vctx *c)
{
    for (size_t k = 0; c->feed && k < c->nroff; k++) {
        size_t end = k + 1 < c->nroff ? c->roff[k + 1] : c->recs.len;
        struct tg_str rec = tg_str_make(c->recs.data + c->roff[k], end - c->roff[k]);
        int64_t ns = 0;
        bool has = tg_seg_record_time(rec.p, rec.len, &ns) == 0;
        c->feed = c->o->on_record(c->o->ctx, rec, has, ns);
    }
    c->recs.len = 0;
    c->nroff = 0;
}

/* Why member mi failed, into *slot (the problem, or the torn note). */
static void tg_vmember_problem(struct tg_vctx *c, const struct tg_sidecar *sc, size_t mi, int rc,
                               int64_t mn, int64_t mx, uint64_t off, const uint8_t *link,
                               char **slot)
{
    char name[32];
    tg_seg_name(sc->hdr.seq, TG_SEG_DATA, name);
    const struct tg_seg_member *m = &sc->m[mi];
    uint64_t g0 = sc->hdr.first_index + m->first_fp; /* records before the member */
    size_t j = 0;
    while (j < c->nf && j < m->records && c->f[j] == sc->fp[m->first_fp + j])
        j++;
    if (rc == TG_ECORRUPT)
        tg_vset(slot,
                "%s: the compressed data of member %zu is damaged after record %zu (store "
                "record %" PRIu64 "): bytes were changed",
                name, mi + 1, m->first_fp + c->nf, g0 + c->nf);
    else if (rc == TG_EIO)
        tg_vset(slot, "cannot read %s: %s", name, strerror(errno));
    else if (rc != TG_SEG_MEMBER && j == c->nf)
        tg_vset(slot,
                "%s ends inside member %zu (at byte %" PRIu64 " of %" PRIu64
                "), after record %zu: records %zu to %zu (store records %" PRIu64 " to %" PRIu64
                ") are cut off",
                name, mi + 1, off, m->end_offset, m->first_fp + c->nf, m->first_fp + c->nf + 1,
                m->first_fp + m->records, g0 + c->nf + 1, g0 + m->records);
    else if (j < c->nf || j < m->records)
        tg_vdiagnose(c, sc, mi, j, slot);
    else if (off != m->end_offset)
        tg_vset(slot,
                "%s: member %zu ends at byte %" PRIu64 " but its entry says %" PRIu64
                ": bytes were inserted into or removed from the data",
                name, mi + 1, off, m->end_offset);
    else if (mn != m->min_ns || mx != m->max_ns)
        tg_vset(slot,
                "%s: the time range of member %zu in %s does not match its records: the "
                "sidecar was altered",
                name, mi + 1, "the sidecar");
    else if (memcmp(link, m->link, TG_LINK_LEN) != 0)
        tg_vset(slot,
                "%s: records %zu to %zu (store records %" PRIu64 " to %" PRIu64
                "): the chain link does not match%s",
                name, m->first_fp + 1, m->first_fp + m->records, g0 + 1, g0 + m->records,
                c->rep->records == 0 && mi == 0 && sc->hdr.keyed
                    ? " (wrong --key, or the records or the sidecar were altered)"
                    : ": the records or the sidecar were altered");
}

/* Is rec the prune point the walk started from, stored in the chain? */
static void tg_vprune_record(struct tg_vctx *c, struct tg_str rec)
{
    static const char action[] = "\"action\":\"prune\"", dataset[] = "trailguard.checkpoint";
    if (!memmem(rec.p, rec.len, action, sizeof(action) - 1) ||
        !memmem(rec.p, rec.len, dataset, sizeof(dataset) - 1))
        return;
    struct tg_checkpoint cp;
    char *err = NULL;
    if (tg_checkpoint_parse(rec.p, rec.len, &cp, &err) == 0) {
        c->prune_pending |= tg_checkpoint_same_point(&cp, c->prune);
        tg_checkpoint_clear(&cp);
    }
    free(err);
}

/*
 * Check the members of segment sc one by one from r.  Returns the number
 * that checked out; *rc_out: the reader's last result.  A failure is
 * described into `slot` (problem or torn note, the caller decides which).
 */
static size_t tg_vmembers(struct tg_vctx *c, const struct tg_sidecar *sc, struct tg_seg_reader *r,
                          char **slot)
{
    size_t mi;
    for (mi = 0; mi < sc->nm; mi++) {
        const struct tg_seg_member *m = &sc->m[mi];
        c->nf = 0;
        c->recs.len = 0;
        c->nroff = 0;
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        struct tg_str rec;
        int rc;
        while ((rc = tg_seg_reader_next(r, &rec)) == TG_SEG_RECORD) {
            tg_vpush(c, tg_seg_fingerprint(rec.p, rec.len), rec);
            if (c->prune && !c->prune_seen)
                tg_vprune_record(c, rec);
            tg_chain_add(&c->chain, rec.p, rec.len);
            tg_seg_time_span(rec.p, rec.len, &mn, &mx);
            if (c->nf > (size_t)m->records + 1)
                break; /* enough to say what is wrong */
        }
        uint64_t off = rc == TG_SEG_MEMBER ? tg_seg_reader_offset(r) : tg_seg_reader_in_bytes(r);
        uint8_t link[TG_LINK_LEN];
        bool fps =
            c->nf == m->records && memcmp(c->f, sc->fp + m->first_fp, 4 * (size_t)m->records) == 0;
        bool ok = rc == TG_SEG_MEMBER && fps && off == m->end_offset && mn == m->min_ns &&
                  mx == m->max_ns;
        if (ok) {
            tg_seg_seal_message(&c->seal, &sc->hdr, mi, sc->hdr.first_index + m->first_fp, m,
                                sc->fp + m->first_fp, sc->ext + m->ext_off);
            tg_chain_seal(&c->chain, c->seal.data, c->seal.len, link);
            ok = memcmp(link, m->link, TG_LINK_LEN) == 0;
        }
        if (!ok) {
            tg_vmember_problem(c, sc, mi, rc, mn, mx, off, link, slot);
            break;
        }
        memcpy(c->chain.link, link, TG_LINK_LEN);
        memcpy(c->good_link, link, TG_LINK_LEN);
        c->prune_seen |= c->prune_pending;
        c->members++;
        c->rep->records += m->records;
        c->rep->members++;
        tg_vfeed(c);
        tg_vtargets(c);
    }
    return mi;
}

/* Verify one segment; false when the walk must stop (a problem, or the torn end). */
static bool tg_vsegment(struct tg_vctx *c, size_t idx, uint64_t expect)
{
    const struct tg_seg_entry *e = &c->v[idx];
    struct tg_verify_report *rep = c->rep;
    bool last = idx + 1 == c->n;
    /* only the newest segment, while it has no index (the writer writes it
     * when it closes a segment), can end in what a crash leaves, and only
     * after the records that were confirmed */
    bool open = last && !e->has[TG_SEG_INDEX];
    char dname[32], cname[32];
    tg_seg_name(e->seq, TG_SEG_DATA, dname);
    tg_seg_name(e->seq, TG_SEG_CHAIN, cname);
    if (e->seq != expect) {
        if (expect == 1 && e->seq == 2)
            tg_vset(&rep->problem, "segment 1 is missing: the oldest segment was deleted");
        else if (expect == 1)
            tg_vset(&rep->problem,
                    "segments 1 to %" PRIu64 " are missing: the oldest segments were deleted",
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
    bool go = false;
    int lrc = tg_sidecar_load(cpath, &sc, &where);
    if (lrc != 0) {
        if (lrc == TG_EVERSION)
            tg_vset(&rep->problem,
                    "%s is of store format 1 (an earlier trailguard): verify it with the "
                    "version that wrote it",
                    cname);
        else if (lrc == TG_ECORRUPT)
            tg_vset(&rep->problem, "%s is damaged at byte %" PRIu64 ": the sidecar was altered",
                    cname, where);
        else
            tg_vset(&rep->problem, "cannot read %s: %s", cname, strerror(errno));
        goto out;
    }
    struct stat st;
    bool has_data = e->has[TG_SEG_DATA] && stat(dpath, &st) == 0;
    if (sc.good_len == 0) {
        if (open && (!has_data || st.st_size == 0) && rep->records >= rep->confirmed) {
            tg_vset(&rep->torn_note,
                    "segment %" PRIu64 " was being created when the writer stopped (no records)",
                    e->seq);
            rep->torn = true;
        } else {
            tg_vset(&rep->problem, "%s has no header: the sidecar was truncated", cname);
        }
        goto out;
    }
    if (sc.hdr.seq != e->seq) {
        tg_vset(&rep->problem,
                "%s holds the chain of segment %" PRIu64 ": segment files were renamed or "
                "reordered",
                cname, sc.hdr.seq);
        goto out;
    }
    if (c->have_store_id && memcmp(sc.hdr.store_id, c->store_id, TG_SEG_STORE_ID_LEN) != 0) {
        tg_vset(&rep->problem,
                "%s belongs to another store (its store id differs): a segment was replaced",
                cname);
        goto out;
    }
    if (sc.hdr.first_index != rep->records || sc.hdr.first_member != c->members ||
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
                    e->seq, c->v[idx - 1].seq, sc.hdr.first_index, rep->records);
        goto out;
    }
    if (c->o->key0 && rep->keyed && !sc.hdr.keyed) {
        tg_vset(&rep->problem,
                "segment %" PRIu64 " is chained without HMAC after keyed segments (the key was "
                "dropped from [sink.file], or the segments were rewritten): its records cannot "
                "be authenticated",
                e->seq);
        goto out;
    }
    if (sc.hdr.keyed)
        rep->keyed = true;
    if (sc.hdr.keyed && !c->o->key0) {
        c->need_key = true;
        tg_vset(&rep->problem,
                "segment %" PRIu64 " is chained with HMAC: give the key with --key FILE", e->seq);
        goto out;
    }
    c->chain.keyed = sc.hdr.keyed;
    if (!has_data) {
        if (sc.nm == 0 || (open && rep->records >= rep->confirmed)) {
            go = sc.nm == 0;
            if (!go) {
                rep->torn = true;
                tg_vset(&rep->torn_note,
                        "%s is missing: the writer stopped before it wrote the data of the %zu "
                        "records chained (never confirmed)",
                        dname, sc.nfp);
            }
        } else {
            tg_vset(&rep->problem, "%s is missing: its %zu records were deleted", dname, sc.nfp);
        }
        goto out;
    }
    if (tg_seg_reader_open(dpath, &r) != 0) {
        tg_vset(&rep->problem, "cannot read %s: %s", dname, strerror(errno));
        goto out;
    }
    char *why = NULL;
    size_t good = tg_vmembers(c, &sc, r, &why);
    rep->bytes += good ? sc.m[good - 1].end_offset : 0;
    if (good < sc.nm) {
        uint64_t g0 = sc.hdr.first_index + sc.m[good].first_fp;
        if (open && g0 >= rep->confirmed) {
            rep->torn = true;
            tg_vset(&rep->torn_note,
                    "%s: member %zu and the %" PRIu64 " record(s) from store record %" PRIu64
                    " on were being written when the writer stopped (%s); they were never "
                    "confirmed, and query and export never return them",
                    dname, good + 1, sc.hdr.first_index + sc.nfp - g0, g0 + 1, why);
        } else {
            tg_vset(&rep->problem, "%s", why);
        }
        free(why);
        goto out;
    }
    /* nothing may follow the last member of a closed segment */
    struct tg_str rec;
    int rc = tg_seg_reader_next(r, &rec);
    if (rc != TG_SEG_END) {
        if (open) {
            rep->torn = true;
            tg_vset(&rep->torn_note,
                    rc == TG_ETRUNC
                        ? "%s ends in a torn gzip member after its last chained member (a write "
                          "cut short by a crash): query and export never return it"
                        : "%s ends with data after its last chained member (a member written "
                          "before a crash and never chained, or added later): query and export "
                          "never return it",
                    dname);
        } else {
            tg_vset(&rep->problem,
                    "%s: data after its last member (byte %" PRIu64
                    "): bytes or records were added to a closed segment",
                    dname, good ? sc.m[good - 1].end_offset : 0);
            goto out;
        }
    }
    if (sc.torn_len) {
        if (!open) {
            tg_vset(&rep->problem, "%s ends in a partial entry: the sidecar was altered", cname);
            goto out;
        }
        rep->torn = true;
        tg_vset(&rep->torn_note, "%s ends in a partial entry (a crash while chaining)", cname);
    }
    if (e->has[TG_SEG_INDEX]) {
        char iname[32];
        tg_seg_name(e->seq, TG_SEG_INDEX, iname);
        char *ipath = tg_seg_path(c->dir, e->seq, TG_SEG_INDEX);
        struct tg_seg_index ix, want;
        int irc = tg_seg_index_read(ipath, &ix);
        free(ipath);
        tg_seg_index_of(&sc, &want);
        if (irc != 0 || !tg_seg_index_equal(&ix, &want)) {
            tg_vset(&rep->problem,
                    "%s does not match its segment (records, time range or links): the index "
                    "was altered",
                    iname);
            goto out;
        }
    } else if (!last) {
        char iname[32];
        tg_vset(&rep->warning,
                "%s is missing: readers scan that segment instead of skipping it by time",
                tg_seg_name(e->seq, TG_SEG_INDEX, iname));
    }
    go = rep->problem == NULL;
out:
    tg_seg_reader_close(r);
    tg_sidecar_free(&sc);
    free(cpath);
    free(dpath);
    return go;
}

/* Read the store id from the first segment's sidecar header. */
static void tg_vstore_id(struct tg_vctx *c)
{
    for (size_t i = 0; i < c->n && !c->have_store_id; i++) {
        if (!c->v[i].has[TG_SEG_CHAIN])
            continue;
        char *p = tg_seg_path(c->dir, c->v[i].seq, TG_SEG_CHAIN);
        struct tg_sidecar_cursor cur;
        if (tg_sidecar_cursor_open(p, &cur) == 0) {
            memcpy(c->store_id, cur.hdr.store_id, TG_SEG_STORE_ID_LEN);
            c->have_store_id = true;
            tg_sidecar_cursor_close(&cur);
        }
        free(p);
        break;
    }
}

static void tg_vtarget_add(struct tg_vctx *c, const struct tg_checkpoint *cp, const char *from,
                           size_t line)
{
    if (cp && c->prune && cp->records < c->prune->records) {
        c->rep->before_prune++; /* in the part removed by retention: nothing to check it on */
        return;
    }
    c->t = tg_xrealloc(c->t, (c->nt + 1) * sizeof(*c->t));
    struct tg_vtarget *t = &c->t[c->nt++];
    *t = (struct tg_vtarget){.cp = cp, .from = from, .line = line};
    if (cp) {
        t->records = cp->records;
        t->members = cp->members;
        memcpy(t->link, cp->link, TG_LINK_LEN);
    } else {
        t->records = c->head.records;
        t->members = c->head.members;
        memcpy(t->link, c->head.link, TG_LINK_LEN);
    }
    if (t->records > c->rep->confirmed)
        c->rep->confirmed = t->records;
}

/*
 * Where the walk starts: segment 1, or the segment the newest prune point in
 * checkpoints.ndjson names when it is there (the segments before it are
 * gone, or remain from a prune cut short; the walk starts from the prune
 * point's chain state, which the chain must later hold as a record).
 */
static void tg_vprune_start(struct tg_vctx *c)
{
    for (size_t i = 0; i < c->nscp; i++) {
        const struct tg_checkpoint *cp = &c->scp[i];
        if (strcmp(cp->reason, "prune") != 0 || (c->prune && cp->segment <= c->prune->segment))
            continue;
        for (size_t k = 0; k < c->n; k++)
            if (c->v[k].seq == cp->segment) {
                c->prune = cp;
                c->start = k;
            }
    }
    if (!c->prune)
        return;
    c->rep->records = c->prune->records;
    c->members = c->prune->members;
    tg_chain_resume(&c->chain, c->prune->link, c->prune->records);
    memcpy(c->good_link, c->prune->link, TG_LINK_LEN);
    if (c->start > 0) {
        char *w = NULL;
        tg_vset(&w,
                "segments %" PRIu64 " to %" PRIu64 " remain from a prune that was cut short "
                "(the prune point removed them from the store): not checked; the next "
                "retention run removes them",
                c->v[0].seq, c->v[c->start - 1].seq);
        free(c->rep->warning);
        c->rep->warning = w;
    }
}

/*
 * The checkpoints and chain.head as targets, after checking what can be
 * checked without the chain (store id, signatures).  false: a problem was
 * set, or TG_EUSAGE is due (c->need_key).
 */
static bool tg_vsetup_targets(struct tg_vctx *c, int *usage)
{
    struct tg_verify_report *rep = c->rep;
    char *path = tg_xasprintf("%s/%s", c->dir, TG_CHECKPOINT_FILE);
    size_t torn, bad;
    char *why = NULL;
    int rc = tg_checkpoints_read(path, &c->scp, &c->nscp, &torn, &bad, &why);
    free(path);
    if (rc == TG_EINVAL)
        tg_vset(&rep->problem, "%s: line %zu is not a checkpoint (%s): the file was altered",
                TG_CHECKPOINT_FILE, bad, why);
    else if (rc != 0)
        tg_vset(&rep->problem, "cannot read %s: %s", TG_CHECKPOINT_FILE, strerror(errno));
    free(why);
    if (torn)
        tg_vset(&rep->warning, "%s ends in a partial line (a crash while appending a checkpoint)",
                TG_CHECKPOINT_FILE);
    rep->store_checkpoints = c->nscp;
    tg_vprune_start(c);
    for (size_t i = 0; rc == 0 && i < c->nscp; i++) {
        const struct tg_checkpoint *cp = &c->scp[i];
        if (c->have_store_id && memcmp(cp->store_id, c->store_id, TG_SEG_STORE_ID_LEN) != 0)
            tg_vset(&rep->problem,
                    "%s: line %zu is a checkpoint of another store: the file was altered",
                    TG_CHECKPOINT_FILE, i + 1);
        else if (c->o->pubkey && tg_checkpoint_check(cp, c->o->pubkey) != 0)
            tg_vset(
                &rep->problem, "%s: line %zu is %s by the key given (--pubkey): forged or altered",
                TG_CHECKPOINT_FILE, i + 1, cp->is_signed ? "not signed" : "unsigned, not signed");
        tg_vtarget_add(c, cp, TG_CHECKPOINT_FILE, i + 1);
    }
    for (size_t i = 0; i < c->o->ngiven; i++) {
        const struct tg_checkpoint *cp = &c->o->given[i];
        if (!c->have_store_id || memcmp(cp->store_id, c->store_id, TG_SEG_STORE_ID_LEN) != 0) {
            rep->given_other++; /* another collector's store (a shared Kafka topic) */
            continue;
        }
        int src = c->o->pubkey ? tg_checkpoint_check(cp, c->o->pubkey) : 0;
        if (src == TG_ENOENT) {
            tg_vset(&rep->problem,
                    "the checkpoint given (%s, %s) is unsigned: it cannot be checked with "
                    "--pubkey (give it without --pubkey to use it as it is)",
                    cp->reason, cp->host);
            *usage = 1;
            return false;
        }
        if (src != 0)
            tg_vset(&rep->problem,
                    "the checkpoint given (%s, %s) is not signed by the key given (--pubkey): "
                    "it was forged or altered, or it is another collector's",
                    cp->reason, cp->host);
        rep->given_used++;
        tg_vtarget_add(c, cp, "given", 0);
    }
    if (c->o->ngiven && !rep->given_used)
        tg_vset(&rep->problem,
                "none of the %zu checkpoint(s) given is of this store: the store in %s was "
                "replaced (or emptied), or they are another store's",
                c->o->ngiven, c->dir);
    if (c->hr == 0)
        tg_vtarget_add(c, NULL, TG_SEG_HEAD_FILE, 0);
    tg_vtargets(c); /* the ones at the genesis (an empty store) */
    return rep->problem == NULL;
}

/* After the walk: the targets the chain never reached, and chain.head itself. */
static void tg_vfinish(struct tg_vctx *c)
{
    struct tg_verify_report *rep = c->rep;
    for (size_t k = 0; k < c->nt; k++) {
        const struct tg_vtarget *t = &c->t[k];
        char buf[96];
        if (t->hit)
            continue;
        if (t->records > rep->records)
            tg_vset(&rep->problem,
                    "%s counts %" PRIu64 " records (%" PRIu64
                    " members) but the store holds %" PRIu64
                    " that check out: the newest records or segments were removed",
                    tg_vwhat(t, buf), t->records, t->members, rep->records);
        else
            tg_vset(&rep->problem,
                    "%s names store record %" PRIu64 " after %" PRIu64
                    " members, which is not where a member of this store ends: it was altered",
                    tg_vwhat(t, buf), t->records, t->members);
    }
    if (c->prune && !c->prune_seen)
        tg_vset(&rep->problem,
                "the store starts at segment %" PRIu64 " after a prune point in %s that the "
                "chain does not hold: the segments before it were deleted without a recorded "
                "prune (that prune point was written by someone else)",
                c->prune->segment, TG_CHECKPOINT_FILE);
    if (c->prune && c->prune_seen) {
        rep->pruned = true;
        tg_checkpoint_copy(&rep->prune, c->prune);
    }
    if (c->hr == TG_ENOENT && c->n > 0)
        tg_vset(&rep->problem, "%s is missing: the record of where the store ends was deleted",
                TG_SEG_HEAD_FILE);
    else if (c->hr != 0 && c->hr != TG_ENOENT)
        tg_vset(&rep->problem, "%s is damaged: it was altered", TG_SEG_HEAD_FILE);
    else if (c->hr == 0 && c->n > 0 && c->head.seq > c->v[c->n - 1].seq)
        tg_vset(&rep->problem,
                "%s names segment %" PRIu64 " but the newest segment is %" PRIu64
                ": segments were deleted",
                TG_SEG_HEAD_FILE, c->head.seq, c->v[c->n - 1].seq);
    /* the newest checkpoint that held, and what it leaves unproven */
    for (size_t k = 0; k < c->nt; k++) {
        const struct tg_vtarget *t = &c->t[k];
        if (!t->cp || !t->hit || (rep->have_checkpoint && t->records < rep->checkpoint.records))
            continue;
        tg_checkpoint_clear(&rep->checkpoint);
        tg_checkpoint_copy(&rep->checkpoint, t->cp);
        rep->have_checkpoint = true;
        rep->checkpoint_from = t->from;
        rep->checkpoint_signed = c->o->pubkey != NULL;
    }
    rep->unproven = rep->records - (rep->have_checkpoint ? rep->checkpoint.records : 0);
}

int tg_verify_read_checkpoints(const char *path, struct tg_checkpoint **out, size_t *n, char **err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    *out = NULL;
    *n = 0;
    if (!f) {
        *err = tg_xasprintf("--checkpoint %s: cannot open: %s", path, strerror(errno));
        return TG_EIO;
    }
    struct tg_checkpoint *v = NULL;
    size_t nv = 0, cap = 0, lineno = 0, linecap = 0;
    char *line = NULL;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &linecap, f)) > 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        const char *p = line;
        if (*p != '{') { /* a log line: "... file sink: checkpoint {...}" */
            const char *b = memmem(line, (size_t)len, "checkpoint {", 12);
            if (!b)
                continue;
            p = b + 11;
        }
        struct tg_checkpoint cp;
        char *why = NULL;
        int prc = tg_checkpoint_parse(p, (size_t)len - (size_t)(p - line), &cp, &why);
        if (prc == TG_ENOENT)
            continue; /* another event (a consumer's dump of the topic) */
        if (prc != 0) {
            *err = tg_xasprintf("--checkpoint %s: line %zu: %s", path, lineno, why);
            free(why);
            rc = TG_EINVAL;
            break;
        }
        v = tg_xgrow(v, nv, &cap, sizeof(*v), 16);
        v[nv++] = cp;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc == 0 && nv == 0) {
        *err = tg_xasprintf("--checkpoint %s: no checkpoint in it (give checkpoints.ndjson "
                            "lines, the log's checkpoint lines or trailguard.checkpoint events)",
                            path);
        rc = TG_EINVAL;
    }
    if (rc != 0) {
        tg_checkpoints_free(v, nv);
        return rc;
    }
    *out = v;
    *n = nv;
    return 0;
}

int tg_verify_prepare(const char *cmd, const char *key_path, const char *cp_path,
                      const char *pub_path, uint8_t key[TG_LINK_LEN], struct tg_checkpoint **given,
                      size_t *ngiven, struct tg_verify_opts *o)
{
    char *err = NULL;
    const char *opt = ""; /* the messages of the key loaders name the file, not the option */
    if ((key_path && tg_chain_key_load(key_path, false, key, &err) != 0) ||
        (cp_path && tg_verify_read_checkpoints(cp_path, given, ngiven, &err) != 0) ||
        (pub_path && (opt = "--pubkey ") &&
         tg_sign_key_load(pub_path, false, &o->pubkey, &err) != 0)) {
        fprintf(stderr, "trailguard %s: %s%s\n", cmd, opt, err);
        free(err);
        return TG_EXIT_USAGE;
    }
    o->key0 = key_path ? key : NULL;
    o->given = *given;
    o->ngiven = *ngiven;
    return TG_EXIT_OK;
}

int tg_store_verify(const char *dir, const struct tg_verify_opts *o, struct tg_verify_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    struct tg_vctx c = {.dir = dir, .o = o, .rep = rep, .feed = o->on_record != NULL};
    struct stat st;
    if (stat(dir, &st) != 0)
        return TG_EIO;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return TG_EIO;
    }
    /* the head first: a live writer names a segment in it only after creating
     * the segment's files, so the listing that follows has them all */
    c.hr = tg_seg_head_read(dir, &c.head);
    if (tg_seg_list(dir, &c.v, &c.n) != 0)
        return TG_EIO;
    tg_chain_init(&c.chain, o->key0);
    tg_vstore_id(&c);
    if (c.have_store_id)
        memcpy(rep->store_id, c.store_id, TG_SEG_STORE_ID_LEN);
    int usage = 0;
    bool ok = tg_vsetup_targets(&c, &usage);
    for (size_t i = c.start; i < c.n && ok; i++)
        ok = tg_vsegment(&c, i, i > c.start ? c.v[i - 1].seq + 1 : c.prune ? c.prune->segment : 1);
    if (!usage && !c.need_key) {
        if (rep->problem == NULL && c.hr == TG_ENOENT && c.n == 0 && c.nscp == 0)
            tg_vset(&rep->problem,
                    "no trailguard store here (no %s, no segments): a wrong path, or every "
                    "file of the store was deleted",
                    TG_SEG_HEAD_FILE);
        if (o->key0 && c.n > 0 && !rep->keyed)
            tg_vset(&rep->problem,
                    "the store is not keyed (a plain SHA-256 chain): it was written without "
                    "hmac_key_file, or rewritten without the key, so --key cannot authenticate "
                    "it");
        tg_vfinish(&c);
    }
    rep->intact = rep->problem == NULL;
    rep->segments = c.n;
    if (c.n) {
        rep->first_seq = c.v[0].seq;
        rep->last_seq = c.v[c.n - 1].seq;
    }
    memcpy(rep->last_link, c.good_link, TG_LINK_LEN);
    tg_chain_free(&c.chain);
    tg_checkpoints_free(c.scp, c.nscp);
    free(c.t);
    free(c.v);
    free(c.f);
    free(c.roff);
    tg_buf_free(&c.recs);
    tg_buf_free(&c.seal);
    return c.need_key || usage ? TG_EUSAGE : 0;
}

void tg_verify_report_free(struct tg_verify_report *rep)
{
    free(rep->problem);
    free(rep->torn_note);
    free(rep->warning);
    tg_checkpoint_clear(&rep->checkpoint);
    tg_checkpoint_clear(&rep->prune);
    rep->problem = rep->torn_note = rep->warning = NULL;
}
