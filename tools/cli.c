/*
 * cli.c - the command line of the `trailguard` binary: git-style subcommand
 * dispatch, `help`, and the usage-error helpers every command uses.
 *
 * In libtrailguard.a like everything but tools/main.c, so a test links any
 * command (tg_cli_main with an argv, or a tg_cmd_* directly).  Main thread.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buildinfo.h"
#include "core/errors.h"
#include "tools/commands.h"
#include "tools/manual.h"
#include "tools/registry.h"

static int tg_cmd_help(int argc, char **argv);

static const char tg_help_usage[] =
    "usage: trailguard help [COMMAND|config [SECTION]]\n"
    "       trailguard help --man 1|5\n"
    "       trailguard help --completion\n"
    "\n"
    "Show the help of COMMAND, or with `config` every configuration section and key\n"
    "(or those of SECTION, e.g. input.relp).  --man writes the manual page\n"
    "trailguard(1) or trailguard.conf(5) in roff, --completion the bash completion\n"
    "script: `make install` installs what they print.\n";

const struct tg_command tg_commands[] = {
    {"serve", tg_cmd_serve, "the collector daemon: RELP and file inputs -> spool -> sinks",
     tg_serve_usage},
    {"omprog", tg_cmd_omprog, "run as rsyslog's omprog output program (stdin, confirmations)",
     tg_omprog_usage},
    {"check", tg_cmd_check, "check a configuration (keys, files, snapshot, ports) without starting",
     tg_check_usage},
    {"ingest", tg_cmd_ingest, "read records from files or stdin, write events as NDJSON",
     tg_ingest_usage},
    {"policy", tg_cmd_policy, "explain a policy verdict (check) or inspect a snapshot (lint)",
     tg_policy_usage},
    {"query", tg_cmd_query, "search the file store (filters; table, NDJSON or CSV)",
     tg_query_usage},
    {"export", tg_cmd_export, "export a time range of the file store with a checksummed manifest",
     tg_export_usage},
    {"report", tg_cmd_report, "an HTML audit report of a time range of the file store, verified",
     tg_report_usage},
    {"verify", tg_cmd_verify, "check the file store's hash chain for tampering", tg_verify_usage},
    {"prune", tg_cmd_prune, "remove old segments of the file store, leaving a signed prune point",
     tg_prune_usage},
    {"keygen", tg_cmd_keygen, "make the key pair that signs the file store's checkpoints",
     tg_keygen_usage},
    {"help", tg_cmd_help, "show help for a command, or `help config` for the config keys",
     tg_help_usage},
    {NULL, NULL, NULL, NULL},
};

static void tg_main_usage(FILE *out)
{
    fprintf(out, "usage: trailguard [--version] [--help] COMMAND [ARGS]\n\n"
                 "trailguard collects access audit trails (snoopy, Percona audit log), normalizes\n"
                 "them into events and checks each against sudo/HBAC policy.\n\ncommands:\n");
    for (const struct tg_command *c = tg_commands; c->name; c++)
        fprintf(out, "  %-8s %s\n", c->name, c->summary);
    fprintf(out, "\n`trailguard help COMMAND` or `trailguard COMMAND --help` for details.\n");
}

int tg_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "trailguard %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry `trailguard %s --help`.\n", cmd);
    return TG_EXIT_USAGE;
}

int tg_option_error(const char *cmd, int c, char **argv)
{
    /* a long option's word is behind optind; a short letter's is not always
     * (getopt stays on "-zq" until its last letter), so a letter is named by
     * optopt unless the word behind is a long option that went wrong */
    const char *arg = argv[optind - 1];
    bool is_long = strncmp(arg, "--", 2) == 0 && (!optopt || c == ':' || strchr(arg, '='));
    int n = is_long ? (int)strcspn(arg, "=") : 2;
    char shortopt[3] = {'-', (char)optopt, '\0'};
    const char *name = is_long || !optopt ? arg : shortopt;
    if (c == ':')
        return tg_usage_error(cmd, "option '%.*s' needs a value", n, name);
    return tg_usage_error(cmd, "unknown option '%.*s'", n, name);
}

static const struct tg_command *tg_find_command(const char *name)
{
    for (const struct tg_command *c = tg_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int tg_cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        tg_main_usage(stdout);
        return TG_EXIT_OK;
    }
    if (strcmp(argv[1], "config") == 0 && argc <= 3) {
        if (argc == 2)
            printf("trailguard configuration reference (INI; unknown keys are an error)\n\n");
        if (tg_registry_print_reference(argc == 3 ? argv[2] : NULL) != 0)
            return tg_usage_error("help",
                                  "unknown section '%s'; `trailguard help config` lists "
                                  "them",
                                  argv[2]);
        return TG_EXIT_OK;
    }
    if (strcmp(argv[1], "--man") == 0 && argc == 3) {
        if (tg_manual_page(stdout, atoi(argv[2])) != 0)
            return tg_usage_error("help", "--man takes 1 (trailguard) or 5 (trailguard.conf)");
        return TG_EXIT_OK;
    }
    if (strcmp(argv[1], "--completion") == 0 && argc == 2) {
        tg_manual_completion(stdout);
        return TG_EXIT_OK;
    }
    if (argc > 2)
        return tg_usage_error("help", "give one COMMAND (or config [SECTION]), not %d words",
                              argc - 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(tg_help_usage, stdout);
        return TG_EXIT_OK;
    }
    const struct tg_command *c = tg_find_command(argv[1]);
    if (!c)
        return tg_usage_error("help", "unknown command '%s'", argv[1]);
    fputs(c->usage, stdout);
    return TG_EXIT_OK;
}

int tg_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        tg_main_usage(stderr);
        return TG_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        tg_buildinfo_print(stdout);
        return TG_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        tg_main_usage(stdout);
        return TG_EXIT_OK;
    }
    opterr = 0; /* each command says what was wrong with an option (tg_option_error) */
    const struct tg_command *c = tg_find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "trailguard: unknown %s '%s'\n\n", argv[1][0] == '-' ? "option" : "command",
                argv[1]);
        tg_main_usage(stderr);
        return TG_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
