/*
 * export.c - `trailguard export`: a compliance export of the file store.
 *
 * One pass: the store's chain is verified (tools/store_verify.c) and the
 * events of the time range (and filters) are written to PATH as CSV or
 * NDJSON as the check vouches for them, member by member, so what is
 * exported is exactly what was verified (a file changed between a check and
 * a second read cannot slip in) and nothing the check refuses is exported.
 * Then PATH.manifest.json: the range and filters, the event count, the
 * SHA-256 of PATH (computed by reading PATH back, so it is what `sha256sum
 * PATH` prints), the policy snapshot ids seen, the verification result and
 * the checkpoint the store was checked against.  Main thread.
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
    "                         --out PATH [--key FILE] [--checkpoint FILE [--pubkey FILE]]\n"
    "\n"
    "Write the events of the file store in DIR between --since and --until (and\n"
    "matching the filters) to PATH, and PATH.manifest.json describing it: the time\n"
    "range, the filters, the number of events, the SHA-256 of PATH (check it with\n"
    "`sha256sum PATH`), the policy snapshot ids the events were judged against,\n"
    "the result of verifying the store's hash chain and the checkpoint it was\n"
    "checked against.\n"
    "\n" TG_FILTER_USAGE
    "  --format F       csv (RFC 4180, header row, CRLF line ends) or ndjson (the\n"
    "                   stored events as they are)\n"
    "  --out PATH       the export file (replaced if it exists)\n"
    "  -k, --key FILE   the store's hmac_key_file, to verify a keyed chain\n"
    "  -c, --checkpoint FILE  check the store against these checkpoints (as for\n"
    "                   `trailguard verify --checkpoint`); the manifest names the one used\n"
    "  -p, --pubkey FILE  the checkpoints' public key (signatures are checked)\n"
    "\n"
    "The store is verified in the same pass: only events the check vouches for are\n"
    "exported.\n"
    "Exit status: 0 exported and the store verified intact, 1 the store's chain is\n"
    "broken (the manifest says where; only the events before it were exported),\n"
    "2 usage error,\n"
    "3 DIR cannot be read or PATH cannot be written.\n";

struct tg_export_ctx {
    const struct tg_filter *f;
    struct tg_out out;
    uint64_t events, scanned;
    char **snaps;
    size_t nsnaps;
    struct tg_rctx rc;
};

/* store_verify's on_record: a verified record; export it if it matches. */
static bool tg_export_record(void *arg, struct tg_str line, bool has_time, int64_t ns)
{
    struct tg_export_ctx *x = arg;
    (void)has_time;
    (void)ns; /* the record reads its own time */
    struct tg_record rec;
    struct tg_record *r = &rec;
    tg_record_init(r, &x->rc, line);
    x->scanned++;
    if (!tg_filter_match(r))
        return true;
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

/* The "checkpoint" object of the manifest: what the store was checked against. */
static void tg_manifest_checkpoint(struct tg_jw *w, const struct tg_verify_report *rep)
{
    if (!rep->have_checkpoint) {
        tg_jw_null(w, "checkpoint");
        return;
    }
    struct tg_buf cp = TG_BUF_INIT;
    tg_checkpoint_format(&rep->checkpoint, &cp);
    tg_jw_open(w, "checkpoint");
    tg_jw_cstr(w, "from", rep->checkpoint_from);
    tg_jw_bool(w, "signature_checked", rep->checkpoint_signed);
    tg_jw_int(w, "records_after_it", (int64_t)rep->unproven);
    tg_jw_raw(w, "checkpoint", tg_str_make(cp.data, cp.len));
    tg_jw_close(w);
    tg_buf_free(&cp);
}

static void tg_manifest(struct tg_buf *b, const char *dir, const char *out, const char *fmt,
                        const struct tg_filter *f, const struct tg_export_ctx *x, const char *sha,
                        uint64_t size, const struct tg_verify_report *rep)
{
    struct tg_jw w;
    tg_jw_begin(&w, b);
    tg_jw_cstr(&w, "format", "trailguard-export-manifest");
    tg_jw_int(&w, "version", 2);
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
    char hex[2 * TG_LINK_LEN + 1];
    static const char digits[] = "0123456789abcdef";
    char sid[33];
    for (int i = 0; i < 16; i++) {
        sid[2 * i] = digits[rep->store_id[i] >> 4];
        sid[2 * i + 1] = digits[rep->store_id[i] & 15];
    }
    sid[32] = '\0';
    tg_jw_cstr(&w, "store", sid);
    tg_jw_int(&w, "segments", (int64_t)rep->segments);
    tg_jw_int(&w, "events_scanned", (int64_t)x->scanned);
    tg_jw_close(&w);
    tg_jw_open(&w, "verify");
    tg_jw_bool(&w, "intact", rep->intact);
    tg_jw_bool(&w, "torn_tail", rep->torn);
    tg_jw_cstr(&w, "chain", rep->keyed ? "HMAC-SHA-256" : "SHA-256");
    tg_jw_int(&w, "segments", (int64_t)rep->segments);
    tg_jw_int(&w, "records", (int64_t)rep->records);
    tg_jw_int(&w, "confirmed_records", (int64_t)rep->confirmed);
    tg_link_hex(rep->last_link, hex);
    tg_jw_cstr(&w, "last_link", hex);
    if (rep->problem)
        tg_jw_cstr(&w, "problem", rep->problem);
    else
        tg_jw_null(&w, "problem");
    tg_jw_cstr(&w, "torn_note", rep->torn_note);
    tg_jw_cstr(&w, "warning", rep->warning);
    tg_manifest_checkpoint(&w, rep);
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
                                        {"checkpoint", required_argument, NULL, 'c'},
                                        {"pubkey", required_argument, NULL, 'p'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct option *longopts = tg_filter_options(own);
    struct tg_filter f = {0};
    struct tg_export_ctx x = {.f = &f};
    bool rc_ready = false;
    const char *out = NULL, *key_path = NULL, *cp_path = NULL, *pub_path = NULL;
    char *mpath = NULL, *adir = NULL, *aout = NULL;
    int fmt = -1, c, exit_code = TG_EXIT_OK;
    FILE *of = NULL;
    struct tg_verify_report rep = {0};
    struct tg_verify_opts o = {.on_record = tg_export_record, .ctx = &x};
    struct tg_checkpoint *given = NULL;
    size_t ngiven = 0;
    uint8_t key[TG_LINK_LEN];
    struct tg_buf m = TG_BUF_INIT;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:c:p:h", longopts, NULL)) != -1) {
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
        case 'c':
            cp_path = optarg;
            break;
        case 'p':
            pub_path = optarg;
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
    if ((exit_code = tg_filter_done(&f, "export")) != 0 ||
        (exit_code = tg_out_fields(&x.out, &f, NULL, "export")) != 0)
        goto out;
    tg_fields_add(&f.fields, "trailguard.policy.snapshot");
    tg_rctx_init(&x.rc, &f);
    rc_ready = true;
    if (strcmp(out, "-") == 0) {
        exit_code = tg_usage_error("export", "--out -: give a file path (the manifest is "
                                             "written beside it, as PATH.manifest.json)");
        goto out;
    }
    const char *dir = argv[optind];
    exit_code = tg_verify_prepare("export", key_path, cp_path, pub_path, key, &given, &ngiven, &o);
    if (exit_code != TG_EXIT_OK)
        goto out;
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    of = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!of) {
        fprintf(stderr, "trailguard export: %s: cannot create: %s\n", out, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    tg_out_begin(&x.out, of, (enum tg_out_format)fmt);
    int vrc = tg_store_verify(dir, &o, &rep);
    tg_out_end(&x.out);
    bool werr = ferror(of) != 0 || fsync(fileno(of)) != 0;
    werr |= fclose(of) != 0;
    of = NULL;
    if (vrc == TG_EIO) {
        fprintf(stderr, "trailguard export: %s: cannot read the store: %s\n", dir, strerror(errno));
        unlink(out);
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    if (vrc == TG_EUSAGE) {
        fprintf(stderr, "trailguard export: %s: %s\n", dir, rep.problem);
        unlink(out);
        exit_code = TG_EXIT_USAGE;
        goto out;
    }
    char sha[2 * TG_LINK_LEN + 1];
    uint64_t size;
    if (werr || tg_sha256_file(out, sha, &size) != 0) {
        fprintf(stderr, "trailguard export: %s: cannot write the export: %s\n", out,
                strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    /* absolute paths: the manifest is a record that outlives this directory */
    adir = realpath(dir, NULL);
    aout = realpath(out, NULL);
    tg_manifest(&m, adir ? adir : dir, aout ? aout : out, tg_out_format_names[fmt], &f, &x, sha,
                size, &rep);
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
        fprintf(stderr,
                "trailguard export: WARNING: the store's chain is broken: %s; only the events "
                "before that point were exported\n",
                rep.problem);
        exit_code = TG_EXIT_NEGATIVE;
    } else if (!rep.have_checkpoint && rep.records) {
        fprintf(stderr, "trailguard export: note: checked against no checkpoint (give one with "
                        "--checkpoint): the newest records could have been cut without a trace\n");
    }
out:
    OPENSSL_cleanse(key, sizeof(key));
    if (of)
        fclose(of);
    if (rc_ready)
        tg_rctx_free(&x.rc);
    for (size_t i = 0; i < x.nsnaps; i++)
        free(x.snaps[i]);
    free(x.snaps);
    free(mpath);
    free(adir);
    free(aout);
    tg_buf_free(&m);
    tg_verify_report_free(&rep);
    tg_checkpoints_free(given, ngiven);
    tg_sign_key_free(o.pubkey);
    tg_filter_free(&f);
    free(longopts);
    return exit_code;
}
