/*
 * daemon.h - what `serve` and `omprog` share: config, spool, dedup, the
 * processing chain, the pipeline with its sinks, the intake and the internal
 * source, set up in the order that keeps the durability promise (sinks open
 * before the spool is replayed, the spool replayed before any source
 * starts), and torn down in reverse (sources stopped by the caller, then
 * the internal source, the drain, and the spool closed last).
 *
 * Main thread only; the pieces inside are thread-safe as documented in
 * their own headers.
 */
#ifndef TG_DAEMON_H
#define TG_DAEMON_H

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/dedup.h"
#include "core/health.h"
#include "core/metrics.h"
#include "core/pipeline.h"
#include "core/spool.h"
#include "ingest/intake.h"
#include "ingest/source.h"
#include "tools/process.h"

struct tg_daemon {
    const char *cmd; /* "serve", "omprog": prefixes messages */
    struct tg_config *cfg;
    const struct tg_collector_conf *cc;
    struct tg_spool *spool;
    struct tg_dedup *dedup;
    struct tg_process chain; /* chain.parse: the intake's auto parser */
    struct tg_pipeline *pipe;
    struct tg_intake *intake;
    struct tg_input internal; /* the internal source: sinks' announced records */
    struct tg_metrics_server *metrics;
    struct tg_health *health; /* /healthz, /readyz: the caller says when it listens and is ready */
    uint64_t replayed;
};

/*
 * Load `config_path` (NULL: the INI text `builtin`, or no sections at all
 * when that is NULL too), build the pipeline with the configured sinks (and
 * `extra_sink` after them, for tests: e.g. one that announces internal
 * records; NULL: none), open the spool, the intake and the internal source,
 * start the pipeline and /metrics (with /healthz and /readyz: the caller
 * marks d->health listening and ready).  Returns an exit code: 0, TG_EXIT_USAGE
 * (config) or TG_EXIT_RUNTIME (spool or sink cannot be opened); on failure
 * everything is released.
 */
int tg_daemon_open(struct tg_daemon *d, const char *cmd, const char *config_path,
                   const char *builtin, const struct tg_sink_ops *extra_sink);

/* Replay the unconfirmed spool records into the pipeline (once; may block
 * on backpressure while the sinks catch up).  Any one thread. */
void tg_daemon_replay(struct tg_daemon *d);

/* The sources are stopping: records that cannot be stored are given up. */
void tg_daemon_stopping(struct tg_daemon *d);

/* Stop the internal source, drain the pipeline (the other sources must be
 * stopped), log a summary, close the spool and free everything. */
void tg_daemon_close(struct tg_daemon *d);

#endif
