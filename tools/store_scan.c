/*
 * store_scan.c - the parallel, ordered, checked scan of the file store.
 * See store_scan.h for what it guarantees.
 *
 * Jobs: a ring of TG_SCAN_PER_WORKER slots per worker.  The main thread
 * fills slots in store order (one member each, or a marker for a segment
 * that cannot be read further, so its report comes in order too); workers
 * take them in the same order (one mutex, two condition variables: a job
 * is queued, a job is done) and the main thread consumes the oldest slot
 * once it is done, emitting its matches, before it reuses it.  A worker
 * owns its decompressor, chain context and record scratch; a slot owns its
 * buffers, reused from member to member.  The segments' file descriptors
 * are shared by the jobs (pread) and closed by the main thread once the
 * segment's last job is consumed.
 *
 * Keys: with a keyed chain and --key, a member's links need k_first (the
 * key of its first record), which only evolves forward, one SHA-256 per
 * record; the main thread evolves one copy along the store (over skipped
 * members too) and gives each job its k_first.  The copies are wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/errors.h"
#include "core/mem.h"
#include "sinks/chain.h"
#include "sinks/segment.h"
#include "tools/store_scan.h"

#define TG_SCAN_PER_WORKER  4
#define TG_SCAN_MAX_WORKERS 64
#define TG_FOLLOW_POLL_MS   200

/* A segment being read: its files, shared by its jobs. */
struct tg_segref {
    uint64_t seq;
    int dfd, cfd;
    char *dpath;
    enum tg_seg_kind kind; /* of the data file */
    int jobs;              /* in the ring */
    bool dispatching;      /* the main thread may add more */
    bool damaged;          /* a job failed: the rest of it is dropped */
    uint64_t records;      /* read from it so far (for the report) */
};

enum tg_job_state { TG_JOB_FREE = 0, TG_JOB_QUEUED, TG_JOB_TAKEN, TG_JOB_DONE };

struct tg_job {
    enum tg_job_state state;
    struct tg_segref *seg;
    int error; /* a marker: the segment cannot be read further (this error) */
    int err_no;
    struct tg_seg_member m;
    struct tg_seg_header hdr;
    uint64_t index, first; /* member number in the segment; records before it */
    uint8_t prev[TG_LINK_LEN];
    uint8_t key[TG_LINK_LEN]; /* k_first, when has_key */
    bool has_key, links;
    /* results */
    int rc;
    struct tg_buf raw, out, ext;
    size_t *ends; /* end of each match's bytes in out */
    size_t nends, capends;
    uint64_t records, matched, bytes;
    bool checked;
};

struct tg_worker {
    struct tg_scanner *s;
    pthread_t th;
    struct tg_seg_inflater *z;
    struct tg_chain chain;
    struct tg_rctx rc;
    struct tg_buf seal;
    uint32_t *fp;
    size_t capfp;
};

struct tg_scanner {
    const char *dir;
    const struct tg_scan_opts *o;
    struct tg_scan_stats *st;
    pthread_mutex_t mu;
    pthread_cond_t queued, done;
    struct tg_job *ring;
    size_t nring;
    uint64_t head, tail, take; /* consumed, filled, taken (monotonic) */
    bool quit;
    bool go; /* emit still wants matches */
    size_t nworkers;
    struct tg_worker *w;
    struct tg_chain keys; /* the key evolved along the store (keyed, --key) */
    bool warned_key;
    /* progress */
    bool pg_on, pg_shown;
    double t0, pg_next;
    uint64_t seg_i, nseg;
};

static double tg_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- worker side */
/* Does job j's member check out against its entry?  (records, fingerprints
 * and, when j->links, the links and the seal) */
static bool tg_job_check(struct tg_worker *w, struct tg_job *j)
{
    if (j->records != j->m.records)
        return false;
    if (j->m.records > w->capfp) {
        w->capfp = j->m.records;
        w->fp = tg_xrealloc(w->fp, w->capfp * sizeof(*w->fp));
    }
    if (tg_sidecar_entry_detail(j->seg->cfd, &j->m, w->fp, NULL) != 0)
        return false;
    struct tg_chain *c = &w->chain;
    if (j->links) {
        c->keyed = j->hdr.keyed;
        c->has_key = j->has_key;
        if (j->has_key)
            memcpy(c->key, j->key, TG_LINK_LEN);
        memcpy(c->link, j->prev, TG_LINK_LEN);
        c->count = j->first;
    }
    const char *p = j->raw.data, *e = p + j->raw.len;
    for (uint32_t i = 0; p < e; i++) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        if (tg_seg_fingerprint(p, n) != w->fp[i])
            return false;
        if (j->links)
            tg_chain_add(c, p, n);
        p += n + 1;
    }
    if (!j->links)
        return true;
    uint8_t link[TG_LINK_LEN];
    tg_seg_seal_message(&w->seal, &j->hdr, j->index, j->first, &j->m, w->fp, j->ext.data);
    tg_chain_seal(c, w->seal.data, w->seal.len, link);
    OPENSSL_cleanse(c->key, TG_LINK_LEN);
    return memcmp(link, j->m.link, TG_LINK_LEN) == 0;
}

static void tg_job_run(struct tg_worker *w, struct tg_job *j)
{
    const struct tg_scan_opts *o = w->s->o;
    j->out.len = 0;
    j->nends = 0;
    j->records = j->matched = 0;
    j->checked = false;
    j->bytes = j->m.end_offset - j->m.start_offset;
    j->rc = tg_seg_member_read(w->z, j->seg->dfd, j->seg->kind, j->m.start_offset, j->m.end_offset,
                               &j->raw);
    if (j->rc != 0) {
        j->err_no = errno;
        return;
    }
    const char *p = j->raw.data, *e = p + j->raw.len;
    struct tg_record r;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        tg_record_init(&r, &w->rc, tg_str_make(p, n));
        j->records++;
        if (tg_filter_match(&r)) {
            j->matched++;
            o->render(o->ctx, &r, &j->out);
            j->ends = tg_xgrow(j->ends, j->nends, &j->capends, sizeof(*j->ends), 256);
            j->ends[j->nends++] = j->out.len;
        }
        p += n + 1;
    }
    if (j->matched) {
        j->checked = true;
        if (!tg_job_check(w, j))
            j->rc = TG_ECORRUPT;
    }
}

static void *tg_worker_main(void *arg)
{
    struct tg_worker *w = arg;
    struct tg_scanner *s = w->s;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->quit && s->take == s->tail)
            pthread_cond_wait(&s->queued, &s->mu);
        if (s->quit)
            break;
        struct tg_job *j = &s->ring[s->take++ % s->nring];
        j->state = TG_JOB_TAKEN;
        pthread_mutex_unlock(&s->mu);
        if (!j->error)
            tg_job_run(w, j);
        pthread_mutex_lock(&s->mu);
        j->state = TG_JOB_DONE;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* --- main thread */
static void tg_scan_progress(struct tg_scanner *s)
{
    double now = tg_mono();
    if (!s->pg_on || now < s->pg_next)
        return;
    s->pg_next = now + 0.25;
    double el = now - s->t0;
    fprintf(stderr,
            "\r\033[Kscanning segment %" PRIu64 "/%" PRIu64 ": %" PRIu64 " events, %" PRIu64
            " matched, %.1f MB/s",
            s->seg_i + 1, s->nseg, s->st->records, s->st->matched,
            el > 0 ? (double)s->st->raw_bytes / 1e6 / el : 0.0);
    s->pg_shown = true;
}

static void tg_segref_release(struct tg_segref *g)
{
    if (g->jobs > 0 || g->dispatching)
        return;
    if (g->dfd >= 0)
        close(g->dfd);
    if (g->cfd >= 0)
        close(g->cfd);
    free(g->dpath);
    free(g);
}

/* Report why segment g cannot be read further. */
static void tg_scan_report(struct tg_scanner *s, struct tg_segref *g, int rc, int err_no)
{
    s->st->damaged++;
    g->damaged = true;
    if (rc == TG_EVERSION)
        fprintf(stderr,
                "trailguard: %s: a segment of store format 1 (an earlier trailguard); "
                "skipped: read it with the version that wrote it\n",
                g->dpath);
    else if (rc == TG_ENOENT)
        fprintf(stderr,
                "trailguard: %s: its chain (.chain) cannot be read: %s; skipped (run "
                "`trailguard verify %s`)\n",
                g->dpath, strerror(err_no), s->dir);
    else
        fprintf(stderr,
                "trailguard: %s: %s after %" PRIu64 " of its records were read; the rest of it "
                "is skipped (run `trailguard verify %s`)\n",
                g->dpath,
                rc == TG_ECORRUPT ? "a member that does not match its chain entry"
                : rc == TG_ETRUNC ? "cut short"
                                  : strerror(err_no),
                g->records, s->dir);
}

/* Consume the oldest job (waiting until it is done). */
static void tg_scan_consume(struct tg_scanner *s)
{
    struct tg_job *j = &s->ring[s->head % s->nring];
    pthread_mutex_lock(&s->mu);
    while (j->state != TG_JOB_DONE)
        pthread_cond_wait(&s->done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    struct tg_segref *g = j->seg;
    struct tg_scan_stats *st = s->st;
    if (!g->damaged) {
        if (j->error) {
            tg_scan_report(s, g, j->error, j->err_no);
        } else {
            st->members_read++;
            st->members_checked += j->checked;
            st->bytes += j->bytes;
            st->raw_bytes += j->raw.len;
            st->records += j->records;
            if (j->rc != 0) {
                tg_scan_report(s, g, j->rc, j->err_no);
            } else {
                g->records += j->records;
                for (size_t k = 0; k < j->nends && s->go; k++) {
                    size_t b = k ? j->ends[k - 1] : 0;
                    st->matched++;
                    s->go = s->o->emit(s->o->ctx, j->out.data + b, j->ends[k] - b);
                }
            }
        }
    }
    OPENSSL_cleanse(j->key, TG_LINK_LEN);
    j->state = TG_JOB_FREE;
    s->head++;
    g->jobs--;
    tg_segref_release(g);
    tg_scan_progress(s);
}

/* A free slot at the tail (consuming the oldest job when the ring is full). */
static struct tg_job *tg_scan_slot(struct tg_scanner *s)
{
    while (s->tail - s->head == s->nring)
        tg_scan_consume(s);
    return &s->ring[s->tail % s->nring];
}

static void tg_scan_queue(struct tg_scanner *s, struct tg_job *j)
{
    j->seg->jobs++;
    pthread_mutex_lock(&s->mu);
    j->state = TG_JOB_QUEUED;
    s->tail++;
    pthread_cond_signal(&s->queued);
    pthread_mutex_unlock(&s->mu);
}

/* Queue the marker that segment g cannot be read further (rc), in order. */
static void tg_scan_fail(struct tg_scanner *s, struct tg_segref *g, int rc)
{
    int e = errno;
    struct tg_job *j = tg_scan_slot(s);
    j->seg = g;
    j->error = rc;
    j->err_no = e;
    tg_scan_queue(s, j);
}

static bool tg_member_in_range(const struct tg_filter *f, const struct tg_seg_member *m)
{
    return m->min_ns <= m->max_ns && !(f->since_set && m->max_ns < f->since_ns) &&
           !(f->until_set && m->min_ns >= f->until_ns);
}

static bool tg_skip_by_index(const char *dir, uint64_t seq, const struct tg_filter *f)
{
    if (!f->since_set && !f->until_set)
        return false;
    char *p = tg_seg_path(dir, seq, TG_SEG_INDEX);
    struct tg_seg_index ix;
    bool have = tg_seg_index_read(p, &ix) == 0;
    free(p);
    if (!have)
        return false;
    if (ix.records == 0 || ix.min_ns > ix.max_ns)
        return true; /* no record with a time: none can pass a time filter */
    return (f->since_set && ix.max_ns < f->since_ns) || (f->until_set && ix.min_ns >= f->until_ns);
}

static void tg_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Does segment seq's sidecar exist (the writer rotated to it)? */
static bool tg_seg_exists(const char *dir, uint64_t seq)
{
    char *p = tg_seg_path(dir, seq, TG_SEG_CHAIN);
    bool yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

/* Everything queued is consumed; tell the caller (follow mode). */
static void tg_scan_drain(struct tg_scanner *s)
{
    while (s->head != s->tail)
        tg_scan_consume(s);
    if (s->o->idle)
        s->o->idle(s->o->ctx);
}

/*
 * Queue the members of segment seq that can match.  `skip_to`: entries
 * before this number are passed over unread (follow mode starting at the
 * end).  In follow mode, the newest segment is followed until the writer
 * moves on to the next one.
 */
static void tg_scan_segment(struct tg_scanner *s, uint64_t seq, bool newest, uint64_t skip_to)
{
    const struct tg_filter *f = s->o->f;
    struct tg_scan_stats *st = s->st;
    struct tg_segref *g = tg_xcalloc(1, sizeof(*g));
    g->seq = seq;
    g->dfd = g->cfd = -1;
    g->dispatching = true;
    g->kind = tg_seg_data_kind_in(s->dir, seq);
    g->dpath = tg_seg_path(s->dir, seq, g->kind);
    char *cpath = tg_seg_path(s->dir, seq, TG_SEG_CHAIN);
    struct tg_sidecar_cursor cur = {.fd = -1};
    int rc = tg_sidecar_cursor_open(cpath, &cur);
    free(cpath);
    if (rc != 0) {
        tg_scan_fail(s, g, rc == TG_EVERSION ? rc : TG_ENOENT);
        goto out;
    }
    g->cfd = dup(cur.fd);
    g->dfd = open(g->dpath, O_RDONLY | O_CLOEXEC);
    if (g->dfd < 0 || g->cfd < 0) {
        fprintf(stderr, "trailguard: %s: cannot open: %s; skipped\n", g->dpath, strerror(errno));
        st->damaged++;
        goto out;
    }
    bool by_time = f->since_set || f->until_set, by_index = tg_filter_has_fields(f);
    uint64_t first = cur.hdr.first_index;
    uint8_t prev[TG_LINK_LEN];
    memcpy(prev, cur.hdr.prev, TG_LINK_LEN);
    bool keyed_links = !cur.hdr.keyed || s->keys.has_key;
    if (cur.hdr.keyed && !s->keys.has_key && !s->warned_key) {
        s->warned_key = true;
        fprintf(stderr,
                "trailguard: %s holds segments chained with HMAC: without --key their "
                "records are checked against their fingerprints only (verify --key "
                "authenticates them)\n",
                s->dir);
    }
    struct tg_seg_member m;
    struct tg_buf ext = TG_BUF_INIT;
    for (;;) {
        if (!s->go || g->damaged)
            break;
        rc = tg_sidecar_cursor_next(&cur, &m);
        if (rc == 0 && s->o->follow && newest) {
            /* the end for now: wait for the writer, or for its next segment
             * (created only once this one is complete) */
            uint64_t before = cur.size;
            bool rotated = tg_seg_exists(s->dir, seq + 1);
            if (tg_sidecar_cursor_refresh(&cur) == 0 && cur.size != before)
                continue; /* more came in meanwhile */
            if (rotated)
                break;
            tg_scan_drain(s);
            if (!s->go)
                break;
            tg_sleep_ms(TG_FOLLOW_POLL_MS);
            continue;
        }
        if (rc <= 0) {
            if (rc < 0)
                tg_scan_fail(s, g, rc);
            break;
        }
        uint64_t index = cur.index - 1;
        bool want = index >= skip_to && (!by_time || tg_member_in_range(f, &m));
        if (!want && index >= skip_to)
            st->members_skipped++;
        if (want && by_index && m.ext_len) {
            ext.len = 0;
            tg_buf_reserve(&ext, m.ext_len);
            if (tg_sidecar_entry_detail(cur.fd, &m, NULL, ext.data) == 0 &&
                !tg_filter_member_may_match(f, ext.data, m.ext_len)) {
                want = false;
                st->members_index++;
            }
        }
        if (want && s->keys.has_key && first < s->keys.count) {
            errno = 0;
            tg_scan_fail(s, g, TG_ECORRUPT); /* the store goes back in the chain */
            break;
        }
        if (want) {
            struct tg_job *j = tg_scan_slot(s);
            if (g->damaged)
                break; /* found while making room */
            j->seg = g;
            j->error = 0;
            j->m = m;
            j->hdr = cur.hdr;
            j->index = index;
            j->first = first;
            memcpy(j->prev, prev, TG_LINK_LEN);
            j->links = keyed_links;
            j->has_key = cur.hdr.keyed && s->keys.has_key;
            if (j->has_key) {
                tg_chain_resume(&s->keys, prev, first);
                memcpy(j->key, s->keys.key, TG_LINK_LEN);
            }
            j->ext.len = 0;
            tg_buf_reserve(&j->ext, m.ext_len + 1);
            if (m.ext_len && tg_sidecar_entry_detail(cur.fd, &m, NULL, j->ext.data) != 0) {
                tg_scan_fail(s, g, TG_EIO);
                break;
            }
            j->ext.len = m.ext_len;
            tg_scan_queue(s, j);
        }
        first += m.records;
        memcpy(prev, m.link, TG_LINK_LEN);
    }
    tg_buf_free(&ext);
out:
    tg_sidecar_cursor_close(&cur);
    g->dispatching = false;
    tg_segref_release(g); /* now, or when its last job is consumed */
}

int tg_store_scan(const char *dir, const struct tg_scan_opts *o, struct tg_scan_stats *st)
{
    memset(st, 0, sizeof(*st));
    struct tg_seg_entry *v;
    size_t n;
    if (tg_seg_list(dir, &v, &n) != 0)
        return TG_EIO;
    struct tg_scanner s = {.dir = dir, .o = o, .st = st, .go = true, .nseg = n};
    s.t0 = tg_mono();
    s.pg_on = o->progress && !o->follow && isatty(2);
    s.pg_next = s.t0 + 1.0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s.nworkers = cpus < 1 ? 1 : cpus > TG_SCAN_MAX_WORKERS ? TG_SCAN_MAX_WORKERS : (size_t)cpus;
    s.nring = TG_SCAN_PER_WORKER * s.nworkers;
    s.ring = tg_xcalloc(s.nring, sizeof(*s.ring));
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.queued, NULL);
    pthread_cond_init(&s.done, NULL);
    tg_chain_init(&s.keys, o->key0);
    s.w = tg_xcalloc(s.nworkers, sizeof(*s.w));
    for (size_t i = 0; i < s.nworkers; i++) {
        struct tg_worker *w = &s.w[i];
        w->s = &s;
        w->z = tg_seg_inflater_new();
        tg_chain_init(&w->chain, NULL);
        tg_rctx_init(&w->rc, o->f);
        if (pthread_create(&w->th, NULL, tg_worker_main, w) != 0)
            abort(); /* no thread: nothing sensible to do */
    }
    /* follow without --since starts at the end of the newest segment */
    bool from_end = o->follow && !o->f->since_set;
    size_t i0 = from_end && n ? n - 1 : 0;
    uint64_t last = n ? v[n - 1].seq : 0;
    for (size_t i = i0; i < n && s.go; i++) {
        s.seg_i = i;
        if (!tg_seg_has_data(&v[i]) && !v[i].has[TG_SEG_CHAIN])
            continue;
        st->segments++;
        bool newest = i + 1 == n;
        if (!(o->follow && newest) && tg_skip_by_index(dir, v[i].seq, o->f)) {
            st->skipped++;
            continue;
        }
        uint64_t skip_to = 0;
        if (from_end && newest) {
            struct tg_sidecar_cursor cur;
            char *cp = tg_seg_path(dir, v[i].seq, TG_SEG_CHAIN);
            struct tg_seg_member m;
            if (tg_sidecar_cursor_open(cp, &cur) == 0) {
                while (tg_sidecar_cursor_next(&cur, &m) == 1)
                    skip_to++;
                tg_sidecar_cursor_close(&cur);
            }
            free(cp);
        }
        tg_scan_segment(&s, v[i].seq, newest, skip_to);
    }
    /* follow: the segments the writer opens from now on */
    for (uint64_t seq = last; o->follow && s.go;) {
        if (!tg_seg_exists(dir, seq + 1)) {
            tg_scan_drain(&s);
            tg_sleep_ms(TG_FOLLOW_POLL_MS);
            continue;
        }
        seq++;
        st->segments++;
        tg_scan_segment(&s, seq, true, 0);
    }
    tg_scan_drain(&s);
    pthread_mutex_lock(&s.mu);
    s.quit = true;
    pthread_cond_broadcast(&s.queued);
    pthread_mutex_unlock(&s.mu);
    for (size_t i = 0; i < s.nworkers; i++) {
        pthread_join(s.w[i].th, NULL);
        tg_seg_inflater_free(s.w[i].z);
        tg_chain_free(&s.w[i].chain);
        tg_rctx_free(&s.w[i].rc);
        tg_buf_free(&s.w[i].seal);
        free(s.w[i].fp);
    }
    for (size_t i = 0; i < s.nring; i++) {
        tg_buf_free(&s.ring[i].raw);
        tg_buf_free(&s.ring[i].out);
        tg_buf_free(&s.ring[i].ext);
        free(s.ring[i].ends);
    }
    if (s.pg_shown)
        fputs("\r\033[K", stderr);
    st->seconds = tg_mono() - s.t0;
    tg_chain_free(&s.keys);
    pthread_cond_destroy(&s.queued);
    pthread_cond_destroy(&s.done);
    pthread_mutex_destroy(&s.mu);
    free(s.w);
    free(s.ring);
    free(v);
    return 0;
}
