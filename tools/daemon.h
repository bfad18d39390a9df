/*
 * daemon.h - what `serve` and `omprog` share: config, spool, dedup, the
 * processing chain and the pipeline, set up in the order that keeps the
 * durability promise (sinks open before the spool is replayed, the spool
 * replayed before any source starts), and torn down in reverse (sources
 * stopped by the caller, then drain, then the spool closed).
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
#include "core/process.h"
#include "core/spool.h"

struct tg_daemon {
    const char *cmd; /* "serve", "omprog": prefixes messages */
    struct tg_config *cfg;
    const struct tg_collector_conf *cc;
    struct tg_spool *spool;
    struct tg_dedup *dedup;
    struct tg_process chain; /* chain.parse is parse[TG_FMT_AUTO] */
    /* parse contexts by enum tg_format: [TG_FMT_AUTO] always, the others
     * when some [input.file] forces that format */
    struct tg_parse_ctx *parse[TG_FMT_PERCONA + 1];
    bool formats_forced; /* some [input.file] has a format other than auto */
    struct tg_pipeline *pipe;
    struct tg_metrics_server *metrics;
    struct tg_health *health; /* /healthz, /readyz: the caller says when it listens and is ready */
    struct tg_source *replay_src;
    uint64_t replayed;
};

/*
 * Load `config_path` (NULL: the INI text `builtin`, or no sections at all
 * when that is NULL too), open the spool, build the chain (parsers, the
 * [policy] snapshot) and the pipeline with the configured sinks and start
 * it.  Returns an exit code: 0, TG_EXIT_USAGE (config) or TG_EXIT_RUNTIME
 * (spool or sink cannot be opened); on failure everything is released.
 */
int tg_daemon_open(struct tg_daemon *d, const char *cmd, const char *config_path,
                   const char *builtin);

/* Replay the unconfirmed spool records into the pipeline (once; may block
 * on backpressure while the sinks catch up).  Any one thread. */
void tg_daemon_replay(struct tg_daemon *d);

/* Drain the pipeline (sources must be stopped), log a summary, close the
 * spool and free everything. */
void tg_daemon_close(struct tg_daemon *d);

#endif
