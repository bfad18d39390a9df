/*
 * test_json.c - the JSON writer, checked by parsing its output back with
 * json-c: escapes, control bytes, invalid UTF-8 (each kind RFC 3629 forbids),
 * random byte strings, lazily opened objects, timestamps, and a whole event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "core/event.h"
#include "core/json.h"

/* Write s as a JSON string, parse it back; returns the decoded object. */
static json_object *roundtrip(const char *s, size_t n, unsigned *flags)
{
    struct tg_buf b = TG_BUF_INIT;
    *flags = 0;
    tg_json_str(&b, s, n, flags);
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, b.data, (int)b.len);
    assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
    assert_int_equal(json_tokener_get_parse_end(tok), b.len);
    json_tokener_free(tok);
    tg_buf_free(&b);
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_string));
    return o;
}

static void test_escapes_roundtrip(void **state)
{
    char all[0x80];
    for (int i = 0; i < 0x80; i++)
        all[i] = (char)i; /* every ASCII byte, NUL and DEL included */
    unsigned fl;
    json_object *o = roundtrip(all, sizeof(all), &fl);
    assert_int_equal(json_object_get_string_len(o), sizeof(all));
    assert_memory_equal(json_object_get_string(o), all, sizeof(all));
    assert_true(fl & TG_JSON_CONTROL);
    assert_false(fl & TG_JSON_INVALID_UTF8);
    json_object_put(o);

    const char *utf8 = "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82";
    o = roundtrip(utf8, strlen(utf8), &fl);
    assert_string_equal(json_object_get_string(o), utf8);
    assert_int_equal(fl, 0);
    json_object_put(o);
}

static void test_short_escapes_are_used(void **state)
{
    struct tg_buf b = TG_BUF_INIT;
    tg_json_str(&b, "a\tb\nc\"d\\e\x01", 10, NULL);
    assert_int_equal(b.len, strlen("\"a\\tb\\nc\\\"d\\\\e\\u0001\""));
    assert_memory_equal(b.data, "\"a\\tb\\nc\\\"d\\\\e\\u0001\"", b.len);
    tg_buf_free(&b);
}

static void test_invalid_utf8_replaced(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"\xe6\x97\xa5\xe8", 4, "\xe6\x97\xa5\xef\xbf\xbd"},           /* cut mid-sequence */
        {"a\x80z", 3, "a\xef\xbf\xbdz"},                               /* stray continuation */
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},                   /* overlong '/' */
        {"\xed\xa0\x80x", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"}, /* surrogate */
        {"\xf4\x90\x80\x80", 4,
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
        {"\xe2\x9c", 2, "\xef\xbf\xbd"},                      /* truncated at end */
        {"\xff", 1, "\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned fl;
        json_object *o = roundtrip(cases[i].in, cases[i].n, &fl);
        assert_string_equal(json_object_get_string(o), cases[i].want);
        assert_true(fl & TG_JSON_INVALID_UTF8);
        json_object_put(o);
    }
    assert_int_equal(tg_utf8_valid_prefix("ab\xe6\x97\xa5\xe8", 6), 5);
}

static void test_random_bytes_always_valid_json(void **state)
{
    srand(12345);
    char buf[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(rand() % (int)sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(rand() % 4 == 0 ? 0x80 + rand() % 0x80 : rand() % 0x100);
        unsigned fl;
        json_object *o = roundtrip(buf, n, &fl);
        if (tg_utf8_valid_prefix(buf, n) == n) {
            assert_int_equal(json_object_get_string_len(o), n);
            assert_memory_equal(json_object_get_string(o), buf, n);
            assert_false(fl & TG_JSON_INVALID_UTF8);
        } else {
            assert_true(fl & TG_JSON_INVALID_UTF8);
        }
        json_object_put(o);
    }
}

static void test_lazy_objects(void **state)
{
    struct tg_buf b = TG_BUF_INIT;
    struct tg_jw w;
    tg_jw_begin(&w, &b);
    tg_jw_open(&w, "empty");
    tg_jw_open(&w, "inner");
    tg_jw_str(&w, "absent", TG_STR_NULL, NULL);
    tg_jw_int(&w, "n", TG_NUM_NONE);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_open(&w, "a");
    tg_jw_open(&w, "b");
    tg_jw_int(&w, "n", -42);
    tg_jw_close(&w);
    tg_jw_cstr(&w, "s", "x");
    tg_jw_close(&w);
    tg_jw_int(&w, "z", 0);
    tg_jw_end(&w);
    const char *want = "{\"a\":{\"b\":{\"n\":-42},\"s\":\"x\"},\"z\":0}";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    tg_buf_free(&b);
}

/* A raw object's members join fields of our own in one object. */
static void test_raw_members(void **state)
{
    const struct {
        const char *raw, *want;
    } cases[] = {
        {"{\"a\":1,\"b\":\"x\"}", "{\"o\":{\"mine\":\"m\",\"a\":1,\"b\":\"x\"}}"},
        {"{}", "{\"o\":{\"mine\":\"m\"}}"},
        {NULL, "{\"o\":{\"mine\":\"m\"}}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_buf b = TG_BUF_INIT;
        struct tg_jw w;
        tg_jw_begin(&w, &b);
        tg_jw_open(&w, "o");
        tg_jw_cstr(&w, "mine", "m");
        tg_jw_members(&w, cases[i].raw ? tg_str_c(cases[i].raw) : TG_STR_NULL);
        tg_jw_close(&w);
        tg_jw_end(&w);
        assert_string_equal(tg_buf_cstr(&b), cases[i].want);
        tg_buf_free(&b);
    }
    /* alone in a lazily opened object: the object appears */
    struct tg_buf b = TG_BUF_INIT;
    struct tg_jw w;
    tg_jw_begin(&w, &b);
    tg_jw_open(&w, "o");
    tg_jw_members(&w, tg_str_c("{\"a\":true}"));
    tg_jw_close(&w);
    tg_jw_end(&w);
    assert_string_equal(tg_buf_cstr(&b), "{\"o\":{\"a\":true}}");
    tg_buf_free(&b);
}

static void test_time_format(void **state)
{
    char out[32];
    tg_time_format(out, (struct tg_time){0, 0, 0});
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    tg_time_format(out, (struct tg_time){1795527751, 123456000, 6});
    assert_string_equal(out, "2026-11-24T13:42:31.123456Z");
    tg_time_format(out, (struct tg_time){1795527751, 123456789, 3});
    assert_string_equal(out, "2026-11-24T13:42:31.123Z");
    tg_time_format(out, (struct tg_time){951782400, 5, 9}); /* leap day 2000 */
    assert_string_equal(out, "2000-02-29T00:00:00.000000005Z");
}

static void test_event_serialization(void **state)
{
    const char raw[] = "cut \xe6\x97\xa5\xe8";
    struct tg_input_meta in = {.type = "file", .peer = TG_STR_LIT("/var/log/x")};
    struct tg_event *ev = tg_event_new(raw, sizeof(raw) - 1, &in, (struct tg_time){100, 0, 6});
    ev->user_name = TG_STR_LIT("alice");
    ev->pid = 1234;
    ev->parse_status = TG_PARSE_OK;
    tg_event_finish(ev);
    json_object *o = json_tokener_parse(tg_buf_cstr(&ev->json));
    assert_non_null(o);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "user", &v));
    assert_string_equal(json_object_get_string(json_object_object_get(v, "name")), "alice");
    assert_false(json_object_object_get_ex(v, "id", NULL)); /* absent, not "" */
    assert_false(json_object_object_get_ex(o, "db", NULL));
    assert_true(json_object_object_get_ex(o, "process", &v));
    assert_int_equal(json_object_get_int(json_object_object_get(v, "pid")), 1234);
    json_object *parse = json_object_object_get(json_object_object_get(o, "trailguard"), "parse");
    assert_string_equal(json_object_get_string(json_object_object_get(parse, "status")), "partial");
    assert_non_null(
        strstr(json_object_get_string(json_object_object_get(parse, "error")), "UTF-8"));
    json_object *event = json_object_object_get(o, "event");
    assert_int_equal(strlen(json_object_get_string(json_object_object_get(event, "id"))), 32);
    assert_string_equal(json_object_get_string(json_object_object_get(o, "@timestamp")),
                        "1970-01-01T00:01:40.000000Z");
    json_object_put(o);

    /* same bytes and origin -> same id; different origin -> different id */
    struct tg_event *ev2 = tg_event_new(raw, sizeof(raw) - 1, &in, (struct tg_time){999, 0, 6});
    tg_event_finish(ev2);
    assert_string_equal(ev->id, ev2->id);
    struct tg_input_meta in3 = {.type = "file", .peer = TG_STR_LIT("/var/log/y")};
    struct tg_event *ev3 = tg_event_new(raw, sizeof(raw) - 1, &in3, (struct tg_time){999, 0, 6});
    tg_event_finish(ev3);
    assert_string_not_equal(ev->id, ev3->id);
    tg_event_free(ev);
    tg_event_free(ev2);
    tg_event_free(ev3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes_roundtrip),
        cmocka_unit_test(test_short_escapes_are_used),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_random_bytes_always_valid_json),
        cmocka_unit_test(test_lazy_objects),
        cmocka_unit_test(test_raw_members),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_event_serialization),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
