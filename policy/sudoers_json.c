/*
 * sudoers_json.c - sudoers as `cvtsudoers -f json` writes it (json-c).
 *
 * The JSON keeps sudoers' order, which is its semantics (last match wins),
 * and its aliases, which are resolved here into shared member lists (an
 * alias may name another alias; a name that is not defined is reported and
 * never matches).  Each User_Specs element becomes one spec with one
 * privilege (cvtsudoers already splits `u h1 = A : h2 = B` in two); each
 * command of a Cmnd_Spec becomes one command spec sharing the runas lists,
 * as in sudo's own parse tree.  A spec is named FILE:LINE, the line of its
 * "User_List" in the JSON file, so a person can find it.
 *
 * sudo 1.9.13's cvtsudoers emits invalid JSON for CWD=/CHROOT= (a bare
 * "runcwd": "/tmp" inside an array); such files are repaired (the member is
 * wrapped in braces) with a warning.  Any other invalid JSON (a truncated
 * file, text after the document) is damage (model.h): the snapshot does not
 * load.  Members and specs that are valid JSON but mean nothing sudo knows
 * are problems: they never match, and lint shows them.  Single-threaded
 * (snapshot load).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "policy/model.h"

enum tg_alias_kind { TG_AK_USER = 0, TG_AK_RUNAS, TG_AK_HOST, TG_AK_CMND, TG_AK_COUNT };

struct tg_json_ctx {
    struct tg_snapshot_data *d;
    const char *file;
    struct tg_strmap aliases[TG_AK_COUNT]; /* name -> index into lists */
    struct tg_sudo_list **alists[TG_AK_COUNT];
    size_t nalists[TG_AK_COUNT];
};

static int tg_line_at(const char *text, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

static struct tg_sudo_list *tg_alias_get(struct tg_json_ctx *c, enum tg_alias_kind k,
                                         const char *name, bool create)
{
    uint32_t i = tg_strmap_get(&c->aliases[k], name, strlen(name));
    if (i != TG_STRMAP_NONE)
        return c->alists[k][i];
    if (!create)
        return NULL;
    struct tg_sudo_list *l = tg_sudo_list_new(c->d);
    c->alists[k] = tg_xrealloc(c->alists[k], (c->nalists[k] + 1) * sizeof(*c->alists[k]));
    c->alists[k][c->nalists[k]] = l;
    char *key = tg_snap_strdup(c->d, name, strlen(name));
    tg_strmap_put(&c->aliases[k], key, strlen(key), (uint32_t)c->nalists[k]++);
    return l;
}

/* Fill m from one Member object; problems are reported with `line`. */
static void tg_json_member(struct tg_json_ctx *c, struct tg_sudo_member *m, json_object *o,
                           int line, bool host)
{
    m->type = TG_SM_BROKEN;
    if (!json_object_is_type(o, json_type_object)) {
        tg_snap_problem(c->d, c->file, line, false,
                        "member is not a JSON object; it never matches");
        return;
    }
    json_object_object_foreach(o, key, val)
    {
        if (strcmp(key, "negated") == 0) {
            m->negated = json_object_get_boolean(val);
            continue;
        }
        if (strncmp(key, "sha", 3) == 0) /* digest of a command: not checked offline */
            continue;
        const char *sv = json_object_get_string(val);
        if (!sv) { /* null */
            tg_snap_problem(c->d, c->file, line, false, "member '%s' is null; it never matches",
                            key);
            continue;
        }
        static const struct {
            const char *key;
            enum tg_alias_kind k;
        } aliases[] = {{"useralias", TG_AK_USER},
                       {"runasalias", TG_AK_RUNAS},
                       {"hostalias", TG_AK_HOST},
                       {"cmndalias", TG_AK_CMND}};
        bool done = false;
        for (size_t i = 0; i < 4 && !done; i++)
            if (strcmp(key, aliases[i].key) == 0) {
                done = true;
                m->alias = tg_alias_get(c, aliases[i].k, sv, false);
                m->str = tg_snap_strdup(c->d, sv, strlen(sv));
                if (m->alias) {
                    m->type = TG_SM_ALIAS;
                } else if (aliases[i].k != TG_AK_CMND) { /* sudo falls back to a plain name */
                    m->type = TG_SM_NAME;
                    tg_snap_problem(c->d, c->file, line, true,
                                    "%s '%s' is not defined; sudo matches it as a plain name", key,
                                    sv);
                } else {
                    tg_snap_problem(c->d, c->file, line, false,
                                    "%s '%s' is not defined; the member never matches", key, sv);
                }
            }
        if (done)
            continue;
        if (strcmp(key, "command") == 0) {
            bool neg = m->negated; /* "negated" may come before "command" */
            const char *err = NULL;
            m->negated = false;
            if (tg_sudo_cmd_parse(c->d, m, sv, &err) != 0) {
                tg_snap_problem(c->d, c->file, line, false, "command '%s': %s", sv, err);
                m->type = TG_SM_BROKEN;
            }
            m->negated ^= neg;
        } else if (strcmp(key, "username") == 0 || strcmp(key, "hostname") == 0) {
            bool neg = m->negated;
            tg_sudo_member_parse(c->d, m, sv, host);
            m->negated = neg;
            if (m->type != TG_SM_ALL && m->type != TG_SM_MYSELF)
                m->type = TG_SM_NAME; /* a literal name, even if it starts with % or # */
            if (strcmp(key, "username") == 0 && sv[0] == '#')
                m->type = TG_SM_NAME; /* userpw_matches handles #uid */
        } else if (strcmp(key, "userid") == 0) {
            m->type = TG_SM_ID;
            m->num = json_object_get_int64(val);
            m->str = tg_snap_printf(c->d, "#%lld", (long long)m->num);
        } else if (strcmp(key, "usergroup") == 0 || strcmp(key, "nonunixgroup") == 0) {
            m->type = strcmp(sv, "ALL") == 0 ? TG_SM_ALL : TG_SM_GROUP;
            m->str = tg_snap_strdup(c->d, sv, strlen(sv));
        } else if (strcmp(key, "usergid") == 0 || strcmp(key, "nonunixgid") == 0) {
            m->type = TG_SM_GID;
            m->num = json_object_get_int64(val);
            m->str = tg_snap_printf(c->d, "#%lld", (long long)m->num);
        } else if (strcmp(key, "netgroup") == 0) {
            m->type = TG_SM_NETGROUP;
            m->str = tg_snap_strdup(c->d, sv, strlen(sv));
        } else if (strcmp(key, "networkaddr") == 0) {
            m->type = TG_SM_NETADDR;
            m->str = tg_snap_strdup(c->d, sv, strlen(sv));
        } else {
            tg_snap_problem(c->d, c->file, line, true, "unknown member type '%s'; it never matches",
                            key);
        }
    }
}

static void tg_json_list(struct tg_json_ctx *c, struct tg_sudo_list *l, json_object *arr, int line,
                         bool host)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++)
        tg_json_member(c, tg_sudo_list_add(l), json_object_array_get_idx(arr, i), line, host);
}

static void tg_json_cmndspec(struct tg_json_ctx *c, struct tg_sudo_priv *p, json_object *o,
                             int line)
{
    json_object *v;
    struct tg_sudo_list *ru = NULL, *rg = NULL;
    if (json_object_object_get_ex(o, "runasusers", &v)) {
        ru = tg_sudo_list_new(c->d);
        tg_json_list(c, ru, v, line, false);
    }
    if (json_object_object_get_ex(o, "runasgroups", &v)) {
        rg = tg_sudo_list_new(c->d);
        tg_json_list(c, rg, v, line, false);
    }
    int64_t nb = INT64_MIN, na = INT64_MAX;
    if (json_object_object_get_ex(o, "Options", &v) && json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *opt = json_object_array_get_idx(v, i), *t;
            if (json_object_object_get_ex(opt, "notbefore", &t))
                nb = tg_sudo_gentime(json_object_get_string(t));
            if (json_object_object_get_ex(opt, "notafter", &t)) {
                na = tg_sudo_gentime(json_object_get_string(t));
                if (na == INT64_MIN)
                    na = INT64_MAX;
            }
        }
    }
    if (!json_object_object_get_ex(o, "Commands", &v) || !json_object_is_type(v, json_type_array)) {
        tg_snap_problem(c->d, c->file, line, false, "Cmnd_Spec without Commands; ignored");
        return;
    }
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct tg_sudo_cmndspec *cs = tg_sudo_cs_new(p);
        cs->runasusers = ru;
        cs->runasgroups = rg;
        cs->notbefore = nb;
        cs->notafter = na;
        tg_json_member(c, &cs->cmnd, json_object_array_get_idx(v, i), line, false);
    }
}

/* Wrap bare "runcwd"/"runchroot" members of arrays in braces (sudo < 1.9.16). */
static char *tg_json_repair(const char *text, size_t len, size_t *fixes)
{
    struct tg_buf b = TG_BUF_INIT;
    *fixes = 0;
    for (size_t i = 0; i < len;) {
        const char *k = NULL;
        if (text[i] == '"' && (strncmp(text + i, "\"runcwd\"", 8) == 0 ||
                               strncmp(text + i, "\"runchroot\"", 11) == 0)) {
            size_t j = b.len;
            while (j > 0 && strchr(" \t\r\n", b.data[j - 1]))
                j--;
            if (j > 0 && (b.data[j - 1] == '[' || b.data[j - 1] == ','))
                k = text + i;
        }
        if (!k) {
            tg_buf_putc(&b, text[i++]);
            continue;
        }
        /* "key": "value" -> { "key": "value" } */
        const char *colon = strchr(k + 1, ':');
        const char *q1 = colon ? strchr(colon, '"') : NULL;
        const char *q2 = q1 ? q1 + 1 : NULL;
        while (q2 && *q2 && *q2 != '"')
            q2 += (*q2 == '\\' && q2[1]) ? 2 : 1;
        if (!q2 || *q2 != '"') {
            tg_buf_putc(&b, text[i++]);
            continue;
        }
        tg_buf_putc(&b, '{');
        tg_buf_append(&b, k, (size_t)(q2 + 1 - k));
        tg_buf_putc(&b, '}');
        i = (size_t)(q2 + 1 - text);
        (*fixes)++;
    }
    tg_buf_cstr(&b);
    return b.data;
}

void tg_sudoers_json_load(struct tg_snapshot_data *d, const char *file, const char *text,
                          size_t len)
{
    struct tg_json_ctx c = {.d = d, .file = file};
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    char *repaired = NULL;
    if (!root) {
        size_t off = json_tokener_get_parse_end(tok);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        const char *why = jerr == json_tokener_continue ? "the file ends in the middle of it"
                                                        : json_tokener_error_desc(jerr);
        size_t fixes = 0;
        repaired = tg_json_repair(text, len, &fixes);
        json_tokener_reset(tok);
        root = fixes ? json_tokener_parse_ex(tok, repaired, (int)strlen(repaired)) : NULL;
        if (!root) {
            tg_snap_damage(d, file, tg_line_at(text, off),
                           "invalid JSON (%s); export the file again with cvtsudoers -f json", why);
            json_tokener_free(tok);
            free(repaired);
            return;
        }
        tg_snap_problem(d, file, tg_line_at(text, off), true,
                        "invalid JSON from cvtsudoers < 1.9.16 (bare runcwd/runchroot); repaired "
                        "%zu place%s",
                        fixes, fixes == 1 ? "" : "s");
    }
    const char *src = repaired ? repaired : text;
    size_t end = json_tokener_get_parse_end(tok), srclen = repaired ? strlen(repaired) : len;
    while (end < srclen && src[end] && strchr(" \t\r\n", src[end]))
        end++;
    if (end < srclen)
        tg_snap_damage(d, file, tg_line_at(src, end),
                       "text after the end of the JSON document; export the file again with "
                       "cvtsudoers -f json");
    json_tokener_free(tok);
    for (int k = 0; k < TG_AK_COUNT; k++)
        tg_strmap_init(&c.aliases[k]);
    json_object *v;
    static const char *const akeys[TG_AK_COUNT] = {"User_Aliases", "Runas_Aliases", "Host_Aliases",
                                                   "Command_Aliases"};
    /* two passes: create every alias, then fill (aliases may name aliases) */
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < TG_AK_COUNT; k++) {
            if (!json_object_object_get_ex(root, akeys[k], &v) ||
                !json_object_is_type(v, json_type_object))
                continue;
            json_object_object_foreach(v, name, members)
            {
                struct tg_sudo_list *l = tg_alias_get(&c, (enum tg_alias_kind)k, name, true);
                if (pass == 1)
                    tg_json_list(&c, l, members, 1, k == TG_AK_HOST);
            }
        }
    if (json_object_object_get_ex(root, "Defaults", &v) && json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *def = json_object_array_get_idx(v, i), *opts, *t;
            if (json_object_object_get_ex(def, "Binding", &t) ||
                !json_object_object_get_ex(def, "Options", &opts) ||
                !json_object_is_type(opts, json_type_array))
                continue;
            for (size_t j = 0; j < json_object_array_length(opts); j++) {
                json_object *o = json_object_array_get_idx(opts, j);
                if (json_object_object_get_ex(o, "secure_path", &t)) {
                    const char *sp = json_object_get_string(t);
                    d->secure_path = tg_snap_strdup(d, sp, strlen(sp));
                }
                if (json_object_object_get_ex(o, "runas_default", &t)) {
                    const char *rd = json_object_get_string(t);
                    d->runas_default = tg_snap_strdup(d, rd, strlen(rd));
                }
            }
        }
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    int line = 1;
    const char *lp = src;
    if (json_object_object_get_ex(root, "User_Specs", &v) &&
        json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *us = json_object_array_get_idx(v, i), *t;
            const char *at = lp ? strstr(lp, "\"User_List\"") : NULL;
            if (at) {
                for (const char *p = lp; p < at; p++)
                    line += *p == '\n';
                lp = at + 1;
            }
            struct tg_sudo_spec *s =
                tg_sudo_spec_new(d, tg_snap_printf(d, "%s:%d", base, line), file, line);
            d->nsudo_json++;
            if (json_object_object_get_ex(us, "User_List", &t))
                tg_json_list(&c, &s->users, t, line, false);
            struct tg_sudo_priv *p = tg_sudo_priv_new(s);
            if (json_object_object_get_ex(us, "Host_List", &t))
                tg_json_list(&c, &p->hosts, t, line, true);
            if (json_object_object_get_ex(us, "Cmnd_Specs", &t) &&
                json_object_is_type(t, json_type_array))
                for (size_t k = 0; k < json_object_array_length(t); k++)
                    tg_json_cmndspec(&c, p, json_object_array_get_idx(t, k), line);
        }
    for (int k = 0; k < TG_AK_COUNT; k++) {
        tg_strmap_free(&c.aliases[k]);
        free(c.alists[k]);
    }
    json_object_put(root);
    free(repaired);
}
