/*
 * omprog.c - `trailguard omprog`: trailguard as the output program of
 * rsyslog's omprog action (rsyslog plugins/external/INTERFACE.md).
 *
 * Protocol (stdin: one message per LF-terminated line; stdout: replies):
 *   start                     "OK" once the spool is open and replayed
 *   a message                 "OK" once it is in the spool (fsync per policy)
 *   "BEGIN TRANSACTION"       "OK"
 *   a message in a txn        "DEFER_COMMIT" once it is written to the spool
 *   "COMMIT TRANSACTION"      one group fsync of the spool, then "OK"
 *   EOF, SIGTERM, SIGINT      drain the pipeline and exit 0 (omprog's
 *                             signalOnClose sends SIGTERM)
 * Every line gets exactly one reply, so the protocol stays in step with
 * rsyslog whether or not confirmMessages/useTransactions are on (with
 * confirmMessages off, rsyslog discards stdout).  If a message cannot be
 * stored, the reply is an error line and rsyslog retries it later.
 *
 * stdout carries the protocol, so the fallback stdout sink (a config with
 * no [sink.*]) writes its NDJSON to stderr instead: fd 1 is moved to a
 * private descriptor for the replies and fd 2 is duplicated onto fd 1.
 * rsyslog's omprog `output=` file captures stderr.
 *
 * Use one instance per spool directory (omprog forceSingleInstance="on");
 * a second instance finds the spool locked and exits 3.
 *
 * Every message goes through the intake (ingest/intake.h) as one record of
 * input type omprog, like a RELP message: the same size limit, no salt.
 * stdin is split into lines by ingest/lines.h at that limit (plus one byte,
 * so the intake sees that a longer line was cut).
 *
 * The main thread reads stdin and writes the replies; a thread replays the
 * spool's unconfirmed records meanwhile; the pipeline runs on its own
 * threads (daemon.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "ingest/intake.h"
#include "ingest/lines.h"
#include "tools/commands.h"
#include "tools/daemon.h"

#define TG_OMPROG_READ (64u << 10)

const struct tg_source_ops tg_in_omprog = {.name = "omprog", .code = TG_SPOOL_IN_OMPROG};

const char tg_omprog_usage[] =
    "usage: trailguard omprog [-c FILE] [--begin-mark TEXT] [--commit-mark TEXT]\n"
    "\n"
    "Run as rsyslog's omprog output program: read one message per line on stdin,\n"
    "store it in the spool, confirm it on stdout, then process it like `serve`.\n"
    "Replies: OK when ready and after each stored message; with transactions,\n"
    "OK to the begin mark, DEFER_COMMIT per message and OK to the commit mark\n"
    "after one fsync of the spool.  Exits 0 at end of input, after draining.\n"
    "\n"
    "  -c, --config FILE     configuration (INI); [collector] spool_dir must be\n"
    "                        this instance's own.  Without [sink.*], events go to\n"
    "                        stderr as NDJSON (stdout carries the protocol).\n"
    "      --begin-mark TEXT   omprog beginTransactionMark (\"BEGIN TRANSACTION\")\n"
    "      --commit-mark TEXT  omprog commitTransactionMark (\"COMMIT TRANSACTION\")\n"
    "\n"
    "rsyslog: action(type=\"omprog\" binary=\"/usr/bin/trailguard omprog -c ...\"\n"
    "  confirmMessages=\"on\" useTransactions=\"on\" forceSingleInstance=\"on\"\n"
    "  template=\"...\" output=\"/var/log/trailguard-omprog.log\")\n"
    "Exit status: 0 end of input, 2 usage or configuration error, 3 runtime failure.\n";

struct tg_omprog {
    struct tg_daemon d;
    struct tg_intake_src *src;
    int reply_fd;
    const char *begin_mark, *commit_mark;
    bool in_txn;
    uint64_t messages, empty, failed, txns;
};

/* Write one reply line; a failed write means rsyslog is gone: exit. */
static void tg_omprog_reply(struct tg_omprog *o, const char *s)
{
    size_t n = strlen(s);
    char line[128];
    memcpy(line, s, n);
    line[n] = '\n';
    const char *p = line;
    size_t left = n + 1;
    while (left) {
        ssize_t w = write(o->reply_fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            tg_warn("omprog: cannot write a reply to rsyslog (%s)", strerror(errno));
            return;
        }
        p += w;
        left -= (size_t)w;
    }
}

/* Is the line (without a trailing CR) this mark? */
static bool tg_omprog_is(const char *p, size_t n, const char *mark)
{
    if (n && p[n - 1] == '\r')
        n--;
    return strlen(mark) == n && memcmp(p, mark, n) == 0;
}

/* One line of the protocol (ingest/lines.h callback), one reply. */
static int tg_omprog_line(void *ctx, const char *p, size_t n, bool cut, uint64_t pos)
{
    struct tg_omprog *o = ctx;
    if (tg_omprog_is(p, n, o->begin_mark)) {
        o->in_txn = true;
        tg_omprog_reply(o, "OK");
        return 0;
    }
    if (tg_omprog_is(p, n, o->commit_mark)) {
        o->in_txn = false;
        o->txns++;
        tg_intake_src_flush(o->src);
        tg_omprog_reply(o, tg_intake_sync(o->src) == 0 ? "OK" : "Error: spool fsync failed");
        return 0;
    }
    if (n == 0) { /* nothing to store, but rsyslog waits for a reply */
        o->empty++;
        tg_omprog_reply(o, o->in_txn ? "DEFER_COMMIT" : "OK");
        return 0;
    }
    if (cut)
        tg_warn("omprog: a message longer than %u bytes was cut", TG_RECORD_MAX);
    if (tg_intake_message(o->src, TG_STR_NULL, p, n,
                          TG_INTAKE_NOWAIT | (o->in_txn ? 0 : TG_INTAKE_COMMIT)) != 0) {
        o->failed++;
        tg_omprog_reply(o, "Error: cannot store the message in the spool");
        return 0;
    }
    o->messages++;
    tg_omprog_reply(o, o->in_txn ? "DEFER_COMMIT" : "OK");
    return 0;
}

static volatile sig_atomic_t tg_omprog_stop;

static void tg_omprog_on_term(int sig)
{
    tg_omprog_stop = 1;
}

static void *tg_omprog_replay(void *daemon)
{
    struct tg_daemon *d = daemon;
    tg_daemon_replay(d);
    tg_health_set_ready(d->health); /* /readyz */
    return NULL;
}

/* Read stdin to EOF, one reply per line. */
static void tg_omprog_loop(struct tg_omprog *o)
{
    char *buf = tg_xmalloc(TG_OMPROG_READ);
    struct tg_lines lines;
    tg_lines_init(&lines, TG_RECORD_MAX + 1u, 0);
    for (;;) {
        /* nothing more buffered by rsyslog right now: let the batch go */
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        if (poll(&pfd, 1, 0) == 0)
            tg_intake_src_flush(o->src);
        if (tg_omprog_stop)
            break;
        ssize_t r = read(0, buf, TG_OMPROG_READ);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        tg_lines_feed(&lines, buf, (size_t)r, tg_omprog_line, o);
    }
    tg_lines_end(&lines, tg_omprog_line, o); /* a last line without LF */
    tg_lines_free(&lines);
    free(buf);
}

int tg_cmd_omprog(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"begin-mark", required_argument, NULL, 'B'},
                                             {"commit-mark", required_argument, NULL, 'C'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    struct tg_omprog o;
    memset(&o, 0, sizeof(o));
    o.begin_mark = "BEGIN TRANSACTION";
    o.commit_mark = "COMMIT TRANSACTION";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'B':
            o.begin_mark = optarg;
            break;
        case 'C':
            o.commit_mark = optarg;
            break;
        case 'h':
            fputs(tg_omprog_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("omprog", c, argv);
        }
    }
    if (optind < argc)
        return tg_usage_error("omprog", "unexpected argument '%s'", argv[optind]);
    if (strlen(o.begin_mark) > 1000 || strlen(o.commit_mark) > 1000)
        return tg_usage_error("omprog", "transaction marks are limited to 1000 bytes");

    /* replies on a private descriptor; stdout (the stdout sink) goes to stderr */
    fflush(stdout);
    o.reply_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (o.reply_fd < 0 || dup2(2, 1) < 0) {
        fprintf(stderr, "trailguard omprog: cannot set up stdout: %s\n", strerror(errno));
        return TG_EXIT_RUNTIME;
    }
    signal(SIGPIPE, SIG_IGN);
    /* TERM/INT interrupt the main thread's read (no SA_RESTART); the other
     * threads, created while they are blocked, never take them */
    struct sigaction sa = {.sa_handler = tg_omprog_on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    int code = tg_daemon_open(&o.d, "omprog", config_path, NULL, NULL);
    if (code != TG_EXIT_OK)
        return code;
    struct tg_intake_src_conf ic = {
        .ops = &tg_in_omprog, .label = "omprog", .metrics_label = "omprog"};
    o.src = tg_intake_src_new(o.d.intake, &ic);
    tg_health_set_listening(o.d.health); /* stdin is its input */
    /* rsyslog waits confirmTimeout (10 s) for the first OK: a large spool
     * is replayed beside the protocol, not before it */
    pthread_t replayer;
    pthread_create(&replayer, NULL, tg_omprog_replay, &o.d);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL);
    tg_omprog_reply(&o, "OK");
    tg_omprog_loop(&o);
    pthread_join(replayer, NULL);
    tg_intake_sync(o.src);
    tg_intake_src_free(o.src);
    tg_info("omprog: %s: %llu messages stored (%llu transactions), %llu empty lines, "
            "%llu refused",
            tg_omprog_stop ? "stopped by a signal" : "end of input", (unsigned long long)o.messages,
            (unsigned long long)o.txns, (unsigned long long)o.empty, (unsigned long long)o.failed);
    tg_daemon_close(&o.d);
    close(o.reply_fd);
    return TG_EXIT_OK;
}
