/*
 * test_mask.c - masking secrets (core/mask.c): each built-in rule masks its
 * secret in the command line, the args (cut back into the words) and the
 * record as received, and leaves the rest of the text as it was; a JSON
 * record stays valid JSON; event.hash is the SHA-256 of the record as
 * received (HMAC with a key); an event without a secret is not touched.
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
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/mask.h"

static struct tg_mask_rule *rules[32];
static bool on[32];
static size_t nrules;

static int setup(void **state)
{
    for (nrules = 0; tg_mask_builtins[nrules].name; nrules++) {
        char *err = NULL;
        assert_int_equal(tg_mask_rule_new(tg_mask_builtins[nrules].name,
                                          tg_mask_builtins[nrules].pattern, &rules[nrules], &err),
                         0);
        on[nrules] = true;
    }
    return 0;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < nrules; i++)
        tg_mask_rule_free(rules[i]);
    return 0;
}

/* An event whose record and command line are `cmd`, args split at spaces. */
static struct tg_event *exec_event(const char *cmd)
{
    struct tg_event *ev = tg_event_new(cmd, strlen(cmd), NULL, tg_time_now());
    ev->command_line = ev->original;
    size_t n = 1;
    for (const char *p = cmd; *p; p++)
        n += *p == ' ';
    ev->args = tg_arena_alloc(&ev->arena, n * sizeof(*ev->args));
    const char *w = ev->original.p;
    for (size_t i = 0; i < n; i++) {
        const char *sp = memchr(w, ' ', (size_t)(ev->original.p + ev->original.len - w));
        size_t len = sp ? (size_t)(sp - w) : (size_t)(ev->original.p + ev->original.len - w);
        ev->args[i] = tg_str_make(w, len);
        w += len + 1;
    }
    ev->nargs = n;
    return ev;
}

static void expect_masked(const char *cmd, const char *want, const char *secret)
{
    struct tg_event *ev = exec_event(cmd);
    bool hit[32] = {0};
    assert_true(tg_mask_event(rules, on, nrules, NULL, 0, ev, hit));
    assert_int_equal(ev->command_line.len, strlen(want));
    assert_memory_equal(ev->command_line.p, want, strlen(want));
    assert_null(memmem(ev->original.p, ev->original.len, secret, strlen(secret)));
    for (size_t i = 0; i < ev->nargs; i++)
        assert_null(memmem(ev->args[i].p, ev->args[i].len, secret, strlen(secret)));
    /* event.hash: SHA-256 of the record as received */
    uint8_t md[32];
    EVP_Digest(cmd, strlen(cmd), md, NULL, EVP_sha256(), NULL);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_int_equal(ev->hash.len, 64);
    assert_memory_equal(ev->hash.p, hex, 64);
    tg_event_free(ev);
}

static void test_builtins(void **state)
{
    expect_masked("mysql -u root -pS3cr3t db", "mysql -u root -p**** db", "S3cr3t");
    expect_masked("curl --password=hunter2 http://x", "curl --password=**** http://x", "hunter2");
    expect_masked("git clone https://bob:Tok3n@git.example/r.git",
                  "git clone https://bob:****@git.example/r.git", "Tok3n");
    expect_masked("wget http://h/a?token=abc123 -O x", "wget http://h/a?token=**** -O x", "abc123");
}

static void test_sql_json_stays_valid(void **state)
{
    const char *rec = "{\"audit_record\":{\"sqltext\":\"CREATE USER 'a'@'%' IDENTIFIED BY "
                      "'Pa\\\"ss'\",\"name\":\"Query\"}}";
    struct tg_event *ev = tg_event_new(rec, strlen(rec), NULL, tg_time_now());
    bool hit[32] = {0};
    static const uint8_t key[] = "k3y";
    assert_true(tg_mask_event(rules, on, nrules, key, 3, ev, hit));
    assert_null(memmem(ev->original.p, ev->original.len, "Pa", 2));
    json_object *o = json_tokener_parse(tg_event_strdup(ev, ev->original.p, ev->original.len).p);
    assert_non_null(o); /* the masked record is still JSON */
    json_object_put(o);
    uint8_t md[32];
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, 3, (const uint8_t *)rec, strlen(rec), md, &n);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_memory_equal(ev->hash.p, hex, 64);
    tg_event_free(ev);
}

static void test_no_secret_untouched(void **state)
{
    const char *cmd = "systemctl restart nginx --no-block";
    struct tg_event *ev = exec_event(cmd);
    bool hit[32] = {0};
    assert_false(tg_mask_event(rules, on, nrules, NULL, 0, ev, hit));
    assert_null(ev->hash.p);
    assert_memory_equal(ev->command_line.p, cmd, strlen(cmd));
    for (size_t i = 0; i < nrules; i++)
        assert_false(hit[i]);
    tg_event_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_sql_json_stays_valid),
        cmocka_unit_test(test_no_secret_untouched),
    };
    return cmocka_run_group_tests_name("mask", tests, setup, teardown);
}
