/*
 * keygen.c - `trailguard keygen`: make the Ed25519 key pair that signs the
 * file store's checkpoints (sinks/checkpoint.h).
 *
 * The private key (PREFIX.key, mode 0600) goes to the collector's
 * [sink.file] signing_key_file; the public key (PREFIX.pub) goes to the
 * auditors, who check checkpoints with `verify --checkpoint F --pubkey
 * PREFIX.pub`.  An existing key is never overwritten.  Main thread.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "sinks/checkpoint.h"
#include "tools/commands.h"

const char tg_keygen_usage[] =
    "usage: trailguard keygen [--out PREFIX]\n"
    "\n"
    "Make a new Ed25519 key pair for signing the file store's checkpoints:\n"
    "PREFIX.key (the private key, mode 0600: set [sink.file] signing_key_file to it\n"
    "on the collector, readable only by the trailguard user) and PREFIX.pub (the\n"
    "public key: give it to the auditors, for `trailguard verify --checkpoint FILE\n"
    "--pubkey PREFIX.pub`).  Existing files are never overwritten.\n"
    "\n"
    "  -o, --out PREFIX   where to write them (default: ./trailguard-checkpoint)\n"
    "\n"
    "Exit status: 0 written, 2 usage error or a key exists, 3 cannot write.\n";

int tg_cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *prefix = "trailguard-checkpoint";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            prefix = optarg;
            break;
        case 'h':
            fputs(tg_keygen_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("keygen", c, argv);
        }
    }
    if (optind < argc)
        return tg_usage_error("keygen", "unexpected argument '%s' (use --out PREFIX)",
                              argv[optind]);
    char *err = NULL;
    int rc = tg_sign_keygen(prefix, &err);
    if (rc != 0) {
        fprintf(stderr, "trailguard keygen: %s\n", err);
        free(err);
        return rc == TG_EINVAL ? TG_EXIT_USAGE : TG_EXIT_RUNTIME;
    }
    printf("trailguard keygen: wrote %s.key (private: [sink.file] signing_key_file) and %s.pub "
           "(public: for `verify --pubkey`)\n",
           prefix, prefix);
    return TG_EXIT_OK;
}
