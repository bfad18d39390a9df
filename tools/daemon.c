/*
 * daemon.c - the set-up shared by `serve` and `omprog`.  See daemon.h.
 *
 * The intake owns the parse contexts (one per format, built from
 * [parsers]); a source passes the format its records use and the intake
 * stores it with each record, so the worker parses an event with its
 * source's context (ev->parser), and a replayed record as it would have
 * been when it was read.  The announce hook of the pipeline goes to the
 * internal source, which feeds the intake like any other source.
 *
 * Every processed event updates its origin host's last-seen time
 * (core/hostwatch.h); a thread of the watch applies the silence rule every
 * second, and each transition is logged and becomes a trailguard.health
 * record for every sink (tg_daemon_emit, through the internal source); the
 * times are kept in spool_dir across restarts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errors.h"
#include "core/internal_rec.h"
#include "core/log.h"
#include "ingest/in_internal.h"
#include "policy/policy.h"
#include "policy/snapshot.h"
#include "sinks/sinks.h"
#include "tools/daemon.h"
#include "tools/registry.h"

/* Origin hosts watched for silence, and how often the rule is applied. */
#define TG_DAEMON_MAX_HOSTS    65536
#define TG_DAEMON_HOSTWATCH_MS 1000

/* Metrics refresh (HTTP or summary thread): gauges owned by the spool, the
 * policy stage and the file store. */
static void tg_daemon_refresh_metrics(void *ctx)
{
    struct tg_daemon *d = ctx;
    struct tg_spool_stats ss;
    tg_spool_stats(d->spool, &ss);
    tg_metrics_set(TG_G_SPOOL_BYTES, (int64_t)ss.bytes);
    tg_metrics_set(TG_G_SPOOL_MAPPED, (int64_t)ss.mapped);
    tg_metrics_set(TG_G_SPOOL_MAX_BYTES, d->cc->spool_max_bytes);
    const struct tg_section *store = NULL;
    for (size_t i = 0; i < d->cfg->n; i++)
        if (d->cfg->sections[i].def == &tg_sink_file_section)
            store = &d->cfg->sections[i];
    int64_t age = store ? tg_store_head_age(tg_config_str(store, "dir")) : -1;
    if (age >= 0)
        tg_metrics_set(TG_G_STORE_HEAD_AGE, age);
    else
        tg_metrics_unset(TG_G_STORE_HEAD_AGE);
    struct tg_snapshot *snap = d->chain.policy ? tg_policy_acquire(d->chain.policy) : NULL;
    if (snap) { /* a new id: its load time is now (about: within one refresh) */
        tg_metrics_set_snapshot(snap->id, (int64_t)time(NULL));
        tg_snapshot_unref(snap);
    }
}

/* Hand one of trailguard's own records (dataset "trailguard.<name>",
 * action, a sentence, the data object as JSON text) to every sink through
 * the internal source, which spools it.  Any thread; never blocks (a full
 * queue drops it, counted by the source). */
static void tg_daemon_emit(const char *dataset, const char *action, const char *message,
                           struct tg_str data)
{
    struct tg_buf rec = TG_BUF_INIT;
    tg_internal_rec_build(&rec, dataset, action, message, data);
    tg_internal_emit(rec.data, rec.len);
    tg_buf_free(&rec);
}

/* The hostwatch thread: a host went silent or resumed. */
static void tg_daemon_host_change(void *ctx, const struct tg_host_change *c)
{
    const struct tg_daemon *d = ctx;
    struct tg_buf msg = TG_BUF_INIT, data = TG_BUF_INIT;
    tg_hostwatch_describe(c, &msg, &data);
    const char *action = c->what == TG_HOST_SILENT ? "host_silent" : "host_resumed";
    tg_log(c->what == TG_HOST_SILENT ? TG_LOG_WARN : TG_LOG_INFO, "%s: trailguard.health: %s: %s",
           d->cmd, action, tg_buf_cstr(&msg));
    tg_daemon_emit("trailguard.health", action, tg_buf_cstr(&msg),
                   tg_str_make(data.data, data.len));
    tg_buf_free(&msg);
    tg_buf_free(&data);
}

/* /metrics: the series with labels of their own (per origin host, per
 * [filter] rule). */
static void tg_daemon_render_hosts(void *ctx, struct tg_buf *out)
{
    const struct tg_daemon *d = ctx;
    tg_hostwatch_render(d->chain.hosts, out);
    tg_sieve_render(d->chain.sieve, out);
}

/* The summary line: what the [filter] rules did. */
static void tg_daemon_summary(void *ctx, struct tg_buf *line)
{
    const struct tg_daemon *d = ctx;
    tg_sieve_summary(d->chain.sieve, line);
}

/* Free what tg_daemon_open set up; the pipeline is drained or never ran. */
static void tg_daemon_release(struct tg_daemon *d)
{
    tg_hostwatch_free(d->chain.hosts);
    tg_metrics_stop(d->metrics);
    tg_health_free(d->health);
    if (d->internal.ctx)
        d->internal.ops->finish(&d->internal);
    tg_intake_free(d->intake);
    tg_pipeline_free(d->pipe);
    tg_dedup_free(d->dedup);
    tg_spool_close(d->spool);
    tg_policy_free(d->chain.policy);
    tg_sieve_free(d->chain.sieve);
    tg_config_free(d->cfg);
}

int tg_daemon_open(struct tg_daemon *d, const char *cmd, const char *config_path,
                   const char *builtin, const struct tg_sink_ops *extra_sink)
{
    memset(d, 0, sizeof(*d));
    d->cmd = cmd;
    int rc = config_path || !builtin
                 ? tg_registry_load_config(config_path, &d->cfg)
                 : tg_registry_load_config_string("(built-in defaults)", builtin, &d->cfg);
    if (rc != 0)
        return TG_EXIT_USAGE;
    d->cc = tg_config_get(d->cfg, "collector");
    d->chain.policy = tg_policy_open(tg_config_get(d->cfg, "policy"), NULL, TG_POLICY_RECORD);
    d->chain.hosts = tg_hostwatch_new(d->cc->silence_seconds, TG_DAEMON_MAX_HOSTS);
    char *ferr = NULL;
    if (tg_sieve_new(d->cfg, &d->chain.sieve, &ferr) != 0) {
        tg_err("%s: %s", cmd, ferr);
        free(ferr);
        tg_daemon_release(d);
        return TG_EXIT_USAGE;
    }
    if (d->cc->dedup_window > 0)
        d->dedup = tg_dedup_new(d->cc->dedup_window, 0);
    struct tg_pipeline_conf pc = {
        .workers = (int)d->cc->workers,
        .process = tg_process_event,
        .process_ctx = &d->chain,
        .is_duplicate = d->dedup ? tg_dedup_is_duplicate : NULL,
        .dedup_ctx = d->dedup,
        .max_bytes = (size_t)d->cc->queue_max_bytes,
    };
    d->pipe = tg_pipeline_new(&pc);
    tg_registry_add_sinks(d->cfg, d->pipe);
    if (extra_sink)
        tg_pipeline_add_sink(d->pipe, extra_sink, NULL);
    /* the spool keeps a confirmation per sink, by name */
    const char *sinks[TG_SPOOL_MAX_SINKS];
    size_t nsinks = tg_pipeline_sink_count(d->pipe);
    for (size_t i = 0; i < nsinks && i < TG_SPOOL_MAX_SINKS; i++)
        sinks[i] = tg_pipeline_sink(d->pipe, i)->ops->name;
    struct tg_spool_conf sc = {
        .dir = d->cc->spool_dir,
        .fsync = d->cc->fsync,
        .fsync_interval_ms = d->cc->fsync_interval_ms,
        .max_bytes = d->cc->spool_max_bytes,
        .sinks = sinks,
        .nsinks = nsinks,
    };
    if (tg_spool_open(&sc, &d->spool) != 0) {
        tg_err("%s: cannot open the spool %s; fix [collector] spool_dir", cmd, sc.dir);
        goto fail;
    }
    tg_pipeline_set_confirm(d->pipe, tg_spool_confirm_many, d->spool);
    struct tg_time now = tg_time_now();
    tg_hostwatch_load(d->chain.hosts, d->cc->spool_dir, now.sec * 1000000 + now.nsec / 1000);
    size_t nsources;
    const struct tg_source_ops *const *sources = tg_registry_sources(&nsources);
    struct tg_intake_conf ic = {.pipe = d->pipe,
                                .spool = d->spool,
                                .parsers = tg_config_get(d->cfg, "parsers"),
                                .sources = sources,
                                .nsources = nsources};
    char *err = NULL;
    if (tg_intake_new(&ic, &d->intake, &err) != 0) {
        fprintf(stderr, "%s: [parsers]: %s\n", config_path ? config_path : "trailguard", err);
        free(err);
        tg_daemon_release(d);
        return TG_EXIT_USAGE;
    }
    d->chain.parse = tg_intake_parser(d->intake, TG_FMT_AUTO);
    d->internal = (struct tg_input){.ops = &tg_in_internal, .intake = d->intake, .config = d->cfg};
    d->internal.ops->start(&d->internal, NULL);
    if (tg_pipeline_sink_count(d->pipe) > 1) /* else an announced record has no one to go to */
        tg_pipeline_set_announce(d->pipe, tg_internal_announce, &d->internal);
    if (tg_pipeline_start(d->pipe) != 0) {
        tg_err("%s: cannot start the sinks; nothing was received", cmd);
        d->internal.ops->stop(&d->internal);
        goto fail;
    }
    /* /metrics and the per-minute summary line.  rsyslog may run several
     * omprog children: there a busy metrics port only loses /metrics. */
    struct tg_health_conf hc = {.pipe = d->pipe,
                                .spool = d->spool,
                                .spool_max_bytes = d->cc->spool_max_bytes,
                                .sink_failing_s = d->cc->sink_failing_seconds};
    d->health = tg_health_new(&hc);
    struct tg_metrics_conf mc = {.listen = d->cc->metrics_listen,
                                 .pipe = d->pipe,
                                 .summary_interval_s = 60,
                                 .refresh = tg_daemon_refresh_metrics,
                                 .refresh_ctx = d,
                                 .render = tg_daemon_render_hosts,
                                 .render_ctx = d,
                                 .summary = tg_daemon_summary,
                                 .health = d->health};
    if (tg_metrics_start(&mc, &d->metrics) != 0) {
        if (strcmp(cmd, "omprog") != 0) {
            d->internal.ops->stop(&d->internal);
            tg_pipeline_drain(d->pipe);
            goto fail;
        }
        tg_warn("%s: continuing without /metrics", cmd);
        mc.listen = NULL;
        tg_metrics_start(&mc, &d->metrics);
    }
    tg_hostwatch_start(d->chain.hosts, TG_DAEMON_HOSTWATCH_MS, d->cc->spool_dir,
                       tg_daemon_host_change, d);
    return TG_EXIT_OK;
fail:
    tg_daemon_release(d);
    return TG_EXIT_RUNTIME;
}

void tg_daemon_replay(struct tg_daemon *d)
{
    d->replayed = tg_intake_replay(d->intake);
    if (d->replayed)
        tg_info("%s: replayed %llu unconfirmed records from the spool %s", d->cmd,
                (unsigned long long)d->replayed, d->cc->spool_dir);
}

void tg_daemon_stopping(struct tg_daemon *d)
{
    tg_intake_stopping(d->intake);
}

void tg_daemon_close(struct tg_daemon *d)
{
    tg_hostwatch_stop(d->chain.hosts); /* before the internal source: it may still emit */
    d->internal.ops->stop(&d->internal);
    tg_pipeline_drain(d->pipe);
    struct tg_pipeline_stats ps;
    struct tg_spool_stats ss;
    tg_pipeline_stats(d->pipe, &ps);
    tg_spool_stats(d->spool, &ss);
    uint64_t delivered = 0, failed = 0;
    for (size_t i = 0; i < tg_pipeline_sink_count(d->pipe); i++) {
        struct tg_sink *s = tg_pipeline_sink(d->pipe, i);
        delivered += atomic_load(&s->delivered);
        failed += atomic_load(&s->failed);
    }
    tg_info("%s: stopped: %llu events in (%llu replayed), %llu duplicates dropped, %llu "
            "delivered, %llu failed; spool: %llu appended, %llu confirmed, %llu corrupt records "
            "skipped, %llu full waits, %llu fsyncs, %llu sync failures, %llu dropped for removed "
            "sinks, %llu bytes left in %llu segments",
            d->cmd, (unsigned long long)ps.events_in, (unsigned long long)d->replayed,
            (unsigned long long)ps.duplicates, (unsigned long long)delivered,
            (unsigned long long)failed, (unsigned long long)ss.appended,
            (unsigned long long)ss.confirmed, (unsigned long long)ss.corrupt_records,
            (unsigned long long)ss.full_waits, (unsigned long long)ss.fsyncs,
            (unsigned long long)ss.sync_failures, (unsigned long long)ss.dropped_unconfigured,
            (unsigned long long)ss.bytes, (unsigned long long)ss.segments);
    if (d->dedup) {
        struct tg_dedup_stats ds;
        tg_dedup_stats(d->dedup, &ds);
        if (ds.evicted_early)
            tg_warn("%s: dedup: %llu ids left the window early (table full); repeats of them "
                    "passed",
                    d->cmd, (unsigned long long)ds.evicted_early);
    }
    tg_daemon_release(d);
}
