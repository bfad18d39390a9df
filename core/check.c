/*
 * check.c - findings about a configuration's files and addresses.  See
 * check.h.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/sockinfo.h"

static void tg_check_report(struct tg_findings *ck, const struct tg_section *s, const char *key,
                            const char *kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void tg_check_report(struct tg_findings *ck, const struct tg_section *s, const char *key,
                            const char *kind, const char *fmt, va_list ap)
{
    if (!ck->file) { /* log mode */
        char text[1024];
        vsnprintf(text, sizeof(text), fmt, ap);
        tg_log(kind[0] ? TG_LOG_INFO : TG_LOG_ERROR, "%s: %s%s%s", ck->label, key ? key : "",
               key ? ": " : "", text);
        return;
    }
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

void tg_check_readable(struct tg_findings *ck, const struct tg_section *s, const char *key,
                       const char *path, const char *what)
{
    struct stat st;
    if (access(path, R_OK) != 0)
        tg_check_problem(ck, s, key, "cannot read %s: %s; give %s this user can read", path,
                         strerror(errno), what);
    else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        tg_check_problem(ck, s, key, "%s is not a regular file; give %s", path, what);
}

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
static void tg_check_in_use(struct tg_findings *ck, const struct tg_section *s, const char *key,
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
        for (size_t i = 0; ck->cfg && i < ck->cfg->n; i++)
            if (strcmp(ck->cfg->sections[i].def->name, "collector") == 0)
                col = &ck->cfg->sections[i];
        const char *spool = col ? tg_config_str(col, "spool_dir") : NULL;
        char *lock = spool ? tg_xasprintf("%s/lock", spool) : NULL;
        if (lock && tg_check_holds(pid, lock) == 1)
            tg_check_note(ck, s, key,
                          "%s is in use (the running collector: trailguard pid %ld, which holds "
                          "this configuration's spool)",
                          addr, (long)pid);
        else
            tg_check_note(ck, s, key, "%s is in use (the running collector? trailguard pid %ld)",
                          addr, (long)pid);
        free(lock);
    } else if (pid) {
        tg_check_problem(ck, s, key,
                         "%s is in use by %s (pid %ld); choose a free port or stop that program",
                         addr, comm[0] ? comm : "another program", (long)pid);
    } else {
        tg_check_problem(ck, s, key,
                         "%s is in use by another process (not visible to this user); choose a "
                         "free port",
                         addr);
    }
}

void tg_check_listen(struct tg_findings *ck, const struct tg_section *s, const char *key)
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
    for (size_t i = 0; i < ck->nports; i++) {
        if (strcmp(ck->ports[i].port, colon + 1) == 0) {
            char label[300];
            tg_check_problem(ck, s, key,
                             "port %s is also used by [%s] %s (line %d); give each listener its "
                             "own port",
                             colon + 1,
                             tg_config_section_label(ck->ports[i].s, label, sizeof(label)),
                             ck->ports[i].key, tg_config_line(ck->ports[i].s, ck->ports[i].key));
            return;
        }
    }
    if (ck->nports < sizeof(ck->ports) / sizeof(ck->ports[0])) {
        ck->ports[ck->nports].s = s;
        ck->ports[ck->nports].key = key;
        snprintf(ck->ports[ck->nports].port, sizeof(ck->ports[0].port), "%s", colon + 1);
        ck->nports++;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
    if (gai != 0) {
        tg_check_problem(ck, s, key, "cannot resolve %s: %s; give an address of this machine", host,
                         gai_strerror(gai));
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
        tg_check_in_use(ck, s, key, addr, (uint16_t)atoi(colon + 1));
    else if (err == EADDRNOTAVAIL)
        tg_check_problem(ck, s, key,
                         "%s is not an address of this machine; give a local address (or "
                         "0.0.0.0)",
                         addr);
    else if (err == EACCES)
        tg_check_problem(ck, s, key,
                         "cannot bind %s: %s; ports below 1024 need CAP_NET_BIND_SERVICE: use a "
                         "higher port",
                         addr, strerror(err));
    else if (err)
        tg_check_problem(ck, s, key, "cannot bind %s: %s", addr, strerror(err));
}
