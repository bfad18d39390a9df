/*
 * chain.c - SHA-256 / forward-evolving HMAC-SHA-256 record chain.  See
 * chain.h for the definition.
 *
 * HMAC is computed by hand over one EVP_MD_CTX (RFC 2104 with a 32-byte
 * key: inner = H(k^ipad || msg), outer = H(k^opad || inner)) because the
 * key changes with every record: OpenSSL's HMAC/EVP_MAC objects would be
 * re-keyed per record anyway, at a higher cost.  The message is
 * L_{i-1} || record, fed in two updates.  Ownership: the struct owns its
 * digest context; one thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/mem.h"
#include "sinks/chain.h"

#define TG_SHA256_BLOCK 64

int tg_chain_key_load(const char *path, bool writer, uint8_t key[TG_LINK_LEN], char **err)
{
    const char *reader_advice = "give the hmac_key_file the store was written with (the "
                                "original file, not a copy of a later state)";
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (writer)
            *err = tg_xasprintf("hmac_key_file %s: cannot open: %s; create it (e.g. `head -c 32 "
                                "/dev/urandom | base64 > %s`, mode 0400) and keep a copy offline",
                                path, strerror(errno), path);
        else
            *err =
                tg_xasprintf("--key %s: cannot open: %s; %s", path, strerror(errno), reader_advice);
        return TG_EIO;
    }
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    int rc = 0;
    if (more || n < 16) {
        *err = tg_xasprintf("%s %s: a key is 16 to 4096 bytes (this file has %s); %s",
                            writer ? "hmac_key_file" : "--key", path, more ? "more" : "fewer",
                            writer ? "write a random key, e.g. `head -c 32 /dev/urandom | base64`"
                                   : reader_advice);
        rc = TG_EINVAL;
    } else {
        EVP_Digest(buf, n, key, NULL, EVP_sha256(), NULL);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

void tg_chain_init(struct tg_chain *c, const uint8_t *key0)
{
    memset(c, 0, sizeof(*c));
    c->md = EVP_MD_CTX_new();
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!c->md || !c->sha256)
        abort(); /* libcrypto without SHA-256: nothing sensible to do */
    if (key0) {
        c->has_key = c->keyed = true;
        memcpy(c->key, key0, TG_LINK_LEN);
    }
}

static void tg_chain_evolve(struct tg_chain *c)
{
    uint8_t next[TG_LINK_LEN];
    EVP_DigestInit_ex2(c->md, c->sha256, NULL);
    EVP_DigestUpdate(c->md, c->key, TG_LINK_LEN);
    EVP_DigestFinal_ex(c->md, next, NULL);
    memcpy(c->key, next, TG_LINK_LEN);
    OPENSSL_cleanse(next, sizeof(next));
}

void tg_chain_resume(struct tg_chain *c, const uint8_t link[TG_LINK_LEN], uint64_t count)
{
    memcpy(c->link, link, TG_LINK_LEN);
    if (c->has_key)
        for (uint64_t i = c->count; i < count; i++)
            tg_chain_evolve(c);
    c->count = count;
}

/* out = SHA-256(link || msg) unkeyed, HMAC-SHA-256(key, link || msg) keyed
 * (out may be c->link). */
static void tg_chain_mac(struct tg_chain *c, const void *msg, size_t len, uint8_t out[TG_LINK_LEN])
{
    EVP_MD_CTX *md = c->md;
    if (!c->keyed) {
        EVP_DigestInit_ex2(md, c->sha256, NULL);
        EVP_DigestUpdate(md, c->link, TG_LINK_LEN);
        EVP_DigestUpdate(md, msg, len);
        EVP_DigestFinal_ex(md, out, NULL);
        return;
    }
    uint8_t pad[TG_SHA256_BLOCK], inner[TG_LINK_LEN];
    memset(pad, 0x36, sizeof(pad));
    for (size_t i = 0; i < TG_LINK_LEN; i++)
        pad[i] ^= c->key[i];
    EVP_DigestInit_ex2(md, c->sha256, NULL);
    EVP_DigestUpdate(md, pad, sizeof(pad));
    EVP_DigestUpdate(md, c->link, TG_LINK_LEN);
    EVP_DigestUpdate(md, msg, len);
    EVP_DigestFinal_ex(md, inner, NULL);
    memset(pad, 0x5c, sizeof(pad));
    for (size_t i = 0; i < TG_LINK_LEN; i++)
        pad[i] ^= c->key[i];
    EVP_DigestInit_ex2(md, c->sha256, NULL);
    EVP_DigestUpdate(md, pad, sizeof(pad));
    EVP_DigestUpdate(md, inner, sizeof(inner));
    EVP_DigestFinal_ex(md, out, NULL);
    OPENSSL_cleanse(pad, sizeof(pad));
}

void tg_chain_add(struct tg_chain *c, const void *rec, size_t len)
{
    tg_chain_mac(c, rec, len, c->link);
    if (c->has_key)
        tg_chain_evolve(c);
    c->count++;
}

void tg_chain_seal(struct tg_chain *c, const void *msg, size_t len, uint8_t out[TG_LINK_LEN])
{
    tg_chain_mac(c, msg, len, out);
}

void tg_chain_free(struct tg_chain *c)
{
    OPENSSL_cleanse(c->key, sizeof(c->key));
    EVP_MD_CTX_free(c->md);
    EVP_MD_free(c->sha256);
    c->md = NULL;
    c->sha256 = NULL;
}

void tg_link_hex(const uint8_t link[TG_LINK_LEN], char out[2 * TG_LINK_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < TG_LINK_LEN; i++) {
        out[2 * i] = hex[link[i] >> 4];
        out[2 * i + 1] = hex[link[i] & 15];
    }
    out[2 * TG_LINK_LEN] = '\0';
}

int tg_link_unhex(const char *hex, size_t n, uint8_t link[TG_LINK_LEN])
{
    if (n != 2 * TG_LINK_LEN)
        return TG_EINVAL;
    for (size_t i = 0; i < TG_LINK_LEN; i++) {
        int hi = tg_hex_value(hex[2 * i]), lo = tg_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return TG_EINVAL;
        link[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
