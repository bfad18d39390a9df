/*
 * ldif.c - the LDIF reader of policy snapshots (ldapsearch -LLL output, the
 * IdM export, cvtsudoers -f ldif).
 *
 * Two layers: a small RFC 2849 subset reader (line folding, `attr:: base64`,
 * `#` comments, `version:`/`search:`/`result:` noise, attribute options,
 * case-insensitive attribute names) that yields one entry at a time with the
 * line of each value; and the entry interpreter that turns entries into
 * model.h objects: IdM users, groups (member/memberOf, nested), hosts, host
 * groups, HBAC services and service groups, ipaHBACRule, sudoRole, netgroups.
 * ipaSudoRule entries reference sudo commands and command groups that may
 * come later (or in another file), so they are kept and resolved by
 * tg_ldif_finish() once every file is read.
 *
 * Every problem is recorded with file:line.  Syntax damage, where the text
 * could not be read as written (a line that is not `attribute: value`, an
 * undecodable value, attributes with no dn: before them, an HBAC rule or
 * sudo command entry without its naming attribute, so that it had to be
 * dropped), is recorded as damage (model.h) and fails the snapshot load.
 * Findings about readable entries (a value naming no known entry or of the
 * wrong kind, a rule that can never match, a deny-type HBAC rule) are
 * problems: the entry is skipped or partially used and the snapshot loads.
 * Single-threaded (snapshot load).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/mem.h"
#include "policy/model.h"

struct tg_ldif_attr {
    char *name; /* lowercased, options stripped */
    char *value;
    int line;
};

struct tg_ldif_entry {
    char *dn;
    int line;
    const char *file;
    struct tg_ldif_attr *a;
    size_t n, cap;
};

/* Kinds of DN, beyond the namespaces. */
enum { TG_K_SUDOCMD = TG_NS_COUNT, TG_K_CMDGROUP, TG_K_UNKNOWN };

/* IdM sudo entries kept for tg_ldif_finish. */
struct tg_ldif_pending {
    struct tg_ldif_entry *rules;
    size_t nrules, caprules;
    struct tg_strmap cmd_by_id; /* ipaUniqueID or sudoCmd RDN -> index into cmds */
    const char **cmds;          /* sudoCmd values */
    size_t ncmds, capcmds;
    struct tg_strmap grp_by_name; /* command group cn -> index into grps */
    struct tg_ldif_entry *grps;
    size_t ngrps, capgrps;
};

/* ------------------------------------------------------------------ reader */

static int tg_b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode base64 in place-independent buffer; returns length or -1. */
static long tg_b64decode(const char *in, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=' || c == ' ' || c == '\t' || c == '\r')
            continue;
        int v = tg_b64val(c);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    return o;
}

static void tg_ldif_entry_reset(struct tg_ldif_entry *e)
{
    e->dn = NULL;
    e->line = 0;
    e->n = 0;
}

/* Add one logical line "attr: value" to e. */
static void tg_ldif_line(struct tg_snapshot_data *d, struct tg_ldif_entry *e, const char *file,
                         int line, const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (!colon || colon == s) {
        tg_snap_damage(d, file, line,
                       "not an LDIF 'attribute: value' line; repair the line or export the file "
                       "again (ldapsearch -LLL)");
        return;
    }
    size_t nlen = (size_t)(colon - s);
    const char *semi = memchr(s, ';', nlen); /* attribute options: cn;lang-en */
    if (semi)
        nlen = (size_t)(semi - s);
    char *name = tg_snap_strdup(d, s, nlen);
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *v = colon + 1;
    const char *end = s + len;
    char *value;
    if (v < end && *v == ':') { /* base64 */
        v++;
        while (v < end && *v == ' ')
            v++;
        value = tg_arena_alloc(&d->arena, (size_t)(end - v) + 1);
        long n = tg_b64decode(v, (size_t)(end - v), value);
        if (n < 0) {
            tg_snap_damage(d, file, line,
                           "attribute %s: invalid base64 value; export the file again", name);
            return;
        }
        value[n] = '\0';
    } else if (v < end && *v == '<') {
        tg_snap_damage(d, file, line,
                       "attribute %s: URL values (':<') are not supported; export the value "
                       "inline",
                       name);
        return;
    } else {
        while (v < end && *v == ' ')
            v++;
        value = tg_snap_strdup(d, v, (size_t)(end - v));
    }
    if (strcmp(name, "dn") == 0 && e->dn) {
        tg_snap_damage(d, file, line,
                       "dn: line inside the entry of line %d (the blank line between entries is "
                       "missing); repair it or export the file again",
                       e->line);
        return;
    }
    if (strcmp(name, "dn") == 0) {
        e->dn = value;
        e->line = line;
        return;
    }
    if (!e->dn) {
        /* version: 1, search: 2, result: 0 Success and other headers */
        if (strcmp(name, "version") && strcmp(name, "search") && strcmp(name, "result"))
            tg_snap_damage(d, file, line,
                           "'%s' outside an entry (no dn: line before it): the entry's dn: line "
                           "is damaged or missing; repair it or export the file again",
                           name);
        return;
    }
    e->a = tg_xgrow(e->a, e->n, &e->cap, sizeof(*e->a), 16);
    e->a[e->n++] = (struct tg_ldif_attr){name, value, line};
}

static void tg_ldif_entry_done(struct tg_snapshot_data *d, struct tg_ldif_entry *e);

void tg_ldif_load(struct tg_snapshot_data *d, const char *file, const char *text, size_t len)
{
    struct tg_ldif_entry e = {.file = file};
    struct tg_buf logical = TG_BUF_INIT;
    int logical_line = 0, lineno = 0;
    bool in_comment = false;
    size_t pos = 0;
    while (pos <= len) {
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *s = text + pos;
        size_t n = end - pos;
        bool eof = pos >= len;
        if (n && s[n - 1] == '\r')
            n--;
        lineno++;
        pos = end + 1;
        if (!eof && n > 0 && s[0] == ' ') { /* continuation */
            if (!in_comment && logical_line)
                tg_buf_append(&logical, s + 1, n - 1);
            continue;
        }
        if (logical_line) { /* flush the previous logical line */
            tg_ldif_line(d, &e, file, logical_line, logical.data, logical.len);
            logical_line = 0;
            tg_buf_reset(&logical);
        }
        in_comment = false;
        if (eof || n == 0) {
            if (e.dn)
                tg_ldif_entry_done(d, &e);
            tg_ldif_entry_reset(&e);
            if (eof)
                break;
            continue;
        }
        if (s[0] == '#') {
            in_comment = true;
            continue;
        }
        if (strncmp(s, "-", n) == 0 || (n >= 11 && strncasecmp(s, "changetype:", 11) == 0))
            continue; /* changetype: add files: the attribute lines follow as usual */
        logical_line = lineno;
        tg_buf_append(&logical, s, n);
    }
    tg_buf_free(&logical);
    free(e.a);
}

/* ------------------------------------------------------------ entry helpers */

static const char *tg_attr1(const struct tg_ldif_entry *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->a[i].name, name) == 0)
            return e->a[i].value;
    return NULL;
}

static int tg_attr1_line(const struct tg_ldif_entry *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->a[i].name, name) == 0)
            return e->a[i].line;
    return e->line;
}

static bool tg_has_oc(const struct tg_ldif_entry *e, const char *oc)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->a[i].name, "objectclass") == 0 && strcasecmp(e->a[i].value, oc) == 0)
            return true;
    return false;
}

/* Unescape one RDN value [p, end) into out (backslash escapes: \X and \HH). */
static size_t tg_rdn_unescape(const char *p, const char *end, char *out)
{
    size_t o = 0;
    while (p < end) {
        if (*p == '\\' && p + 1 < end) {
            if (p + 2 < end && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
                char hex[3] = {p[1], p[2], 0};
                out[o++] = (char)strtol(hex, NULL, 16);
                p += 3;
            } else {
                out[o++] = p[1];
                p += 2;
            }
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return o;
}

/* Find the end of the RDN starting at p (an unescaped ','). */
static const char *tg_rdn_end(const char *p)
{
    while (*p && *p != ',') {
        if (*p == '\\' && p[1])
            p++;
        p++;
    }
    return p;
}

/*
 * Classify a DN by its first RDN attribute and the value of its container
 * (second RDN).  *name receives the unescaped first RDN value (snapshot
 * arena).  Returns a namespace, TG_K_SUDOCMD, TG_K_CMDGROUP or TG_K_UNKNOWN.
 */
static int tg_dn_classify(struct tg_snapshot_data *d, const char *dn, char **name)
{
    const char *eq = strchr(dn, '=');
    *name = NULL;
    if (!eq)
        return TG_K_UNKNOWN;
    const char *vend = tg_rdn_end(eq + 1);
    char *val = tg_arena_alloc(&d->arena, (size_t)(vend - eq));
    tg_rdn_unescape(eq + 1, vend, val);
    *name = val;
    char attr[32];
    size_t alen = (size_t)(eq - dn);
    while (alen && dn[alen - 1] == ' ')
        alen--;
    if (alen >= sizeof(attr))
        return TG_K_UNKNOWN;
    memcpy(attr, dn, alen);
    attr[alen] = '\0';
    char cont[64] = "";
    if (*vend == ',') {
        const char *c = vend + 1;
        while (*c == ' ')
            c++;
        const char *ceq = strchr(c, '=');
        if (ceq) {
            const char *cend = tg_rdn_end(ceq + 1);
            if ((size_t)(cend - ceq) < sizeof(cont))
                tg_rdn_unescape(ceq + 1, cend, cont);
        }
    }
    if (strcasecmp(attr, "uid") == 0)
        return TG_NS_USER;
    if (strcasecmp(attr, "fqdn") == 0)
        return TG_NS_HOST;
    if (strcasecmp(attr, "sudocmd") == 0)
        return TG_K_SUDOCMD;
    if (strcasecmp(attr, "ipauniqueid") == 0 && strcasecmp(cont, "sudocmds") == 0)
        return TG_K_SUDOCMD;
    if (strcasecmp(attr, "cn") != 0)
        return TG_K_UNKNOWN;
    static const struct {
        const char *cont;
        int kind;
    } map[] = {{"groups", TG_NS_GROUP},
               {"hostgroups", TG_NS_HOSTGROUP},
               {"hbacservices", TG_NS_SERVICE},
               {"hbacservicegroups", TG_NS_SVCGROUP},
               {"ng", TG_NS_NETGROUP},
               {"netgroup", TG_NS_NETGROUP},
               {"sudocmdgroups", TG_K_CMDGROUP},
               {"users", TG_NS_USER},
               {"computers", TG_NS_HOST},
               {"group", TG_NS_GROUP},
               {"people", TG_NS_USER}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(cont, map[i].cont) == 0)
            return map[i].kind;
    return TG_K_UNKNOWN;
}

/* The group namespace that entities of ns are members of. */
static int tg_parent_ns(int ns)
{
    switch (ns) {
    case TG_NS_USER:
    case TG_NS_GROUP:
        return TG_NS_GROUP;
    case TG_NS_HOST:
    case TG_NS_HOSTGROUP:
        return TG_NS_HOSTGROUP;
    case TG_NS_SERVICE:
    case TG_NS_SVCGROUP:
        return TG_NS_SVCGROUP;
    default:
        return -1;
    }
}

static struct tg_entity *tg_define(struct tg_snapshot_data *d, const struct tg_ldif_entry *e,
                                   enum tg_ns ns, const char *name, uint32_t *idp)
{
    uint32_t id = tg_snap_intern(d, ns, name, strlen(name));
    struct tg_entity *en = &d->ns[ns].v[id];
    if (!en->file) {
        en->file = e->file;
        en->line = e->line;
    }
    *idp = id;
    return en;
}

static int64_t tg_num(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    return (*end || v < 0) ? -1 : (int64_t)v;
}

/* memberOf values of an entity of namespace ns: add parent edges. */
static void tg_link_memberof(struct tg_snapshot_data *d, const struct tg_ldif_entry *e, int ns,
                             uint32_t id)
{
    int pns = tg_parent_ns(ns);
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->a[i].name, "memberof") != 0)
            continue;
        char *pname;
        if (tg_dn_classify(d, e->a[i].value, &pname) != pns)
            continue; /* roles, sudo rules, ...: not a membership HBAC uses */
        uint32_t pid = tg_snap_intern(d, (enum tg_ns)pns, pname, strlen(pname));
        tg_idlist_add(&d->ns[ns].v[id].parents, pid);
    }
}

/* member values of a group of namespace gns: members get a parent edge. */
static void tg_link_members(struct tg_snapshot_data *d, const struct tg_ldif_entry *e, int gns,
                            uint32_t gid)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->a[i].name, "member") == 0) {
            char *cname;
            int k = tg_dn_classify(d, e->a[i].value, &cname);
            if (k >= TG_NS_COUNT || tg_parent_ns(k) != gns)
                continue;
            uint32_t cid = tg_snap_intern(d, (enum tg_ns)k, cname, strlen(cname));
            tg_idlist_add(&d->ns[k].v[cid].parents, gid);
        } else if (strcmp(e->a[i].name, "memberuid") == 0 && gns == TG_NS_GROUP) {
            const char *u = e->a[i].value;
            uint32_t cid = tg_snap_intern(d, TG_NS_USER, u, strlen(u));
            tg_idlist_add(&d->ns[TG_NS_USER].v[cid].parents, gid);
        }
    }
}

/* ---------------------------------------------------------------- HBAC */

static void tg_hbac_member(struct tg_snapshot_data *d, const struct tg_ldif_entry *e,
                           const struct tg_ldif_attr *a, struct tg_hbac_el *el, int name_ns,
                           int group_ns, const char *what)
{
    char *name;
    int k = tg_dn_classify(d, a->value, &name);
    if (k == name_ns || k == group_ns) {
        uint32_t id = tg_snap_intern(d, (enum tg_ns)k, name, strlen(name));
        struct tg_entity *en = &d->ns[k].v[id];
        if (!en->ref_file) { /* the first reference, for lint */
            en->ref_file = e->file;
            en->ref_line = a->line;
        }
        tg_idlist_add(k == name_ns ? &el->names : &el->groups, id);
        return;
    }
    tg_snap_problem(d, e->file, a->line, false,
                    "HBAC rule %s: %s '%s' is not a %s DN; value ignored", tg_attr1(e, "cn"),
                    a->name, a->value, what);
}

static void tg_ldif_hbac_rule(struct tg_snapshot_data *d, const struct tg_ldif_entry *e)
{
    const char *cn = tg_attr1(e, "cn");
    if (!cn) {
        tg_snap_damage(d, e->file, e->line,
                       "HBAC rule %s has no cn, so the rule cannot be used; export cn=hbac again "
                       "with all attributes",
                       e->dn);
        return;
    }
    d->hbac = tg_xgrow(d->hbac, d->nhbac, &d->caphbac, sizeof(*d->hbac), 64);
    struct tg_hbac_rule *r = &d->hbac[d->nhbac++];
    memset(r, 0, sizeof(*r));
    r->name = cn;
    r->file = e->file;
    r->line = e->line;
    const char *en = tg_attr1(e, "ipaenabledflag");
    r->enabled = en && strcasecmp(en, "TRUE") == 0;
    if (!en)
        tg_snap_problem(d, e->file, e->line, true,
                        "HBAC rule %s has no ipaEnabledFlag; treated as disabled (as SSSD does)",
                        cn);
    const char *type = tg_attr1(e, "accessruletype");
    r->allow = type && strcasecmp(type, "allow") == 0;
    if (!r->allow)
        tg_snap_problem(d, e->file, tg_attr1_line(e, "accessruletype"), true,
                        "HBAC rule %s has accessRuleType '%s': only allow rules exist in FreeIPA; "
                        "the rule is ignored (SSSD would deny everyone while it exists)",
                        cn, type ? type : "(none)");
    for (size_t i = 0; i < e->n; i++) {
        const struct tg_ldif_attr *a = &e->a[i];
        if (strcmp(a->name, "usercategory") == 0)
            r->users.all |= strcasecmp(a->value, "all") == 0;
        else if (strcmp(a->name, "hostcategory") == 0)
            r->hosts.all |= strcasecmp(a->value, "all") == 0;
        else if (strcmp(a->name, "servicecategory") == 0)
            r->services.all |= strcasecmp(a->value, "all") == 0;
        else if (strcmp(a->name, "memberuser") == 0)
            tg_hbac_member(d, e, a, &r->users, TG_NS_USER, TG_NS_GROUP, "user or user group");
        else if (strcmp(a->name, "memberhost") == 0)
            tg_hbac_member(d, e, a, &r->hosts, TG_NS_HOST, TG_NS_HOSTGROUP, "host or host group");
        else if (strcmp(a->name, "memberservice") == 0)
            tg_hbac_member(d, e, a, &r->services, TG_NS_SERVICE, TG_NS_SVCGROUP,
                           "HBAC service or service group");
    }
    tg_idlist_sort(&r->users.names);
    tg_idlist_sort(&r->users.groups);
    tg_idlist_sort(&r->hosts.names);
    tg_idlist_sort(&r->hosts.groups);
    tg_idlist_sort(&r->services.names);
    tg_idlist_sort(&r->services.groups);
}

/* ---------------------------------------------------------------- sudo */

/* Values of a role in sudoRole terms (strings), from sudoRole or ipaSudoRule. */
struct tg_strv {
    const char **v;
    size_t n, cap;
};

static void tg_strv_add(struct tg_strv *s, const char *v)
{
    s->v = tg_xgrow(s->v, s->n, &s->cap, sizeof(*s->v), 8);
    s->v[s->n++] = v;
}

struct tg_role {
    const char *cn, *file;
    int line;
    struct tg_strv users, hosts, cmds, runasusers, runasgroups;
    bool has_ru, has_rg;
    const char *order, *notbefore, *notafter;
};

static void tg_role_free(struct tg_role *r)
{
    free(r->users.v);
    free(r->hosts.v);
    free(r->cmds.v);
    free(r->runasusers.v);
    free(r->runasgroups.v);
}

/* Fill list from values: positive entries first, negated last (sudo's LDAP
 * code puts negations at the end so that, scanned from the end, they win). */
static void tg_role_list(struct tg_snapshot_data *d, struct tg_sudo_list *l,
                         const struct tg_strv *v, bool host)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < v->n; i++) {
            bool neg = v->v[i][0] == '!';
            if (neg != (pass == 1))
                continue;
            tg_sudo_member_parse(d, tg_sudo_list_add(l), v->v[i], host);
        }
}

static void tg_role_build(struct tg_snapshot_data *d, struct tg_role *r, bool ipa)
{
    if (r->users.n == 0 || r->cmds.n == 0) {
        if (strcasecmp(r->cn, "defaults") != 0)
            tg_snap_problem(d, r->file, r->line, true, "sudo rule %s has no %s; it can never match",
                            r->cn, r->users.n == 0 ? "users" : "commands");
        return;
    }
    struct tg_sudo_spec *s = tg_sudo_spec_new(d, r->cn, r->file, r->line);
    s->ldap = true;
    s->order = r->order ? strtod(r->order, NULL) : 0.0;
    tg_role_list(d, &s->users, &r->users, false);
    struct tg_sudo_priv *p = tg_sudo_priv_new(s);
    if (r->hosts.n == 0)
        tg_snap_problem(d, r->file, r->line, true, "sudo rule %s has no hosts; it can never match",
                        r->cn);
    tg_role_list(d, &p->hosts, &r->hosts, true);
    struct tg_sudo_list *ru = NULL, *rg = NULL;
    if (r->has_ru) {
        ru = tg_sudo_list_new(d);
        tg_role_list(d, ru, &r->runasusers, false);
    }
    if (r->has_rg) {
        rg = tg_sudo_list_new(d);
        tg_role_list(d, rg, &r->runasgroups, false);
    }
    int64_t nb = r->notbefore ? tg_sudo_gentime(r->notbefore) : INT64_MIN;
    int64_t na = r->notafter ? tg_sudo_gentime(r->notafter) : INT64_MAX;
    if (na == INT64_MIN) {
        tg_snap_problem(d, r->file, r->line, false,
                        "sudo rule %s: sudoNotAfter '%s' is not YYYYMMDDHHMMSSZ; ignored", r->cn,
                        r->notafter);
        na = INT64_MAX;
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->cmds.n; i++) {
            const char *c = r->cmds.v[i];
            bool neg = c[0] == '!';
            if (neg != (pass == 1))
                continue;
            struct tg_sudo_cmndspec *cs = tg_sudo_cs_new(p);
            cs->runasusers = ru;
            cs->runasgroups = rg;
            cs->notbefore = nb;
            cs->notafter = na;
            const char *err = NULL;
            if (tg_sudo_cmd_parse(d, &cs->cmnd, c, &err) != 0) {
                tg_snap_problem(d, r->file, r->line, false, "sudo rule %s: command '%s': %s", r->cn,
                                c, err);
                cs->cmnd.type = TG_SM_BROKEN;
            }
        }
    if (ipa)
        d->nsudo_ipa++;
    else
        d->nsudo_ldap++;
}

/* The attributes sudoRole and ipaSudoRule share: sudoOrder, sudoNotBefore,
 * sudoNotAfter.  True when n was one of them. */
static bool tg_role_shared_attr(struct tg_role *r, const char *n, const char *v)
{
    if (strcmp(n, "sudoorder") == 0)
        r->order = v;
    else if (strcmp(n, "sudonotbefore") == 0)
        r->notbefore = v;
    else if (strcmp(n, "sudonotafter") == 0)
        r->notafter = v;
    else
        return false;
    return true;
}

static void tg_ldif_sudorole(struct tg_snapshot_data *d, const struct tg_ldif_entry *e)
{
    struct tg_role r = {.cn = tg_attr1(e, "cn"), .file = e->file, .line = e->line};
    if (!r.cn)
        r.cn = e->dn;
    for (size_t i = 0; i < e->n; i++) {
        const char *n = e->a[i].name, *v = e->a[i].value;
        if (strcmp(n, "sudouser") == 0)
            tg_strv_add(&r.users, v);
        else if (strcmp(n, "sudohost") == 0)
            tg_strv_add(&r.hosts, v);
        else if (strcmp(n, "sudocommand") == 0)
            tg_strv_add(&r.cmds, v);
        else if (strcmp(n, "sudorunasuser") == 0 || strcmp(n, "sudorunas") == 0) {
            tg_strv_add(&r.runasusers, v);
            r.has_ru = true;
        } else if (strcmp(n, "sudorunasgroup") == 0) {
            tg_strv_add(&r.runasgroups, v);
            r.has_rg = true;
        } else if (tg_role_shared_attr(&r, n, v))
            continue;
        else if (strcmp(n, "sudooption") == 0 && strcasecmp(r.cn, "defaults") == 0) {
            if (strncmp(v, "secure_path=", 12) == 0)
                d->secure_path = tg_snap_strdup(d, v + 12, strlen(v + 12));
            else if (strncmp(v, "runas_default=", 14) == 0)
                d->runas_default = tg_snap_strdup(d, v + 14, strlen(v + 14));
        }
    }
    tg_role_build(d, &r, false);
    tg_role_free(&r);
}

static struct tg_ldif_pending *tg_pending(struct tg_snapshot_data *d)
{
    if (!d->ldif_pending) {
        struct tg_ldif_pending *p = tg_xcalloc(1, sizeof(*p));
        tg_strmap_init(&p->cmd_by_id);
        tg_strmap_init(&p->grp_by_name);
        d->ldif_pending = p;
    }
    return d->ldif_pending;
}

/* Keep a copy of e (its strings are in the snapshot arena already). */
static void tg_keep(struct tg_ldif_entry **arr, size_t *n, size_t *cap,
                    const struct tg_ldif_entry *e)
{
    *arr = tg_xgrow(*arr, *n, cap, sizeof(**arr), 16);
    struct tg_ldif_entry *c = &(*arr)[(*n)++];
    *c = *e;
    c->a = tg_xmalloc((e->n ? e->n : 1) * sizeof(*e->a));
    memcpy(c->a, e->a, e->n * sizeof(*e->a));
    c->cap = e->n;
}

static void tg_ldif_sudocmd(struct tg_snapshot_data *d, const struct tg_ldif_entry *e)
{
    struct tg_ldif_pending *p = tg_pending(d);
    const char *cmd = tg_attr1(e, "sudocmd");
    if (!cmd) {
        tg_snap_damage(d, e->file, e->line,
                       "sudo command entry %s has no sudoCmd, so the command cannot be used; "
                       "export cn=sudocmds again with all attributes",
                       e->dn);
        return;
    }
    p->cmds = tg_xgrow(p->cmds, p->ncmds, &p->capcmds, sizeof(*p->cmds), 16);
    uint32_t idx = (uint32_t)p->ncmds;
    p->cmds[p->ncmds++] = cmd;
    const char *uid = tg_attr1(e, "ipauniqueid");
    if (uid)
        tg_strmap_put(&p->cmd_by_id, uid, strlen(uid), idx);
    char *rdn;
    tg_dn_classify(d, e->dn, &rdn);
    if (rdn)
        tg_strmap_put(&p->cmd_by_id, rdn, strlen(rdn), idx);
}

static void tg_ldif_entry_done(struct tg_snapshot_data *d, struct tg_ldif_entry *e)
{
    uint32_t id;
    char *name;
    if (tg_has_oc(e, "ipahbacrule")) {
        tg_ldif_hbac_rule(d, e);
        return;
    }
    if (tg_has_oc(e, "sudorole")) {
        tg_ldif_sudorole(d, e);
        return;
    }
    if (tg_has_oc(e, "ipasudorule")) {
        struct tg_ldif_pending *p = tg_pending(d);
        tg_keep(&p->rules, &p->nrules, &p->caprules, e);
        return;
    }
    int k = tg_dn_classify(d, e->dn, &name);
    if (tg_has_oc(e, "ipasudocmd") || k == TG_K_SUDOCMD) {
        tg_ldif_sudocmd(d, e);
        return;
    }
    if (tg_has_oc(e, "ipasudocmdgrp") || k == TG_K_CMDGROUP) {
        struct tg_ldif_pending *p = tg_pending(d);
        const char *cn = tg_attr1(e, "cn");
        if (!cn)
            cn = name;
        tg_strmap_put(&p->grp_by_name, cn, strlen(cn), (uint32_t)p->ngrps);
        tg_keep(&p->grps, &p->ngrps, &p->capgrps, e);
        return;
    }
    if (k == TG_K_UNKNOWN) {
        if (tg_has_oc(e, "posixaccount") && tg_attr1(e, "uid"))
            k = TG_NS_USER, name = (char *)tg_attr1(e, "uid");
        else if (tg_has_oc(e, "posixgroup") && tg_attr1(e, "cn"))
            k = TG_NS_GROUP, name = (char *)tg_attr1(e, "cn");
        else if (tg_has_oc(e, "nisnetgroup") && tg_attr1(e, "cn"))
            k = TG_NS_NETGROUP, name = (char *)tg_attr1(e, "cn");
    }
    switch (k) {
    case TG_NS_USER: {
        const char *uid = tg_attr1(e, "uid");
        struct tg_entity *u = tg_define(d, e, TG_NS_USER, uid ? uid : name, &id);
        u->uid = tg_num(tg_attr1(e, "uidnumber"));
        u->gid = tg_num(tg_attr1(e, "gidnumber"));
        if (tg_attr1(e, "loginshell"))
            u->shell = tg_attr1(e, "loginshell");
        if (tg_attr1(e, "homedirectory"))
            u->home = tg_attr1(e, "homedirectory");
        tg_link_memberof(d, e, TG_NS_USER, id);
        return;
    }
    case TG_NS_GROUP:
    case TG_NS_HOSTGROUP:
    case TG_NS_SVCGROUP: {
        const char *cn = tg_attr1(e, "cn");
        struct tg_entity *g = tg_define(d, e, (enum tg_ns)k, cn ? cn : name, &id);
        if (k == TG_NS_GROUP)
            g->gid = tg_num(tg_attr1(e, "gidnumber"));
        tg_link_members(d, e, k, id);
        tg_link_memberof(d, e, k, id);
        return;
    }
    case TG_NS_HOST:
    case TG_NS_SERVICE: {
        const char *n = tg_attr1(e, k == TG_NS_HOST ? "fqdn" : "cn");
        tg_define(d, e, (enum tg_ns)k, n ? n : name, &id);
        tg_link_memberof(d, e, k, id);
        return;
    }
    case TG_NS_NETGROUP: {
        const char *cn = tg_attr1(e, "cn");
        struct tg_entity *ng = tg_define(d, e, TG_NS_NETGROUP, cn ? cn : name, &id);
        for (size_t i = 0; i < e->n; i++) {
            const char *v = e->a[i].value;
            if (strcmp(e->a[i].name, "nisnetgrouptriple") == 0) {
                char h[256] = "", u[256] = "";
                if (sscanf(v, " (%255[^,],%255[^,],", h, u) < 1)
                    sscanf(v, " (,%255[^,],", u);
                ng = &d->ns[TG_NS_NETGROUP].v[id];
                ng->triples = tg_xrealloc(ng->triples, (ng->ntriples + 1) * sizeof(*ng->triples));
                ng->triples[ng->ntriples++] =
                    (struct tg_netgr_triple){*h ? tg_snap_strdup(d, h, strlen(h)) : NULL,
                                             *u ? tg_snap_strdup(d, u, strlen(u)) : NULL};
            } else if (strcmp(e->a[i].name, "membernisnetgroup") == 0) {
                uint32_t c = tg_snap_intern(d, TG_NS_NETGROUP, v, strlen(v));
                tg_idlist_add(&d->ns[TG_NS_NETGROUP].v[id].children, c);
            }
        }
        return;
    }
    default:
        if (!tg_has_oc(e, "nscontainer") && !tg_has_oc(e, "organizationalunit") &&
            !tg_has_oc(e, "domain"))
            tg_snap_problem(d, e->file, e->line, true,
                            "entry %s is not a kind the policy uses (user, group, host, host "
                            "group, HBAC service/rule, sudo rule/command); ignored",
                            e->dn);
    }
}

/* ----------------------------------------------------- IdM sudo rules */

static const char *tg_cmd_of(struct tg_snapshot_data *d, const char *dn)
{
    struct tg_ldif_pending *p = d->ldif_pending;
    char *name;
    tg_dn_classify(d, dn, &name);
    if (!name)
        return NULL;
    uint32_t i = tg_strmap_get(&p->cmd_by_id, name, strlen(name));
    return i == TG_STRMAP_NONE ? NULL : p->cmds[i];
}

/* Add the sudoCmd(s) named by DN (a command or a command group). */
static void tg_ipa_cmds(struct tg_snapshot_data *d, struct tg_role *r, const struct tg_ldif_attr *a,
                        bool deny, const char *file)
{
    struct tg_ldif_pending *p = d->ldif_pending;
    char *name;
    int k = tg_dn_classify(d, a->value, &name);
    const char *one = k == TG_K_CMDGROUP ? NULL : tg_cmd_of(d, a->value);
    if (one) {
        tg_strv_add(&r->cmds, deny ? tg_snap_printf(d, "!%s", one) : one);
        return;
    }
    uint32_t g = name ? tg_strmap_get(&p->grp_by_name, name, strlen(name)) : TG_STRMAP_NONE;
    if (g == TG_STRMAP_NONE) {
        tg_snap_problem(d, file, a->line, false,
                        "sudo rule %s: %s '%s' names no sudo command or command group in the "
                        "snapshot; export cn=sudocmds and cn=sudocmdgroups too",
                        r->cn, a->name, a->value);
        return;
    }
    const struct tg_ldif_entry *ge = &p->grps[g];
    for (size_t i = 0; i < ge->n; i++) {
        if (strcmp(ge->a[i].name, "member") != 0)
            continue;
        const char *c = tg_cmd_of(d, ge->a[i].value);
        if (c)
            tg_strv_add(&r->cmds, deny ? tg_snap_printf(d, "!%s", c) : c);
        else
            tg_snap_problem(d, ge->file, ge->a[i].line, false,
                            "command group %s: member '%s' is not a sudo command in the snapshot",
                            ge->dn, ge->a[i].value);
    }
}

static void tg_ipa_rule(struct tg_snapshot_data *d, const struct tg_ldif_entry *e)
{
    struct tg_role r = {.cn = tg_attr1(e, "cn"), .file = e->file, .line = e->line};
    if (!r.cn)
        r.cn = e->dn;
    const char *en = tg_attr1(e, "ipaenabledflag");
    if (en && strcasecmp(en, "FALSE") == 0)
        return; /* disabled: IdM does not export it to clients */
    for (size_t i = 0; i < e->n; i++) {
        const struct tg_ldif_attr *a = &e->a[i];
        const char *n = a->name, *v = a->value;
        char *nm;
        int k;
        if (strcmp(n, "usercategory") == 0 && strcasecmp(v, "all") == 0)
            tg_strv_add(&r.users, "ALL");
        else if (strcmp(n, "externaluser") == 0)
            tg_strv_add(&r.users, v);
        else if (strcmp(n, "memberuser") == 0 || strcmp(n, "ipasudorunas") == 0) {
            struct tg_strv *dst = n[0] == 'm' ? &r.users : &r.runasusers;
            k = tg_dn_classify(d, v, &nm);
            if (dst == &r.runasusers)
                r.has_ru = true;
            if (k == TG_NS_USER)
                tg_strv_add(dst, nm);
            else if (k == TG_NS_GROUP)
                tg_strv_add(dst, tg_snap_printf(d, "%%%s", nm));
            else
                tg_snap_problem(d, e->file, a->line, false,
                                "sudo rule %s: %s '%s' is not a user or group DN; ignored", r.cn, n,
                                v);
        } else if (strcmp(n, "hostcategory") == 0 && strcasecmp(v, "all") == 0)
            tg_strv_add(&r.hosts, "ALL");
        else if (strcmp(n, "externalhost") == 0 || strcmp(n, "hostmask") == 0)
            tg_strv_add(&r.hosts, v);
        else if (strcmp(n, "memberhost") == 0) {
            k = tg_dn_classify(d, v, &nm);
            if (k == TG_NS_HOST)
                tg_strv_add(&r.hosts, nm);
            else if (k == TG_NS_HOSTGROUP)
                tg_strv_add(&r.hosts, tg_snap_printf(d, "+%s", nm));
            else
                tg_snap_problem(d, e->file, a->line, false,
                                "sudo rule %s: memberHost '%s' is not a host or host group DN; "
                                "ignored",
                                r.cn, v);
        } else if (strcmp(n, "cmdcategory") == 0 && strcasecmp(v, "all") == 0)
            tg_strv_add(&r.cmds, "ALL");
        else if (strcmp(n, "memberallowcmd") == 0)
            tg_ipa_cmds(d, &r, a, false, e->file);
        else if (strcmp(n, "memberdenycmd") == 0)
            tg_ipa_cmds(d, &r, a, true, e->file);
        else if (strcmp(n, "ipasudorunasusercategory") == 0 && strcasecmp(v, "all") == 0) {
            tg_strv_add(&r.runasusers, "ALL");
            r.has_ru = true;
        } else if (strcmp(n, "ipasudorunasextuser") == 0) {
            tg_strv_add(&r.runasusers, v);
            r.has_ru = true;
        } else if (strcmp(n, "ipasudorunasextusergroup") == 0) {
            tg_strv_add(&r.runasusers, tg_snap_printf(d, "%%%s", v));
            r.has_ru = true;
        } else if (strcmp(n, "ipasudorunasgroupcategory") == 0 && strcasecmp(v, "all") == 0) {
            tg_strv_add(&r.runasgroups, "ALL");
            r.has_rg = true;
        } else if (strcmp(n, "ipasudorunasextgroup") == 0) {
            tg_strv_add(&r.runasgroups, v);
            r.has_rg = true;
        } else if (strcmp(n, "ipasudorunasgroup") == 0) {
            k = tg_dn_classify(d, v, &nm);
            if (nm)
                tg_strv_add(&r.runasgroups, nm);
            r.has_rg = true;
        } else {
            tg_role_shared_attr(&r, n, v);
        }
    }
    tg_role_build(d, &r, true);
    tg_role_free(&r);
}

void tg_ldif_finish(struct tg_snapshot_data *d)
{
    struct tg_ldif_pending *p = d->ldif_pending;
    if (!p)
        return;
    for (size_t i = 0; i < p->nrules; i++)
        tg_ipa_rule(d, &p->rules[i]);
    for (size_t i = 0; i < p->nrules; i++)
        free(p->rules[i].a);
    for (size_t i = 0; i < p->ngrps; i++)
        free(p->grps[i].a);
    free(p->rules);
    free(p->grps);
    free(p->cmds);
    tg_strmap_free(&p->cmd_by_id);
    tg_strmap_free(&p->grp_by_name);
    free(p);
    d->ldif_pending = NULL;
}
