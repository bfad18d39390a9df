/*
 * notify.h - telling systemd how the service is doing (sd_notify(3)):
 * READY=1 once the listeners are bound (the unit's Type=notify), STATUS=
 * lines, RELOADING=1 / STOPPING=1, and WATCHDOG=1 keep-alives when the unit
 * sets WatchdogSec=.
 *
 * Every call is a no-op when the process was not started by systemd with a
 * notification socket (NOTIFY_SOCKET unset), and in a build without
 * libsystemd (configure --without-systemd).  Main thread (the daemon's
 * control loop).
 */
#ifndef TG_NOTIFY_H
#define TG_NOTIFY_H

#include <stdint.h>

/* Read the environment once (watchdog interval); call before any thread. */
void tg_notify_init(void);
/* READY=1 with a STATUS= line. */
void tg_notify_ready(const char *status);
/* STATUS=printf(fmt, ...). */
void tg_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 (SIGHUP taken); tg_notify_ready() again when done. */
void tg_notify_reloading(void);
/* STOPPING=1 with a STATUS= line. */
void tg_notify_stopping(const char *status);
/* Call from the control loop as often as it wakes: sends WATCHDOG=1 every
 * half WatchdogSec (now_ms: a CLOCK_MONOTONIC time in milliseconds). */
void tg_notify_tick(int64_t now_ms);

#endif
