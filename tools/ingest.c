/*
 * ingest.c - `trailguard ingest`: batch mode.
 *
 * Reads files or stdin (.gz transparently) and hands their bytes to the
 * intake as streams (ingest/intake.h), which frames them into records as
 * `serve`'s [input.file] does -- the same records, the same event ids (a
 * record's salt is the file's inode and its offset; stdin's is "stdin" and
 * the offset) -- and runs them through the same pipeline as `serve` (parse,
 * policy, sinks), writing NDJSON to stdout unless the config names sinks.
 * Nothing is spooled.  Records the sinks announce (core/internal_rec.h) go
 * to the other sinks through the internal source, as in `serve`.  Exit
 * status: 0 when every input was read, 3 when some could not be (the others
 * are still processed, or a sink failed and events were not delivered), 2
 * for usage/config errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/pipeline.h"
#include "ingest/in_internal.h"
#include "ingest/intake.h"
#include "ingest/reader.h"
#include "parsers/parse.h"
#include "policy/policy.h"
#include "tools/commands.h"
#include "tools/process.h"
#include "tools/registry.h"

const struct tg_source_ops tg_in_stdin = {.name = "stdin", .code = TG_SPOOL_IN_STDIN};

const char tg_ingest_usage[] =
    "usage: trailguard ingest [-c FILE] [--snapshot DIR]\n"
    "                         [--format auto|syslog|snoopy|percona|sudo] [-q] [FILE...|-]\n"
    "\n"
    "Read records (one per line; .gz is read transparently) from FILEs or stdin\n"
    "and write one event per line as NDJSON to stdout, or to the sinks of -c.\n"
    "Uses the same parsers and policy code as `serve`.\n"
    "\n"
    "  -c, --config FILE   configuration (INI); see `trailguard help config`\n"
    "      --snapshot DIR  policy snapshot directory (overrides [policy] snapshot_dir;\n"
    "                      every event is then judged by it, not by the snapshot history)\n"
    "      --format F      auto (default): detect per record; syslog: records have a\n"
    "                      syslog header; snoopy, percona or sudo: records of that kind\n"
    "                      (bare, or the message of a syslog record)\n"
    "  -q, --quiet         no summary line on stderr\n"
    "\n"
    "Exit status: 0 every input read, 2 usage or configuration error,\n"
    "3 some input could not be read (the rest was still processed), or a sink\n"
    "failed and some events were not delivered.\n";

/* Read one input into the intake; 0 or TG_EIO (after logging why). */
static int tg_ingest_one(const char *path, struct tg_intake_src *file_src,
                         struct tg_intake_src *stdin_src)
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
     * host of its own) do not depend on how the path was spelled; the inode
     * is the file's identity, as for [input.file] */
    char *abs = is_stdin ? NULL : realpath(path, NULL);
    char id[48] = "stdin";
    if (!is_stdin && stat(path, &st) == 0)
        snprintf(id, sizeof(id), "%ju.0", (uintmax_t)st.st_ino);
    struct tg_intake_src *src = is_stdin ? stdin_src : file_src;
    struct tg_intake_stream *stream = tg_intake_stream_new(
        src, is_stdin ? TG_STR_NULL : tg_str_c(abs ? abs : path), tg_str_c(id), 0);
    struct tg_intake_stats before;
    tg_intake_src_stats(src, &before);
    const char *p, *errmsg;
    size_t n;
    int rc;
    while ((rc = tg_reader_read(r, &p, &n, &errmsg)) == 0)
        tg_intake_stream_feed(stream, p, n);
    tg_intake_stream_end(stream);
    tg_intake_stream_free(stream);
    if (rc == TG_EIO) { /* before the close: errmsg is the reader's */
        struct tg_intake_stats now;
        tg_intake_src_stats(src, &now);
        fprintf(stderr, "trailguard ingest: %s: read error after %llu records: %s\n", path,
                (unsigned long long)(now.records - before.records),
                errmsg ? errmsg : strerror(errno));
    }
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
                return tg_usage_error(
                    "ingest", "unknown --format '%s' (use auto, syslog, snoopy, percona or sudo)",
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
    struct tg_process chain = {.policy = tg_policy_new(tg_config_get(cfg, "policy"), snapshot)};
    char *ferr = NULL;
    if (tg_sieve_new(cfg, &chain.sieve, &ferr) != 0) {
        fprintf(stderr, "trailguard ingest: %s\n", ferr);
        free(ferr);
        tg_policy_free(chain.policy);
        tg_config_free(cfg);
        return TG_EXIT_USAGE;
    }
    struct tg_pipeline_conf pc = {
        .workers = (int)cc->workers, .process = tg_process_event, .process_ctx = &chain};
    struct tg_pipeline *p = tg_pipeline_new(&pc);
    tg_registry_add_sinks(cfg, p);
    size_t nsources;
    const struct tg_source_ops *const *sources = tg_registry_sources(&nsources);
    struct tg_intake_conf ic = {.pipe = p,
                                .parsers = tg_config_get(cfg, "parsers"),
                                .sources = sources,
                                .nsources = nsources};
    struct tg_intake *intake = NULL;
    char *err = NULL;
    int exit_code = TG_EXIT_OK;
    if (tg_intake_new(&ic, &intake, &err) != 0) {
        fprintf(stderr, "%s: [parsers]: %s\n", config_path ? config_path : "trailguard", err);
        free(err);
        exit_code = TG_EXIT_USAGE;
        goto out;
    }
    chain.parse = tg_intake_parser(intake, fmt);
    struct tg_input internal = {.ops = &tg_in_internal, .intake = intake, .config = cfg};
    internal.ops->start(&internal, NULL);
    if (tg_pipeline_sink_count(p) > 1) /* else an announced record has no one to go to */
        tg_pipeline_set_announce(p, tg_internal_announce, &internal);
    if (tg_pipeline_start(p) != 0) {
        internal.ops->stop(&internal);
        internal.ops->finish(&internal);
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    struct tg_intake_src *file_src = tg_intake_src_new(
        intake, &(struct tg_intake_src_conf){.ops = &tg_in_file, .label = "ingest", .format = fmt});
    struct tg_intake_src *stdin_src = tg_intake_src_new(
        intake,
        &(struct tg_intake_src_conf){.ops = &tg_in_stdin, .label = "ingest", .format = fmt});
    uint64_t files = 0, failed = 0;
    if (optind == argc) {
        failed += tg_ingest_one("-", file_src, stdin_src) != 0;
        files++;
    }
    for (int i = optind; i < argc; i++) {
        failed += tg_ingest_one(argv[i], file_src, stdin_src) != 0;
        files++;
    }
    struct tg_intake_stats fs, ss;
    tg_intake_src_stats(file_src, &fs);
    tg_intake_src_stats(stdin_src, &ss);
    tg_intake_src_free(file_src);
    tg_intake_src_free(stdin_src);
    internal.ops->stop(&internal);
    tg_pipeline_drain(p);
    internal.ops->finish(&internal);
    if (!quiet)
        fprintf(stderr,
                "trailguard ingest: %llu records from %llu input%s (%llu truncated, %llu blank "
                "lines and JSON array brackets skipped), %llu input%s unreadable\n",
                (unsigned long long)(fs.records + ss.records), (unsigned long long)files,
                files == 1 ? "" : "s", (unsigned long long)(fs.truncated + ss.truncated),
                (unsigned long long)(fs.skipped + ss.skipped), (unsigned long long)failed,
                failed == 1 ? "" : "s");
    if (!quiet && tg_sieve_dropped(chain.sieve)) { /* never silently */
        struct tg_buf line = TG_BUF_INIT;
        tg_sieve_summary(chain.sieve, &line);
        fprintf(stderr, "trailguard ingest: %llu events dropped by [filter] rules;%s\n",
                (unsigned long long)tg_sieve_dropped(chain.sieve), tg_buf_cstr(&line));
        tg_buf_free(&line);
    }
    if (failed)
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
    tg_intake_free(intake);
    tg_pipeline_free(p);
    tg_policy_free(chain.policy);
    tg_sieve_free(chain.sieve);
    tg_config_free(cfg);
    return exit_code;
}
