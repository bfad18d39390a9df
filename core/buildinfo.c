/*
 * buildinfo.c - the version and build features table.  See buildinfo.h.
 *
 * TLS is a property of the librelp that is linked, not of trailguard's
 * build: an engine is asked which TLS libraries it can use (librelp
 * answers RELP_RET_ERR_NO_TLS for one it was built without).  librelp
 * (whose relpEngineGetVersion is not exported), libsystemd, inih and
 * libdeflate have no run-time version call: theirs are the versions built
 * against.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <json.h>
#include <libdeflate.h>
#include <librdkafka/rdkafka.h>
#include <librelp.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <zlib.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buildconf.h"
#include "core/buildinfo.h"

enum { TG_BI_COUNT = 13 };
static struct tg_build_item tg_bi[TG_BI_COUNT];
static pthread_once_t tg_bi_once = PTHREAD_ONCE_INIT;

static void tg_bi_set(size_t i, const char *label, const char *name, bool feature,
                      const char *value)
{
    tg_bi[i].label = label;
    tg_bi[i].name = name;
    tg_bi[i].feature = feature;
    snprintf(tg_bi[i].value, sizeof(tg_bi[i].value), "%s", value && value[0] ? value : "none");
}

static void tg_bi_relp_dbg(char *fmt, ...)
{
}

/* The TLS libraries the linked librelp can use, e.g. "gnutls openssl". */
static void tg_bi_relp_tls(char *out, size_t n)
{
    static const char *const libs[] = {"gnutls", "openssl"};
    relpEngine_t *eng = NULL;
    out[0] = '\0';
    if (relpEngineConstruct(&eng) != RELP_RET_OK)
        return;
    relpEngineSetDbgprint(eng, tg_bi_relp_dbg); /* librelp calls it unconditionally */
    for (size_t i = 0; i < 2; i++)
        if (relpEngineSetTLSLibByName(eng, libs[i]) == RELP_RET_OK)
            snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? " " : "", libs[i]);
    relpEngineDestruct(&eng);
}

static void tg_bi_build(void)
{
    char buf[64];
    size_t i = 0;
    tg_bi_set(i++, "version", "trailguard", false, PACKAGE_VERSION);
    tg_bi_relp_tls(buf, sizeof(buf));
    tg_bi_set(i++, "tls", "TLS (RELP)", true, buf);
#ifdef HAVE_LIBSYSTEMD
    tg_bi_set(i++, "libsystemd", "libsystemd (sd_notify)", true, TG_LIBSYSTEMD_VERSION);
#else
    tg_bi_set(i++, "libsystemd", "libsystemd (sd_notify)", true, "none");
#endif
    tg_bi_set(i++, "sanitizers", "sanitizers", true, TG_BUILD_SANITIZERS);
    tg_bi_set(i++, "librelp", "librelp", false, TG_RELP_VERSION);
    tg_bi_set(i++, "librdkafka", "librdkafka", false, rd_kafka_version_str());
    tg_bi_set(i++, "json_c", "json-c", false, json_c_version());
    tg_bi_set(i++, "zlib", "zlib", false, zlibVersion());
    /* "OpenSSL 3.0.19 27 Jan 2026": the second word */
    const char *ossl = OpenSSL_version(OPENSSL_VERSION);
    const char *sp = strchr(ossl, ' ');
    snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(sp ? sp + 1 : ossl, " "), sp ? sp + 1 : ossl);
    tg_bi_set(i++, "openssl", "OpenSSL", false, buf);
    tg_bi_set(i++, "libmicrohttpd", "libmicrohttpd", false, MHD_get_version());
    buf[0] = '\0';
    pcre2_config(PCRE2_CONFIG_VERSION, buf);
    buf[strcspn(buf, " ")] = '\0'; /* "10.42 2022-12-11" */
    tg_bi_set(i++, "pcre2", "PCRE2", false, buf);
    tg_bi_set(i++, "libdeflate", "libdeflate", false, LIBDEFLATE_VERSION_STRING);
    tg_bi_set(i++, "inih", "inih", false, TG_INIH_VERSION);
}

const struct tg_build_item *tg_buildinfo(size_t *n)
{
    pthread_once(&tg_bi_once, tg_bi_build);
    *n = TG_BI_COUNT;
    return tg_bi;
}

void tg_buildinfo_print(FILE *out)
{
    size_t n;
    const struct tg_build_item *bi = tg_buildinfo(&n);
    fprintf(out, "trailguard %s\n", bi[0].value);
    for (int feature = 1; feature >= 0; feature--) {
        fprintf(out, "%s", feature ? "features:" : "linked:  ");
        for (size_t i = 1, k = 0; i < n; i++)
            if (bi[i].feature == (bool)feature)
                fprintf(out, "%s %s %s", k++ ? "," : "", bi[i].name, bi[i].value);
        fputc('\n', out);
    }
}
