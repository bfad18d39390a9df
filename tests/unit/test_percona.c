/*
 * test_percona.c - the "priv_user[user] @ host [ip]" splitter
 * (parsers/percona.c, MySQL make_user_name), and how records with
 * unreadable fields are reported; the plugin's own layout read without
 * json-c gives the same events as json-c's tree (issue 14).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Parse one record; `reason` NULL: must be ok, else partial naming it. */
static struct tg_event *parse(const char *rec, const char *reason)
{
    struct tg_event *ev = tg_event_new(rec, strlen(rec), NULL, tg_time_now());
    assert_int_equal(tg_percona_parse(ev, ev->original), 0);
    assert_int_equal(ev->dataset, TG_DS_PERCONA);
    if (!reason) {
        assert_int_equal(ev->parse_status, TG_PARSE_OK);
        return ev;
    }
    assert_int_equal(ev->parse_status, TG_PARSE_PARTIAL);
    char *got = strndup(ev->parse_error.p, ev->parse_error.len);
    if (!strstr(got, reason))
        fail_msg("parse.error '%s' does not mention '%s'", got, reason);
    free(got);
    return ev;
}

#define TG_REC(ts, status)                                                                         \
    "{\"audit_record\":{\"name\":\"Query\",\"record\":\"1_2024-09-03T01:52:14\"," ts               \
    "\"command_class\":\"select\",\"connection_id\":\"5\",\"status\":" status                      \
    ",\"sqltext\":\"select 1\",\"user\":\"root[root] @ localhost []\",\"host\":\"localhost\","     \
    "\"os_user\":\"\",\"ip\":\"\",\"db\":\"\"}}"
#define TG_TS "\"timestamp\":\"2024-09-03T01:53:33Z\","

static void test_status_and_outcome(void **state)
{
    struct tg_event *ev = parse(TG_REC(TG_TS, "0"), NULL);
    assert_int_equal(ev->db_status, 0);
    assert_int_equal(ev->outcome, TG_OUTCOME_SUCCESS);
    assert_int_equal(ev->timestamp.sec, 1725328413);
    tg_event_free(ev);

    /* Percona writes a number; a string holding one is read as it */
    ev = parse(TG_REC(TG_TS, "\"0\""), NULL);
    assert_int_equal(ev->db_status, 0);
    assert_int_equal(ev->outcome, TG_OUTCOME_SUCCESS);
    tg_event_free(ev);
    ev = parse(TG_REC(TG_TS, "\"1064\""), NULL);
    assert_int_equal(ev->db_status, 1064);
    assert_int_equal(ev->outcome, TG_OUTCOME_FAILURE);
    tg_event_free(ev);

    /* anything else: no status, outcome unknown, and said so */
    const char *bad[] = {TG_REC(TG_TS, "\"zero\""), TG_REC(TG_TS, "\"\""), TG_REC(TG_TS, "\" 0\""),
                         TG_REC(TG_TS, "null"),     TG_REC(TG_TS, "true"), TG_REC(TG_TS, "1.5")};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ev = parse(bad[i], "Percona status is not a number");
        assert_int_equal(ev->db_status, TG_NUM_NONE);
        assert_int_equal(ev->outcome, TG_OUTCOME_UNKNOWN);
        tg_event_free(ev);
    }
}

static void test_timestamp_missing_or_unreadable(void **state)
{
    struct tg_event *ev = parse(TG_REC("", "0"), "Percona record has no timestamp");
    assert_int_equal(ev->timestamp.frac, TG_TIME_NONE.frac); /* finishing uses the receive time */
    assert_int_equal(ev->outcome, TG_OUTCOME_SUCCESS);
    tg_event_free(ev);

    ev = parse(TG_REC("\"timestamp\":\"yesterday\",", "0"), "Percona timestamp not understood");
    tg_event_free(ev);

    /* the audit_log_filter component's records likewise */
    ev = parse("{\"id\":1,\"class\":\"connection\",\"event\":\"connect\",\"connection_id\":5,"
               "\"account\":{\"user\":\"bob\",\"host\":\"localhost\"},"
               "\"connection_data\":{\"connection_type\":\"ssl\",\"status\":\"1045\"}}",
               "Percona record has no timestamp");
    assert_int_equal(ev->db_status, 1045);
    assert_int_equal(ev->outcome, TG_OUTCOME_FAILURE);
    tg_event_free(ev);
}

/* The event of record `rec`, finished, its JSON into out; `as` stands in
 * for the record as received (so that event.original and event.id agree). */
static void event_json(const char *rec, const char *as, char **out)
{
    struct tg_event *ev = tg_event_new(rec, strlen(rec), NULL, (struct tg_time){1, 0, 6});
    int rc = tg_percona_parse(ev, ev->original);
    ev->original = tg_str_c(as);
    tg_event_finish(ev);
    size_t n = (size_t)snprintf(NULL, 0, "%d %s", rc, tg_buf_cstr(&ev->json));
    *out = malloc(n + 1);
    snprintf(*out, n + 1, "%d %s", rc, tg_buf_cstr(&ev->json));
    tg_event_free(ev);
}

/* Every plugin record of the samples, and variants that json-c reads the
 * same way (escapes, numbers, types, spacing): read as it is (most by the
 * flat reader) and with a member `"zz":"\u0061"` added that only json-c
 * reads (an unknown key: the same event), the events are equal. */
static void test_flat_reader_agrees_with_json_c(void **state)
{
    static const char *const extra[] = {
        "{\"audit_record\":{\"name\":\"Query\",\"record\":\"1_x\",\"timestamp\":"
        "\"2024-01-01T00:00:01Z\",\"command_class\":\"select\",\"connection_id\":\"7\","
        "\"status\":1146,\"sqltext\":\"select \\\"a\\\"\\n\\t\\\\ \\/ x\",\"user\":"
        "\"alice[alice] @ web1 [10.0.0.1]\",\"host\":\"web1\",\"ip\":\"10.0.0.1\",\"db\":null}}",
        " { \"audit_record\" : { \"name\" : \"Connect\" , \"status\" : -3 , \"db\" : 12 , "
        "\"user\" : \"bob\" } } \n",
        "{\"audit_record\":{\"name\":\"Quit\",\"status\":\"0\",\"os_user\":\"\"}}",
        "{\"audit_record\":{\"name\":\"Query\",\"status\":1.5,\"sqltext\":\"x\"}}",
        "{\"audit_record\":{\"name\":\"Query\",\"status\":0,\"name\":\"Connect\"}}",
        "{\"audit_record\":{}}",
    };
    char path[4096];
    const char *src = getenv("TG_SRCDIR");
    snprintf(path, sizeof(path), "%s/tests/data/percona-audit.json", src ? src : ".");
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    for (size_t x = 0;; x++) {
        const char *rec;
        if (x < sizeof(extra) / sizeof(*extra)) {
            rec = extra[x];
        } else {
            ssize_t k = f ? getline(&line, &cap, f) : -1;
            if (k <= 0)
                break;
            while (k && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                line[--k] = '\0';
            rec = line;
        }
        const char *at = strstr(rec, "\"audit_record\"");
        at = at ? strchr(at, '{') : NULL;
        if (!at)
            continue;
        size_t pre = (size_t)(at + 1 - rec);
        char *other = malloc(strlen(rec) + 32);
        memcpy(other, rec, pre);
        strcpy(other + pre, at[1] == '}' ? "\"zz\":\"\\u0061\"" : "\"zz\":\"\\u0061\",");
        strcat(other, rec + pre);
        char *a, *b;
        event_json(rec, rec, &a);
        event_json(other, rec, &b);
        assert_string_equal(a, b);
        free(a);
        free(b);
        free(other);
        n++;
    }
    free(line);
    if (f)
        fclose(f);
    assert_true(n >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_localhost),
        cmocka_unit_test(test_empty_host_two_spaces),
        cmocka_unit_test(test_anonymous_and_proxy),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_a_user_string),
        cmocka_unit_test(test_status_and_outcome),
        cmocka_unit_test(test_timestamp_missing_or_unreadable),
        cmocka_unit_test(test_flat_reader_agrees_with_json_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
