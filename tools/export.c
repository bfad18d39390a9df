/*
 * export.c - `trailguard export`: a compliance export of the file store.
 *
 * Streams the events of a time range (and filters) to PATH as CSV or
 * NDJSON, then writes PATH.manifest.json: the range and filters, the event
 * count, the SHA-256 of PATH (computed by reading PATH back, so it is what
 * `sha256sum PATH` prints), the policy snapshot ids seen, and the result of
 * verifying the store's chain (tools/store_verify.c).  Main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/event.h"
#include "core/json.h"
#include "core/mem.h"
#include "sinks/chain.h"
#include "tools/commands.h"
#include "tools/store_read.h"
#include "tools/store_verify.h"

const char tg_export_usage[] =
    "usage: trailguard export DIR --since T --until T [filters] --format csv|ndjson\n"
    "                         --out PATH [--key FILE]\n"
    "\n"
    "Write the events of the file store in DIR between --since and --until (and\n"
    "matching the filters) to PATH, and PATH.manifest.json describing it: the time\n"
    "range, the filters, the number of events, the SHA-256 of PATH (check it with\n"
    "`sha256sum PATH`), the policy snapshot ids the events were judged against,\n"
    "and the result of verifying the store's hash chain.\n"
    "\n" TG_FILTER_USAGE
    "  --format F       csv (RFC 4180, header row, CRLF line ends) or ndjson (the\n"
    "                   stored events as they are)\n"
    "  --out PATH       the export file (replaced if it exists)\n"
    "  -k, --key FILE   the store's hmac_key_file, to verify a keyed chain\n"
    "\n"
    "Exit status: 0 exported and the store verified intact, 1 exported but the\n"
    "store's chain is broken (the manifest says where), 2 usage error,\n"
    "3 DIR cannot be read or PATH cannot be written.\n";

struct tg_export_ctx {
    struct tg_out out;
    uint64_t events;
    char **snaps;
    size_t nsnaps;
};

static bool tg_export_emit(void *arg, struct tg_record *r)
{
    struct tg_export_ctx *x = arg;
    tg_out_record(&x->out, r);
    x->events++;
    const char *snap = tg_record_field(r, "trailguard.policy.snapshot");
    if (snap) {
        size_t i = 0;
        while (i < x->nsnaps && strcmp(x->snaps[i], snap) != 0)
            i++;
        if (i == x->nsnaps) {
            x->snaps = tg_xrealloc(x->snaps, (x->nsnaps + 2) * sizeof(char *));
            x->snaps[x->nsnaps++] = tg_xstrdup(snap);
            x->snaps[x->nsnaps] = NULL;
        }
    }
    return true;
}

/* SHA-256 of the file at path, as hex.  0 or TG_EIO. */
static int tg_sha256_file(const char *path, char hex[2 * TG_LINK_LEN + 1], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TG_EIO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static char buf[1 << 16];
    ssize_t k;
    *size = 0;
    while ((k = read(fd, buf, sizeof(buf))) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)k);
        *size += (uint64_t)k;
    }
    uint8_t d[TG_LINK_LEN];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    close(fd);
    if (k < 0)
        return TG_EIO;
    tg_link_hex(d, hex);
    return 0;
}

static struct tg_time tg_ns_to_time(int64_t ns)
{
    int64_t s = ns / 1000000000, r = ns % 1000000000;
    if (r < 0) {
        r += 1000000000;
        s--;
    }
    return (struct tg_time){s, (int32_t)r, r ? 9 : 0};
}

static void tg_manifest(struct tg_buf *b, const char *dir, const char *out, const char *fmt,
                        const struct tg_filter *f, const struct tg_export_ctx *x, const char *sha,
                        uint64_t size, const struct tg_scan_stats *st,
                        const struct tg_verify_report *rep)
{
    struct tg_jw w;
    tg_jw_begin(&w, b);
    tg_jw_cstr(&w, "format", "trailguard-export-manifest");
    tg_jw_int(&w, "version", 1);
    tg_jw_time(&w, "created", tg_time_now());
    tg_jw_cstr(&w, "file", out);
    tg_jw_cstr(&w, "file_format", fmt);
    tg_jw_int(&w, "bytes", (int64_t)size);
    tg_jw_cstr(&w, "sha256", sha);
    tg_jw_int(&w, "events", (int64_t)x->events);
    tg_jw_open(&w, "time_range");
    tg_jw_time(&w, "since", tg_ns_to_time(f->since_ns));
    tg_jw_time(&w, "until", tg_ns_to_time(f->until_ns));
    tg_jw_cstr(&w, "since_arg", f->since_arg);
    tg_jw_cstr(&w, "until_arg", f->until_arg);
    tg_jw_close(&w);
    if (!f->user && !f->host && !f->action && !f->dataset && !f->decision && !f->grep_arg)
        tg_jw_raw(&w, "filters", tg_str_make("{}", 2)); /* none: say so */
    tg_jw_open(&w, "filters");
    tg_jw_cstr(&w, "user", f->user);
    tg_jw_cstr(&w, "host", f->host);
    tg_jw_cstr(&w, "action", f->action);
    tg_jw_cstr(&w, "dataset", f->dataset);
    tg_jw_cstr(&w, "decision", f->decision);
    tg_jw_cstr(&w, "grep", f->grep_arg);
    tg_jw_close(&w);
    tg_jw_int(&w, "snapshot_count", (int64_t)x->nsnaps);
    tg_jw_str_array(&w, "snapshots", (const char *const *)x->snaps);
    tg_jw_open(&w, "source");
    tg_jw_cstr(&w, "dir", dir);
    tg_jw_int(&w, "segments", (int64_t)st->segments);
    tg_jw_int(&w, "segments_skipped_by_time", (int64_t)st->skipped);
    tg_jw_int(&w, "events_scanned", (int64_t)st->records);
    tg_jw_int(&w, "segments_damaged", (int64_t)st->damaged);
    tg_jw_close(&w);
    tg_jw_open(&w, "verify");
    tg_jw_bool(&w, "intact", rep->intact);
    tg_jw_bool(&w, "torn_tail", rep->torn);
    tg_jw_cstr(&w, "chain", rep->keyed ? "HMAC-SHA-256" : "SHA-256");
    tg_jw_int(&w, "segments", (int64_t)rep->segments);
    tg_jw_int(&w, "records", (int64_t)rep->records);
    char hex[2 * TG_LINK_LEN + 1];
    tg_link_hex(rep->last_link, hex);
    tg_jw_cstr(&w, "last_link", hex);
    if (rep->problem)
        tg_jw_cstr(&w, "problem", rep->problem);
    else
        tg_jw_null(&w, "problem");
    tg_jw_cstr(&w, "torn_note", rep->torn_note);
    tg_jw_cstr(&w, "warning", rep->warning);
    tg_jw_close(&w);
    tg_jw_end(&w);
    tg_buf_putc(b, '\n');
}

int tg_cmd_export(int argc, char **argv)
{
    enum { OPT_FORMAT = 2000, OPT_OUT };
    static const struct option own[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                        {"out", required_argument, NULL, OPT_OUT},
                                        {"key", required_argument, NULL, 'k'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct option *longopts = tg_filter_options(own);
    struct tg_filter f = {0};
    struct tg_export_ctx x = {0};
    const char *out = NULL, *key_path = NULL;
    char *mpath = NULL, *adir = NULL, *aout = NULL;
    int fmt = -1, c, exit_code = TG_EXIT_OK;
    FILE *of = NULL;
    struct tg_verify_report rep = {0};
    struct tg_buf m = TG_BUF_INIT;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:h", longopts, NULL)) != -1) {
        int rc = tg_filter_option(&f, c, optarg, "export");
        if (rc == 0)
            continue;
        if (rc != 1) {
            exit_code = rc;
            goto out;
        }
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "csv") == 0) {
                fmt = TG_OUT_CSV;
            } else if (strcmp(optarg, "ndjson") == 0) {
                fmt = TG_OUT_NDJSON;
            } else {
                exit_code = tg_usage_error("export", "--format '%s': use csv or ndjson", optarg);
                goto out;
            }
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 'h':
            fputs(tg_export_usage, stdout);
            goto out;
        default:
            exit_code = tg_option_error("export", c, argv);
            goto out;
        }
    }
    const char *missing = optind + 1 != argc ? "exactly one store DIR"
                          : !f.since_set     ? "--since"
                          : !f.until_set     ? "--until"
                          : fmt < 0          ? "--format"
                          : !out             ? "--out"
                                             : NULL;
    if (missing) {
        exit_code = tg_usage_error("export",
                                   "give %s (export needs DIR, --since, --until, "
                                   "--format and --out)",
                                   missing);
        goto out;
    }
    if ((exit_code = tg_filter_done(&f, "export")) != 0)
        goto out;
    if (strcmp(out, "-") == 0) {
        exit_code = tg_usage_error("export", "--out -: give a file path (the manifest is "
                                             "written beside it, as PATH.manifest.json)");
        goto out;
    }
    const char *dir = argv[optind];
    uint8_t key[TG_LINK_LEN];
    if (key_path) {
        char *err = NULL;
        if (tg_chain_key_load(key_path, false, key, &err) != 0) {
            fprintf(stderr, "trailguard export: %s\n", err);
            free(err);
            exit_code = TG_EXIT_USAGE;
            goto out;
        }
    }
    int vrc = tg_store_verify(dir, key_path ? key : NULL, &rep);
    OPENSSL_cleanse(key, sizeof(key));
    if (vrc == TG_EIO) {
        fprintf(stderr, "trailguard export: %s: cannot read the store: %s\n", dir, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    if (vrc == TG_EUSAGE) {
        fprintf(stderr, "trailguard export: %s: %s\n", dir, rep.problem);
        exit_code = TG_EXIT_USAGE;
        goto out;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    of = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!of) {
        fprintf(stderr, "trailguard export: %s: cannot create: %s\n", out, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    tg_out_begin(&x.out, of, (enum tg_out_format)fmt);
    struct tg_scan_stats st;
    int src = tg_store_scan(dir, &f, true, tg_export_emit, &x, &st);
    tg_out_end(&x.out);
    bool werr = ferror(of) != 0 || fsync(fileno(of)) != 0;
    werr |= fclose(of) != 0;
    of = NULL;
    char sha[2 * TG_LINK_LEN + 1];
    uint64_t size;
    if (src != 0 || werr || tg_sha256_file(out, sha, &size) != 0) {
        fprintf(stderr, "trailguard export: %s: %s: %s\n", src ? dir : out,
                src ? "cannot read the store" : "cannot write the export", strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    /* absolute paths: the manifest is a record that outlives this directory */
    adir = realpath(dir, NULL);
    aout = realpath(out, NULL);
    tg_manifest(&m, adir ? adir : dir, aout ? aout : out, tg_out_format_names[fmt], &f, &x, sha,
                size, &st, &rep);
    mpath = tg_xasprintf("%s.manifest.json", out);
    int mfd = open(mpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    FILE *mf = mfd >= 0 ? fdopen(mfd, "w") : NULL;
    if (!mf || fwrite(m.data, 1, m.len, mf) != m.len || fclose(mf) != 0) {
        fprintf(stderr, "trailguard export: %s: cannot write: %s\n", mpath, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    fprintf(stderr, "trailguard export: %" PRIu64 " events to %s (sha256 %s), manifest %s\n",
            x.events, out, sha, mpath);
    if (!rep.intact) {
        fprintf(stderr, "trailguard export: WARNING: the store's chain is broken: %s\n",
                rep.problem);
        exit_code = TG_EXIT_NEGATIVE;
    }
out:
    if (of)
        fclose(of);
    for (size_t i = 0; i < x.nsnaps; i++)
        free(x.snaps[i]);
    free(x.snaps);
    free(mpath);
    free(adir);
    free(aout);
    tg_buf_free(&m);
    tg_verify_report_free(&rep);
    tg_filter_free(&f);
    free(longopts);
    return exit_code;
}
