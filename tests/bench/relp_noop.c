/*
 * relp_noop.c - the transport floor for the RELP benchmark: a librelp
 * receiver whose callback only counts (no storage, no parsing).
 *
 *   relp_noop -p PORT -n EXPECTED
 *
 * Listens on 127.0.0.1:PORT, prints "ready" on stdout once bound, and exits
 * 0 after EXPECTED messages (printing "received N" and "peak_rss_kb K"),
 * so the script times the generator against the same librelp engine
 * trailguard uses.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <librelp.h>

static atomic_long tg_count;
static long tg_expected;
static relpEngine_t *tg_eng;

static relpRetVal tg_rcv(void *usr, unsigned char *host, unsigned char *ip, unsigned char *msg,
                         size_t len)
{
    if (atomic_fetch_add(&tg_count, 1) + 1 >= tg_expected)
        relpEngineSetStop(tg_eng);
    return RELP_RET_OK;
}

static void tg_dbg(char *fmt, ...)
{
}

int main(int argc, char **argv)
{
    const char *port = NULL;
    int c;
    while ((c = getopt(argc, argv, "p:n:")) != -1) {
        if (c == 'p')
            port = optarg;
        else if (c == 'n')
            tg_expected = atol(optarg);
        else
            return 2;
    }
    if (!port || tg_expected <= 0) {
        fprintf(stderr, "usage: relp_noop -p PORT -n EXPECTED\n");
        return 2;
    }
    relpSrv_t *srv;
    relpEngineConstruct(&tg_eng);
    relpEngineSetDbgprint(tg_eng, tg_dbg);
    relpEngineSetEnableCmd(tg_eng, (unsigned char *)"syslog", eRelpCmdState_Required);
    relpEngineSetSyslogRcv2(tg_eng, tg_rcv);
    relpEngineSetDnsLookupMode(tg_eng, 0);
    relpEngineListnerConstruct(tg_eng, &srv);
    relpSrvSetLstnPort(srv, (unsigned char *)port);
    relpSrvSetLstnAddr(srv, (unsigned char *)"127.0.0.1");
    relpSrvSetMaxDataSize(srv, 1 << 20);
    if (relpEngineListnerConstructFinalize(tg_eng, srv) != RELP_RET_OK) {
        fprintf(stderr, "relp_noop: cannot listen on 127.0.0.1:%s\n", port);
        return 3;
    }
    printf("ready\n");
    fflush(stdout);
    relpEngineRun(tg_eng);
    long hwm = 0;
    char line[256];
    FILE *st = fopen("/proc/self/status", "r");
    while (st && fgets(line, sizeof(line), st))
        sscanf(line, "VmHWM: %ld", &hwm);
    if (st)
        fclose(st);
    printf("received %ld\npeak_rss_kb %ld\n", (long)atomic_load(&tg_count), hwm);
    relpEngineDestruct(&tg_eng);
    return 0;
}
