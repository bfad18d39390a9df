/*
 * checkpoint.c - checkpoint JSON, canonical message, Ed25519 signatures
 * (OpenSSL EVP), key files and the store's checkpoints file.  See
 * checkpoint.h.
 *
 * The signed message is line-oriented text with length-prefixed strings, so
 * no field can be made to look like another.  Parsing accepts the three
 * shapes an auditor meets: the checkpoint itself (checkpoints.ndjson, the
 * log line), the internal record that announced it (its "data"), and the
 * event a sink stored or Kafka delivered (its trailguard.checkpoint).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sinks/checkpoint.h"

void tg_checkpoint_clear(struct tg_checkpoint *cp)
{
    free(cp->host);
    free(cp->dir);
    free(cp->note);
    memset(cp, 0, sizeof(*cp));
}

void tg_checkpoint_copy(struct tg_checkpoint *dst, const struct tg_checkpoint *src)
{
    *dst = *src;
    dst->host = src->host ? tg_xstrdup(src->host) : NULL;
    dst->dir = src->dir ? tg_xstrdup(src->dir) : NULL;
    dst->note = src->note ? tg_xstrdup(src->note) : NULL;
}

bool tg_checkpoint_same_point(const struct tg_checkpoint *a, const struct tg_checkpoint *b)
{
    return memcmp(a->store_id, b->store_id, sizeof(a->store_id)) == 0 && a->segment == b->segment &&
           a->records == b->records && a->members == b->members &&
           memcmp(a->link, b->link, TG_LINK_LEN) == 0;
}

static void tg_hex(struct tg_buf *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *d = tg_buf_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        d[2 * i] = hex[p[i] >> 4];
        d[2 * i + 1] = hex[p[i] & 15];
    }
    b->len += 2 * n;
}

static int tg_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return TG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = tg_hex_value(s[2 * i]), lo = tg_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return TG_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static struct tg_time tg_us_time(int64_t us)
{
    int64_t s = us / 1000000, r = us % 1000000;
    if (r < 0) {
        r += 1000000;
        s--;
    }
    return (struct tg_time){s, (int32_t)(r * 1000), 6};
}

void tg_checkpoint_message(const struct tg_checkpoint *cp, struct tg_buf *out)
{
    char t[32];
    tg_time_format(t, tg_us_time(cp->time_us));
    const char *host = cp->host ? cp->host : "", *dir = cp->dir ? cp->dir : "";
    out->len = 0;
    tg_buf_puts(out, "trailguard-checkpoint 1\nstore ");
    tg_hex(out, cp->store_id, sizeof(cp->store_id));
    tg_buf_printf(out,
                  "\nhost %zu:%s\ndir %zu:%s\nsegment %" PRIu64 "\nrecords %" PRIu64
                  "\nmembers %" PRIu64 "\nlink ",
                  strlen(host), host, strlen(dir), dir, cp->segment, cp->records, cp->members);
    tg_hex(out, cp->link, TG_LINK_LEN);
    tg_buf_printf(out, "\nkeyed %d\ntime %s\nreason %s\n", cp->keyed ? 1 : 0, t, cp->reason);
    if (cp->note) /* absent from the message when absent, so older checkpoints still check */
        tg_buf_printf(out, "note %zu:%s\n", strlen(cp->note), cp->note);
}

void tg_checkpoint_format(const struct tg_checkpoint *cp, struct tg_buf *out)
{
    struct tg_buf hex = TG_BUF_INIT;
    struct tg_jw w;
    tg_jw_begin(&w, out);
    tg_jw_cstr(&w, "format", "trailguard-checkpoint");
    tg_jw_int(&w, "version", 1);
    tg_hex(&hex, cp->store_id, sizeof(cp->store_id));
    tg_jw_cstr(&w, "store", tg_buf_cstr(&hex));
    tg_jw_cstr(&w, "host", cp->host ? cp->host : "");
    tg_jw_cstr(&w, "dir", cp->dir ? cp->dir : "");
    tg_jw_int(&w, "segment", (int64_t)cp->segment);
    tg_jw_int(&w, "records", (int64_t)cp->records);
    tg_jw_int(&w, "members", (int64_t)cp->members);
    hex.len = 0;
    tg_hex(&hex, cp->link, TG_LINK_LEN);
    tg_jw_cstr(&w, "link", tg_buf_cstr(&hex));
    tg_jw_bool(&w, "keyed", cp->keyed);
    tg_jw_time(&w, "time", tg_us_time(cp->time_us));
    tg_jw_cstr(&w, "reason", cp->reason);
    tg_jw_cstr(&w, "note", cp->note);
    if (cp->is_signed) {
        hex.len = 0;
        tg_hex(&hex, cp->key_id, TG_KEY_ID_LEN);
        tg_jw_cstr(&w, "key_id", tg_buf_cstr(&hex));
        hex.len = 0;
        tg_hex(&hex, cp->sig, TG_SIG_LEN);
        tg_jw_cstr(&w, "signature", tg_buf_cstr(&hex));
    }
    tg_jw_end(&w);
    tg_buf_free(&hex);
}

static json_object *tg_jget(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v)
               ? v
               : NULL;
}

static const char *tg_jstr(json_object *o, const char *key, size_t *len)
{
    json_object *v = tg_jget(o, key);
    if (!v || !json_object_is_type(v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

static bool tg_ju64(json_object *o, const char *key, uint64_t *out)
{
    json_object *v = tg_jget(o, key);
    if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return false;
    *out = (uint64_t)json_object_get_int64(v);
    return true;
}

static bool tg_jhex(json_object *o, const char *key, uint8_t *out, size_t n)
{
    size_t len;
    const char *s = tg_jstr(o, key, &len);
    return s && tg_unhex(s, len, out, n) == 0;
}

/* Fill cp from a checkpoint object; NULL, or what is wrong. */
static const char *tg_checkpoint_from(json_object *o, struct tg_checkpoint *cp)
{
    size_t len;
    const char *s = tg_jstr(o, "format", &len);
    uint64_t version;
    if (!s || strcmp(s, "trailguard-checkpoint") != 0)
        return "not a trailguard checkpoint";
    if (!tg_ju64(o, "version", &version) || version != 1)
        return "a checkpoint version this trailguard does not read";
    if (!tg_jhex(o, "store", cp->store_id, sizeof(cp->store_id)))
        return "no valid \"store\" id";
    if (!tg_ju64(o, "segment", &cp->segment) || !tg_ju64(o, "records", &cp->records) ||
        !tg_ju64(o, "members", &cp->members))
        return "no valid \"segment\", \"records\" or \"members\"";
    if (!tg_jhex(o, "link", cp->link, TG_LINK_LEN))
        return "no valid \"link\"";
    json_object *k = tg_jget(o, "keyed");
    if (!k || !json_object_is_type(k, json_type_boolean))
        return "no \"keyed\"";
    cp->keyed = json_object_get_boolean(k);
    s = tg_jstr(o, "time", &len);
    struct tg_time t;
    if (!s || tg_time_parse_iso(s, len, &t) != len)
        return "no valid \"time\"";
    cp->time_us = t.sec * 1000000 + t.nsec / 1000;
    s = tg_jstr(o, "reason", &len);
    if (!s || len >= sizeof(cp->reason))
        return "no valid \"reason\"";
    memcpy(cp->reason, s, len + 1);
    s = tg_jstr(o, "host", &len);
    cp->host = tg_xstrndup(s ? s : "", s ? len : 0);
    s = tg_jstr(o, "dir", &len);
    cp->dir = tg_xstrndup(s ? s : "", s ? len : 0);
    if ((s = tg_jstr(o, "note", &len)) != NULL)
        cp->note = tg_xstrndup(s, len);
    if (tg_jget(o, "signature")) {
        if (!tg_jhex(o, "signature", cp->sig, TG_SIG_LEN) ||
            !tg_jhex(o, "key_id", cp->key_id, TG_KEY_ID_LEN))
            return "a malformed \"signature\" or \"key_id\"";
        cp->is_signed = true;
    }
    return NULL;
}

int tg_checkpoint_parse(const char *line, size_t len, struct tg_checkpoint *cp, char **err)
{
    memset(cp, 0, sizeof(*cp));
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, line, (int)len);
    json_tokener_free(tok);
    json_object *o = root;
    if (o && !tg_jget(o, "format")) /* an internal record, or a stored/consumed event */
        o = tg_jget(o, "data") ? tg_jget(o, "data")
                               : tg_jget(tg_jget(o, "trailguard"), "checkpoint");
    int rc = TG_ENOENT;
    if (o) {
        const char *why = tg_checkpoint_from(o, cp);
        rc = why ? TG_EINVAL : 0;
        if (why) {
            *err = tg_xstrdup(why);
            tg_checkpoint_clear(cp);
        }
    } else if (!root) {
        *err = tg_xstrdup("not JSON");
        rc = TG_EINVAL;
    }
    json_object_put(root);
    return rc;
}

int tg_sign_key_load(const char *path, bool secret, void **key, char **err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = tg_xasprintf("%s: cannot open: %s%s", path, strerror(errno),
                            secret ? "; make a key pair with `trailguard keygen`" : "");
        return TG_EIO;
    }
    EVP_PKEY *k =
        secret ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        *err = tg_xasprintf("%s: not an Ed25519 %s key in PEM form (as `trailguard keygen` "
                            "writes: .key is the private key, .pub the public one)",
                            path, secret ? "private" : "public");
        return TG_EINVAL;
    }
    *key = k;
    return 0;
}

void tg_sign_key_free(void *key)
{
    EVP_PKEY_free(key);
}

void tg_sign_key_id(void *key, uint8_t id[TG_KEY_ID_LEN])
{
    uint8_t raw[32], md[32];
    size_t n = sizeof(raw);
    memset(raw, 0, sizeof(raw));
    EVP_PKEY_get_raw_public_key(key, raw, &n);
    EVP_Digest(raw, n, md, NULL, EVP_sha256(), NULL);
    memcpy(id, md, TG_KEY_ID_LEN);
}

int tg_checkpoint_sign(struct tg_checkpoint *cp, void *key)
{
    struct tg_buf msg = TG_BUF_INIT;
    tg_checkpoint_message(cp, &msg);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = TG_SIG_LEN;
    int rc = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
                     EVP_DigestSign(md, cp->sig, &n, (const uint8_t *)msg.data, msg.len) == 1 &&
                     n == TG_SIG_LEN
                 ? 0
                 : TG_EIO;
    EVP_MD_CTX_free(md);
    tg_buf_free(&msg);
    if (rc == 0) {
        cp->is_signed = true;
        tg_sign_key_id(key, cp->key_id);
    }
    return rc;
}

int tg_checkpoint_check(const struct tg_checkpoint *cp, void *key)
{
    if (!cp->is_signed)
        return TG_ENOENT;
    uint8_t id[TG_KEY_ID_LEN];
    tg_sign_key_id(key, id);
    if (memcmp(id, cp->key_id, TG_KEY_ID_LEN) != 0)
        return TG_ECORRUPT;
    struct tg_buf msg = TG_BUF_INIT;
    tg_checkpoint_message(cp, &msg);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc =
        md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
                EVP_DigestVerify(md, cp->sig, TG_SIG_LEN, (const uint8_t *)msg.data, msg.len) == 1
            ? 0
            : TG_ECORRUPT;
    EVP_MD_CTX_free(md);
    tg_buf_free(&msg);
    return rc;
}

/* Write a PEM file that must not exist yet.  0 or TG_EIO (errno). */
static int tg_pem_create(const char *path, mode_t mode, EVP_PKEY *k, bool secret)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return TG_EIO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return TG_EIO;
    }
    int ok =
        secret ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, k);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok && errno == 0)
        errno = EIO;
    return ok ? 0 : TG_EIO;
}

int tg_sign_keygen(const char *prefix, char **err)
{
    char *kpath = tg_xasprintf("%s.key", prefix), *ppath = tg_xasprintf("%s.pub", prefix);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    int rc = TG_EIO;
    if (!k) {
        *err = tg_xstrdup("OpenSSL cannot make an Ed25519 key");
        goto out;
    }
    if (access(kpath, F_OK) == 0 || access(ppath, F_OK) == 0) {
        *err = tg_xasprintf("%s or %s exists already: keygen never overwrites a key (the "
                            "checkpoints made with it could no longer be checked); choose "
                            "another --out",
                            kpath, ppath);
        rc = TG_EINVAL;
        goto out;
    }
    if (tg_pem_create(kpath, 0600, k, true) != 0) {
        *err = tg_xasprintf("%s: cannot write: %s", kpath, strerror(errno));
        goto out;
    }
    if (tg_pem_create(ppath, 0644, k, false) != 0) {
        *err = tg_xasprintf("%s: cannot write: %s", ppath, strerror(errno));
        unlink(kpath);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(k);
    free(kpath);
    free(ppath);
    return rc;
}

int tg_checkpoints_read(const char *path, struct tg_checkpoint **out, size_t *n, size_t *torn,
                        size_t *bad_line, char **err)
{
    *out = NULL;
    *n = *torn = *bad_line = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : TG_EIO;
    struct tg_checkpoint *v = NULL;
    size_t nv = 0, cap = 0, lineno = 0, linecap = 0;
    char *line = NULL;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &linecap, f)) > 0) {
        lineno++;
        bool complete = line[len - 1] == '\n';
        if (complete)
            len--;
        struct tg_checkpoint cp;
        char *why = NULL;
        int prc = tg_checkpoint_parse(line, (size_t)len, &cp, &why);
        if (prc != 0 && !complete) { /* the last line, cut by a crash while appending */
            free(why);
            (*torn)++;
            break;
        }
        if (prc != 0) {
            *bad_line = lineno;
            *err = why ? why : tg_xstrdup("no checkpoint on this line");
            rc = TG_EINVAL;
            break;
        }
        v = tg_xgrow(v, nv, &cap, sizeof(*v), 16);
        v[nv++] = cp;
    }
    if (rc == 0 && ferror(f))
        rc = TG_EIO;
    free(line);
    fclose(f);
    if (rc != 0) {
        tg_checkpoints_free(v, nv);
        return rc;
    }
    *out = v;
    *n = nv;
    return 0;
}

void tg_checkpoints_free(struct tg_checkpoint *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tg_checkpoint_clear(&v[i]);
    free(v);
}
