/*
 * sinks.h - the built-in sink plugins (each defined in sinks/out_*.c and
 * listed in tools/registry.c).
 */
#ifndef TG_SINKS_H
#define TG_SINKS_H

#include <stdint.h>

#include "core/config.h"
#include "core/pipeline.h"

extern const struct tg_sink_ops tg_out_stdout;
extern const struct tg_sink_ops tg_out_kafka;
extern const struct tg_section_def tg_kafka_section; /* [sink.kafka] */

/* The file store (out_file.c): [sink.file]; format in sinks/segment.h. */
extern const struct tg_sink_ops tg_out_file;
extern const struct tg_section_def tg_sink_file_section;
/* Seconds since the file store in `dir` last stored a flush, or -1 when it
 * has stored none (store_head.c).  Any thread; only reads. */
int64_t tg_store_head_age(const char *dir);
/*
 * Retention on an open file sink s (its thread, or a sink opened on its own
 * by `trailguard prune`): remove the oldest closed segments whose newest
 * event is before before_ns (INT64_MIN: none by time), or while the store
 * holds more than max_bytes (0: no limit); never the newest segment.  First
 * a signed prune point goes into the chain (stored, synced, logged,
 * announced), then the files go.  `why` names the rule in the prune point.
 * *removed: segments removed.  0, or TG_EIO (nothing removed; logged).
 */
int tg_out_file_prune(struct tg_sink *s, int64_t before_ns, int64_t max_bytes, const char *why,
                      uint64_t *removed);

#endif
