/*
 * sinks.h - the built-in sink plugins (each defined in sinks/out_*.c and
 * listed in core/registry.c).
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

#endif
