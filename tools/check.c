/*
 * check.c - `trailguard check -c FILE` (and `serve --check`): is this
 * configuration good enough to start with?
 *
 * A check reads and never writes: it loads the configuration as `serve`
 * does with tg_config_load_all, which prints every problem of the keys
 * themselves and keeps the configuration, then looks at what the keys name
 * the way start-up will use it -- without taking the spool's or the
 * store's lock, so it runs beside the collector (the unit's ExecReload).
 * Findings are reported through core/check.h as "FILE:LINE: [section] key:
 * what" on stderr: a problem makes the exit status 2; a note (e.g. an
 * address held by the running collector, a directory that start-up will
 * create) does not.  A key whose value was refused reads as unset, so it is
 * not looked at again.
 *
 * A source's section is checked by its plugin (tg_source_ops.check, found
 * through the registry): [input.relp] its listen address and TLS files,
 * [input.file] its path.  The other sections have a row here:
 *   [collector]    spool_dir writable (or creatable), metrics_listen bindable
 *   [parsers]      the parse contexts build (snoopy_format compiles)
 *   [policy]       the snapshot loads (as the collector loads it)
 *   [sink.file]    dir writable (or creatable), hmac_key_file a usable key,
 *                  signing_key_file an Ed25519 private key that loads
 * and two listen keys naming the same port are a problem.  [sink.kafka] has
 * nothing to look at without contacting the brokers, which a check does
 * not do.  Keys are read through the option tables (tg_config_str), not
 * the sections' structs.  Directories are judged with access(2) as the
 * user running the check (the unit runs it as the service user), never by
 * creating a file.  Main thread.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/sieve.h"
#include "core/collector_conf.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"
#include "ingest/source.h"
#include "parsers/parse.h"
#include "policy/policy.h"
#include "policy/snapshot.h"
#include "sinks/chain.h"
#include "sinks/checkpoint.h"
#include "sinks/segment.h"
#include "sinks/sinks.h"
#include "tools/commands.h"
#include "tools/registry.h"

const char tg_check_usage[] =
    "usage: trailguard check -c FILE\n"
    "\n"
    "Check a configuration without starting anything: every key (as `serve` loads\n"
    "them), the TLS files, hmac_key_file and followed files it names, the policy\n"
    "snapshot (loaded as the collector loads it), the listen addresses (bound and\n"
    "released at once) and the spool and store directories (writable by the user\n"
    "running the check).  It writes nothing and takes no lock, so it can run beside\n"
    "the collector: an address the running collector holds is a note, not a problem.\n"
    "The systemd unit runs it before starting and before reloading.\n"
    "\n"
    "  -c, --config FILE   the configuration to check (INI)\n"
    "\n"
    "Each finding is one line on stderr, FILE:LINE: [section] key: what (notes say\n"
    "\"note:\"); the last line says whether the configuration is good.\n"
    "Exit status: 0 good (notes allowed), 2 problems found (or a usage error).\n";

/* ---- files and directories ---- */

/*
 * A directory start-up writes in: an existing one must be writable, with
 * every file in it readable (and read-write for the names in `rw`, NULL:
 * for all); a missing one must be creatable (its nearest existing parent
 * writable), which is a note.
 */
static void tg_check_dir(struct tg_findings *ck, const struct tg_section *s, const char *key,
                         const char *dir, const char *const *rw)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        /* the nearest existing parent: where mkdir -p starts */
        char *parent = tg_xstrdup(dir);
        for (;;) {
            char *slash = strrchr(parent, '/');
            if (!slash) {
                strcpy(parent, "."); /* relative: its first component is made in . */
                break;
            }
            if (slash == parent) {
                parent[1] = '\0';
                break;
            }
            *slash = '\0';
            if (stat(parent, &st) == 0)
                break;
        }
        errno = ENOTDIR;
        if ((stat(parent, &st) == 0 && !S_ISDIR(st.st_mode)) || access(parent, W_OK | X_OK) != 0)
            tg_check_problem(ck, s, key,
                             "%s does not exist and cannot be created: %s: %s; create it for "
                             "the user the collector runs as",
                             dir, parent, strerror(errno));
        else
            tg_check_note(ck, s, key, "%s does not exist yet; the collector creates it", dir);
        free(parent);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        tg_check_problem(ck, s, key, "%s is not a directory", dir);
        return;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        tg_check_problem(ck, s, key,
                         "cannot write in %s: %s; make it writable for the user the collector "
                         "runs as (and, under systemd, one of the unit's ReadWritePaths)",
                         dir, strerror(errno));
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        tg_check_problem(ck, s, key, "cannot list %s: %s", dir, strerror(errno));
        return;
    }
    struct dirent *de;
    int bad = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        bool need_w = !rw;
        for (size_t i = 0; rw && rw[i]; i++)
            need_w |= strcmp(rw[i], de->d_name) == 0;
        char *path = tg_xasprintf("%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            access(path, need_w ? R_OK | W_OK : R_OK) != 0 && bad++ < 3)
            tg_check_problem(ck, s, key, "%s: %s for this user: %s; fix its owner or mode", path,
                             need_w ? "not readable and writable" : "not readable",
                             strerror(errno));
        free(path);
    }
    closedir(d);
    if (bad > 3)
        tg_check_problem(ck, s, key, "and %d more files in %s like those", bad - 3, dir);
}

/* ---- the sections ---- */

static void tg_check_collector(struct tg_findings *ck, const struct tg_section *s)
{
    const char *spool = tg_config_str(s, "spool_dir");
    if (spool)
        tg_check_dir(ck, s, "spool_dir", spool, NULL);
    tg_check_listen(ck, s, "metrics_listen");
}

/* The parse contexts the intake builds: one per format. */
static void tg_check_parsers(struct tg_findings *ck, const struct tg_section *s)
{
    for (int f = TG_FMT_AUTO; f <= TG_FMT_INTERNAL; f++) {
        char *err = NULL;
        struct tg_parse_ctx *pc = tg_parse_ctx_new(s->data, (enum tg_format)f, &err);
        if (!pc) {
            tg_check_problem(ck, s, "snoopy_format", "%s", err);
            free(err);
            return;
        }
        tg_parse_ctx_free(pc);
    }
}

static void tg_check_policy(struct tg_findings *ck, const struct tg_section *s)
{
    const char *dir = tg_config_str(s, "snapshot_dir");
    if (!dir)
        return;
    struct tg_snapshot *snap = NULL;
    char *err = NULL;
    if (tg_snapshot_load(dir, &snap, &err) != 0) {
        tg_check_problem(ck, s, "snapshot_dir",
                         "%s (the collector would start, but judge nothing until it loads)", err);
        free(err);
        return;
    }
    tg_snapshot_unref(snap);
}

static void tg_check_store(struct tg_findings *ck, const struct tg_section *s)
{
    static const char *const rw[] = {TG_SEG_LOCK_FILE, TG_SEG_HEAD_FILE, TG_CHECKPOINT_FILE, NULL};
    const char *dir = tg_config_str(s, "dir");
    if (dir)
        tg_check_dir(ck, s, "dir", dir, rw);
    const char *keyfile = tg_config_str(s, "hmac_key_file");
    uint8_t key[TG_LINK_LEN];
    char *err = NULL;
    if (keyfile && tg_chain_key_load(keyfile, true, key, &err) != 0) {
        tg_check_problem(ck, s, "hmac_key_file", "%s", err);
        free(err);
        err = NULL;
    }
    const char *signing = tg_config_str(s, "signing_key_file");
    void *skey = NULL;
    if (signing && tg_sign_key_load(signing, true, &skey, &err) != 0) {
        tg_check_problem(ck, s, "signing_key_file", "%s", err);
        free(err);
    }
    tg_sign_key_free(skey);
}

/* [filter]: the key of event.hash (the loader checked the patterns). */
static void tg_check_sieve(struct tg_findings *ck, const struct tg_section *s)
{
    const char *keyfile = tg_config_str(s, "hash_key_file");
    if (keyfile)
        tg_check_readable(ck, s, "hash_key_file", keyfile, "a key file");
}

/* The sections that are not a source's (a source's section is checked by
 * its plugin's check callback). */
static const struct {
    const struct tg_section_def *def;
    void (*check)(struct tg_findings *ck, const struct tg_section *s);
} tg_check_sections[] = {
    {&tg_collector_section, tg_check_collector}, {&tg_parsers_section, tg_check_parsers},
    {&tg_policy_section, tg_check_policy},       {&tg_sink_file_section, tg_check_store},
    {&tg_sieve_section, tg_check_sieve},
};

int tg_check_config(const char *path)
{
    struct tg_findings ck = {.file = path};
    struct tg_config *cfg = NULL;
    int nerrors = 0;
    size_t ndefs;
    const struct tg_section_def *const *defs = tg_registry_sections(&ndefs);
    if (tg_config_load_all(path, defs, ndefs, &cfg, &nerrors) != 0) {
        fprintf(stderr, "%s: not checked further\n", path);
        return TG_EXIT_USAGE;
    }
    ck.cfg = cfg;
    ck.problems = nerrors;
    for (size_t i = 0; i < cfg->n; i++) {
        const struct tg_section *s = &cfg->sections[i];
        const struct tg_source_ops *src = tg_registry_source_for(s->def);
        if (src && src->check)
            src->check(&ck, s);
        for (size_t k = 0; k < sizeof(tg_check_sections) / sizeof(tg_check_sections[0]); k++)
            if (s->def == tg_check_sections[k].def)
                tg_check_sections[k].check(&ck, s);
    }
    tg_config_free(cfg);
    if (ck.problems) {
        fprintf(stderr, "%s%s: %d problem%s found; fix them (see `trailguard help config`)\n",
                tg_log_prefix(TG_LOG_ERROR), path, ck.problems, ck.problems == 1 ? "" : "s");
        return TG_EXIT_USAGE;
    }
    printf("%s: configuration OK", path);
    if (ck.notes)
        printf(" (%d note%s above)", ck.notes, ck.notes == 1 ? "" : "s");
    printf("\n");
    return TG_EXIT_OK;
}

int tg_cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            fputs(tg_check_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("check", c, argv);
        }
    }
    if (optind < argc)
        return tg_usage_error("check", "unexpected argument '%s'", argv[optind]);
    if (!config_path)
        return tg_usage_error("check", "give the configuration to check with -c FILE");
    return tg_check_config(config_path);
}
