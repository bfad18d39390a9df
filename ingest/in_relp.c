/*
 * in_relp.c - RELP listeners (librelp), plain or TLS with peer
 * authentication.  See inputs.h.
 *
 * librelp sends "200 OK" as soon as the receive callback returns and ignores
 * its return value (reference/formats.md section 3.3), so the callback is
 * where the promise is kept: it appends the message to the spool and waits
 * for the fsync policy before it returns.  If the spool cannot take the
 * record, the callback retries and never returns early: an unacknowledged
 * frame is resent by the sender after a reconnect, a false ack would be a
 * loss.  If the collector is stopping while the spool still refuses, the
 * process exits without acknowledging (status 3).
 *
 * One librelp engine serves all its sessions from one thread, so a callback
 * that waits for an fsync stalls the others: each listener gets its own
 * engine and thread.  Messages longer than max_message are truncated
 * (librelp's truncate mode keeps max_message + 1 bytes, which tells us the
 * frame was longer; the record keeps max_message of them) and marked,
 * never dropped.  max_message is at most TG_RECORD_MAX (core/limits.h), so
 * every acknowledged record is one the spool reads back.  A peer that fails TLS
 * authentication is refused by librelp before any frame is read; the
 * callback below logs and counts it.
 *
 * Threads: the engine thread runs the callbacks; flush/stats/stop come from
 * the main thread.  The tg_source has its own lock.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <librelp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "ingest/inputs.h"

struct tg_relp_listener {
    const struct tg_relp_conf *conf;
    char label[96]; /* "[input.relp.NAME] 127.0.0.1:2514" for messages */
    relpEngine_t *eng;
    pthread_t thread;
    atomic_bool running, stopping;
    struct tg_spool *sp;
    struct tg_source *src;
    struct tg_input_counters *m; /* messages and bytes, also in /metrics */
    atomic_uint_fast64_t truncated, auth_failures, errors, spool_retries;
};

static const char *const tg_auth_choices[] = {"name", "fingerprint", "certvalid", NULL};

static const char *tg_relp_check(const void *section)
{
    const struct tg_relp_conf *c = section;
    if (!c->listen)
        return "listen is required (host:port, e.g. 127.0.0.1:2514)";
    if (!c->tls)
        return NULL;
    if (!c->tls_ca || !c->tls_cert || !c->tls_key)
        return "tls = on needs tls_ca, tls_cert and tls_key";
    if (c->tls_auth_mode != TG_RELP_AUTH_CERTVALID && !c->tls_permitted_peers)
        return "tls_auth_mode name or fingerprint needs tls_permitted_peers (names or SHA1 "
               "fingerprints, comma-separated)";
    return NULL;
}

#define OFF(f) offsetof(struct tg_relp_conf, f)
static const struct tg_opt tg_relp_opts[] = {
    {"listen", TG_OPT_ADDR, "127.0.0.1:2514", OFF(listen), "address:port to listen on"},
    {"tls", TG_OPT_BOOL, "off", OFF(tls), "RELP over TLS (needs tls_ca, tls_cert, tls_key)"},
    {"tls_ca", TG_OPT_STR, NULL, OFF(tls_ca), "CA certificate file (PEM)"},
    {"tls_cert", TG_OPT_STR, NULL, OFF(tls_cert), "this listener's certificate (PEM)"},
    {"tls_key", TG_OPT_STR, NULL, OFF(tls_key), "this listener's private key (PEM)"},
    {"tls_auth_mode", TG_OPT_ENUM, "certvalid", OFF(tls_auth_mode),
     "how peers are authenticated: name (certificate names in tls_permitted_peers), "
     "fingerprint (SHA1 fingerprints in tls_permitted_peers) or certvalid (any certificate "
     "signed by tls_ca)",
     tg_auth_choices},
    {"tls_permitted_peers", TG_OPT_STR, NULL, OFF(tls_permitted_peers),
     "comma-separated peer names (wildcards allowed) or fingerprints (SHA1:..)"},
    {"max_message", TG_OPT_SIZE, "65536", OFF(max_message),
     "longer messages are truncated, marked partial and kept (at most 64M, the largest record "
     "the spool takes)",
     NULL, 256, TG_RECORD_MAX},
    {NULL},
};

const struct tg_section_def tg_relp_section = {
    .name = "input.relp",
    .multi = true,
    .doc = "A RELP listener (rsyslog omrelp sends here).",
    .opts = tg_relp_opts,
    .size = sizeof(struct tg_relp_conf),
    .name_offset = OFF(name),
    .check = tg_relp_check,
};

static relpRetVal tg_relp_rcv(void *usr, unsigned char *host, unsigned char *ip, unsigned char *msg,
                              size_t len)
{
    struct tg_relp_listener *l = usr;
    size_t max = (size_t)l->conf->max_message;
    struct tg_spool_rec rec = {
        .input = TG_SPOOL_IN_RELP,
        .peer = tg_str_c((const char *)ip),
        .received = tg_time_now(),
        .truncated = len > max,
        .data = (const char *)msg,
        .len = len > max ? max : len,
    };
    uint64_t seq = 0;
    int tries = 0;
    /* never return (= acknowledge) before the record is stored */
    while (tg_spool_append(l->sp, &rec, &seq) != 0 || tg_spool_commit(l->sp, seq) != 0) {
        atomic_fetch_add(&l->spool_retries, 1);
        if (atomic_load(&l->stopping)) {
            tg_err("%s: the spool refuses records while stopping; exiting without "
                   "acknowledging (the sender will resend)",
                   l->label);
            _exit(3);
        }
        if (tries++ % 10 == 0)
            tg_err("%s: cannot store a message in the spool; holding the acknowledgement and "
                   "retrying (free space in spool_dir?)",
                   l->label);
        sleep(1);
    }
    if (rec.truncated)
        atomic_fetch_add(&l->truncated, 1);
    tg_metrics_input_add(l->m, rec.len);
    tg_source_add(l->src, tg_spool_event(&rec, seq));
    return RELP_RET_OK;
}

static void tg_relp_on_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code)
{
    struct tg_relp_listener *l = usr;
    if (l)
        atomic_fetch_add(&l->auth_failures, 1);
    tg_warn("%s: TLS peer refused: %s (peer: %s); check tls_auth_mode / tls_permitted_peers",
            l ? l->label : "[input.relp]", errmsg ? errmsg : "authentication failed",
            authinfo && authinfo[0] ? authinfo : "unknown");
}

static void tg_relp_on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
    struct tg_relp_listener *l = usr;
    if (l)
        atomic_fetch_add(&l->errors, 1);
    tg_warn("%s: %s: %s (librelp %d)", l ? l->label : "[input.relp]", objinfo ? objinfo : "",
            errmsg ? errmsg : "", (int)code);
}

static void tg_relp_on_generic_err(char *objinfo, char *errmsg, relpRetVal code)
{
    tg_warn("relp: %s: %s (librelp %d)", objinfo ? objinfo : "", errmsg ? errmsg : "", (int)code);
}

static void tg_relp_dbg(char *fmt, ...)
{
}

static void *tg_relp_main(void *arg)
{
    struct tg_relp_listener *l = arg;
    relpEngineRun(l->eng);
    atomic_store(&l->running, false);
    return NULL;
}

/* Wakes a blocked epoll_wait in the engine thread (no SA_RESTART). */
static void tg_relp_wake(int sig)
{
}

/* Split "host:port" / "[v6]:port" into host and port (host "" = any).  Caller frees both. */
static void tg_split_addr(const char *addr, char **host, char **port)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    *host = tg_xstrndup(h, hl);
    *port = tg_xstrdup(colon + 1);
}

static int tg_relp_tls(struct tg_relp_listener *l, relpSrv_t *srv)
{
    const struct tg_relp_conf *c = l->conf;
    if (relpSrvEnableTLS2(srv) != RELP_RET_OK || relpSrvSetCACert(srv, c->tls_ca) != RELP_RET_OK ||
        relpSrvSetOwnCert(srv, c->tls_cert) != RELP_RET_OK ||
        relpSrvSetPrivKey(srv, c->tls_key) != RELP_RET_OK ||
        relpSrvSetAuthMode(srv, (char *)tg_auth_choices[c->tls_auth_mode]) != RELP_RET_OK) {
        tg_err("%s: cannot set up TLS (check tls_ca, tls_cert, tls_key, tls_auth_mode)", l->label);
        return TG_ECONFIG;
    }
    if (!c->tls_permitted_peers)
        return 0;
    char *peers = tg_xstrdup(c->tls_permitted_peers), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(peers, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t')
            t++;
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            t[--n] = '\0';
        if (n && relpSrvAddPermittedPeer(srv, t) != RELP_RET_OK) {
            tg_err("%s: tls_permitted_peers: cannot add '%s'", l->label, t);
            rc = TG_ECONFIG;
        }
    }
    free(peers);
    return rc;
}

int tg_relp_start(const struct tg_relp_conf *conf, struct tg_spool *sp, struct tg_pipeline *p,
                  struct tg_relp_listener **out)
{
    struct sigaction sa = {.sa_handler = tg_relp_wake};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);

    struct tg_relp_listener *l = tg_xcalloc(1, sizeof(*l));
    l->conf = conf;
    l->sp = sp;
    snprintf(l->label, sizeof(l->label), "[input.relp%s%s] %s",
             conf->name && conf->name[0] ? "." : "", conf->name ? conf->name : "", conf->listen);
    /* here, not in the section check: `ingest -c` and `policy check -c` load
     * the same file and need not read the listener's key */
    const struct {
        const char *key, *path;
    } files[] = {
        {"tls_ca", conf->tls_ca}, {"tls_cert", conf->tls_cert}, {"tls_key", conf->tls_key}};
    for (size_t i = 0; conf->tls && i < 3; i++)
        if (access(files[i].path, R_OK) != 0) {
            tg_err("%s: %s: cannot read %s: %s; give a PEM file the collector can read", l->label,
                   files[i].key, files[i].path, strerror(errno));
            free(l);
            return TG_EIO;
        }
    char *host, *port;
    tg_split_addr(conf->listen, &host, &port);
    relpSrv_t *srv = NULL;
    int rc = TG_ECONFIG;
    if (relpEngineConstruct(&l->eng) != RELP_RET_OK) {
        tg_err("%s: cannot create the librelp engine", l->label);
        goto fail;
    }
    relpEngineSetDbgprint(l->eng, tg_relp_dbg);
    relpEngineSetEnableCmd(l->eng, (unsigned char *)"syslog", eRelpCmdState_Required);
    relpEngineSetSyslogRcv2(l->eng, tg_relp_rcv);
    relpEngineSetDnsLookupMode(l->eng, 0);
    relpEngineSetOnAuthErr(l->eng, tg_relp_on_auth_err);
    relpEngineSetOnErr(l->eng, tg_relp_on_err);
    relpEngineSetOnGenericErr(l->eng, tg_relp_on_generic_err);
    if (relpEngineListnerConstruct(l->eng, &srv) != RELP_RET_OK)
        goto fail;
    relpSrvSetLstnPort(srv, (unsigned char *)port);
    if (host[0])
        relpSrvSetLstnAddr(srv, (unsigned char *)host);
    relpSrvSetUsrPtr(srv, l);
    relpSrvSetMaxDataSize(srv, (size_t)conf->max_message + 1);
    relpSrvSetOversizeMode(srv, RELP_OVERSIZE_TRUNCATE);
    if (conf->tls && tg_relp_tls(l, srv) != 0)
        goto fail;
    relpRetVal r = relpEngineListnerConstructFinalize(l->eng, srv);
    if (r != RELP_RET_OK) {
        tg_err("%s: cannot listen (librelp error %d%s); is the address in use or not local?",
               l->label, (int)r, r == RELP_RET_COULD_NOT_BIND ? ": could not bind" : "");
        rc = TG_EIO;
        goto fail;
    }
    char mlabel[80];
    snprintf(mlabel, sizeof(mlabel), "input.relp%s%s", conf->name && conf->name[0] ? "." : "",
             conf->name ? conf->name : "");
    l->m = tg_metrics_input(mlabel, (uint16_t)atoi(port));
    l->src = tg_pipeline_source(p);
    atomic_store(&l->running, true);
    pthread_create(&l->thread, NULL, tg_relp_main, l);
    pthread_setname_np(l->thread, "tg-in-relp");
    tg_info("%s: listening%s", l->label, conf->tls ? " (TLS)" : "");
    free(host);
    free(port);
    *out = l;
    return 0;
fail:
    if (l->eng)
        relpEngineDestruct(&l->eng);
    free(host);
    free(port);
    free(l);
    return rc;
}

void tg_relp_flush(struct tg_relp_listener *l)
{
    tg_source_flush(l->src);
}

void tg_relp_stats(const struct tg_relp_listener *l, struct tg_relp_stats *st)
{
    st->messages = l->m ? atomic_load(&l->m->records) : 0;
    st->bytes = l->m ? atomic_load(&l->m->bytes) : 0;
    st->truncated = atomic_load(&l->truncated);
    st->auth_failures = atomic_load(&l->auth_failures);
    st->errors = atomic_load(&l->errors);
    st->spool_retries = atomic_load(&l->spool_retries);
}

void tg_relp_stop(struct tg_relp_listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stopping, true);
    /* the engine checks its stop flag only between epoll_waits: poke it
     * until it leaves, and set the flag each time: a stop set before the
     * engine got going was lost (when a later listener could not bind,
     * serve hung in 1 start of 8) */
    while (atomic_load(&l->running)) {
        relpEngineSetStop(l->eng);
        pthread_kill(l->thread, SIGUSR2);
        usleep(10000);
    }
    pthread_join(l->thread, NULL);
    relpEngineDestruct(&l->eng);
    tg_source_flush(l->src);
    struct tg_relp_stats st;
    tg_relp_stats(l, &st);
    tg_info("%s: stopped: %llu messages (%llu bytes), %llu truncated, %llu TLS peers refused, "
            "%llu session errors, %llu spool retries",
            l->label, (unsigned long long)st.messages, (unsigned long long)st.bytes,
            (unsigned long long)st.truncated, (unsigned long long)st.auth_failures,
            (unsigned long long)st.errors, (unsigned long long)st.spool_retries);
    free(l);
}
