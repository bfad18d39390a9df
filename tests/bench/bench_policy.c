/*
 * bench_policy.c - HBAC decisions/s against rule-set size, side by side with
 * SSSD's libipa_hbac on the same rules and requests; snapshot load time and
 * peak RSS.  `make bench` runs it; not part of `make check` (no wall-clock
 * thresholds in tests).
 *
 * Data: 100,000 users in 5,000 groups (3 each), 2,000 hosts in 200 host
 * groups, 20 services in 4 service groups, written as one IdM LDIF per rule
 * count (10, 1,000, 10,000 rules) and loaded through tg_snapshot_load.
 */
#include <ipa_hbac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "policy/hbac.h"

#define NUSERS  100000
#define NGROUPS 5000
#define NHOSTS  2000
#define NHG     200
#define NSVC    20
#define NSG     4

static unsigned long long rng = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct rule {
    int ug[3], nug, user, hg[2], nhg, svc[2], nsvc, hostcat;
};

static const char **names(int n, const char *prefix, const int *ids)
{
    const char **v = tg_xcalloc((size_t)n + 1, sizeof(*v));
    for (int i = 0; i < n; i++)
        v[i] = tg_xasprintf("%s%d", prefix, ids[i]);
    return v;
}

static const char *const empty[] = {NULL};

static struct hbac_rule_element *el(uint32_t cat, const char **n, const char **g)
{
    struct hbac_rule_element *e = tg_xcalloc(1, sizeof(*e));
    e->category = cat;
    e->names = n ? n : (const char **)empty;
    e->groups = g ? g : (const char **)empty;
    return e;
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    static const int sizes[] = {10, 1000, 10000};
    static int ugroups[NUSERS][3];
    for (int u = 0; u < NUSERS; u++)
        for (int k = 0; k < 3; k++)
            ugroups[u][k] = rnd(NGROUPS);
    printf("HBAC decisions/s (one core), %d users in %d groups, %d hosts in %d host groups\n",
           NUSERS, NGROUPS, NHOSTS, NHG);
    printf("%8s %12s %10s %14s %14s %8s %8s\n", "rules", "allow/deny", "load s", "trailguard/s",
           "libipa_hbac/s", "ratio", "RSS MiB");
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        int nr = sizes[si];
        char dir[256], path[300];
        snprintf(dir, sizeof(dir), "%s/tg-bench-policy-%d-%d", tmp, (int)getpid(), nr);
        snprintf(path, sizeof(path), "mkdir -p %s", dir);
        if (system(path) != 0)
            return 1;
        snprintf(path, sizeof(path), "%s/idm.ldif", dir);
        FILE *f = fopen(path, "w");
        for (int u = 0; u < NUSERS; u++) {
            fprintf(f,
                    "dn: uid=user%d,cn=users,cn=accounts,dc=x\nobjectClass: posixaccount\nuid: "
                    "user%d\nuidNumber: %d\n",
                    u, u, 10000 + u);
            for (int k = 0; k < 3; k++)
                fprintf(f, "memberOf: cn=group%d,cn=groups,cn=accounts,dc=x\n", ugroups[u][k]);
            fputc('\n', f);
        }
        for (int h = 0; h < NHOSTS; h++)
            fprintf(f,
                    "dn: fqdn=host%d.x,cn=computers,cn=accounts,dc=x\nobjectClass: ipahost\nfqdn: "
                    "host%d.x\nmemberOf: cn=hg%d,cn=hostgroups,cn=accounts,dc=x\n\n",
                    h, h, h % NHG);
        for (int s = 0; s < NSVC; s++)
            fprintf(f,
                    "dn: cn=svc%d,cn=hbacservices,cn=hbac,dc=x\nobjectClass: ipahbacservice\ncn: "
                    "svc%d\nmemberOf: cn=sg%d,cn=hbacservicegroups,cn=hbac,dc=x\n\n",
                    s, s, s % NSG);
        struct rule *rules = tg_xcalloc((size_t)nr, sizeof(*rules));
        struct hbac_rule **hr = tg_xcalloc((size_t)nr + 1, sizeof(*hr));
        for (int r = 0; r < nr; r++) {
            struct rule *x = &rules[r];
            x->nug = 1 + rnd(3);
            for (int k = 0; k < x->nug; k++)
                x->ug[k] = rnd(NGROUPS);
            x->user = rnd(4) == 0 ? (int)rnd(NUSERS) : -1;
            x->hostcat = rnd(10) == 0;
            x->nhg = 1 + rnd(2);
            for (int k = 0; k < x->nhg; k++)
                x->hg[k] = rnd(NHG);
            x->nsvc = 1 + rnd(2);
            for (int k = 0; k < x->nsvc; k++)
                x->svc[k] = rnd(NSVC);
            fprintf(f,
                    "dn: ipaUniqueID=r%d,cn=hbac,dc=x\nobjectClass: ipahbacrule\ncn: rule%d\n"
                    "accessRuleType: allow\nipaEnabledFlag: TRUE\n",
                    r, r);
            for (int k = 0; k < x->nug; k++)
                fprintf(f, "memberUser: cn=group%d,cn=groups,cn=accounts,dc=x\n", x->ug[k]);
            if (x->user >= 0)
                fprintf(f, "memberUser: uid=user%d,cn=users,cn=accounts,dc=x\n", x->user);
            if (x->hostcat)
                fprintf(f, "hostCategory: all\n");
            else
                for (int k = 0; k < x->nhg; k++)
                    fprintf(f, "memberHost: cn=hg%d,cn=hostgroups,cn=accounts,dc=x\n", x->hg[k]);
            for (int k = 0; k < x->nsvc; k++)
                fprintf(f, "memberService: cn=svc%d,cn=hbacservices,cn=hbac,dc=x\n", x->svc[k]);
            fputc('\n', f);
            struct hbac_rule *h = tg_xcalloc(1, sizeof(*h));
            h->name = tg_xasprintf("rule%d", r);
            h->enabled = true;
            h->users = el(0, x->user >= 0 ? names(1, "user", &x->user) : NULL,
                          names(x->nug, "group", x->ug));
            h->targethosts = el(x->hostcat, NULL, x->hostcat ? NULL : names(x->nhg, "hg", x->hg));
            h->services = el(0, names(x->nsvc, "svc", x->svc), NULL);
            h->srchosts = el(HBAC_CATEGORY_ALL, NULL, NULL);
            hr[r] = h;
        }
        fclose(f);
        struct tg_snapshot *snap;
        char *err = NULL;
        if (tg_snapshot_load(dir, &snap, &err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        /* requests */
        enum { NQ = 4096 };
        static char qu[NQ][16], qh[NQ][16], qs[NQ][8];
        for (int i = 0; i < NQ; i++) {
            snprintf(qu[i], sizeof(qu[i]), "user%u", rnd(NUSERS));
            snprintf(qh[i], sizeof(qh[i]), "host%u.x", rnd(NHOSTS));
            snprintf(qs[i], sizeof(qs[i]), "svc%u", rnd(NSVC));
        }
        long iters = 2000000, allows = 0;
        double t0 = now();
        for (long i = 0; i < iters; i++)
            allows += tg_hbac_check(snap, qu[i % NQ], qh[i % NQ], qs[i % NQ]) >= 0;
        double tg_rate = (double)iters / (now() - t0);
        /* libipa_hbac on the same requests, groups expanded from the snapshot */
        long liters = nr >= 10000 ? 4096 : nr >= 1000 ? 20000 : 400000, lallows = 0, mismatch = 0;
        struct hbac_eval_req *reqs = tg_xcalloc(NQ, sizeof(*reqs));
        for (int i = 0; i < NQ; i++) {
            const struct tg_entity *u = tg_snapshot_entity(snap, TG_NS_USER, qu[i], strlen(qu[i]));
            const struct tg_entity *h = tg_snapshot_entity(snap, TG_NS_HOST, qh[i], strlen(qh[i]));
            const struct tg_entity *s =
                tg_snapshot_entity(snap, TG_NS_SERVICE, qs[i], strlen(qs[i]));
            const struct tg_entity *ents[3] = {u, h, s};
            enum tg_ns gns[3] = {TG_NS_GROUP, TG_NS_HOSTGROUP, TG_NS_SVCGROUP};
            const char *nm[3] = {qu[i], qh[i], qs[i]};
            struct hbac_request_element *re[3];
            for (int k = 0; k < 3; k++) {
                re[k] = tg_xcalloc(1, sizeof(*re[k]));
                re[k]->name = nm[k];
                const char **g = tg_xcalloc(ents[k]->closure.n + 1, sizeof(*g));
                for (uint32_t j = 0; j < ents[k]->closure.n; j++)
                    g[j] = snap->d.ns[gns[k]].v[ents[k]->closure.v[j]].name;
                re[k]->groups = g;
            }
            reqs[i].user = re[0];
            reqs[i].targethost = re[1];
            reqs[i].service = re[2];
            reqs[i].srchost = tg_xcalloc(1, sizeof(*reqs[i].srchost));
            reqs[i].srchost->groups = (const char **)empty;
        }
        t0 = now();
        for (long i = 0; i < liters; i++) {
            struct hbac_info *info = NULL;
            enum hbac_eval_result res = hbac_evaluate(hr, &reqs[i % NQ], &info);
            bool ok = res == HBAC_EVAL_ALLOW;
            lallows += ok;
            long mine = tg_hbac_check(snap, qu[i % NQ], qh[i % NQ], qs[i % NQ]);
            if (ok != (mine >= 0) || (ok && strcmp(info->rule_name, snap->d.hbac[mine].name)))
                mismatch++;
            hbac_free_info(info);
        }
        double lib_rate = (double)liters / (now() - t0);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        char ad[32];
        snprintf(ad, sizeof(ad), "%ld/%ld", allows * 100 / iters, 100 - allows * 100 / iters);
        printf("%8d %11s%% %10.3f %14.0f %14.0f %7.0fx %8.0f%s\n", nr, ad, snap->load_seconds,
               tg_rate, lib_rate, tg_rate / lib_rate, (double)ru.ru_maxrss / 1024.0,
               mismatch ? "  MISMATCH" : "");
        if (mismatch)
            fprintf(stderr, "%ld decisions differ from libipa_hbac\n", mismatch);
        tg_snapshot_unref(snap);
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        if (system(path) != 0)
            return 1;
        (void)lallows;
    }
    (void)argc;
    (void)argv;
    return 0;
}
