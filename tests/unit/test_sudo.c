/*
 * test_sudo.c - sudo's log lines (parsers/sudo.c) word by word: the argv
 * read back from sudo's quoting and escapes (#0nn octal with the fewest
 * digits, \' and \\, quoted words with spaces, empty words), the trailing
 * SIGNAL=/EXIT=, which lines carry a host decision, and what is not a sudo
 * line.  The real sudo's lines are the golden tests (tests/golden/sudo/)
 * and tests/integration/sudo_live.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/errors.h"
#include "parsers/sudo.h"

static struct tg_event *parse(const char *line, int want_rc)
{
    struct tg_event *ev = tg_event_new(line, strlen(line), NULL, tg_time_now());
    assert_int_equal(tg_sudo_parse(ev, ev->original), want_rc);
    return ev;
}

static void args_are(const struct tg_event *ev, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    assert_int_equal(ev->nargs, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ev->args[i].len, strlen(want[i]));
        assert_memory_equal(ev->args[i].p, want[i], ev->args[i].len);
    }
}

static void test_argv(void **state)
{
    (void)state;
    struct tg_event *ev =
        parse("alice : USER=root ; COMMAND=/usr/bin/printf %s| 'a b' it\\'s back\\\\slash  "
              "tab#011x '' 'q\\'d #011'",
              0);
    args_are(ev, (const char *const[]){"/usr/bin/printf", "%s|", "a b", "it's", "back\\slash", "",
                                       "tab\tx", "", "q'd \t", NULL});
    assert_true(tg_str_eq(ev->executable, "/usr/bin/printf"));
    tg_event_free(ev);
    /* octal escapes: the fewest digits that hold the value (lbuf.c escape()) */
    ev = parse("alice : USER=root ; COMMAND=/bin/a#040b x#01y #0177 #012 #0377 #08", 0);
    args_are(ev, (const char *const[]){"/bin/a b", "x\001y", "\177", "\n",
                                       "\037"
                                       "7",
                                       "#08", NULL});
    tg_event_free(ev);
    /* the path is not unquoted: only blanks and control characters are escaped there */
    ev = parse("alice : USER=root ; COMMAND=/opt/it\\'s/x", 0);
    args_are(ev, (const char *const[]){"/opt/it\\'s/x", NULL});
    tg_event_free(ev);
}

static void test_tail_and_semicolons(void **state)
{
    (void)state;
    struct tg_event *ev = parse("alice : USER=root ; COMMAND=/bin/echo ; EXIT=0 ; EXIT=3", 0);
    args_are(ev, (const char *const[]){"/bin/echo", ";", "EXIT=0", NULL});
    assert_int_equal(ev->exit_code, 3);
    assert_true(tg_str_eq(ev->action, "exit"));
    assert_int_equal(ev->outcome, TG_OUTCOME_FAILURE);
    tg_event_free(ev);
    ev = parse("alice : USER=root ; COMMAND=/bin/sleep 9 ; SIGNAL=SIGKILL", 0);
    assert_true(tg_str_eq(ev->action, "exit"));
    assert_int_equal(ev->exit_code, TG_NUM_NONE);
    assert_non_null(strstr(ev->sudo_data.p, "\"signal\":\"SIGKILL\""));
    tg_event_free(ev);
    /* EXIT= that is not a number stays part of the command */
    ev = parse("alice : USER=root ; COMMAND=/bin/echo ; EXIT=x", 0);
    assert_true(tg_str_eq(ev->action, "accept"));
    args_are(ev, (const char *const[]){"/bin/echo", ";", "EXIT=x", NULL});
    tg_event_free(ev);
}

static void test_decisions(void **state)
{
    (void)state;
    static const struct {
        const char *line, *action;
        enum tg_decision host;
    } cases[] = {
        {"alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/ls", "accept", TG_DECISION_ALLOW},
        {"alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/ls ; EXIT=0", "exit", TG_DECISION_ALLOW},
        {"alice : command not allowed ; USER=root ; COMMAND=/bin/ls", "reject", TG_DECISION_DENY},
        {"bob : user NOT in sudoers ; USER=root ; COMMAND=/bin/ls", "reject", TG_DECISION_DENY},
        {"bob : user NOT authorized on host ; USER=root ; COMMAND=/bin/ls", "reject",
         TG_DECISION_DENY},
        {"alice : PAM account management error: Permission denied ; USER=root ; COMMAND=/bin/ls",
         "reject", TG_DECISION_DENY},
        {"alice : 2 incorrect password attempts ; USER=root ; COMMAND=/bin/ls", "auth_failure",
         TG_DECISION_NONE},
        {"alice : a password is required ; USER=root ; COMMAND=/bin/ls", "auth_failure",
         TG_DECISION_NONE},
        {"alice : problem with defaults entries ; TTY=pts/0 ; PWD=/ ; ", "alert", TG_DECISION_NONE},
        {"alice : (command continued) 255 256", "command_continued", TG_DECISION_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_event *ev = parse(cases[i].line, 0);
        assert_int_equal(ev->dataset, TG_DS_SUDO);
        assert_true(tg_str_eq(ev->action, cases[i].action));
        assert_int_equal(ev->host_decision, cases[i].host);
        tg_event_free(ev);
    }
    struct tg_event *ev = parse("alice : problem with defaults entries ; TTY=pts/0 ; PWD=/ ; ", 0);
    assert_true(tg_str_eq(ev->working_directory, "/")); /* the " ; " sudo leaves at the end */
    assert_int_equal(ev->nargs, 0);
    tg_event_free(ev);
}

static void test_not_sudo(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "",
        "alice",
        "alice : hello",
        "two words : TTY=x ; COMMAND=/bin/ls",
        " : COMMAND=/bin/ls",
        "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1001)",
        "unable to resolve host web1: Name or service not known",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct tg_event *ev = parse(lines[i], TG_ENOTMINE);
        assert_int_equal(ev->dataset, TG_DS_SYSLOG);
        assert_null(ev->user_name.p);
        tg_event_free(ev);
    }
}

static void test_maybe_split(void **state)
{
    (void)state;
    char line[1100];
    int n = snprintf(line, sizeof(line), "   alice : PWD=/ ; USER=root ; COMMAND=/usr/bin/ls");
    while (n < 900)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %d", n);
    struct tg_event *ev = parse(line, 0);
    assert_int_equal(ev->parse_status, TG_PARSE_PARTIAL);
    assert_non_null(strstr(ev->parse_error.p, "command continued"));
    tg_event_free(ev);
    line[200] = '\0'; /* short: read whole */
    ev = parse(line, 0);
    assert_int_equal(ev->parse_status, TG_PARSE_OK);
    tg_event_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv),        cmocka_unit_test(test_tail_and_semicolons),
        cmocka_unit_test(test_decisions),   cmocka_unit_test(test_not_sudo),
        cmocka_unit_test(test_maybe_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
