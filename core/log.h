/*
 * log.h - logging to stderr.
 *
 * One line per message: "<UTC time> trailguard[<pid>]: <level>: <text>".
 * Thread-safe (each line is one locked stdio write).  The level threshold is
 * process-wide and set once at start-up.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

enum tg_log_level { TG_LOG_ERROR = 0, TG_LOG_WARN, TG_LOG_INFO, TG_LOG_DEBUG };

void tg_log_set_level(enum tg_log_level lvl);
void tg_log(enum tg_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tg_err(...)   tg_log(TG_LOG_ERROR, __VA_ARGS__)
#define tg_warn(...)  tg_log(TG_LOG_WARN, __VA_ARGS__)
#define tg_info(...)  tg_log(TG_LOG_INFO, __VA_ARGS__)
#define tg_debug(...) tg_log(TG_LOG_DEBUG, __VA_ARGS__)

#endif
