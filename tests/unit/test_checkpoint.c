/*
 * test_checkpoint.c - signed checkpoints (sinks/checkpoint.c): the JSON
 * round-trips; a signature made with a fresh key pair checks with its public
 * key, and fails for any changed field, another key, or an unsigned
 * checkpoint; a checkpoint is found in the three shapes an auditor meets (the
 * object, the internal record that announced it, a stored or consumed
 * event); a checkpoints file with a torn last line reads up to it, and a
 * damaged line in the middle is named; keygen never overwrites a key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/errors.h"
#include "core/mem.h"
#include "sinks/checkpoint.h"

static char dir[64];

static int setup(void **state)
{
    strcpy(dir, "/tmp/tg-cp-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char *cmd = tg_xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static void sample(struct tg_checkpoint *cp)
{
    memset(cp, 0, sizeof(*cp));
    memset(cp->store_id, 0x42, sizeof(cp->store_id));
    memset(cp->link, 0x17, sizeof(cp->link));
    cp->segment = 4;
    cp->records = 123456;
    cp->members = 78;
    cp->keyed = true;
    cp->time_us = 1795527751123456;
    strcpy(cp->reason, "periodic");
    cp->host = tg_xstrdup("collector1");
    cp->dir = tg_xstrdup("/var/lib/trailguard/events");
}

static void parse_back(const struct tg_buf *b, struct tg_checkpoint *out)
{
    char *err = NULL;
    assert_int_equal(tg_checkpoint_parse(b->data, b->len, out, &err), 0);
    assert_null(err);
}

static void test_round_trip_and_signature(void **state)
{
    char *prefix = tg_xasprintf("%s/k", dir), *kp = tg_xasprintf("%s.key", prefix),
         *pp = tg_xasprintf("%s.pub", prefix), *err = NULL;
    assert_int_equal(tg_sign_keygen(prefix, &err), 0);
    assert_int_equal(tg_sign_keygen(prefix, &err), TG_EINVAL); /* never overwritten */
    assert_non_null(strstr(err, "never overwrites"));
    free(err);
    void *sk, *pk;
    assert_int_equal(tg_sign_key_load(kp, true, &sk, &err), 0);
    assert_int_equal(tg_sign_key_load(pp, false, &pk, &err), 0);

    struct tg_checkpoint cp, back;
    sample(&cp);
    assert_int_equal(tg_checkpoint_check(&cp, pk), TG_ENOENT); /* unsigned */
    assert_int_equal(tg_checkpoint_sign(&cp, sk), 0);
    struct tg_buf b = TG_BUF_INIT;
    tg_checkpoint_format(&cp, &b);
    parse_back(&b, &back);
    assert_memory_equal(back.store_id, cp.store_id, sizeof(cp.store_id));
    assert_memory_equal(back.link, cp.link, sizeof(cp.link));
    assert_int_equal(back.segment, 4);
    assert_int_equal(back.records, 123456);
    assert_int_equal(back.members, 78);
    assert_true(back.keyed);
    assert_int_equal(back.time_us, cp.time_us);
    assert_string_equal(back.reason, "periodic");
    assert_string_equal(back.host, "collector1");
    assert_true(back.is_signed);
    assert_int_equal(tg_checkpoint_check(&back, pk), 0);

    /* every field is signed */
    struct tg_checkpoint bad = back;
    bad.records--;
    assert_int_equal(tg_checkpoint_check(&bad, pk), TG_ECORRUPT);
    bad = back;
    bad.link[31] ^= 1;
    assert_int_equal(tg_checkpoint_check(&bad, pk), TG_ECORRUPT);
    bad = back;
    bad.time_us++;
    assert_int_equal(tg_checkpoint_check(&bad, pk), TG_ECORRUPT);
    bad = back;
    bad.store_id[0] ^= 1;
    assert_int_equal(tg_checkpoint_check(&bad, pk), TG_ECORRUPT);
    bad = back;
    bad.keyed = false;
    assert_int_equal(tg_checkpoint_check(&bad, pk), TG_ECORRUPT);

    /* another key pair's public key */
    char *p2 = tg_xasprintf("%s/other", dir), *pp2 = tg_xasprintf("%s.pub", p2);
    void *pk2;
    assert_int_equal(tg_sign_keygen(p2, &err), 0);
    assert_int_equal(tg_sign_key_load(pp2, false, &pk2, &err), 0);
    assert_int_equal(tg_checkpoint_check(&back, pk2), TG_ECORRUPT);
    /* a public key is not a private one */
    void *x;
    assert_int_equal(tg_sign_key_load(pp, true, &x, &err), TG_EINVAL);
    free(err);

    tg_checkpoint_clear(&back);
    tg_checkpoint_clear(&cp);
    tg_sign_key_free(sk);
    tg_sign_key_free(pk);
    tg_sign_key_free(pk2);
    tg_buf_free(&b);
    free(prefix);
    free(kp);
    free(pp);
    free(p2);
    free(pp2);
}

static void test_shapes(void **state)
{
    struct tg_checkpoint cp, back;
    sample(&cp);
    struct tg_buf obj = TG_BUF_INIT, b = TG_BUF_INIT;
    tg_checkpoint_format(&cp, &obj);
    /* the internal record that announced it */
    tg_buf_printf(&b,
                  "{\"trailguard_internal\":1,\"dataset\":\"trailguard.checkpoint\","
                  "\"data\":%.*s}",
                  (int)obj.len, obj.data);
    parse_back(&b, &back);
    assert_int_equal(back.records, 123456);
    tg_checkpoint_clear(&back);
    /* an event as stored or consumed from Kafka */
    b.len = 0;
    tg_buf_printf(&b,
                  "{\"event\":{\"dataset\":\"trailguard.checkpoint\"},\"trailguard\":"
                  "{\"checkpoint\":%.*s,\"input\":{\"type\":\"internal\"}}}",
                  (int)obj.len, obj.data);
    parse_back(&b, &back);
    assert_int_equal(back.members, 78);
    tg_checkpoint_clear(&back);
    /* another event holds none */
    char *err = NULL;
    static const char other[] = "{\"event\":{\"dataset\":\"snoopy\"}}";
    assert_int_equal(tg_checkpoint_parse(other, strlen(other), &back, &err), TG_ENOENT);
    static const char broken[] = "{\"format\":\"trailguard-checkpoint\",\"version\":1}";
    assert_int_equal(tg_checkpoint_parse(broken, strlen(broken), &back, &err), TG_EINVAL);
    assert_non_null(err);
    free(err);
    tg_checkpoint_clear(&cp);
    tg_buf_free(&obj);
    tg_buf_free(&b);
}

static void test_file(void **state)
{
    struct tg_checkpoint cp;
    sample(&cp);
    struct tg_buf b = TG_BUF_INIT;
    for (int i = 0; i < 3; i++) {
        cp.records = 10 * (uint64_t)(i + 1);
        tg_checkpoint_format(&cp, &b);
        tg_buf_putc(&b, '\n');
    }
    size_t full = b.len;
    char *path = tg_xasprintf("%s/%s", dir, TG_CHECKPOINT_FILE), *err = NULL;
    FILE *f = fopen(path, "w");
    fwrite(b.data, 1, full - 20, f); /* the last line cut by a crash */
    fclose(f);
    struct tg_checkpoint *v;
    size_t n, torn, bad;
    assert_int_equal(tg_checkpoints_read(path, &v, &n, &torn, &bad, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(torn, 1);
    assert_int_equal(v[1].records, 20);
    tg_checkpoints_free(v, n);
    f = fopen(path, "w");
    fwrite(b.data, 1, full, f);
    fputs("{\"not\":\"a checkpoint\"}\n", f);
    fwrite(b.data, 1, full, f);
    fclose(f);
    assert_int_equal(tg_checkpoints_read(path, &v, &n, &torn, &bad, &err), TG_EINVAL);
    assert_int_equal(bad, 4);
    free(err);
    unlink(path);
    assert_int_equal(tg_checkpoints_read(path, &v, &n, &torn, &bad, &err), 0); /* none */
    assert_int_equal(n, 0);
    tg_checkpoint_clear(&cp);
    tg_buf_free(&b);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_signature, setup, teardown),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("checkpoint", tests, NULL, NULL);
}
