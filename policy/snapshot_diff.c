/*
 * snapshot_diff.c - what changed between two snapshots (`policy history
 * --diff`).  See snapshot_diff.h.
 *
 * Each snapshot is rendered into items (kind, key, fields): HBAC rules by
 * name (enabled, type, users, hosts, services), sudo rules by name (the
 * rule as one sudoers-like line, aliases expanded, sudoOrder for LDAP
 * roles), and the defined users, user groups, hosts, host groups, HBAC
 * services and service groups by name (ids, shell, home, the groups they
 * are members of, their members).  A field is a scalar or a set (sorted);
 * two items differ when a field does.  The item lists are sorted by (kind,
 * key) and merged.  sudoers files name their rules FILE:LINE, so a rule
 * moves when a line is inserted above it: sudo rules whose whole rendering
 * is the same on both sides are paired first, whatever their names, and
 * only the rest are paired by name (a rule that merely moved is not
 * reported).  CLI only: allocates freely.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "policy/snapshot_diff.h"

#define TG_D_FIELDS 6

struct tg_dfield {
    const char *name;
    bool is_set;
    char *val; /* scalar ("" = none) */
    char **v;  /* set, sorted */
    size_t n;
};

struct tg_ditem {
    int kind; /* index into tg_d_kinds */
    char *key;
    struct tg_dfield f[TG_D_FIELDS];
    size_t nf;
    bool paired;
};

struct tg_dlist {
    struct tg_ditem *v;
    size_t n, cap;
};

enum { TG_DK_HBAC = 0, TG_DK_SUDO, TG_DK_ENTITY }; /* entities: TG_DK_ENTITY + enum tg_ns */

static const char *const tg_d_kinds[] = {
    "HBAC rule", "sudo rule",  "user",         "user group",
    "host",      "host group", "HBAC service", "HBAC service group",
};

static struct tg_ditem *tg_d_item(struct tg_dlist *l, int kind, const char *key)
{
    l->v = tg_xgrow(l->v, l->n, &l->cap, sizeof(*l->v), 64);
    struct tg_ditem *it = &l->v[l->n++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->key = tg_xstrdup(key);
    return it;
}

static void tg_d_scalar(struct tg_ditem *it, const char *name, char *val)
{
    it->f[it->nf++] = (struct tg_dfield){name, false, val, NULL, 0};
}

static int tg_d_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A set field; takes v (strings and array). */
static void tg_d_set(struct tg_ditem *it, const char *name, char **v, size_t n)
{
    if (n)
        qsort(v, n, sizeof(*v), tg_d_strcmp);
    it->f[it->nf++] = (struct tg_dfield){name, true, NULL, v, n};
}

/* ------------------------------------------------------------- HBAC */

static void tg_d_el(struct tg_ditem *it, const char *name, const struct tg_snapshot_data *d,
                    const struct tg_hbac_el *el, enum tg_ns names, enum tg_ns groups)
{
    size_t n = el->all ? 1 : el->names.n + el->groups.n, k = 0;
    char **v = tg_xcalloc(n + 1, sizeof(*v));
    if (el->all)
        v[k++] = tg_xstrdup("(all)");
    for (uint32_t i = 0; !el->all && i < el->names.n; i++)
        v[k++] = tg_xstrdup(d->ns[names].v[el->names.v[i]].name);
    for (uint32_t i = 0; !el->all && i < el->groups.n; i++)
        v[k++] = tg_xasprintf("%%%s", d->ns[groups].v[el->groups.v[i]].name);
    tg_d_set(it, name, v, k);
}

static void tg_d_hbac(struct tg_dlist *l, const struct tg_snapshot_data *d)
{
    for (size_t r = 0; r < d->nhbac; r++) {
        const struct tg_hbac_rule *h = &d->hbac[r];
        struct tg_ditem *it = tg_d_item(l, TG_DK_HBAC, h->name);
        tg_d_scalar(it, "enabled", tg_xstrdup(h->enabled ? "yes" : "no"));
        tg_d_scalar(it, "type", tg_xstrdup(h->allow ? "allow" : "not allow (ignored)"));
        tg_d_el(it, "users", d, &h->users, TG_NS_USER, TG_NS_GROUP);
        tg_d_el(it, "hosts", d, &h->hosts, TG_NS_HOST, TG_NS_HOSTGROUP);
        tg_d_el(it, "services", d, &h->services, TG_NS_SERVICE, TG_NS_SVCGROUP);
    }
}

/* ------------------------------------------------------------- sudo */

static void tg_d_list(struct tg_buf *b, const struct tg_sudo_list *l, int depth);

static void tg_d_member(struct tg_buf *b, const struct tg_sudo_member *m, int depth)
{
    if (m->negated)
        tg_buf_putc(b, '!');
    switch (m->type) {
    case TG_SM_ALL:
        tg_buf_puts(b, "ALL");
        break;
    case TG_SM_GROUP:
        tg_buf_printf(b, "%%%s", m->str);
        break;
    case TG_SM_GID:
        tg_buf_printf(b, "%%#%lld", (long long)m->num);
        break;
    case TG_SM_NETGROUP:
        tg_buf_printf(b, "+%s", m->str);
        break;
    case TG_SM_ALIAS: /* expanded, so that a changed alias shows in every rule using it */
        tg_buf_printf(b, "%s(", m->str);
        if (depth < 8 && m->alias)
            tg_d_list(b, m->alias, depth + 1);
        tg_buf_putc(b, ')');
        break;
    case TG_SM_MYSELF:
        break;
    case TG_SM_CMD:
        tg_buf_puts(b, m->cmd->path);
        if (m->cmd->args)
            tg_buf_printf(b, " %s", m->cmd->args);
        break;
    default: /* names, ids, addresses, unresolvable members */
        tg_buf_puts(b, m->str ? m->str : "?");
        break;
    }
}

static void tg_d_list(struct tg_buf *b, const struct tg_sudo_list *l, int depth)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            tg_buf_puts(b, ", ");
        tg_d_member(b, &l->v[i], depth);
    }
}

static void tg_d_sudo(struct tg_dlist *l, const struct tg_snapshot_data *d)
{
    for (size_t i = 0; i < d->nsudo; i++) {
        const struct tg_sudo_spec *sp = &d->sudo[i];
        struct tg_buf b = TG_BUF_INIT;
        tg_d_list(&b, &sp->users, 0);
        for (size_t p = 0; p < sp->nprivs; p++) {
            const struct tg_sudo_priv *pv = &sp->privs[p];
            tg_buf_puts(&b, p ? " : " : " ");
            tg_d_list(&b, &pv->hosts, 0);
            tg_buf_puts(&b, " =");
            for (size_t c = 0; c < pv->ncs; c++) {
                const struct tg_sudo_cmndspec *cs = &pv->cs[c];
                tg_buf_puts(&b, c ? ", " : " ");
                if (cs->runasusers || cs->runasgroups) {
                    tg_buf_putc(&b, '(');
                    if (cs->runasusers)
                        tg_d_list(&b, cs->runasusers, 0);
                    if (cs->runasgroups) {
                        tg_buf_puts(&b, " : ");
                        tg_d_list(&b, cs->runasgroups, 0);
                    }
                    tg_buf_puts(&b, ") ");
                }
                if (cs->notbefore != INT64_MIN)
                    tg_buf_printf(&b, "NOTBEFORE=%lld ", (long long)cs->notbefore);
                if (cs->notafter != INT64_MAX)
                    tg_buf_printf(&b, "NOTAFTER=%lld ", (long long)cs->notafter);
                tg_d_member(&b, &cs->cmnd, 0);
            }
        }
        if (sp->ldap)
            tg_buf_printf(&b, " [sudoOrder %g]", sp->order);
        struct tg_ditem *it = tg_d_item(l, TG_DK_SUDO, sp->name);
        tg_d_scalar(it, "rule", tg_xstrdup(tg_buf_cstr(&b)));
        tg_buf_free(&b);
    }
}

/* --------------------------------------------------------- entities */

/* The defined members of group g of namespace gns: leaves of lns and
 * nested groups ("%name"). */
static void tg_d_members(struct tg_ditem *it, const struct tg_snapshot_data *d, enum tg_ns lns,
                         enum tg_ns gns, uint32_t g)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    const enum tg_ns nss[2] = {lns, gns};
    for (int k = 0; k < 2; k++) {
        const struct tg_nstable *t = &d->ns[nss[k]];
        for (uint32_t i = 0; i < t->n; i++)
            if (tg_idlist_has(&t->v[i].parents, g)) {
                v = tg_xgrow(v, n, &cap, sizeof(*v), 8);
                v[n++] = k ? tg_xasprintf("%%%s", t->v[i].name) : tg_xstrdup(t->v[i].name);
            }
    }
    tg_d_set(it, "members", v, n);
}

static char *tg_d_num(int64_t v)
{
    return v >= 0 ? tg_xasprintf("%lld", (long long)v) : tg_xstrdup("");
}

static void tg_d_entities(struct tg_dlist *l, const struct tg_snapshot_data *d)
{
    static const enum tg_ns group_of[] = {
        [TG_NS_USER] = TG_NS_GROUP,       [TG_NS_GROUP] = TG_NS_GROUP,
        [TG_NS_HOST] = TG_NS_HOSTGROUP,   [TG_NS_HOSTGROUP] = TG_NS_HOSTGROUP,
        [TG_NS_SERVICE] = TG_NS_SVCGROUP, [TG_NS_SVCGROUP] = TG_NS_SVCGROUP};
    for (int ns = 0; ns < TG_NS_NETGROUP; ns++) {
        const struct tg_nstable *t = &d->ns[ns];
        bool group = ns == TG_NS_GROUP || ns == TG_NS_HOSTGROUP || ns == TG_NS_SVCGROUP;
        for (uint32_t i = 0; i < t->n; i++) {
            const struct tg_entity *e = &t->v[i];
            if (!e->file)
                continue; /* only referenced */
            struct tg_ditem *it = tg_d_item(l, TG_DK_ENTITY + ns, e->name);
            if (ns == TG_NS_USER) {
                tg_d_scalar(it, "uid", tg_d_num(e->uid));
                tg_d_scalar(it, "gid", tg_d_num(e->gid));
                tg_d_scalar(it, "shell", tg_xstrdup(e->shell ? e->shell : ""));
                tg_d_scalar(it, "home", tg_xstrdup(e->home ? e->home : ""));
            } else if (ns == TG_NS_GROUP) {
                tg_d_scalar(it, "gid", tg_d_num(e->gid));
            }
            char **v = tg_xcalloc(e->parents.n + 1, sizeof(*v));
            for (uint32_t k = 0; k < e->parents.n; k++)
                v[k] = tg_xstrdup(d->ns[group_of[ns]].v[e->parents.v[k]].name);
            tg_d_set(it, "member of", v, e->parents.n);
            if (group)
                tg_d_members(it, d,
                             ns == TG_NS_GROUP       ? TG_NS_USER
                             : ns == TG_NS_HOSTGROUP ? TG_NS_HOST
                                                     : TG_NS_SERVICE,
                             (enum tg_ns)ns, i);
        }
    }
}

/* ---------------------------------------------------------- compare */

static int tg_d_cmp(const void *a, const void *b)
{
    const struct tg_ditem *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return strcasecmp(x->key, y->key);
}

static void tg_d_build(struct tg_dlist *l, const struct tg_snapshot *s)
{
    tg_d_hbac(l, &s->d);
    tg_d_sudo(l, &s->d);
    tg_d_entities(l, &s->d);
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), tg_d_cmp);
}

static bool tg_d_field_eq(const struct tg_dfield *a, const struct tg_dfield *b)
{
    if (!a->is_set)
        return strcmp(a->val, b->val) == 0;
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

static bool tg_d_item_eq(const struct tg_ditem *a, const struct tg_ditem *b)
{
    for (size_t i = 0; i < a->nf; i++)
        if (!tg_d_field_eq(&a->f[i], &b->f[i]))
            return false;
    return true;
}

/* " (uid 1001; member of ops, web)" for an added or removed item (its
 * non-empty fields). */
static void tg_d_describe(struct tg_buf *b, const struct tg_ditem *it)
{
    const char *sep = " (";
    for (size_t i = 0; i < it->nf; i++) {
        const struct tg_dfield *f = &it->f[i];
        if (f->is_set ? f->n == 0 : f->val[0] == '\0')
            continue;
        tg_buf_printf(b, "%s%s ", sep, f->name);
        sep = "; ";
        if (!f->is_set)
            tg_buf_puts(b, f->val);
        for (size_t k = 0; f->is_set && k < f->n; k++)
            tg_buf_printf(b, "%s%s", k ? ", " : "", f->v[k]);
    }
    if (sep[0] == ';')
        tg_buf_putc(b, ')');
}

/* "member of +admins -ops; shell /bin/sh -> /bin/bash" */
static void tg_d_changes(struct tg_buf *b, const struct tg_ditem *a, const struct tg_ditem *c)
{
    const char *sep = ": ";
    for (size_t i = 0; i < a->nf; i++) {
        const struct tg_dfield *x = &a->f[i], *y = &c->f[i];
        if (tg_d_field_eq(x, y))
            continue;
        tg_buf_printf(b, "%s%s", sep, x->name);
        sep = "; ";
        if (!x->is_set) {
            tg_buf_printf(b, " %s -> %s", x->val[0] ? x->val : "(none)",
                          y->val[0] ? y->val : "(none)");
            continue;
        }
        for (int pass = 0; pass < 2; pass++) { /* additions, then removals */
            size_t p = 0, q = 0;               /* merge the sorted sets */
            while (p < x->n || q < y->n) {
                int d = p == x->n ? 1 : q == y->n ? -1 : strcmp(x->v[p], y->v[q]);
                if (d > 0 && pass == 0)
                    tg_buf_printf(b, " +%s", y->v[q]);
                if (d < 0 && pass == 1)
                    tg_buf_printf(b, " -%s", x->v[p]);
                p += d <= 0;
                q += d >= 0;
            }
        }
    }
}

static void tg_d_free(struct tg_dlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t f = 0; f < l->v[i].nf; f++) {
            free(l->v[i].f[f].val);
            for (size_t k = 0; k < l->v[i].f[f].n; k++)
                free(l->v[i].f[f].v[k]);
            free(l->v[i].f[f].v);
        }
        free(l->v[i].key);
    }
    free(l->v);
}

size_t tg_snapshot_diff(const struct tg_snapshot *a, const struct tg_snapshot *b, FILE *out)
{
    struct tg_dlist la = {0}, lb = {0};
    tg_d_build(&la, a);
    tg_d_build(&lb, b);
    /* sudo rules the same on both sides, under whatever name */
    for (size_t i = 0; i < la.n; i++)
        for (size_t k = 0; la.v[i].kind == TG_DK_SUDO && k < lb.n; k++)
            if (lb.v[k].kind == TG_DK_SUDO && !lb.v[k].paired && tg_d_item_eq(&la.v[i], &lb.v[k])) {
                la.v[i].paired = lb.v[k].paired = true;
                break;
            }
    size_t counts[sizeof(tg_d_kinds) / sizeof(tg_d_kinds[0])][3] = {{0}}, total = 0;
    size_t i = 0, k = 0;
    struct tg_buf line = TG_BUF_INIT;
    while (i < la.n || k < lb.n) {
        if (i < la.n && la.v[i].paired) {
            i++;
            continue;
        }
        if (k < lb.n && lb.v[k].paired) {
            k++;
            continue;
        }
        int d = i == la.n ? 1 : k == lb.n ? -1 : tg_d_cmp(&la.v[i], &lb.v[k]);
        const struct tg_ditem *it = d <= 0 ? &la.v[i] : &lb.v[k];
        tg_buf_reset(&line);
        if (d < 0) {
            tg_buf_printf(&line, "- %s %s", tg_d_kinds[it->kind], it->key);
            tg_d_describe(&line, it);
            counts[it->kind][1]++;
        } else if (d > 0) {
            tg_buf_printf(&line, "+ %s %s", tg_d_kinds[it->kind], it->key);
            tg_d_describe(&line, it);
            counts[it->kind][0]++;
        } else if (!tg_d_item_eq(&la.v[i], &lb.v[k])) {
            tg_buf_printf(&line, "~ %s %s", tg_d_kinds[it->kind], it->key);
            tg_d_changes(&line, &la.v[i], &lb.v[k]);
            counts[it->kind][2]++;
        }
        if (line.len) {
            fprintf(out, "%s\n", tg_buf_cstr(&line));
            total++;
        }
        i += d <= 0;
        k += d >= 0;
    }
    fprintf(out, "%zu change%s", total, total == 1 ? "" : "s");
    const char *sep = ": ";
    for (size_t kd = 0; kd < sizeof(tg_d_kinds) / sizeof(tg_d_kinds[0]); kd++) {
        if (!counts[kd][0] && !counts[kd][1] && !counts[kd][2])
            continue;
        fprintf(out, "%s%ss +%zu -%zu ~%zu", sep, tg_d_kinds[kd], counts[kd][0], counts[kd][1],
                counts[kd][2]);
        sep = ", ";
    }
    fputc('\n', out);
    tg_buf_free(&line);
    tg_d_free(&la);
    tg_d_free(&lb);
    return total;
}
