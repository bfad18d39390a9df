/*
 * errors.c - description table for enum tg_err.  See errors.h.
 */
#include "core/errors.h"

static const char *const tg_err_desc[TG_ERR_COUNT_] = {
    [0] = "success",
    [-TG_EINVAL] = "invalid argument or malformed input",
    [-TG_ENOMEM] = "out of memory",
    [-TG_EIO] = "input/output error",
    [-TG_EAGAIN] = "resource temporarily unavailable, try again",
    [-TG_ENOTMINE] = "input not recognised by this handler",
    [-TG_ECONFIG] = "configuration error",
    [-TG_ECLOSED] = "closed",
    [-TG_ENOENT] = "not found",
    [-TG_ETRUNC] = "input truncated",
    [-TG_EFULL] = "full",
    [-TG_ECORRUPT] = "data corrupt (checksum or chain mismatch)",
    [-TG_EUSAGE] = "usage error",
    [-TG_EVERSION] = "a format this version of trailguard does not read",
};

const char *tg_strerror(int err)
{
    if (err > 0 || err <= -TG_ERR_COUNT_)
        return "unknown error";
    return tg_err_desc[-err];
}
