/*
 * collector_conf.c - option table of [collector].  See collector_conf.h.
 */
#include <stddef.h>

#include "core/collector_conf.h"

static const char *const tg_fsync_choices[] = {"interval", "always", "never", NULL};

#define OFF(f) offsetof(struct tg_collector_conf, f)
static const struct tg_opt tg_collector_opts[] = {
    {"spool_dir", TG_OPT_STR, "./trailguard-data/spool", OFF(spool_dir),
     "durable receive log: a message is acknowledged only once it is here"},
    {"workers", TG_OPT_INT, "0", OFF(workers), "parser/policy threads; 0 = one per core", NULL, 0,
     64},
    {"fsync", TG_OPT_ENUM, "interval", OFF(fsync),
     "when the spool and the file store fsync: interval, always (before every ack) or never",
     tg_fsync_choices},
    {"fsync_interval_ms", TG_OPT_INT, "1000", OFF(fsync_interval_ms),
     "group-fsync period for fsync = interval", NULL, 1, 3600000},
    {"dedup_window", TG_OPT_INT, "600", OFF(dedup_window),
     "seconds during which a repeated event.id is dropped (and counted); 0 disables", NULL, 0,
     86400 * 7},
    {"metrics_listen", TG_OPT_ADDR, "127.0.0.1:9880", OFF(metrics_listen),
     "Prometheus /metrics endpoint, and /healthz and /readyz; empty disables"},
    {"spool_max_bytes", TG_OPT_SIZE, "10G", OFF(spool_max_bytes),
     "spool size at which the collector stops reading (backpressure)", NULL, 1 << 20, INT64_MAX},
    {"queue_max_bytes", TG_OPT_SIZE, "32M", OFF(queue_max_bytes),
     "memory the events between the inputs and the sinks may hold (records, fields, JSON; "
     "the spool keeps them on disk anyway): past it the inputs wait (backpressure)",
     NULL, 1 << 20, (int64_t)1 << 40},
    {"silence_seconds", TG_OPT_INT, "3600", OFF(silence_seconds),
     "a host that was sending and then sends nothing for longer than this is reported "
     "(trailguard.health host_silent, then host_resumed); 0: never",
     NULL, 0, 86400 * 30},
    {"sink_failing_seconds", TG_OPT_INT, "60", OFF(sink_failing_seconds),
     "/healthz reports a sink that has been failing (not delivering) for this many seconds", NULL,
     0, 86400},
    {NULL},
};

const struct tg_section_def tg_collector_section = {
    .name = "collector",
    .implicit = true,
    .doc = "The collector daemon: spool, threads, durability, deduplication, metrics.",
    .opts = tg_collector_opts,
    .size = sizeof(struct tg_collector_conf),
};
