/*
 * test_snoopy.c - the snoopy template compiler and scanner (parsers/snoopy.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/errors.h"
#include "parsers/snoopy.h"

static char *describe(const char *tmpl)
{
    struct tg_snoopy_fmt *f;
    char *err = NULL;
    assert_int_equal(tg_snoopy_compile(tmpl, &f, &err), 0);
    assert_null(err);
    struct tg_buf b = TG_BUF_INIT;
    tg_snoopy_describe(f, &b);
    tg_snoopy_free(f);
    return (char *)tg_buf_cstr(&b);
}

static void compile_error(const char *tmpl, const char *needle)
{
    struct tg_snoopy_fmt *f = (void *)1;
    char *err = NULL;
    assert_int_equal(tg_snoopy_compile(tmpl, &f, &err), TG_EINVAL);
    assert_null(f);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    free(err);
}

static void test_debian_default(void **state)
{
    char *d = describe(TG_SNOOPY_FMT_DEBIAN);
    assert_string_equal(d, "lit \"[login:\"\n"
                           "field login until \" ssh:(\"\n"
                           "field env:SSH_CONNECTION until \") sid:\"\n"
                           "field sid until \" tty:\"\n"
                           "field tty until \" (\"\n"
                           "field tty_uid until \"/\"\n"
                           "field tty_username until \") uid:\"\n"
                           "field username until \"(\"\n"
                           "field uid until \")/\"\n"
                           "field eusername until \"(\"\n"
                           "field euid until \") cwd:\"\n"
                           "field cwd until \"]: \"\n"
                           "field cmdline rest\n");
    free(d);
}

static void test_literal_and_trailing_text(void **state)
{
    /* snoopy_literal folds into the surrounding text; a trailing literal closes the record */
    char *d = describe("%{snoopy_literal:<}%{pid}%{snoopy_literal:>} x=%{cmdline}!");
    assert_string_equal(d, "lit \"<\"\nfield pid until \"> x=\"\nfield cmdline until \"!\"\n");
    free(d);
    /* a number may be followed directly by another datasource */
    d = describe("%{uid}%{username}: %{cmdline}");
    assert_string_equal(d, "field uid digits\nfield username until \": \"\nfield cmdline rest\n");
    free(d);
}

static void test_compile_errors(void **state)
{
    compile_error("[uid:%{uid} x:%{nosuch}]: %{cmdline}", "nosuch");
    compile_error("[uid:%{uid", "no closing");
    compile_error("%{cwd}%{cmdline}", "directly followed");
    compile_error("no datasource here", "no %{datasource}");
    compile_error("", "no %{datasource}");
}

static struct tg_event *parse(const char *tmpl, const char *rec, int *rc)
{
    struct tg_snoopy_fmt *f;
    char *err = NULL;
    assert_int_equal(tg_snoopy_compile(tmpl, &f, &err), 0);
    struct tg_event *ev = tg_event_new(rec, strlen(rec), NULL, tg_time_now());
    const struct tg_snoopy_fmt *one[1] = {f};
    *rc = tg_snoopy_parse(one, 1, ev, ev->original);
    tg_snoopy_free(f); /* values are slices of the record, not of the format */
    return ev;
}

static void assert_str(struct tg_str s, const char *want)
{
    if (!want) {
        assert_null(s.p);
        return;
    }
    assert_non_null(s.p);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.p, want, s.len);
}

static void test_scan_fields(void **state)
{
    int rc;
    struct tg_event *ev =
        parse(TG_SNOOPY_FMT_DEBIAN,
              "[login:alice ssh:(198.51.100.7 40000 10.0.0.1 22) sid:7 tty:/dev/pts/1 (1000/alice) "
              "uid:alice(1000)/root(0) cwd:/home/alice]: sudo -i",
              &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ev->parse_status, TG_PARSE_OK);
    assert_str(ev->user_name, "alice");
    assert_str(ev->user_id, "1000");
    assert_str(ev->user_eff_name, "root");
    assert_str(ev->user_eff_id, "0");
    assert_str(ev->tty, "pts/1");
    assert_str(ev->working_directory, "/home/alice");
    assert_str(ev->command_line, "sudo -i");
    assert_str(ev->source_ip, "198.51.100.7");
    assert_int_equal(ev->source_port, 40000);
    assert_int_equal(ev->session_leader_pid, 7);
    tg_event_free(ev);
}

static void test_scan_unknown_login_and_missing(void **state)
{
    int rc;
    /* login unknown: the real user; "(undefined)" names are absent */
    struct tg_event *ev = parse(TG_SNOOPY_FMT_DEBIAN,
                                "[login:(unknown) ssh:((undefined)) sid:1 tty:(none) "
                                "((none)/(none)) uid:(undefined)(4242)/root(0) cwd:/]: id",
                                &rc);
    assert_int_equal(rc, 0);
    assert_null(ev->user_name.p);
    assert_str(ev->user_id, "4242");
    assert_null(ev->tty.p);
    assert_null(ev->source_ip.p);
    assert_int_equal(ev->parse_status, TG_PARSE_OK);
    tg_event_free(ev);

    /* not this format at all */
    ev = parse(TG_SNOOPY_FMT_UPSTREAM, "Nov 24 su: session opened", &rc);
    assert_int_equal(rc, TG_ENOTMINE);
    assert_int_equal(ev->dataset, TG_DS_SYSLOG);
    tg_event_free(ev);

    /* cut half-way: the fields read so far, partial */
    ev = parse(TG_SNOOPY_FMT_UPSTREAM, "[uid:0 sid:5 tty:(none) cwd:/tmp", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ev->parse_status, TG_PARSE_PARTIAL);
    assert_str(ev->user_id, "0");
    assert_null(ev->command_line.p);
    tg_event_free(ev);
}

static void assert_reason(const struct tg_event *ev, const char *want)
{
    assert_int_equal(ev->parse_status, TG_PARSE_PARTIAL);
    assert_non_null(ev->parse_error.p);
    char *got = strndup(ev->parse_error.p, ev->parse_error.len);
    if (!strstr(got, want))
        fail_msg("parse.error '%s' does not mention '%s'", got, want);
    free(got);
}

static void test_scan_login_and_real_user(void **state)
{
    /* alice logged in and became root: user is alice (her id from the tty's
     * owner), the real and effective users are root */
    int rc;
    struct tg_event *ev = parse(TG_SNOOPY_FMT_DEBIAN,
                                "[login:alice ssh:((undefined)) sid:7 tty:/dev/pts/1 (1000/alice) "
                                "uid:root(0)/root(0) cwd:/root]: /usr/bin/id",
                                &rc);
    assert_int_equal(rc, 0);
    assert_str(ev->user_name, "alice");
    assert_str(ev->user_id, "1000");
    assert_str(ev->user_real_name, "root");
    assert_str(ev->user_real_id, "0");
    assert_str(ev->user_eff_name, "root");
    tg_event_free(ev);
    /* without the tty's owner, alice's id is not in the record */
    ev = parse(TG_SNOOPY_FMT_DEBIAN,
               "[login:alice ssh:((undefined)) sid:7 tty:(none) ((none)/(none)) "
               "uid:root(0)/root(0) cwd:/root]: /usr/bin/id",
               &rc);
    assert_str(ev->user_name, "alice");
    assert_null(ev->user_id.p);
    assert_str(ev->user_real_id, "0");
    tg_event_free(ev);
    /* the login is the real user: no real_user */
    ev = parse(TG_SNOOPY_FMT_DEBIAN,
               "[login:bob ssh:((undefined)) sid:7 tty:(none) ((none)/(none)) "
               "uid:bob(1001)/root(0) cwd:/]: /usr/bin/sudo id",
               &rc);
    assert_str(ev->user_id, "1001");
    assert_null(ev->user_real_name.p);
    assert_null(ev->user_real_id.p);
    tg_event_free(ev);
}

/* getpwuid_r failed: snoopy prints "ERROR(getpwuid_r)" where the name goes,
 * right before Debian's "(": the uid after it is kept, no name is made up,
 * and the event says what snoopy could not resolve. */
static void test_scan_unresolvable_users(void **state)
{
    int rc;
    struct tg_event *ev = parse(TG_SNOOPY_FMT_DEBIAN,
                                "[login:(undefined) ssh:((undefined)) sid:1 tty:(none) "
                                "((none)/(none)) uid:ERROR(getpwuid_r)(1234)/root(0) cwd:/]: "
                                "/bin/true",
                                &rc);
    assert_int_equal(rc, 0);
    assert_null(ev->user_name.p);
    assert_str(ev->user_id, "1234");
    assert_str(ev->user_eff_name, "root");
    assert_str(ev->user_eff_id, "0");
    assert_str(ev->command_line, "/bin/true");
    assert_reason(ev, "snoopy could not read username");
    tg_event_free(ev);

    /* the login name still names the user (uid 1234 may be someone else's:
     * it is the real user's); both parts failing are both reported */
    ev = parse(TG_SNOOPY_FMT_DEBIAN,
               "[login:alice ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) "
               "uid:ERROR(getpwuid_r)(1234)/ERROR(malloc)(1234) cwd:/]: id",
               &rc);
    assert_int_equal(rc, 0);
    assert_str(ev->user_name, "alice");
    assert_null(ev->user_id.p);
    assert_null(ev->user_real_name.p);
    assert_str(ev->user_real_id, "1234");
    assert_null(ev->user_eff_name.p);
    assert_str(ev->user_eff_id, "1234");
    assert_reason(ev, "snoopy could not read username");
    assert_reason(ev, "snoopy could not read eusername");
    tg_event_free(ev);

    /* snoopy 2.5's username when getpwuid_r fails */
    ev = parse(TG_SNOOPY_FMT_DEBIAN,
               "[login:(unknown) ssh:((undefined)) sid:1 tty:(none) ((none)/(none)) "
               "uid:Unable to convert UID to username(1234)/root(0) cwd:/]: id",
               &rc);
    assert_int_equal(rc, 0);
    assert_null(ev->user_name.p);
    assert_str(ev->user_id, "1234");
    assert_reason(ev, "snoopy could not read username");
    tg_event_free(ev);

    /* tty and the tty owner failing (fd 0 closed) */
    ev = parse(TG_SNOOPY_FMT_DEBIAN,
               "[login:(unknown) ssh:((undefined)) sid:1 tty:ERROR(ttyname_r->EBADF) "
               "(ERROR(ttyname_r->EBADF)/ERROR(ttyname_r->EBADF)) uid:root(0)/root(0) cwd:/]: id",
               &rc);
    assert_int_equal(rc, 0);
    assert_null(ev->tty.p);
    assert_str(ev->user_name, "root");
    assert_str(ev->working_directory, "/");
    assert_reason(ev, "snoopy could not read tty");
    tg_event_free(ev);

    /* of the upstream format's datasources only tty can fail */
    ev = parse(TG_SNOOPY_FMT_UPSTREAM,
               "[uid:0 sid:1 tty:ERROR(ttyname_r->ERANGE) cwd:/ filename:/bin/true]: true", &rc);
    assert_int_equal(rc, 0);
    assert_null(ev->tty.p);
    assert_str(ev->user_id, "0");
    assert_str(ev->executable, "/bin/true");
    assert_reason(ev, "snoopy could not read tty");
    tg_event_free(ev);
}

/* snoopy's "<PRI>snoopy[PID]: " is getpid() of the process that calls
 * execve: the pid when the format has no %{pid}. */
static void test_pid_from_syslog_procid(void **state)
{
    struct tg_snoopy_fmt *debian, *withpid;
    char *err = NULL;
    assert_int_equal(tg_snoopy_compile(TG_SNOOPY_FMT_DEBIAN, &debian, &err), 0);
    assert_int_equal(tg_snoopy_compile("[pid:%{pid}]: %{cmdline}", &withpid, &err), 0);
    static const char body1[] = "[login:(unknown) ssh:((undefined)) sid:1 tty:(none) "
                                "((none)/(none)) uid:root(0)/root(0) cwd:/]: /bin/true";
    static const char body2[] = "[pid:42]: /bin/true";
    const struct {
        const struct tg_snoopy_fmt *f;
        const char *body, *procid;
        int64_t pid;
    } cases[] = {
        {debian, body1, "14105", 14105},   {debian, body1, NULL, TG_NUM_NONE},
        {debian, body1, "-", TG_NUM_NONE}, {debian, body1, "14105x", TG_NUM_NONE},
        {withpid, body2, "14105", 42}, /* the record's own pid wins */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_event *ev =
            tg_event_new(cases[i].body, strlen(cases[i].body), NULL, tg_time_now());
        if (cases[i].procid)
            ev->sl_procid = tg_str_c(cases[i].procid);
        const struct tg_snoopy_fmt *one[1] = {cases[i].f};
        assert_int_equal(tg_snoopy_parse(one, 1, ev, ev->original), 0);
        assert_int_equal(ev->pid, cases[i].pid);
        assert_int_equal(ev->parse_status, TG_PARSE_OK);
        tg_event_free(ev);
    }
    tg_snoopy_free(debian);
    tg_snoopy_free(withpid);
}

/* process.args: the command line split at single spaces, as snoopy joined
 * the argv (an argument that held a space is two words; empty arguments are
 * empty words); nothing for a record without a command line. */
static void test_args_from_cmdline(void **state)
{
    static const struct {
        const char *rec;
        size_t n;
        const char *args[5];
    } cases[] = {
        {"[uid:0 sid:1 tty:(none) cwd:/ filename:/usr/bin/ls]: ls -la /tmp",
         3,
         {"ls", "-la", "/tmp"}},
        {"[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/echo]: /bin/echo  x ",
         4,
         {"/bin/echo", "", "x", ""}},
        {"[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: /bin/true", 1, {"/bin/true"}},
        {"[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: ", 0, {NULL}},
    };
    struct tg_snoopy_fmt *f;
    char *err = NULL;
    assert_int_equal(tg_snoopy_compile(TG_SNOOPY_FMT_UPSTREAM, &f, &err), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_event *ev = tg_event_new(cases[i].rec, strlen(cases[i].rec), NULL, tg_time_now());
        const struct tg_snoopy_fmt *one[1] = {f};
        assert_int_equal(tg_snoopy_parse(one, 1, ev, ev->original), 0);
        assert_int_equal(ev->nargs, cases[i].n);
        for (size_t k = 0; k < cases[i].n; k++)
            assert_true(tg_str_eq(ev->args[k], cases[i].args[k]));
        tg_event_free(ev);
    }
    tg_snoopy_free(f);
}

static void test_scan_timestamps(void **state)
{
    int rc;
    struct tg_event *ev =
        parse("%{timestamp}.%{timestamp_ms} %{pid}: %{cmdline}", "1764000000.250 42: ls", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ev->timestamp.sec, 1764000000);
    assert_int_equal(ev->timestamp.nsec, 250000000);
    assert_int_equal(ev->timestamp.frac, 3);
    assert_int_equal(ev->pid, 42);
    tg_event_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debian_default),
        cmocka_unit_test(test_literal_and_trailing_text),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_scan_fields),
        cmocka_unit_test(test_scan_unknown_login_and_missing),
        cmocka_unit_test(test_scan_timestamps),
        cmocka_unit_test(test_scan_login_and_real_user),
        cmocka_unit_test(test_scan_unresolvable_users),
        cmocka_unit_test(test_pid_from_syslog_procid),
        cmocka_unit_test(test_args_from_cmdline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
