/*
 * registry.c - the static lists of sections and plugins.  See registry.h.
 */
#include "core/collector_conf.h"
#include "ingest/inputs.h"
#include "parsers/parse.h"
#include "policy/policy.h"
#include "sinks/sinks.h"
#include "tools/registry.h"

static const struct tg_section_def *const tg_sections[] = {
    &tg_collector_section, &tg_relp_section,      &tg_file_section,  &tg_parsers_section,
    &tg_policy_section,    &tg_sink_file_section, &tg_kafka_section,
};

/* Sinks chosen by a [sink.*] section.  Add a row per sink plugin. */
static const struct tg_sink_ops *const tg_sinks[] = {
    &tg_out_file,
    &tg_out_stdout, /* has no section: the fallback, never matched by name */
    &tg_out_kafka,
};

#define TG_NSECTIONS (sizeof(tg_sections) / sizeof(tg_sections[0]))

const struct tg_section_def *const *tg_registry_sections(size_t *n)
{
    *n = TG_NSECTIONS;
    return tg_sections;
}

int tg_registry_load_config(const char *path, struct tg_config **out)
{
    return tg_config_load_file(path, tg_sections, TG_NSECTIONS, out);
}

int tg_registry_load_config_string(const char *name, const char *text, struct tg_config **out)
{
    return tg_config_load_string(name, text, tg_sections, TG_NSECTIONS, out);
}

void tg_registry_print_reference(void)
{
    tg_config_print_reference(tg_sections, TG_NSECTIONS);
}

size_t tg_registry_add_sinks(const struct tg_config *cfg, struct tg_pipeline *p)
{
    size_t added = 0;
    for (size_t i = 0; i < cfg->n; i++) {
        const struct tg_section *s = &cfg->sections[i];
        for (size_t k = 0; k < sizeof(tg_sinks) / sizeof(tg_sinks[0]); k++) {
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
