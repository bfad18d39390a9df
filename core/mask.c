/*
 * mask.c - masking secrets in an event's texts, and event.hash.  See mask.h.
 *
 * One pass per text and rule: pcre2_match from the end of the last match
 * collects the spans to replace (the capture groups that took part, or the
 * whole match), overlapping spans are merged, and the text is copied into
 * the arena with "****" for each span.  process.args are matched as one
 * text, the words joined by single spaces (for a snoopy exec that is the
 * command line itself), and each span is cut back into the words it covers,
 * so a rule that needs the command's name ("mysql ... -pSECRET") also masks
 * the word that holds the secret.  Match data is per thread (a pthread key,
 * freed at thread exit), sized for the most groups any rule has.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/mask.h"
#include "core/mem.h"

/* A secret: up to a blank, a quote or a backslash (never cuts a JSON escape). */
#define SECRET "([^\\s'\"\\\\]+)"
/* A quoted SQL string: '...' (with '' and \x inside), "...", or \"...\" as
 * it reads inside JSON text. */
#define SQLSTR "(?:'((?:[^'\\\\]|\\\\.|'')*)'|\"([^\"\\\\]*)\"|\\\\\"([^\"\\\\]*)\\\\\")"

const struct tg_mask_builtin tg_mask_builtins[] = {
    {"mysql_password",
     "\\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlbinlog|mysqlpump|"
     "mysqlsh|mariadb|mariadb-dump|mariadb-admin)\\b[^\\n]*?\\s-p" SECRET,
     "the password of mysql's (and its tools') -pSECRET"},
    {"password_option",
     "(?i:--(?!no-)(?:[a-z0-9]+-)*(?:(?:password|passwd|pass|secret|token|api-?key|access-?key|"
     "secret-?key)=" SECRET "|(?:password|passwd|secret|token|api-?key)\\s+(?!-)" SECRET "))",
     "the value of --password=, --db-password=, --token=, --api-key= ... and of --password, "
     "--secret, --token, --api-key followed by a value"},
    {"sql_identified_by",
     "(?i:\\bIDENTIFIED\\s+(?:WITH\\s+\\S+\\s+)?(?:BY|AS)\\s+(?:PASSWORD\\s+)?)" SQLSTR,
     "the password (or hash) of IDENTIFIED [WITH plugin] BY|AS '...' in CREATE/ALTER USER, GRANT"},
    {"sql_password",
     "(?i:\\bPASSWORD\\s*\\(\\s*)" SQLSTR "|(?i:\\bSET\\s+PASSWORD\\b[^=;]*=\\s*)" SQLSTR,
     "the password of PASSWORD('...') and SET PASSWORD ... = '...'"},
    {"url_credentials", "\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s/:@'\"\\\\]+:([^\\s/@'\"\\\\]+)@",
     "the password of user:password@ in a URL"},
    {"url_token",
     "[?&](?i:access_token|refresh_token|id_token|token|api_key|apikey|key|password|passwd|pwd|"
     "secret|client_secret|sig|signature|auth)=([^\\s&#'\"\\\\]+)",
     "the value of token=, access_token=, api_key=, key=, password=, secret=, sig= ... in a URL "
     "query"},
    {"auth_header",
     "(?i:\\b(?:authorization|proxy-authorization)\\s*:\\s*(?:bearer|basic|token|digest|"
     "negotiate)\\s+)" SECRET "|(?i:\\bx-(?:api-key|auth-token|access-token)\\s*:\\s*)" SECRET,
     "the credentials of an Authorization: or X-Api-Key: header (curl -H)"},
    {"env_secret",
     "\\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|MYSQL_PWD)"
     "[A-Z0-9_]*=" SECRET,
     "the value of an assignment NAME=... whose upper-case NAME holds PASSWORD, SECRET, TOKEN, "
     "API_KEY, ACCESS_KEY, PRIVATE_KEY or is MYSQL_PWD (env, sudo's ENV=)"},
    {"sshpass", "\\bsshpass\\s+(?:-[a-zA-Z]+\\s+)*-p\\s*" SECRET, "the password of sshpass -p"},
    {"curl_user",
     "\\b(?:curl|wget)\\b[^\\n]*?\\s(?:-u\\s*|--user[=\\s]\\s*)[^\\s:'\"\\\\]+:" SECRET,
     "the password of curl -u user:password"},
    {NULL, NULL, NULL},
};

struct tg_mask_rule {
    char *name;
    pcre2_code *re;
    uint32_t groups; /* capture groups; 0: the whole match is replaced */
};

#define TG_MASK_OVECTOR 64 /* match data pairs: more groups than any rule may have */

int tg_mask_rule_new(const char *name, const char *pattern, struct tg_mask_rule **out, char **err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    *out = NULL;
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        *err = tg_xasprintf("pattern %s: %s at offset %zu", name, (const char *)msg, (size_t)off);
        return TG_EINVAL;
    }
    uint32_t groups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (groups + 1 > TG_MASK_OVECTOR) {
        pcre2_code_free(re);
        *err = tg_xasprintf("pattern %s has %u capture groups; at most %d", name, groups,
                            TG_MASK_OVECTOR - 1);
        return TG_EINVAL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT it still matches, slower */
    struct tg_mask_rule *r = tg_xcalloc(1, sizeof(*r));
    r->name = tg_xstrdup(name);
    r->re = re;
    r->groups = groups;
    *out = r;
    return 0;
}

void tg_mask_rule_free(struct tg_mask_rule *r)
{
    if (!r)
        return;
    pcre2_code_free(r->re);
    free(r->name);
    free(r);
}

const char *tg_mask_rule_name(const struct tg_mask_rule *r)
{
    return r->name;
}

/* ---------------------------------------------------------------- spans */

static pthread_key_t tg_mask_md_key;
static pthread_once_t tg_mask_once = PTHREAD_ONCE_INIT;

static void tg_mask_md_free(void *md)
{
    pcre2_match_data_free(md);
}

static void tg_mask_init(void)
{
    pthread_key_create(&tg_mask_md_key, tg_mask_md_free);
}

static pcre2_match_data *tg_mask_md(void)
{
    pthread_once(&tg_mask_once, tg_mask_init);
    pcre2_match_data *md = pthread_getspecific(tg_mask_md_key);
    if (!md) {
        md = pcre2_match_data_create(TG_MASK_OVECTOR, NULL);
        pthread_setspecific(tg_mask_md_key, md);
    }
    return md;
}

struct tg_span {
    size_t a, b; /* [a, b) */
};

struct tg_spans {
    struct tg_span *v;
    size_t n, cap;
};

static void tg_span_add(struct tg_spans *s, size_t a, size_t b)
{
    if (a >= b)
        return;
    s->v = tg_xgrow(s->v, s->n, &s->cap, sizeof(*s->v), 8);
    s->v[s->n++] = (struct tg_span){a, b};
}

/* Collect r's spans in [p, p+n) into s; true when r matched something. */
static bool tg_mask_find(const struct tg_mask_rule *r, const char *p, size_t n, struct tg_spans *s)
{
    pcre2_match_data *md = tg_mask_md();
    size_t start = 0, before = s->n;
    while (start <= n) {
        int rc = pcre2_match(r->re, (PCRE2_SPTR)p, n, start, 0, md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (r->groups == 0)
            tg_span_add(s, ov[0], ov[1]);
        for (uint32_t g = 1; g <= r->groups && (int)g < rc; g++)
            if (ov[2 * g] != PCRE2_UNSET)
                tg_span_add(s, ov[2 * g], ov[2 * g + 1]);
        start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
    }
    return s->n > before;
}

static int tg_span_cmp(const void *x, const void *y)
{
    const struct tg_span *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a;
}

/* Sort and merge overlapping spans. */
static void tg_spans_merge(struct tg_spans *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof(*s->v), tg_span_cmp);
    size_t o = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (s->v[i].a <= s->v[o].b) {
            if (s->v[i].b > s->v[o].b)
                s->v[o].b = s->v[i].b;
        } else {
            s->v[++o] = s->v[i];
        }
    }
    s->n = o + 1;
}

/* [base+off, base+off+n) with the (merged) spans that fall in it masked,
 * copied into the arena; spans are offsets from base. */
static struct tg_str tg_mask_copy(struct tg_event *ev, const char *p, size_t off, size_t n,
                                  const struct tg_spans *s)
{
    struct tg_buf b = TG_BUF_INIT;
    size_t at = off, end = off + n;
    for (size_t i = 0; i < s->n; i++) {
        size_t a = s->v[i].a < off ? off : s->v[i].a, z = s->v[i].b > end ? end : s->v[i].b;
        if (a >= z)
            continue;
        tg_buf_append(&b, p + at, a - at);
        tg_buf_append(&b, TG_MASK_TOKEN, sizeof(TG_MASK_TOKEN) - 1);
        at = z;
    }
    tg_buf_append(&b, p + at, end - at);
    struct tg_str out = tg_event_strdup(ev, b.data ? b.data : "", b.len);
    tg_buf_free(&b);
    return out;
}

bool tg_mask_text(const struct tg_mask_rule *r, struct tg_event *ev, struct tg_str in,
                  struct tg_str *out)
{
    struct tg_spans s = {0};
    bool hit = in.p && tg_mask_find(r, in.p, in.len, &s);
    if (hit) {
        tg_spans_merge(&s);
        *out = tg_mask_copy(ev, in.p, 0, in.len, &s);
    }
    free(s.v);
    return hit;
}

/* ---------------------------------------------------------------- event */

/* Mask *t with the rules that are on; true when something changed. */
static bool tg_mask_one(struct tg_mask_rule *const *rules, const bool *on, size_t n,
                        struct tg_event *ev, struct tg_str *t, bool *hit)
{
    if (!t->p || !t->len)
        return false;
    struct tg_spans s = {0};
    for (size_t i = 0; i < n; i++)
        if (on[i] && tg_mask_find(rules[i], t->p, t->len, &s))
            hit[i] = true;
    bool changed = s.n > 0;
    if (changed) {
        tg_spans_merge(&s);
        *t = tg_mask_copy(ev, t->p, 0, t->len, &s);
    }
    free(s.v);
    return changed;
}

/* process.args: matched as the words joined by single spaces, the spans
 * cut back into the words. */
static bool tg_mask_args(struct tg_mask_rule *const *rules, const bool *on, size_t n,
                         struct tg_event *ev, bool *hit)
{
    if (!ev->nargs)
        return false;
    struct tg_buf j = TG_BUF_INIT;
    size_t *off = tg_xmalloc(ev->nargs * sizeof(*off));
    for (size_t k = 0; k < ev->nargs; k++) {
        if (k)
            tg_buf_putc(&j, ' ');
        off[k] = j.len;
        tg_buf_append(&j, ev->args[k].p, ev->args[k].len);
    }
    struct tg_spans s = {0};
    for (size_t i = 0; i < n; i++)
        if (on[i] && tg_mask_find(rules[i], j.data ? j.data : "", j.len, &s))
            hit[i] = true;
    bool changed = s.n > 0;
    if (changed) {
        tg_spans_merge(&s);
        struct tg_str *a = tg_arena_alloc(&ev->arena, ev->nargs * sizeof(*a));
        for (size_t k = 0; k < ev->nargs; k++)
            a[k] = tg_mask_copy(ev, j.data, off[k], ev->args[k].len, &s);
        ev->args = a;
    }
    free(s.v);
    free(off);
    tg_buf_free(&j);
    return changed;
}

/* event.hash: lower-case hex of SHA-256 or HMAC-SHA-256 over the original. */
static void tg_mask_hash(struct tg_event *ev, const uint8_t *key, size_t keylen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (key)
        HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)ev->original.p,
             ev->original.len, md, &mdlen);
    else
        EVP_Digest(ev->original.p, ev->original.len, md, &mdlen, EVP_sha256(), NULL);
    char *h = tg_arena_alloc(&ev->arena, 2 * mdlen + 1);
    for (unsigned i = 0; i < mdlen; i++) {
        h[2 * i] = hex[md[i] >> 4];
        h[2 * i + 1] = hex[md[i] & 15];
    }
    h[2 * mdlen] = '\0';
    ev->hash = tg_str_make(h, 2 * mdlen);
}

bool tg_mask_event(struct tg_mask_rule *const *rules, const bool *on, size_t n, const uint8_t *key,
                   size_t keylen, struct tg_event *ev, bool *hit)
{
    memset(hit, 0, n * sizeof(*hit));
    struct tg_str orig = ev->original;
    bool any = tg_mask_one(rules, on, n, ev, &orig, hit);
    any |= tg_mask_one(rules, on, n, ev, &ev->command_line, hit);
    any |= tg_mask_args(rules, on, n, ev, hit);
    any |= tg_mask_one(rules, on, n, ev, &ev->db_statement, hit);
    any |= tg_mask_one(rules, on, n, ev, &ev->sudo_command, hit);
    any |= tg_mask_one(rules, on, n, ev, &ev->sudo_data, hit);
    any |= tg_mask_one(rules, on, n, ev, &ev->policy.reason, hit);
    if (!any)
        return false;
    tg_mask_hash(ev, key, keylen); /* over the record as received, before it is replaced */
    ev->original = orig;
    struct tg_buf b = TG_BUF_INIT; /* {"rules":[...],"hash":"..."} */
    tg_buf_puts(&b, "{\"rules\":[");
    for (size_t i = 0, k = 0; i < n; i++)
        if (hit[i]) {
            if (k++)
                tg_buf_putc(&b, ',');
            tg_json_str(&b, rules[i]->name, strlen(rules[i]->name), NULL);
        }
    tg_buf_puts(&b, key ? "],\"hash\":\"hmac-sha256\"}" : "],\"hash\":\"sha256\"}");
    ev->mask_data = tg_event_strdup(ev, b.data, b.len);
    tg_buf_free(&b);
    return true;
}
