/*
 * prune.c - `trailguard prune DIR --before T`: retention by hand.
 *
 * Opens the store as its writer would (the file sink, sinks/out_file.c, on
 * its own: recovery, the chain resumed, the store lock taken, so it refuses
 * while a collector writes there), removes the oldest closed segments whose
 * newest event is before T after storing a signed prune point in the chain
 * (tg_out_file_prune), and closes the store (a shutdown checkpoint).  The
 * keys are the collector's [sink.file] hmac_key_file and signing_key_file.
 * Main thread.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/mem.h"
#include "core/pipeline.h"
#include "core/timeutil.h"
#include "sinks/sinks.h"
#include "tools/commands.h"
#include "tools/registry.h"

const char tg_prune_usage[] =
    "usage: trailguard prune DIR --before T [--key FILE] [--signing-key FILE]\n"
    "\n"
    "Remove the oldest segments of the file store in DIR whose newest event is\n"
    "before T (never the newest segment), the way [sink.file] retain_days does: a\n"
    "prune point (a checkpoint, signed with signing_key_file) goes into the chain\n"
    "first, then the files go, so `verify` says \"intact from segment N (pruned\n"
    "before ...)\" while a deletion without one stays tampering.  The collector\n"
    "must not be writing to DIR (the store is locked); use retain_days or\n"
    "retain_bytes there instead.\n"
    "\n"
    "  --before T             RFC 3339, a date, or relative (-90d)\n"
    "  -k, --key FILE         the store's [sink.file] hmac_key_file (a keyed chain\n"
    "                         goes on with it)\n"
    "  -s, --signing-key FILE the collector's signing_key_file (signs the prune point)\n"
    "\n"
    "Exit status: 0 done (also when nothing was old enough), 2 usage or\n"
    "configuration error, 3 the store cannot be opened or written.\n";

int tg_cmd_prune(int argc, char **argv)
{
    static const struct option longopts[] = {{"before", required_argument, NULL, 'b'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"signing-key", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *before = NULL, *key = NULL, *skey = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":b:k:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            before = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 's':
            skey = optarg;
            break;
        case 'h':
            fputs(tg_prune_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("prune", c, argv);
        }
    }
    if (optind + 1 != argc || !before)
        return tg_usage_error("prune", "give the store DIR and --before T");
    struct tg_time t;
    if (tg_time_parse_arg(before, tg_time_now(), &t) != 0)
        return tg_usage_error(
            "prune", "--before '%s': not a time; use RFC 3339, a date or relative (-90d)", before);
    /* the sink's own [sink.file] section, as the collector's would be */
    struct tg_buf ini = TG_BUF_INIT;
    tg_buf_printf(&ini, "[collector]\nfsync = always\n[sink.file]\ndir = %s\n", argv[optind]);
    if (key)
        tg_buf_printf(&ini, "hmac_key_file = %s\n", key);
    if (skey)
        tg_buf_printf(&ini, "signing_key_file = %s\n", skey);
    struct tg_config *cfg = NULL;
    int code = TG_EXIT_OK;
    if (tg_registry_load_config_string("trailguard prune", tg_buf_cstr(&ini), &cfg) != 0) {
        code = TG_EXIT_USAGE;
        goto out;
    }
    struct tg_sink s = {.ops = &tg_out_file, .config = cfg};
    if (s.ops->open(&s, tg_config_get(cfg, "sink.file")) != 0) {
        code = TG_EXIT_RUNTIME;
        goto out;
    }
    uint64_t removed;
    char why[96];
    snprintf(why, sizeof(why), "trailguard prune --before %s", before);
    int rc = tg_out_file_prune(&s, t.sec * 1000000000 + t.nsec, 0, why, &removed);
    s.ops->close(&s);
    if (rc != 0)
        code = TG_EXIT_RUNTIME;
    else
        printf("trailguard prune: %" PRIu64 " segment%s removed from %s\n", removed,
               removed == 1 ? "" : "s", argv[optind]);
out:
    tg_buf_free(&ini);
    tg_config_free(cfg);
    return code;
}
