/*
 * log.c - stderr logging.  See log.h.
 *
 * When stderr is the journal (systemd sets JOURNAL_STREAM to the
 * "device:inode" of the stream it connected to stderr; it matches only
 * while stderr still is that stream, not after a redirection), each line
 * starts with a "<N>" syslog priority instead of the time and pid, which
 * the journal records itself: journald stores N as the entry's PRIORITY,
 * so `journalctl -p err` finds the errors.  Decided once, at the first
 * line.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"

static _Atomic int tg_log_level = TG_LOG_INFO;
static const char *const tg_level_name[] = {"error", "warning", "info", "debug"};
/* syslog priorities (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG) */
static const char *const tg_level_prio[] = {"<3>", "<4>", "<6>", "<7>"};
static pthread_once_t tg_log_once = PTHREAD_ONCE_INIT;
static bool tg_log_journal;

void tg_log_set_level(enum tg_log_level lvl)
{
    tg_log_level = (int)lvl;
}

static void tg_log_detect(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    tg_log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
                     (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool tg_log_to_journal(void)
{
    pthread_once(&tg_log_once, tg_log_detect);
    return tg_log_journal;
}

const char *tg_log_prefix(enum tg_log_level lvl)
{
    return tg_log_to_journal() ? tg_level_prio[lvl] : "";
}

void tg_log(enum tg_log_level lvl, const char *fmt, ...)
{
    if ((int)lvl > tg_log_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (tg_log_to_journal()) {
        fprintf(stderr, "%s%s: %s\n", tg_level_prio[lvl], tg_level_name[lvl], msg);
        return;
    }
    char ts[32];
    struct tg_time now = tg_time_now();
    now.frac = 3;
    tg_time_format(ts, now);
    fprintf(stderr, "%s trailguard[%d]: %s: %s\n", ts, (int)getpid(), tg_level_name[lvl], msg);
}
