/*
 * registry.h - the static registry of configuration sections and plugins.
 *
 * Built-in plugins are listed in registry.c, one row each: adding a source
 * or a sink is one file, one Makefile.am line and one row there (its
 * section, if it has one, comes with the row).  The registry is the
 * top layer's: core/config.c loads against whatever section list it is
 * given, and this is the list every command gives it.  Read-only after
 * start-up; any thread.
 */
#ifndef TG_REGISTRY_H
#define TG_REGISTRY_H

#include <stddef.h>

#include "core/config.h"
#include "core/pipeline.h"
#include "ingest/source.h"

/* Every configuration section trailguard knows, in documentation order. */
const struct tg_section_def *const *tg_registry_sections(size_t *n);
/* tg_config_load_file / tg_config_load_string against every section above
 * (path NULL: the built-in defaults).  0 or TG_ECONFIG (printed). */
int tg_registry_load_config(const char *path, struct tg_config **out);
int tg_registry_load_config_string(const char *name, const char *text, struct tg_config **out);
/* `trailguard help config [SECTION]`: every section (or the one named
 * `only`) and its keys, with defaults.  0, or TG_ENOENT: no such section. */
int tg_registry_print_reference(const char *only);
/* Every source (for a replayed record's input type, by its spool code). */
const struct tg_source_ops *const *tg_registry_sources(size_t *n);
/* The source a section configures ([input.relp] -> relp), or NULL. */
const struct tg_source_ops *tg_registry_source_for(const struct tg_section_def *def);
/*
 * Add to `p` every sink whose section the config has ([sink.file],
 * [sink.kafka], ...), or the stdout sink when it has none.  Returns the
 * number of sinks added.
 */
size_t tg_registry_add_sinks(const struct tg_config *cfg, struct tg_pipeline *p);

#endif
