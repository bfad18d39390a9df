/*
 * fileio.h - whole writes: pwrite until done, and replace a file atomically
 * (write a .tmp beside it, optionally fsync, rename over).  Shared by the
 * spool and the file store.
 */
#ifndef TG_FILEIO_H
#define TG_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all n bytes at offset off (retrying short writes and EINTR).
 * 0, or TG_EIO with errno set (ENOSPC for a write that made no progress). */
int tg_pwrite_all(int fd, const void *p, size_t n, uint64_t off);

/* Make `path` hold exactly [data, data+len) with `mode`: readers see the old
 * or the new content, never a mix.  sync: fsync the new file before the
 * rename.  0, or TG_EIO with errno set (the .tmp is removed). */
int tg_file_replace(const char *path, const void *data, size_t len, mode_t mode, bool sync);

#endif
