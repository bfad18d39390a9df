/*
 * verify.c - `trailguard verify DIR`: check the file store's hash chain.
 *
 * A thin command over tools/store_verify.c: parse options, load the key,
 * the checkpoints and the public key, print the summary (and what it was
 * checked against) or the first problem, map the result to the exit status.
 * Main thread.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/errors.h"
#include "core/json.h"
#include "sinks/chain.h"
#include "tools/commands.h"
#include "tools/store_verify.h"

const char tg_verify_usage[] =
    "usage: trailguard verify [--key FILE] [--checkpoint FILE|-] [--pubkey FILE] [-q] DIR\n"
    "\n"
    "Check the hash chain of the file store in DIR (the [sink.file] dir): every\n"
    "record's link and every gzip member's seal (its offsets, record count and time\n"
    "range) is recomputed and compared with the chain sidecars, across segments; the\n"
    "segment indexes, chain.head and the store's checkpoints are checked too.\n"
    "Reports the first segment and record that was changed, removed, reordered or\n"
    "inserted, a deleted, reordered or replaced segment, or an altered sidecar.  A\n"
    "torn tail of the newest segment after the records that were confirmed (a crash\n"
    "during a write) is reported as such; it is not tampering.  It only reads, so it\n"
    "may run while a collector writes to DIR.\n"
    "\n"
    "Someone who can write DIR can also cut its newest records and rewrite chain.head\n"
    "and checkpoints.ndjson.  Against that, check the store against a checkpoint you\n"
    "hold from outside the collector (its Kafka topic, its log): the store must hold\n"
    "everything that checkpoint counts, with the same chain.\n"
    "\n"
    "  -k, --key FILE          the hmac_key_file the store was written with (needed\n"
    "                          when the store uses the keyed chain; the original key)\n"
    "  -c, --checkpoint FILE   checkpoints to check the store against, one per line:\n"
    "                          checkpoints.ndjson lines, the collector's log lines\n"
    "                          (\"file sink: checkpoint {...}\") or trailguard.checkpoint\n"
    "                          events (e.g. `kcat -C -t TOPIC -e`); - reads stdin.\n"
    "                          Other stores' checkpoints in it are ignored\n"
    "  -p, --pubkey FILE       the public key (`trailguard keygen`'s .pub): every\n"
    "                          checkpoint used must carry a valid signature by it\n"
    "  -q, --quiet             print nothing when the store is intact\n"
    "\n"
    "Exit status: 0 intact (also with a torn tail), 1 tampering found,\n"
    "2 usage error (a keyed store without --key, an unsigned checkpoint with\n"
    "--pubkey), 3 DIR cannot be read.\n";

/* Print the summary of an intact store. */
static void tg_verify_summary(const char *dir, const struct tg_verify_report *rep, bool quiet)
{
    char hex[2 * TG_LINK_LEN + 1];
    tg_link_hex(rep->last_link, hex);
    if (!quiet || rep->torn) {
        printf("%s: intact: %" PRIu64 " segment%s", dir, rep->segments,
               rep->segments == 1 ? "" : "s");
        if (rep->segments)
            printf(" (%" PRIu64 " to %" PRIu64 ")", rep->first_seq, rep->last_seq);
        uint64_t first = rep->pruned ? rep->prune.records : 0;
        printf(", %" PRIu64 " records", rep->records - first);
        if (first)
            printf(" (store records %" PRIu64 " to %" PRIu64 ")", first + 1, rep->records);
        printf(", %" PRIu64 " bytes, %s chain, last link %s\n", rep->bytes,
               rep->keyed ? "HMAC-SHA-256" : "SHA-256", hex);
    }
    if (rep->torn)
        printf("%s: torn tail (not tampering): %s\n", dir, rep->torn_note);
    if (quiet)
        return;
    if (rep->pruned) {
        char t[32];
        struct tg_time tt = {rep->prune.time_us / 1000000,
                             (int32_t)(rep->prune.time_us % 1000000) * 1000, 6};
        tg_time_format(t, tt);
        printf("%s: intact from segment %" PRIu64 " (the segments before it were pruned by "
               "policy at %s: %s)\n",
               dir, rep->prune.segment, t, rep->prune.note ? rep->prune.note : "retention");
    }
    if (rep->have_checkpoint) {
        char t[32];
        struct tg_time tt = {rep->checkpoint.time_us / 1000000,
                             (int32_t)(rep->checkpoint.time_us % 1000000) * 1000, 6};
        tg_time_format(t, tt);
        bool own = strcmp(rep->checkpoint_from, "given") != 0;
        printf("%s: checked against the checkpoint of %s (%s, from %s%s%s): %" PRIu64 " records",
               dir, t, rep->checkpoint.reason, rep->checkpoint_from,
               own ? ", which whoever can write the store can rewrite: give one you hold with "
                     "--checkpoint"
                   : "",
               rep->checkpoint_signed ? ", signature checked" : "", rep->checkpoint.records);
        if (rep->unproven)
            printf("; the %" PRIu64 " record%s after it cannot be proven complete without a "
                   "newer checkpoint\n",
                   rep->unproven, rep->unproven == 1 ? "" : "s");
        else
            printf(", all of the store\n");
    } else if (rep->records) {
        printf("%s: no checkpoint to check against: the newest records could have been cut "
               "without a trace; give one with --checkpoint\n",
               dir);
    }
}

int tg_cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},    {"checkpoint", required_argument, NULL, 'c'},
        {"pubkey", required_argument, NULL, 'p'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *cp_path = NULL, *pub_path = NULL;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:c:p:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
            break;
        case 'c':
            cp_path = optarg;
            break;
        case 'p':
            pub_path = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(tg_verify_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("verify", c, argv);
        }
    }
    if (optind + 1 != argc)
        return tg_usage_error("verify", "give exactly one store directory");
    const char *dir = argv[optind];
    struct tg_verify_opts o = {0};
    struct tg_verify_report rep = {0};
    struct tg_checkpoint *given = NULL;
    size_t ngiven = 0;
    uint8_t key[TG_LINK_LEN];
    int exit_code =
        tg_verify_prepare("verify", key_path, cp_path, pub_path, key, &given, &ngiven, &o);
    if (exit_code != TG_EXIT_OK)
        goto out;
    int rc = tg_store_verify(dir, &o, &rep);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc == TG_EIO) {
        fprintf(stderr,
                "trailguard verify: %s: cannot read the store: %m; check the path (the "
                "[sink.file] dir) and permissions\n",
                dir);
        exit_code = TG_EXIT_RUNTIME;
    } else if (rc == TG_EUSAGE) {
        fprintf(stderr, "trailguard verify: %s: %s\n", dir, rep.problem);
        exit_code = TG_EXIT_USAGE;
    } else if (!rep.intact) {
        printf("%s: TAMPERED: %s\n", dir, rep.problem);
        exit_code = TG_EXIT_NEGATIVE;
    } else {
        tg_verify_summary(dir, &rep, quiet);
    }
    if (rep.before_prune && !quiet && exit_code == TG_EXIT_OK)
        printf("%s: %zu checkpoint%s lie in the pruned part of the store: nothing is left to check "
               "them on\n",
               dir, rep.before_prune, rep.before_prune == 1 ? "" : "s");
    if (rep.given_other && !quiet)
        printf("%s: %zu checkpoint%s of other stores in %s ignored\n", dir, rep.given_other,
               rep.given_other == 1 ? "" : "s", cp_path);
    if (rep.warning && exit_code != TG_EXIT_RUNTIME)
        printf("%s: warning: %s\n", dir, rep.warning);
out:
    tg_verify_report_free(&rep);
    tg_checkpoints_free(given, ngiven);
    tg_sign_key_free(o.pubkey);
    return exit_code;
}
