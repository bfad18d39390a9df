/*
 * registry.c - the static lists of sections and plugins.  See registry.h.
 */
#include "core/collector_conf.h"
#include "core/registry.h"
#include "parsers/parse.h"
#include "sinks/sinks.h"

static const struct tg_section_def *const tg_sections[] = {
    &tg_collector_section,
    &tg_parsers_section,
};

static const struct tg_sink_ops *const tg_sinks[] = {
    NULL, /* placeholder: no configurable sink yet */
};

const struct tg_section_def *const *tg_registry_sections(size_t *n)
{
    *n = sizeof(tg_sections) / sizeof(tg_sections[0]);
    return tg_sections;
}

const struct tg_sink_ops *const *tg_registry_sinks(size_t *n)
{
    *n = 0;
    return tg_sinks;
}

const struct tg_sink_ops *tg_registry_default_sink(void)
{
    return &tg_out_stdout;
}
