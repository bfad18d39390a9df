/*
 * test_cli.c - the command line is in libtrailguard.a: a test links every
 * command (issue 12: tg_usage_error/tg_option_error were defined only in the
 * binary's main.c, so nothing else could link a tg_cmd_*).  Runs a few
 * command lines through tg_cli_main and checks their exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/errors.h"
#include "tools/commands.h"

/* Run `trailguard ARGS...` with stdout and stderr discarded. */
static int run(int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    FILE *null = fopen("/dev/null", "w");
    dup2(fileno(null), 1);
    dup2(fileno(null), 2);
    int rc = tg_cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    fclose(null);
    return rc;
}

static void test_commands_link_and_run(void **state)
{
    char *version[] = {"trailguard", "--version", NULL};
    assert_int_equal(run(2, version), TG_EXIT_OK);
    char *help[] = {"trailguard", "help", "ingest", NULL};
    assert_int_equal(run(3, help), TG_EXIT_OK);
    char *bad_option[] = {"trailguard", "ingest", "--no-such-option", NULL};
    assert_int_equal(run(3, bad_option), TG_EXIT_USAGE);
    char *bad_arg[] = {"trailguard", "serve", "stray", NULL};
    assert_int_equal(run(3, bad_arg), TG_EXIT_USAGE);
    char *unknown[] = {"trailguard", "no-such-command", NULL};
    assert_int_equal(run(2, unknown), TG_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_link_and_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
