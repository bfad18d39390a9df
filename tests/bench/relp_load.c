/*
 * relp_load.c - RELP load generator (librelp client) for the benchmarks and
 * the integration tests.
 *
 *   relp_load -p PORT [-H HOST] [-s SESSIONS] [-w WINDOW] [-n TOTAL]
 *             [--ca F --cert F --key F] [-q] FILE...
 *
 * Reads record bodies from FILEs (snoopy message bodies, Percona audit JSON
 * lines, or whole syslog lines starting with '<') and sends TOTAL messages
 * spread over SESSIONS concurrent sessions, each with its own librelp
 * engine and thread.  Each message gets the omrelp default layout
 * (RSYSLOG_ForwardFormat): "<PRI>RFC3339-µs HOST TAG BODY", where the
 * timestamp advances by one microsecond per message and HOST names the
 * session, so every message is distinct (distinct event.id).  A body that
 * already starts with '<' is sent as is.
 *
 * Prints "sent N messages in S s: R msg/s" on stdout.  A session is closed
 * with RELP's close command, which is answered only after every earlier
 * frame was acknowledged, so when the program exits 0 every message was
 * acknowledged.  Exit 1 when a session failed.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librelp.h>

struct tg_load {
    const char *host, *port, *ca, *cert, *key;
    int window;
    char **lines;
    size_t nlines;
};

struct tg_sess {
    const struct tg_load *ld;
    int id;
    long count;
    int failed;
    pthread_t th;
};

static void tg_dbg(char *fmt, ...)
{
}

static void tg_generic_err(char *objinfo, char *errmsg, relpRetVal code)
{
    fprintf(stderr, "relp_load: %s: %s (%d)\n", objinfo ? objinfo : "", errmsg ? errmsg : "",
            (int)code);
}

static void *tg_sess_main(void *arg)
{
    struct tg_sess *s = arg;
    const struct tg_load *ld = s->ld;
    relpEngine_t *eng;
    relpClt_t *clt;
    relpEngineConstruct(&eng);
    relpEngineSetDbgprint(eng, tg_dbg);
    relpEngineSetOnGenericErr(eng, tg_generic_err);
    relpEngineSetEnableCmd(eng, (unsigned char *)"syslog", eRelpCmdState_Required);
    relpEngineCltConstruct(eng, &clt);
    relpCltSetWindowSize(clt, ld->window);
    relpCltSetTimeout(clt, 30);
    if (ld->ca) {
        relpCltEnableTLS(clt);
        relpCltSetCACert(clt, (char *)ld->ca);
        relpCltSetOwnCert(clt, (char *)ld->cert);
        relpCltSetPrivKey(clt, (char *)ld->key);
        relpCltSetAuthMode(clt, (char *)"certvalid");
    }
    if (relpCltConnect(clt, 2 /* AF_INET */, (unsigned char *)ld->port,
                       (unsigned char *)ld->host) != RELP_RET_OK) {
        fprintf(stderr, "relp_load: session %d: cannot connect to %s:%s\n", s->id, ld->host,
                ld->port);
        s->failed = 1;
        goto out;
    }
    char msg[70000];
    time_t base = 1795000000 + s->id * 100000; /* 2026-11-19, one range per session */
    for (long i = 0; i < s->count; i++) {
        const char *body = ld->lines[(size_t)i % ld->nlines];
        int n;
        if (body[0] == '<') {
            n = snprintf(msg, sizeof(msg), "%s", body);
        } else {
            time_t t = base + i / 1000000;
            struct tm tm;
            gmtime_r(&t, &tm);
            char ts[40];
            strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
            bool percona = body[0] == '{';
            n = snprintf(msg, sizeof(msg), "<%d>%s.%06ld+00:00 load%d %s %s", percona ? 14 : 86, ts,
                         i % 1000000, s->id, percona ? "percona-audit:" : "snoopy[4242]:", body);
        }
        if (n >= (int)sizeof(msg))
            n = (int)sizeof(msg) - 1;
        if (relpCltSendSyslog(clt, (unsigned char *)msg, (size_t)n) != RELP_RET_OK) {
            fprintf(stderr, "relp_load: session %d: send failed after %ld messages\n", s->id, i);
            s->failed = 1;
            break;
        }
    }
out:
    relpEngineCltDestruct(eng, &clt);
    relpEngineDestruct(&eng);
    return NULL;
}

static void tg_read_lines(struct tg_load *ld, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!n)
            continue;
        ld->lines = realloc(ld->lines, (ld->nlines + 1) * sizeof(char *));
        ld->lines[ld->nlines++] = strdup(line);
    }
    free(line);
    fclose(f);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"ca", required_argument, NULL, 'A'},
                                       {"cert", required_argument, NULL, 'B'},
                                       {"key", required_argument, NULL, 'K'},
                                       {NULL, 0, NULL, 0}};
    struct tg_load ld = {.host = "127.0.0.1", .window = 1024};
    int sessions = 1, quiet = 0, c;
    long total = 1000;
    /* A server that refuses us closes the connection: that must be a failed
     * session (exit 1), not death by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    while ((c = getopt_long(argc, argv, "p:H:s:w:n:q", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            ld.port = optarg;
            break;
        case 'H':
            ld.host = optarg;
            break;
        case 's':
            sessions = atoi(optarg);
            break;
        case 'w':
            ld.window = atoi(optarg);
            break;
        case 'n':
            total = atol(optarg);
            break;
        case 'q':
            quiet = 1;
            break;
        case 'A':
            ld.ca = optarg;
            break;
        case 'B':
            ld.cert = optarg;
            break;
        case 'K':
            ld.key = optarg;
            break;
        default:
            return 2;
        }
    }
    if (!ld.port || optind == argc || sessions < 1) {
        fprintf(stderr, "usage: relp_load -p PORT [-H HOST] [-s SESSIONS] [-w WINDOW] [-n TOTAL] "
                        "[--ca F --cert F --key F] [-q] FILE...\n");
        return 2;
    }
    for (int i = optind; i < argc; i++)
        tg_read_lines(&ld, argv[i]);
    if (!ld.nlines) {
        fprintf(stderr, "relp_load: no records in the input files\n");
        return 2;
    }
    struct tg_sess *ss = calloc((size_t)sessions, sizeof(*ss));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < sessions; i++) {
        ss[i] = (struct tg_sess){
            .ld = &ld, .id = i, .count = total / sessions + (i < total % sessions ? 1 : 0)};
        pthread_create(&ss[i].th, NULL, tg_sess_main, &ss[i]);
    }
    int failed = 0;
    for (int i = 0; i < sessions; i++) {
        pthread_join(ss[i].th, NULL);
        failed |= ss[i].failed;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!quiet)
        printf("sent %ld messages in %.3f s: %.0f msg/s\n", total, secs, (double)total / secs);
    for (size_t i = 0; i < ld.nlines; i++)
        free(ld.lines[i]);
    free(ld.lines);
    free(ss);
    return failed;
}
