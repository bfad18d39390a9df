/*
 * check.c - `trailguard check`.  See check.h.
 *
 * The configuration is loaded with tg_config_load_all, which prints every
 * problem of the keys themselves and keeps the configuration; then each
 * section gets the checks of its row in tg_check_sections (by section
 * name), which look at what its keys name the way start-up will use it (a
 * key whose value was refused reads as unset, so it is not looked at
 * again):
 *   [collector]    spool_dir writable (or creatable), metrics_listen bindable
 *   [parsers]      the parse contexts build (snoopy_format compiles), for
 *                  the formats the [input.file] sections force too
 *   [input.relp]   listen bindable; with tls, tls_ca/cert/key readable (as
 *                  the listener checks them when it starts)
 *   [input.file]   path readable (a path that does not exist yet is a note:
 *                  the follower waits for it)
 *   [policy]       the snapshot loads (as the collector loads it)
 *   [sink.file]    dir writable (or creatable), hmac_key_file a usable key,
 *                  signing_key_file an Ed25519 private key that loads
 * and two listen keys naming the same port are a problem.  [sink.kafka] has
 * nothing to look at without contacting the brokers, which a check does
 * not do.  Keys are read through the option tables (tg_config_str), not
 * the sections' structs.
 *
 * Read-only: directories are judged with access(2) as the user running the
 * check (the unit runs it as the service user), never by creating a file;
 * the locks are not touched.  An address is bound with SO_REUSEADDR (as the
 * listeners bind) and closed at once, never listened on.  When it is in
 * use, the holder is looked up in /proc (core/sockinfo.h): trailguard
 * itself is a note ("in use (the running collector?)", definite when that
 * process holds this configuration's spool lock), anything else a problem.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sockinfo.h"
#include "parsers/parse.h"
#include "policy/snapshot.h"
#include "sinks/chain.h"
#include "sinks/checkpoint.h"
#include "sinks/segment.h"
#include "tools/check.h"
#include "tools/commands.h"

const char tg_check_usage[] =
    "usage: trailguard check -c FILE\n"
    "\n"
    "Check a configuration without starting anything: every key (as `serve` loads\n"
    "them), the TLS files, hmac_key_file and followed files it names, the policy\n"
    "snapshot (loaded as the collector loads it), the listen addresses (bound and\n"
    "released at once) and the spool and store directories (writable by the user\n"
    "running the check).  It writes nothing and takes no lock, so it can run beside\n"
    "the collector: an address the running collector holds is a note, not a problem.\n"
    "The systemd unit runs it before starting and before reloading.\n"
    "\n"
    "  -c, --config FILE   the configuration to check (INI)\n"
    "\n"
    "Each finding is one line on stderr, FILE:LINE: [section] key: what (notes say\n"
    "\"note:\"); the last line says whether the configuration is good.\n"
    "Exit status: 0 good (notes allowed), 2 problems found (or a usage error).\n";

static void tg_check_report(struct tg_findings *ck, const struct tg_section *s, const char *key,
                            const char *kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void tg_check_report(struct tg_findings *ck, const struct tg_section *s, const char *key,
                            const char *kind, const char *fmt, va_list ap)
{
    char label[300];
    fprintf(stderr, "%s%s:%d: [%s] ", tg_log_prefix(kind[0] ? TG_LOG_INFO : TG_LOG_ERROR), ck->file,
            key ? tg_config_line(s, key) : s->line,
            tg_config_section_label(s, label, sizeof(label)));
    if (key)
        fprintf(stderr, "%s: ", key);
    fputs(kind, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tg_check_problem(struct tg_findings *ck, const struct tg_section *s, const char *key,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tg_check_report(ck, s, key, "", fmt, ap);
    va_end(ap);
    ck->problems++;
}

void tg_check_note(struct tg_findings *ck, const struct tg_section *s, const char *key,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tg_check_report(ck, s, key, "note: ", fmt, ap);
    va_end(ap);
    ck->notes++;
}

/* The state of one check run: the report, the config, the ports seen. */
struct tg_check_run {
    struct tg_findings ck;
    const struct tg_config *cfg;
    struct {
        const struct tg_section *s;
        const char *key;
        char port[8];
    } ports[64];
    size_t nports;
};

/* ---- files and directories ---- */

/* A file start-up will read: readable, and a regular file. */
static void tg_check_readable(struct tg_findings *ck, const struct tg_section *s, const char *key,
                              const char *path, const char *what)
{
    struct stat st;
    if (access(path, R_OK) != 0)
        tg_check_problem(ck, s, key, "cannot read %s: %s; give %s this user can read", path,
                         strerror(errno), what);
    else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        tg_check_problem(ck, s, key, "%s is not a regular file; give %s", path, what);
}

/*
 * A directory start-up writes in: an existing one must be writable, with
 * every file in it readable (and read-write for the names in `rw`, NULL:
 * for all); a missing one must be creatable (its nearest existing parent
 * writable), which is a note.
 */
static void tg_check_dir(struct tg_findings *ck, const struct tg_section *s, const char *key,
                         const char *dir, const char *const *rw)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        /* the nearest existing parent: where mkdir -p starts */
        char *parent = tg_xstrdup(dir);
        for (;;) {
            char *slash = strrchr(parent, '/');
            if (!slash) {
                strcpy(parent, "."); /* relative: its first component is made in . */
                break;
            }
            if (slash == parent) {
                parent[1] = '\0';
                break;
            }
            *slash = '\0';
            if (stat(parent, &st) == 0)
                break;
        }
        errno = ENOTDIR;
        if ((stat(parent, &st) == 0 && !S_ISDIR(st.st_mode)) || access(parent, W_OK | X_OK) != 0)
            tg_check_problem(ck, s, key,
                             "%s does not exist and cannot be created: %s: %s; create it for "
                             "the user the collector runs as",
                             dir, parent, strerror(errno));
        else
            tg_check_note(ck, s, key, "%s does not exist yet; the collector creates it", dir);
        free(parent);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        tg_check_problem(ck, s, key, "%s is not a directory", dir);
        return;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        tg_check_problem(ck, s, key,
                         "cannot write in %s: %s; make it writable for the user the collector "
                         "runs as (and, under systemd, one of the unit's ReadWritePaths)",
                         dir, strerror(errno));
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        tg_check_problem(ck, s, key, "cannot list %s: %s", dir, strerror(errno));
        return;
    }
    struct dirent *de;
    int bad = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        bool need_w = !rw;
        for (size_t i = 0; rw && rw[i]; i++)
            need_w |= strcmp(rw[i], de->d_name) == 0;
        char *path = tg_xasprintf("%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            access(path, need_w ? R_OK | W_OK : R_OK) != 0 && bad++ < 3)
            tg_check_problem(ck, s, key, "%s: %s for this user: %s; fix its owner or mode", path,
                             need_w ? "not readable and writable" : "not readable",
                             strerror(errno));
        free(path);
    }
    closedir(d);
    if (bad > 3)
        tg_check_problem(ck, s, key, "and %d more files in %s like those", bad - 3, dir);
}

/* ---- listen addresses ---- */

/* Does process pid hold the file `path` open?  1 yes, 0 no, -1 cannot tell. */
static int tg_check_holds(pid_t pid, const char *path)
{
    char real[PATH_MAX], fds[64];
    if (!realpath(path, real))
        return 0;
    snprintf(fds, sizeof(fds), "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(fds);
    if (!d)
        return -1;
    struct dirent *de;
    int held = 0;
    while (!held && (de = readdir(d)) != NULL) {
        char link[352], target[PATH_MAX];
        snprintf(link, sizeof(link), "%s/%s", fds, de->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            held = strcmp(target, real) == 0;
        }
    }
    closedir(d);
    return held;
}

/* addr is in use: say by whom; trailguard is a note, anything else a problem. */
static void tg_check_in_use(struct tg_check_run *r, const struct tg_section *s, const char *key,
                            const char *addr, uint16_t port)
{
    struct tg_sockset set;
    char comm[16] = "";
    pid_t pid = 0;
    if (tg_sock_find(port, TG_TCP_LISTEN, &set) == 0) {
        pid = tg_sock_owner(&set, comm);
        free(set.inode);
    }
    if (pid && strcmp(comm, "trailguard") == 0) {
        const struct tg_section *col = NULL;
        for (size_t i = 0; i < r->cfg->n; i++)
            if (strcmp(r->cfg->sections[i].def->name, "collector") == 0)
                col = &r->cfg->sections[i];
        const char *spool = col ? tg_config_str(col, "spool_dir") : NULL;
        char *lock = spool ? tg_xasprintf("%s/lock", spool) : NULL;
        if (lock && tg_check_holds(pid, lock) == 1)
            tg_check_note(&r->ck, s, key,
                          "%s is in use (the running collector: trailguard pid %ld, which holds "
                          "this configuration's spool)",
                          addr, (long)pid);
        else
            tg_check_note(&r->ck, s, key,
                          "%s is in use (the running collector? trailguard pid %ld)", addr,
                          (long)pid);
        free(lock);
    } else if (pid) {
        tg_check_problem(&r->ck, s, key,
                         "%s is in use by %s (pid %ld); choose a free port or stop that program",
                         addr, comm[0] ? comm : "another program", (long)pid);
    } else {
        tg_check_problem(&r->ck, s, key,
                         "%s is in use by another process (not visible to this user); choose a "
                         "free port",
                         addr);
    }
}

/* A listen address: not named twice, resolvable, bindable now. */
static void tg_check_listen(struct tg_check_run *r, const struct tg_section *s, const char *key)
{
    const char *addr = tg_config_str(s, key);
    if (!addr)
        return;
    const char *colon = strrchr(addr, ':'); /* the loader checked HOST:PORT */
    char host[256];
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    snprintf(host, sizeof(host), "%.*s", (int)hl, h);
    for (size_t i = 0; i < r->nports; i++) {
        if (strcmp(r->ports[i].port, colon + 1) == 0) {
            char label[300];
            tg_check_problem(&r->ck, s, key,
                             "port %s is also used by [%s] %s (line %d); give each listener its "
                             "own port",
                             colon + 1,
                             tg_config_section_label(r->ports[i].s, label, sizeof(label)),
                             r->ports[i].key, tg_config_line(r->ports[i].s, r->ports[i].key));
            return;
        }
    }
    if (r->nports < sizeof(r->ports) / sizeof(r->ports[0])) {
        r->ports[r->nports].s = s;
        r->ports[r->nports].key = key;
        snprintf(r->ports[r->nports].port, sizeof(r->ports[0].port), "%s", colon + 1);
        r->nports++;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
    if (gai != 0) {
        tg_check_problem(&r->ck, s, key, "cannot resolve %s: %s; give an address of this machine",
                         host, gai_strerror(gai));
        return;
    }
    int one = 1, err = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    if (err == EADDRINUSE)
        tg_check_in_use(r, s, key, addr, (uint16_t)atoi(colon + 1));
    else if (err == EADDRNOTAVAIL)
        tg_check_problem(&r->ck, s, key,
                         "%s is not an address of this machine; give a local address (or "
                         "0.0.0.0)",
                         addr);
    else if (err == EACCES)
        tg_check_problem(&r->ck, s, key,
                         "cannot bind %s: %s; ports below 1024 need CAP_NET_BIND_SERVICE: use a "
                         "higher port",
                         addr, strerror(err));
    else if (err)
        tg_check_problem(&r->ck, s, key, "cannot bind %s: %s", addr, strerror(err));
}

/* ---- the sections ---- */

static void tg_check_collector(struct tg_check_run *r, const struct tg_section *s)
{
    const char *spool = tg_config_str(s, "spool_dir");
    if (spool)
        tg_check_dir(&r->ck, s, "spool_dir", spool, NULL);
    tg_check_listen(r, s, "metrics_listen");
}

/* The parse contexts the daemon builds: auto, and each format an
 * [input.file] forces. */
static void tg_check_parsers(struct tg_check_run *r, const struct tg_section *s)
{
    bool used[TG_FMT_PERCONA + 1] = {[TG_FMT_AUTO] = true};
    for (size_t i = 0; i < r->cfg->n; i++) {
        const struct tg_section *f = &r->cfg->sections[i];
        const char *fmt =
            strcmp(f->def->name, "input.file") == 0 ? tg_config_str(f, "format") : NULL;
        int k = fmt ? tg_config_choice(tg_format_names, fmt) : -1;
        if (k >= 0)
            used[k] = true;
    }
    for (int f = TG_FMT_AUTO; f <= TG_FMT_PERCONA; f++) {
        char *err = NULL;
        struct tg_parse_ctx *pc =
            used[f] ? tg_parse_ctx_new(s->data, (enum tg_format)f, &err) : NULL;
        if (used[f] && !pc) {
            tg_check_problem(&r->ck, s, "snoopy_format", "%s", err);
            free(err);
            return;
        }
        tg_parse_ctx_free(pc);
    }
}

static void tg_check_relp(struct tg_check_run *r, const struct tg_section *s)
{
    tg_check_listen(r, s, "listen");
    static const char *const tls_files[] = {"tls_ca", "tls_cert", "tls_key"};
    for (size_t i = 0; tg_config_bool(s, "tls") && i < 3; i++) {
        const char *path = tg_config_str(s, tls_files[i]);
        if (path)
            tg_check_readable(&r->ck, s, tls_files[i], path, "a PEM file");
    }
}

static void tg_check_file_input(struct tg_check_run *r, const struct tg_section *s)
{
    const char *path = tg_config_str(s, "path");
    if (path && access(path, F_OK) != 0 && errno == ENOENT)
        tg_check_note(&r->ck, s, "path", "%s does not exist yet; it is followed once it appears",
                      path);
    else if (path)
        tg_check_readable(&r->ck, s, "path", path, "a file");
}

static void tg_check_policy(struct tg_check_run *r, const struct tg_section *s)
{
    const char *dir = tg_config_str(s, "snapshot_dir");
    if (!dir)
        return;
    struct tg_snapshot *snap = NULL;
    char *err = NULL;
    if (tg_snapshot_load(dir, &snap, &err) != 0) {
        tg_check_problem(&r->ck, s, "snapshot_dir",
                         "%s (the collector would start, but judge nothing until it loads)", err);
        free(err);
        return;
    }
    tg_snapshot_unref(snap);
}

static void tg_check_store(struct tg_check_run *r, const struct tg_section *s)
{
    static const char *const rw[] = {TG_SEG_LOCK_FILE, TG_SEG_HEAD_FILE, TG_CHECKPOINT_FILE, NULL};
    const char *dir = tg_config_str(s, "dir");
    if (dir)
        tg_check_dir(&r->ck, s, "dir", dir, rw);
    const char *keyfile = tg_config_str(s, "hmac_key_file");
    uint8_t key[TG_LINK_LEN];
    char *err = NULL;
    if (keyfile && tg_chain_key_load(keyfile, true, key, &err) != 0) {
        tg_check_problem(&r->ck, s, "hmac_key_file", "%s", err);
        free(err);
        err = NULL;
    }
    const char *signing = tg_config_str(s, "signing_key_file");
    void *skey = NULL;
    if (signing && tg_sign_key_load(signing, true, &skey, &err) != 0) {
        tg_check_problem(&r->ck, s, "signing_key_file", "%s", err);
        free(err);
    }
    tg_sign_key_free(skey);
}

static const struct {
    const char *section;
    void (*check)(struct tg_check_run *r, const struct tg_section *s);
} tg_check_sections[] = {
    {"collector", tg_check_collector}, {"parsers", tg_check_parsers},
    {"input.relp", tg_check_relp},     {"input.file", tg_check_file_input},
    {"policy", tg_check_policy},       {"sink.file", tg_check_store},
};

int tg_check_config(const char *path)
{
    struct tg_check_run r = {.ck = {.file = path}};
    struct tg_config *cfg = NULL;
    int nerrors = 0;
    if (tg_config_load_all(path, &cfg, &nerrors) != 0) {
        fprintf(stderr, "%s: not checked further\n", path);
        return TG_EXIT_USAGE;
    }
    r.cfg = cfg;
    r.ck.problems = nerrors;
    for (size_t i = 0; i < cfg->n; i++) {
        const struct tg_section *s = &cfg->sections[i];
        for (size_t k = 0; k < sizeof(tg_check_sections) / sizeof(tg_check_sections[0]); k++)
            if (strcmp(s->def->name, tg_check_sections[k].section) == 0)
                tg_check_sections[k].check(&r, s);
    }
    tg_config_free(cfg);
    if (r.ck.problems) {
        fprintf(stderr, "%s%s: %d problem%s found; fix them (see `trailguard help config`)\n",
                tg_log_prefix(TG_LOG_ERROR), path, r.ck.problems, r.ck.problems == 1 ? "" : "s");
        return TG_EXIT_USAGE;
    }
    printf("%s: configuration OK", path);
    if (r.ck.notes)
        printf(" (%d note%s above)", r.ck.notes, r.ck.notes == 1 ? "" : "s");
    printf("\n");
    return TG_EXIT_OK;
}

int tg_cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            fputs(tg_check_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("check", c, argv);
        }
    }
    if (optind < argc)
        return tg_usage_error("check", "unexpected argument '%s'", argv[optind]);
    if (!config_path)
        return tg_usage_error("check", "give the configuration to check with -c FILE");
    return tg_check_config(config_path);
}
