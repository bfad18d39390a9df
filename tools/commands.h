/*
 * commands.h - the subcommands of the `trailguard` binary (SPEC.md
 * section 1).  Each takes the arguments after its name (argv[0] is the
 * command name) and returns a process exit code (enum tg_exit).  Each runs
 * on the main thread.
 */
#ifndef TG_COMMANDS_H
#define TG_COMMANDS_H

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

/* The command table, NULL-name terminated (core/main.c). */
extern const struct tg_command tg_commands[];

/* Print a usage error for `cmd` and return TG_EXIT_USAGE. */
int tg_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long (with opterr = 0 and an optstring starting with ':') returned
 * c, '?' (an unknown option) or ':' (an option without its value): say
 * which option, as tg_usage_error does for `cmd`.  Returns TG_EXIT_USAGE. */
int tg_option_error(const char *cmd, int c, char **argv);

#endif
