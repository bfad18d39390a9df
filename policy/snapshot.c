/*
 * snapshot.c - load a snapshot directory, build its indexes, refcount it.
 * See snapshot.h.
 *
 * Load = read files in name order (hashing names and bytes into the id) ->
 * recognise and load each -> resolve cross-file references (IdM sudo
 * commands) -> order sudo rules (sudoers files first, in file order; then
 * LDAP roles by ascending sudoOrder, so that "last match wins" makes the
 * highest sudoOrder win) -> precompute transitive groups of every user,
 * host and service -> build the HBAC rule index.  All single-threaded; the
 * result is read-only.
 *
 * Loaders record two kinds of problem (model.h): findings (tg_snap_problem)
 * about what readable files say, and damage (tg_snap_damage) where the
 * bytes could not be read as written.  Every file is loaded either way, so
 * tg_snapshot_read can show `policy lint` all of them; tg_snapshot_load then
 * refuses a snapshot with damage, naming the first damaged file:line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "policy/snapshot.h"

/* ------------------------------------------------------------ model helpers */

char *tg_snap_strdup(struct tg_snapshot_data *d, const char *s, size_t n)
{
    return (char *)tg_arena_strndup(&d->arena, s, n).p;
}

char *tg_snap_printf(struct tg_snapshot_data *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *tmp;
    if (vasprintf(&tmp, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *r = tg_snap_strdup(d, tmp, strlen(tmp));
    free(tmp);
    return r;
}

static void tg_snap_vproblem(struct tg_snapshot_data *d, const char *file, int line, bool warning,
                             bool damage, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static void tg_snap_vproblem(struct tg_snapshot_data *d, const char *file, int line, bool warning,
                             bool damage, const char *fmt, va_list ap)
{
    d->problems = tg_xgrow(d->problems, d->nproblems, &d->capproblems, sizeof(*d->problems), 16);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    d->problems[d->nproblems++] = (struct tg_problem){file, line, warning, damage, msg};
    d->ndamage += damage;
}

void tg_snap_problem(struct tg_snapshot_data *d, const char *file, int line, bool warning,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tg_snap_vproblem(d, file, line, warning, false, fmt, ap);
    va_end(ap);
}

void tg_snap_damage(struct tg_snapshot_data *d, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tg_snap_vproblem(d, file, line, false, true, fmt, ap);
    va_end(ap);
}

uint32_t tg_snap_find(const struct tg_snapshot_data *d, enum tg_ns ns, const char *name, size_t len)
{
    return tg_strmap_get(&d->ns[ns].map, name, len);
}

uint32_t tg_snap_intern(struct tg_snapshot_data *d, enum tg_ns ns, const char *name, size_t len)
{
    struct tg_nstable *t = &d->ns[ns];
    uint32_t id = tg_strmap_get(&t->map, name, len);
    if (id != TG_STRMAP_NONE)
        return id;
    if (t->n == t->cap) { /* uint32_t counts: tg_xgrow takes size_t */
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = tg_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    id = t->n++;
    struct tg_entity *e = &t->v[id];
    memset(e, 0, sizeof(*e));
    e->name = tg_snap_strdup(d, name, len);
    e->uid = e->gid = -1;
    tg_strmap_put(&t->map, e->name, len, id);
    return id;
}

void tg_idlist_add(struct tg_idlist *l, uint32_t id)
{
    if (l->n == l->cap) { /* uint32_t counts keep id lists small */
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = tg_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = id;
}

static int tg_u32cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void tg_idlist_sort(struct tg_idlist *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof(*l->v), tg_u32cmp);
    uint32_t o = 1;
    for (uint32_t i = 1; i < l->n; i++)
        if (l->v[i] != l->v[o - 1])
            l->v[o++] = l->v[i];
    l->n = o;
}

bool tg_idlist_has(const struct tg_idlist *l, uint32_t id)
{
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (l->v[mid] < id)
            lo = mid + 1;
        else if (l->v[mid] > id)
            hi = mid;
        else
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ files */

struct tg_file {
    char *name;
    char *text; /* NULL: could not be read (err) */
    size_t len;
    int err; /* errno of the failed stat, open or read */
};

static int tg_namecmp(const void *a, const void *b)
{
    return strcmp(((const struct tg_file *)a)->name, ((const struct tg_file *)b)->name);
}

/* List and read the files of dir (sorted by name).  A name that cannot be
 * stat'ed (a dangling symlink) or read is listed with text NULL; other
 * entries that are not regular files (subdirectories) are skipped. */
static int tg_read_dir(const char *dir, struct tg_file **out, size_t *nout, char **err)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        *err = tg_xasprintf("policy snapshot directory %s: %s; set [policy] snapshot_dir (or "
                            "--snapshot) to a directory holding the exported policy files",
                            dir, strerror(errno));
        return errno == ENOENT ? TG_ENOENT : TG_EIO;
    }
    struct tg_file *f = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (de->d_name[0] == '.' || (nl && de->d_name[nl - 1] == '~'))
            continue;
        char *path = tg_xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        int serr = stat(path, &st) != 0 ? errno : 0;
        if (!serr && !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        f = tg_xgrow(f, n, &cap, sizeof(*f), 8);
        f[n++] = (struct tg_file){path, NULL, 0, serr};
    }
    closedir(dp);
    if (n) /* an empty directory: f is NULL, which qsort must not get */
        qsort(f, n, sizeof(*f), tg_namecmp);
    for (size_t i = 0; i < n; i++) {
        if (f[i].err)
            continue;
        int fd = open(f[i].name, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            f[i].err = errno;
            if (fd >= 0)
                close(fd);
            continue; /* vanished or unreadable: damage, reported at load */
        }
        f[i].text = tg_xmalloc((size_t)st.st_size + 1);
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, f[i].text + got, (size_t)st.st_size - got);
            if (r < 0)
                f[i].err = errno;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
        if (f[i].err) {
            free(f[i].text);
            f[i].text = NULL;
            continue;
        }
        f[i].text[got] = '\0';
        f[i].len = got;
    }
    *out = f;
    *nout = n;
    return 0;
}

static void tg_files_free(struct tg_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].name);
        free(f[i].text);
    }
    free(f);
}

static void tg_files_id(const struct tg_file *f, size_t n, char id[17])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(f[i].name, '/');
        base = base ? base + 1 : f[i].name;
        EVP_DigestUpdate(ctx, base, strlen(base) + 1);
        char lenbuf[24];
        int ll = snprintf(lenbuf, sizeof(lenbuf), "%zu:", f[i].len);
        EVP_DigestUpdate(ctx, lenbuf, (size_t)ll);
        EVP_DigestUpdate(ctx, f[i].text ? f[i].text : "", f[i].len);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 8; i++)
        snprintf(id + 2 * i, 3, "%02x", md[i]);
}

int tg_snapshot_dir_id(const char *dir, char id[17])
{
    struct tg_file *f;
    size_t n;
    char *err = NULL;
    int rc = tg_read_dir(dir, &f, &n, &err);
    if (rc != 0) {
        free(err);
        return rc;
    }
    tg_files_id(f, n, id);
    tg_files_free(f, n);
    return 0;
}

int tg_snapshot_copy(const char *src, const char *dst, char **err)
{
    struct tg_file *f;
    size_t n;
    int rc = tg_read_dir(src, &f, &n, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *base = strrchr(f[i].name, '/') + 1;
        char *path = tg_xasprintf("%s/%s", dst, base);
        int fd = f[i].text ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640) : -1;
        int e = f[i].text ? errno : f[i].err;
        if (fd < 0 || tg_pwrite_all(fd, f[i].text, f[i].len, 0) != 0 || fsync(fd) != 0) {
            e = fd >= 0 ? errno : e;
            *err = tg_xasprintf("cannot copy %s to %s: %s; make the snapshot readable and the "
                                "history directory writable by the collector",
                                f[i].name, path, strerror(e));
            rc = TG_EIO;
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    tg_files_free(f, n);
    return rc;
}

/* The kind of a file from its first meaningful bytes. */
static const char *tg_file_kind(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) { /* skip blank and # comment lines */
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
            i++;
        if (i < len && text[i] == '#') {
            const char *nl = memchr(text + i, '\n', len - i);
            i = nl ? (size_t)(nl - text) + 1 : len;
            continue;
        }
        break;
    }
    if (i >= len)
        return "empty";
    if (text[i] == '{')
        return "sudoers-json";
    if (strncasecmp(text + i, "dn:", 3) == 0 || strncasecmp(text + i, "version:", 8) == 0)
        return "ldif";
    return tg_accounts_kind(text, len);
}

/* ------------------------------------------------------------ finishing */

static void tg_closures(struct tg_snapshot_data *d)
{
    static const struct {
        enum tg_ns leaf, group;
    } pairs[] = {
        {TG_NS_USER, TG_NS_GROUP}, {TG_NS_HOST, TG_NS_HOSTGROUP}, {TG_NS_SERVICE, TG_NS_SVCGROUP}};
    for (size_t p = 0; p < 3; p++) {
        struct tg_nstable *lt = &d->ns[pairs[p].leaf], *gt = &d->ns[pairs[p].group];
        uint32_t *stamp = tg_xcalloc(gt->n + 1, sizeof(*stamp));
        uint32_t *stack = tg_xmalloc((gt->n + 1) * sizeof(*stack));
        for (uint32_t g = 0; g < gt->n; g++)
            tg_idlist_sort(&gt->v[g].parents);
        for (uint32_t i = 0; i < lt->n; i++) {
            struct tg_entity *e = &lt->v[i];
            tg_idlist_sort(&e->parents);
            uint32_t sp = 0, mark = i + 1;
            for (uint32_t k = 0; k < e->parents.n; k++)
                if (stamp[e->parents.v[k]] != mark) {
                    stamp[e->parents.v[k]] = mark;
                    stack[sp++] = e->parents.v[k];
                }
            while (sp) {
                uint32_t g = stack[--sp];
                tg_idlist_add(&e->closure, g);
                const struct tg_idlist *pp = &gt->v[g].parents;
                for (uint32_t k = 0; k < pp->n; k++)
                    if (stamp[pp->v[k]] != mark) {
                        stamp[pp->v[k]] = mark;
                        stack[sp++] = pp->v[k];
                    }
            }
            tg_idlist_sort(&e->closure);
        }
        free(stamp);
        free(stack);
    }
}

/* CSR index of enabled allow rules by the ids of one element list. */
static void tg_csr_build(struct tg_snapshot_data *d, struct tg_csr *c, uint32_t nkeys, bool groups)
{
    c->off = tg_xcalloc(nkeys + 2, sizeof(*c->off));
    for (size_t r = 0; r < d->nhbac; r++) {
        const struct tg_hbac_rule *h = &d->hbac[r];
        if (!h->enabled || !h->allow || h->users.all)
            continue;
        const struct tg_idlist *l = groups ? &h->users.groups : &h->users.names;
        for (uint32_t k = 0; k < l->n; k++)
            c->off[l->v[k] + 2]++;
    }
    for (uint32_t k = 0; k < nkeys; k++)
        c->off[k + 2] += c->off[k + 1];
    c->rules = tg_xmalloc((c->off[nkeys + 1] + 1) * sizeof(*c->rules));
    for (size_t r = 0; r < d->nhbac; r++) {
        const struct tg_hbac_rule *h = &d->hbac[r];
        if (!h->enabled || !h->allow || h->users.all)
            continue;
        const struct tg_idlist *l = groups ? &h->users.groups : &h->users.names;
        for (uint32_t k = 0; k < l->n; k++)
            c->rules[c->off[l->v[k] + 1]++] = (uint32_t)r;
    }
    /* off[k+1] now is the end of key k; off[k] its start */
}

static void tg_hbac_index(struct tg_snapshot_data *d)
{
    tg_csr_build(d, &d->hbac_by_user, d->ns[TG_NS_USER].n, false);
    tg_csr_build(d, &d->hbac_by_group, d->ns[TG_NS_GROUP].n, true);
    d->hbac_user_all = tg_xmalloc((d->nhbac + 1) * sizeof(*d->hbac_user_all));
    for (size_t r = 0; r < d->nhbac; r++) {
        const struct tg_hbac_rule *h = &d->hbac[r];
        if (h->enabled && h->allow)
            d->hbac_enabled++;
        else if (!h->enabled)
            d->hbac_disabled++;
        if (!h->allow)
            d->hbac_nonallow++;
        if (h->enabled && h->allow && h->users.all)
            d->hbac_user_all[d->nhbac_user_all++] = (uint32_t)r;
    }
}

static const struct tg_sudo_spec *tg_sort_base; /* load is single-threaded */

static int tg_spec_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const struct tg_sudo_spec *x = &tg_sort_base[i], *y = &tg_sort_base[j];
    if (x->ldap != y->ldap)
        return x->ldap ? 1 : -1;
    if (x->ldap && x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return i < j ? -1 : i > j; /* stable: equal sudoOrder keeps load order */
}

static void tg_sudo_order(struct tg_snapshot_data *d)
{
    size_t n = d->nsudo;
    if (n < 2)
        return;
    size_t *idx = tg_xmalloc(n * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    tg_sort_base = d->sudo;
    qsort(idx, n, sizeof(*idx), tg_spec_cmp);
    struct tg_sudo_spec *sorted = tg_xmalloc(n * sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = d->sudo[idx[i]];
    free(d->sudo);
    free(idx);
    d->sudo = sorted;
    d->capsudo = n;
}

/* Short names of defined hosts, for records that log "web1" for the IdM host
 * web1.example.com (ipa hbactest canonicalises dot-less names the same way). */
static void tg_short_hosts(struct tg_snapshot_data *d)
{
    const struct tg_nstable *t = &d->ns[TG_NS_HOST];
    tg_strmap_init(&d->host_short);
    for (uint32_t i = 0; i < t->n; i++) {
        const char *dot = strchr(t->v[i].name, '.');
        if (!t->v[i].file || !dot || dot == t->v[i].name)
            continue;
        size_t n = (size_t)(dot - t->v[i].name);
        uint32_t had = tg_strmap_put(&d->host_short, t->v[i].name, n, i);
        if (had != i)
            tg_strmap_set(&d->host_short, t->v[i].name, n, TG_HOST_AMBIGUOUS);
    }
}

static int tg_uid_cmp(const void *a, const void *b)
{
    const struct tg_uid_user *x = a, *y = b;
    if (x->uid != y->uid)
        return x->uid < y->uid ? -1 : 1;
    return x->user < y->user ? -1 : x->user > y->user; /* the first defined wins */
}

/* Defined users by uid, for records that name a user by uid only. */
static void tg_uid_index(struct tg_snapshot_data *d)
{
    const struct tg_nstable *t = &d->ns[TG_NS_USER];
    d->uid_users = tg_xmalloc((t->n + 1) * sizeof(*d->uid_users));
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i].file && t->v[i].uid >= 0)
            d->uid_users[d->nuid_users++] = (struct tg_uid_user){t->v[i].uid, i};
    if (d->nuid_users > 1)
        qsort(d->uid_users, d->nuid_users, sizeof(*d->uid_users), tg_uid_cmp);
}

static void tg_snapshot_data_free(struct tg_snapshot_data *d)
{
    for (int ns = 0; ns < TG_NS_COUNT; ns++) {
        struct tg_nstable *t = &d->ns[ns];
        for (uint32_t i = 0; i < t->n; i++) {
            free(t->v[i].parents.v);
            free(t->v[i].closure.v);
            free(t->v[i].children.v);
            free(t->v[i].triples);
        }
        free(t->v);
        tg_strmap_free(&t->map);
    }
    for (size_t r = 0; r < d->nhbac; r++) {
        struct tg_hbac_rule *h = &d->hbac[r];
        free(h->users.names.v);
        free(h->users.groups.v);
        free(h->hosts.names.v);
        free(h->hosts.groups.v);
        free(h->services.names.v);
        free(h->services.groups.v);
    }
    free(d->hbac);
    free(d->hbac_by_user.off);
    free(d->hbac_by_user.rules);
    free(d->hbac_by_group.off);
    free(d->hbac_by_group.rules);
    free(d->hbac_user_all);
    for (size_t i = 0; i < d->nsudo; i++) {
        struct tg_sudo_spec *s = &d->sudo[i];
        free(s->users.v);
        for (size_t p = 0; p < s->nprivs; p++) {
            free(s->privs[p].hosts.v);
            free(s->privs[p].cs);
        }
        free(s->privs);
    }
    free(d->sudo);
    for (size_t i = 0; i < d->nlists; i++) {
        free(d->lists[i]->v);
        free(d->lists[i]);
    }
    free(d->lists);
    for (size_t i = 0; i < d->nres; i++)
        pcre2_code_free(d->res[i]);
    free(d->res);
    for (size_t i = 0; i < d->nproblems; i++)
        free(d->problems[i].msg);
    free(d->problems);
    tg_strmap_free(&d->cmd_paths);
    tg_strmap_free(&d->host_short);
    tg_strmap_free(&d->sudo_ukeys);
    free(d->sudo_by_user.off);
    free(d->sudo_by_user.rules);
    free(d->sudo_by_group.off);
    free(d->sudo_by_group.rules);
    free(d->sudo_always);
    free(d->gid_groups);
    for (size_t i = 0; i < d->nlocals; i++)
        free(d->locals[i].v);
    free(d->locals);
    tg_strmap_free(&d->local_by_host);
    free(d->uid_users);
    free(d->file_kinds);
    free(d->file_names);
    tg_arena_free(&d->arena);
}

static size_t tg_defined(const struct tg_nstable *t)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->n; i++)
        n += t->v[i].file != NULL;
    return n;
}

int tg_snapshot_read(const char *dir, struct tg_snapshot **out, char **err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tg_file *f;
    size_t n;
    int rc = tg_read_dir(dir, &f, &n, err);
    if (rc != 0)
        return rc;
    struct tg_snapshot *s = tg_xcalloc(1, sizeof(*s));
    struct tg_snapshot_data *d = &s->d;
    s->refs = 1;
    s->dir = tg_xstrdup(dir);
    tg_arena_init(&d->arena, NULL, 0);
    for (int ns = 0; ns < TG_NS_COUNT; ns++)
        tg_strmap_init(&d->ns[ns].map);
    tg_strmap_init(&d->cmd_paths);
    tg_strmap_init(&d->local_by_host);
    tg_files_id(f, n, s->id);
    d->nfiles = n;
    d->file_kinds = tg_xcalloc(n + 1, sizeof(char *));
    d->file_names = tg_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *name = tg_snap_strdup(d, f[i].name, strlen(f[i].name));
        d->file_names[i] = name;
        const char *kind = f[i].text ? tg_file_kind(f[i].text, f[i].len) : NULL;
        d->file_kinds[i] = kind ? kind : "unknown";
        if (!f[i].text)
            tg_snap_damage(d, name, 0,
                           "cannot read the file (%s); make it readable by the collector or "
                           "remove it from the snapshot directory",
                           strerror(f[i].err));
        else if (!kind)
            tg_snap_damage(d, name, 1,
                           "not a snapshot file: expected LDIF, cvtsudoers JSON, passwd, group or "
                           "netgroup content; remove it from the snapshot directory, or export "
                           "it again if it is a damaged policy file");
        else if (strcmp(kind, "ldif") == 0)
            tg_ldif_load(d, name, f[i].text, f[i].len);
        else if (strcmp(kind, "sudoers-json") == 0)
            tg_sudoers_json_load(d, name, f[i].text, f[i].len);
        else if (strcmp(kind, "empty") != 0)
            tg_accounts_load(d, name, f[i].text, f[i].len, kind);
    }
    tg_files_free(f, n);
    tg_ldif_finish(d);
    tg_sudo_order(d);
    tg_closures(d);
    tg_hbac_index(d);
    tg_sudo_index(d);
    tg_short_hosts(d);
    tg_uid_index(d);
    d->users_defined = tg_defined(&d->ns[TG_NS_USER]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->load_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    *out = s;
    return 0;
}

/* "file:line" of a problem, or "file" for one about the whole file. */
static void tg_problem_where(const struct tg_problem *p, char *buf, size_t size)
{
    if (p->line > 0)
        snprintf(buf, size, "%s:%d", p->file, p->line);
    else
        snprintf(buf, size, "%s", p->file);
}

int tg_snapshot_load(const char *dir, struct tg_snapshot **out, char **err)
{
    struct tg_snapshot *s;
    int rc = tg_snapshot_read(dir, &s, err);
    if (rc != 0 || s->d.ndamage == 0) {
        *out = rc == 0 ? s : NULL;
        return rc;
    }
    const struct tg_problem *p = s->d.problems;
    while (!p->damage)
        p++;
    char where[4096 + 16], more[64] = "";
    tg_problem_where(p, where, sizeof(where));
    size_t nmore = s->d.ndamage - 1;
    if (nmore)
        snprintf(more, sizeof(more), "; %zu more damaged place%s", nmore, nmore == 1 ? "" : "s");
    *err = tg_xasprintf("policy snapshot %s is damaged and was not loaded: %s: %s%s (`trailguard "
                        "policy lint --snapshot %s` lists every problem)",
                        dir, where, p->msg, more, dir);
    tg_snapshot_unref(s);
    *out = NULL;
    return TG_EINVAL;
}

struct tg_snapshot *tg_snapshot_ref(struct tg_snapshot *s)
{
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void tg_snapshot_unref(struct tg_snapshot *s)
{
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    tg_snapshot_data_free(&s->d);
    free(s->dir);
    free(s);
}

const struct tg_entity *tg_snapshot_entity(const struct tg_snapshot *s, enum tg_ns ns,
                                           const char *name, size_t len)
{
    uint32_t id = tg_snap_find(&s->d, ns, name, len);
    return id == TG_STRMAP_NONE ? NULL : &s->d.ns[ns].v[id];
}

const struct tg_entity *tg_snapshot_user_by_uid(const struct tg_snapshot *s, int64_t uid)
{
    const struct tg_snapshot_data *d = &s->d;
    size_t lo = 0, hi = d->nuid_users;
    while (lo < hi) { /* the first entry with this uid */
        size_t mid = (lo + hi) / 2;
        if (d->uid_users[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nuid_users && d->uid_users[lo].uid == uid
               ? &d->ns[TG_NS_USER].v[d->uid_users[lo].user]
               : NULL;
}

const char *tg_snapshot_uid_name(const struct tg_snapshot *s, const char *host, int64_t uid,
                                 const char **file, int *line)
{
    const struct tg_snapshot_data *d = &s->d;
    uint32_t k = TG_STRMAP_NONE;
    if (host && d->nlocals) {
        k = tg_strmap_get(&d->local_by_host, host, strlen(host));
        const char *dot = strchr(host, '.');
        if (k == TG_STRMAP_NONE && dot && dot > host)
            k = tg_strmap_get(&d->local_by_host, host, (size_t)(dot - host));
    }
    if (k != TG_STRMAP_NONE) {
        const struct tg_local_passwd *lp = &d->locals[k];
        for (size_t i = 0; i < lp->n; i++)
            if (lp->v[i].uid == uid) {
                if (file)
                    *file = lp->file;
                if (line)
                    *line = lp->v[i].line;
                return lp->v[i].name;
            }
    }
    const struct tg_entity *e = uid >= 0 ? tg_snapshot_user_by_uid(s, uid) : NULL;
    if (!e)
        return NULL;
    if (file)
        *file = e->file;
    if (line)
        *line = e->line;
    return e->name;
}

size_t tg_snapshot_report(const struct tg_snapshot *s, FILE *out)
{
    const struct tg_snapshot_data *d = &s->d;
    fprintf(out, "snapshot %s (%s): %zu file%s, loaded in %.3f s\n", s->id, s->dir, d->nfiles,
            d->nfiles == 1 ? "" : "s", s->load_seconds);
    for (size_t i = 0; i < d->nfiles; i++)
        fprintf(out, "  %s: %s\n", d->file_names[i], d->file_kinds[i]);
    fprintf(out,
            "users %zu, user groups %zu, hosts %zu, host groups %zu, HBAC services %zu, service "
            "groups %zu, netgroups %zu\n",
            tg_defined(&d->ns[TG_NS_USER]), tg_defined(&d->ns[TG_NS_GROUP]),
            tg_defined(&d->ns[TG_NS_HOST]), tg_defined(&d->ns[TG_NS_HOSTGROUP]),
            tg_defined(&d->ns[TG_NS_SERVICE]), tg_defined(&d->ns[TG_NS_SVCGROUP]),
            tg_defined(&d->ns[TG_NS_NETGROUP]));
    if (d->nlocals) {
        fprintf(out, "host passwd files %zu:", d->nlocals);
        for (size_t i = 0; i < d->nlocals; i++) {
            const char *b = strrchr(d->locals[i].file, '/');
            fprintf(out, "%s %s (", i ? "," : "", b ? b + 1 : d->locals[i].file);
            bool first = true;
            for (size_t k = 0; k < d->local_by_host.cap; k++) {
                const struct tg_strmap_slot *sl = &d->local_by_host.slots[k];
                if (sl->key && sl->value == i &&
                    strlen(sl->key) == sl->len) { /* the names given, not their short forms */
                    fprintf(out, "%s%s", first ? "" : " ", sl->key);
                    first = false;
                }
            }
            fputc(')', out);
        }
        fputc('\n', out);
    }
    fprintf(out, "HBAC rules %zu: %zu enabled allow, %zu disabled, %zu not of type allow\n",
            d->nhbac, d->hbac_enabled, d->hbac_disabled, d->hbac_nonallow);
    fprintf(out, "sudo rules %zu: %zu sudoers (JSON) user specs, %zu sudoRole, %zu ipaSudoRule\n",
            d->nsudo, d->nsudo_json, d->nsudo_ldap, d->nsudo_ipa);
    size_t errors = 0;
    for (size_t i = 0; i < d->nproblems; i++) {
        const struct tg_problem *p = &d->problems[i];
        char where[4096 + 16];
        tg_problem_where(p, where, sizeof(where));
        fprintf(out, "%s: %s: %s\n", where, p->warning ? "warning" : "error", p->msg);
        errors += !p->warning;
    }
    if (d->ndamage)
        fprintf(out,
                "%s: error: %zu place%s could not be read as written (above), so the collector "
                "does not load this snapshot: events get not_applicable, or a reload keeps the "
                "previous snapshot; fix or export again the files named\n",
                s->dir, d->ndamage, d->ndamage == 1 ? "" : "s");
    /* sudo rules naming accounts an account-bearing snapshot does not hold */
    for (size_t i = 0; i < d->nsudo; i++) {
        const struct tg_sudo_spec *sp = &d->sudo[i];
        for (size_t k = 0; k < sp->users.n; k++) {
            const struct tg_sudo_member *m = &sp->users.v[k];
            bool user = m->type == TG_SM_NAME && m->str[0] != '#' && d->users_defined;
            bool group = m->type == TG_SM_GROUP && tg_defined(&d->ns[TG_NS_GROUP]);
            enum tg_ns ns = user ? TG_NS_USER : TG_NS_GROUP;
            if (!user && !group)
                continue;
            uint32_t id = tg_snap_find(d, ns, m->str, strlen(m->str));
            if (id == TG_STRMAP_NONE || !d->ns[ns].v[id].file)
                fprintf(out,
                        "%s:%d: warning: sudo rule %s names %s '%s', which is not in the "
                        "snapshot\n",
                        sp->file, sp->line, sp->name, user ? "user" : "group", m->str);
        }
    }
    static const char *const what[TG_NS_COUNT] = {
        "user", "user group", "host", "host group", "HBAC service", "HBAC service group", NULL};
    for (int ns = 0; ns < TG_NS_NETGROUP; ns++) {
        const struct tg_nstable *t = &d->ns[ns];
        bool any_defined = tg_defined(t) > 0;
        for (uint32_t i = 0; i < t->n; i++) {
            const struct tg_entity *e = &t->v[i];
            if (e->file || !e->ref_file)
                continue;
            fprintf(out,
                    "%s:%d: warning: %s '%s' is referenced but not defined in the snapshot%s\n",
                    e->ref_file, e->ref_line, what[ns], e->name,
                    any_defined ? "" : " (the snapshot holds no entries of this kind)");
        }
    }
    return errors;
}
