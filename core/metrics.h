/*
 * metrics.h - process-wide counters, the Prometheus /metrics endpoint and
 * the once-a-minute summary log line (SPEC.md section 9).
 *
 * The registry is a fixed enum of counters and gauges (one row each in the
 * table in metrics.c: name, label, help), stored as relaxed atomics: any
 * thread increments, the HTTP thread and the summary thread read.  Values
 * the pipeline already keeps (received, deduplicated, queue depths, sink
 * delivered/failed/retried) are read from it at scrape time, not copied.
 * To add a metric: one enum row here, one table row in metrics.c, and the
 * increment where it happens.
 */
#ifndef TG_METRICS_H
#define TG_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/pipeline.h"

/* Monotonic counters (exposed as *_total). */
enum tg_counter {
    TG_C_PARSED_SYSLOG = 0, /* events by dataset, parse status ok or partial */
    TG_C_PARSED_SNOOPY,
    TG_C_PARSED_PERCONA,
    TG_C_PARSED_INTERNAL,
    TG_C_PARSED_SUDO,
    TG_C_PARTIAL,  /* parse status partial */
    TG_C_UNPARSED, /* parse status unparsed */
    TG_C_DECISION_ALLOW,
    TG_C_DECISION_DENY,
    TG_C_DECISION_NOT_APPLICABLE,
    TG_C_SNAPSHOT_LOAD_FAILURES,     /* policy snapshot loads that failed (old one kept) */
    TG_C_SPOOL_FULL_WAITS,           /* appends that waited for spool_max_bytes room */
    TG_C_RECORDS_TRUNCATED,          /* records cut at max_message or the line limit */
    TG_C_SPOOL_SYNC_FAILURES,        /* spool fdatasync/fsync calls that failed */
    TG_C_SPOOL_DROPPED_UNCONFIGURED, /* spooled records only removed sinks still owed */
    TG_C_INTERNAL_DROPPED,           /* internal records the internal source could not take */
    TG_C_HISTORY_FAILURES,   /* snapshot history: copies or index lines not stored or read */
    TG_C_GRACE_ALLOWED,      /* allowed by the previous snapshot within grace_seconds */
    TG_C_DRIFT_HOST_ALLOWED, /* a host allowed what the policy denies */
    TG_C_DRIFT_HOST_DENIED,  /* a host denied what the policy allows */
    TG_C_COUNT_
};

/* Gauges: set to the current value by their owner.  The optional ones are
 * not exposed until they are set (tg_metrics_unset hides one again). */
enum tg_gauge {
    TG_G_SPOOL_BYTES = 0, /* spool size on disk (the spool sets it) */
    TG_G_SPOOL_MAPPED,    /* bytes of spool files mapped into the process (resident) */
    TG_G_SPOOL_MAX_BYTES, /* spool_max_bytes */
    TG_G_SNAPSHOT_LOADED, /* unix time the policy snapshot was loaded */
    TG_G_START_TIME,      /* unix time the collector started (tg_metrics_start) */
    TG_G_STORE_HEAD_AGE,  /* optional: seconds since the file store's last flush */
    TG_G_COUNT_
};

/* Add n to a counter.  Any thread. */
void tg_metrics_inc(enum tg_counter c, uint64_t n);
uint64_t tg_metrics_get(enum tg_counter c);
/* Set a gauge.  Any thread. */
void tg_metrics_set(enum tg_gauge g, int64_t v);
void tg_metrics_unset(enum tg_gauge g);
int64_t tg_metrics_gauge(enum tg_gauge g);

/* Counters of one input, exposed with label input="LABEL". */
struct tg_input_counters {
    atomic_uint_fast64_t records, bytes;
};
/*
 * The counters of the input `label` (its section, e.g. "input.relp" or
 * "input.relp.tls", or "omprog"), created at the first call and kept for
 * the life of the process (an input started again continues its counts).
 * port: the TCP port it listens on, whose established connections held by
 * this process /metrics counts as its sessions; 0 for none.  At most 64
 * inputs; past that NULL is returned and logged once, and the caller
 * counts elsewhere.  The intake calls it for each source that names a row
 * (ingest/intake.h) and counts there.  Any thread.
 */
struct tg_input_counters *tg_metrics_input(const char *label, uint16_t port);
/* Count one record of n bytes on c (NULL: nothing).  Any thread. */
void tg_metrics_input_add(struct tg_input_counters *c, uint64_t n);
/* Record the policy snapshot in use (id copied).  The load time is set to
 * loaded_unix only when the id differs from the one recorded before, so a
 * caller may report the current snapshot on every refresh.  NULL forgets
 * it.  Any thread. */
void tg_metrics_set_snapshot(const char *id, int64_t loaded_unix);

/* Count a finished event: dataset, parse status, decision.  Worker threads,
 * after tg_event_finish (tools/process.c calls it). */
void tg_metrics_count_event(const struct tg_event *ev);

/* Append v as a label value, escaped per the exposition format (\\, \",
 * \n).  Any thread. */
void tg_metrics_label(struct tg_buf *out, const char *v);

/* Append the Prometheus text exposition (version 0.0.4) of every metric;
 * `p` may be NULL (then the pipeline's metrics are omitted).  Any thread. */
void tg_metrics_render(struct tg_pipeline *p, struct tg_buf *out);
/* Append the one-line summary of the same totals (no newline).  Any thread. */
void tg_metrics_summary(struct tg_pipeline *p, struct tg_buf *out);

struct tg_metrics_server;
struct tg_health;

struct tg_metrics_conf {
    const char *listen;       /* "host:port"; NULL or "" serves nothing */
    struct tg_pipeline *pipe; /* borrowed until tg_metrics_stop; may be NULL */
    int summary_interval_s;   /* summary log line period; 0: never */
    /* Called (HTTP or summary thread) before each rendering, to set gauges
     * from their owners (e.g. spool bytes, the policy snapshot); may be NULL. */
    void (*refresh)(void *ctx);
    void *refresh_ctx;
    /* Called (HTTP thread) after the registry's metrics, to append families
     * with labels of their own (e.g. one series per origin host); may be NULL. */
    void (*render)(void *ctx, struct tg_buf *out);
    void *render_ctx;
    /* Called (summary thread) after the summary line's totals, to append a
     * part of its own (e.g. the [filter] rules' counts); may be NULL.  It
     * uses render_ctx. */
    void (*summary)(void *ctx, struct tg_buf *line);
    struct tg_health *health; /* /healthz and /readyz (core/health.h); NULL: 404 */
};

/*
 * Serve GET /metrics (and /healthz, /readyz) and log the summary line per
 * `conf` (copied); sets the start-time gauge.  0, or
 * TG_EIO when the address cannot be bound (logged with the address and
 * what to do).  Main thread.
 */
int tg_metrics_start(const struct tg_metrics_conf *conf, struct tg_metrics_server **out);
/* Stop serving, log a last summary line, free.  NULL is a no-op. */
void tg_metrics_stop(struct tg_metrics_server *m);

#endif
