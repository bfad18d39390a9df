/*
 * errors.h - the one error enum of trailguard.
 *
 * Every function that can fail returns 0 or a negative TG_E* value from this
 * enum.  "Try again" (TG_EAGAIN) and "not mine" (TG_ENOTMINE, a parser that
 * does not recognise a record) are normal outcomes, not failures.  The
 * description table in errors.c gives each a sentence for messages.
 * Thread-safe: pure lookups.
 */
#ifndef TG_ERRORS_H
#define TG_ERRORS_H

enum tg_err {
    TG_OK = 0,
    TG_EINVAL = -1,    /* invalid argument or malformed input */
    TG_ENOMEM = -2,    /* allocation failed (only where we do not abort) */
    TG_EIO = -3,       /* read/write/fsync failed; errno has details */
    TG_EAGAIN = -4,    /* nothing now, try again later */
    TG_ENOTMINE = -5,  /* a parser/loader does not recognise this input */
    TG_ECONFIG = -6,   /* configuration error */
    TG_ECLOSED = -7,   /* queue or stream closed */
    TG_ENOENT = -8,    /* no such file, key, user, ... */
    TG_ETRUNC = -9,    /* input truncated */
    TG_EFULL = -10,    /* bounded resource full */
    TG_ECORRUPT = -11, /* checksum or chain mismatch */
    TG_EUSAGE = -12,   /* command-line usage error */
    TG_EVERSION = -13, /* a file of a format this version does not read */
    TG_ERR_COUNT_ = 14
};

/* A sentence describing err (TG_OK included); never NULL. */
const char *tg_strerror(int err);

/* Process exit codes of the CLI (SPEC.md section 1). */
enum tg_exit {
    TG_EXIT_OK = 0,
    TG_EXIT_NEGATIVE = 1,
    TG_EXIT_USAGE = 2,
    TG_EXIT_RUNTIME = 3,
};

#endif
