/*
 * hostwatch.h - did a host stop talking?  Last-seen per origin host, and
 * the rule that calls a host silent.
 *
 * Disabling snoopy or rsyslog on a host is the first thing an intruder
 * does, and it shows only as an absence.  Every event's origin host
 * (host.name, else the input peer: the origin of event.id; trailguard's own
 * internal records are not a host's) updates that host's last-seen time,
 * the time the collector received its newest record.
 *
 * The rule: a host that has sent at least one record is silent once
 * nothing arrived from it for longer than silence_seconds (0: never), and
 * resumed with its next record.  Each transition is reported once
 * (host_silent, then host_resumed).  A rate rule ("clearly below its usual
 * rate") was not chosen: exec records come in bursts (cron, deployments,
 * interactive sessions), so a host's usual rate says little about the next
 * minute, and a threshold on it would page on every quiet night; an
 * absolute silence is what an intruder stopping the logging produces, and
 * it is set as about twice the longest normal gap of the fleet.
 *
 * Last-seen times survive a restart (tg_hostwatch_save/load, in the
 * spool directory): a host known before counts as seen at the restart, so
 * one that stays quiet afterwards is reported, and the downtime itself
 * makes no host silent.  The table is bounded (max_hosts); hosts past it
 * are not tracked, counted and logged once.
 *
 * Threads: tg_hostwatch_seen from the worker threads, everything else from
 * one control thread (tg_hostwatch_start runs the periodic check on a
 * thread of its own); one mutex guards the table.  Times are passed in
 * (microseconds since the epoch), so tests inject the clock.
 */
#ifndef TG_HOSTWATCH_H
#define TG_HOSTWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"

#define TG_HOSTWATCH_FILE "hosts.last_seen"

struct tg_hostwatch;

enum tg_host_state { TG_HOST_SILENT = 1, TG_HOST_RESUMED };

/* One transition, as tg_hostwatch_check reports it. */
struct tg_host_change {
    enum tg_host_state what;
    const char *host;
    int64_t last_seen_us;  /* silent: the last record; resumed: the last before the silence */
    int64_t resumed_us;    /* resumed: the first record after it; else 0 */
    int64_t quiet_seconds; /* silent: quiet so far; resumed: the whole gap */
    int64_t silence_seconds;
};

/* A watch with the rule's threshold (0: never silent, last-seen only) and
 * at most max_hosts hosts.  Main thread. */
struct tg_hostwatch *tg_hostwatch_new(int64_t silence_seconds, size_t max_hosts);
void tg_hostwatch_free(struct tg_hostwatch *h);

/* A record from `host` was received at t_us.  Worker threads. */
void tg_hostwatch_seen(struct tg_hostwatch *h, struct tg_str host, int64_t t_us);
/* The same for a processed event (its origin host and receive time;
 * internal records are skipped).  Worker threads; h may be NULL. */
void tg_hostwatch_event(struct tg_hostwatch *h, const struct tg_event *ev);

/*
 * Apply the rule at now_us and call fn for every transition (silent hosts
 * first, in table order).  Returns the number of transitions.  Control
 * thread.
 */
size_t tg_hostwatch_check(struct tg_hostwatch *h, int64_t now_us,
                          void (*fn)(void *ctx, const struct tg_host_change *c), void *ctx);

/* A host's state: last-seen time (or -1 when unknown) and whether it is
 * silent.  Any thread. */
int64_t tg_hostwatch_last_seen(struct tg_hostwatch *h, const char *host, bool *silent);

/* Append trailguard_host_last_seen_seconds{host} (unix time of its newest
 * record) and trailguard_host_silent{host} (1 while silent) in Prometheus
 * text format, and the count of hosts not tracked.  Any thread. */
void tg_hostwatch_render(struct tg_hostwatch *h, struct tg_buf *out);

/* The sentence and the data object (JSON text) of a transition, for the
 * trailguard.health internal record and the log.  Any thread. */
void tg_hostwatch_describe(const struct tg_host_change *c, struct tg_buf *message,
                           struct tg_buf *data);

/* Save the last-seen times to dir/TG_HOSTWATCH_FILE (atomically), or load
 * them back as seen at now_us (see above).  0 or TG_EIO (errno set; a
 * missing file loads as empty).  Control thread. */
int tg_hostwatch_save(struct tg_hostwatch *h, const char *dir);
int tg_hostwatch_load(struct tg_hostwatch *h, const char *dir, int64_t now_us);

/* Run check (and a save every minute when something changed) every
 * interval_ms on a thread of its own until tg_hostwatch_stop (which saves
 * a last time).  dir: where to save, or NULL.  Main thread. */
void tg_hostwatch_start(struct tg_hostwatch *h, int interval_ms, const char *dir,
                        void (*fn)(void *ctx, const struct tg_host_change *c), void *ctx);
void tg_hostwatch_stop(struct tg_hostwatch *h);

#endif
