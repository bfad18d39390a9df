/*
 * verify.c - `trailguard verify DIR`: check the file store's hash chain.
 *
 * A thin command over tools/store_verify.c: parse options, load the key,
 * print the summary or the first problem, map the result to the exit
 * status.  Main thread.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/errors.h"
#include "sinks/chain.h"
#include "tools/commands.h"
#include "tools/store_verify.h"

const char tg_verify_usage[] =
    "usage: trailguard verify [--key FILE] [-q] DIR\n"
    "\n"
    "Check the hash chain of the file store in DIR (the [sink.file] dir): every\n"
    "record's link is recomputed and compared with the chain sidecars, across\n"
    "segments, and the segment indexes and chain.head are checked too.  Reports the\n"
    "first segment and record that was changed, removed, reordered or inserted, a\n"
    "deleted or reordered segment, or an altered sidecar.  A torn tail of the newest\n"
    "segment (a crash during a write) is reported as such; it is not tampering.\n"
    "It only reads, so it may run while a collector writes to DIR.\n"
    "\n"
    "  -k, --key FILE   the hmac_key_file the store was written with (needed when\n"
    "                   the store uses the keyed chain; the original key, not a\n"
    "                   later state)\n"
    "  -q, --quiet      print nothing when the store is intact\n"
    "\n"
    "Exit status: 0 intact (also with a torn tail), 1 tampering found,\n"
    "2 usage error (or a keyed store without --key), 3 DIR cannot be read.\n";

int tg_cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {{"key", required_argument, NULL, 'k'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *key_path = NULL;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
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
    uint8_t key[TG_LINK_LEN];
    if (key_path) {
        char *err = NULL;
        if (tg_chain_key_load(key_path, false, key, &err) != 0) {
            fprintf(stderr, "trailguard verify: %s\n", err);
            free(err);
            return TG_EXIT_USAGE;
        }
    }
    struct tg_verify_report rep;
    int rc = tg_store_verify(dir, key_path ? key : NULL, &rep);
    OPENSSL_cleanse(key, sizeof(key));
    int exit_code = TG_EXIT_OK;
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
        char hex[2 * TG_LINK_LEN + 1];
        tg_link_hex(rep.last_link, hex);
        if (!quiet || rep.torn) {
            printf("%s: intact: %" PRIu64 " segment%s", dir, rep.segments,
                   rep.segments == 1 ? "" : "s");
            if (rep.segments)
                printf(" (%" PRIu64 " to %" PRIu64 ")", rep.first_seq, rep.last_seq);
            printf(", %" PRIu64 " records, %" PRIu64 " bytes, %s chain, last link %s\n",
                   rep.records, rep.bytes, rep.keyed ? "HMAC-SHA-256" : "SHA-256", hex);
        }
        if (rep.torn)
            printf("%s: torn tail (not tampering): %s\n", dir, rep.torn_note);
    }
    if (rep.warning && exit_code != TG_EXIT_RUNTIME)
        printf("%s: warning: %s\n", dir, rep.warning);
    tg_verify_report_free(&rep);
    return exit_code;
}
