/*
 * test_json_scan.c - the JSON path scanner (core/json_scan.c) against
 * json-c: on the shared samples' events and on random objects (nesting,
 * escapes, \u sequences and surrogate pairs, duplicate keys, numbers,
 * null, arrays, malformed text), every requested path has the value json-c
 * finds (decoded strings byte for byte, scalars as json-c prints them, a
 * malformed line has none); and the needle search (core/needle.c) agrees
 * with a naive search, exact and ignoring ASCII case, at every alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/json_scan.h"
#include "core/needle.h"

static const char *const paths[] = {"a", "b.c", "b.d.e", "x", "s", "n", "@timestamp", "b"};
#define NP (sizeof(paths) / sizeof(paths[0]))

/* json-c's view of path p in o: the text, or NULL. */
static const char *jc_get(json_object *o, const char *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", p);
    for (char *k = strtok(buf, "."); k; k = strtok(NULL, ".")) {
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &o))
            return NULL;
    }
    if (!o || json_object_is_type(o, json_type_null))
        return NULL;
    return json_object_get_string(o);
}

/* Does text hold an escape json-c refuses (\q, \u not followed by 4 hex)? */
static bool bad_escape(const char *t)
{
    for (const char *p = strchr(t, '\\'); p; p = strchr(p + 2, '\\')) {
        if (!p[1])
            return true;
        if (p[1] == 'u') {
            for (int i = 2; i < 6; i++)
                if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
                    return true;
        } else if (!strchr("\"\\/bfnrt", p[1])) {
            return true;
        }
    }
    return false;
}

/* Compare the scanner with json-c on one text. */
static void agree(const char *text)
{
    struct tg_jscan s;
    assert_int_equal(tg_jscan_init(&s, paths, NP), 0);
    struct tg_jval v[NP];
    int rc = tg_jscan_run(&s, text, strlen(text), v);
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    bool whole = o && json_tokener_get_parse_end(tok) == strlen(text) &&
                 json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    if (!whole) {
        /* the scanner does not validate the escapes inside strings (the
         * writer never makes a bad one): only then may it take the line */
        if (rc == 0)
            assert_true(bad_escape(text));
        else
            assert_int_equal(rc, -11); /* TG_ECORRUPT */
        json_object_put(o);
        return;
    }
    assert_int_equal(rc, 0);
    struct tg_buf b = TG_BUF_INIT;
    for (size_t i = 0; i < NP; i++) {
        char buf[64];
        json_object *x = o;
        const char *want = jc_get(x, paths[i], buf, sizeof(buf));
        b.len = 0;
        long at = tg_jval_text(&v[i], &b);
        if (!want) {
            assert_true(at < 0);
            continue;
        }
        assert_true(at >= 0);
        /* objects and arrays: json-c reformats them; compare strings and scalars */
        json_object *leaf = o;
        snprintf(buf, sizeof(buf), "%s", paths[i]);
        for (char *k = strtok(buf, "."); k; k = strtok(NULL, "."))
            json_object_object_get_ex(leaf, k, &leaf);
        if (json_object_is_type(leaf, json_type_string)) {
            assert_int_equal(b.len, (size_t)json_object_get_string_len(leaf));
            assert_memory_equal(b.data, json_object_get_string(leaf), b.len);
        } else if (json_object_is_type(leaf, json_type_int) ||
                   json_object_is_type(leaf, json_type_boolean)) {
            assert_string_equal(b.data, want);
        }
    }
    tg_buf_free(&b);
    json_object_put(o);
}

static void test_fixed_cases(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{}",
        "{\"a\":\"x\"}",
        " { \"a\" : \"x\" , \"b\" : { \"c\" : 12 , \"d\" : { \"e\" : true } } } ",
        "{\"a\":\"q\\\"uo\\\\te\\/\\n\\t\\u00e9\\ud83d\\ude00\\ud800x\"}",
        "{\"a\":1,\"a\":\"second\"}",
        "{\"b\":{\"c\":\"1\"},\"b\":{\"d\":{\"e\":\"2\"}}}",
        "{\"x\":[1,{\"a\":\"no\"},\"]\"],\"a\":null,\"s\":\"\\\\\"}",
        "{\"@timestamp\":\"2026-11-24T00:00:00Z\",\"event\":{\"original\":\"a \\\"b\\\" {c}\"}}",
        "{\"a\":\"x\"",
        "{\"a\":}",
        "[1,2]",
        "{\"a\":\"x\"} trailing",
        "",
        "{\"a\" \"x\"}",
        "{\"n\":-1.5e3,\"b\":{\"c\":false}}",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        agree(cases[i]);
}

static void rnd_value(struct tg_buf *b, int depth, unsigned *seed)
{
    static const char *const keys[] = {"a", "b", "c", "d", "e", "x", "s", "n", "@timestamp"};
    int k = rand_r(seed) % (depth > 2 ? 4 : 6);
    if (k == 0) {
        tg_buf_putc(b, '"');
        int n = rand_r(seed) % 8;
        for (int i = 0; i < n; i++) {
            static const char *const bits[] = {
                "a",       "Z",       " ",        "\\\"",           "\\\\", "\\n",
                "\\u0041", "\\u00fc", "\xc3\xa9", "\\ud83d\\ude00", "{",    "]"};
            tg_buf_puts(b, bits[rand_r(seed) % 12]);
        }
        tg_buf_putc(b, '"');
    } else if (k == 1) {
        tg_buf_printf(b, "%d", rand_r(seed) % 2000 - 1000);
    } else if (k == 2) {
        tg_buf_puts(b, rand_r(seed) % 2 ? "true" : "null");
    } else if (k == 3) {
        tg_buf_putc(b, '[');
        int n = rand_r(seed) % 3;
        for (int i = 0; i < n; i++) {
            if (i)
                tg_buf_putc(b, ',');
            rnd_value(b, depth + 1, seed);
        }
        tg_buf_putc(b, ']');
    } else {
        tg_buf_putc(b, '{');
        int n = rand_r(seed) % 5;
        for (int i = 0; i < n; i++) {
            if (i)
                tg_buf_putc(b, ',');
            tg_buf_printf(b, "\"%s\":", keys[rand_r(seed) % 9]);
            rnd_value(b, depth + 1, seed);
        }
        tg_buf_putc(b, '}');
    }
}

static void test_random_objects(void **state)
{
    (void)state;
    unsigned seed = 13;
    struct tg_buf b = TG_BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        b.len = 0;
        tg_buf_putc(&b, '{');
        int n = rand_r(&seed) % 6;
        for (int k = 0; k < n; k++) {
            static const char *const keys[] = {"a", "b", "x", "s", "n", "@timestamp"};
            if (k)
                tg_buf_putc(&b, ',');
            tg_buf_printf(&b, "\"%s\":", keys[rand_r(&seed) % 6]);
            rnd_value(&b, 1, &seed);
        }
        tg_buf_putc(&b, '}');
        if (i % 7 == 0 && b.len > 2) /* damage some: a byte cut or changed */
            b.data[rand_r(&seed) % b.len] = "\"{}:,x"[rand_r(&seed) % 6];
        tg_buf_cstr(&b);
        agree(b.data);
    }
    tg_buf_free(&b);
}

static void test_samples(void **state)
{
    (void)state;
    char path[4096];
    /* the samples' raw records are JSON objects too (Percona) */
    const char *src = getenv("TG_SRCDIR");
    snprintf(path, sizeof(path), "%s/tests/data/percona-audit.json", src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        skip();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        agree(line);
        lines++;
    }
    free(line);
    fclose(f);
    assert_true(lines > 0);
}

static bool naive(const char *h, size_t n, const char *s, size_t k, bool fold)
{
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k) {
            unsigned char a = (unsigned char)h[i + j], b = (unsigned char)s[j];
            if (fold && a >= 'A' && a <= 'Z')
                a |= 0x20;
            if (fold && b >= 'A' && b <= 'Z')
                b |= 0x20;
            if (a != b)
                break;
            j++;
        }
        if (j == k)
            return true;
    }
    return false;
}

static void test_needle(void **state)
{
    (void)state;
    unsigned seed = 7;
    char hay[200], nd[12];
    for (int t = 0; t < 20000; t++) {
        size_t n = (size_t)(rand_r(&seed) % 200), k = 1 + (size_t)(rand_r(&seed) % 11);
        for (size_t i = 0; i < n; i++)
            hay[i] = "aAbB\"@`[{"[rand_r(&seed) % 9];
        for (size_t i = 0; i < k; i++)
            nd[i] = "aAbB\"@`[{"[rand_r(&seed) % 9];
        if (n > k && rand_r(&seed) % 2)
            memcpy(hay + rand_r(&seed) % (n - k), nd, k);
        for (int fold = 0; fold < 2; fold++) {
            struct tg_needle x;
            tg_needle_init(&x, nd, k, fold);
            assert_int_equal(tg_needle_in(&x, hay, n), naive(hay, n, nd, k, fold));
            tg_needle_free(&x);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_cases),
        cmocka_unit_test(test_random_objects),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_needle),
    };
    return cmocka_run_group_tests_name("json_scan", tests, NULL, NULL);
}
