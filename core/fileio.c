/*
 * fileio.c - whole writes.  See fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/fileio.h"
#include "core/mem.h"

int tg_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n) {
        ssize_t k = pwrite(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ENOSPC;
            return TG_EIO;
        }
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

int tg_file_replace(const char *path, const void *data, size_t len, mode_t mode, bool sync)
{
    char *tmp = tg_xasprintf("%s.tmp", path);
    int rc = TG_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd >= 0) {
        bool good = tg_pwrite_all(fd, data, len, 0) == 0 && fchmod(fd, mode) == 0 &&
                    (!sync || fsync(fd) == 0);
        int e = errno;
        close(fd);
        if (good && rename(tmp, path) == 0)
            rc = 0;
        else
            e = errno;
        if (rc != 0) {
            unlink(tmp);
            errno = e;
        }
    }
    free(tmp);
    return rc;
}
