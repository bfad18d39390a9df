/*
 * hostwatch.c - last-seen per origin host and the silence rule.  See
 * hostwatch.h.
 *
 * The table is open addressing (FNV-1a, linear probing, power-of-two
 * capacity, grown at 70% load), one heap copy of each host name; hosts are
 * never removed during a run (a silent host is exactly the one to keep).
 * A host has its last-seen time (the newest receive time of its records:
 * max, so a replayed old record does not move it back), `since` (when it
 * was loaded from the saved state: the rule counts it as seen then) and
 * its state; the first record newer than the silence marks it resumed,
 * and the next check reports it.  tg_hostwatch_check collects the
 * transitions under the lock and reports them after it, so a report may
 * log or hand a record on without holding up the workers.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errors.h"
#include "core/fileio.h"
#include "core/hostwatch.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"

#define TG_HW_NAME_MAX 255 /* longer "host names" are cut: DNS names are at most 253 */
#define TG_HW_SAVE_US  (60 * 1000000LL)

struct tg_hw_host {
    char *name; /* NULL: a free slot */
    uint64_t hash;
    int64_t last_us;        /* newest record */
    int64_t since_us;       /* loaded from the saved state: counts as seen then */
    int64_t silent_last_us; /* last_us when it went silent */
    int64_t resumed_us;     /* the first record after the silence, 0: none yet */
    bool silent;
};

struct tg_hostwatch {
    pthread_mutex_t mu; /* guards the table, untracked, dirty */
    struct tg_hw_host *v;
    size_t cap, n, max;
    int64_t silence_s;
    uint64_t untracked;
    bool warned_full, dirty;
    /* the checker thread */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    pthread_t th;
    bool running, stop;
    int interval_ms;
    char *dir;
    void (*fn)(void *ctx, const struct tg_host_change *c);
    void *ctx;
};

static uint64_t tg_hw_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

struct tg_hostwatch *tg_hostwatch_new(int64_t silence_seconds, size_t max_hosts)
{
    struct tg_hostwatch *h = tg_xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->tmu, NULL);
    pthread_cond_init(&h->tcv, NULL);
    h->silence_s = silence_seconds;
    h->max = max_hosts ? max_hosts : 1;
    h->cap = 64;
    h->v = tg_xcalloc(h->cap, sizeof(*h->v));
    return h;
}

void tg_hostwatch_free(struct tg_hostwatch *h)
{
    if (!h)
        return;
    tg_hostwatch_stop(h);
    for (size_t i = 0; i < h->cap; i++)
        free(h->v[i].name);
    free(h->v);
    free(h->dir);
    pthread_cond_destroy(&h->tcv);
    pthread_mutex_destroy(&h->tmu);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* The slot of a name: its own, or the free one where it belongs (mu held). */
static struct tg_hw_host *tg_hw_slot(struct tg_hw_host *v, size_t cap, const char *p, size_t n,
                                     uint64_t hash)
{
    for (size_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!v[i].name ||
            (v[i].hash == hash && strlen(v[i].name) == n && memcmp(v[i].name, p, n) == 0))
            return &v[i];
}

static void tg_hw_grow(struct tg_hostwatch *h)
{
    size_t cap = h->cap * 2;
    struct tg_hw_host *v = tg_xcalloc(cap, sizeof(*v));
    for (size_t i = 0; i < h->cap; i++)
        if (h->v[i].name)
            *tg_hw_slot(v, cap, h->v[i].name, strlen(h->v[i].name), h->v[i].hash) = h->v[i];
    free(h->v);
    h->v = v;
    h->cap = cap;
}

/* The host's entry, created if there is room (mu held); NULL when full. */
static struct tg_hw_host *tg_hw_get(struct tg_hostwatch *h, const char *p, size_t n)
{
    if (n > TG_HW_NAME_MAX)
        n = TG_HW_NAME_MAX;
    uint64_t hash = tg_hw_hash(p, n);
    struct tg_hw_host *e = tg_hw_slot(h->v, h->cap, p, n, hash);
    if (e->name)
        return e;
    if (h->n >= h->max) {
        h->untracked++;
        return NULL;
    }
    if ((h->n + 1) * 10 > h->cap * 7) {
        tg_hw_grow(h);
        e = tg_hw_slot(h->v, h->cap, p, n, hash);
    }
    e->name = tg_xstrndup(p, n);
    e->hash = hash;
    h->n++;
    return e;
}

void tg_hostwatch_seen(struct tg_hostwatch *h, struct tg_str host, int64_t t_us)
{
    if (!host.p || host.len == 0)
        return;
    pthread_mutex_lock(&h->mu);
    struct tg_hw_host *e = tg_hw_get(h, host.p, host.len);
    bool warn = !e && !h->warned_full;
    if (e) {
        if (t_us > e->last_us)
            e->last_us = t_us;
        if (e->silent && !e->resumed_us && t_us > e->silent_last_us)
            e->resumed_us = t_us;
        h->dirty = true;
    } else {
        h->warned_full = true;
    }
    pthread_mutex_unlock(&h->mu);
    if (warn)
        tg_warn("hostwatch: %zu hosts tracked, the limit: records of further hosts are not "
                "watched for silence (trailguard_hosts_untracked_total counts them)",
                h->max);
}

void tg_hostwatch_event(struct tg_hostwatch *h, const struct tg_event *ev)
{
    if (!h || (ev->input.type && strcmp(ev->input.type, "internal") == 0))
        return;
    struct tg_str origin = ev->host_name.p ? ev->host_name : ev->input.peer;
    tg_hostwatch_seen(h, origin, ev->ingested.sec * 1000000 + ev->ingested.nsec / 1000);
}

size_t tg_hostwatch_check(struct tg_hostwatch *h, int64_t now_us,
                          void (*fn)(void *ctx, const struct tg_host_change *c), void *ctx)
{
    struct tg_host_change *ch = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->cap; i++) {
        struct tg_hw_host *e = &h->v[i];
        if (!e->name)
            continue;
        struct tg_host_change c = {.host = NULL, .silence_seconds = h->silence_s};
        int64_t seen = e->last_us > e->since_us ? e->last_us : e->since_us;
        if (e->silent && e->resumed_us) {
            c.what = TG_HOST_RESUMED;
            c.last_seen_us = e->silent_last_us;
            c.resumed_us = e->resumed_us;
            c.quiet_seconds = (e->resumed_us - e->silent_last_us) / 1000000;
            e->silent = false;
            e->resumed_us = 0;
        } else if (!e->silent && h->silence_s > 0 && now_us - seen > h->silence_s * 1000000) {
            c.what = TG_HOST_SILENT;
            c.last_seen_us = e->last_us;
            c.quiet_seconds = (now_us - e->last_us) / 1000000;
            e->silent = true;
            e->silent_last_us = e->last_us;
            e->resumed_us = 0;
        } else {
            continue;
        }
        c.host = tg_xstrdup(e->name);
        ch = tg_xgrow(ch, n, &cap, sizeof(*ch), 8);
        ch[n++] = c;
    }
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < n; i++) {
        if (fn)
            fn(ctx, &ch[i]);
        free((char *)ch[i].host);
    }
    free(ch);
    return n;
}

int64_t tg_hostwatch_last_seen(struct tg_hostwatch *h, const char *host, bool *silent)
{
    pthread_mutex_lock(&h->mu);
    size_t n = strlen(host);
    struct tg_hw_host *e = tg_hw_slot(h->v, h->cap, host, n, tg_hw_hash(host, n));
    int64_t t = e->name ? e->last_us : -1;
    if (silent)
        *silent = e->name && e->silent;
    pthread_mutex_unlock(&h->mu);
    return t;
}

void tg_hostwatch_render(struct tg_hostwatch *h, struct tg_buf *out)
{
    pthread_mutex_lock(&h->mu);
    tg_buf_puts(out, "# HELP trailguard_host_last_seen_seconds unix time of the newest record "
                     "received from each origin host\n"
                     "# TYPE trailguard_host_last_seen_seconds gauge\n");
    for (size_t i = 0; i < h->cap; i++)
        if (h->v[i].name) {
            tg_buf_puts(out, "trailguard_host_last_seen_seconds{host=\"");
            tg_metrics_label(out, h->v[i].name);
            tg_buf_printf(out, "\"} %.3f\n", (double)h->v[i].last_us / 1e6);
        }
    tg_buf_puts(out, "# HELP trailguard_host_silent 1 while a host that was sending has sent "
                     "nothing for longer than [collector] silence_seconds\n"
                     "# TYPE trailguard_host_silent gauge\n");
    for (size_t i = 0; i < h->cap; i++)
        if (h->v[i].name) {
            tg_buf_puts(out, "trailguard_host_silent{host=\"");
            tg_metrics_label(out, h->v[i].name);
            tg_buf_printf(out, "\"} %d\n", h->v[i].silent ? 1 : 0);
        }
    tg_buf_printf(out,
                  "# HELP trailguard_hosts_untracked_total records of hosts past the watch's "
                  "limit, not watched for silence\n"
                  "# TYPE trailguard_hosts_untracked_total counter\n"
                  "trailguard_hosts_untracked_total %" PRIu64 "\n",
                  h->untracked);
    pthread_mutex_unlock(&h->mu);
}

void tg_hostwatch_describe(const struct tg_host_change *c, struct tg_buf *message,
                           struct tg_buf *data)
{
    char last[32], resumed[32];
    tg_time_format(last, (struct tg_time){c->last_seen_us / 1000000,
                                          (int32_t)(c->last_seen_us % 1000000) * 1000, 6});
    tg_time_format(resumed, (struct tg_time){c->resumed_us / 1000000,
                                             (int32_t)(c->resumed_us % 1000000) * 1000, 6});
    if (c->what == TG_HOST_SILENT)
        tg_buf_printf(message,
                      "host %s has sent nothing for %" PRId64 " s (its last record arrived at "
                      "%s; [collector] silence_seconds %" PRId64
                      "): check that snoopy and rsyslog still run there",
                      c->host, c->quiet_seconds, last, c->silence_seconds);
    else
        tg_buf_printf(message,
                      "host %s is sending again after %" PRId64 " s of silence (last record "
                      "before it %s, first after it %s)",
                      c->host, c->quiet_seconds, last, resumed);
    struct tg_jw w;
    tg_jw_begin(&w, data);
    tg_jw_cstr(&w, "host", c->host);
    tg_jw_cstr(&w, "state", c->what == TG_HOST_SILENT ? "silent" : "resumed");
    tg_jw_cstr(&w, "last_seen", last);
    if (c->what == TG_HOST_RESUMED)
        tg_jw_cstr(&w, "resumed", resumed);
    tg_jw_int(&w, "quiet_seconds", c->quiet_seconds);
    tg_jw_int(&w, "silence_seconds", c->silence_seconds);
    tg_jw_end(&w);
}

/* ------------------------------------------------------ saved state */

int tg_hostwatch_save(struct tg_hostwatch *h, const char *dir)
{
    struct tg_buf b = TG_BUF_INIT;
    tg_buf_puts(&b, "# trailguard hostwatch: origin host <TAB> last record (microseconds since "
                    "the epoch)\n");
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->cap; i++)
        if (h->v[i].name && !strpbrk(h->v[i].name, "\t\n"))
            tg_buf_printf(&b, "%s\t%" PRId64 "\n", h->v[i].name,
                          h->v[i].last_us > h->v[i].since_us ? h->v[i].last_us : h->v[i].since_us);
    h->dirty = false;
    pthread_mutex_unlock(&h->mu);
    char *path = tg_xasprintf("%s/%s", dir, TG_HOSTWATCH_FILE);
    int rc = tg_file_replace(path, b.data, b.len, 0640, true);
    if (rc != 0)
        tg_warn("hostwatch: cannot save %s: %s; after a restart, hosts quiet since then are "
                "not known",
                path, strerror(errno));
    free(path);
    tg_buf_free(&b);
    return rc;
}

int tg_hostwatch_load(struct tg_hostwatch *h, const char *dir, int64_t now_us)
{
    char *path = tg_xasprintf("%s/%s", dir, TG_HOSTWATCH_FILE);
    FILE *f = fopen(path, "re");
    int rc = 0;
    if (!f) {
        rc = errno == ENOENT ? 0 : TG_EIO;
        if (rc)
            tg_warn("hostwatch: cannot read %s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    char line[512];
    pthread_mutex_lock(&h->mu);
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t'), *end;
        if (line[0] == '#' || !tab)
            continue;
        long long t = strtoll(tab + 1, &end, 10);
        if (end == tab + 1 || (*end != '\n' && *end != '\0'))
            continue;
        struct tg_hw_host *e = tg_hw_get(h, line, (size_t)(tab - line));
        if (!e)
            break;
        if (t > e->last_us)
            e->last_us = t;
        e->since_us = now_us;
    }
    pthread_mutex_unlock(&h->mu);
    fclose(f);
    free(path);
    return rc;
}

/* ----------------------------------------------------------- the thread */

static int64_t tg_hw_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *tg_hw_main(void *arg)
{
    struct tg_hostwatch *h = arg;
    int64_t saved = tg_hw_now_us();
    pthread_mutex_lock(&h->tmu);
    while (!h->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(h->interval_ms % 1000) * 1000000L;
        until.tv_sec += h->interval_ms / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!h->stop && pthread_cond_timedwait(&h->tcv, &h->tmu, &until) != ETIMEDOUT)
            ;
        if (h->stop)
            break;
        pthread_mutex_unlock(&h->tmu);
        int64_t now = tg_hw_now_us();
        tg_hostwatch_check(h, now, h->fn, h->ctx);
        pthread_mutex_lock(&h->mu);
        bool dirty = h->dirty;
        pthread_mutex_unlock(&h->mu);
        if (h->dir && dirty && now - saved >= TG_HW_SAVE_US) {
            tg_hostwatch_save(h, h->dir);
            saved = now;
        }
        pthread_mutex_lock(&h->tmu);
    }
    pthread_mutex_unlock(&h->tmu);
    return NULL;
}

void tg_hostwatch_start(struct tg_hostwatch *h, int interval_ms, const char *dir,
                        void (*fn)(void *ctx, const struct tg_host_change *c), void *ctx)
{
    h->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    h->dir = dir ? tg_xstrdup(dir) : NULL;
    h->fn = fn;
    h->ctx = ctx;
    h->stop = false;
    h->running = pthread_create(&h->th, NULL, tg_hw_main, h) == 0;
}

void tg_hostwatch_stop(struct tg_hostwatch *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->tmu);
    h->stop = true;
    pthread_cond_signal(&h->tcv);
    pthread_mutex_unlock(&h->tmu);
    pthread_join(h->th, NULL);
    h->running = false;
    if (h->dir)
        tg_hostwatch_save(h, h->dir);
}
