/*
 * test_chain.c - the store's hash chain (sinks/chain.c): the unkeyed link
 * is SHA-256(prev || record) from a zero genesis; the keyed link equals
 * OpenSSL's HMAC-SHA-256 with k_i = SHA-256^i(k_0); resuming a chain gives
 * the same links as running it straight through; a member's seal is
 * SHA-256(L || seal) unkeyed and HMAC with the next record's key keyed, and
 * changes neither the chain nor the key; the key file is read without
 * trailing whitespace and too short a key is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/errors.h"
#include "sinks/chain.h"

static const char *const recs[] = {"{\"a\":1}", "{\"b\":2}", "", "{\"c\":\"\\u0000\"}"};
#define NRECS (sizeof(recs) / sizeof(recs[0]))

static void sha256_2(const uint8_t *a, size_t na, const void *b, size_t nb, uint8_t out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, a, na);
    EVP_DigestUpdate(md, b, nb);
    EVP_DigestFinal_ex(md, out, NULL);
    EVP_MD_CTX_free(md);
}

static void test_unkeyed_links(void **state)
{
    struct tg_chain c;
    tg_chain_init(&c, NULL);
    uint8_t want[32] = {0};
    for (size_t i = 0; i < NRECS; i++) {
        tg_chain_add(&c, recs[i], strlen(recs[i]));
        uint8_t prev[32];
        memcpy(prev, want, 32);
        sha256_2(prev, 32, recs[i], strlen(recs[i]), want);
        assert_memory_equal(c.link, want, 32);
    }
    assert_int_equal(c.count, NRECS);
    tg_chain_free(&c);
}

static void test_keyed_links_are_hmac_with_evolving_key(void **state)
{
    uint8_t k0[32];
    for (int i = 0; i < 32; i++)
        k0[i] = (uint8_t)(i * 7 + 1);
    struct tg_chain c;
    tg_chain_init(&c, k0);
    uint8_t key[32], link[32] = {0};
    memcpy(key, k0, 32);
    for (size_t i = 0; i < NRECS; i++) {
        tg_chain_add(&c, recs[i], strlen(recs[i]));
        uint8_t msg[256];
        memcpy(msg, link, 32);
        memcpy(msg + 32, recs[i], strlen(recs[i]));
        unsigned int n = 32;
        HMAC(EVP_sha256(), key, 32, msg, 32 + strlen(recs[i]), link, &n);
        assert_memory_equal(c.link, link, 32);
        uint8_t next[32];
        EVP_Digest(key, 32, next, NULL, EVP_sha256(), NULL);
        memcpy(key, next, 32);
        assert_memory_equal(c.key, key, 32); /* the old key is gone from the chain */
    }
    tg_chain_free(&c);
}

static void test_resume_equals_straight_run(void **state)
{
    uint8_t k0[32] = {9, 8, 7};
    for (int keyed = 0; keyed < 2; keyed++) {
        struct tg_chain a, b;
        tg_chain_init(&a, keyed ? k0 : NULL);
        tg_chain_init(&b, keyed ? k0 : NULL);
        tg_chain_add(&a, recs[0], strlen(recs[0]));
        tg_chain_add(&a, recs[1], strlen(recs[1]));
        tg_chain_resume(&b, a.link, a.count);
        tg_chain_add(&a, recs[3], strlen(recs[3]));
        tg_chain_add(&b, recs[3], strlen(recs[3]));
        assert_memory_equal(a.link, b.link, 32);
        assert_memory_equal(a.key, b.key, 32);
        tg_chain_free(&a);
        tg_chain_free(&b);
    }
}

static void test_key_file(void **state)
{
    char path[] = "/tmp/tg-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789abcdefXYZ\n\n", 21), 21);
    close(fd);
    uint8_t k[32], want[32];
    char *err = NULL;
    assert_int_equal(tg_chain_key_load(path, true, k, &err), 0);
    EVP_Digest("0123456789abcdefXYZ", 19, want, NULL, EVP_sha256(), NULL);
    assert_memory_equal(k, want, 32);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "short\n", 6), 6);
    close(fd);
    assert_int_equal(tg_chain_key_load(path, true, k, &err), TG_EINVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "write a random key")); /* the writer makes one */
    free(err);
    assert_int_equal(tg_chain_key_load(path, false, k, &err), TG_EINVAL);
    assert_non_null(strstr(err, "written with")); /* a reader needs the original */
    assert_null(strstr(err, "random"));
    free(err);
    unlink(path);
    err = NULL;
    assert_int_equal(tg_chain_key_load(path, true, k, &err), TG_EIO);
    free(err);
}

static void test_hex_round_trip(void **state)
{
    uint8_t l[32], back[32];
    for (int i = 0; i < 32; i++)
        l[i] = (uint8_t)(255 - i * 3);
    char hex[65];
    tg_link_hex(l, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(tg_link_unhex(hex, 64, back), 0);
    assert_memory_equal(l, back, 32);
    hex[5] = 'g';
    assert_int_equal(tg_link_unhex(hex, 64, back), TG_EINVAL);
    assert_int_equal(tg_link_unhex(hex, 63, back), TG_EINVAL);
}

static void test_seal(void **state)
{
    static const char msg[] = "TGSEAL2\0descriptor";
    uint8_t k0[32], want[32], out[32], link[32], key[32];
    for (int i = 0; i < 32; i++)
        k0[i] = (uint8_t)(255 - i);
    struct tg_chain c;
    tg_chain_init(&c, NULL);
    tg_chain_add(&c, recs[0], strlen(recs[0]));
    memcpy(link, c.link, 32);
    tg_chain_seal(&c, msg, sizeof(msg), out);
    sha256_2(link, 32, msg, sizeof(msg), want);
    assert_memory_equal(out, want, 32);
    assert_memory_equal(c.link, link, 32); /* the chain is untouched */
    assert_int_equal(c.count, 1);
    tg_chain_free(&c);

    tg_chain_init(&c, k0);
    tg_chain_add(&c, recs[0], strlen(recs[0]));
    memcpy(link, c.link, 32);
    memcpy(key, c.key, 32); /* k_1: the key of the next record */
    tg_chain_seal(&c, msg, sizeof(msg), out);
    uint8_t buf[32 + sizeof(msg)];
    memcpy(buf, link, 32);
    memcpy(buf + 32, msg, sizeof(msg));
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, 32, buf, sizeof(buf), want, &n);
    assert_memory_equal(out, want, 32);
    assert_memory_equal(c.key, key, 32); /* a seal does not evolve the key */
    tg_chain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unkeyed_links),
        cmocka_unit_test(test_keyed_links_are_hmac_with_evolving_key),
        cmocka_unit_test(test_resume_equals_straight_run),
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_hex_round_trip),
    };
    return cmocka_run_group_tests_name("chain", tests, NULL, NULL);
}
