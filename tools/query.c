/*
 * query.c - `trailguard query DIR`: search the file store.
 *
 * Parses the shared filters (tools/store_read.c) and runs the parallel scan
 * (tools/store_scan.c): the matching events go to stdout in store order as
 * an aligned table (on a terminal), NDJSON (when piped) or CSV, projected on
 * --fields, or are counted by --count-by (tools/count_by.c) and printed as
 * groups at the end; --follow goes on with what the writer appends.  The
 * workers render each match (its output line or its group key); the main
 * thread writes or counts them.  Memory: constant, plus the groups of
 * --count-by.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/errors.h"
#include "sinks/chain.h"
#include "tools/commands.h"
#include "tools/count_by.h"
#include "tools/store_read.h"
#include "tools/store_scan.h"

const char tg_query_usage[] =
    "usage: trailguard query DIR [filters] [--format table|ndjson|csv] [--fields F,...]\n"
    "                        [--count-by F,...] [--follow] [--limit N] [--stats] [--key FILE]\n"
    "\n"
    "Search the file store in DIR (the [sink.file] dir) and print the matching\n"
    "events in store order.  Filters combine with AND.  What cannot match is not\n"
    "read: segments and members (gzip members, zstd frames) outside --since/--until, and members "
    "whose\n"
    "skip index shows they hold none of the values asked for (--user, --euser,\n"
    "--host, --executable, --action, --dataset, --decision, --word); a record is\n"
    "parsed only if its raw line holds the values.  Members are read on every\n"
    "core, and a member's matches are shown only once it checks out against the\n"
    "hash chain.  The scan streams (constant memory) and only reads, so it may run\n"
    "while a collector writes.\n"
    "\n" TG_FILTER_USAGE
    "  --format F       table (default on a terminal): an aligned, readable table;\n"
    "                   ndjson (default when piped): the stored events, one per line;\n"
    "                   csv: RFC 4180 with a header row\n"
    "  --fields F,...   print only these fields (ndjson: nested as in the event;\n"
    "                   table and csv: one column each)\n" TG_FIELD_ALIASES
    "  --count-by F,... count the matching events by these fields (same names) and\n"
    "                   print one line per group, most frequent first, with `count`\n"
    "  --follow         like tail -f: after the store's end, print new matching\n"
    "                   events as they are stored (also across rotation to a new\n"
    "                   segment); without --since it starts at the end\n"
    "  --limit N        stop after N matching events (--count-by: print N groups)\n"
    "  --stats          print scan statistics on stderr at the end\n"
    "  -k, --key FILE   the store's hmac_key_file: records of a keyed chain are then\n"
    "                   checked against their links before they are shown (without\n"
    "                   it, against their fingerprints only)\n"
    "\n"
    "A progress line is shown on stderr (when it is a terminal) during long scans.\n"
    "Exit status: 0 success (also when nothing matched), 2 usage error,\n"
    "3 DIR or part of it cannot be read (the result is then incomplete).\n";

struct tg_query_ctx {
    struct tg_out out;
    struct tg_countby cb;
    bool count;
    uint64_t limit, n;
    bool write_failed;
};

static void tg_query_render(void *arg, struct tg_record *r, struct tg_buf *b)
{
    const struct tg_query_ctx *q = arg;
    if (q->count)
        tg_countby_render(&q->cb, r, b);
    else
        tg_out_render(&q->out, r, b);
}

static bool tg_query_emit(void *arg, const char *p, size_t n)
{
    struct tg_query_ctx *q = arg;
    if (q->count) {
        tg_countby_add(&q->cb, p, n, 1);
        return true;
    }
    if (fwrite(p, 1, n, q->out.f) != n) {
        q->write_failed = true;
        return false;
    }
    return !(q->limit && ++q->n >= q->limit);
}

static void tg_query_idle(void *arg)
{
    struct tg_query_ctx *q = arg;
    if (!q->count && fflush(q->out.f) != 0) {
        q->write_failed = true;
    }
}

int tg_cmd_query(int argc, char **argv)
{
    enum { OPT_FORMAT = 2000, OPT_LIMIT, OPT_STATS, OPT_FIELDS, OPT_COUNT_BY, OPT_FOLLOW };
    static const struct option own[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                        {"limit", required_argument, NULL, OPT_LIMIT},
                                        {"stats", no_argument, NULL, OPT_STATS},
                                        {"fields", required_argument, NULL, OPT_FIELDS},
                                        {"count-by", required_argument, NULL, OPT_COUNT_BY},
                                        {"follow", no_argument, NULL, OPT_FOLLOW},
                                        {"key", required_argument, NULL, 'k'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct option *longopts = tg_filter_options(own);
    struct tg_filter f = {0};
    struct tg_query_ctx q = {0};
    int fmt = -1, c, exit_code = TG_EXIT_OK;
    bool stats = false, follow = false;
    const char *key_path = NULL, *fields = NULL, *count_by = NULL;
    uint8_t key[TG_LINK_LEN];
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:h", longopts, NULL)) != -1) {
        int rc = tg_filter_option(&f, c, optarg, "query");
        if (rc == 0)
            continue;
        if (rc != 1) {
            exit_code = rc;
            goto out;
        }
        switch (c) {
        case OPT_FORMAT:
            for (fmt = 0; tg_out_format_names[fmt] && strcmp(tg_out_format_names[fmt], optarg);)
                fmt++;
            if (!tg_out_format_names[fmt]) {
                exit_code =
                    tg_usage_error("query", "--format '%s': use table, ndjson or csv", optarg);
                goto out;
            }
            break;
        case OPT_LIMIT: {
            char *end;
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (*end || end == optarg || errno || v < 1) {
                exit_code =
                    tg_usage_error("query", "--limit '%s': give a whole number >= 1", optarg);
                goto out;
            }
            q.limit = (uint64_t)v;
            break;
        }
        case OPT_STATS:
            stats = true;
            break;
        case OPT_FIELDS:
            fields = optarg;
            break;
        case OPT_COUNT_BY:
            count_by = optarg;
            break;
        case OPT_FOLLOW:
            follow = true;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 'h':
            fputs(tg_query_usage, stdout);
            goto out;
        default:
            exit_code = tg_option_error("query", c, argv);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        exit_code = tg_usage_error("query", "give exactly one store directory");
        goto out;
    }
    if (count_by && (fields || follow)) {
        exit_code = tg_usage_error("query",
                                   "--count-by prints groups at the end: it does not go "
                                   "with %s",
                                   fields ? "--fields" : "--follow");
        goto out;
    }
    if ((exit_code = tg_filter_done(&f, "query")) != 0)
        goto out;
    if (count_by) {
        q.count = true;
        if ((exit_code = tg_countby_init(&q.cb, &f, count_by, "query")) != 0)
            goto out;
    } else if ((exit_code = tg_out_fields(&q.out, &f, fields, "query")) != 0) {
        goto out;
    }
    if (key_path) {
        char *err = NULL;
        if (tg_chain_key_load(key_path, false, key, &err) != 0) {
            fprintf(stderr, "trailguard query: %s\n", err);
            free(err);
            exit_code = TG_EXIT_USAGE;
            goto out;
        }
    }
    if (fmt < 0)
        fmt = isatty(1) ? TG_OUT_TABLE : TG_OUT_NDJSON;
    if (!q.count)
        tg_out_begin(&q.out, stdout, (enum tg_out_format)fmt);
    struct tg_scan_stats st;
    struct tg_scan_opts so = {.f = &f,
                              .key0 = key_path ? key : NULL,
                              .progress = true,
                              .follow = follow,
                              .render = tg_query_render,
                              .emit = tg_query_emit,
                              .idle = tg_query_idle,
                              .ctx = &q};
    int rc = tg_store_scan(argv[optind], &so, &st);
    OPENSSL_cleanse(key, sizeof(key));
    if (q.count)
        tg_countby_print(&q.cb, stdout, (enum tg_out_format)fmt, q.limit);
    else
        tg_out_end(&q.out);
    if (rc != 0) {
        fprintf(stderr,
                "trailguard query: %s: cannot read the store: %s; check the path (the "
                "[sink.file] dir) and permissions\n",
                argv[optind], strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    if (q.write_failed || ferror(stdout)) {
        fprintf(stderr, "trailguard query: writing the output failed\n");
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    if (st.damaged) {
        fprintf(stderr,
                "trailguard query: %" PRIu64 " segment%s could not be read completely: the "
                "result is incomplete (exit 3)\n",
                st.damaged, st.damaged == 1 ? "" : "s");
        exit_code = TG_EXIT_RUNTIME;
    }
    if (stats)
        fprintf(stderr,
                "trailguard query: %" PRIu64 " matched of %" PRIu64 " events scanned; %" PRIu64
                " segments, %" PRIu64 " skipped by time (and %" PRIu64 " members), %" PRIu64
                " members skipped by their index, %" PRIu64 " read, %" PRIu64
                " checked against the chain; %.1f MB compressed, %.1f MB NDJSON in %.3f s "
                "(%.1f MB/s, %.0f events/s)\n",
                st.matched, st.records, st.segments, st.skipped, st.members_skipped,
                st.members_index, st.members_read, st.members_checked, (double)st.bytes / 1e6,
                (double)st.raw_bytes / 1e6, st.seconds,
                st.seconds > 0 ? (double)st.raw_bytes / 1e6 / st.seconds : 0.0,
                st.seconds > 0 ? (double)st.records / st.seconds : 0.0);
out:
    if (q.count)
        tg_countby_free(&q.cb);
    tg_filter_free(&f);
    free(longopts);
    return exit_code;
}
