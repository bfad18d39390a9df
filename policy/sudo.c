/*
 * sudo.c - the sudo rule model (construction helpers used by the loaders)
 * and its evaluation.  See sudo.h for the semantics.
 *
 * Matching mirrors sudo's structure on purpose (userlist -> hostlist ->
 * runaslist -> command, each list scanned from its end, ALLOW/DENY/UNSPEC
 * results, aliases recursing with negation flipping) so that each function
 * here can be read side by side with sudo's match.c.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/mem.h"
#include "policy/sudo.h"

#define TG_ALIAS_DEPTH 64

/* ------------------------------------------------------------ construction */

struct tg_sudo_spec *tg_sudo_spec_new(struct tg_snapshot_data *d, const char *name,
                                      const char *file, int line)
{
    d->sudo = tg_xgrow(d->sudo, d->nsudo, &d->capsudo, sizeof(*d->sudo), 32);
    struct tg_sudo_spec *s = &d->sudo[d->nsudo++];
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->file = file;
    s->line = line;
    s->order = (double)d->nsudo;
    return s;
}

struct tg_sudo_priv *tg_sudo_priv_new(struct tg_sudo_spec *s)
{
    s->privs = tg_xgrow(s->privs, s->nprivs, &s->capprivs, sizeof(*s->privs), 2);
    struct tg_sudo_priv *p = &s->privs[s->nprivs++];
    memset(p, 0, sizeof(*p));
    return p;
}

struct tg_sudo_cmndspec *tg_sudo_cs_new(struct tg_sudo_priv *p)
{
    p->cs = tg_xgrow(p->cs, p->ncs, &p->capcs, sizeof(*p->cs), 4);
    struct tg_sudo_cmndspec *cs = &p->cs[p->ncs++];
    memset(cs, 0, sizeof(*cs));
    cs->notbefore = INT64_MIN;
    cs->notafter = INT64_MAX;
    return cs;
}

struct tg_sudo_member *tg_sudo_list_add(struct tg_sudo_list *l)
{
    l->v = tg_xgrow(l->v, l->n, &l->cap, sizeof(*l->v), 4);
    struct tg_sudo_member *m = &l->v[l->n++];
    memset(m, 0, sizeof(*m));
    return m;
}

struct tg_sudo_list *tg_sudo_list_new(struct tg_snapshot_data *d)
{
    d->lists = tg_xgrow(d->lists, d->nlists, &d->caplists, sizeof(*d->lists), 16);
    struct tg_sudo_list *l = tg_xcalloc(1, sizeof(*l));
    d->lists[d->nlists++] = l;
    return l;
}

int64_t tg_sudo_gentime(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) < 4)
        return INT64_MIN;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* An IPv4/IPv6 address or network ("10.20.0.0/16", "fe80::1"), as opposed
 * to a host name: only digits, hex, '.', ':' and '/', and either a ':' or a
 * leading digit with a '.'. */
static bool tg_is_addr(const char *v)
{
    if (v[strspn(v, "0123456789abcdefABCDEF.:/")] != '\0')
        return false;
    if (strchr(v, ':'))
        return true;
    return v[0] >= '0' && v[0] <= '9' && strchr(v, '.');
}

void tg_sudo_member_parse(struct tg_snapshot_data *d, struct tg_sudo_member *m, const char *v,
                          bool host)
{
    while (*v == '!') {
        m->negated = !m->negated;
        v++;
    }
    while (*v == ' ')
        v++;
    m->str = tg_snap_strdup(d, v, strlen(v));
    if (*v == '\0') {
        m->type = TG_SM_MYSELF;
    } else if (strcmp(v, "ALL") == 0) {
        m->type = TG_SM_ALL;
    } else if (v[0] == '+') {
        m->type = TG_SM_NETGROUP;
        m->str++;
    } else if (!host && v[0] == '%' && v[1] == '#') {
        m->type = TG_SM_GID;
        m->num = strtoll(v + 2, NULL, 10);
    } else if (!host && v[0] == '%') {
        m->type = TG_SM_GROUP;
        m->str += v[1] == ':' ? 2 : 1;
    } else if (!host && v[0] == '#' && v[1]) {
        m->type = TG_SM_ID;
        m->num = strtoll(v + 1, NULL, 10);
    } else if (host && tg_is_addr(v)) {
        m->type = TG_SM_NETADDR;
    } else {
        m->type = TG_SM_NAME;
    }
}

static pcre2_code *tg_re_compile(struct tg_snapshot_data *d, const char *re, const char **err)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
    if (!c) {
        *err = "invalid regular expression; the command never matches";
        return NULL;
    }
    d->res = tg_xgrow(d->res, d->nres, &d->capres, sizeof(*d->res), 8);
    d->res[d->nres++] = c;
    return c;
}

int tg_sudo_cmd_parse(struct tg_snapshot_data *d, struct tg_sudo_member *m, const char *text,
                      const char **err)
{
    while (*text == '!') {
        m->negated = !m->negated;
        text++;
    }
    while (*text == ' ' || *text == '\t')
        text++;
    if (strcmp(text, "ALL") == 0) {
        m->type = TG_SM_ALL;
        return 0;
    }
    /* digest prefix "sha256:HASH " (not checked offline) */
    if (strncmp(text, "sha", 3) == 0 && strchr(text, ':') &&
        strchr(text, ':') < strchr(text, ' ')) {
        text = strchr(text, ' ');
        while (*text == ' ')
            text++;
    }
    size_t plen = strcspn(text, " \t");
    const char *args = text + plen;
    while (*args == ' ' || *args == '\t')
        args++;
    struct tg_sudo_cmd *c = tg_arena_alloc(&d->arena, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->path = tg_snap_strdup(d, text, plen);
    if (strcmp(c->path, "/usr/bin/sudoedit") == 0)
        c->path = "sudoedit";
    else if (c->path[0] == '/') /* sudo finds the file: /usr//bin/../bin/x is /usr/bin/x */
        tg_sudo_path_clean(c->path, c->path, plen + 1);
    c->args = *args ? tg_snap_strdup(d, args, strlen(args)) : NULL;
    if (c->args) { /* trailing blanks are not part of the pattern */
        size_t al = strlen(c->args);
        while (al && (c->args[al - 1] == ' ' || c->args[al - 1] == '\t'))
            c->args[--al] = '\0';
    }
    m->type = TG_SM_CMD;
    m->cmd = c;
    m->str = c->path;
    if (c->path[0] == '^') {
        c->path_re = tg_re_compile(d, c->path, err);
        if (!c->path_re)
            return TG_EINVAL;
    } else if (c->path[0] != '/' && strcmp(c->path, "sudoedit") != 0 &&
               strcmp(c->path, "list") != 0) {
        *err = "not a full path, ALL, sudoedit or a ^regex$; the command never matches";
        return TG_EINVAL;
    }
    if (c->args && c->args[0] == '^' && c->args[strlen(c->args) - 1] == '$') {
        c->args_re = tg_re_compile(d, c->args, err);
        if (!c->args_re)
            return TG_EINVAL;
    }
    c->has_meta = strpbrk(c->path, "\\?*[]") != NULL && !c->path_re;
    if (c->path[0] == '/' && !c->has_meta)
        tg_strmap_put(&d->cmd_paths, c->path, strlen(c->path), 1);
    return 0;
}

/* ------------------------------------------------------------------ index */

struct tg_pairs {
    uint32_t *key, *spec;
    size_t n, cap;
};

static void tg_pair(struct tg_pairs *p, uint32_t key, uint32_t spec)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->key = tg_xrealloc(p->key, p->cap * sizeof(*p->key));
        p->spec = tg_xrealloc(p->spec, p->cap * sizeof(*p->spec));
    }
    p->key[p->n] = key;
    p->spec[p->n++] = spec;
}

/* CSR over (key, spec) pairs given in ascending spec order. */
static void tg_csr_from(struct tg_csr *c, uint32_t nkeys, const struct tg_pairs *p)
{
    c->off = tg_xcalloc(nkeys + 2, sizeof(*c->off));
    c->rules = tg_xmalloc((p->n + 1) * sizeof(*c->rules));
    for (size_t i = 0; i < p->n; i++)
        c->off[p->key[i] + 2]++;
    for (uint32_t k = 0; k < nkeys; k++)
        c->off[k + 2] += c->off[k + 1];
    for (size_t i = 0; i < p->n; i++)
        c->rules[c->off[p->key[i] + 1]++] = p->spec[i];
}

/* Collect the keys under which spec `si` can match; false when the list can
 * match users some other way (ALL, negation, ids, netgroups). */
static bool tg_keys(struct tg_snapshot_data *d, const struct tg_sudo_list *l, uint32_t si,
                    struct tg_pairs *byu, struct tg_pairs *byg, int depth)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct tg_sudo_member *m = &l->v[i];
        if (m->type == TG_SM_BROKEN || m->type == TG_SM_NETADDR)
            continue; /* never matches a user */
        if (m->negated || depth > TG_ALIAS_DEPTH)
            return false;
        if (m->type == TG_SM_NAME && m->str[0] != '#') {
            uint32_t k =
                tg_strmap_put(&d->sudo_ukeys, m->str, strlen(m->str), (uint32_t)d->sudo_ukeys.n);
            tg_pair(byu, k, si);
        } else if (m->type == TG_SM_GROUP) {
            uint32_t g = tg_snap_find(d, TG_NS_GROUP, m->str, strlen(m->str));
            if (g != TG_STRMAP_NONE)
                tg_pair(byg, g, si);
        } else if (m->type == TG_SM_ALIAS) {
            if (!tg_keys(d, m->alias, si, byu, byg, depth + 1))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static int tg_gidcmp(const void *a, const void *b)
{
    const struct tg_gid_group *x = a, *y = b;
    return x->gid < y->gid ? -1 : x->gid > y->gid;
}

void tg_sudo_index(struct tg_snapshot_data *d)
{
    struct tg_pairs byu = {0}, byg = {0};
    tg_strmap_init(&d->sudo_ukeys);
    d->sudo_always = tg_xmalloc((d->nsudo + 1) * sizeof(*d->sudo_always));
    for (size_t i = 0; i < d->nsudo; i++) {
        struct tg_pairs u1 = {0}, g1 = {0};
        if (tg_keys(d, &d->sudo[i].users, (uint32_t)i, &u1, &g1, 0)) {
            for (size_t k = 0; k < u1.n; k++)
                tg_pair(&byu, u1.key[k], u1.spec[k]);
            for (size_t k = 0; k < g1.n; k++)
                tg_pair(&byg, g1.key[k], g1.spec[k]);
        } else {
            d->sudo_always[d->nsudo_always++] = (uint32_t)i;
        }
        free(u1.key);
        free(u1.spec);
        free(g1.key);
        free(g1.spec);
    }
    tg_csr_from(&d->sudo_by_user, (uint32_t)d->sudo_ukeys.n, &byu);
    tg_csr_from(&d->sudo_by_group, d->ns[TG_NS_GROUP].n, &byg);
    free(byu.key);
    free(byu.spec);
    free(byg.key);
    free(byg.spec);
    const struct tg_nstable *gt = &d->ns[TG_NS_GROUP];
    d->gid_groups = tg_xmalloc((gt->n + 1) * sizeof(*d->gid_groups));
    for (uint32_t g = 0; g < gt->n; g++)
        if (gt->v[g].gid >= 0)
            d->gid_groups[d->ngid_groups++] = (struct tg_gid_group){gt->v[g].gid, g};
    qsort(d->gid_groups, d->ngid_groups, sizeof(*d->gid_groups), tg_gidcmp);
}

/* Candidate specs for a user, descending (evaluation order), deduplicated. */
struct tg_cands {
    uint32_t *v;
    size_t n, cap;
    uint32_t stack[256];
};

static void tg_cand_add(struct tg_cands *c, const uint32_t *v, size_t n)
{
    if (c->n + n > c->cap) {
        size_t cap = (c->n + n) * 2;
        uint32_t *nv = tg_xmalloc(cap * sizeof(*nv));
        memcpy(nv, c->v, c->n * sizeof(*nv));
        if (c->v != c->stack)
            free(c->v);
        c->v = nv;
        c->cap = cap;
    }
    memcpy(c->v + c->n, v, n * sizeof(*v));
    c->n += n;
}

static int tg_desc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x > y ? -1 : x < y;
}

static void tg_candidates(const struct tg_snapshot_data *d, const char *user,
                          const struct tg_entity *e, struct tg_cands *c)
{
    c->v = c->stack;
    c->n = 0;
    c->cap = sizeof(c->stack) / sizeof(c->stack[0]);
    tg_cand_add(c, d->sudo_always, d->nsudo_always);
    uint32_t k = tg_strmap_get(&d->sudo_ukeys, user, strlen(user));
    const struct tg_csr *bu = &d->sudo_by_user, *bg = &d->sudo_by_group;
    if (k != TG_STRMAP_NONE)
        tg_cand_add(c, bu->rules + bu->off[k], bu->off[k + 1] - bu->off[k]);
    if (e) {
        for (uint32_t j = 0; j < e->closure.n; j++) {
            uint32_t g = e->closure.v[j];
            tg_cand_add(c, bg->rules + bg->off[g], bg->off[g + 1] - bg->off[g]);
        }
        /* groups whose gid is the user's primary gid */
        size_t lo = 0, hi = d->ngid_groups;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (d->gid_groups[mid].gid < e->gid)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; e->gid >= 0 && lo < d->ngid_groups && d->gid_groups[lo].gid == e->gid; lo++) {
            uint32_t g = d->gid_groups[lo].group;
            tg_cand_add(c, bg->rules + bg->off[g], bg->off[g + 1] - bg->off[g]);
        }
    }
    qsort(c->v, c->n, sizeof(*c->v), tg_desc);
    size_t o = 0;
    for (size_t i = 0; i < c->n; i++)
        if (o == 0 || c->v[o - 1] != c->v[i])
            c->v[o++] = c->v[i];
    c->n = o;
}

/* ------------------------------------------------------------- evaluation */

struct tg_who {
    const char *name;
    const struct tg_entity *e; /* NULL: not in the snapshot */
};

static const struct tg_snapshot_data *tg_data(const struct tg_snapshot *s)
{
    return &s->d;
}

/* sudo's usergr_matches: primary group or supplementary (transitive) group. */
static bool tg_user_in_group(const struct tg_snapshot *s, const struct tg_who *u, const char *grp)
{
    if (!u->e)
        return false;
    uint32_t gid = tg_snap_find(tg_data(s), TG_NS_GROUP, grp, strlen(grp));
    if (gid == TG_STRMAP_NONE)
        return false;
    const struct tg_entity *g = &tg_data(s)->ns[TG_NS_GROUP].v[gid];
    if (u->e->gid >= 0 && g->gid == u->e->gid)
        return true;
    return tg_idlist_has(&u->e->closure, gid);
}

static bool tg_user_has_gid(const struct tg_snapshot *s, const struct tg_who *u, int64_t gid)
{
    if (!u->e)
        return false;
    if (u->e->gid == gid)
        return true;
    for (uint32_t k = 0; k < u->e->closure.n; k++)
        if (tg_data(s)->ns[TG_NS_GROUP].v[u->e->closure.v[k]].gid == gid)
            return true;
    return false;
}

/* innetgr(netgroup, host, user): NULL host/user = don't care. */
static bool tg_innetgr(const struct tg_snapshot *s, const char *ng, const char *host,
                       const char *shost, const char *user, int depth)
{
    uint32_t id = tg_snap_find(tg_data(s), TG_NS_NETGROUP, ng, strlen(ng));
    if (id == TG_STRMAP_NONE || depth > TG_ALIAS_DEPTH)
        return false;
    const struct tg_entity *e = &tg_data(s)->ns[TG_NS_NETGROUP].v[id];
    for (size_t i = 0; i < e->ntriples; i++) {
        const struct tg_netgr_triple *t = &e->triples[i];
        bool hok = !host || !t->host || strcasecmp(t->host, host) == 0 ||
                   (shost && strcasecmp(t->host, shost) == 0);
        bool uok = !user || !t->user || strcmp(t->user, user) == 0;
        if (hok && uok)
            return true;
    }
    for (uint32_t k = 0; k < e->children.n; k++)
        if (tg_innetgr(s, tg_data(s)->ns[TG_NS_NETGROUP].v[e->children.v[k]].name, host, shost,
                       user, depth + 1))
            return true;
    return false;
}

/* A member's own test (never called for ALL or an alias): does it name what
 * is asked?  ctx is the list kind's question. */
typedef bool (*tg_member_hit)(const struct tg_sudo_member *m, const void *ctx);

static int tg_list_match(const struct tg_sudo_list *l, tg_member_hit hit, const void *ctx,
                         int depth);

/* One member: ALL matches, an alias is its own list, anything else asks hit;
 * a match of a negated member ("!x") is a deny.  TG_SUDO_UNSPEC: no match. */
static int tg_member_match(const struct tg_sudo_member *m, tg_member_hit hit, const void *ctx,
                           int depth)
{
    int r = TG_SUDO_UNSPEC;
    if (m->type == TG_SM_ALL)
        r = TG_SUDO_ALLOW;
    else if (m->type == TG_SM_ALIAS)
        r = depth < TG_ALIAS_DEPTH ? tg_list_match(m->alias, hit, ctx, depth + 1) : TG_SUDO_UNSPEC;
    else if (hit(m, ctx))
        r = TG_SUDO_ALLOW;
    if (r == TG_SUDO_UNSPEC)
        return r;
    return m->negated ? !r : r;
}

/* sudo's user/host/runas/command list matching: the last member that matches
 * decides. */
static int tg_list_match(const struct tg_sudo_list *l, tg_member_hit hit, const void *ctx,
                         int depth)
{
    for (size_t i = l->n; i-- > 0;) {
        int r = tg_member_match(&l->v[i], hit, ctx, depth);
        if (r != TG_SUDO_UNSPEC)
            return r;
    }
    return TG_SUDO_UNSPEC;
}

/* userpw_matches: "#uid" or a name (case-insensitive, case_insensitive_user). */
static bool tg_userpw_matches(const char *pat, const struct tg_who *u)
{
    if (pat[0] == '#' && pat[1]) {
        char *end;
        long long uid = strtoll(pat + 1, &end, 10);
        if (*end == '\0')
            return u->e && u->e->uid == uid;
    }
    if (u->name[0] == '#' && u->e)
        return strcasecmp(pat, u->e->name) == 0;
    return strcasecmp(pat, u->name) == 0;
}

struct tg_user_q {
    const struct tg_snapshot *s;
    const struct tg_who *u;
};

static bool tg_user_hit(const struct tg_sudo_member *m, const void *ctx)
{
    const struct tg_user_q *q = ctx;
    const struct tg_who *u = q->u;
    switch (m->type) {
    case TG_SM_NAME:
        return tg_userpw_matches(m->str, u);
    case TG_SM_ID:
        return u->e && u->e->uid == m->num;
    case TG_SM_GROUP:
        return tg_user_in_group(q->s, u, m->str);
    case TG_SM_GID:
        return tg_user_has_gid(q->s, u, m->num);
    case TG_SM_NETGROUP:
        return tg_innetgr(q->s, m->str, NULL, NULL, u->e ? u->e->name : u->name, 0);
    default:
        return false;
    }
}

static bool tg_hostname_matches(const char *host, const char *shost, const char *pat)
{
    const char *h = strchr(pat, '.') ? host : shost;
    if (strpbrk(pat, "\\?*[]"))
        return fnmatch(pat, h, FNM_CASEFOLD) == 0;
    return strcasecmp(pat, h) == 0;
}

struct tg_host_q {
    const struct tg_snapshot *s;
    const char *host, *shost;
    const struct tg_entity *he;
};

static bool tg_host_hit(const struct tg_sudo_member *m, const void *ctx)
{
    const struct tg_host_q *q = ctx;
    switch (m->type) {
    case TG_SM_NAME:
        return tg_hostname_matches(q->host, q->shost, m->str);
    case TG_SM_NETGROUP: {
        if (tg_innetgr(q->s, m->str, q->host, q->shost, NULL, 0))
            return true;
        /* IdM host groups are netgroups of their hosts */
        uint32_t hg = q->he ? tg_snap_find(tg_data(q->s), TG_NS_HOSTGROUP, m->str, strlen(m->str))
                            : TG_STRMAP_NONE;
        return hg != TG_STRMAP_NONE && tg_idlist_has(&q->he->closure, hg);
    }
    default:
        return false; /* addresses: the audited machine's interfaces are unknown */
    }
}

struct tg_runas_ctx {
    const struct tg_snapshot *s;
    const struct tg_sudo_req *q;
    struct tg_who user;  /* invoking */
    struct tg_who runas; /* runas_pw */
};

static bool tg_group_matches(const struct tg_runas_ctx *c, const char *pat)
{
    const char *g = c->q->runas_group;
    if (pat[0] == '#' && pat[1]) {
        uint32_t id = tg_snap_find(tg_data(c->s), TG_NS_GROUP, g, strlen(g));
        int64_t gid = id == TG_STRMAP_NONE ? -1 : tg_data(c->s)->ns[TG_NS_GROUP].v[id].gid;
        if (g[0] == '#')
            return strcmp(pat, g) == 0;
        return gid >= 0 && gid == strtoll(pat + 1, NULL, 10);
    }
    return strcasecmp(pat, g) == 0;
}

static bool tg_runas_user_hit(const struct tg_sudo_member *m, const void *ctx)
{
    const struct tg_runas_ctx *c = ctx;
    switch (m->type) {
    case TG_SM_NAME:
    case TG_SM_ID:
        return tg_userpw_matches(m->str, &c->runas);
    case TG_SM_GROUP:
        return tg_user_in_group(c->s, &c->runas, m->str);
    case TG_SM_GID:
        return tg_user_has_gid(c->s, &c->runas, m->num);
    case TG_SM_NETGROUP:
        return tg_innetgr(c->s, m->str, NULL, NULL, c->runas.name, 0);
    case TG_SM_MYSELF:
        return !c->q->runas_user_specified || strcasecmp(c->q->user, c->runas.name) == 0;
    default:
        return false;
    }
}

static bool tg_runas_group_hit(const struct tg_sudo_member *m, const void *ctx)
{
    return (m->type == TG_SM_NAME || m->type == TG_SM_ID || m->type == TG_SM_GROUP) &&
           tg_group_matches(ctx, m->str);
}

/* sudo 1.9.13 runaslist_matches(). */
static int tg_runaslist(const struct tg_runas_ctx *c, const struct tg_sudo_cmndspec *cs)
{
    int um = TG_SUDO_UNSPEC, gm = TG_SUDO_UNSPEC;
    if (!cs->runasusers && !cs->runasgroups) {
        const char *def = tg_data(c->s)->runas_default ? tg_data(c->s)->runas_default : "root";
        return tg_userpw_matches(def, &c->runas) ? TG_SUDO_ALLOW : TG_SUDO_DENY;
    }
    if (cs->runasusers)
        um = tg_list_match(cs->runasusers, tg_runas_user_hit, c, 0);
    if (c->q->runas_group) {
        if (um == TG_SUDO_UNSPEC && strcasecmp(c->runas.name, c->q->user) == 0)
            um = TG_SUDO_ALLOW; /* only changing group */
        if (cs->runasgroups)
            gm = tg_list_match(cs->runasgroups, tg_runas_group_hit, c, 0);
        if (gm == TG_SUDO_UNSPEC && c->runas.e) {
            /* the runas group is one of the target user's own groups */
            const char *g = c->q->runas_group;
            uint32_t id = tg_snap_find(tg_data(c->s), TG_NS_GROUP, g, strlen(g));
            if (id != TG_STRMAP_NONE &&
                ((c->runas.e->gid >= 0 &&
                  tg_data(c->s)->ns[TG_NS_GROUP].v[id].gid == c->runas.e->gid) ||
                 tg_idlist_has(&c->runas.e->closure, id)))
                gm = TG_SUDO_ALLOW;
        }
    }
    if (um == TG_SUDO_DENY || gm == TG_SUDO_DENY)
        return TG_SUDO_DENY;
    if (um == gm || !c->q->runas_group)
        return um;
    return TG_SUDO_UNSPEC;
}

/* "/bin/x" -> "/usr/bin/x" (and /sbin, /lib*) when usrmerge. */
static const char *tg_merged(const char *p, bool usrmerge, char *buf, size_t n)
{
    if (!usrmerge || p[0] != '/')
        return p;
    if (strncmp(p, "/bin/", 5) == 0 || strncmp(p, "/sbin/", 6) == 0 || strncmp(p, "/lib", 4) == 0) {
        snprintf(buf, n, "/usr%s", p);
        return buf;
    }
    return p;
}

static bool tg_re_match(const pcre2_code *re, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static bool tg_args_match(const struct tg_sudo_cmd *c, const char *args)
{
    if (!c->args || (!args && strcmp(c->args, "\"\"") == 0))
        return true;
    if (c->args_re)
        return tg_re_match(c->args_re, args ? args : "");
    int flags = strcmp(c->path, "sudoedit") == 0 ? FNM_PATHNAME : 0;
    return fnmatch(c->args, args ? args : "", flags) == 0;
}

static const char *tg_base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* The command asked about, as the command matchers see it. */
struct tg_cmnd_q {
    const struct tg_sudo_req *q;
    const char *path; /* q->cmnd cleaned and usrmerged, when it is a full path */
};

static bool tg_command_matches(const struct tg_sudo_cmd *c, const struct tg_cmnd_q *cq)
{
    const struct tg_sudo_req *q = cq->q;
    char b1[4096];
    if (c->path_re) /* sudo matches the path as typed */
        return q->cmnd[0] == '/' && tg_re_match(c->path_re, q->cmnd) && tg_args_match(c, q->args);
    if (c->path[0] != '/') /* sudoedit, list */
        return strcmp(c->path, q->cmnd) == 0 && tg_args_match(c, q->args);
    if (q->cmnd[0] != '/')
        return false;
    const char *rp = tg_merged(c->path, q->usrmerge, b1, sizeof(b1));
    const char *up = cq->path;
    size_t rl = strlen(rp);
    if (c->has_meta) {
        if (rp[rl - 1] == '/') { /* glob of directories */
            const char *slash = strrchr(up, '/');
            char dir[4096];
            size_t dl = (size_t)(slash - up) + 1;
            if (dl >= sizeof(dir))
                return false;
            memcpy(dir, up, dl);
            dir[dl] = '\0';
            return fnmatch(rp, dir, FNM_PATHNAME) == 0;
        }
        return fnmatch(rp, up, FNM_PATHNAME) == 0 && tg_args_match(c, q->args);
    }
    if (rp[rl - 1] == '/') { /* directory: any command directly in it; no args check */
        const char *slash = strrchr(up, '/');
        return (size_t)(slash - up) + 1 == rl && strncmp(up, rp, rl) == 0;
    }
    if (strcmp(tg_base(rp), tg_base(up)) != 0 || strcmp(rp, up) != 0)
        return false;
    return tg_args_match(c, q->args);
}

static bool tg_cmnd_hit(const struct tg_sudo_member *m, const void *cq)
{
    return m->type == TG_SM_CMD && tg_command_matches(m->cmd, cq);
}

static struct tg_who tg_who_of(const struct tg_snapshot *s, const char *name)
{
    struct tg_who w = {name, NULL};
    if (name[0] == '#' && name[1]) { /* -u #uid */
        w.e = tg_snapshot_user_by_uid(s, strtoll(name + 1, NULL, 10));
        return w;
    }
    w.e = tg_snapshot_entity(s, TG_NS_USER, name, strlen(name));
    return w;
}

void tg_sudo_eval(const struct tg_snapshot *s, const struct tg_sudo_req *q,
                  struct tg_sudo_result *res)
{
    const struct tg_snapshot_data *d = tg_data(s);
    struct tg_runas_ctx rc = {s, q, tg_who_of(s, q->user), tg_who_of(s, q->runas_user)};
    char shost[256];
    size_t sl = strcspn(q->host, ".");
    if (sl >= sizeof(shost))
        sl = sizeof(shost) - 1;
    memcpy(shost, q->host, sl);
    shost[sl] = '\0';
    const struct tg_entity *he = tg_snapshot_entity(s, TG_NS_HOST, q->host, strlen(q->host));
    const struct tg_user_q uq = {s, &rc.user};
    const struct tg_host_q hq = {s, q->host, shost, he};
    char clean[4096], merged[4096];
    const char *cp = tg_sudo_path_clean(q->cmnd, clean, sizeof(clean)) ? clean : q->cmnd;
    const struct tg_cmnd_q cq = {q, tg_merged(cp, q->usrmerge, merged, sizeof(merged))};
    res->match = TG_SUDO_UNSPEC;
    res->spec = NULL;
    struct tg_cands c;
    tg_candidates(d, q->user, rc.user.e, &c);
    for (size_t ci = 0; ci < c.n; ci++) {
        const struct tg_sudo_spec *sp = &d->sudo[c.v[ci]];
        if (tg_list_match(&sp->users, tg_user_hit, &uq, 0) != TG_SUDO_ALLOW)
            continue;
        for (size_t p = sp->nprivs; p-- > 0;) {
            const struct tg_sudo_priv *pv = &sp->privs[p];
            if (tg_list_match(&pv->hosts, tg_host_hit, &hq, 0) != TG_SUDO_ALLOW)
                continue;
            for (size_t k = pv->ncs; k-- > 0;) {
                const struct tg_sudo_cmndspec *cs = &pv->cs[k];
                if (q->now < cs->notbefore || q->now > cs->notafter)
                    continue;
                if (tg_runaslist(&rc, cs) != TG_SUDO_ALLOW)
                    continue;
                int m = tg_member_match(&cs->cmnd, tg_cmnd_hit, &cq, 0);
                if (m != TG_SUDO_UNSPEC) {
                    res->match = m;
                    res->spec = sp;
                    goto done;
                }
            }
        }
    }
done:
    if (c.v != c.stack)
        free(c.v);
}

bool tg_sudo_path_clean(const char *path, char *buf, size_t n)
{
    size_t len = strlen(path);
    if (path[0] != '/' || len >= n)
        return false;
    buf[0] = '/';
    size_t w = 1; /* buf[0..w) is the cleaned prefix; never ahead of the reading */
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t cl = strcspn(p, "/");
        if (cl == 2 && p[0] == '.' && p[1] == '.') {
            while (w > 1 && buf[--w] != '/')
                ;
        } else if (cl > 0 && !(cl == 1 && p[0] == '.')) {
            if (w > 1)
                buf[w++] = '/';
            memmove(buf + w, p, cl);
            w += cl;
        }
        p += cl;
    }
    if (path[len - 1] == '/' && w > 1) /* a directory spec keeps its slash */
        buf[w++] = '/';
    buf[w] = '\0';
    return true;
}

void tg_sudo_resolve(const struct tg_snapshot *s, const char *name, char *buf, size_t n)
{
    const char *sp = tg_data(s)->secure_path
                         ? tg_data(s)->secure_path
                         : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (int pass = 0; pass < 2; pass++) {
        const char *p = sp;
        while (*p) {
            size_t dl = strcspn(p, ":");
            snprintf(buf, n, "%.*s/%s", (int)dl, p, name);
            bool hit = pass == 0 ? tg_strmap_get(&tg_data(s)->cmd_paths, buf, strlen(buf)) !=
                                       TG_STRMAP_NONE
                                 : access(buf, X_OK) == 0;
            if (hit)
                return;
            p += dl + (p[dl] == ':');
        }
    }
    snprintf(buf, n, "/usr/bin/%s", name);
}
