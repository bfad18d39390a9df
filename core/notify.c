/*
 * notify.c - sd_notify for the daemon.  See notify.h.
 *
 * The watchdog interval comes from sd_watchdog_enabled() (WATCHDOG_USEC,
 * and WATCHDOG_PID when set must be this process); the keep-alive goes out
 * at half of it, from the loop that also flushes the inputs, so a control
 * loop that stops turning is what the watchdog catches.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "buildconf.h"
#include "core/notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

static int64_t tg_notify_watchdog_ms; /* 0: no watchdog */
static int64_t tg_notify_next_ms;

static void tg_notify_send(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

void tg_notify_init(void)
{
#ifdef HAVE_LIBSYSTEMD
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        tg_notify_watchdog_ms = (int64_t)(usec / 1000) > 1 ? (int64_t)(usec / 1000) : 1;
#endif
}

void tg_notify_ready(const char *status)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
    tg_notify_send(msg);
}

void tg_notify_status(const char *fmt, ...)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "STATUS=");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    tg_notify_send(msg);
}

void tg_notify_reloading(void)
{
    tg_notify_send("RELOADING=1\nSTATUS=reloading the policy snapshot, reopening files");
}

void tg_notify_stopping(const char *status)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status);
    tg_notify_send(msg);
}

void tg_notify_tick(int64_t now_ms)
{
    if (!tg_notify_watchdog_ms || now_ms < tg_notify_next_ms)
        return;
    tg_notify_next_ms = now_ms + tg_notify_watchdog_ms / 2;
    tg_notify_send("WATCHDOG=1");
}
