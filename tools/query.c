/*
 * query.c - `trailguard query DIR`: search the file store.
 *
 * Parses the shared filters (tools/store_read.c), streams the matching
 * events to stdout as an aligned table (on a terminal), NDJSON (when piped)
 * or CSV, and stops after --limit matches.  Constant memory.  Main thread.
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
#include "tools/store_read.h"

const char tg_query_usage[] =
    "usage: trailguard query DIR [--since T] [--until T] [--user U] [--host H]\n"
    "                        [--action A] [--dataset D] [--decision allow|deny|not_applicable]\n"
    "                        [--grep REGEX] [--format table|ndjson|csv] [--limit N] [--stats]\n"
    "                        [--key FILE]\n"
    "\n"
    "Search the file store in DIR (the [sink.file] dir) and print the matching\n"
    "events, oldest segment first.  Filters combine with AND.  Segments whose index\n"
    "shows them outside --since/--until are skipped without being read, and so are\n"
    "the gzip members whose chain entry shows them outside it; the scan streams, so\n"
    "it runs in constant memory on any store, and it only reads, so it may run\n"
    "while a collector writes.  Only records the hash chain covers are shown.\n"
    "\n" TG_FILTER_USAGE
    "  --format F       table (default on a terminal): an aligned, readable table;\n"
    "                   ndjson (default when piped): the stored events, one per line;\n"
    "                   csv: RFC 4180 with a header row\n"
    "  --limit N        stop after N matching events\n"
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
    uint64_t limit, n;
};

static bool tg_query_emit(void *arg, struct tg_record *r)
{
    struct tg_query_ctx *q = arg;
    tg_out_record(&q->out, r);
    return !(q->limit && ++q->n >= q->limit);
}

int tg_cmd_query(int argc, char **argv)
{
    enum { OPT_FORMAT = 2000, OPT_LIMIT, OPT_STATS };
    static const struct option own[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                        {"limit", required_argument, NULL, OPT_LIMIT},
                                        {"stats", no_argument, NULL, OPT_STATS},
                                        {"key", required_argument, NULL, 'k'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct option *longopts = tg_filter_options(own);
    struct tg_filter f = {0};
    struct tg_query_ctx q = {0};
    int fmt = -1, c, exit_code = TG_EXIT_OK;
    bool stats = false;
    const char *key_path = NULL;
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
    if ((exit_code = tg_filter_done(&f, "query")) != 0)
        goto out;
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
    tg_out_begin(&q.out, stdout, (enum tg_out_format)fmt);
    struct tg_scan_stats st;
    int rc = tg_store_scan(argv[optind], &f, key_path ? key : NULL, true, tg_query_emit, &q, &st);
    OPENSSL_cleanse(key, sizeof(key));
    tg_out_end(&q.out);
    if (rc != 0) {
        fprintf(stderr,
                "trailguard query: %s: cannot read the store: %s; check the path (the "
                "[sink.file] dir) and permissions\n",
                argv[optind], strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    if (ferror(stdout)) {
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
                " segments, %" PRIu64 " skipped by time (and %" PRIu64
                " members); %.1f MB compressed, %.1f MB NDJSON in %.3f s (%.1f MB/s, %.0f "
                "events/s)\n",
                st.matched, st.records, st.segments, st.skipped, st.members_skipped,
                (double)st.bytes / 1e6, (double)st.raw_bytes / 1e6, st.seconds,
                st.seconds > 0 ? (double)st.raw_bytes / 1e6 / st.seconds : 0.0,
                st.seconds > 0 ? (double)st.records / st.seconds : 0.0);
out:
    tg_filter_free(&f);
    free(longopts);
    return exit_code;
}
