/*
 * ingest.c - `trailguard ingest`: batch mode.
 *
 * Reads records (one per line, .gz transparently) from files or stdin and
 * runs them through the same pipeline as `serve` (parse, policy, sinks),
 * writing NDJSON to stdout unless the config names sinks.  Exit status: 0
 * when every input was read, 3 when some could not be (the others are still
 * processed, or a sink failed and events were not delivered), 2 for
 * usage/config errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/pipeline.h"
#include "tools/process.h"
#include "tools/registry.h"
#include "ingest/reader.h"
#include "parsers/framer.h"
#include "parsers/parse.h"
#include "policy/policy.h"
#include "tools/commands.h"

const char tg_ingest_usage[] =
    "usage: trailguard ingest [-c FILE] [--snapshot DIR] [--format auto|syslog|snoopy|percona]\n"
    "                         [-q] [FILE...|-]\n"
    "\n"
    "Read records (one per line; .gz is read transparently) from FILEs or stdin\n"
    "and write one event per line as NDJSON to stdout, or to the sinks of -c.\n"
    "Uses the same parsers and policy code as `serve`.\n"
    "\n"
    "  -c, --config FILE   configuration (INI); see `trailguard help config`\n"
    "      --snapshot DIR  policy snapshot directory (overrides [policy] snapshot_dir)\n"
    "      --format F      auto (default): detect per record; syslog: records have a\n"
    "                      syslog header; snoopy or percona: bare records of that kind\n"
    "  -q, --quiet         no summary line on stderr\n"
    "\n"
    "Exit status: 0 every input read, 2 usage or configuration error,\n"
    "3 some input could not be read (the rest was still processed), or a sink\n"
    "failed and some events were not delivered.\n";

struct tg_ingest_totals {
    uint64_t records, empty, truncated, files, failed;
};

struct tg_ingest_emit {
    struct tg_source *src;
    struct tg_input_meta in;
    struct tg_ingest_totals *t;
};

/* Framer callback: one record -> one event into the pipeline.  The record's
 * first line number salts event.id, so identical lines of a file stay
 * distinct events. */
static void tg_ingest_record(void *ctx, const char *rec, size_t len, bool cut, uint64_t lineno)
{
    struct tg_ingest_emit *e = ctx;
    struct tg_event *ev = tg_event_new(rec, len, &e->in, tg_time_now());
    char salt[24], *sp = salt + sizeof(salt);
    for (uint64_t v = lineno; v; v /= 10) /* "line N" without printf: hot path */
        *--sp = (char)('0' + v % 10);
    memcpy(sp -= 5, "line ", 5);
    ev->id_salt = tg_event_strdup(ev, sp, (size_t)(salt + sizeof(salt) - sp));
    if (cut) {
        ev->truncated = true;
        e->t->truncated++;
    }
    tg_source_add(e->src, ev);
    e->t->records++;
}

/* Read one input into the pipeline; 0 or TG_EIO (after logging why). */
static int tg_ingest_one(const char *path, struct tg_source *src, const struct tg_parse_ctx *pc,
                         struct tg_ingest_totals *t)
{
    struct tg_reader *r;
    struct stat st;
    bool is_stdin = strcmp(path, "-") == 0;
    if (!is_stdin && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "trailguard ingest: %s: is a directory; give the log files in it\n", path);
        return TG_EIO;
    }
    if (tg_reader_open(path, &r) != 0) {
        fprintf(stderr, "trailguard ingest: %s: cannot open: %s\n", path, strerror(errno));
        return TG_EIO;
    }
    /* the absolute path: input.peer (and the event.id of a record without a
     * host of its own) do not depend on how the path was spelled */
    char *abs = is_stdin ? NULL : realpath(path, NULL);
    struct tg_ingest_emit em = {.src = src,
                                .in = {.type = is_stdin ? "stdin" : "file",
                                       .peer = is_stdin ? TG_STR_NULL : tg_str_c(abs ? abs : path)},
                                .t = t};
    struct tg_framer *fr = tg_framer_new(pc);
    const char *rec, *errmsg;
    size_t len;
    uint64_t lineno = 0, records_before = t->records;
    bool cut;
    int rc;
    while ((rc = tg_reader_next(r, &rec, &len, &cut, &errmsg)) == 0) {
        lineno++;
        tg_framer_line(fr, rec, len, cut, lineno, tg_ingest_record, &em);
    }
    tg_framer_finish(fr, tg_ingest_record, &em);
    t->empty += tg_framer_skipped(fr);
    tg_framer_free(fr);
    if (rc == TG_EIO) /* before the close: errmsg is the reader's */
        fprintf(stderr, "trailguard ingest: %s: read error after %llu records: %s\n", path,
                (unsigned long long)(t->records - records_before),
                errmsg ? errmsg : strerror(errno));
    tg_reader_close(r);
    free(abs);
    return rc == TG_EIO ? TG_EIO : 0;
}

int tg_cmd_ingest(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"snapshot", required_argument, NULL, 'S'},
        {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *snapshot = NULL;
    enum tg_format fmt = TG_FMT_AUTO;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:f:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'S':
            snapshot = optarg;
            break;
        case 'f': {
            int k = tg_config_choice(tg_format_names, optarg);
            if (k < 0)
                return tg_usage_error("ingest",
                                      "unknown --format '%s' (use auto, syslog, snoopy or percona)",
                                      optarg);
            fmt = (enum tg_format)k;
            break;
        }
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(tg_ingest_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("ingest", c, argv);
        }
    }

    struct tg_config *cfg;
    if (tg_registry_load_config(config_path, &cfg) != 0)
        return TG_EXIT_USAGE;
    const struct tg_collector_conf *cc = tg_config_get(cfg, "collector");
    char *err = NULL;
    struct tg_process chain = {.parse = tg_parse_ctx_new(tg_config_get(cfg, "parsers"), fmt, &err)};
    if (!chain.parse) {
        fprintf(stderr, "%s: [parsers]: %s\n", config_path ? config_path : "trailguard", err);
        free(err);
        tg_config_free(cfg);
        return TG_EXIT_USAGE;
    }
    chain.policy = tg_policy_new(tg_config_get(cfg, "policy"), snapshot);
    struct tg_pipeline_conf pc = {
        .workers = (int)cc->workers, .process = tg_process_event, .process_ctx = &chain};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    tg_registry_add_sinks(cfg, p);
    int exit_code = TG_EXIT_OK;
    if (tg_pipeline_start(p) != 0) {
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    struct tg_source *src = tg_pipeline_source(p);
    struct tg_ingest_totals t = {0};
    if (optind == argc) {
        t.failed += tg_ingest_one("-", src, chain.parse, &t) != 0;
        t.files++;
    }
    for (int i = optind; i < argc; i++) {
        t.failed += tg_ingest_one(argv[i], src, chain.parse, &t) != 0;
        t.files++;
    }
    tg_pipeline_drain(p);
    if (!quiet)
        fprintf(stderr,
                "trailguard ingest: %llu records from %llu input%s (%llu truncated, %llu blank "
                "lines and JSON array brackets skipped), %llu input%s unreadable\n",
                (unsigned long long)t.records, (unsigned long long)t.files, t.files == 1 ? "" : "s",
                (unsigned long long)t.truncated, (unsigned long long)t.empty,
                (unsigned long long)t.failed, t.failed == 1 ? "" : "s");
    if (t.failed)
        exit_code = TG_EXIT_RUNTIME;
    struct tg_pipeline_stats ps;
    tg_pipeline_stats(p, &ps);
    if (ps.abandoned) { /* batch mode has no spool to keep them for a retry */
        fprintf(stderr,
                "trailguard ingest: %llu events were not delivered: a sink failed (see the "
                "messages above); fix it and ingest the input again\n",
                (unsigned long long)ps.abandoned);
        exit_code = TG_EXIT_RUNTIME;
    }
out:
    tg_pipeline_free(p);
    tg_parse_ctx_free(chain.parse);
    tg_policy_free(chain.policy);
    tg_config_free(cfg);
    return exit_code;
}
