/*
 * source.h - input plugins, shaped like the sinks (core/pipeline.h's
 * struct tg_sink_ops): one struct of callbacks per input, one row for it in
 * the static registry (tools/registry.c).  A new input is one file
 * (ingest/in_NAME.c), one Makefile.am line, one registry row -- and one
 * code in core/spool.h's enum tg_spool_input, since the spool stores with
 * every record which source it came from.
 *
 * A source receives bytes and hands them to the intake (ingest/intake.h),
 * which frames, limits, salts, spools and builds the events; a source never
 * builds an event itself.  Sources configured by a section ([input.relp],
 * [input.file]) are started by `serve` for every instance of it; the others
 * (omprog, stdin, internal) are started by the command that owns them and
 * have a row for their name and code.
 *
 * Threads: check/start/reopen/stop run on the main thread; a source feeds
 * the intake from its own thread(s).
 */
#ifndef TG_SOURCE_H
#define TG_SOURCE_H

#include "core/check.h"
#include "core/config.h"
#include "core/spool.h"

struct tg_intake;
struct tg_input;

struct tg_source_ops {
    const char *name;         /* its trailguard.input.type */
    enum tg_spool_input code; /* stored with each of its records in the spool */
    /* [input.NAME] with its options table (defaults, validation, `help
     * config`), or NULL when no section configures it */
    const struct tg_section_def *section;
    /* `trailguard check`: look at what the instance's section `s` names --
     * files it needs readable, its listen address -- without starting
     * anything, reporting each problem or note through core/check.h
     * (tg_check_problem, tg_check_note), as start-up would find it.  May be
     * NULL (the section's own check covers it). */
    void (*check)(struct tg_findings *ck, const struct tg_section *s);
    /* Start receiving: set in->ctx up and feed in->intake.  0, TG_EIO
     * (cannot listen, cannot read) or TG_ECONFIG, logged. */
    int (*start)(struct tg_input *in, const void *conf);
    /* Reopen files (SIGHUP).  May be NULL. */
    void (*reopen)(struct tg_input *in);
    /* Stop receiving, hand on what is received, join the threads, free
     * in->ctx (unless finish does).  Before the pipeline drains.  A sender
     * whose message was not acknowledged resends it. */
    void (*stop)(struct tg_input *in);
    /* After the pipeline drained: keep what arrived meanwhile for the next
     * start, free in->ctx.  May be NULL (stop freed it). */
    void (*finish)(struct tg_input *in);
};

/* A started source. */
struct tg_input {
    const struct tg_source_ops *ops;
    struct tg_intake *intake;       /* where its records go */
    const struct tg_config *config; /* the whole configuration (e.g. [collector]) */
    void *ctx;                      /* the plugin's */
};

/* The built-in sources (the registry's rows). */
extern const struct tg_source_ops tg_in_relp;     /* [input.relp]: ingest/in_relp.c */
extern const struct tg_source_ops tg_in_file;     /* [input.file]: ingest/in_file.c */
extern const struct tg_source_ops tg_in_internal; /* trailguard's own records: in_internal.c */
extern const struct tg_section_def tg_relp_section, tg_file_section;

#endif
