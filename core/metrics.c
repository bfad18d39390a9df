/*
 * metrics.c - counters registry, Prometheus exposition, /metrics server and
 * the periodic summary line.  See metrics.h.
 *
 * Counters and gauges are arrays of relaxed atomics indexed by the enums;
 * each has a row in tg_counter_rows/tg_gauge_rows giving its family name,
 * one label (or none) and help text.  Rows of one family are adjacent, so
 * the renderer writes # HELP / # TYPE once per family.  The snapshot id is
 * a string (an info metric); it lives under a mutex.  Inputs register
 * their counters once (tg_metrics_input: a fixed table, appended to under a
 * mutex and published by its count, never freed, so a renderer never sees
 * a stopped input's memory go); a listener's sessions are counted at scrape
 * time from /proc (core/sockinfo.h), as librelp reports no sessions.
 *
 * The HTTP server is libmicrohttpd with its own polling thread; it only
 * renders into a fresh buffer per request.  /healthz and /readyz are
 * answered by core/health.c when the caller hands one in.  The summary line comes from a
 * small thread sleeping on a condition variable, so stop() wakes it at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/buildinfo.h"
#include "core/errors.h"
#include "core/health.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/sockinfo.h"

struct tg_metric_row {
    const char *family; /* without the trailguard_ prefix and _total suffix */
    const char *label;  /* label="value", or NULL */
    const char *help;
    bool optional; /* gauges: not exposed until set */
};

static const struct tg_metric_row tg_counter_rows[TG_C_COUNT_] = {
    [TG_C_PARSED_SYSLOG] = {"events_parsed", "dataset=\"syslog\"",
                            "events recognised by the parsers (status ok or partial), by dataset"},
    [TG_C_PARSED_SNOOPY] = {"events_parsed", "dataset=\"snoopy\"", NULL},
    [TG_C_PARSED_PERCONA] = {"events_parsed", "dataset=\"percona.audit\"", NULL},
    [TG_C_PARSED_INTERNAL] = {"events_parsed", "dataset=\"trailguard\"", NULL},
    [TG_C_PARSED_SUDO] = {"events_parsed", "dataset=\"sudo\"", NULL},
    [TG_C_PARTIAL] = {"events_partial", NULL,
                      "events kept with trailguard.parse.status partial (truncated or malformed)"},
    [TG_C_UNPARSED] = {"events_unparsed", NULL,
                       "events no parser recognised, kept with status unparsed"},
    [TG_C_DECISION_ALLOW] = {"policy_decisions", "decision=\"allow\"",
                             "policy verdicts, by decision"},
    [TG_C_DECISION_DENY] = {"policy_decisions", "decision=\"deny\"", NULL},
    [TG_C_DECISION_NOT_APPLICABLE] = {"policy_decisions", "decision=\"not_applicable\"", NULL},
    [TG_C_SNAPSHOT_LOAD_FAILURES] =
        {"policy_snapshot_load_failures", NULL,
         "policy snapshot loads that failed (the previous one is kept)"},
    [TG_C_SPOOL_FULL_WAITS] = {"spool_full_waits", NULL,
                               "records that waited for room in a full spool (spool_max_bytes): "
                               "backpressure on the inputs"},
    [TG_C_RECORDS_TRUNCATED] = {"records_truncated", NULL,
                                "records received longer than max_message (or the line limit), "
                                "kept cut and marked partial"},
    [TG_C_SPOOL_SYNC_FAILURES] = {"spool_sync_failures", NULL,
                                  "spool fdatasyncs that failed: the records they covered were "
                                  "not acknowledged (the senders retry into a new segment)"},
    [TG_C_SPOOL_DROPPED_UNCONFIGURED] = {"spool_records_dropped", "reason=\"sink_removed\"",
                                         "spooled records dropped undelivered, by reason: "
                                         "sink_removed = owed only to sinks no longer configured"},
    [TG_C_INTERNAL_DROPPED] = {"internal_records_dropped", NULL,
                               "trailguard's own records (checkpoints, ...) dropped because the "
                               "internal source's queue was full (or no spool kept them at "
                               "shutdown)"},
    [TG_C_HISTORY_FAILURES] = {"policy_history_failures", NULL,
                               "snapshot history problems: a snapshot or index line that could "
                               "not be stored, read or loaded (logged)"},
    [TG_C_GRACE_ALLOWED] = {"policy_grace_allowed", NULL,
                            "events allowed by the previous snapshot within grace_seconds of a "
                            "change that the snapshot in force does not allow"},
    [TG_C_DRIFT_HOST_ALLOWED] = {"policy_drift", "kind=\"host_allowed\"",
                                 "events on which the host's own decision (its sudo) differs "
                                 "from the policy's: host_allowed (a local rule or a stale "
                                 "cache), host_denied"},
    [TG_C_DRIFT_HOST_DENIED] = {"policy_drift", "kind=\"host_denied\"", NULL},
};

static const struct tg_metric_row tg_gauge_rows[TG_G_COUNT_] = {
    [TG_G_SPOOL_BYTES] = {"spool_bytes", NULL,
                          "bytes of spool segments on disk (a segment goes once every sink "
                          "confirmed all its records)"},
    [TG_G_SPOOL_MAPPED] = {"spool_mapped_bytes", NULL,
                           "bytes of spool files mapped into the collector's memory and counted "
                           "in its resident size (the part of the active segment written since "
                           "its last release, and the confirmation bitmaps); page cache, not "
                           "heap"},
    [TG_G_SPOOL_MAX_BYTES] = {"spool_max_bytes", NULL,
                              "spool capacity (spool_max_bytes): at spool_bytes near it the "
                              "inputs are blocked"},
    [TG_G_SNAPSHOT_LOADED] = {"policy_snapshot_loaded_timestamp_seconds", NULL,
                              "unix time the current policy snapshot was loaded"},
    [TG_G_START_TIME] = {"start_time_seconds", NULL,
                         "unix time the collector started (uptime: time() - this)"},
    [TG_G_STORE_HEAD_AGE] = {"store_head_age_seconds", "sink=\"file\"",
                             "seconds since the file store last stored a flush (chain.head "
                             "written)",
                             true},
};

/* Counters are sharded: each thread adds to its own shard (a cache line of
 * its own), a reader sums them.  A shared row was a cache line the workers
 * took from each other three times an event. */
#define TG_METRIC_SHARDS 16
struct tg_counter_shard {
    _Alignas(64) atomic_uint_fast64_t v[TG_C_COUNT_];
};
static struct tg_counter_shard tg_counters[TG_METRIC_SHARDS];
static atomic_uint tg_next_shard;
static _Thread_local unsigned tg_shard = UINT_MAX;
static atomic_int_fast64_t tg_gauges[TG_G_COUNT_];
static atomic_bool tg_gauge_isset[TG_G_COUNT_];

#define TG_METRICS_MAX_INPUTS 64
static struct tg_metrics_input {
    char label[64];
    uint16_t port;
    struct tg_input_counters c;
} tg_inputs[TG_METRICS_MAX_INPUTS];
static atomic_size_t tg_ninputs; /* entries below are complete */
static pthread_mutex_t tg_inputs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tg_snapshot_mu = PTHREAD_MUTEX_INITIALIZER;
static char *tg_snapshot_id;

void tg_metrics_inc(enum tg_counter c, uint64_t n)
{
    if (tg_shard == UINT_MAX)
        tg_shard = atomic_fetch_add(&tg_next_shard, 1) % TG_METRIC_SHARDS;
    atomic_fetch_add_explicit(&tg_counters[tg_shard].v[c], n, memory_order_relaxed);
}

uint64_t tg_metrics_get(enum tg_counter c)
{
    uint64_t n = 0;
    for (int i = 0; i < TG_METRIC_SHARDS; i++)
        n += atomic_load_explicit(&tg_counters[i].v[c], memory_order_relaxed);
    return n;
}

void tg_metrics_set(enum tg_gauge g, int64_t v)
{
    atomic_store_explicit(&tg_gauges[g], v, memory_order_relaxed);
    atomic_store_explicit(&tg_gauge_isset[g], true, memory_order_relaxed);
}

void tg_metrics_unset(enum tg_gauge g)
{
    atomic_store_explicit(&tg_gauge_isset[g], false, memory_order_relaxed);
}

struct tg_input_counters *tg_metrics_input(const char *label, uint16_t port)
{
    struct tg_input_counters *c = NULL;
    pthread_mutex_lock(&tg_inputs_mu);
    size_t n = atomic_load(&tg_ninputs);
    for (size_t i = 0; i < n && !c; i++)
        if (strcmp(tg_inputs[i].label, label) == 0)
            c = &tg_inputs[i].c;
    if (!c && n < TG_METRICS_MAX_INPUTS) {
        snprintf(tg_inputs[n].label, sizeof(tg_inputs[n].label), "%s", label);
        tg_inputs[n].port = port;
        c = &tg_inputs[n].c;
        atomic_store(&tg_ninputs, n + 1); /* publishes the entry to the renderers */
    } else if (!c) {
        tg_warn("metrics: more than %d inputs: %s is not counted in /metrics",
                TG_METRICS_MAX_INPUTS, label);
    }
    pthread_mutex_unlock(&tg_inputs_mu);
    return c;
}

void tg_metrics_input_add(struct tg_input_counters *c, uint64_t n)
{
    if (!c)
        return;
    atomic_fetch_add_explicit(&c->records, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->bytes, n, memory_order_relaxed);
}

int64_t tg_metrics_gauge(enum tg_gauge g)
{
    return atomic_load_explicit(&tg_gauges[g], memory_order_relaxed);
}

void tg_metrics_set_snapshot(const char *id, int64_t loaded_unix)
{
    pthread_mutex_lock(&tg_snapshot_mu);
    bool changed = !id || !tg_snapshot_id || strcmp(id, tg_snapshot_id) != 0;
    if (changed) {
        free(tg_snapshot_id);
        tg_snapshot_id = id ? tg_xstrdup(id) : NULL;
        tg_metrics_set(TG_G_SNAPSHOT_LOADED, id ? loaded_unix : 0);
    }
    pthread_mutex_unlock(&tg_snapshot_mu);
}

void tg_metrics_count_event(const struct tg_event *ev)
{
    static const enum tg_counter by_dataset[] = {[TG_DS_SYSLOG] = TG_C_PARSED_SYSLOG,
                                                 [TG_DS_SNOOPY] = TG_C_PARSED_SNOOPY,
                                                 [TG_DS_PERCONA] = TG_C_PARSED_PERCONA,
                                                 [TG_DS_INTERNAL] = TG_C_PARSED_INTERNAL,
                                                 [TG_DS_SUDO] = TG_C_PARSED_SUDO};
    static const enum tg_counter by_decision[] = {[TG_DECISION_ALLOW] = TG_C_DECISION_ALLOW,
                                                  [TG_DECISION_DENY] = TG_C_DECISION_DENY,
                                                  [TG_DECISION_NOT_APPLICABLE] =
                                                      TG_C_DECISION_NOT_APPLICABLE};
    if (ev->parse_status == TG_PARSE_UNPARSED) {
        tg_metrics_inc(TG_C_UNPARSED, 1);
    } else {
        tg_metrics_inc(by_dataset[ev->dataset], 1);
        if (ev->parse_status == TG_PARSE_PARTIAL)
            tg_metrics_inc(TG_C_PARTIAL, 1);
    }
    if (ev->policy.decision != TG_DECISION_NONE)
        tg_metrics_inc(by_decision[ev->policy.decision], 1);
    if (ev->policy.drift)
        tg_metrics_inc(ev->host_decision == TG_DECISION_ALLOW ? TG_C_DRIFT_HOST_ALLOWED
                                                              : TG_C_DRIFT_HOST_DENIED,
                       1);
}

void tg_metrics_label(struct tg_buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            tg_buf_putc(out, '\\');
        if (*v == '\n') {
            tg_buf_puts(out, "\\n");
            continue;
        }
        tg_buf_putc(out, *v);
    }
}

static void tg_metrics_family(struct tg_buf *out, const char *name, const char *type,
                              const char *help)
{
    tg_buf_printf(out, "# HELP trailguard_%s %s\n# TYPE trailguard_%s %s\n", name, help, name,
                  type);
}

static void tg_metrics_rows(struct tg_buf *out, const struct tg_metric_row *rows, size_t n,
                            bool counter)
{
    for (size_t i = 0; i < n; i++) {
        const char *suffix = counter ? "_total" : "";
        if (!counter && rows[i].optional && !atomic_load(&tg_gauge_isset[i]))
            continue;
        if (i == 0 || strcmp(rows[i].family, rows[i - 1].family) != 0) {
            char name[128];
            snprintf(name, sizeof(name), "%s%s", rows[i].family, suffix);
            tg_metrics_family(out, name, counter ? "counter" : "gauge", rows[i].help);
        }
        tg_buf_printf(out, "trailguard_%s%s", rows[i].family, suffix);
        if (rows[i].label)
            tg_buf_printf(out, "{%s}", rows[i].label);
        if (counter)
            tg_buf_printf(out, " %" PRIu64 "\n", tg_metrics_get((enum tg_counter)i));
        else
            tg_buf_printf(out, " %" PRId64 "\n", tg_metrics_gauge((enum tg_gauge)i));
    }
}

/* One sink counter family: name, help, which field. */
static void tg_metrics_sink_family(struct tg_buf *out, struct tg_pipeline *p, const char *name,
                                   const char *help, size_t field)
{
    tg_metrics_family(out, name, "counter", help);
    for (size_t i = 0; i < tg_pipeline_sink_count(p); i++) {
        struct tg_sink *s = tg_pipeline_sink(p, i);
        atomic_uint_fast64_t *v = (atomic_uint_fast64_t *)((char *)s + field);
        tg_buf_printf(out, "trailguard_%s{sink=\"%s\"} %" PRIu64 "\n", name, s->ops->name,
                      (uint64_t)atomic_load(v));
    }
}

/* One sample name{input="LABEL"} v. */
static void tg_metrics_input_sample(struct tg_buf *out, const char *name,
                                    const struct tg_metrics_input *in, uint64_t v)
{
    tg_buf_printf(out, "trailguard_%s{input=\"", name);
    tg_metrics_label(out, in->label);
    tg_buf_printf(out, "\"} %" PRIu64 "\n", v);
}

/* The inputs' records, bytes and (for listeners) sessions. */
static void tg_metrics_inputs(struct tg_buf *out)
{
    size_t n = atomic_load(&tg_ninputs), nports = 0;
    if (!n)
        return;
    tg_metrics_family(out, "input_records_total", "counter",
                      "records each input received (and stored in the spool)");
    for (size_t i = 0; i < n; i++)
        tg_metrics_input_sample(out, "input_records_total", &tg_inputs[i],
                                (uint64_t)atomic_load(&tg_inputs[i].c.records));
    tg_metrics_family(out, "input_bytes_total", "counter",
                      "bytes of the records each input received");
    for (size_t i = 0; i < n; i++) {
        tg_metrics_input_sample(out, "input_bytes_total", &tg_inputs[i],
                                (uint64_t)atomic_load(&tg_inputs[i].c.bytes));
        nports += tg_inputs[i].port != 0;
    }
    if (!nports)
        return;
    tg_metrics_family(out, "input_sessions", "gauge",
                      "open sessions (TCP connections) of each listening input");
    for (size_t i = 0; i < n; i++) {
        struct tg_sockset set;
        if (!tg_inputs[i].port || tg_sock_find(tg_inputs[i].port, TG_TCP_ESTABLISHED, &set) != 0)
            continue;
        long held = tg_sock_held(0, &set);
        free(set.inode);
        tg_metrics_input_sample(out, "input_sessions", &tg_inputs[i],
                                held < 0 ? 0 : (uint64_t)held);
    }
}

/* trailguard_build_info{version=...,librelp=...} 1 */
static void tg_metrics_build_info(struct tg_buf *out)
{
    size_t n;
    const struct tg_build_item *bi = tg_buildinfo(&n);
    tg_metrics_family(out, "build_info", "gauge",
                      "the version, build features and linked library versions (labels; value 1)");
    tg_buf_puts(out, "trailguard_build_info{");
    for (size_t i = 0; i < n; i++) {
        tg_buf_printf(out, "%s%s=\"", i ? "," : "", bi[i].label);
        tg_metrics_label(out, bi[i].value);
        tg_buf_putc(out, '"');
    }
    tg_buf_puts(out, "} 1\n");
}

void tg_metrics_render(struct tg_pipeline *p, struct tg_buf *out)
{
    struct tg_pipeline_stats st = {0};
    if (p) {
        tg_pipeline_stats(p, &st);
        tg_metrics_family(
            out, "received_total", "counter",
            "events entering the pipeline: records from every input, and spool replays");
        tg_buf_printf(out, "trailguard_received_total %" PRIu64 "\n", st.events_in);
        tg_metrics_family(out, "deduplicated_total", "counter",
                          "events dropped as repeats of an event.id within dedup_window");
        tg_buf_printf(out, "trailguard_deduplicated_total %" PRIu64 "\n", st.duplicates);
    }
    tg_metrics_rows(out, tg_counter_rows, TG_C_COUNT_, true);
    tg_metrics_rows(out, tg_gauge_rows, TG_G_COUNT_, false);
    tg_metrics_build_info(out);
    tg_metrics_inputs(out);
    pthread_mutex_lock(&tg_snapshot_mu);
    if (tg_snapshot_id) {
        tg_metrics_family(out, "policy_snapshot_info", "gauge",
                          "the policy snapshot in use (its id as a label; value 1)");
        tg_buf_puts(out, "trailguard_policy_snapshot_info{id=\"");
        tg_metrics_label(out, tg_snapshot_id);
        tg_buf_puts(out, "\"} 1\n");
    }
    pthread_mutex_unlock(&tg_snapshot_mu);
    if (!p)
        return;
    tg_metrics_family(out, "queue_depth", "gauge",
                      "batches waiting in each pipeline queue (work: for the parsers; done: for "
                      "the dispatcher; sink:NAME: for that sink)");
    tg_buf_printf(out, "trailguard_queue_depth{queue=\"work\"} %zu\n", st.work_queue);
    tg_buf_printf(out, "trailguard_queue_depth{queue=\"done\"} %zu\n", st.done_queue);
    for (size_t i = 0; i < tg_pipeline_sink_count(p); i++)
        tg_buf_printf(out, "trailguard_queue_depth{queue=\"sink:%s\"} %zu\n",
                      tg_pipeline_sink(p, i)->ops->name, tg_pipeline_sink_queue_len(p, i));
    tg_metrics_family(out, "queue_bytes", "gauge",
                      "memory the events in the pipeline hold, from the inputs to the last sink "
                      "([collector] queue_max_bytes bounds it)");
    tg_buf_printf(out, "trailguard_queue_bytes %zu\n", st.bytes);
    tg_metrics_family(out, "queue_full_waits_total", "counter",
                      "batches an input held back because queue_max_bytes was reached "
                      "(backpressure)");
    tg_buf_printf(out, "trailguard_queue_full_waits_total %" PRIu64 "\n", st.full_waits);
    tg_metrics_sink_family(out, p, "sink_delivered_total",
                           "messages each sink delivered durably (confirmed)",
                           offsetof(struct tg_sink, delivered));
    tg_metrics_sink_family(out, p, "sink_failed_total",
                           "failed deliveries (the events stay in the spool and are retried)",
                           offsetof(struct tg_sink, failed));
    tg_metrics_sink_family(out, p, "sink_retried_total",
                           "deliveries attempted again after a failure",
                           offsetof(struct tg_sink, retried));
}

void tg_metrics_summary(struct tg_pipeline *p, struct tg_buf *out)
{
    struct tg_pipeline_stats st = {0};
    if (p) {
        tg_pipeline_stats(p, &st);
        tg_buf_printf(out, "received=%" PRIu64 " deduplicated=%" PRIu64 " ", st.events_in,
                      st.duplicates);
    }
    tg_buf_printf(out,
                  "parsed: syslog=%" PRIu64 " snoopy=%" PRIu64 " percona.audit=%" PRIu64
                  " sudo=%" PRIu64 " partial=%" PRIu64 " unparsed=%" PRIu64
                  "; decisions: allow=%" PRIu64 " deny=%" PRIu64 " not_applicable=%" PRIu64
                  "; spool_bytes=%" PRId64,
                  tg_metrics_get(TG_C_PARSED_SYSLOG), tg_metrics_get(TG_C_PARSED_SNOOPY),
                  tg_metrics_get(TG_C_PARSED_PERCONA), tg_metrics_get(TG_C_PARSED_SUDO),
                  tg_metrics_get(TG_C_PARTIAL), tg_metrics_get(TG_C_UNPARSED),
                  tg_metrics_get(TG_C_DECISION_ALLOW), tg_metrics_get(TG_C_DECISION_DENY),
                  tg_metrics_get(TG_C_DECISION_NOT_APPLICABLE), tg_metrics_gauge(TG_G_SPOOL_BYTES));
    pthread_mutex_lock(&tg_snapshot_mu);
    if (tg_snapshot_id) {
        tg_buf_puts(out, "; snapshot=\"");
        tg_metrics_label(out, tg_snapshot_id);
        tg_buf_putc(out, '"');
    }
    pthread_mutex_unlock(&tg_snapshot_mu);
    if (!p)
        return;
    tg_buf_printf(out, "; queues: work=%zu done=%zu", st.work_queue, st.done_queue);
    for (size_t i = 0; i < tg_pipeline_sink_count(p); i++) {
        struct tg_sink *s = tg_pipeline_sink(p, i);
        tg_buf_printf(
            out,
            "; sink %s: delivered=%" PRIu64 " failed=%" PRIu64 " retried=%" PRIu64 " queued=%zu",
            s->ops->name, (uint64_t)atomic_load(&s->delivered), (uint64_t)atomic_load(&s->failed),
            (uint64_t)atomic_load(&s->retried), tg_pipeline_sink_queue_len(p, i));
    }
}

struct tg_metrics_server {
    struct tg_metrics_conf conf;
    struct MHD_Daemon *httpd;
    pthread_t summary;
    bool has_summary;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static enum MHD_Result tg_metrics_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                          const char *method, const char *version,
                                          const char *upload_data, size_t *upload_data_size,
                                          void **con_cls)
{
    struct tg_metrics_server *m = cls;
    unsigned code = MHD_HTTP_OK;
    struct tg_buf body = TG_BUF_INIT;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
        tg_buf_puts(&body, "only GET is supported\n");
    } else if (m->conf.health && strcmp(url, "/healthz") == 0) {
        type = "text/plain; charset=utf-8";
        code = tg_health_live(m->conf.health, &body) ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    } else if (m->conf.health && strcmp(url, "/readyz") == 0) {
        type = "text/plain; charset=utf-8";
        code = tg_health_ready(m->conf.health, &body) ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    } else if (strcmp(url, "/metrics") != 0) {
        code = MHD_HTTP_NOT_FOUND;
        tg_buf_puts(&body, m->conf.health ? "not found: see /metrics, /healthz, /readyz\n"
                                          : "not found: metrics are at /metrics\n");
    } else {
        if (m->conf.refresh)
            m->conf.refresh(m->conf.refresh_ctx);
        tg_metrics_render(m->conf.pipe, &body);
        if (m->conf.render)
            m->conf.render(m->conf.render_ctx, &body);
    }
    tg_buf_reserve(&body, 1); /* a zero-length body still gets a buffer to free */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static void tg_metrics_log_summary(struct tg_metrics_server *m)
{
    struct tg_buf line = TG_BUF_INIT;
    if (m->conf.refresh)
        m->conf.refresh(m->conf.refresh_ctx);
    tg_metrics_summary(m->conf.pipe, &line);
    if (m->conf.summary)
        m->conf.summary(m->conf.render_ctx, &line);
    tg_info("summary: %s", tg_buf_cstr(&line));
    tg_buf_free(&line);
}

static void *tg_metrics_summary_main(void *arg)
{
    struct tg_metrics_server *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += m->conf.summary_interval_s;
        while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &until) != ETIMEDOUT)
            ;
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->mu);
        tg_metrics_log_summary(m);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* libmicrohttpd's own messages (a failed connection, ...): one log line each. */
static void tg_metrics_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void tg_metrics_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    tg_warn("metrics: %s", msg);
}

/* Start libmicrohttpd on "host:port"; 0 or TG_EIO (logged). */
static int tg_metrics_listen(struct tg_metrics_server *m, const char *addr)
{
    const char *colon = strrchr(addr, ':');
    char host[256];
    size_t hlen = colon ? (size_t)(colon - addr) : 0;
    if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') { /* [v6]:port */
        addr++;
        hlen -= 2;
    }
    if (!colon || hlen >= sizeof(host)) {
        tg_err("metrics_listen = %s: expected host:port; fix [collector] metrics_listen", addr);
        return TG_EIO;
    }
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
    int gai = getaddrinfo(hlen ? host : NULL, colon + 1, &hints, &ai);
    if (gai != 0) {
        tg_err("metrics_listen = %s: cannot resolve: %s; fix [collector] metrics_listen", addr,
               gai_strerror(gai));
        return TG_EIO;
    }
    /* our own listening socket: a bind error is reported once, in our words */
    int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int err = fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
                      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0
                  ? errno
                  : 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    freeaddrinfo(ai);
    if (!err) {
        /* the logger first: libmicrohttpd warns about options before it */
        m->httpd = MHD_start_daemon(flags, 0, NULL, NULL, tg_metrics_handler, m,
                                    MHD_OPTION_EXTERNAL_LOGGER, tg_metrics_mhd_log, NULL,
                                    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 16,
                                    MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_END);
        err = m->httpd ? 0 : errno ? errno : EIO;
    }
    if (err) {
        if (fd >= 0)
            close(fd);
        tg_err("metrics_listen = %s: cannot listen: %s; choose a free address in [collector] "
               "metrics_listen, or leave it empty to disable /metrics",
               addr, strerror(err));
        return TG_EIO;
    }
    tg_info("metrics: serving http://%s/metrics", addr);
    return 0;
}

int tg_metrics_start(const struct tg_metrics_conf *conf, struct tg_metrics_server **out)
{
    struct tg_metrics_server *m = tg_xcalloc(1, sizeof(*m));
    m->conf = *conf;
    tg_metrics_set(TG_G_START_TIME, (int64_t)time(NULL));
    m->conf.listen = NULL; /* not kept: the caller's string */
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (conf->listen && conf->listen[0] && tg_metrics_listen(m, conf->listen) != 0) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return TG_EIO;
    }
    if (conf->summary_interval_s > 0)
        m->has_summary = pthread_create(&m->summary, NULL, tg_metrics_summary_main, m) == 0;
    *out = m;
    return 0;
}

void tg_metrics_stop(struct tg_metrics_server *m)
{
    if (!m)
        return;
    if (m->httpd)
        MHD_stop_daemon(m->httpd);
    if (m->has_summary) {
        pthread_mutex_lock(&m->mu);
        m->stop = true;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->summary, NULL);
        tg_metrics_log_summary(m);
    }
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
