/*
 * in_relp.c - the [input.relp] source plugin: RELP listeners (librelp),
 * plain or TLS with peer authentication.  See source.h.
 *
 * librelp sends "200 OK" as soon as the receive callback returns and ignores
 * its return value (reference/formats.md section 3.3), so the callback is
 * where the promise is kept: it hands the message to the intake, which
 * appends it to the spool and waits for the fsync policy before it returns
 * (TG_INTAKE_COMMIT).  If the spool cannot take the record, the intake
 * retries and the callback never returns early: an unacknowledged frame is
 * resent by the sender after a reconnect, a false ack would be a loss.  If
 * the collector is stopping while the spool still refuses, the process
 * exits without acknowledging (status 3).
 *
 * One librelp engine serves all its sessions from one thread, so a callback
 * that waits for an fsync stalls the others, and that thread (librelp, the
 * kernel's TCP, the spool append) bounds what one engine takes in: each
 * listener gets its own engine and thread, and `engines = N` gives a
 * listener N of them on the same address, each with its own thread and its
 * own intake source (batch), so they share nothing but the spool.  The
 * kernel spreads the connections over them (SO_REUSEPORT, by a hash of the
 * peer's address and port: a session stays on its engine, so its records
 * keep their order).  librelp has no option for SO_REUSEPORT and binds its
 * sockets itself, so while an engine of such a listener binds, this thread
 * asks for it through the bind() below, which the process's other binds go
 * through unchanged.  Before that, a plain bind probes the address, so a
 * port held by anyone else (another collector) is still "in use" and never
 * shared.  Messages longer than max_message are truncated by
 * the intake (librelp's truncate mode keeps max_message + 1 bytes, which
 * tells it the frame was longer; the record keeps max_message of them) and
 * marked, never dropped.  max_message is at most TG_RECORD_MAX
 * (core/limits.h), so every acknowledged record is one the spool reads
 * back.  A peer that fails TLS
 * authentication is refused by librelp before any frame is read; the
 * callback below logs and counts it.
 *
 * Threads: the engine threads run the callbacks; check/start/stop come from
 * the main thread.
 */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <librelp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "ingest/intake.h"
#include "ingest/source.h"

/* [input.relp] / [input.relp.NAME] */
enum tg_relp_auth { TG_RELP_AUTH_NAME = 0, TG_RELP_AUTH_FINGERPRINT, TG_RELP_AUTH_CERTVALID };
struct tg_relp_conf {
    char *name; /* the NAME of [input.relp.NAME], "" for [input.relp] */
    char *listen;
    bool tls;
    char *tls_ca, *tls_cert, *tls_key;
    int tls_auth_mode; /* enum tg_relp_auth */
    char *tls_permitted_peers;
    int64_t max_message;
    int64_t engines;
};

#define TG_RELP_MAX_ENGINES 64

struct tg_relp_listener;

/* One librelp engine of a listener, its thread and its intake source. */
struct tg_relp_engine {
    struct tg_relp_listener *l;
    relpEngine_t *eng;
    pthread_t thread;
    atomic_bool running;
    struct tg_intake_src *src;
};

struct tg_relp_listener {
    const struct tg_relp_conf *conf;
    char label[96]; /* "[input.relp.NAME] 127.0.0.1:2514" for messages */
    struct tg_relp_engine e[TG_RELP_MAX_ENGINES];
    int n; /* engines started */
    atomic_uint_fast64_t auth_failures, errors;
};

/* Set on a thread while it creates the listening socket of an engine that
 * shares its address with others (see the top of the file). */
static _Thread_local bool tg_relp_reuseport;

/* Every bind() of the process comes here (it takes the place of libc's,
 * for librelp too); only one made while tg_relp_reuseport is set asks for
 * SO_REUSEPORT first.  Any thread. */
int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    if (tg_relp_reuseport) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
    return (int)syscall(SYS_bind, fd, addr, len);
}

static const char *const tg_auth_choices[] = {"name", "fingerprint", "certvalid", NULL};

static const char *tg_relp_section_check(const void *section)
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
    {"engines", TG_OPT_INT, "1", OFF(engines),
     "librelp engines (each one thread) listening on this address; the kernel spreads the "
     "sessions over them (SO_REUSEPORT), so one listener uses more than one core; a session "
     "stays on its engine",
     NULL, 1, TG_RELP_MAX_ENGINES},
    {NULL},
};

const struct tg_section_def tg_relp_section = {
    .name = "input.relp",
    .multi = true,
    .doc = "A RELP listener (rsyslog omrelp sends here).",
    .opts = tg_relp_opts,
    .size = sizeof(struct tg_relp_conf),
    .name_offset = OFF(name),
    .check = tg_relp_section_check,
};

static relpRetVal tg_relp_rcv(void *usr, unsigned char *host, unsigned char *ip, unsigned char *msg,
                              size_t len)
{
    struct tg_relp_engine *e = usr;
    /* never return (= acknowledge) before the record is stored */
    if (tg_intake_message(e->src, tg_str_c((const char *)ip), (const char *)msg, len,
                          TG_INTAKE_COMMIT) != 0) {
        tg_err("%s: exiting without acknowledging (the sender will resend)", e->l->label);
        _exit(3);
    }
    return RELP_RET_OK;
}

static void tg_relp_on_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code)
{
    struct tg_relp_listener *l = usr ? ((struct tg_relp_engine *)usr)->l : NULL;
    if (l)
        atomic_fetch_add(&l->auth_failures, 1);
    tg_warn("%s: TLS peer refused: %s (peer: %s); check tls_auth_mode / tls_permitted_peers",
            l ? l->label : "[input.relp]", errmsg ? errmsg : "authentication failed",
            authinfo && authinfo[0] ? authinfo : "unknown");
}

static void tg_relp_on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
    struct tg_relp_listener *l = usr ? ((struct tg_relp_engine *)usr)->l : NULL;
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
    struct tg_relp_engine *e = arg;
    relpEngineRun(e->eng);
    atomic_store(&e->running, false);
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

static void tg_relp_label(const struct tg_relp_conf *conf, char *out, size_t n)
{
    snprintf(out, n, "[input.relp%s%s] %s", conf->name && conf->name[0] ? "." : "",
             conf->name ? conf->name : "", conf->listen);
}

/* The TLS files readable (with tls on), reported through ck: here, not in
 * the section check, because `ingest -c` and `policy check -c` load the
 * same file and need not read the listener's key. */
static void tg_relp_check_tls(struct tg_findings *ck, const struct tg_section *s,
                              const struct tg_relp_conf *conf)
{
    const struct {
        const char *key, *path;
    } files[] = {
        {"tls_ca", conf->tls_ca}, {"tls_cert", conf->tls_cert}, {"tls_key", conf->tls_key}};
    for (size_t i = 0; conf->tls && i < 3; i++)
        if (files[i].path)
            tg_check_readable(ck, s, files[i].key, files[i].path, "a PEM file");
}

/* `trailguard check`: the listen address bindable, the TLS files readable. */
static void tg_relp_check(struct tg_findings *ck, const struct tg_section *s)
{
    tg_check_listen(ck, s, "listen");
    tg_relp_check_tls(ck, s, s->data);
}

/* Can host:port be bound by a socket that shares it with no one?  0, or
 * TG_EIO (logged) when it is in use or cannot be bound. */
static int tg_relp_probe(const struct tg_relp_listener *l, const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res) == 0 ? 0 : TG_EIO;
    for (struct addrinfo *r = res; rc == 0 && r; r = r->ai_next) {
        int fd = socket(r->ai_family, r->ai_socktype | SOCK_CLOEXEC, r->ai_protocol);
        int one = 1;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
            bind(fd, r->ai_addr, r->ai_addrlen) != 0)
            rc = TG_EIO;
        if (fd >= 0)
            close(fd);
    }
    if (res)
        freeaddrinfo(res);
    if (rc != 0)
        tg_err("%s: cannot listen: %s; is the address in use or not local?", l->label,
               strerror(errno));
    return rc;
}

/* Create, configure and bind engine e (not started).  0, TG_ECONFIG or TG_EIO (logged). */
static int tg_relp_engine_new(struct tg_relp_listener *l, struct tg_relp_engine *e,
                              const char *host, const char *port)
{
    const struct tg_relp_conf *conf = l->conf;
    relpSrv_t *srv = NULL;
    e->l = l;
    if (relpEngineConstruct(&e->eng) != RELP_RET_OK) {
        tg_err("%s: cannot create the librelp engine", l->label);
        e->eng = NULL;
        return TG_ECONFIG;
    }
    relpEngineSetDbgprint(e->eng, tg_relp_dbg);
    relpEngineSetEnableCmd(e->eng, (unsigned char *)"syslog", eRelpCmdState_Required);
    relpEngineSetSyslogRcv2(e->eng, tg_relp_rcv);
    relpEngineSetDnsLookupMode(e->eng, 0);
    relpEngineSetOnAuthErr(e->eng, tg_relp_on_auth_err);
    relpEngineSetOnErr(e->eng, tg_relp_on_err);
    relpEngineSetOnGenericErr(e->eng, tg_relp_on_generic_err);
    if (relpEngineListnerConstruct(e->eng, &srv) != RELP_RET_OK)
        return TG_ECONFIG;
    relpSrvSetLstnPort(srv, (unsigned char *)port);
    if (host[0])
        relpSrvSetLstnAddr(srv, (unsigned char *)host);
    relpSrvSetUsrPtr(srv, e);
    relpSrvSetMaxDataSize(srv, (size_t)conf->max_message + 1);
    relpSrvSetOversizeMode(srv, RELP_OVERSIZE_TRUNCATE);
    if (conf->tls && tg_relp_tls(l, srv) != 0)
        return TG_ECONFIG;
    tg_relp_reuseport = conf->engines > 1;
    relpRetVal r = relpEngineListnerConstructFinalize(e->eng, srv);
    tg_relp_reuseport = false;
    if (r != RELP_RET_OK) {
        tg_err("%s: cannot listen (librelp error %d%s); is the address in use or not local?",
               l->label, (int)r, r == RELP_RET_COULD_NOT_BIND ? ": could not bind" : "");
        return TG_EIO;
    }
    return 0;
}

/* Stop and free the engines of l (those started, then those only made). */
static void tg_relp_engines_free(struct tg_relp_listener *l, int made)
{
    for (int i = 0; i < made; i++) {
        struct tg_relp_engine *e = &l->e[i];
        /* the engine checks its stop flag only between epoll_waits: poke it
         * until it leaves, and set the flag each time: a stop set before
         * the engine got going was lost (when a later listener could not
         * bind, serve hung in 1 start of 8) */
        while (i < l->n && atomic_load(&e->running)) {
            relpEngineSetStop(e->eng);
            pthread_kill(e->thread, SIGUSR2);
            usleep(10000);
        }
        if (i < l->n)
            pthread_join(e->thread, NULL);
        if (e->eng)
            relpEngineDestruct(&e->eng);
    }
}

static int tg_relp_start(struct tg_input *in, const void *section)
{
    const struct tg_relp_conf *conf = section;
    struct sigaction sa = {.sa_handler = tg_relp_wake};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);

    struct tg_relp_listener *l = tg_xcalloc(1, sizeof(*l));
    l->conf = conf;
    tg_relp_label(conf, l->label, sizeof(l->label));
    struct tg_findings ck = {.label = l->label}; /* log mode */
    tg_relp_check_tls(&ck, NULL, conf);
    if (ck.problems) {
        free(l);
        return TG_EIO;
    }
    char *host, *port;
    tg_split_addr(conf->listen, &host, &port);
    int rc = conf->engines > 1 ? tg_relp_probe(l, host, port) : 0;
    int made = 0;
    while (rc == 0 && made < conf->engines)
        rc = tg_relp_engine_new(l, &l->e[made++], host, port);
    if (rc != 0)
        goto fail;
    char mlabel[80];
    snprintf(mlabel, sizeof(mlabel), "input.relp%s%s", conf->name && conf->name[0] ? "." : "",
             conf->name ? conf->name : "");
    /* the engines of one listener count into the same series */
    struct tg_intake_src_conf ic = {.ops = &tg_in_relp,
                                    .label = l->label,
                                    .max_record = conf->max_message,
                                    .format = TG_FMT_AUTO,
                                    .metrics_label = mlabel,
                                    .metrics_port = (uint16_t)atoi(port)};
    for (; l->n < made; l->n++) {
        struct tg_relp_engine *e = &l->e[l->n];
        e->src = tg_intake_src_new(in->intake, &ic);
        atomic_store(&e->running, true);
        pthread_create(&e->thread, NULL, tg_relp_main, e);
        pthread_setname_np(e->thread, "tg-in-relp");
    }
    if (conf->engines > 1)
        tg_info("%s: listening%s with %d engines", l->label, conf->tls ? " (TLS)" : "", l->n);
    else
        tg_info("%s: listening%s", l->label, conf->tls ? " (TLS)" : "");
    free(host);
    free(port);
    in->ctx = l;
    return 0;
fail:
    tg_relp_engines_free(l, made);
    free(host);
    free(port);
    free(l);
    return rc;
}

static void tg_relp_stop(struct tg_input *in)
{
    struct tg_relp_listener *l = in->ctx;
    if (!l)
        return;
    tg_relp_engines_free(l, l->n);
    struct tg_intake_stats sum = {0};
    char per[TG_RELP_MAX_ENGINES * 22] = "";
    size_t off = 0;
    for (int i = 0; i < l->n; i++) {
        struct tg_intake_stats st;
        tg_intake_src_stats(l->e[i].src, &st);
        tg_intake_src_free(l->e[i].src);
        sum.records += st.records;
        sum.bytes += st.bytes;
        sum.truncated += st.truncated;
        sum.spool_retries += st.spool_retries;
        if (l->n > 1 && off < sizeof(per))
            off += (size_t)snprintf(per + off, sizeof(per) - off, "%s%llu", i ? "/" : "",
                                    (unsigned long long)st.records);
    }
    tg_info("%s: stopped: %llu messages (%llu bytes), %llu truncated, %llu TLS peers refused, "
            "%llu session errors, %llu spool retries%s%s",
            l->label, (unsigned long long)sum.records, (unsigned long long)sum.bytes,
            (unsigned long long)sum.truncated, (unsigned long long)atomic_load(&l->auth_failures),
            (unsigned long long)atomic_load(&l->errors), (unsigned long long)sum.spool_retries,
            l->n > 1 ? "; messages by engine " : "", per);
    free(l);
    in->ctx = NULL;
}

const struct tg_source_ops tg_in_relp = {
    .name = "relp",
    .code = TG_SPOOL_IN_RELP,
    .section = &tg_relp_section,
    .check = tg_relp_check,
    .start = tg_relp_start,
    .stop = tg_relp_stop,
};
