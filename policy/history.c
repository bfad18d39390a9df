/*
 * history.c - the snapshot history: index, content-addressed copies, lazy
 * loads with a small LRU cache.  See history.h.
 *
 * Entries are kept in index order with non-decreasing times: a line whose
 * time is earlier than the one before it (the clock was stepped back) is
 * taken as coming into force at that earlier line's time, so a binary
 * search finds the entry of any instant, and consecutive lines naming the
 * same id are one entry (two collectors, or a restart, recording the same
 * snapshot).  The cache holds loaded snapshots and remembered load
 * failures (a NULL snapshot with its error) under the same LRU rule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/timeutil.h"
#include "policy/history.h"

#define TG_STAGE_PREFIX ".stage-"

struct tg_hent {
    char id[17];
    int64_t from_us;
    struct tg_snapshot *pinned; /* in force in this run but not stored: kept loaded */
};

struct tg_hslot {
    char id[17]; /* "" = free */
    struct tg_snapshot *s;
    char *error; /* s == NULL: why it could not be loaded */
    uint64_t used;
};

struct tg_history {
    char *dir;
    bool writable;
    pthread_mutex_t mu; /* guards v, n, cap, cache, tick */
    struct tg_hent *v;
    size_t n, cap;
    struct tg_hslot cache[TG_HISTORY_CACHE];
    uint64_t tick;
    unsigned stage_seq; /* control thread only */
};

/* -------------------------------------------------------------- helpers */

static void tg_hist_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Remove a directory holding only files (a stage or a snapshot copy). */
static void tg_hist_rmdir(const char *path)
{
    DIR *dp = opendir(path);
    if (dp) {
        struct dirent *de;
        while ((de = readdir(dp)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *f = tg_xasprintf("%s/%s", path, de->d_name);
            unlink(f);
            free(f);
        }
        closedir(dp);
    }
    rmdir(path);
}

static bool tg_hist_is_id(const char *p, size_t n)
{
    if (n != 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Append an entry (mu held): time clamped to the last entry's, same id as
 * the last entry folded into it.  Returns false when folded. */
static bool tg_hist_push(struct tg_history *h, const char *id, int64_t from_us,
                         struct tg_snapshot *pinned)
{
    if (h->n && strcmp(h->v[h->n - 1].id, id) == 0)
        return false;
    if (h->n && from_us < h->v[h->n - 1].from_us)
        from_us = h->v[h->n - 1].from_us;
    h->v = tg_xgrow(h->v, h->n, &h->cap, sizeof(*h->v), 16);
    struct tg_hent *e = &h->v[h->n++];
    memcpy(e->id, id, 17);
    e->from_us = from_us;
    e->pinned = pinned ? tg_snapshot_ref(pinned) : NULL;
    /* memory stays bounded when storing keeps failing: the oldest pinned
     * snapshots beyond the cache size are let go (their time is then
     * judged not_applicable: nothing holds them any more) */
    size_t pins = 0;
    for (size_t i = h->n; i-- > 0;)
        if (h->v[i].pinned && ++pins > TG_HISTORY_CACHE) {
            tg_snapshot_unref(h->v[i].pinned);
            h->v[i].pinned = NULL;
        }
    return true;
}

/* "from\tid\n" lines of the index text; a torn last line is left to the
 * caller (returns the length of the complete lines). */
static size_t tg_hist_parse(struct tg_history *h, const char *path, const char *text, size_t len)
{
    size_t i = 0, line = 0, bad = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        if (!nl)
            break;
        const char *p = text + i;
        size_t n = (size_t)(nl - p);
        i += n + 1;
        line++;
        if (n == 0 || p[0] == '#')
            continue;
        struct tg_time t;
        const char *tab = memchr(p, '\t', n);
        size_t used = tab ? tg_time_parse_iso(p, (size_t)(tab - p), &t) : 0;
        if (!tab || used != (size_t)(tab - p) || !tg_hist_is_id(tab + 1, (size_t)(nl - tab - 1))) {
            tg_warn("policy history %s:%zu: not \"<RFC 3339 time>\\t<snapshot id>\"; the line "
                    "is skipped (restore it from a backup if it was edited)",
                    path, line);
            bad++;
            continue;
        }
        char id[17];
        memcpy(id, tab + 1, 16);
        id[16] = '\0';
        tg_hist_push(h, id, t.sec * 1000000 + t.nsec / 1000, NULL);
    }
    if (bad)
        tg_metrics_inc(TG_C_HISTORY_FAILURES, bad);
    return i;
}

/* Remove stage directories a crash left behind. */
static void tg_hist_clean_stages(const char *snapdir)
{
    DIR *dp = opendir(snapdir);
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (strncmp(de->d_name, TG_STAGE_PREFIX, strlen(TG_STAGE_PREFIX)) != 0)
            continue;
        char *p = tg_xasprintf("%s/%s", snapdir, de->d_name);
        tg_hist_rmdir(p);
        free(p);
    }
    closedir(dp);
}

/* Read the index; in writable mode cut a torn last line.  0 or TG_EIO. */
static int tg_hist_load_index(struct tg_history *h, char **err)
{
    char *path = tg_xasprintf("%s/%s", h->dir, TG_HISTORY_INDEX);
    int rc = 0;
    int fd = open(path, (h->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd < 0 && errno == ENOENT)
            goto out; /* no snapshot recorded yet */
        *err = tg_xasprintf("policy history %s: %s; make it readable (and writable) by the "
                            "collector",
                            path, strerror(errno));
        rc = TG_EIO;
        goto out;
    }
    char *text = tg_xmalloc((size_t)st.st_size + 1);
    ssize_t got = pread(fd, text, (size_t)st.st_size, 0);
    if (got < 0) {
        *err = tg_xasprintf("policy history %s: %s", path, strerror(errno));
        rc = TG_EIO;
    } else {
        size_t whole = tg_hist_parse(h, path, text, (size_t)got);
        if (whole < (size_t)got) {
            tg_warn("policy history %s: the last line is incomplete (an interrupted write)%s", path,
                    h->writable ? "; it is cut off" : " and is skipped");
            if (h->writable && (ftruncate(fd, (off_t)whole) != 0 || fsync(fd) != 0)) {
                *err = tg_xasprintf("policy history %s: cannot cut the incomplete last line: %s",
                                    path, strerror(errno));
                rc = TG_EIO;
            }
        }
    }
    free(text);
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

int tg_history_open(const char *dir, bool writable, struct tg_history **out, char **err)
{
    struct tg_history *h = tg_xcalloc(1, sizeof(*h));
    h->dir = tg_xstrdup(dir);
    h->writable = writable;
    pthread_mutex_init(&h->mu, NULL);
    char *snapdir = tg_xasprintf("%s/snapshots", dir);
    int rc = 0;
    if (writable) {
        if ((mkdir(dir, 0750) != 0 && errno != EEXIST) ||
            (mkdir(snapdir, 0750) != 0 && errno != EEXIST)) {
            *err = tg_xasprintf("policy history %s: cannot create %s: %s; set [policy] "
                                "snapshot_history_dir to a directory the collector can write",
                                dir, snapdir, strerror(errno));
            rc = TG_EIO;
            goto out;
        }
        tg_hist_clean_stages(snapdir);
    }
    rc = tg_hist_load_index(h, err);
out:
    free(snapdir);
    if (rc != 0) {
        tg_history_free(h);
        h = NULL;
    }
    *out = h;
    return rc;
}

void tg_history_free(struct tg_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        tg_snapshot_unref(h->v[i].pinned);
    for (size_t i = 0; i < TG_HISTORY_CACHE; i++) {
        tg_snapshot_unref(h->cache[i].s);
        free(h->cache[i].error);
    }
    free(h->v);
    pthread_mutex_destroy(&h->mu);
    free(h->dir);
    free(h);
}

/* ------------------------------------------------------------- lookups */

static void tg_hist_fill(const struct tg_history *h, size_t i, struct tg_history_entry *out)
{
    memcpy(out->id, h->v[i].id, 17);
    out->from_us = h->v[i].from_us;
    out->until_us = i + 1 < h->n ? h->v[i + 1].from_us : INT64_MAX;
}

size_t tg_history_len(struct tg_history *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

bool tg_history_entry(struct tg_history *h, size_t i, struct tg_history_entry *out)
{
    pthread_mutex_lock(&h->mu);
    bool ok = i < h->n;
    if (ok)
        tg_hist_fill(h, i, out);
    pthread_mutex_unlock(&h->mu);
    return ok;
}

long tg_history_find(struct tg_history *h, int64_t t_us, struct tg_history_entry *at)
{
    pthread_mutex_lock(&h->mu);
    long r = -1;
    if (h->n) {
        size_t lo = 0, hi = h->n; /* first entry from after t_us */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (h->v[mid].from_us <= t_us)
                lo = mid + 1;
            else
                hi = mid;
        }
        r = lo ? (long)lo - 1 : 0;
        tg_hist_fill(h, (size_t)r, at);
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* The cache slot of id, or NULL (mu held). */
static struct tg_hslot *tg_hist_slot(struct tg_history *h, const char *id)
{
    for (size_t i = 0; i < TG_HISTORY_CACHE; i++)
        if (strcmp(h->cache[i].id, id) == 0)
            return &h->cache[i];
    return NULL;
}

/* Put (s or error) for id in the least recently used slot (mu held); the
 * evicted snapshot is returned for the caller to unref outside the lock. */
static struct tg_snapshot *tg_hist_insert(struct tg_history *h, const char *id,
                                          struct tg_snapshot *s, char *error)
{
    struct tg_hslot *v = &h->cache[0];
    for (size_t i = 0; i < TG_HISTORY_CACHE; i++) {
        if (!h->cache[i].id[0]) {
            v = &h->cache[i];
            break;
        }
        if (h->cache[i].used < v->used)
            v = &h->cache[i];
    }
    struct tg_snapshot *evicted = v->s;
    free(v->error);
    memcpy(v->id, id, 17);
    v->s = s;
    v->error = error;
    v->used = ++h->tick;
    return evicted;
}

/* Pinned or cached (mu held): a new reference, or NULL with *err / *known. */
static struct tg_snapshot *tg_hist_lookup(struct tg_history *h, const char *id, char **err,
                                          bool *known)
{
    *known = true;
    for (size_t i = h->n; i-- > 0;)
        if (h->v[i].pinned && strcmp(h->v[i].id, id) == 0)
            return tg_snapshot_ref(h->v[i].pinned);
    struct tg_hslot *c = tg_hist_slot(h, id);
    if (!c) {
        *known = false;
        return NULL;
    }
    c->used = ++h->tick;
    if (!c->s)
        *err = tg_xstrdup(c->error);
    return tg_snapshot_ref(c->s);
}

struct tg_snapshot *tg_history_get(struct tg_history *h, const char *id, char **err)
{
    bool known;
    *err = NULL;
    pthread_mutex_lock(&h->mu);
    struct tg_snapshot *s = tg_hist_lookup(h, id, err, &known);
    pthread_mutex_unlock(&h->mu);
    if (known)
        return s;
    char *path = tg_xasprintf("%s/snapshots/%s", h->dir, id), *e = NULL;
    if (tg_snapshot_load(path, &s, &e) == 0 && strcmp(s->id, id) != 0) {
        e = tg_xasprintf("the stored copy %s of policy snapshot %s now hashes to %s: it was "
                         "changed after it was stored, so it is not used; restore it from a "
                         "backup",
                         path, id, s->id);
        tg_snapshot_unref(s);
        s = NULL;
    }
    free(path);
    pthread_mutex_lock(&h->mu);
    struct tg_snapshot *other = tg_hist_lookup(h, id, err, &known), *evicted = NULL;
    if (known) { /* another worker loaded it meanwhile */
        tg_snapshot_unref(s);
        free(e);
        s = other;
    } else {
        evicted = tg_hist_insert(h, id, tg_snapshot_ref(s), s ? NULL : tg_xstrdup(e));
        if (!s) {
            tg_err("policy history: %s", e);
            tg_metrics_inc(TG_C_HISTORY_FAILURES, 1);
            *err = e;
        }
    }
    pthread_mutex_unlock(&h->mu);
    tg_snapshot_unref(evicted);
    return s;
}

void tg_history_keep(struct tg_history *h, struct tg_snapshot *s)
{
    if (!s)
        return;
    struct tg_snapshot *evicted = NULL;
    pthread_mutex_lock(&h->mu);
    struct tg_hslot *c = tg_hist_slot(h, s->id);
    if (c && !c->s) { /* a remembered failure: this one loaded */
        evicted = c->s;
        free(c->error);
        c->error = NULL;
        c->s = tg_snapshot_ref(s);
    } else if (!c) {
        evicted = tg_hist_insert(h, s->id, tg_snapshot_ref(s), NULL);
    }
    pthread_mutex_unlock(&h->mu);
    tg_snapshot_unref(evicted);
}

/* ------------------------------------------------------------- writing */

int tg_history_stage(struct tg_history *h, const char *src, char **stage, char **err)
{
    *stage = tg_xasprintf("%s/snapshots/" TG_STAGE_PREFIX "%ld-%u", h->dir, (long)getpid(),
                          h->stage_seq++);
    if (mkdir(*stage, 0750) != 0) {
        *err = tg_xasprintf("policy history: cannot create %s: %s; make [policy] "
                            "snapshot_history_dir writable by the collector",
                            *stage, strerror(errno));
        free(*stage);
        *stage = NULL;
        return TG_EIO;
    }
    int rc = tg_snapshot_copy(src, *stage, err);
    if (rc == 0) {
        tg_hist_sync_dir(*stage);
        return 0;
    }
    tg_hist_rmdir(*stage);
    free(*stage);
    *stage = NULL;
    return rc;
}

void tg_history_discard(struct tg_history *h, const char *stage)
{
    (void)h;
    if (stage)
        tg_hist_rmdir(stage);
}

/* Append the index line for id.  0 or TG_EIO (errno set). */
static int tg_hist_append(struct tg_history *h, const char *id, int64_t from_us)
{
    char *path = tg_xasprintf("%s/%s", h->dir, TG_HISTORY_INDEX);
    char ts[32], line[64];
    struct tg_time t = {from_us / 1000000, (int32_t)(from_us % 1000000) * 1000, 6};
    tg_time_format(ts, t);
    int n = snprintf(line, sizeof(line), "%s\t%s\n", ts, id);
    int rc = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st;
    bool created = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0;
    if (fd < 0 || tg_pwrite_all(fd, line, (size_t)n, 0) != 0 || fdatasync(fd) != 0)
        rc = TG_EIO;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && created)
        tg_hist_sync_dir(h->dir);
    free(path);
    errno = e;
    return rc;
}

int tg_history_commit(struct tg_history *h, const char *stage, const struct tg_snapshot *s,
                      int64_t from_us, char **err)
{
    char *final = tg_xasprintf("%s/snapshots/%s", h->dir, s->id);
    int rc = 0;
    if (rename(stage, final) == 0) {
        char *snapdir = tg_xasprintf("%s/snapshots", h->dir);
        tg_hist_sync_dir(snapdir);
        free(snapdir);
    } else if (errno == EEXIST || errno == ENOTEMPTY) {
        tg_hist_rmdir(stage); /* stored before: same id, same bytes */
    } else {
        *err = tg_xasprintf("cannot store it as %s: %s", final, strerror(errno));
        tg_hist_rmdir(stage);
        rc = TG_EIO;
    }
    pthread_mutex_lock(&h->mu);
    bool same = h->n && strcmp(h->v[h->n - 1].id, s->id) == 0;
    pthread_mutex_unlock(&h->mu);
    if (rc == 0 && !same && tg_hist_append(h, s->id, from_us) != 0) {
        *err =
            tg_xasprintf("cannot append to %s/%s: %s", h->dir, TG_HISTORY_INDEX, strerror(errno));
        rc = TG_EIO;
    }
    if (rc == 0) {
        pthread_mutex_lock(&h->mu);
        tg_hist_push(h, s->id, from_us, NULL);
        pthread_mutex_unlock(&h->mu);
    }
    free(final);
    return rc;
}

void tg_history_pin(struct tg_history *h, struct tg_snapshot *s, int64_t from_us)
{
    pthread_mutex_lock(&h->mu);
    tg_hist_push(h, s->id, from_us, s);
    pthread_mutex_unlock(&h->mu);
}
