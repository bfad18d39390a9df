/*
 * registry.c - the static lists of sections and plugins.  See registry.h.
 *
 * One row per plugin: a source in tg_sources, a sink in tg_sinks.  The
 * section list (what the config loader knows, in `help config` order) is
 * the fixed sections with the plugins' own sections in between, built once.
 */
#include <pthread.h>

#include "core/collector_conf.h"
#include "core/sieve.h"
#include "ingest/source.h"
#include "parsers/parse.h"
#include "policy/policy.h"
#include "sinks/sinks.h"
#include "tools/commands.h"
#include "tools/registry.h"

/* Sources: trailguard.input.type and spool code; a section when one
 * configures it.  Add a row per source plugin. */
static const struct tg_source_ops *const tg_sources[] = {
    &tg_in_relp, &tg_in_file, &tg_in_omprog, &tg_in_stdin, &tg_in_internal,
};

/* Sinks chosen by a [sink.*] section.  Add a row per sink plugin. */
static const struct tg_sink_ops *const tg_sinks[] = {
    &tg_out_file,
    &tg_out_stdout, /* has no section: the fallback, never matched by name */
    &tg_out_kafka,
};

#define TG_NSOURCES (sizeof(tg_sources) / sizeof(tg_sources[0]))
#define TG_NSINKS   (sizeof(tg_sinks) / sizeof(tg_sinks[0]))

static const struct tg_section_def *tg_sections[4 + TG_NSOURCES + TG_NSINKS];
static size_t tg_nsections;
static pthread_once_t tg_sections_once = PTHREAD_ONCE_INIT;

static void tg_sections_build(void)
{
    size_t n = 0;
    tg_sections[n++] = &tg_collector_section;
    for (size_t i = 0; i < TG_NSOURCES; i++)
        if (tg_sources[i]->section)
            tg_sections[n++] = tg_sources[i]->section;
    tg_sections[n++] = &tg_parsers_section;
    tg_sections[n++] = &tg_policy_section;
    tg_sections[n++] = &tg_sieve_section;
    for (size_t i = 0; i < TG_NSINKS; i++)
        if (tg_sinks[i]->section)
            tg_sections[n++] = tg_sinks[i]->section;
    tg_nsections = n;
}

const struct tg_section_def *const *tg_registry_sections(size_t *n)
{
    pthread_once(&tg_sections_once, tg_sections_build);
    *n = tg_nsections;
    return tg_sections;
}

int tg_registry_load_config(const char *path, struct tg_config **out)
{
    size_t n;
    const struct tg_section_def *const *defs = tg_registry_sections(&n);
    return tg_config_load_file(path, defs, n, out);
}

int tg_registry_load_config_string(const char *name, const char *text, struct tg_config **out)
{
    size_t n;
    const struct tg_section_def *const *defs = tg_registry_sections(&n);
    return tg_config_load_string(name, text, defs, n, out);
}

int tg_registry_print_reference(const char *only)
{
    size_t n;
    const struct tg_section_def *const *defs = tg_registry_sections(&n);
    return tg_config_print_reference(defs, n, only);
}

const struct tg_source_ops *const *tg_registry_sources(size_t *n)
{
    *n = TG_NSOURCES;
    return tg_sources;
}

const struct tg_source_ops *tg_registry_source_for(const struct tg_section_def *def)
{
    for (size_t i = 0; i < TG_NSOURCES; i++)
        if (tg_sources[i]->section == def)
            return tg_sources[i];
    return NULL;
}

size_t tg_registry_add_sinks(const struct tg_config *cfg, struct tg_pipeline *p)
{
    size_t added = 0;
    for (size_t i = 0; i < cfg->n; i++) {
        const struct tg_section *s = &cfg->sections[i];
        for (size_t k = 0; k < TG_NSINKS; k++) {
            if (tg_sinks[k]->section == s->def &&
                tg_pipeline_add_sink(p, tg_sinks[k], s->data) == 0) {
                tg_pipeline_sink(p, tg_pipeline_sink_count(p) - 1)->config = cfg;
                added++;
            }
        }
    }
    if (added == 0 && tg_pipeline_add_sink(p, &tg_out_stdout, NULL) == 0)
        added++;
    return added;
}
