/*
 * test_framer.c - lines to records (parsers/framer.c): pretty-printed JSON
 * arrays, JSONL arrays, snoopy records continued over several lines (also
 * over blank lines), the size limit, and what a followed file's idle moment
 * lets go (a held snoopy record) and keeps (an unfinished JSON object).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/mem.h"
#include "parsers/framer.h"
#include "parsers/parse.h"

/* Records received, as "LINE:text" (cut records as "LINE!text"), "|"-joined. */
struct got {
    struct tg_buf b;
    int n;
};

static void collect(void *ctx, const char *rec, size_t len, bool cut, uint64_t lineno)
{
    struct got *g = ctx;
    if (g->n++)
        tg_buf_putc(&g->b, '|');
    tg_buf_printf(&g->b, "%llu%c", (unsigned long long)lineno, cut ? '!' : ':');
    tg_buf_append(&g->b, rec, len);
}

/* Frame the "\n"-separated lines of `text` and compare with `want`. */
static void frame(const char *text, const char *want, uint64_t want_skipped)
{
    char *err = NULL;
    struct tg_parse_ctx *pc = tg_parse_ctx_new(NULL, TG_FMT_AUTO, &err);
    assert_non_null(pc);
    struct tg_framer *f = tg_framer_new(pc, 1u << 20);
    struct got g = {TG_BUF_INIT, 0};
    char *copy = tg_xstrdup(text), *line = copy, *nl;
    uint64_t lineno = 0;
    while (line && *line) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        tg_framer_line(f, line, strlen(line), false, lineno, collect, &g);
        line = nl ? nl + 1 : NULL;
    }
    tg_framer_finish(f, collect, &g);
    assert_string_equal(tg_buf_cstr(&g.b), want);
    assert_int_equal(tg_framer_skipped(f), want_skipped);
    tg_buf_free(&g.b);
    free(copy);
    tg_framer_free(f);
    tg_parse_ctx_free(pc);
}

static void test_plain_lines_pass_through(void **state)
{
    frame("a\n{\"audit_record\":{}}\n<14>x\n", "1:a|2:{\"audit_record\":{}}|3:<14>x", 0);
}

static void test_pretty_json_array(void **state)
{
    frame("[\n"
          "  {\n"
          "    \"a\": \"} { \\\" \",\n"
          "    \"b\": { \"c\": 1 }\n"
          "  },\n"
          "  {\n"
          "    \"a\": 2\n"
          "  }\n"
          "]\n",
          "2:  {\n    \"a\": \"} { \\\" \",\n    \"b\": { \"c\": 1 }\n  }|6:  {\n    \"a\": 2\n  }",
          2);
}

static void test_jsonl_array(void **state)
{
    /* one object per line with trailing commas: passed on as lines (the
     * Percona parser accepts the trailing ',') */
    frame("[\n{\"a\":1},\n{\"a\":2},\n]\n", "2:{\"a\":1},|3:{\"a\":2},", 2);
}

static void test_unterminated_json_is_cut(void **state)
{
    frame("{\n  \"a\": 1\n", "1!{\n  \"a\": 1", 0);
}

static void test_snoopy_continuation(void **state)
{
    const char *r1 = "[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/echo]: echo a";
    const char *r2 = "[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: true";
    char *in = tg_xasprintf("%s\nb\nc\n%s\n<86>Nov 24 13:44:13 h x: y\nnot joined\n", r1, r2);
    char *want = tg_xasprintf("1:%s\nb\nc|4:%s|5:<86>Nov 24 13:44:13 h x: y|6:not joined", r1, r2);
    frame(in, want, 0);
    free(in);
    free(want);
}

static void test_snoopy_blank_lines(void **state)
{
    /* "echo 'a\n\nb'" is logged over three lines, one of them blank: the
     * record keeps it; blank lines between records are skipped (counted) */
    const char *r1 = "[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/echo]: echo a";
    const char *r2 = "[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: true";
    char *in = tg_xasprintf("\n%s\n\nb\n\n\n%s\n\nx\n\n", r1, r2);
    char *want = tg_xasprintf("2:%s\n\nb|7:%s\n\nx", r1, r2);
    frame(in, want, 4);
    free(in);
    free(want);
}

static void test_limit_ends_a_record(void **state)
{
    char *err = NULL;
    struct tg_parse_ctx *pc = tg_parse_ctx_new(NULL, TG_FMT_AUTO, &err);
    struct tg_framer *f = tg_framer_new(pc, 16);
    struct got g = {TG_BUF_INIT, 0};
    const char *lines[] = {"{", "  \"a\": \"0123456789\",", "  \"b\": 1", "}", "x"};
    for (uint64_t i = 0; i < 5; i++)
        tg_framer_line(f, lines[i], strlen(lines[i]), false, i + 1, collect, &g);
    tg_framer_finish(f, collect, &g);
    /* the object passed 16 bytes at its second line: cut there; the lines
     * after it are records of their own */
    assert_string_equal(tg_buf_cstr(&g.b), "1!{\n  \"a\": \"0123456789\"|3:  \"b\": 1|4:}|5:x");
    tg_buf_free(&g.b);
    tg_framer_free(f);
    tg_parse_ctx_free(pc);
}

static void test_idle_and_holding(void **state)
{
    char *err = NULL;
    struct tg_parse_ctx *pc = tg_parse_ctx_new(NULL, TG_FMT_AUTO, &err);
    struct tg_framer *f = tg_framer_new(pc, 1u << 20);
    struct got g = {TG_BUF_INIT, 0};
    const char *snoopy = "[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: true";
    uint64_t pos;
    tg_framer_line(f, snoopy, strlen(snoopy), false, 100, collect, &g);
    assert_true(tg_framer_holding(f, &pos));
    assert_int_equal(pos, 100);
    tg_framer_idle(f, collect, &g); /* a held snoopy record is complete: it goes */
    assert_false(tg_framer_holding(f, &pos));
    assert_int_equal(g.n, 1);
    tg_framer_line(f, "{", 1, false, 200, collect, &g);
    tg_framer_line(f, "  \"a\": 1", 8, false, 202, collect, &g);
    tg_framer_idle(f, collect, &g); /* an unfinished object stays */
    assert_true(tg_framer_holding(f, &pos));
    assert_int_equal(pos, 200);
    tg_framer_line(f, "}", 1, false, 211, collect, &g);
    assert_false(tg_framer_holding(f, &pos));
    assert_string_equal(tg_buf_cstr(&g.b), "100:[uid:0 sid:1 tty:(none) cwd:/ filename:/bin/true]: "
                                           "true|200:{\n  \"a\": 1\n}");
    tg_buf_free(&g.b);
    tg_framer_free(f);
    tg_parse_ctx_free(pc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines_pass_through),
        cmocka_unit_test(test_pretty_json_array),
        cmocka_unit_test(test_jsonl_array),
        cmocka_unit_test(test_unterminated_json_is_cut),
        cmocka_unit_test(test_snoopy_continuation),
        cmocka_unit_test(test_snoopy_blank_lines),
        cmocka_unit_test(test_limit_ends_a_record),
        cmocka_unit_test(test_idle_and_holding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
