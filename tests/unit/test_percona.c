/*
 * test_percona.c - the "priv_user[user] @ host [ip]" splitter
 * (parsers/percona.c, MySQL make_user_name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/errors.h"
#include "parsers/percona.h"

static void check(const char *s, int want_rc, const char *priv, const char *user, const char *host,
                  const char *ip)
{
    struct tg_mysql_user u;
    assert_int_equal(tg_percona_split_user(tg_str_c(s), &u), want_rc);
    const char *want[4] = {priv, user, host, ip};
    struct tg_str got[4] = {u.priv, u.user, u.host, u.ip};
    for (int i = 0; i < 4; i++) {
        if (!want[i]) {
            assert_null(got[i].p);
            continue;
        }
        assert_non_null(got[i].p);
        assert_int_equal(got[i].len, strlen(want[i]));
        assert_memory_equal(got[i].p, want[i], got[i].len);
    }
}

static void test_localhost(void **state)
{
    check("root[root] @ localhost []", 0, "root", "root", "localhost", "");
}

static void test_empty_host_two_spaces(void **state)
{
    check("app[app] @  [127.0.0.1]", 0, "app", "app", "", "127.0.0.1");
}

static void test_anonymous_and_proxy(void **state)
{
    check("[bob] @ localhost []", 0, "", "bob", "localhost", "");
    check("proxy_acct[bob] @ h.example.org [10.1.1.1]", 0, "proxy_acct", "bob", "h.example.org",
          "10.1.1.1");
}

static void test_truncated(void **state)
{
    /* the server cuts the string at 511 bytes */
    check("p[u] @ hosthosthost", TG_ETRUNC, "p", "u", "hosthosthost", NULL);
    check("p[uuuu", TG_ETRUNC, "p", "uuuu", NULL, NULL);
    check("p[u] @ h [10.0.", TG_ETRUNC, "p", "u", "h", NULL); /* cut in the ip */
}

static void test_not_a_user_string(void **state)
{
    check("plain", TG_EINVAL, NULL, NULL, NULL, NULL);
    check("", TG_EINVAL, NULL, NULL, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_localhost),           cmocka_unit_test(test_empty_host_two_spaces),
        cmocka_unit_test(test_anonymous_and_proxy), cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_a_user_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
