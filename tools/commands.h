/*
 * commands.h - the subcommands of the `trailguard` binary (SPEC.md
 * section 1).  Each takes the arguments after its name (argv[0] is the
 * command name) and returns a process exit code (enum tg_exit).  Each runs
 * on the main thread.
 */
#ifndef TG_COMMANDS_H
#define TG_COMMANDS_H

#include "core/pipeline.h"
#include "ingest/source.h"

struct tg_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage; /* full help text */
};

int tg_cmd_ingest(int argc, char **argv);
extern const char tg_ingest_usage[];
int tg_cmd_policy(int argc, char **argv);
extern const char tg_policy_usage[];
int tg_cmd_query(int argc, char **argv); /* tools/query.c */
extern const char tg_query_usage[];
int tg_cmd_export(int argc, char **argv); /* tools/export.c */
extern const char tg_export_usage[];
int tg_cmd_report(int argc, char **argv); /* tools/report.c */
extern const char tg_report_usage[];
int tg_cmd_verify(int argc, char **argv); /* tools/verify.c */
extern const char tg_verify_usage[];
int tg_cmd_prune(int argc, char **argv); /* tools/prune.c */
extern const char tg_prune_usage[];
int tg_cmd_keygen(int argc, char **argv); /* tools/keygen.c */
extern const char tg_keygen_usage[];
int tg_cmd_serve(int argc, char **argv);
extern const char tg_serve_usage[];
int tg_cmd_omprog(int argc, char **argv);
extern const char tg_omprog_usage[];
int tg_cmd_check(int argc, char **argv); /* tools/check.c */
extern const char tg_check_usage[];
/* `check -c path` (and `serve --check`): print the findings and a last
 * line; returns the exit status (0 good, 2 problems). */
int tg_check_config(const char *path);

/* `serve` after its options: run the collector with `config_path` (NULL:
 * the built-in configuration) and, for tests, `extra_sink` after the
 * configured sinks (NULL: none).  Returns the exit code. */
int tg_serve_run(const char *config_path, const struct tg_sink_ops *extra_sink);

/* The sources of commands (rows of the registry, for their input type and
 * spool code): omprog's stdin messages, ingest's stdin stream. */
extern const struct tg_source_ops tg_in_omprog; /* tools/omprog.c */
extern const struct tg_source_ops tg_in_stdin;  /* tools/ingest.c */

/* The command table, NULL-name terminated (tools/cli.c). */
extern const struct tg_command tg_commands[];

/* Run the command line `trailguard ARGS...` (argv[0] is the program) and
 * return its exit code: what main() does.  Main thread. */
int tg_cli_main(int argc, char **argv);

/* Print a usage error for `cmd` and return TG_EXIT_USAGE. */
int tg_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long (with opterr = 0 and an optstring starting with ':') returned
 * c, '?' (an unknown option) or ':' (an option without its value): say
 * which option, as tg_usage_error does for `cmd`.  Returns TG_EXIT_USAGE. */
int tg_option_error(const char *cmd, int c, char **argv);

#endif
