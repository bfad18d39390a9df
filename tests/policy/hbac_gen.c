/*
 * hbac_gen.c - differential test generator for HBAC: one seed -> a random
 * IdM-shaped LDIF snapshot (users, nested user groups, hosts, nested host
 * groups, services, nested service groups, HBAC rules with categories,
 * members, disabled and incomplete rules, mixed-case names), the same policy
 * in hbac_oracle's input format with every request's groups expanded by
 * this generator (independently of trailguard's loader), and trailguard's
 * own answers in the oracle's output format.  tests/policy/hbac_diff.sh
 * runs libipa_hbac on the oracle input and compares line by line.
 *
 * usage: hbac_gen SEED NRULES NREQ OUTDIR
 *   writes OUTDIR/snap/policy.ldif, OUTDIR/oracle.input, OUTDIR/trailguard.out
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/hbac.h"

#define NU  40
#define NG  14
#define NH  16
#define NHG 6
#define NS  8
#define NSG 3

static unsigned long long tg_rng;

static unsigned tg_rand(unsigned n)
{
    tg_rng = tg_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((tg_rng >> 33) % n);
}

static const char *const svcs[NS] = {"sshd", "login", "sudo",         "sudo-i",
                                     "ftp",  "crond", "systemd-user", "mysql"};
static const char *const svcgroups[NSG] = {"Sudo", "ftp", "misc"};

/* membership matrices: child -> direct parent groups */
static int ug[NU][NG], gg[NG][NG], hh[NH][NHG], hgg[NHG][NHG], ss[NS][NSG], sgg[NSG][NSG];

/* Transitive closure from a direct-membership row (DAG or not). */
static void tg_close(const int *direct, int n, int (*nest)[NG > NHG ? NG : NHG], int *out)
{
    (void)nest;
    memset(out, 0, sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        out[i] = direct[i];
    for (int changed = 1; changed;) {
        changed = 0;
        for (int g = 0; g < n; g++)
            if (out[g])
                for (int p = 0; p < n; p++)
                    if (nest[g][p] && !out[p])
                        out[p] = changed = 1;
    }
}

static int nestbuf[NG > NHG ? NG : NHG][NG > NHG ? NG : NHG];

static void tg_closure(const int *direct, int n, const int *nest_flat, int *out)
{
    memset(nestbuf, 0, sizeof(nestbuf));
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
            nestbuf[a][b] = nest_flat[a * n + b];
    tg_close(direct, n, nestbuf, out);
}

/* Mixed case variant of a name (names are case-insensitive). */
static void tg_case(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in);
    if (tg_rand(4) == 0)
        for (char *p = out; *p; p++)
            *p = (char)toupper((unsigned char)*p);
}

static void tg_list(FILE *o, const char *key, int *set, int n, char names[][48])
{
    int any = 0;
    for (int i = 0; i < n; i++)
        if (set[i]) {
            fprintf(o, "%s%s", any ? "," : (fprintf(o, " %s=", key), ""), names[i]);
            any = 1;
        }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: hbac_gen SEED NRULES NREQ OUTDIR\n");
        return 2;
    }
    tg_rng = strtoull(argv[1], NULL, 10) * 2654435761ULL + 1;
    int nrules = atoi(argv[2]), nreq = atoi(argv[3]);
    char path[4096];
    snprintf(path, sizeof(path), "%s/snap", argv[4]);
    mkdir(argv[4], 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/snap/policy.ldif", argv[4]);
    FILE *l = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/oracle.input", argv[4]);
    FILE *o = fopen(path, "w");
    if (!l || !o) {
        perror("open");
        return 2;
    }
    static char un[NU + 1][48], gn[NG][48], hn[NH + 1][48], hgn[NHG][48], sn[NS + 1][48],
        sgn[NSG][48];
    for (int i = 0; i < NU; i++)
        snprintf(un[i], 48, "u%d", i);
    snprintf(un[NU], 48, "ghost");
    for (int i = 0; i < NG; i++)
        snprintf(gn[i], 48, "g%d", i);
    for (int i = 0; i < NH; i++)
        snprintf(hn[i], 48, "h%d.example.com", i);
    snprintf(hn[NH], 48, "stray.example.com");
    for (int i = 0; i < NHG; i++)
        snprintf(hgn[i], 48, "hg%d", i);
    for (int i = 0; i < NS; i++)
        snprintf(sn[i], 48, "%s", svcs[i]);
    snprintf(sn[NS], 48, "nosuchsvc");
    for (int i = 0; i < NSG; i++)
        snprintf(sgn[i], 48, "%s", svcgroups[i]);

    memset(ug, 0, sizeof(ug));
    memset(gg, 0, sizeof(gg));
    memset(hh, 0, sizeof(hh));
    memset(hgg, 0, sizeof(hgg));
    memset(ss, 0, sizeof(ss));
    memset(sgg, 0, sizeof(sgg));
    for (int u = 0; u < NU; u++)
        for (int k = tg_rand(4); k > 0; k--)
            ug[u][tg_rand(NG)] = 1;
    for (int g = 0; g < NG; g++)
        if (tg_rand(3) == 0)
            gg[g][tg_rand(NG)] = 1; /* may nest, may cycle */
    for (int h = 0; h < NH; h++)
        for (int k = tg_rand(3); k > 0; k--)
            hh[h][tg_rand(NHG)] = 1;
    for (int g = 0; g < NHG; g++)
        if (tg_rand(3) == 0)
            hgg[g][tg_rand(NHG)] = 1;
    for (int s = 0; s < NS; s++)
        if (tg_rand(2) == 0)
            ss[s][tg_rand(NSG)] = 1;
    if (tg_rand(2) == 0)
        sgg[0][2] = 1;
    for (int i = 0; i < NG; i++)
        gg[i][i] = 0;

    const char *sfx = "dc=example,dc=com";
    fprintf(l, "# generated by hbac_gen seed %s\n", argv[1]);
    /* users: memberOf (direct groups), sometimes folded */
    for (int u = 0; u < NU; u++) {
        fprintf(l,
                "dn: uid=%s,cn=users,cn=accounts,%s\nobjectClass: person\nobjectClass: "
                "posixaccount\nuid: %s\nuidNumber: %d\n",
                un[u], sfx, un[u], 2000 + u);
        for (int g = 0; g < NG; g++)
            if (ug[u][g] && tg_rand(2) == 0)
                fprintf(l, "memberOf: cn=%s,cn=groups,cn=accounts,\n %s\n", gn[g], sfx);
        fputc('\n', l);
    }
    /* groups: member lines for the rest of the memberships and nesting */
    for (int g = 0; g < NG; g++) {
        fprintf(l, "dn: cn=%s,cn=groups,cn=accounts,%s\nobjectClass: ipausergroup\ncn: %s\n", gn[g],
                sfx, gn[g]);
        for (int u = 0; u < NU; u++)
            if (ug[u][g])
                fprintf(l, "member: uid=%s,cn=users,cn=accounts,%s\n", un[u], sfx);
        for (int c = 0; c < NG; c++)
            if (gg[c][g])
                fprintf(l, "member: cn=%s,cn=groups,cn=accounts,%s\n", gn[c], sfx);
        fputc('\n', l);
    }
    for (int h = 0; h < NH; h++) {
        fprintf(l, "dn: fqdn=%s,cn=computers,cn=accounts,%s\nobjectClass: ipahost\nfqdn: %s\n",
                hn[h], sfx, hn[h]);
        for (int g = 0; g < NHG; g++)
            if (hh[h][g])
                fprintf(l, "memberOf: cn=%s,cn=hostgroups,cn=accounts,%s\n", hgn[g], sfx);
        fputc('\n', l);
    }
    for (int g = 0; g < NHG; g++) {
        fprintf(l, "dn: cn=%s,cn=hostgroups,cn=accounts,%s\nobjectClass: ipahostgroup\ncn: %s\n",
                hgn[g], sfx, hgn[g]);
        for (int c = 0; c < NHG; c++)
            if (hgg[c][g])
                fprintf(l, "member: cn=%s,cn=hostgroups,cn=accounts,%s\n", hgn[c], sfx);
        fputc('\n', l);
    }
    for (int s = 0; s < NS; s++) {
        fprintf(l, "dn: cn=%s,cn=hbacservices,cn=hbac,%s\nobjectClass: ipahbacservice\ncn: %s\n",
                sn[s], sfx, sn[s]);
        for (int g = 0; g < NSG; g++)
            if (ss[s][g])
                fprintf(l, "memberOf: cn=%s,cn=hbacservicegroups,cn=hbac,%s\n", sgn[g], sfx);
        fputc('\n', l);
    }
    for (int g = 0; g < NSG; g++) {
        fprintf(l,
                "dn: cn=%s,cn=hbacservicegroups,cn=hbac,%s\nobjectClass: ipahbacservicegroup\n"
                "cn: %s\n",
                sgn[g], sfx, sgn[g]);
        for (int c = 0; c < NSG; c++)
            if (sgg[c][g])
                fprintf(l, "member: cn=%s,cn=hbacservicegroups,cn=hbac,%s\n", sgn[c], sfx);
        fputc('\n', l);
    }
    /* rules */
    for (int r = 0; r < nrules; r++) {
        int en = tg_rand(8) != 0;
        int uc = tg_rand(25) == 0, hc = tg_rand(10) == 0, sc = tg_rand(12) == 0;
        int us[NU + 1] = {0}, gs[NG] = {0}, hs[NH + 1] = {0}, hgs[NHG] = {0}, s_[NS + 1] = {0},
                    sgs[NSG] = {0};
        if (!uc) {
            for (int k = tg_rand(3); k > 0; k--)
                us[tg_rand(NU + 1)] = 1;
            for (int k = tg_rand(3); k > 0; k--)
                gs[tg_rand(NG)] = 1;
        }
        if (!hc) {
            for (int k = tg_rand(3); k > 0; k--)
                hs[tg_rand(NH + 1)] = 1;
            for (int k = tg_rand(3); k > 0; k--)
                hgs[tg_rand(NHG)] = 1;
        }
        if (!sc) {
            for (int k = tg_rand(3); k > 0; k--)
                s_[tg_rand(NS + 1)] = 1;
            for (int k = tg_rand(2); k > 0; k--)
                sgs[tg_rand(NSG)] = 1;
        }
        char c[64];
        fprintf(l,
                "dn: ipaUniqueID=rule-%d,cn=hbac,%s\nobjectClass: ipaassociation\nobjectClass: "
                "ipahbacrule\ncn: r%d\naccessRuleType: %s\nipaEnabledFlag: %s\n",
                r, sfx, r, tg_rand(2) ? "allow" : "Allow",
                en ? (tg_rand(2) ? "TRUE" : "true") : "FALSE");
        if (uc)
            fprintf(l, "userCategory: all\n");
        if (hc)
            fprintf(l, "hostCategory: all\n");
        if (sc)
            fprintf(l, "serviceCategory: all\n");
        for (int i = 0; i <= NU; i++)
            if (us[i])
                tg_case(un[i], c, sizeof(c)),
                    fprintf(l, "memberUser: uid=%s,cn=users,cn=accounts,%s\n", c, sfx);
        for (int i = 0; i < NG; i++)
            if (gs[i])
                tg_case(gn[i], c, sizeof(c)),
                    fprintf(l, "memberUser: cn=%s,cn=groups,cn=accounts,%s\n", c, sfx);
        for (int i = 0; i <= NH; i++)
            if (hs[i])
                tg_case(hn[i], c, sizeof(c)),
                    fprintf(l, "memberHost: fqdn=%s,cn=computers,cn=accounts,%s\n", c, sfx);
        for (int i = 0; i < NHG; i++)
            if (hgs[i])
                fprintf(l, "memberHost: cn=%s,cn=hostgroups,cn=accounts,%s\n", hgn[i], sfx);
        for (int i = 0; i <= NS; i++)
            if (s_[i])
                tg_case(sn[i], c, sizeof(c)),
                    fprintf(l, "memberService: cn=%s,cn=hbacservices,cn=hbac,%s\n", c, sfx);
        for (int i = 0; i < NSG; i++)
            if (sgs[i])
                fprintf(l, "memberService: cn=%s,cn=hbacservicegroups,cn=hbac,%s\n", sgn[i], sfx);
        fputc('\n', l);

        fprintf(o, "rule r%d%s", r, en ? "" : " disabled");
        if (uc)
            fprintf(o, " usercat=all");
        tg_list(o, "users", us, NU + 1, un);
        tg_list(o, "usergroups", gs, NG, gn);
        if (hc)
            fprintf(o, " hostcat=all");
        tg_list(o, "hosts", hs, NH + 1, hn);
        tg_list(o, "hostgroups", hgs, NHG, hgn);
        if (sc)
            fprintf(o, " svccat=all");
        tg_list(o, "services", s_, NS + 1, sn);
        tg_list(o, "svcgroups", sgs, NSG, sgn);
        fputc('\n', o);
    }
    fclose(l);

    struct tg_snapshot *snap;
    char *err = NULL;
    snprintf(path, sizeof(path), "%s/snap", argv[4]);
    if (tg_snapshot_load(path, &snap, &err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/trailguard.out", argv[4]);
    FILE *t = fopen(path, "w");
    for (int q = 0; q < nreq; q++) {
        int u = tg_rand(NU + 1), h = tg_rand(NH + 1), s = tg_rand(NS + 1);
        char uc[64], hc[64], sc[64];
        tg_case(un[u], uc, sizeof(uc));
        tg_case(hn[h], hc, sizeof(hc));
        tg_case(sn[s], sc, sizeof(sc));
        int cl[NG > NHG ? NG : NHG];
        int flat[NG * NG];
        /* user groups */
        fprintf(o, "req %s ", uc);
        int any = 0;
        if (u < NU) {
            for (int a = 0; a < NG; a++)
                for (int b = 0; b < NG; b++)
                    flat[a * NG + b] = gg[a][b];
            tg_closure(ug[u], NG, flat, cl);
            for (int g = 0; g < NG; g++)
                if (cl[g])
                    fprintf(o, "%s%s", any++ ? "," : "", gn[g]);
        }
        fprintf(o, "%s %s ", any ? "" : "-", hc);
        any = 0;
        if (h < NH) {
            for (int a = 0; a < NHG; a++)
                for (int b = 0; b < NHG; b++)
                    flat[a * NHG + b] = hgg[a][b];
            tg_closure(hh[h], NHG, flat, cl);
            for (int g = 0; g < NHG; g++)
                if (cl[g])
                    fprintf(o, "%s%s", any++ ? "," : "", hgn[g]);
        }
        fprintf(o, "%s %s ", any ? "" : "-", sc);
        any = 0;
        if (s < NS) {
            for (int a = 0; a < NSG; a++)
                for (int b = 0; b < NSG; b++)
                    flat[a * NSG + b] = sgg[a][b];
            tg_closure(ss[s], NSG, flat, cl);
            for (int g = 0; g < NSG; g++)
                if (cl[g])
                    fprintf(o, "%s%s", any++ ? "," : "", sgn[g]);
        }
        fprintf(o, "%s\n", any ? "" : "-");
        long r = tg_hbac_check(snap, uc, hc, sc);
        if (r >= 0)
            fprintf(t, "user=%s host=%s service=%s -> ALLOW %s\n", uc, hc, sc,
                    snap->d.hbac[r].name);
        else
            fprintf(t, "user=%s host=%s service=%s -> DENY\n", uc, hc, sc);
    }
    fclose(o);
    fclose(t);
    tg_snapshot_unref(snap);
    return 0;
}
