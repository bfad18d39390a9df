/*
 * test_timeutil.c - timestamp parsing: RFC 3339 with fractions and zones
 * (also lower-case 't'/'z'), days that do not exist are refused (no
 * February 30th rolling into March), the RFC 3164 year choice, and the
 * --since/--until forms (relative times keep now's fraction of a second).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timeutil.h"

static size_t iso(const char *s, struct tg_time *t)
{
    return tg_time_parse_iso(s, strlen(s), t);
}

static void test_iso(void **state)
{
    (void)state;
    struct tg_time t;
    assert_int_equal(iso("2026-11-24T13:42:31.123456Z", &t), 27);
    assert_int_equal(t.sec, 1795527751);
    assert_int_equal(t.nsec, 123456000);
    assert_int_equal(t.frac, 6);
    assert_int_equal(iso("2026-11-24t13:42:31z", &t), 20);
    assert_int_equal(t.sec, 1795527751);
    assert_int_equal(iso("2026-11-24T15:42:31+02:00", &t), 25);
    assert_int_equal(t.sec, 1795527751);
    assert_int_equal(iso("2026-11-24 08:12:31-0530", &t), 24);
    assert_int_equal(t.sec, 1795527751);
    assert_int_equal(iso("2024-02-29T00:00:00Z", &t), 20); /* a leap day */
    assert_int_equal(iso("2023-02-29T00:00:00Z", &t), 0);
    assert_int_equal(iso("2024-02-30T00:00:00Z", &t), 0);
    assert_int_equal(iso("2026-04-31T00:00:00Z", &t), 0);
    assert_int_equal(iso("1900-02-29T00:00:00Z", &t), 0); /* not a leap year */
    assert_int_equal(iso("2000-02-29T00:00:00Z", &t), 20);
    assert_int_equal(iso("2026-11-24T24:00:00Z", &t), 0);
}

static void test_bsd(void **state)
{
    (void)state;
    struct tg_time t;
    int64_t jan2027 = 1798761600 + 86400; /* 2027-01-02 */
    assert_int_equal(tg_time_parse_bsd("Dec 31 23:59:59 host", 20, jan2027, &t), 15);
    assert_int_equal(t.sec, 1798761599); /* the year before the reference */
    assert_int_equal(tg_time_parse_bsd("Feb 30 00:00:00", 15, jan2027, &t), 0);
    assert_int_equal(tg_time_parse_bsd("Feb 29 12:00:00", 15, jan2027, &t), 15);
    assert_int_equal(t.sec, 1835438400); /* 2028: the one leap year of the three candidates */
}

static void test_arg(void **state)
{
    (void)state;
    struct tg_time now = {1795527751, 987654321, 9}, t;
    assert_int_equal(tg_time_parse_arg("now", now, &t), 0);
    assert_int_equal(t.sec, now.sec);
    assert_int_equal(t.nsec, now.nsec); /* --until now includes this second */
    assert_int_equal(tg_time_parse_arg("-24h", now, &t), 0);
    assert_int_equal(t.sec, now.sec - 86400);
    assert_int_equal(t.nsec, now.nsec);
    assert_int_equal(tg_time_parse_arg("-1w", now, &t), 0);
    assert_int_equal(t.sec, now.sec - 7 * 86400);
    assert_int_equal(tg_time_parse_arg("2026-11-24", now, &t), 0);
    assert_int_equal(t.sec, 1795478400);
    assert_int_equal(t.nsec, 0);
    assert_int_equal(tg_time_parse_arg("2026-11-24T00:00:00Z", now, &t), 0);
    assert_int_equal(t.sec, 1795478400);
    assert_int_not_equal(tg_time_parse_arg("2026-02-30", now, &t), 0);
    assert_int_not_equal(tg_time_parse_arg("yesterday", now, &t), 0);
    assert_int_not_equal(tg_time_parse_arg("-24", now, &t), 0);
    assert_int_not_equal(tg_time_parse_arg("-24y", now, &t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso),
        cmocka_unit_test(test_bsd),
        cmocka_unit_test(test_arg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
