/*
 * sieve.c - the [filter] stage.  See sieve.h.
 *
 * A rule keeps its matchers as lists of shell patterns (fnmatch: "web*",
 * "/usr/lib/..."; host names case-insensitive) and its command matcher as a
 * compiled PCRE2 pattern.  The mask rules of the stage are one array: the
 * built-in ones first (core/mask.h), then the [filter.NAME] mask rules;
 * per event, the built-ins are on and a user's mask rule is on when its
 * matchers match, and core/mask.c masks with all that are on in one pass
 * per text.  Counters are relaxed atomics in the rules; /metrics and the
 * summary line read them.
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/errors.h"
#include "core/fileio.h"
#include "core/sieve.h"
#include "core/json.h"
#include "core/mask.h"
#include "core/mem.h"
#include "core/metrics.h"

static const char *const tg_sieve_actions[] = {"none", "drop", "sample", "mask", NULL};

#define OFF(f) offsetof(struct tg_sieve_conf, f)
static const struct tg_opt tg_sieve_opts[] = {
    {"action", TG_OPT_ENUM, "none", OFF(action),
     "[filter.NAME]: drop (not written to any sink), sample (one in `rate` kept) or mask (the "
     "capture groups of `pattern` become ****); none only in [filter]",
     tg_sieve_actions},
    {"dataset", TG_OPT_STR, NULL, OFF(dataset),
     "[filter.NAME]: event.dataset values the rule applies to (comma-separated); empty: any"},
    {"host", TG_OPT_STR, NULL, OFF(host),
     "[filter.NAME]: host.name patterns (comma-separated, * and ? as in the shell, any case); "
     "empty: any"},
    {"user", TG_OPT_STR, NULL, OFF(user),
     "[filter.NAME]: user.name patterns (comma-separated; the name the snapshot gives a "
     "uid-only record counts); empty: any"},
    {"executable", TG_OPT_STR, NULL, OFF(executable),
     "[filter.NAME]: process.executable patterns (comma-separated; the first argument when the "
     "record has no executable; one without '/' matches process.name); empty: any"},
    {"command", TG_OPT_STR, NULL, OFF(command),
     "[filter.NAME]: PCRE2 pattern that process.command_line (or the SQL statement) must "
     "match; empty: any"},
    {"rate", TG_OPT_INT, "10", OFF(rate),
     "[filter.NAME] action = sample: keep one in this many matching events (chosen by event.id, "
     "so a resent record gets the same choice)",
     NULL, 2, 1000000000},
    {"pattern", TG_OPT_STR, NULL, OFF(pattern),
     "[filter.NAME] action = mask: PCRE2 pattern whose capture groups (the whole match without "
     "groups) are replaced by ****"},
    {"mask_secrets", TG_OPT_BOOL, "true", OFF(mask_secrets),
     "[filter]: mask the secrets of the built-in rules (mysql -p, --password=, IDENTIFIED BY, "
     "URL credentials and tokens, Authorization headers, *_PASSWORD=...; README lists them)"},
    {"hash_key_file", TG_OPT_STR, NULL, OFF(hash_key_file),
     "[filter]: file with a secret key (at least 16 bytes): event.hash of a masked event is then "
     "HMAC-SHA-256 with it instead of SHA-256, so the hash cannot be used to test guesses of "
     "the secret; empty: SHA-256"},
    {NULL},
};

/* A pattern that must compile: NULL, or the error in a static buffer. */
static const char *tg_sieve_re_error(const char *key, const char *re)
{
    static char msg[400]; /* config checks run on the main thread */
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (c) {
        pcre2_code_free(c);
        return NULL;
    }
    PCRE2_UCHAR err[256];
    pcre2_get_error_message(code, err, sizeof(err));
    snprintf(msg, sizeof(msg), "%s is not a valid PCRE2 pattern: %s at offset %zu", key,
             (const char *)err, (size_t)off);
    return msg;
}

static const char *tg_sieve_check(const void *section)
{
    const struct tg_sieve_conf *c = section;
    bool matchers = c->dataset || c->host || c->user || c->executable || c->command;
    if (!c->name[0]) {
        if (c->action != TG_SIEVE_NONE || matchers || c->pattern)
            return "action, dataset, host, user, executable, command and pattern belong to a "
                   "rule: put it into a section of its own, [filter.NAME]";
        return NULL;
    }
    if (c->hash_key_file || !c->mask_secrets)
        return "mask_secrets and hash_key_file are settings of the whole stage: set them in "
               "[filter]";
    if (c->action == TG_SIEVE_NONE)
        return "action is required in a rule: drop, sample or mask";
    if (c->action != TG_SIEVE_MASK && !matchers)
        return "action = drop or sample needs at least one of dataset, host, user, executable, "
               "command: a rule that matches every event would drop the audit trail";
    if (c->action != TG_SIEVE_MASK && c->pattern)
        return "pattern is for action = mask";
    if (c->action == TG_SIEVE_MASK && !c->pattern)
        return "pattern is required for action = mask (a PCRE2 pattern whose capture groups are "
               "the secret)";
    const char *e = c->command ? tg_sieve_re_error("command", c->command) : NULL;
    if (!e && c->pattern)
        e = tg_sieve_re_error("pattern", c->pattern);
    return e;
}

const struct tg_section_def tg_sieve_section = {
    .name = "filter",
    .multi = true,
    .doc = "Noise and secrets: [filter] holds the stage's settings, each [filter.NAME] is a rule "
           "(drop, sample or mask) for the events its matchers choose; dropped events are "
           "counted per rule and still confirmed to the spool, denies are never dropped.",
    .opts = tg_sieve_opts,
    .size = sizeof(struct tg_sieve_conf),
    .name_offset = OFF(name),
    .check = tg_sieve_check,
};

/* ------------------------------------------------------------- the rules */

struct tg_sieve_list {
    char **v;
    size_t n;
};

struct tg_sieve_rule {
    char *name;
    enum tg_sieve_action action;
    struct tg_sieve_list dataset, host, user, executable;
    pcre2_code *command;
    int64_t rate;
    size_t mask; /* action mask: index into the stage's mask rules */
    atomic_uint_fast64_t matched, dropped, protected_, masked;
};

struct tg_sieve {
    struct tg_sieve_rule *rules; /* the [filter.NAME] rules, in file order */
    size_t nrules;
    struct tg_mask_rule **masks; /* built-ins, then the mask rules */
    struct tg_mask_gate *gate;   /* of masks */
    size_t nmasks, nbuiltin;
    atomic_uint_fast64_t *builtin_masked; /* per built-in mask */
    size_t *mask_owner;                   /* per mask: its rule index, or SIZE_MAX (built-in) */
    uint8_t *key;                         /* hash_key_file, or NULL */
    size_t keylen;
};

static void tg_sieve_list_parse(struct tg_sieve_list *l, const char *v)
{
    memset(l, 0, sizeof(*l));
    if (!v)
        return;
    size_t cap = 1;
    for (const char *p = v; *p; p++)
        cap += *p == ',';
    l->v = tg_xcalloc(cap, sizeof(*l->v));
    for (const char *p = v; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n)
            l->v[l->n++] = tg_xstrndup(p, n);
        p += strcspn(p, ",");
    }
}

static void tg_sieve_list_free(struct tg_sieve_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Does s match one of the list's patterns (an empty list: yes)?  An absent
 * field matches no pattern. */
static bool tg_sieve_in(const struct tg_sieve_list *l, struct tg_str s, int flags)
{
    if (!l->n)
        return true;
    char buf[1024];
    if (!s.p || s.len >= sizeof(buf))
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], buf, flags) == 0)
            return true;
    return false;
}

static struct tg_str tg_sieve_dataset(const struct tg_event *ev)
{
    return ev->dataset == TG_DS_INTERNAL && ev->dataset_name.p
               ? ev->dataset_name
               : tg_str_c(tg_dataset_name[ev->dataset]);
}

static bool tg_sieve_matches(const struct tg_sieve_rule *r, const struct tg_event *ev)
{
    if (!tg_sieve_in(&r->dataset, tg_sieve_dataset(ev), 0) ||
        !tg_sieve_in(&r->host, ev->host_name, FNM_CASEFOLD) ||
        !tg_sieve_in(&r->user, ev->user_name, 0))
        return false;
    if (r->executable.n) {
        bool hit = false;
        for (size_t i = 0; i < r->executable.n && !hit; i++) {
            struct tg_sieve_list one = {&r->executable.v[i], 1};
            struct tg_str path = ev->executable.p ? ev->executable
                                 : ev->nargs      ? ev->args[0]
                                                  : TG_STR_NULL;
            hit = tg_sieve_in(
                &one, strchr(r->executable.v[i], '/') ? path : tg_event_process_name(ev), 0);
        }
        if (!hit)
            return false;
    }
    if (r->command) {
        struct tg_str t = ev->command_line.p ? ev->command_line : ev->db_statement;
        if (!t.p)
            return false;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->command, NULL);
        int rc = pcre2_match(r->command, (PCRE2_SPTR)t.p, t.len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (rc < 0)
            return false;
    }
    return true;
}

static void tg_sieve_rule_free(struct tg_sieve_rule *r)
{
    free(r->name);
    tg_sieve_list_free(&r->dataset);
    tg_sieve_list_free(&r->host);
    tg_sieve_list_free(&r->user);
    tg_sieve_list_free(&r->executable);
    pcre2_code_free(r->command);
}

static void tg_sieve_add_mask(struct tg_sieve *f, struct tg_mask_rule *m, size_t owner)
{
    f->masks = tg_xrealloc(f->masks, (f->nmasks + 1) * sizeof(*f->masks));
    f->mask_owner = tg_xrealloc(f->mask_owner, (f->nmasks + 1) * sizeof(*f->mask_owner));
    f->masks[f->nmasks] = m;
    f->mask_owner[f->nmasks++] = owner;
}

/* hash_key_file: its bytes, at least 16. */
static int tg_sieve_key(struct tg_sieve *f, const char *path, char **err)
{
    FILE *fp = fopen(path, "rb");
    uint8_t buf[4096];
    size_t n = fp ? fread(buf, 1, sizeof(buf), fp) : 0;
    if (fp)
        fclose(fp);
    if (!fp || n < 16) {
        *err = tg_xasprintf("[filter] hash_key_file %s: %s; give a file of at least 16 random "
                            "bytes readable by the collector (head -c 32 /dev/urandom > FILE)",
                            path, !fp ? "cannot be read" : "shorter than 16 bytes");
        return fp ? TG_EINVAL : TG_EIO;
    }
    f->key = tg_xmalloc(n);
    memcpy(f->key, buf, n);
    f->keylen = n;
    return 0;
}

int tg_sieve_new(const struct tg_config *cfg, struct tg_sieve **out, char **err)
{
    struct tg_sieve *f = tg_xcalloc(1, sizeof(*f));
    struct tg_sieve_conf defaults, *stage = &defaults;
    memset(&defaults, 0, sizeof(defaults));
    tg_config_defaults(&tg_sieve_section, &defaults);
    size_t it = 0, nsec = 0;
    struct tg_sieve_conf *c;
    while ((c = tg_config_next(cfg, "filter", &it)) != NULL) {
        if (!c->name[0])
            stage = c;
        else
            nsec++;
    }
    int rc = 0;
    *err = NULL;
    if (stage->mask_secrets)
        for (size_t i = 0; tg_mask_builtins[i].name && rc == 0; i++) {
            struct tg_mask_rule *m;
            char name[64];
            snprintf(name, sizeof(name), "secrets.%s", tg_mask_builtins[i].name);
            rc = tg_mask_rule_new(name, tg_mask_builtins[i].pattern, tg_mask_builtins[i].need, &m,
                                  err);
            if (rc == 0)
                tg_sieve_add_mask(f, m, SIZE_MAX);
        }
    f->nbuiltin = f->nmasks;
    f->builtin_masked = tg_xcalloc(f->nbuiltin + 1, sizeof(*f->builtin_masked));
    f->rules = tg_xcalloc(nsec + 1, sizeof(*f->rules));
    it = 0;
    while (rc == 0 && (c = tg_config_next(cfg, "filter", &it)) != NULL) {
        if (!c->name[0])
            continue;
        struct tg_sieve_rule *r = &f->rules[f->nrules++];
        r->name = tg_xstrdup(c->name);
        r->action = (enum tg_sieve_action)c->action;
        r->rate = c->rate;
        tg_sieve_list_parse(&r->dataset, c->dataset);
        tg_sieve_list_parse(&r->host, c->host);
        tg_sieve_list_parse(&r->user, c->user);
        tg_sieve_list_parse(&r->executable, c->executable);
        if (c->command) {
            int code;
            PCRE2_SIZE off;
            r->command = pcre2_compile((PCRE2_SPTR)c->command, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
            if (!r->command) {
                *err = tg_xasprintf("[filter.%s] command is not a valid PCRE2 pattern", c->name);
                rc = TG_EINVAL;
                break;
            }
            pcre2_jit_compile(r->command, PCRE2_JIT_COMPLETE);
        }
        if (r->action == TG_SIEVE_MASK) {
            struct tg_mask_rule *m;
            rc = tg_mask_rule_new(c->name, c->pattern, NULL, &m, err);
            if (rc == 0) {
                r->mask = f->nmasks;
                tg_sieve_add_mask(f, m, f->nrules - 1);
            }
        }
    }
    if (rc == 0 && f->nmasks)
        f->gate = tg_mask_gate_new(f->masks, f->nmasks);
    if (rc == 0 && stage->hash_key_file)
        rc = tg_sieve_key(f, stage->hash_key_file, err);
    if (rc != 0) {
        tg_sieve_free(f);
        f = NULL;
    }
    *out = f;
    return rc;
}

void tg_sieve_free(struct tg_sieve *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nrules; i++)
        tg_sieve_rule_free(&f->rules[i]);
    free(f->rules);
    tg_mask_gate_free(f->gate);
    for (size_t i = 0; i < f->nmasks; i++)
        tg_mask_rule_free(f->masks[i]);
    free(f->masks);
    free(f->mask_owner);
    free(f->builtin_masked);
    free(f->key);
    free(f);
}

/* ------------------------------------------------------------- applying */

static void tg_sieve_inc(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Keep one in r->rate, by the event.id's first 32 bits. */
static bool tg_sieve_sampled_in(const struct tg_sieve_rule *r, const struct tg_event *ev)
{
    uint32_t h = 0;
    for (int i = 0; i < 8; i++) {
        char c = ev->id[i];
        h = h << 4 | (uint32_t)(c >= 'a' ? c - 'a' + 10 : c - '0');
    }
    return h % (uint64_t)r->rate == 0;
}

void tg_sieve_event(struct tg_sieve *f, struct tg_event *ev)
{
    if (!f || ev->dataset == TG_DS_INTERNAL) {
        tg_event_id(ev);
        return;
    }
    struct tg_sieve_rule *decider = NULL;
    bool on[TG_MASK_MAX_RULES], hit[TG_MASK_MAX_RULES];
    size_t nm = f->nmasks < TG_MASK_MAX_RULES ? f->nmasks : TG_MASK_MAX_RULES;
    for (size_t i = 0; i < nm; i++)
        on[i] = f->mask_owner[i] == SIZE_MAX;
    for (size_t i = 0; i < f->nrules; i++) {
        struct tg_sieve_rule *r = &f->rules[i];
        if ((r->action != TG_SIEVE_MASK && decider) || !tg_sieve_matches(r, ev))
            continue;
        tg_sieve_inc(&r->matched);
        if (r->action == TG_SIEVE_MASK) {
            if (r->mask < nm)
                on[r->mask] = true;
            continue;
        }
        if (ev->policy.decision == TG_DECISION_DENY || ev->policy.drift) {
            tg_sieve_inc(&r->protected_); /* a deny is never noise */
            decider = r;
            continue;
        }
        decider = r;
        if (r->action == TG_SIEVE_DROP) {
            tg_sieve_inc(&r->dropped);
            ev->filtered = true;
            return;
        }
    }
    if (nm && tg_mask_event(f->masks, on, nm, f->gate, f->key, f->keylen, ev, hit))
        for (size_t i = 0; i < nm; i++)
            if (hit[i])
                tg_sieve_inc(f->mask_owner[i] == SIZE_MAX ? &f->builtin_masked[i]
                                                          : &f->rules[f->mask_owner[i]].masked);
    tg_event_id(ev); /* over the masked record (filter.h) */
    if (!decider || decider->action != TG_SIEVE_SAMPLE || ev->policy.decision == TG_DECISION_DENY ||
        ev->policy.drift)
        return;
    if (!tg_sieve_sampled_in(decider, ev)) {
        tg_sieve_inc(&decider->dropped);
        ev->filtered = true;
        return;
    }
    char data[200];
    struct tg_buf b = TG_BUF_INIT;
    tg_buf_puts(&b, "{\"rule\":");
    tg_json_str(&b, decider->name, strlen(decider->name), NULL);
    int n = snprintf(data, sizeof(data), ",\"rate\":%" PRId64 "}", decider->rate);
    tg_buf_append(&b, data, (size_t)n);
    ev->filter_data = tg_event_strdup(ev, b.data, b.len);
    tg_buf_free(&b);
}

/* ------------------------------------------------------------- counters */

static uint64_t tg_sieve_get(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

uint64_t tg_sieve_dropped(const struct tg_sieve *f)
{
    uint64_t n = 0;
    for (size_t i = 0; f && i < f->nrules; i++)
        n += tg_sieve_get(&f->rules[i].dropped);
    return n;
}

static void tg_sieve_family(struct tg_buf *out, const char *name, const char *help)
{
    tg_buf_printf(out,
                  "# HELP trailguard_filter_%s_total %s\n# TYPE trailguard_filter_%s_total "
                  "counter\n",
                  name, help, name);
}

static void tg_sieve_row(struct tg_buf *out, const char *family, const char *rule, uint64_t v)
{
    tg_buf_printf(out, "trailguard_filter_%s_total{rule=\"", family);
    tg_metrics_label(out, rule);
    tg_buf_printf(out, "\"} %" PRIu64 "\n", v);
}

void tg_sieve_render(const struct tg_sieve *f, struct tg_buf *out)
{
    if (!f)
        return;
    static const struct {
        const char *family, *help;
    } fam[] = {
        {"matched", "events a [filter.NAME] rule matched"},
        {"dropped", "events a drop rule dropped or a sample rule left out (still confirmed to the "
                    "spool)"},
        {"protected", "events a drop or sample rule matched but kept: the policy denies them or "
                      "they show drift"},
        {"masked", "events in which a mask rule (secrets.*: the built-in ones) masked something"},
    };
    for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
        bool any = k == 3 ? f->nmasks > 0 : f->nrules > 0;
        if (!any)
            continue;
        tg_sieve_family(out, fam[k].family, fam[k].help);
        for (size_t i = 0; i < f->nrules; i++) {
            const struct tg_sieve_rule *r = &f->rules[i];
            const atomic_uint_fast64_t *c = k == 0   ? &r->matched
                                            : k == 1 ? &r->dropped
                                            : k == 2 ? &r->protected_
                                                     : &r->masked;
            if ((k == 3) != (r->action == TG_SIEVE_MASK) && k != 0)
                continue; /* dropped, protected: drop and sample rules; masked: mask rules */
            tg_sieve_row(out, fam[k].family, r->name, tg_sieve_get(c));
        }
        for (size_t i = 0; k == 3 && i < f->nbuiltin; i++)
            tg_sieve_row(out, fam[k].family, tg_mask_rule_name(f->masks[i]),
                         tg_sieve_get(&f->builtin_masked[i]));
    }
}

void tg_sieve_summary(const struct tg_sieve *f, struct tg_buf *out)
{
    bool first = true;
    for (size_t i = 0; f && i < f->nrules; i++) {
        const struct tg_sieve_rule *r = &f->rules[i];
        uint64_t m = tg_sieve_get(&r->matched), masked = tg_sieve_get(&r->masked);
        if (r->action == TG_SIEVE_MASK ? !masked : !m)
            continue;
        if (r->action == TG_SIEVE_MASK)
            tg_buf_printf(out, "%s%s masked=%" PRIu64, first ? " filter: " : "; ", r->name, masked);
        else
            tg_buf_printf(out, "%s%s matched=%" PRIu64 " dropped=%" PRIu64 " protected=%" PRIu64,
                          first ? " filter: " : "; ", r->name, m, tg_sieve_get(&r->dropped),
                          tg_sieve_get(&r->protected_));
        first = false;
    }
    uint64_t masked = 0;
    for (size_t i = 0; f && i < f->nbuiltin; i++)
        masked += tg_sieve_get(&f->builtin_masked[i]);
    if (masked)
        tg_buf_printf(out, "%ssecrets masked=%" PRIu64, first ? " filter: " : "; ", masked);
}
