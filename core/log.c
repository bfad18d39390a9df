/*
 * log.c - stderr logging.  See log.h.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"

static _Atomic int tg_log_level = TG_LOG_INFO;
static const char *const tg_level_name[] = {"error", "warning", "info", "debug"};

void tg_log_set_level(enum tg_log_level lvl)
{
    tg_log_level = (int)lvl;
}

void tg_log(enum tg_log_level lvl, const char *fmt, ...)
{
    if ((int)lvl > tg_log_level)
        return;
    char ts[32], msg[2048];
    struct tg_time now = tg_time_now();
    now.frac = 3;
    tg_time_format(ts, now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s trailguard[%d]: %s: %s\n", ts, (int)getpid(), tg_level_name[lvl], msg);
}
