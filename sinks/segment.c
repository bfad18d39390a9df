/*
 * segment.c - the file store's on-disk format: names, the chain sidecar,
 * the segment index, chain.head, the member compressor and the streaming
 * member reader (gzip or zstd).  See segment.h for the format.
 *
 * Everything here is format code shared by the writer and the readers, so a
 * reader can never disagree with the writer about a byte.  No logging: the
 * callers decide what a problem means (a torn tail is normal for the open
 * segment, fatal elsewhere).  Readers belong to one thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "core/errors.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sinks/segment.h"

static const char *const tg_seg_ext[TG_SEG_KINDS] = {".ndjson.gz", ".chain", ".idx", ".ndjson.zst"};

const char *tg_seg_name(uint64_t seq, enum tg_seg_kind kind, char out[32])
{
    snprintf(out, 32, "seg-%010" PRIu64 "%s", seq, tg_seg_ext[kind]);
    return out;
}

char *tg_seg_path(const char *dir, uint64_t seq, enum tg_seg_kind kind)
{
    char name[32];
    return tg_xasprintf("%s/%s", dir, tg_seg_name(seq, kind, name));
}

enum tg_seg_kind tg_seg_data_kind_in(const char *dir, uint64_t seq)
{
    char *p = tg_seg_path(dir, seq, TG_SEG_ZST);
    bool zst = access(p, F_OK) == 0;
    free(p);
    return zst ? TG_SEG_ZST : TG_SEG_GZ;
}

static int tg_seg_entry_cmp(const void *a, const void *b)
{
    const struct tg_seg_entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int tg_seg_list(const char *dir, struct tg_seg_entry **out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return TG_EIO;
    struct tg_seg_entry *v = NULL;
    size_t nv = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        if (strncmp(s, "seg-", 4) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long long seq = strtoull(s + 4, &end, 10);
        if (end != s + 14 || errno || seq == 0)
            continue;
        int kind = -1;
        for (int k = 0; k < TG_SEG_KINDS; k++)
            if (strcmp(end, tg_seg_ext[k]) == 0)
                kind = k;
        if (kind < 0)
            continue;
        size_t i = 0;
        while (i < nv && v[i].seq != seq)
            i++;
        if (i == nv) {
            v = tg_xgrow(v, nv, &cap, sizeof(*v), 64);
            v[nv++] = (struct tg_seg_entry){.seq = seq};
        }
        v[i].has[kind] = true;
    }
    /* readdir may miss a file created during the scan (a writer rolling to a
     * new segment creates its files one by one): look up each file of a
     * segment that was seen, so a reader never takes a live segment for a
     * damaged one */
    char name[32];
    for (size_t i = 0; i < nv; i++)
        for (int k = 0; k < TG_SEG_KINDS; k++)
            if (!v[i].has[k])
                v[i].has[k] = faccessat(dirfd(d), tg_seg_name(v[i].seq, k, name), F_OK, 0) == 0;
    closedir(d);
    if (nv)
        qsort(v, nv, sizeof(*v), tg_seg_entry_cmp);
    *out = v;
    *n = nv;
    return 0;
}

/* --- little-endian fields */
static void tg_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void tg_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t tg_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t tg_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void tg_seg_header_encode(const struct tg_seg_header *h, uint8_t out[TG_SEG_HDR_LEN])
{
    memset(out, 0, TG_SEG_HDR_LEN);
    memcpy(out, "TGCHAIN2", 8);
    tg_put32(out + 8, h->keyed ? 1 : 0);
    tg_put64(out + 16, h->seq);
    tg_put64(out + 24, h->first_index);
    tg_put64(out + 32, h->first_member);
    memcpy(out + 40, h->store_id, TG_SEG_STORE_ID_LEN);
    memcpy(out + 56, h->prev, TG_LINK_LEN);
}

static void tg_seg_member_fixed(uint8_t *p, const struct tg_seg_member *m)
{
    memcpy(p, "TGM2", 4);
    tg_put32(p + 4, m->records);
    tg_put64(p + 8, m->end_offset);
    tg_put64(p + 16, (uint64_t)m->min_ns);
    tg_put64(p + 24, (uint64_t)m->max_ns);
    tg_put32(p + 32, m->ext_len);
    tg_put32(p + 36, 0);
    memcpy(p + 40, m->link, TG_LINK_LEN);
}

void tg_seg_member_encode(struct tg_buf *out, const struct tg_seg_member *m, const uint32_t *fp,
                          const void *ext)
{
    size_t n = TG_SEG_ENTRY_LEN + 4 * (size_t)m->records + m->ext_len;
    uint8_t *p = (uint8_t *)tg_buf_reserve(out, n);
    tg_seg_member_fixed(p, m);
    for (uint32_t i = 0; i < m->records; i++)
        tg_put32(p + TG_SEG_ENTRY_LEN + 4 * (size_t)i, fp[i]);
    if (m->ext_len)
        memcpy(p + TG_SEG_ENTRY_LEN + 4 * (size_t)m->records, ext, m->ext_len);
    out->len += n;
}

void tg_seg_seal_message(struct tg_buf *out, const struct tg_seg_header *h, uint64_t index,
                         uint64_t first_record, const struct tg_seg_member *m, const uint32_t *fp,
                         const void *ext)
{
    out->len = 0;
    size_t n =
        8 + TG_SEG_STORE_ID_LEN + 8 * 3 + 4 + 8 * 4 + 4 + 4 * (size_t)m->records + m->ext_len;
    uint8_t *p = (uint8_t *)tg_buf_reserve(out, n), *q = p;
    memcpy(q, "TGSEAL2", 8); /* with its NUL: no record (a JSON line) starts so */
    q += 8;
    memcpy(q, h->store_id, TG_SEG_STORE_ID_LEN);
    q += TG_SEG_STORE_ID_LEN;
    tg_put64(q, h->seq);
    tg_put64(q + 8, index);
    tg_put64(q + 16, first_record);
    tg_put32(q + 24, m->records);
    tg_put64(q + 28, m->start_offset);
    tg_put64(q + 36, m->end_offset);
    tg_put64(q + 44, (uint64_t)m->min_ns);
    tg_put64(q + 52, (uint64_t)m->max_ns);
    tg_put32(q + 60, m->ext_len);
    q += 64;
    for (uint32_t i = 0; i < m->records; i++, q += 4)
        tg_put32(q, fp[i]);
    if (m->ext_len)
        memcpy(q, ext, m->ext_len);
    out->len = n;
}

/* The fixed part of a member entry (the caller checked the magic). */
static void tg_seg_member_decode(const uint8_t *p, struct tg_seg_member *m)
{
    m->records = tg_get32(p + 4);
    m->end_offset = tg_get64(p + 8);
    m->min_ns = (int64_t)tg_get64(p + 16);
    m->max_ns = (int64_t)tg_get64(p + 24);
    m->ext_len = tg_get32(p + 32);
    memcpy(m->link, p + 40, TG_LINK_LEN);
    m->first_fp = 0;
    m->ext_off = 0;
    m->start_offset = 0;
    m->entry_pos = 0;
}

/* Check the magic of a header; 0, TG_EVERSION (format 1) or TG_ECORRUPT. */
static int tg_seg_header_magic(const uint8_t *d, size_t n)
{
    size_t k = n < 8 ? n : 8;
    if (memcmp(d, "TGCHAIN2", k) == 0)
        return 0;
    return memcmp(d, "TGCHAIN1", k) == 0 ? TG_EVERSION : TG_ECORRUPT;
}

static void tg_seg_header_decode(const uint8_t *d, struct tg_seg_header *h)
{
    h->keyed = tg_get32(d + 8) == 1;
    h->seq = tg_get64(d + 16);
    h->first_index = tg_get64(d + 24);
    h->first_member = tg_get64(d + 32);
    memcpy(h->store_id, d + 40, TG_SEG_STORE_ID_LEN);
    memcpy(h->prev, d + 56, TG_LINK_LEN);
}

/* Read all of `path` into a malloc'd buffer.  0 or TG_EIO. */
static int tg_slurp(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TG_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return TG_EIO;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    uint8_t *buf = tg_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = tg_xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return TG_EIO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

int tg_sidecar_load(const char *path, struct tg_sidecar *sc, uint64_t *where)
{
    memset(sc, 0, sizeof(*sc));
    uint8_t *d;
    size_t n;
    if (tg_slurp(path, &d, &n) != 0)
        return TG_EIO;
    *where = 0;
    int rc = tg_seg_header_magic(d, n);
    if (rc != 0 || n < TG_SEG_HDR_LEN || tg_get32(d + 8) > 1) {
        /* the header is the first write: shorter (with the right magic) is torn */
        if (rc == 0 && n < TG_SEG_HDR_LEN)
            sc->torn_len = n;
        else if (rc == 0)
            rc = TG_ECORRUPT;
        goto out;
    }
    tg_seg_header_decode(d, &sc->hdr);
    size_t pos = TG_SEG_HDR_LEN, capm = 0, capfp = 0, capx = 0;
    uint64_t end = 0;
    while (pos < n) {
        *where = pos;
        if (n - pos < TG_SEG_ENTRY_LEN) {
            if (memcmp(d + pos, "TGM2", n - pos < 4 ? n - pos : 4) != 0)
                rc = TG_ECORRUPT;
            break;
        }
        if (memcmp(d + pos, "TGM2", 4) != 0) {
            rc = TG_ECORRUPT;
            break;
        }
        struct tg_seg_member m;
        tg_seg_member_decode(d + pos, &m);
        size_t body = 4 * (size_t)m.records + m.ext_len;
        if (n - pos - TG_SEG_ENTRY_LEN < body)
            break; /* torn */
        m.start_offset = end;
        m.entry_pos = pos;
        m.first_fp = sc->nfp;
        m.ext_off = sc->next;
        end = m.end_offset;
        sc->m = tg_xgrow(sc->m, sc->nm, &capm, sizeof(*sc->m), 64);
        sc->m[sc->nm++] = m;
        if (sc->nfp + m.records > capfp) {
            while (sc->nfp + m.records > capfp)
                capfp = capfp ? 2 * capfp : 1024;
            sc->fp = tg_xrealloc(sc->fp, capfp * sizeof(*sc->fp));
        }
        const uint8_t *f = d + pos + TG_SEG_ENTRY_LEN;
        for (uint32_t i = 0; i < m.records; i++)
            sc->fp[sc->nfp++] = tg_get32(f + 4 * (size_t)i);
        if (m.ext_len) {
            if (sc->next + m.ext_len > capx) {
                while (sc->next + m.ext_len > capx)
                    capx = capx ? 2 * capx : 4096;
                sc->ext = tg_xrealloc(sc->ext, capx);
            }
            memcpy(sc->ext + sc->next, f + 4 * (size_t)m.records, m.ext_len);
            sc->next += m.ext_len;
        }
        pos += TG_SEG_ENTRY_LEN + body;
    }
    if (rc == 0) {
        sc->good_len = pos;
        sc->torn_len = n - pos;
    }
out:
    free(d);
    if (rc != 0)
        tg_sidecar_free(sc);
    return rc;
}

int tg_sidecar_cursor_open(const char *path, struct tg_sidecar_cursor *c)
{
    uint8_t d[TG_SEG_HDR_LEN];
    struct stat st;
    memset(c, 0, sizeof(*c));
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0)
        return TG_EIO;
    int rc = TG_ECORRUPT;
    if (fstat(c->fd, &st) != 0 || pread(c->fd, d, sizeof(d), 0) != (ssize_t)sizeof(d) ||
        (rc = tg_seg_header_magic(d, sizeof(d))) != 0) {
        close(c->fd);
        c->fd = -1;
        return rc ? rc : TG_ECORRUPT;
    }
    tg_seg_header_decode(d, &c->hdr);
    c->pos = TG_SEG_HDR_LEN;
    c->size = (uint64_t)st.st_size;
    return 0;
}

int tg_sidecar_cursor_next(struct tg_sidecar_cursor *c, struct tg_seg_member *m)
{
    uint8_t d[TG_SEG_ENTRY_LEN];
    if (c->pos + TG_SEG_ENTRY_LEN > c->size)
        return 0;
    if (pread(c->fd, d, sizeof(d), (off_t)c->pos) != (ssize_t)sizeof(d))
        return TG_EIO;
    if (memcmp(d, "TGM2", 4) != 0)
        return TG_ECORRUPT;
    tg_seg_member_decode(d, m);
    uint64_t next = c->pos + TG_SEG_ENTRY_LEN + 4 * (uint64_t)m->records + m->ext_len;
    if (next > c->size)
        return 0; /* torn */
    m->start_offset = c->end;
    m->entry_pos = c->pos;
    c->end = m->end_offset;
    c->fp_pos = c->pos + TG_SEG_ENTRY_LEN;
    c->pos = next;
    c->index++;
    return 1;
}

int tg_sidecar_entry_detail(int fd, const struct tg_seg_member *m, uint32_t *fp, void *ext)
{
    size_t n = 4 * (size_t)m->records;
    uint64_t pos = m->entry_pos + TG_SEG_ENTRY_LEN;
    int rc = 0;
    if (fp) {
        uint8_t *d = tg_xmalloc(n + 1);
        rc = pread(fd, d, n, (off_t)pos) == (ssize_t)n ? 0 : TG_EIO;
        for (uint32_t i = 0; rc == 0 && i < m->records; i++)
            fp[i] = tg_get32(d + 4 * (size_t)i);
        free(d);
    }
    if (rc == 0 && ext && m->ext_len &&
        pread(fd, ext, m->ext_len, (off_t)(pos + n)) != (ssize_t)m->ext_len)
        rc = TG_EIO;
    return rc;
}

int tg_sidecar_cursor_detail(struct tg_sidecar_cursor *c, const struct tg_seg_member *m,
                             uint32_t *fp, void *ext)
{
    return tg_sidecar_entry_detail(c->fd, m, fp, ext);
}

int tg_sidecar_cursor_refresh(struct tg_sidecar_cursor *c)
{
    struct stat st;
    if (fstat(c->fd, &st) != 0)
        return TG_EIO;
    c->size = (uint64_t)st.st_size;
    return 0;
}

void tg_sidecar_cursor_close(struct tg_sidecar_cursor *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void tg_sidecar_free(struct tg_sidecar *sc)
{
    free(sc->m);
    free(sc->fp);
    free(sc->ext);
    sc->m = NULL;
    sc->fp = NULL;
    sc->ext = NULL;
    sc->nm = sc->nfp = sc->next = 0;
}

uint32_t tg_seg_fingerprint(const void *rec, size_t len)
{
    return libdeflate_crc32(0, rec, len); /* zlib's CRC-32, about 4x faster */
}

/* --- index */
static struct tg_time tg_ns_time(int64_t ns)
{
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        sec--;
    }
    return (struct tg_time){sec, (int32_t)rem, 9};
}

static void tg_jw_hex(struct tg_jw *w, const char *key, const uint8_t link[TG_LINK_LEN])
{
    char hex[2 * TG_LINK_LEN + 1];
    tg_link_hex(link, hex);
    tg_jw_cstr(w, key, hex);
}

void tg_seg_index_of(const struct tg_sidecar *sc, struct tg_seg_index *ix)
{
    *ix = (struct tg_seg_index){.seq = sc->hdr.seq,
                                .first_index = sc->hdr.first_index,
                                .first_member = sc->hdr.first_member,
                                .records = sc->nfp,
                                .members = sc->nm,
                                .bytes = sc->nm ? sc->m[sc->nm - 1].end_offset : 0,
                                .min_ns = INT64_MAX,
                                .max_ns = INT64_MIN,
                                .keyed = sc->hdr.keyed};
    for (size_t i = 0; i < sc->nm; i++) {
        if (sc->m[i].min_ns < ix->min_ns)
            ix->min_ns = sc->m[i].min_ns;
        if (sc->m[i].max_ns > ix->max_ns)
            ix->max_ns = sc->m[i].max_ns;
    }
    memcpy(ix->prev, sc->hdr.prev, TG_LINK_LEN);
    memcpy(ix->last, sc->nm ? sc->m[sc->nm - 1].link : sc->hdr.prev, TG_LINK_LEN);
}

bool tg_seg_index_equal(const struct tg_seg_index *a, const struct tg_seg_index *b)
{
    return a->seq == b->seq && a->first_index == b->first_index &&
           a->first_member == b->first_member && a->records == b->records &&
           a->members == b->members && a->bytes == b->bytes && a->min_ns == b->min_ns &&
           a->max_ns == b->max_ns && a->keyed == b->keyed &&
           memcmp(a->prev, b->prev, TG_LINK_LEN) == 0 && memcmp(a->last, b->last, TG_LINK_LEN) == 0;
}

int tg_seg_index_write(const char *path, const struct tg_seg_index *ix, bool sync)
{
    struct tg_buf b = TG_BUF_INIT;
    struct tg_jw w;
    tg_jw_begin(&w, &b);
    tg_jw_cstr(&w, "format", "trailguard-segment-index");
    tg_jw_int(&w, "version", 2);
    tg_jw_int(&w, "segment", (int64_t)ix->seq);
    tg_jw_int(&w, "first_index", (int64_t)ix->first_index);
    tg_jw_int(&w, "first_member", (int64_t)ix->first_member);
    tg_jw_int(&w, "records", (int64_t)ix->records);
    tg_jw_int(&w, "members", (int64_t)ix->members);
    tg_jw_int(&w, "bytes", (int64_t)ix->bytes);
    if (ix->min_ns <= ix->max_ns) { /* else no record had a time: both absent */
        tg_jw_time(&w, "min_time", tg_ns_time(ix->min_ns));
        tg_jw_time(&w, "max_time", tg_ns_time(ix->max_ns));
        tg_jw_int(&w, "min_ns", ix->min_ns);
        tg_jw_int(&w, "max_ns", ix->max_ns);
    }
    tg_jw_bool(&w, "keyed", ix->keyed);
    tg_jw_hex(&w, "prev_link", ix->prev);
    tg_jw_hex(&w, "last_link", ix->last);
    tg_jw_end(&w);
    tg_buf_putc(&b, '\n');

    int rc = tg_file_replace(path, b.data, b.len, 0640, sync);
    tg_buf_free(&b);
    return rc;
}

static bool tg_json_u64(json_object *o, const char *key, uint64_t *v)
{
    json_object *x;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
        return false;
    *v = (uint64_t)json_object_get_int64(x);
    return true;
}

static bool tg_json_link(json_object *o, const char *key, uint8_t link[TG_LINK_LEN])
{
    json_object *x;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
        return false;
    return tg_link_unhex(json_object_get_string(x), (size_t)json_object_get_string_len(x), link) ==
           0;
}

int tg_seg_index_read(const char *path, struct tg_seg_index *ix)
{
    uint8_t *d;
    size_t n;
    if (tg_slurp(path, &d, &n) != 0)
        return TG_EIO;
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, (const char *)d, (int)n);
    json_tokener_free(tok);
    free(d);
    uint64_t mn = (uint64_t)INT64_MAX, mx = (uint64_t)INT64_MIN, version = 0;
    json_object *k;
    bool times = o && tg_json_u64(o, "min_ns", &mn) && tg_json_u64(o, "max_ns", &mx);
    bool good =
        o && tg_json_u64(o, "version", &version) && version == 2 &&
        tg_json_u64(o, "segment", &ix->seq) && tg_json_u64(o, "first_index", &ix->first_index) &&
        tg_json_u64(o, "first_member", &ix->first_member) &&
        tg_json_u64(o, "records", &ix->records) && tg_json_u64(o, "members", &ix->members) &&
        tg_json_u64(o, "bytes", &ix->bytes) && json_object_object_get_ex(o, "keyed", &k) &&
        tg_json_link(o, "prev_link", ix->prev) && tg_json_link(o, "last_link", ix->last);
    if (good) {
        ix->min_ns = times ? (int64_t)mn : INT64_MAX;
        ix->max_ns = times ? (int64_t)mx : INT64_MIN;
        ix->keyed = json_object_get_boolean(k);
    }
    json_object_put(o);
    return good ? 0 : TG_ECORRUPT;
}

/* --- chain.head */
void tg_seg_head_format(const struct tg_seg_head *h, char out[TG_SEG_HEAD_LEN + 1])
{
    char hex[2 * TG_LINK_LEN + 1];
    tg_link_hex(h->link, hex);
    /* 23 + 3 * 29 + 70 + padding to a fixed length */
    int n = snprintf(out, TG_SEG_HEAD_LEN + 1,
                     "trailguard-chain-head 2 segment=%020" PRIu64 " records=%020" PRIu64
                     " members=%020" PRIu64 " link=%s",
                     h->seq, h->records, h->members, hex);
    memset(out + n, ' ', (size_t)(TG_SEG_HEAD_LEN - 1 - n));
    out[TG_SEG_HEAD_LEN - 1] = '\n';
    out[TG_SEG_HEAD_LEN] = '\0';
}

int tg_seg_head_read(const char *dir, struct tg_seg_head *h)
{
    char *path = tg_xasprintf("%s/%s", dir, TG_SEG_HEAD_FILE);
    uint8_t *d;
    size_t n;
    int rc = tg_slurp(path, &d, &n);
    free(path);
    if (rc != 0)
        return errno == ENOENT ? TG_ENOENT : TG_EIO;
    char hex[2 * TG_LINK_LEN + 1];
    unsigned long long seq, recs, mems;
    char *s = tg_xstrndup((const char *)d, n);
    free(d);
    rc = TG_ECORRUPT;
    if (sscanf(s, "trailguard-chain-head 2 segment=%llu records=%llu members=%llu link=%64s", &seq,
               &recs, &mems, hex) == 4 &&
        tg_link_unhex(hex, strlen(hex), h->link) == 0) {
        h->seq = seq;
        h->records = recs;
        h->members = mems;
        rc = 0;
    }
    free(s);
    return rc;
}

int tg_seg_record_time(const char *rec, size_t len, int64_t *ns)
{
    static const char key[] = "\"@timestamp\":\"";
    const char *p;
    if (len > sizeof(key) && memcmp(rec + 1, key, sizeof(key) - 1) == 0) {
        p = rec + sizeof(key); /* the writer puts it first */
    } else {
        p = memmem(rec, len, key, sizeof(key) - 1);
        if (!p)
            return TG_ENOENT;
        p += sizeof(key) - 1;
    }
    struct tg_time t;
    size_t used = tg_time_parse_iso(p, len - (size_t)(p - rec), &t);
    if (used == 0)
        return TG_ENOENT;
    *ns = t.sec * 1000000000 + t.nsec;
    return 0;
}

void tg_seg_time_span(const char *rec, size_t len, int64_t *mn, int64_t *mx)
{
    int64_t ns;
    if (tg_seg_record_time(rec, len, &ns) != 0)
        return;
    if (ns < *mn)
        *mn = ns;
    if (ns > *mx)
        *mx = ns;
}

/* --- compressor */
struct tg_seg_packer {
    enum tg_seg_kind kind;
    struct libdeflate_compressor *gz;
    ZSTD_CCtx *zs;
};

struct tg_seg_packer *tg_seg_packer_new(enum tg_seg_kind kind, int level)
{
    struct tg_seg_packer *p = tg_xcalloc(1, sizeof(*p));
    p->kind = kind;
    if (kind == TG_SEG_ZST) {
        p->zs = ZSTD_createCCtx();
        if (!p->zs || ZSTD_isError(ZSTD_CCtx_setParameter(p->zs, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(p->zs, ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(p->zs, ZSTD_c_contentSizeFlag, 1)))
            abort(); /* only fails for lack of memory */
    } else {
        p->gz = libdeflate_alloc_compressor(level);
        if (!p->gz)
            abort(); /* only fails for lack of memory */
    }
    return p;
}

void tg_seg_packer_free(struct tg_seg_packer *p)
{
    if (!p)
        return;
    libdeflate_free_compressor(p->gz);
    ZSTD_freeCCtx(p->zs);
    free(p);
}

/* libdeflate rather than zlib for gzip: the whole member is in memory, and
 * it compresses it about 2.4 times faster than zlib at the same level and
 * ratio; the readers use zlib (the format is the same).  zstd: one frame
 * per member (ZSTD_compress2 ends the frame, with the content size and a
 * checksum, so a reader checks a member as it checks a gzip member's CRC). */
void tg_seg_pack(struct tg_seg_packer *p, const void *raw, size_t len, struct tg_buf *out)
{
    out->len = 0;
    if (p->kind == TG_SEG_ZST) {
        size_t bound = ZSTD_compressBound(len);
        tg_buf_reserve(out, bound);
        size_t n = ZSTD_compress2(p->zs, out->data, bound, raw, len);
        if (ZSTD_isError(n))
            abort(); /* the bound guarantees room */
        out->len = n;
        return;
    }
    size_t bound = libdeflate_gzip_compress_bound(p->gz, len);
    tg_buf_reserve(out, bound);
    out->len = libdeflate_gzip_compress(p->gz, raw, len, out->data, bound);
    if (out->len == 0)
        abort(); /* the bound guarantees room */
}

/* --- one member whole */
struct tg_seg_inflater {
    struct libdeflate_decompressor *d;
    ZSTD_DCtx *zs;
    struct tg_buf gz;
};

struct tg_seg_inflater *tg_seg_inflater_new(void)
{
    struct tg_seg_inflater *z = tg_xcalloc(1, sizeof(*z));
    z->d = libdeflate_alloc_decompressor();
    z->zs = ZSTD_createDCtx();
    if (!z->d || !z->zs)
        abort(); /* only fails for lack of memory */
    return z;
}

void tg_seg_inflater_free(struct tg_seg_inflater *z)
{
    if (!z)
        return;
    libdeflate_free_decompressor(z->d);
    ZSTD_freeDCtx(z->zs);
    tg_buf_free(&z->gz);
    free(z);
}

/* One zstd frame of exactly n bytes at p, into out.  0 or TG_ECORRUPT. */
static int tg_seg_zstd_frame(struct tg_seg_inflater *z, const uint8_t *p, size_t n,
                             struct tg_buf *out)
{
    if (n < 4 || tg_get32(p) != ZSTD_MAGICNUMBER || ZSTD_findFrameCompressedSize(p, n) != n)
        return TG_ECORRUPT; /* not one frame of this length (or a skippable one) */
    unsigned long long size = ZSTD_getFrameContentSize(p, n);
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
        size > TG_SEG_MEMBER_MAX_RAW)
        return TG_ECORRUPT; /* the writer always records the size */
    tg_buf_reserve(out, (size_t)size + 1);
    size_t got = ZSTD_decompressDCtx(z->zs, out->data, (size_t)size + 1, p, n);
    if (ZSTD_isError(got) || got != size)
        return TG_ECORRUPT;
    out->len = got;
    return 0;
}

int tg_seg_member_read(struct tg_seg_inflater *z, int fd, enum tg_seg_kind kind, uint64_t start,
                       uint64_t end, struct tg_buf *out)
{
    out->len = 0;
    /* no gzip member is shorter than 18 bytes, no zstd frame than 9 */
    if (end < start + (kind == TG_SEG_ZST ? 9 : 18) || end - start > TG_SEG_MEMBER_MAX_RAW)
        return TG_ECORRUPT;
    size_t n = (size_t)(end - start);
    z->gz.len = 0;
    uint8_t *p = (uint8_t *)tg_buf_reserve(&z->gz, n);
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, p + got, n - got, (off_t)(start + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return TG_EIO;
        if (k == 0)
            return TG_ETRUNC;
        got += (size_t)k;
    }
    if (kind == TG_SEG_ZST)
        return tg_seg_zstd_frame(z, p, n, out);
    uint32_t isize = tg_get32(p + n - 4); /* the gzip trailer: the size mod 2^32 */
    if (isize > TG_SEG_MEMBER_MAX_RAW)
        return TG_ECORRUPT;
    tg_buf_reserve(out, (size_t)isize + 1);
    size_t in_used = 0, out_len = 0;
    enum libdeflate_result r =
        libdeflate_gzip_decompress_ex(z->d, p, n, out->data, isize, &in_used, &out_len);
    if (r != LIBDEFLATE_SUCCESS || in_used != n || out_len != isize)
        return TG_ECORRUPT;
    out->len = out_len;
    return 0;
}

/* --- reader */
#define TG_SEG_IO 65536

struct tg_seg_reader {
    int fd;
    enum tg_seg_kind kind;
    z_stream z;          /* TG_SEG_GZ */
    ZSTD_DCtx *zs;       /* TG_SEG_ZST */
    uint64_t file_off;   /* offset in the file after the bytes read */
    uint64_t in_bytes;   /* bytes read from the file */
    uint64_t member_end; /* offset after the last complete member */
    uint64_t raw;
    size_t in_pos, in_len;
    size_t out_pos, out_len;
    bool eof, in_member, member_pending, drop_line;
    bool out_full; /* the last step filled out: the decoder may hold more */
    struct tg_buf line;
    uint8_t in[TG_SEG_IO];
    uint8_t out[TG_SEG_IO];
};

int tg_seg_reader_open(const char *path, enum tg_seg_kind kind, struct tg_seg_reader **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TG_EIO;
    struct tg_seg_reader *r = tg_xcalloc(1, sizeof(*r));
    r->fd = fd;
    r->kind = kind;
    if (kind == TG_SEG_ZST) {
        r->zs = ZSTD_createDCtx();
        if (!r->zs)
            abort();
    } else if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
        abort();
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = r;
    return 0;
}

/* Decompress what is in r->in into r->out (out_len).  1 when a member ended
 * (member_end set), 0 when not yet, TG_ECORRUPT when the bytes are not of
 * the format. */
static int tg_seg_reader_step(struct tg_seg_reader *r)
{
    int ended = 0;
    if (r->kind == TG_SEG_ZST) {
        ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer out = {r->out, sizeof(r->out), 0};
        size_t rc = ZSTD_decompressStream(r->zs, &out, &in);
        if (ZSTD_isError(rc))
            return TG_ECORRUPT;
        r->in_pos = in.pos;
        r->out_len = out.pos;
        ended = rc == 0;
    } else {
        r->z.next_in = r->in + r->in_pos;
        r->z.avail_in = (uInt)(r->in_len - r->in_pos);
        r->z.next_out = r->out;
        r->z.avail_out = sizeof(r->out);
        int zrc = inflate(&r->z, Z_NO_FLUSH);
        r->in_pos = r->in_len - r->z.avail_in;
        r->out_len = sizeof(r->out) - r->z.avail_out;
        if (zrc == Z_STREAM_END) {
            inflateReset(&r->z);
            ended = 1;
        } else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            return TG_ECORRUPT;
        }
    }
    if (ended)
        r->member_end = r->file_off - (r->in_len - r->in_pos);
    return ended;
}

int tg_seg_reader_next(struct tg_seg_reader *r, struct tg_str *rec)
{
    if (r->drop_line) {
        r->line.len = 0;
        r->drop_line = false;
    }
    for (;;) {
        if (r->out_pos < r->out_len) {
            const uint8_t *s = r->out + r->out_pos;
            size_t avail = r->out_len - r->out_pos;
            const uint8_t *nl = memchr(s, '\n', avail);
            if (!nl) {
                tg_buf_append(&r->line, s, avail);
                r->out_pos = r->out_len;
                continue;
            }
            size_t k = (size_t)(nl - s);
            r->out_pos += k + 1;
            if (r->line.len == 0) {
                *rec = tg_str_make((const char *)s, k);
                return TG_SEG_RECORD;
            }
            tg_buf_append(&r->line, s, k);
            *rec = tg_str_make(r->line.data, r->line.len);
            r->drop_line = true;
            return TG_SEG_RECORD;
        }
        if (r->member_pending) {
            if (r->line.len) { /* a member that does not end in LF: still a record */
                *rec = tg_str_make(r->line.data, r->line.len);
                r->drop_line = true;
                return TG_SEG_RECORD;
            }
            r->member_pending = false;
            return TG_SEG_MEMBER;
        }
        if (!r->out_full && r->in_pos == r->in_len && !r->eof) {
            ssize_t k = read(r->fd, r->in, sizeof(r->in));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return TG_EIO;
            if (k == 0)
                r->eof = true;
            r->in_pos = 0;
            r->in_len = (size_t)k;
            r->file_off += (uint64_t)k;
            r->in_bytes += (uint64_t)k;
        }
        if (!r->out_full && r->in_pos == r->in_len && r->eof)
            return r->in_member || r->line.len ? TG_ETRUNC : TG_SEG_END;
        r->in_member = true;
        r->out_pos = 0;
        int rc = tg_seg_reader_step(r);
        if (rc < 0)
            return rc;
        r->raw += r->out_len;
        r->out_full = rc == 0 && r->out_len == sizeof(r->out);
        if (rc == 1) {
            r->member_pending = true;
            r->in_member = false;
        }
    }
}

uint64_t tg_seg_reader_offset(const struct tg_seg_reader *r)
{
    return r->member_end;
}

uint64_t tg_seg_reader_raw_bytes(const struct tg_seg_reader *r)
{
    return r->raw;
}

uint64_t tg_seg_reader_in_bytes(const struct tg_seg_reader *r)
{
    return r->in_bytes;
}

int tg_seg_reader_seek(struct tg_seg_reader *r, uint64_t offset)
{
    if (lseek(r->fd, (off_t)offset, SEEK_SET) < 0)
        return TG_EIO;
    if (r->kind == TG_SEG_ZST)
        ZSTD_DCtx_reset(r->zs, ZSTD_reset_session_only);
    else
        inflateReset(&r->z);
    r->in_pos = r->in_len = 0;
    r->file_off = r->member_end = offset;
    r->out_pos = r->out_len = 0;
    r->eof = r->in_member = r->member_pending = r->drop_line = r->out_full = false;
    r->line.len = 0;
    return 0;
}

void tg_seg_reader_close(struct tg_seg_reader *r)
{
    if (!r)
        return;
    if (r->kind == TG_SEG_ZST)
        ZSTD_freeDCtx(r->zs);
    else
        inflateEnd(&r->z);
    close(r->fd);
    tg_buf_free(&r->line);
    free(r);
}
