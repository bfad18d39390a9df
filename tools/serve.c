/*
 * serve.c - `trailguard serve`: the collector daemon.
 *
 * Set-up order (daemon.c): config, spool, sinks, replay of the unconfirmed
 * spool records; then the sources: one per instance of a section a source
 * plugin owns ([input.relp*] listeners, [input.file*] followers; the
 * registry says which, tools/registry.c).  With no -c the built-in
 * configuration applies (tg_serve_builtin): one RELP listener on
 * 127.0.0.1:2514, the spool and the file store under ./trailguard-data.
 *
 * Signals are blocked in every thread and taken by the main thread with
 * sigtimedwait, which also wakes every few milliseconds to submit the
 * sources' partial batches (librelp gives no "no more pending" hint, so a
 * short timer keeps latency low).  SIGTERM/SIGINT: stop the sources, drain
 * the pipeline, exit 0.  SIGHUP: tg_serve_on_hup() (policy reload, file
 * reopen).  /metrics is started by the shared daemon set-up (daemon.c).
 *
 * Under systemd (Type=notify): READY=1 once every listener is bound and the
 * spool is replayed (the same moment /readyz turns 200), RELOADING=1 around
 * a SIGHUP, STOPPING=1 when draining, a STATUS= line with the totals every
 * minute, and WATCHDOG=1 from this loop when the unit sets WatchdogSec=
 * (core/notify.h).  The loop also samples the sinks for /healthz.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/notify.h"
#include "ingest/intake.h"
#include "ingest/source.h"
#include "policy/policy.h"
#include "tools/commands.h"
#include "tools/daemon.h"
#include "tools/registry.h"

#define TG_SERVE_FLUSH_MS 5
/* How often serve checks whether the policy snapshot directory changed. */
#define TG_SERVE_POLICY_CHECK_S 30
/* How often the health probe samples the sinks, and systemd gets a STATUS= line. */
#define TG_SERVE_HEALTH_MS 1000
#define TG_SERVE_STATUS_S  60

const char tg_serve_usage[] =
    "usage: trailguard serve [-c FILE] [--check]\n"
    "\n"
    "Run the collector in the foreground: RELP listeners ([input.relp...]) and\n"
    "followed files ([input.file...]) -> spool -> parse -> policy -> sinks.\n"
    "A RELP message is acknowledged only once it is in the spool; on start every\n"
    "spooled record the sinks had not confirmed is replayed.  Logs go to stderr.\n"
    "\n"
    "  -c, --config FILE   configuration (INI); see `trailguard help config`.\n"
    "                      Without it: listen on 127.0.0.1:2514, spool in\n"
    "                      ./trailguard-data/spool, the file store in\n"
    "                      ./trailguard-data/events (query it with `trailguard query`).\n"
    "      --check         check the configuration and exit, as `trailguard check`\n"
    "\n"
    "Signals: TERM/INT drain and exit 0; HUP reopens files (and reloads the policy).\n"
    "Exit status: 0 stopped by a signal, 2 usage or configuration error,\n"
    "3 runtime failure (cannot bind, cannot open the spool or a sink).\n";

/* `serve` without -c: the defaults of these sections (RELP on
 * 127.0.0.1:2514, the store in ./trailguard-data/events, the spool in
 * ./trailguard-data/spool). */
static const char tg_serve_builtin[] = "[input.relp]\n[sink.file]\n";

struct tg_serve {
    struct tg_daemon d;
    struct tg_input *inputs; /* one per configured source instance */
    size_t ninputs;
};

/*
 * SIGHUP: reopen the followed files and reload the policy snapshot (SPEC.md
 * section 1; a failed load keeps the current snapshot).
 */
static void tg_serve_on_hup(struct tg_serve *s)
{
    size_t nre = 0;
    for (size_t i = 0; i < s->ninputs; i++)
        nre += s->inputs[i].ops->reopen != NULL;
    tg_info("serve: SIGHUP: reopening %zu file input%s, reloading the policy snapshot", nre,
            nre == 1 ? "" : "s");
    for (size_t i = 0; i < s->ninputs; i++)
        if (s->inputs[i].ops->reopen)
            s->inputs[i].ops->reopen(&s->inputs[i]);
    tg_policy_reload(s->d.chain.policy);
}

/* Start a source for every section instance a source plugin owns; 0 or
 * TG_EXIT_RUNTIME. */
static int tg_serve_start_inputs(struct tg_serve *s)
{
    const struct tg_config *cfg = s->d.cfg;
    s->inputs = tg_xcalloc(cfg->n + 1, sizeof(*s->inputs));
    for (size_t i = 0; i < cfg->n; i++) {
        const struct tg_source_ops *ops = tg_registry_source_for(cfg->sections[i].def);
        if (!ops)
            continue;
        struct tg_input *in = &s->inputs[s->ninputs];
        *in = (struct tg_input){.ops = ops, .intake = s->d.intake, .config = cfg};
        if (ops->start(in, cfg->sections[i].data) != 0)
            return TG_EXIT_RUNTIME;
        s->ninputs++;
    }
    if (s->ninputs == 0)
        tg_warn("serve: the configuration has no [input.relp] or [input.file] section: only the "
                "spool replay runs");
    return 0;
}

/* systemd's STATUS= line: what runs and the totals so far. */
static void tg_serve_status(struct tg_serve *s, bool ready)
{
    struct tg_pipeline_stats ps;
    struct tg_spool_stats ss;
    tg_pipeline_stats(s->d.pipe, &ps);
    tg_spool_stats(s->d.spool, &ss);
    size_t nrelp = 0, nfiles = 0;
    for (size_t i = 0; i < s->ninputs; i++) {
        nrelp += s->inputs[i].ops == &tg_in_relp;
        nfiles += s->inputs[i].ops == &tg_in_file;
    }
    char status[256];
    snprintf(status, sizeof(status),
             "running: %zu RELP listener%s, %zu followed file%s; %llu events in, spool %llu "
             "bytes",
             nrelp, nrelp == 1 ? "" : "s", nfiles, nfiles == 1 ? "" : "s",
             (unsigned long long)ps.events_in, (unsigned long long)ss.bytes);
    if (ready)
        tg_notify_ready(status);
    else
        tg_notify_status("%s", status);
}

static int64_t tg_serve_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tg_serve_stop_inputs(struct tg_serve *s)
{
    tg_daemon_stopping(&s->d);
    for (size_t i = 0; i < s->ninputs; i++) {
        s->inputs[i].ops->stop(&s->inputs[i]);
        if (s->inputs[i].ops->finish)
            s->inputs[i].ops->finish(&s->inputs[i]);
    }
    free(s->inputs);
    s->inputs = NULL;
    s->ninputs = 0;
}

int tg_serve_run(const char *config_path, const struct tg_sink_ops *extra_sink)
{
    /* block before any thread exists, so that only sigtimedwait sees them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    /* the stdout sink flushes once per batch: let a batch be one write */
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

    struct tg_serve s;
    memset(&s, 0, sizeof(s));
    tg_notify_init();
    tg_notify_status("starting: opening the spool and the sinks");
    int code = tg_daemon_open(&s.d, "serve", config_path, tg_serve_builtin, extra_sink);
    if (code != TG_EXIT_OK)
        return code;
    tg_notify_status("starting: replaying the spool");
    tg_daemon_replay(&s.d); /* before the sources: replayed records go first */
    code = tg_serve_start_inputs(&s);
    if (code == TG_EXIT_OK) {
        tg_health_set_listening(s.d.health);
        tg_health_set_ready(s.d.health);
        tg_serve_status(&s, true); /* READY=1: the listeners are bound */
        tg_info("serve: running (pid %ld)", (long)getpid());
        struct timespec tick = {0, TG_SERVE_FLUSH_MS * 1000000L};
        unsigned long ticks = 0;
        for (;;) {
            int sig = sigtimedwait(&sigs, NULL, &tick);
            if (sig == SIGTERM || sig == SIGINT) {
                tg_info("serve: %s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                tg_notify_stopping("stopping: draining the pipeline into the sinks");
                break;
            }
            if (sig == SIGHUP) {
                tg_notify_reloading();
                tg_serve_on_hup(&s);
                tg_serve_status(&s, true);
            }
            tg_notify_tick(tg_serve_now_ms());
            if (++ticks % (TG_SERVE_HEALTH_MS / TG_SERVE_FLUSH_MS) == 0)
                tg_health_sample(s.d.health);
            if (ticks % (TG_SERVE_STATUS_S * 1000 / TG_SERVE_FLUSH_MS) == 0)
                tg_serve_status(&s, false);
            if (ticks % (TG_SERVE_POLICY_CHECK_S * 1000 / TG_SERVE_FLUSH_MS) == 0)
                tg_policy_reload_if_changed(s.d.chain.policy);
            tg_intake_flush(s.d.intake);
        }
    }
    tg_serve_stop_inputs(&s);
    tg_daemon_close(&s.d);
    return code;
}

int tg_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"check", no_argument, NULL, 'C'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    bool check = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'h':
            fputs(tg_serve_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("serve", c, argv);
        }
    }
    if (optind < argc)
        return tg_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (check)
        return config_path ? tg_check_config(config_path)
                           : tg_usage_error("serve", "--check needs the configuration: -c FILE");
    return tg_serve_run(config_path, NULL);
}
