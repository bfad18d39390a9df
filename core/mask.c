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
 * the word that holds the secret.  Most texts hold no secret, and ten
 * rules are ten scans: a rule that names literals of which one is in each
 * of its matches (the built-ins do) is gated: one scan of the text for all
 * the gated rules' literals (a table of every byte pair that starts one,
 * either case, then a compare of the literals that start with it) lets a
 * rule run only on a text where one of its own literals is.  A text the
 * record's scan found free of literals is not scanned again for a field cut
 * from it (the command line, an argument).  The rules were a fifth of the
 * collector's CPU per event on the bench feed; a PCRE2 alternation of the
 * literals was slower still (it tries every alternative at almost every
 * byte).  Match data is per thread (a pthread key, freed at thread exit),
 * sized for the most groups any rule has.
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
     "mysql|mariadb", "the password of mysql's (and its tools') -pSECRET"},
    {"password_option",
     "(?i:--(?!no-)(?:[a-z0-9]+-)*(?:(?:password|passwd|pass|secret|token|api-?key|access-?key|"
     "secret-?key)=" SECRET "|(?:password|passwd|secret|token|api-?key)\\s+(?!-)" SECRET "))",
     "pass|secret|token|apikey|api-key|accesskey|access-key",
     "the value of --password=, --db-password=, --token=, --api-key= ... and of --password, "
     "--secret, --token, --api-key followed by a value"},
    {"sql_identified_by",
     "(?i:\\bIDENTIFIED\\s+(?:WITH\\s+\\S+\\s+)?(?:BY|AS)\\s+(?:PASSWORD\\s+)?)" SQLSTR,
     "identified",
     "the password (or hash) of IDENTIFIED [WITH plugin] BY|AS '...' in CREATE/ALTER USER, GRANT"},
    {"sql_password",
     "(?i:\\bPASSWORD\\s*\\(\\s*)" SQLSTR "|(?i:\\bSET\\s+PASSWORD\\b[^=;]*=\\s*)" SQLSTR,
     "password", "the password of PASSWORD('...') and SET PASSWORD ... = '...'"},
    {"url_credentials", "\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s/:@'\"\\\\]+:([^\\s/@'\"\\\\]+)@", "://",
     "the password of user:password@ in a URL"},
    {"url_token",
     "[?&](?i:access_token|refresh_token|id_token|token|api_key|apikey|key|password|passwd|pwd|"
     "secret|client_secret|sig|signature|auth)=([^\\s&#'\"\\\\]+)",
     "token=|key=|password=|passwd=|pwd=|secret=|sig=|signature=|auth=",
     "the value of token=, access_token=, api_key=, key=, password=, secret=, sig= ... in a URL "
     "query"},
    {"auth_header",
     "(?i:\\b(?:authorization|proxy-authorization)\\s*:\\s*(?:bearer|basic|token|digest|"
     "negotiate)\\s+)" SECRET "|(?i:\\bx-(?:api-key|auth-token|access-token)\\s*:\\s*)" SECRET,
     "authorization|x-api-key|x-auth-token|x-access-token",
     "the credentials of an Authorization: or X-Api-Key: header (curl -H)"},
    {"env_secret",
     "\\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|MYSQL_PWD)"
     "[A-Z0-9_]*=" SECRET,
     "passw|secret|token|apikey|api_key|accesskey|access_key|privatekey|private_key|mysql_pwd",
     "the value of an assignment NAME=... whose upper-case NAME holds PASSWORD, SECRET, TOKEN, "
     "API_KEY, ACCESS_KEY, PRIVATE_KEY or is MYSQL_PWD (env, sudo's ENV=)"},
    {"sshpass", "\\bsshpass\\s+(?:-[a-zA-Z]+\\s+)*-p\\s*" SECRET, "sshpass",
     "the password of sshpass -p"},
    {"curl_user",
     "\\b(?:curl|wget)\\b[^\\n]*?\\s(?:-u\\s*|--user[=\\s]\\s*)[^\\s:'\"\\\\]+:" SECRET,
     "curl|wget", "the password of curl -u user:password"},
    {NULL, NULL, NULL, NULL},
};

struct tg_mask_rule {
    char *name;
    pcre2_code *re;
    uint32_t groups; /* capture groups; 0: the whole match is replaced */
    char *need;      /* "lit|lit|...": one of them is in every match; NULL: unknown */
};

#define TG_MASK_OVECTOR 64 /* match data pairs: more groups than any rule may have */

int tg_mask_rule_new(const char *name, const char *pattern, const char *need,
                     struct tg_mask_rule **out, char **err)
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
    r->need = need ? tg_xstrdup(need) : NULL;
    *out = r;
    return 0;
}

void tg_mask_rule_free(struct tg_mask_rule *r)
{
    if (!r)
        return;
    pcre2_code_free(r->re);
    free(r->name);
    free(r->need);
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

/* ---------------------------------------------------------------- gate */

struct tg_mask_lit {
    char *s; /* lower case */
    size_t len;
    size_t rule; /* whose it is */
};

struct tg_mask_gate {
    size_t n;                 /* rules */
    bool *gated;              /* [n]: the rule has literals, one of which is in every match */
    struct tg_mask_lit *lits; /* every gated rule's literals, by their first two bytes */
    size_t nlit;
    uint32_t *group; /* [ngroup + 1]: lits[group[k] .. group[k+1]) share their first two */
    size_t ngroup;
    /* [tg_pair_at(ab)]: 0 no literal starts with a, b (any case);
     * TG_GATE_HIGH: U+017F or U+212A starts there (tg_mask_gate_scan);
     * else 1 + the group of the literals that start with a, b */
    uint16_t pair[65536];
};

#define TG_GATE_HIGH 0xffff

/* The index in pair[] of the two bytes at p: one 16-bit load, in the
 * machine's byte order (the table is built with the same load). */
static inline unsigned tg_pair_at(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline unsigned char tg_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static int tg_lit_cmp(const void *x, const void *y)
{
    const struct tg_mask_lit *a = x, *b = y;
    int d = (unsigned char)a->s[0] - (unsigned char)b->s[0];
    return d ? d : (unsigned char)a->s[1] - (unsigned char)b->s[1];
}

struct tg_mask_gate *tg_mask_gate_new(struct tg_mask_rule *const *rules, size_t n)
{
    struct tg_mask_gate *g = tg_xcalloc(1, sizeof(*g));
    g->n = n;
    g->gated = tg_xcalloc(n + 1, sizeof(*g->gated));
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        /* its literals, lower case; each ASCII, without a space, two bytes or more, or
         * the rule runs on every text */
        const char *c = rules[i]->need;
        size_t before = g->nlit;
        bool usable = c && *c;
        while (usable && *c) {
            size_t len = strcspn(c, "|");
            usable = len >= 2;
            for (size_t k = 0; usable && k < len; k++)
                usable = (unsigned char)c[k] < 0x80 && c[k] != ' ';
            if (usable) {
                char *l = tg_xstrndup(c, len);
                for (size_t k = 0; k < len; k++)
                    l[k] = (char)tg_lower((unsigned char)l[k]);
                g->lits = tg_xgrow(g->lits, g->nlit, &cap, sizeof(*g->lits), 16);
                g->lits[g->nlit++] = (struct tg_mask_lit){l, len, i};
            }
            c += len + (c[len] == '|');
        }
        g->gated[i] = usable;
        while (!usable && g->nlit > before)
            free(g->lits[--g->nlit].s);
    }
    if (g->nlit)
        qsort(g->lits, g->nlit, sizeof(*g->lits), tg_lit_cmp);
    g->group = tg_xcalloc(g->nlit + 1, sizeof(*g->group));
    for (size_t k = 0; k < g->nlit; k++)
        if (!k || tg_lit_cmp(&g->lits[k - 1], &g->lits[k]) != 0) {
            if (g->ngroup + 1 >= TG_GATE_HIGH) { /* more than 65,533 distinct starts */
                tg_mask_gate_free(g);
                return NULL; /* no gate: every rule runs on every text */
            }
            g->group[g->ngroup++] = (uint32_t)k;
            unsigned char a = (unsigned char)g->lits[k].s[0], b = (unsigned char)g->lits[k].s[1];
            for (int ua = 0; ua < 2; ua++) /* either case of each letter */
                for (int ub = 0; ub < 2; ub++) {
                    unsigned char x[2] = {ua && a >= 'a' && a <= 'z' ? a ^ 0x20u : a,
                                          ub && b >= 'a' && b <= 'z' ? b ^ 0x20u : b};
                    g->pair[tg_pair_at(x)] = (uint16_t)g->ngroup;
                }
        }
    g->group[g->ngroup] = (uint32_t)g->nlit;
    /* the two characters that are caselessly ASCII letters stop the scan:
     * U+017F (an s) and U+212A (a k; E2 84 starts a few others too) */
    static const unsigned char s17f[2] = {0xc5, 0xbf}, k212a[2] = {0xe2, 0x84};
    g->pair[tg_pair_at(s17f)] = g->pair[tg_pair_at(k212a)] = TG_GATE_HIGH;
    return g;
}

void tg_mask_gate_free(struct tg_mask_gate *g)
{
    if (!g)
        return;
    for (size_t k = 0; k < g->nlit; k++)
        free(g->lits[k].s);
    free(g->lits);
    free(g->group);
    free(g->gated);
    free(g);
}

/* What the gate says of a text: no gated rule can match in it, only those
 * with a literal there, or any.  Any: caseless UTF-8 matching lets U+017F
 * be an s and U+212A a k (of all the non-ASCII characters only these two
 * match an ASCII letter, digit or sign caselessly: checked with PCRE2 over
 * every code point), and a text holding one is let through rather than
 * reasoned about.  Other non-ASCII bytes are in no literal. */
enum tg_gate_says { TG_GATE_NONE, TG_GATE_SOME, TG_GATE_ALL };

/* Scan [p, p+len) for the literals (ASCII, caseless); for SOME, lets[r]
 * (false on entry) is set for each rule r that has one there. */
static enum tg_gate_says tg_mask_gate_scan(const struct tg_mask_gate *g, const unsigned char *p,
                                           size_t len, bool *lets)
{
    bool some = false;
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned k = g->pair[tg_pair_at(p + i)];
        if (!k)
            continue;
        if (k == TG_GATE_HIGH)
            return TG_GATE_ALL;
        for (uint32_t e = g->group[k], l = g->group[k - 1]; l < e; l++) {
            const struct tg_mask_lit *lit = &g->lits[l];
            size_t j = 2; /* the pair matched */
            while (j < lit->len && i + j < len && tg_lower(p[i + j]) == (unsigned char)lit->s[j])
                j++;
            if (j == lit->len)
                some = lets[lit->rule] = true;
        }
    }
    return some ? TG_GATE_SOME : TG_GATE_NONE;
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

/* The rules and the gate that picks which of them run on a text. */
struct tg_mask_with {
    struct tg_mask_rule *const *rules;
    const bool *on;
    size_t n;
    const struct tg_mask_gate *gate;
    /* a text the gate found closed (the record, usually): a field cut
     * from it holds no literal either, and is not scanned again */
    struct tg_str closed;
};

/* What the gate says of [p, p+len) (lets: as tg_mask_gate_scan). */
static enum tg_gate_says tg_mask_gate_lets(const struct tg_mask_with *w, const char *p, size_t len,
                                           bool *lets)
{
    const struct tg_mask_gate *g = w->gate;
    if (!g || g->n != w->n)
        return TG_GATE_ALL;
    uintptr_t a = (uintptr_t)p, c = (uintptr_t)w->closed.p;
    if (w->closed.p && a >= c && a + len <= c + w->closed.len)
        return TG_GATE_NONE;
    memset(lets, 0, w->n * sizeof(*lets));
    return tg_mask_gate_scan(g, (const unsigned char *)p, len, lets);
}

/* Add the spans of the rules that are on in [p, p+len): those without
 * literals, and the gated ones the gate lets through (one scan for all). */
static void tg_mask_spans(const struct tg_mask_with *w, const char *p, size_t len,
                          struct tg_spans *s, bool *hit)
{
    bool lets[TG_MASK_MAX_RULES];
    enum tg_gate_says says = tg_mask_gate_lets(w, p, len, lets);
    for (size_t i = 0; i < w->n; i++)
        if (w->on[i] &&
            (says == TG_GATE_ALL || !w->gate->gated[i] || (says == TG_GATE_SOME && lets[i])) &&
            tg_mask_find(w->rules[i], p, len, s))
            hit[i] = true;
}

/* Mask *t with the rules that are on; true when something changed. */
static bool tg_mask_one(const struct tg_mask_with *w, struct tg_event *ev, struct tg_str *t,
                        bool *hit)
{
    if (!t->p || !t->len)
        return false;
    struct tg_spans s = {0};
    tg_mask_spans(w, t->p, t->len, &s, hit);
    bool changed = s.n > 0;
    if (changed) {
        tg_spans_merge(&s);
        *t = tg_mask_copy(ev, t->p, 0, t->len, &s);
    }
    free(s.v);
    return changed;
}

/* Whether a rule may match in the joined args: one that is on runs on
 * every text, or a word holds a literal (none has a space, so none spans
 * two words): most events need no join. */
static bool tg_mask_args_may(const struct tg_mask_with *w, const struct tg_event *ev)
{
    const struct tg_mask_gate *g = w->gate;
    if (!g || g->n != w->n)
        return true;
    for (size_t i = 0; i < w->n; i++)
        if (w->on[i] && !g->gated[i])
            return true;
    bool lets[TG_MASK_MAX_RULES];
    for (size_t k = 0; k < ev->nargs; k++)
        if (tg_mask_gate_lets(w, ev->args[k].p, ev->args[k].len, lets) != TG_GATE_NONE)
            return true;
    return false;
}

/* process.args: matched as the words joined by single spaces, the spans
 * cut back into the words. */
static bool tg_mask_args(const struct tg_mask_with *w, struct tg_event *ev, bool *hit)
{
    if (!ev->nargs || !tg_mask_args_may(w, ev))
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
    tg_mask_spans(w, j.data ? j.data : "", j.len, &s, hit);
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

bool tg_mask_event(struct tg_mask_rule *const *rules, const bool *on, size_t n,
                   const struct tg_mask_gate *gate, const uint8_t *key, size_t keylen,
                   struct tg_event *ev, bool *hit)
{
    memset(hit, 0, n * sizeof(*hit));
    struct tg_mask_with w = {rules, on, n < TG_MASK_MAX_RULES ? n : TG_MASK_MAX_RULES, gate,
                             TG_STR_NULL};
    struct tg_str orig = ev->original;
    bool lets[TG_MASK_MAX_RULES];
    if (orig.p && tg_mask_gate_lets(&w, orig.p, orig.len, lets) == TG_GATE_NONE)
        w.closed = orig;
    bool any = tg_mask_one(&w, ev, &orig, hit);
    any |= tg_mask_one(&w, ev, &ev->command_line, hit);
    any |= tg_mask_args(&w, ev, hit);
    any |= tg_mask_one(&w, ev, &ev->db_statement, hit);
    any |= tg_mask_one(&w, ev, &ev->sudo_command, hit);
    any |= tg_mask_one(&w, ev, &ev->sudo_data, hit);
    any |= tg_mask_one(&w, ev, &ev->policy.reason, hit);
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
