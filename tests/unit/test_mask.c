/*
 * test_mask.c - masking secrets (core/mask.c): each built-in rule masks its
 * secret in the command line, the args (cut back into the words) and the
 * record as received, and leaves the rest of the text as it was; a JSON
 * record stays valid JSON; event.hash is the SHA-256 of the record as
 * received (HMAC with a key); an event without a secret is not touched;
 * the gate (which skips rules on texts without their literals) never
 * changes a result: on the test data's records and on 30000 texts shaped
 * like each rule's secrets (random case, words between the tokens), gated
 * and ungated masking agree.
 */
#include <ctype.h>
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
static struct tg_mask_gate *gate;

static int setup(void **state)
{
    for (nrules = 0; tg_mask_builtins[nrules].name; nrules++) {
        char *err = NULL;
        assert_int_equal(tg_mask_rule_new(tg_mask_builtins[nrules].name,
                                          tg_mask_builtins[nrules].pattern,
                                          tg_mask_builtins[nrules].need, &rules[nrules], &err),
                         0);
        on[nrules] = true;
    }
    gate = tg_mask_gate_new(rules, nrules);
    return 0;
}

static int teardown(void **state)
{
    tg_mask_gate_free(gate);
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
    assert_true(tg_mask_event(rules, on, nrules, gate, NULL, 0, ev, hit));
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
    assert_true(tg_mask_event(rules, on, nrules, gate, key, 3, ev, hit));
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
    assert_false(tg_mask_event(rules, on, nrules, gate, NULL, 0, ev, hit));
    assert_null(ev->hash.p);
    assert_memory_equal(ev->command_line.p, cmd, strlen(cmd));
    for (size_t i = 0; i < nrules; i++)
        assert_false(hit[i]);
    tg_event_free(ev);
}

/* Mask `text` (as an exec event's record, command line and args) with and
 * without the gate: the same texts and the same rules hit. */
static void gate_agrees(const char *text)
{
    struct tg_event *a = exec_event(text), *b = exec_event(text);
    bool hit_a[32] = {0}, hit_b[32] = {0};
    bool ma = tg_mask_event(rules, on, nrules, gate, NULL, 0, a, hit_a);
    bool mb = tg_mask_event(rules, on, nrules, NULL, NULL, 0, b, hit_b);
    if (ma != mb || a->command_line.len != b->command_line.len ||
        memcmp(a->command_line.p, b->command_line.p, a->command_line.len) != 0 ||
        memcmp(hit_a, hit_b, sizeof(hit_a)) != 0)
        fail_msg("the gate changed the masking of \"%s\"", text);
    for (size_t i = 0; i < a->nargs; i++)
        assert_memory_equal(a->args[i].p, b->args[i].p, a->args[i].len);
    tg_event_free(a);
    tg_event_free(b);
}

static void test_gate_data(void **state)
{
    static const char *const files[] = {"percona-audit.json", "percona-audit-derived-from-mtr.json",
                                        "snoopy-2.5.1-default.log",
                                        "snoopy-2.5.1-upstream-default-format.log"};
    const char *src = getenv("TG_SRCDIR");
    int lines = 0;
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : ".", files[k]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            line[strcspn(line, "\n")] = '\0';
            if (*line) {
                gate_agrees(line);
                lines++;
            }
        }
        free(line);
        fclose(f);
    }
    if (!lines)
        skip();
}

/* Texts each rule masks, as tokens; the generator cases them at random and
 * puts words without any rule's literal between them. */
static const char *const shapes[][9] = {
    {"mysql", " -u root ", "-p", "S3cr3t"},
    {"mariadb-dump", " ", "-p", "x"},
    {"MySQLadmin", " ", "-p", "x"},
    {"tool", " ", "--db-password=", "hunter2"},
    {"tool", " ", "--pass=", "x"},
    {"--token", " ", "abc"},
    {"--api-key", " ", "v"},
    {"--apikey=", "v"},
    {"--access-key=", "v"},
    {"--secret-key=", "v"},
    {"--", "\xc5\xbf", "ecret=", "v"},     /* U+017F: caselessly an s */
    {"--api", "\xe2\x84\xaa", "ey=", "v"}, /* U+212A: caselessly a k */
    {"CREATE USER 'a' ", "IDENTIFIED", " ", "WITH", " ", "sha2 ", "BY", " ", "'x'"},
    {"ALTER USER a ", "identified", " ", "AS", " ", "\"x\""},
    {"SELECT ", "PASSWORD", "(", "'x'", ")"},
    {"SET", " ", "PASSWORD", " for a ", "=", " ", "'x'"},
    {"git clone ", "https", "://", "bob", ":", "Tok3n", "@", "h/r"},
    {"get ", "h/a", "?", "token", "=", "abc"},
    {"get ", "h/a", "&", "sig", "=", "v"},
    {"get ", "h/a", "?", "pwd", "=", "v"},
    {"get ", "h/a", "?", "auth", "=", "v"},
    {"get ", "h/a", "&", "signature", "=", "v"},
    {"get ", "h/a", "?", "apikey", "=", "v"},
    {"get ", "h/a", "?", "client_secret", "=", "v"},
    {"get ", "h/a", "?", "passwd", "=", "v"},
    {"-H ", "Authorization", ": ", "Bearer", " ", "tok"},
    {"-H ", "proxy-authorization", ":", "basic", " ", "tok"},
    {"-H ", "X-Api-Key", ": ", "v"},
    {"-H ", "X-Auth-Token", ":", "v"},
    {"-H ", "X-Access-Token", ": ", "v"},
    {"env ", "DB_PASSWORD", "=", "v"},
    {"env ", "MYSQL_PWD", "=", "v"},
    {"env ", "AWS_ACCESS_KEY", "=", "v"},
    {"env ", "X_PRIVATEKEY_1", "=", "v"},
    {"env ", "GH_TOKEN", "=", "v"},
    {"env ", "APIKEY", "=", "v"},
    {"sshpass", " ", "-e ", "-p", "v"},
    {"curl", " ", "-u", " ", "u", ":", "v"},
    {"wget", " ", "--user=", "u", ":", "v"},
};
/* words in no rule's literal list (non-ASCII ones too: only U+017F and
 * U+212A open the gate) */
static const char *const fillers[] = {"",
                                      " ",
                                      " -v ",
                                      " x ",
                                      " /usr/bin/true ",
                                      " 42 ",
                                      "\n",
                                      " caf\xc3\xa9 ",
                                      " \xe2\x82\xac"
                                      "5 ",
                                      " \xe2\x84\xa2 "};

static void test_gate_random(void **state)
{
    const size_t nshapes = sizeof(shapes) / sizeof(shapes[0]);
    const size_t nfill = sizeof(fillers) / sizeof(fillers[0]);
    unsigned seed = 1234;
    char text[512];
    for (int t = 0; t < 30000; t++) {
        const char *const *shape = shapes[(size_t)rand_r(&seed) % nshapes];
        size_t len = 0;
        for (size_t w = 0; w < 9 && shape[w]; w++) {
            const char *f = rand_r(&seed) % 4 ? "" : fillers[(size_t)rand_r(&seed) % nfill];
            int casing = rand_r(&seed) % 4; /* as written, lower, upper, mixed */
            for (const char *p = shape[w]; *p && len + 40 < sizeof(text); p++) {
                char c = *p;
                if ((unsigned char)c < 0x80) {
                    if (casing == 1 || (casing == 3 && rand_r(&seed) % 2))
                        c = (char)tolower((unsigned char)c);
                    else if (casing == 2)
                        c = (char)toupper((unsigned char)c);
                }
                text[len++] = c;
            }
            for (; *f && w && len + 1 < sizeof(text); f++) /* between tokens */
                text[len++] = *f;
        }
        text[len] = '\0';
        gate_agrees(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_sql_json_stays_valid),
        cmocka_unit_test(test_no_secret_untouched),
        cmocka_unit_test(test_gate_data),
        cmocka_unit_test(test_gate_random),
    };
    return cmocka_run_group_tests_name("mask", tests, setup, teardown);
}
