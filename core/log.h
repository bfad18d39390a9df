/*
 * log.h - logging to stderr.
 *
 * One line per message: "<UTC time> trailguard[<pid>]: <level>: <text>",
 * or, when stderr is the systemd journal, "<N><level>: <text>" with N the
 * syslog priority (3 error, 4 warning, 6 info, 7 debug), which journald
 * stores as the entry's priority.  Thread-safe (each line is one locked
 * stdio write).  The level threshold is process-wide and set once at
 * start-up.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stdbool.h>

enum tg_log_level { TG_LOG_ERROR = 0, TG_LOG_WARN, TG_LOG_INFO, TG_LOG_DEBUG };

void tg_log_set_level(enum tg_log_level lvl);
/* Is stderr the journal (JOURNAL_STREAM names it)?  Decided once.  Any thread. */
bool tg_log_to_journal(void);
/* "<N>" for lvl when stderr is the journal, else "": for messages written
 * to stderr without tg_log (the config loader's FILE:LINE: lines). */
const char *tg_log_prefix(enum tg_log_level lvl);
void tg_log(enum tg_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tg_err(...)   tg_log(TG_LOG_ERROR, __VA_ARGS__)
#define tg_warn(...)  tg_log(TG_LOG_WARN, __VA_ARGS__)
#define tg_info(...)  tg_log(TG_LOG_INFO, __VA_ARGS__)
#define tg_debug(...) tg_log(TG_LOG_DEBUG, __VA_ARGS__)

#endif
