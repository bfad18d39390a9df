/*
 * collector_conf.h - the [collector] section (SPEC.md section 2): spool,
 * workers, fsync policy, dedup window, metrics and health endpoints.  Read-only after
 * loading.
 */
#ifndef TG_COLLECTOR_CONF_H
#define TG_COLLECTOR_CONF_H

#include <stdint.h>

#include "core/config.h"

enum tg_fsync_mode { TG_FSYNC_INTERVAL = 0, TG_FSYNC_ALWAYS, TG_FSYNC_NEVER };

struct tg_collector_conf {
    char *spool_dir;
    int64_t workers;
    int fsync; /* enum tg_fsync_mode */
    int64_t fsync_interval_ms;
    int64_t dedup_window;
    char *metrics_listen;
    int64_t spool_max_bytes;
    int64_t queue_max_bytes;
    int64_t silence_seconds;
    int64_t sink_failing_seconds;
};

extern const struct tg_section_def tg_collector_section;

#endif
