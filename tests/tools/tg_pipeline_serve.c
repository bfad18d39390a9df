/*
 * tg_pipeline_serve.c - a long-running pipeline for the /metrics tests:
 *
 *   tg_pipeline_serve -c CONF [-i SUMMARY_SECONDS] FILE...
 *
 * Builds the same chain as `trailguard ingest -c CONF` (parsers, the sinks
 * of CONF), starts the metrics server on [collector] metrics_listen with a
 * summary line every SUMMARY_SECONDS (default 60), feeds FILEs through, and
 * then keeps serving /metrics until SIGTERM or SIGINT, when it drains the
 * pipeline and exits 0.  Exit 2 for a bad config, 3 when the metrics
 * address cannot be bound.  Main thread only; the pipeline and the metrics
 * server run their own threads.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/metrics.h"
#include "core/pipeline.h"
#include "tools/process.h"
#include "tools/registry.h"
#include "ingest/intake.h"
#include "ingest/reader.h"
#include "parsers/parse.h"

static volatile sig_atomic_t tg_serve_stop;

static void tg_serve_on_signal(int sig)
{
    tg_serve_stop = 1;
}

/* Feed a file through the intake as `ingest` does. */
static void tg_serve_feed(const char *path, struct tg_intake_src *src)
{
    struct tg_reader *r;
    if (tg_reader_open(path, &r) != 0) {
        fprintf(stderr, "tg_pipeline_serve: cannot open %s\n", path);
        return;
    }
    struct tg_intake_stream *st = tg_intake_stream_new(src, tg_str_c(path), tg_str_c(path), 0);
    const char *p, *errmsg;
    size_t n;
    while (tg_reader_read(r, &p, &n, &errmsg) == 0)
        tg_intake_stream_feed(st, p, n);
    tg_intake_stream_end(st);
    tg_intake_stream_free(st);
    tg_reader_close(r);
    tg_intake_src_flush(src);
}

int main(int argc, char **argv)
{
    const char *conf_path = NULL;
    int interval = 60, c;
    while ((c = getopt(argc, argv, "c:i:")) != -1) {
        switch (c) {
        case 'c':
            conf_path = optarg;
            break;
        case 'i':
            interval = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: tg_pipeline_serve -c CONF [-i SUMMARY_SECONDS] FILE...\n");
            return TG_EXIT_USAGE;
        }
    }
    /* Signals are blocked in every thread and awaited with sigsuspend. */
    struct sigaction sa = {.sa_handler = tg_serve_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    struct tg_config *cfg;
    if (tg_registry_load_config(conf_path, &cfg) != 0)
        return TG_EXIT_USAGE;
    const struct tg_collector_conf *cc = tg_config_get(cfg, "collector");
    struct tg_process chain = {0};
    struct tg_pipeline_conf pc = {
        .workers = (int)cc->workers, .process = tg_process_event, .process_ctx = &chain};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    tg_registry_add_sinks(cfg, p);
    size_t nsources;
    const struct tg_source_ops *const *sources = tg_registry_sources(&nsources);
    struct tg_intake_conf ic = {.pipe = p,
                                .parsers = tg_config_get(cfg, "parsers"),
                                .sources = sources,
                                .nsources = nsources};
    struct tg_intake *intake = NULL;
    char *err = NULL;
    if (tg_intake_new(&ic, &intake, &err) != 0) {
        fprintf(stderr, "tg_pipeline_serve: [parsers]: %s\n", err);
        free(err);
        tg_pipeline_free(p);
        tg_config_free(cfg);
        return TG_EXIT_USAGE;
    }
    chain.parse = tg_intake_parser(intake, TG_FMT_AUTO);
    struct tg_metrics_server *m = NULL;
    int rc = TG_EXIT_OK;
    struct tg_metrics_conf mc = {
        .listen = cc->metrics_listen, .pipe = p, .summary_interval_s = interval};
    if (tg_metrics_start(&mc, &m) != 0) {
        rc = TG_EXIT_RUNTIME;
        goto out;
    }
    if (tg_pipeline_start(p) != 0) {
        rc = TG_EXIT_RUNTIME;
        goto out;
    }
    struct tg_intake_src *src = tg_intake_src_new(
        intake, &(struct tg_intake_src_conf){.ops = &tg_in_file, .format = TG_FMT_AUTO});
    for (int i = optind; i < argc; i++)
        tg_serve_feed(argv[i], src);
    tg_intake_src_free(src);
    while (!tg_serve_stop)
        sigsuspend(&old);
    tg_pipeline_drain(p);
out:
    tg_metrics_stop(m);
    tg_intake_free(intake);
    tg_pipeline_free(p);
    tg_config_free(cfg);
    return rc;
}
