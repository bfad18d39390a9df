/*
 * sockinfo.c - TCP sockets and their holders from /proc.  See sockinfo.h.
 *
 * A line of /proc/net/tcp{,6} is "sl: LOCAL_HEX:PORT_HEX REMOTE:PORT ST
 * ... UID TIMEOUT INODE ..."; only the local port, the state and the
 * inode are read.  Sockets in TIME_WAIT have inode 0 and are skipped.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/mem.h"
#include "core/sockinfo.h"

static int tg_sock_cmp(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

/* Add the matching sockets of one table; false when it cannot be read. */
static bool tg_sock_scan(const char *path, uint16_t port, enum tg_tcp_state state,
                         struct tg_sockset *set)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        unsigned lport, st;
        unsigned long inode;
        /* sl: local:port remote:port st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line,
                   " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
                   &lport, &st, &inode) != 3)
            continue; /* the header line */
        if (lport != port || st != (unsigned)state || inode == 0)
            continue;
        set->inode = tg_xgrow(set->inode, set->n, &set->cap, sizeof(*set->inode), 16);
        set->inode[set->n++] = inode;
    }
    fclose(f);
    return true;
}

int tg_sock_find(uint16_t port, enum tg_tcp_state state, struct tg_sockset *set)
{
    memset(set, 0, sizeof(*set));
    bool v4 = tg_sock_scan("/proc/self/net/tcp", port, state, set);
    bool v6 = tg_sock_scan("/proc/self/net/tcp6", port, state, set); /* absent without IPv6 */
    if (!v4 && !v6)
        return TG_EIO;
    qsort(set->inode, set->n, sizeof(*set->inode), tg_sock_cmp);
    return 0;
}

long tg_sock_held(pid_t pid, const struct tg_sockset *set)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/fd");
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long held = 0;
    struct dirent *de;
    while (set->n && (de = readdir(d)) != NULL) {
        char link[320], target[64];
        if (de->d_name[0] == '.')
            continue;
        snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        unsigned long inode;
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (sscanf(target, "socket:[%lu]", &inode) == 1 &&
            bsearch(&inode, set->inode, set->n, sizeof(inode), tg_sock_cmp))
            held++;
    }
    closedir(d);
    return held;
}

pid_t tg_sock_owner(const struct tg_sockset *set, char comm[16])
{
    DIR *d = opendir("/proc");
    pid_t owner = 0;
    struct dirent *de;
    comm[0] = '\0';
    while (d && !owner && (de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
        if (tg_sock_held(pid, set) > 0)
            owner = pid;
    }
    if (d)
        closedir(d);
    if (owner) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/comm", (long)owner);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(comm, 16, f))
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
    }
    return owner;
}
