/*
 * tg_fault.c - a fault injector for the fault tests, loaded with
 * LD_PRELOAD=tests/tools/tg_fault.so into the process under test.
 *
 * It wraps open, fsync, fdatasync, unlink and send (the calls through which
 * the spool creates segments, makes records durable and deletes segments,
 * and librelp acknowledges) and acts on the environment:
 *
 *   TG_FAULT_SYNC_FAIL=GLOB    fsync/fdatasync of a file whose path
 *                              (/proc/self/fd) matches GLOB (fnmatch, no
 *                              flags: '*' also matches '/') fails with EIO...
 *   TG_FAULT_SYNC_SKIP=N       ...after the first N matching calls succeeded
 *                              (default 0)...
 *   TG_FAULT_SYNC_COUNT=M      ...for M calls (default 1); later calls work
 *   TG_FAULT_SYNC_GATE=PATH    a failing call first waits until PATH exists
 *                              (so a test can line other work up behind it)
 *   TG_FAULT_KILL_UNLINK=GLOB  unlink of a path matching GLOB number
 *   TG_FAULT_KILL_AT=N         N (counting from 1, default 1) raises SIGKILL
 *                              instead of unlinking: a kill -9 at exactly
 *                              that point
 *   TG_FAULT_TRACE=FILE        append one line per call to FILE, in the
 *                              order the calls returned:
 *                                create PATH            (open with O_CREAT)
 *                                fsync PATH = 0|EIO     (fdatasync likewise;
 *                                                        "begin" lines too)
 *                                unlink PATH
 *                                send BYTES             (the first 40 bytes,
 *                                                        LF shown as \n)
 *
 * Every counter is process-wide and atomic; each trace line is one
 * O_APPEND write.  Nothing here allocates: it runs inside any thread of the
 * process, including librelp's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_long tg_fault_syncs, tg_fault_unlinks;

static int tg_fault_real_open(const char *path, int flags, mode_t mode)
{
    static int (*real)(const char *, int, ...);
    if (!real)
        real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    return real(path, flags, mode);
}

static long tg_fault_env_num(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void tg_fault_trace(const char *line, size_t n)
{
    const char *path = getenv("TG_FAULT_TRACE");
    if (!path)
        return;
    int fd = tg_fault_real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, n);
    (void)w;
    close(fd);
}

/* The path an fd refers to, or "" */
static void tg_fault_fd_path(int fd, char *out, size_t n)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t r = readlink(link, out, n - 1);
    out[r > 0 ? r : 0] = '\0';
}

/* Whether this sync of `path` fails; waits for the gate first when it does. */
static int tg_fault_sync_fails(const char *path)
{
    const char *glob = getenv("TG_FAULT_SYNC_FAIL");
    if (!glob || fnmatch(glob, path, 0) != 0)
        return 0;
    long k = atomic_fetch_add(&tg_fault_syncs, 1);
    long skip = tg_fault_env_num("TG_FAULT_SYNC_SKIP", 0);
    long count = tg_fault_env_num("TG_FAULT_SYNC_COUNT", 1);
    if (k < skip || k >= skip + count)
        return 0;
    const char *gate = getenv("TG_FAULT_SYNC_GATE");
    struct stat st;
    struct timespec ms = {0, 1000000};
    while (gate && stat(gate, &st) != 0)
        nanosleep(&ms, NULL);
    return 1;
}

static int tg_fault_sync(const char *name, int fd, int (*real)(int))
{
    char path[4096], line[4200];
    tg_fault_fd_path(fd, path, sizeof(path));
    int n = snprintf(line, sizeof(line), "%s begin %s\n", name, path);
    tg_fault_trace(line, (size_t)n);
    int rc;
    if (tg_fault_sync_fails(path)) {
        rc = -1;
        errno = EIO;
    } else {
        rc = real(fd);
    }
    int e = errno;
    n = snprintf(line, sizeof(line), "%s %s = %s\n", name, path, rc == 0 ? "0" : strerror(e));
    tg_fault_trace(line, (size_t)n);
    errno = e;
    return rc;
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    int fd = tg_fault_real_open(path, flags, mode);
    int e = errno;
    if (flags & O_CREAT) {
        char line[4200];
        int n = snprintf(line, sizeof(line), "create %s\n", path);
        tg_fault_trace(line, (size_t)n);
    }
    errno = e;
    return fd;
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return tg_fault_sync("fsync", fd, real);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return tg_fault_sync("fdatasync", fd, real);
}

int unlink(const char *path)
{
    static int (*real)(const char *);
    if (!real)
        real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    const char *glob = getenv("TG_FAULT_KILL_UNLINK");
    if (glob && fnmatch(glob, path, 0) == 0 &&
        atomic_fetch_add(&tg_fault_unlinks, 1) + 1 == tg_fault_env_num("TG_FAULT_KILL_AT", 1)) {
        char line[4200];
        int n = snprintf(line, sizeof(line), "kill before unlink %s\n", path);
        tg_fault_trace(line, (size_t)n);
        raise(SIGKILL);
    }
    int rc = real(path);
    int e = errno;
    char line[4200];
    int n = snprintf(line, sizeof(line), "unlink %s\n", path);
    tg_fault_trace(line, (size_t)n);
    errno = e;
    return rc;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, const void *, size_t, int);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
    ssize_t rc = real(fd, buf, len, flags);
    int e = errno;
    char line[128] = "send ";
    size_t n = 5;
    const unsigned char *p = buf;
    for (size_t i = 0; i < len && i < 40; i++) {
        if (p[i] == '\n') {
            line[n++] = '\\';
            line[n++] = 'n';
        } else {
            line[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
        }
    }
    line[n++] = '\n';
    tg_fault_trace(line, n);
    errno = e;
    return rc;
}
