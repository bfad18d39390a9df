/*
 * sockinfo.h - which TCP sockets exist on a port, and which process holds
 * them, read from /proc (Linux).
 *
 * Two users: `trailguard check` names the process that holds a listen port
 * it cannot bind (the running collector, or something else), and /metrics
 * counts a RELP listener's sessions (librelp has no session callback: the
 * sessions are this process's established sockets on the listener's
 * port).  The socket table is /proc/self/net/tcp and tcp6 (this network
 * namespace; readable with systemd's ProcSubset=pid too); a process's
 * sockets are the "socket:[INODE]" links in /proc/PID/fd, readable for
 * processes of the same user (or by root).  Any thread; no state.
 */
#ifndef TG_SOCKINFO_H
#define TG_SOCKINFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* TCP states as /proc/net/tcp writes them */
enum tg_tcp_state { TG_TCP_ESTABLISHED = 1, TG_TCP_LISTEN = 10 };

/* A set of socket inodes (sorted). */
struct tg_sockset {
    unsigned long *inode;
    size_t n, cap;
};

/*
 * Fill `set` with the TCP sockets (IPv4 and IPv6) of this network
 * namespace in `state` whose local port is `port`.  0, or TG_EIO when the
 * table cannot be read.  The caller frees set->inode.
 */
int tg_sock_find(uint16_t port, enum tg_tcp_state state, struct tg_sockset *set);

/* How many of the sockets in `set` process `pid` (0: this one) holds; -1
 * when its descriptors cannot be read (another user's process, or gone). */
long tg_sock_held(pid_t pid, const struct tg_sockset *set);

/*
 * The first process that holds one of the sockets in `set`, with its name
 * (/proc/PID/comm, at most 15 characters) in comm[16]; 0 when no process
 * visible to this one does.
 */
pid_t tg_sock_owner(const struct tg_sockset *set, char comm[16]);

#endif
