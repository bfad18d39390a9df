/*
 * registry.h - the static registry of configuration sections and plugins.
 *
 * Built-in plugins are listed in registry.c, one row each: adding a sink is
 * one file, one Makefile.am line and one row there.  Read-only after
 * start-up; any thread.
 */
#ifndef TG_REGISTRY_H
#define TG_REGISTRY_H

#include <stddef.h>

#include "core/config.h"
#include "core/pipeline.h"

/* Every configuration section trailguard knows, in documentation order. */
const struct tg_section_def *const *tg_registry_sections(size_t *n);
/* Sinks that have a config section ([sink.*]), in registry order. */
const struct tg_sink_ops *const *tg_registry_sinks(size_t *n);
/* The sink used when a config configures none: NDJSON on stdout. */
const struct tg_sink_ops *tg_registry_default_sink(void);

#endif
