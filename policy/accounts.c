/*
 * accounts.c - passwd, group and netgroup files of a policy snapshot
 * (`getent passwd`, `getent group`, `getent netgroup`-style or
 * /etc/netgroup text).
 *
 * The kind is recognised from the content (tg_accounts_kind): passwd lines
 * have 7 colon-separated fields with numeric uid and gid, group lines 4 with
 * a numeric gid, netgroup lines are `NAME (host,user,domain) ... | NAME`.
 * Loading adds users (uid, primary gid, shell, home), groups (gid, members)
 * and netgroups to the snapshot.  A malformed line is damage (model.h): it
 * is reported with file:line and the snapshot does not load, since the
 * account or membership it held would be missing.  Single-threaded
 * (snapshot load).
 *
 * A passwd file whose first line is "# host: NAME [NAME...]" (names
 * separated by blanks or commas) is the local passwd of those hosts
 * (model.h, struct tg_local_passwd): its accounts resolve the uids of
 * their records only, and are not users of the snapshot.  A group file with
 * such a line is not used (reported), since local groups say nothing about
 * the directory's.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "policy/model.h"

/* Split s (NUL-free, length n) at ':' into at most max fields. */
static int tg_split_colon(const char *s, size_t n, struct tg_str *f, int max)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ':') {
            if (k == max)
                return max + 1;
            f[k++] = tg_str_make(s + start, i - start);
            start = i + 1;
        }
    }
    return k;
}

static bool tg_is_num(struct tg_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!isdigit((unsigned char)s.p[i]))
            return false;
    return true;
}

/* Iterate lines: returns false at the end. */
static bool tg_next_line(const char *text, size_t len, size_t *pos, struct tg_str *line, int *no)
{
    if (*pos >= len)
        return false;
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    *line = tg_str_make(text + *pos, end - *pos);
    if (line->len && line->p[line->len - 1] == '\r')
        line->len--;
    *pos = end + 1;
    (*no)++;
    return true;
}

static bool tg_skip_line(struct tg_str l)
{
    size_t i = 0;
    while (i < l.len && isspace((unsigned char)l.p[i]))
        i++;
    return i == l.len || l.p[i] == '#';
}

const char *tg_accounts_kind(const char *text, size_t len)
{
    size_t pos = 0;
    int no = 0, seen = 0, pw = 0, gr = 0, ng = 0;
    struct tg_str l, f[8];
    while (seen < 50 && tg_next_line(text, len, &pos, &l, &no)) {
        if (tg_skip_line(l))
            continue;
        seen++;
        int k = tg_split_colon(l.p, l.len, f, 7);
        if (k == 7 && tg_is_num(f[2]) && tg_is_num(f[3]))
            pw++;
        else if (k == 4 && tg_is_num(f[2]))
            gr++;
        else if (k == 1 && memchr(l.p, '(', l.len) && memchr(l.p, ')', l.len))
            ng++;
    }
    if (seen == 0)
        return NULL;
    if (pw == seen)
        return "passwd";
    if (gr == seen)
        return "group";
    if (ng > 0 && ng * 2 >= seen)
        return "netgroup";
    return NULL;
}

/* The hosts named by a "# host: ..." first line, as one slice (empty: none). */
static struct tg_str tg_accounts_hosts(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == '\n' || text[i] == '\r' || text[i] == ' ' || text[i] == '\t'))
        i++;
    if (i >= len || text[i] != '#')
        return TG_STR_NULL;
    i++;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (len - i < 5 || strncasecmp(text + i, "host:", 5) != 0)
        return TG_STR_NULL;
    i += 5;
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len;
    return tg_str_make(text + i, end - i);
}

/* Register the local passwd table `idx` under every host it names (and the
 * short form of a dotted name, unless another file has it). */
static void tg_accounts_scope(struct tg_snapshot_data *d, const char *file, struct tg_str hosts,
                              uint32_t idx)
{
    size_t i = 0, named = 0;
    while (i < hosts.len) {
        while (i < hosts.len && strchr(" \t,\r", hosts.p[i]))
            i++;
        size_t st = i;
        while (i < hosts.len && !strchr(" \t,\r", hosts.p[i]))
            i++;
        if (i == st)
            continue;
        named++;
        const char *h = tg_snap_strdup(d, hosts.p + st, i - st);
        uint32_t had = tg_strmap_put(&d->local_by_host, h, i - st, idx);
        if (had != idx) {
            tg_snap_problem(d, file, 1, true,
                            "host %s already has a local passwd file (%s); only that one is "
                            "used for it",
                            h, d->locals[had].file);
            continue;
        }
        const char *dot = strchr(h, '.');
        if (dot && dot > h)
            tg_strmap_put(&d->local_by_host, h, (size_t)(dot - h), idx);
    }
    if (!named)
        tg_snap_problem(d, file, 1, false,
                        "\"# host:\" names no host; give the host names this passwd file is "
                        "from, e.g. \"# host: web1.example.com\"");
}

static int64_t tg_num_of(struct tg_str s)
{
    return tg_is_num(s) ? strtoll(s.p, NULL, 10) : -1;
}

static void tg_load_netgroup_line(struct tg_snapshot_data *d, const char *file, int no,
                                  struct tg_str l)
{
    size_t i = 0;
    while (i < l.len && isspace((unsigned char)l.p[i]))
        i++;
    size_t ns = i;
    while (i < l.len && !isspace((unsigned char)l.p[i]))
        i++;
    uint32_t id = tg_snap_intern(d, TG_NS_NETGROUP, l.p + ns, i - ns);
    struct tg_entity *ng = &d->ns[TG_NS_NETGROUP].v[id];
    if (!ng->file) {
        ng->file = file;
        ng->line = no;
    }
    while (i < l.len) {
        while (i < l.len && isspace((unsigned char)l.p[i]))
            i++;
        if (i >= l.len)
            break;
        if (l.p[i] == '(') {
            const char *close = memchr(l.p + i, ')', l.len - i);
            if (!close) {
                tg_snap_damage(d, file, no,
                               "netgroup triple without ')'; repair the line or export the file "
                               "again");
                return;
            }
            struct tg_str f[3] = {0};
            size_t k = 0, st = i + 1;
            for (size_t j = i + 1; j <= (size_t)(close - l.p) && k < 3; j++)
                if (l.p[j] == ',' || l.p + j == close) {
                    f[k++] = tg_str_make(l.p + st, j - st);
                    st = j + 1;
                }
            for (size_t t = 0; t < 2; t++) /* trim blanks */
                while (f[t].len && isspace((unsigned char)f[t].p[0]))
                    f[t].p++, f[t].len--;
            ng = &d->ns[TG_NS_NETGROUP].v[id];
            ng->triples = tg_xrealloc(ng->triples, (ng->ntriples + 1) * sizeof(*ng->triples));
            ng->triples[ng->ntriples++] =
                (struct tg_netgr_triple){f[0].len ? tg_snap_strdup(d, f[0].p, f[0].len) : NULL,
                                         f[1].len ? tg_snap_strdup(d, f[1].p, f[1].len) : NULL};
            i = (size_t)(close - l.p) + 1;
        } else {
            size_t s = i;
            while (i < l.len && !isspace((unsigned char)l.p[i]))
                i++;
            uint32_t c = tg_snap_intern(d, TG_NS_NETGROUP, l.p + s, i - s);
            tg_idlist_add(&d->ns[TG_NS_NETGROUP].v[id].children, c);
        }
    }
}

void tg_accounts_load(struct tg_snapshot_data *d, const char *file, const char *text, size_t len,
                      const char *kind)
{
    size_t pos = 0;
    int no = 0;
    struct tg_str l, f[8];
    struct tg_str hosts = strcmp(kind, "netgroup") ? tg_accounts_hosts(text, len) : TG_STR_NULL;
    struct tg_local_passwd *local = NULL;
    if (hosts.p && strcmp(kind, "group") == 0) {
        tg_snap_problem(d, file, 1, true,
                        "a host's own group file is not used (its groups say nothing about the "
                        "directory's); remove the \"# host:\" line to load it for every host");
        return;
    }
    if (hosts.p) {
        d->locals = tg_xgrow(d->locals, d->nlocals, &d->caplocals, sizeof(*d->locals), 4);
        local = &d->locals[d->nlocals];
        *local = (struct tg_local_passwd){.file = file};
        tg_accounts_scope(d, file, hosts, (uint32_t)d->nlocals++);
    }
    while (tg_next_line(text, len, &pos, &l, &no)) {
        if (tg_skip_line(l))
            continue;
        if (strcmp(kind, "netgroup") == 0) {
            tg_load_netgroup_line(d, file, no, l);
            continue;
        }
        bool pw = strcmp(kind, "passwd") == 0;
        int k = tg_split_colon(l.p, l.len, f, 7);
        if (pw ? (k != 7 || !tg_is_num(f[2]) || !tg_is_num(f[3]))
               : (k != 4 || !tg_is_num(f[2])) || f[0].len == 0) {
            tg_snap_damage(d, file, no,
                           "not a %s line (expected %s); repair the line or export "
                           "the file again (getent %s)",
                           kind, pw ? "name:x:uid:gid:gecos:home:shell" : "name:x:gid:member,...",
                           kind);
            continue;
        }
        if (local) { /* a host's own account: for its uid only */
            local->v = tg_xgrow(local->v, local->n, &local->cap, sizeof(*local->v), 16);
            local->v[local->n++] =
                (struct tg_local_user){tg_num_of(f[2]), tg_snap_strdup(d, f[0].p, f[0].len), no};
            continue;
        }
        enum tg_ns ns = pw ? TG_NS_USER : TG_NS_GROUP;
        uint32_t id = tg_snap_intern(d, ns, f[0].p, f[0].len);
        struct tg_entity *en = &d->ns[ns].v[id];
        if (en->file && en->uid >= 0 && pw)
            continue; /* first definition wins, as in NSS */
        if (!en->file) {
            en->file = file;
            en->line = no;
        }
        if (pw) {
            en->uid = tg_num_of(f[2]);
            en->gid = tg_num_of(f[3]);
            en->home = tg_snap_strdup(d, f[5].p, f[5].len);
            en->shell = tg_snap_strdup(d, f[6].p, f[6].len);
            continue;
        }
        en->gid = tg_num_of(f[2]);
        size_t st = 0;
        for (size_t i = 0; i <= f[3].len; i++) {
            if (i < f[3].len && f[3].p[i] != ',')
                continue;
            if (i > st) {
                uint32_t u = tg_snap_intern(d, TG_NS_USER, f[3].p + st, i - st);
                tg_idlist_add(&d->ns[TG_NS_USER].v[u].parents, id);
            }
            st = i + 1;
        }
    }
}
