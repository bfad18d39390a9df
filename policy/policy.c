/*
 * policy.c - [policy], the snapshot holder and the verdicts.  See policy.h.
 *
 * Verdict order for an event (SPEC.md section 4): no snapshot -> the load
 * error; then not_applicable for what the policy does not speak about
 * (records without a user or host, database queries, sudo modes that run no
 * command, and the accounts outside its scope: the overflow account, system
 * accounts below min_uid, users an account-bearing snapshot does not know;
 * one gate, tg_account_gate, for execs and database logins alike); then
 * HBAC for sessions, sudo rules + HBAC service `sudo` for sudo execs, HBAC
 * db_service for database logins.  Every reason is one sentence naming who,
 * what, where and what to change.  `trailguard policy check` enters through
 * tg_verdict_exec like every logged exec, so there is one path to a verdict
 * and the explanation cannot differ from the event's.  A snapshot that does
 * not load (directory missing, files damaged: snapshot.h) is never used:
 * the first load's error becomes every event's reason, a failed reload keeps
 * the last good snapshot; both are logged as errors and counted.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/mem.h"
#include "policy/hbac.h"
#include "policy/policy.h"
#include "policy/sudo.h"
#include "policy/sudo_argv.h"

#define OFF(f) offsetof(struct tg_policy_conf, f)
static const struct tg_opt tg_policy_opts[] = {
    {"snapshot_dir", TG_OPT_STR, NULL, OFF(snapshot_dir),
     "directory with the policy snapshot (LDIF, cvtsudoers JSON, passwd/group); empty: no "
     "verdicts"},
    {"session_services", TG_OPT_STR, "sshd,login", OFF(session_services),
     "HBAC services that grant a shell session (comma-separated PAM service names)"},
    {"min_uid", TG_OPT_INT, "1000", OFF(min_uid),
     "accounts with a lower uid are system accounts: not_applicable", NULL, 0, INT32_MAX},
    {"usrmerge", TG_OPT_BOOL, "true", OFF(usrmerge),
     "treat /bin, /sbin, /lib* as /usr/... when matching sudo commands (merged /usr)"},
    {"db_service", TG_OPT_STR, NULL, OFF(db_service),
     "HBAC service checked for database logins; empty: not checked"},
    {NULL},
};

const struct tg_section_def tg_policy_section = {
    .name = "policy",
    .implicit = true,
    .doc = "Policy snapshot (FreeIPA HBAC, sudo rules) and how events are checked against it.",
    .opts = tg_policy_opts,
    .size = sizeof(struct tg_policy_conf),
};

struct tg_policy {
    struct tg_policy_conf conf; /* owned copies of the strings */
    pthread_mutex_t mu;         /* guards cur only */
    struct tg_snapshot *cur;
    char *load_error; /* last failure, guarded by mu; shown while cur is NULL */
    /* the directory content (tg_snapshot_dir_id, "-": unreadable) whose
     * load failed last, guarded by mu: the periodic check does not try it
     * again, and log the same error, every 30 s */
    char failed_id[17];
    uint64_t decisions[4], loads, load_failures; /* atomic */
};

/* ---------------------------------------------------------------- reasons */

static void tg_v(struct tg_verdict *v, enum tg_decision d, enum tg_check c, const char *rule,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void tg_v(struct tg_verdict *v, enum tg_decision d, enum tg_check c, const char *rule,
                 const char *fmt, ...)
{
    va_list ap;
    v->decision = d;
    v->check = c;
    v->rule = rule;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
    va_end(ap);
}

/* Common gate: not_applicable for unknown users when the snapshot lists
 * accounts.  Returns true when v was set. */
static bool tg_unknown_user(const struct tg_snapshot *s, const char *user, struct tg_verdict *v)
{
    const struct tg_entity *e = tg_snapshot_entity(s, TG_NS_USER, user, strlen(user));
    if ((e && e->file) || !s->d.users_defined)
        return false;
    tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
         "User %s is not in policy snapshot %s, so its access cannot be judged; export the "
         "account (passwd or LDAP users) into the snapshot if it is a directory user.",
         user, s->id);
    return true;
}

/* The accounts the policy does not speak about: the overflow account,
 * system accounts below min_uid (uid: the snapshot's for the user, else the
 * logged one, -1 unknown) and users the snapshot does not know.  Returns
 * true when v was set (not_applicable). */
static bool tg_account_gate(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                            const char *user, int64_t uid, struct tg_verdict *v)
{
    const struct tg_entity *e = tg_snapshot_entity(s, TG_NS_USER, user, strlen(user));
    if (e && e->file && e->uid >= 0)
        uid = e->uid;
    if (uid == 65534) { /* the kernel's overflow uid: no person logs in as it */
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "%s (uid 65534) is the unprivileged overflow account, which the policy does not "
             "cover.",
             user);
        return true;
    }
    if (uid >= 0 && uid < conf->min_uid) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "%s (uid %lld) is a system account below [policy] min_uid %lld, which the policy "
             "does not cover.",
             user, (long long)uid, (long long)conf->min_uid);
        return true;
    }
    return tg_unknown_user(s, user, v);
}

/* The snapshot's FQDN for a dot-less host name when exactly one defined host
 * has that short name; else the name as given. */
static const char *tg_canon_host(const struct tg_snapshot *s, const char *host)
{
    if (strchr(host, '.') || tg_snapshot_entity(s, TG_NS_HOST, host, strlen(host)))
        return host;
    uint32_t id = tg_strmap_get(&s->d.host_short, host, strlen(host));
    if (id == TG_STRMAP_NONE || id == TG_HOST_AMBIGUOUS)
        return host;
    return s->d.ns[TG_NS_HOST].v[id].name;
}

/* ------------------------------------------------------------------ HBAC */

/* Evaluate HBAC for each service of a comma list; returns the rule or NULL
 * and the service that matched. */
static const struct tg_hbac_rule *tg_hbac_any(const struct tg_snapshot *s, const char *user,
                                              const char *host, const char *services, char *svc,
                                              size_t svclen)
{
    const char *p = services;
    while (*p) {
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        snprintf(svc, svclen, "%.*s", (int)n, p);
        long r = svc[0] ? tg_hbac_check(s, user, host, svc) : -1;
        if (r >= 0)
            return &s->d.hbac[r];
        p += strcspn(p, ",");
        while (*p == ',' || *p == ' ')
            p++;
    }
    return NULL;
}

void tg_verdict_hbac(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                     const char *user, const char *host, const char *services, struct tg_verdict *v)
{
    if (tg_unknown_user(s, user, v))
        return;
    if (s->d.nhbac == 0) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "Policy snapshot %s holds no HBAC rules, so access of %s to %s is not judged; export "
             "cn=hbac from IdM into the snapshot to check sessions.",
             s->id, user, host);
        return;
    }
    if (strspn(services, ", ") == strlen(services)) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "No HBAC service is configured for this kind of access; set [policy] "
             "session_services (or db_service) to the PAM services to check.");
        return;
    }
    host = tg_canon_host(s, host);
    char svc[128];
    const struct tg_hbac_rule *r = tg_hbac_any(s, user, host, services, svc, sizeof(svc));
    if (r)
        tg_v(v, TG_DECISION_ALLOW, TG_CHECK_HBAC, r->name,
             "HBAC rule %s grants %s the service %s on %s.", r->name, user, svc, host);
    else
        tg_v(v, TG_DECISION_DENY, TG_CHECK_HBAC, NULL,
             "No enabled HBAC allow rule grants %s the service%s %s on %s; add the user or one of "
             "its groups to an HBAC rule for this host if the access is legitimate.",
             user, strchr(services, ',') ? "s" : "", services, host);
}

/* ------------------------------------------------------------------ sudo */

struct tg_sudo_ask {
    const char *user, *host, *runas, *group;
    bool runas_specified;
    const char *cmnd, *args;
    int64_t now;
};

static void tg_sudo_decide(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                           const struct tg_sudo_ask *ask, struct tg_verdict *v)
{
    struct tg_sudo_ask canon = *ask, *a = &canon;
    canon.host = tg_canon_host(s, ask->host);
    char what[600];
    int n =
        snprintf(what, sizeof(what), "'%s%s%s' as %s%s%s", a->cmnd, a->args ? " " : "",
                 a->args ? a->args : "", a->runas, a->group ? ":" : "", a->group ? a->group : "");
    if (n >= (int)sizeof(what)) /* a long command is cut short in the reason, visibly */
        memcpy(what + sizeof(what) - 4, "...", 4);
    bool have_sudo = s->d.nsudo > 0, have_hbac = s->d.nhbac > 0;
    if (!have_sudo && !have_hbac) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "Policy snapshot %s holds neither sudo nor HBAC rules, so %s running %s on %s is "
             "not judged; export the sudo rules (cvtsudoers -f json or LDIF) into the snapshot.",
             s->id, a->user, what, a->host);
        return;
    }
    struct tg_sudo_result sr = {TG_SUDO_UNSPEC, NULL};
    if (have_sudo) {
        struct tg_sudo_req q = {a->user, a->host, a->runas, a->group,      a->runas_specified,
                                a->cmnd, a->args, a->now,   conf->usrmerge};
        tg_sudo_eval(s, &q, &sr);
    }
    char svc[16];
    const struct tg_hbac_rule *hr =
        have_hbac ? tg_hbac_any(s, a->user, a->host, "sudo", svc, sizeof(svc)) : NULL;
    enum tg_check chk = have_sudo && have_hbac ? TG_CHECK_HBAC_SUDO
                        : have_sudo            ? TG_CHECK_SUDO
                                               : TG_CHECK_HBAC;
    const char *rule = sr.spec ? sr.spec->name : NULL;
    if (!have_sudo) {
        if (hr)
            tg_v(v, TG_DECISION_ALLOW, chk, hr->name,
                 "HBAC rule %s grants %s the service sudo on %s (the snapshot holds no sudo "
                 "rules, so the command %s is not checked).",
                 hr->name, a->user, a->host, what);
        else
            tg_v(v, TG_DECISION_DENY, chk, NULL,
                 "No enabled HBAC allow rule grants %s the service sudo on %s, so running %s is "
                 "denied; add the user to an HBAC rule for sudo on this host if it is legitimate.",
                 a->user, a->host, what);
        return;
    }
    if (sr.match == TG_SUDO_ALLOW && (hr || !have_hbac)) {
        if (hr)
            tg_v(v, TG_DECISION_ALLOW, chk, rule,
                 "sudo rule %s allows %s to run %s on %s, and HBAC rule %s grants the service "
                 "sudo.",
                 rule, a->user, what, a->host, hr->name);
        else
            tg_v(v, TG_DECISION_ALLOW, chk, rule, "sudo rule %s allows %s to run %s on %s.", rule,
                 a->user, what, a->host);
        return;
    }
    if (sr.match == TG_SUDO_ALLOW) /* HBAC decides: no rule to name */
        tg_v(v, TG_DECISION_DENY, chk, NULL,
             "sudo rule %s allows %s to run %s on %s, but no enabled HBAC allow rule grants the "
             "service sudo there; add the user to an HBAC rule for sudo if this is legitimate.",
             rule, a->user, what, a->host);
    else if (sr.match == TG_SUDO_DENY)
        tg_v(v, TG_DECISION_DENY, chk, rule,
             "sudo rule %s forbids %s to run %s on %s (a negated entry matches last)%s.", rule,
             a->user, what, a->host,
             have_hbac && !hr ? ", and no HBAC rule grants the service sudo either" : "");
    else
        tg_v(v, TG_DECISION_DENY, chk, NULL,
             "No sudo rule allows %s to run %s on %s%s; add a rule for the user or one of its "
             "groups if this is legitimate.",
             a->user, what, a->host,
             have_hbac && !hr ? ", and no HBAC rule grants the service sudo either" : "");
}

static const char *tg_runas_default(const struct tg_snapshot *s)
{
    return s->d.runas_default ? s->d.runas_default : "root";
}

/* ------------------------------------------------------------------ exec */

static const char *tg_shell_of(const struct tg_snapshot *s, const char *user)
{
    const struct tg_entity *e = tg_snapshot_entity(s, TG_NS_USER, user, strlen(user));
    return e && e->shell && e->shell[0] ? e->shell : "/bin/sh";
}

static const char *tg_basename(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static bool tg_is_sudo(const char *path)
{
    const char *b = tg_basename(path);
    return strcmp(b, "sudo") == 0 || strcmp(b, "sudoedit") == 0;
}

static const char *const tg_mode_words[] = {
    [TG_SMODE_LIST] = "sudo -l lists privileges",
    [TG_SMODE_VALIDATE] = "sudo -v refreshes the credential cache",
    [TG_SMODE_KILL] = "sudo -k invalidates the credential cache",
    [TG_SMODE_INVALIDATE] = "sudo -K removes the credential cache",
    [TG_SMODE_VERSION] = "sudo -V prints the version",
    [TG_SMODE_HELP] = "sudo -h prints help",
};

#define TG_MAX_ARGV 512

static void tg_verdict_sudo_exec(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                                 const char *user, const char *host, const char *cmdline,
                                 const char *cwd, int64_t now, struct tg_verdict *v)
{
    char *copy = tg_xstrdup(cmdline);
    char *argv[TG_MAX_ARGV];
    int argc = 0;
    for (char *p = copy; argc < TG_MAX_ARGV;) { /* snoopy joins argv with single spaces */
        argv[argc++] = p;
        char *sp = strchr(p, ' ');
        if (!sp)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    struct tg_sudo_args sa;
    tg_sudo_args_parse(argc, argv, &sa);
    struct tg_buf args = TG_BUF_INIT;
    char path[4096];
    if (sa.mode == TG_SMODE_USAGE) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "sudo would refuse this command line (%s), so it ran nothing to judge.", sa.error);
        goto out;
    }
    if (sa.mode != TG_SMODE_RUN && sa.mode != TG_SMODE_EDIT) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "%s and runs no command, so there is nothing to judge.", tg_mode_words[sa.mode]);
        goto out;
    }
    /* `sudo sudoedit FILE` is `sudoedit FILE` (sudoers' set_cmnd converts it) */
    if (sa.mode == TG_SMODE_RUN && !sa.login_shell && !sa.shell &&
        strcmp(tg_basename(argv[sa.cmd]), "sudoedit") == 0) {
        sa.mode = TG_SMODE_EDIT;
        sa.cmd++;
    }
    const char *runas = sa.user ? sa.user : sa.group ? user : tg_runas_default(s);
    const char *cmnd;
    if (sa.mode == TG_SMODE_EDIT) {
        cmnd = "sudoedit";
        for (int i = sa.cmd; i < argc; i++) {
            if (i > sa.cmd)
                tg_buf_putc(&args, ' ');
            tg_buf_puts(&args, argv[i]);
        }
    } else if (sa.login_shell || sa.shell) {
        /* -i: the target user's shell; -s: the invoking user's ($SHELL is
         * not logged, so its passwd shell) */
        cmnd = tg_shell_of(s, sa.login_shell ? runas : user);
        if (sa.cmd < argc) {
            tg_buf_puts(&args, "-c ");
            tg_sudo_shell_escape(argc, argv, sa.cmd, &args);
        }
    } else {
        const char *c = argv[sa.cmd];
        if (!strchr(c, '/'))
            tg_sudo_resolve(s, c, path, sizeof(path));
        else if (c[0] != '/' && cwd) { /* ./x, ../bin/x: as the path sudo runs */
            snprintf(path, sizeof(path), "%s/%s", cwd, c);
            tg_sudo_path_clean(path, path, sizeof(path));
        } else
            snprintf(path, sizeof(path), "%s", c);
        cmnd = path;
        for (int i = sa.cmd + 1; i < argc; i++) {
            if (i > sa.cmd + 1)
                tg_buf_putc(&args, ' ');
            tg_buf_puts(&args, argv[i]);
        }
    }
    struct tg_sudo_ask a = {
        user, host, runas, sa.group, sa.user != NULL, cmnd, args.len ? tg_buf_cstr(&args) : NULL,
        now};
    tg_sudo_decide(s, conf, &a, v);
out:
    tg_buf_free(&args);
    free(copy);
}

void tg_verdict_exec(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                     const char *user, int64_t uid, const char *runner, int64_t runner_uid,
                     const char *host, const char *exe, const char *cmdline, const char *cwd,
                     int64_t now, struct tg_verdict *v)
{
    const char *first = cmdline ? cmdline : "";
    char word[4096];
    snprintf(word, sizeof(word), "%.*s", (int)strcspn(first, " "), first);
    bool sudo = (exe && tg_is_sudo(exe)) || (!exe && word[0] && tg_is_sudo(word));
    if (sudo && (runner || runner_uid >= 0)) { /* sudo judges who runs it, not the login */
        user = runner;
        uid = runner_uid;
    }
    char byuid[32];
    if (!user) { /* known by uid only: the snapshot's name for it, else sudo's "#uid" */
        const struct tg_entity *e = tg_snapshot_user_by_uid(s, uid);
        snprintf(byuid, sizeof(byuid), "#%lld", (long long)uid);
        user = e ? e->name : byuid;
    }
    if (tg_account_gate(s, conf, user, uid, v))
        return;
    if (sudo) {
        if (!cmdline) {
            tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
                 "The sudo record carries no command line, so the command cannot be judged.");
            return;
        }
        tg_verdict_sudo_exec(s, conf, user, host, cmdline, cwd, now, v);
        return;
    }
    tg_verdict_hbac(s, conf, user, host, conf->session_services ? conf->session_services : "", v);
}

/* ----------------------------------------------------------- the holder */

struct tg_policy *tg_policy_new(const struct tg_policy_conf *conf, const char *dir)
{
    struct tg_policy *p = tg_xcalloc(1, sizeof(*p));
    if (conf) {
        p->conf = *conf;
    } else {
        tg_config_defaults(&tg_policy_section, &p->conf);
        conf = &p->conf;
    }
    p->conf.snapshot_dir = dir                  ? tg_xstrdup(dir)
                           : conf->snapshot_dir ? tg_xstrdup(conf->snapshot_dir)
                                                : NULL;
    p->conf.session_services = tg_xstrdup(conf->session_services ? conf->session_services : "");
    p->conf.db_service = conf->db_service ? tg_xstrdup(conf->db_service) : NULL;
    pthread_mutex_init(&p->mu, NULL);
    if (p->conf.snapshot_dir)
        tg_policy_reload(p);
    return p;
}

void tg_policy_free(struct tg_policy *p)
{
    if (!p)
        return;
    tg_snapshot_unref(p->cur);
    pthread_mutex_destroy(&p->mu);
    free(p->conf.snapshot_dir);
    free(p->conf.session_services);
    free(p->conf.db_service);
    free(p->load_error);
    free(p);
}

int tg_policy_reload(struct tg_policy *p)
{
    struct tg_snapshot *s = NULL;
    char *err = NULL;
    if (!p || !p->conf.snapshot_dir)
        return 0; /* no policy configured */
    int rc = tg_snapshot_load(p->conf.snapshot_dir, &s, &err);
    if (rc != 0) {
        __atomic_add_fetch(&p->load_failures, 1, __ATOMIC_RELAXED);
        tg_metrics_inc(TG_C_SNAPSHOT_LOAD_FAILURES, 1);
        pthread_mutex_lock(&p->mu);
        bool kept = p->cur != NULL;
        free(p->load_error);
        p->load_error = err;
        pthread_mutex_unlock(&p->mu);
        tg_err("policy: %s%s", err, kept ? " (keeping the previous snapshot)" : "");
        return rc;
    }
    size_t problems = s->d.nproblems;
    tg_info("policy: snapshot %s loaded from %s in %.3f s (%zu HBAC rules, %zu sudo rules, %zu "
            "problem%s; see `trailguard policy lint --snapshot %s`)",
            s->id, s->dir, s->load_seconds, s->d.nhbac, s->d.nsudo, problems,
            problems == 1 ? "" : "s", s->dir);
    __atomic_add_fetch(&p->loads, 1, __ATOMIC_RELAXED);
    tg_metrics_set_snapshot(s->id, (int64_t)time(NULL));
    pthread_mutex_lock(&p->mu);
    struct tg_snapshot *old = p->cur;
    p->cur = s;
    p->failed_id[0] = '\0';
    pthread_mutex_unlock(&p->mu);
    tg_snapshot_unref(old);
    return 0;
}

int tg_policy_reload_if_changed(struct tg_policy *p)
{
    char id[17];
    if (!p || !p->conf.snapshot_dir)
        return 0;
    if (tg_snapshot_dir_id(p->conf.snapshot_dir, id) != 0)
        strcpy(id, "-");
    pthread_mutex_lock(&p->mu);
    bool same = (p->cur && strcmp(p->cur->id, id) == 0) || strcmp(p->failed_id, id) == 0;
    pthread_mutex_unlock(&p->mu);
    if (same)
        return 0;
    int rc = tg_policy_reload(p); /* on failure: logged, the old snapshot kept */
    if (rc != 0) {
        pthread_mutex_lock(&p->mu);
        memcpy(p->failed_id, id, sizeof(id));
        pthread_mutex_unlock(&p->mu);
    }
    return rc;
}

struct tg_snapshot *tg_policy_acquire(struct tg_policy *p)
{
    pthread_mutex_lock(&p->mu);
    struct tg_snapshot *s = tg_snapshot_ref(p->cur);
    pthread_mutex_unlock(&p->mu);
    return s;
}

void tg_policy_stats(const struct tg_policy *p, struct tg_policy_stats *out)
{
    for (int i = 0; i < 4; i++)
        out->decisions[i] = __atomic_load_n(&p->decisions[i], __ATOMIC_RELAXED);
    out->loads = __atomic_load_n(&p->loads, __ATOMIC_RELAXED);
    out->load_failures = __atomic_load_n(&p->load_failures, __ATOMIC_RELAXED);
}

/* NUL-terminated copy of an event string (or NULL). */
static char *tg_cstr(struct tg_event *ev, struct tg_str s)
{
    return s.p ? (char *)tg_event_strdup(ev, s.p, s.len).p : NULL;
}

static void tg_policy_decide(struct tg_policy *p, const struct tg_snapshot *s, struct tg_event *ev,
                             struct tg_verdict *v)
{
    const char *user = tg_cstr(ev, ev->user_name);
    const char *host = tg_cstr(ev, ev->host_name);
    bool exec = ev->dataset == TG_DS_SNOOPY && tg_str_eq(ev->action, "exec");
    bool connect = ev->dataset == TG_DS_PERCONA && tg_str_eq(ev->action, "connect");
    if (!exec && !connect) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             ev->dataset == TG_DS_PERCONA
                 ? "Database statements and events other than logins are outside the access "
                   "policy."
                 : "The record was not recognised as a command or login, so no policy applies.");
        return;
    }
    if (connect && !p->conf.db_service) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "Database logins are not checked; set [policy] db_service to the HBAC service "
             "that grants them.");
        return;
    }
    if (!user || !host) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "The record names no %s, so the policy cannot be applied.", !user ? "user" : "host");
        return;
    }
    int64_t uid = tg_str_digits(ev->user_id);
    if (connect) {
        if (!tg_account_gate(s, &p->conf, user, uid, v))
            tg_verdict_hbac(s, &p->conf, user, host, p->conf.db_service, v);
        return;
    }
    int64_t now = ev->timestamp.frac >= 0 ? ev->timestamp.sec : ev->ingested.sec;
    tg_verdict_exec(s, &p->conf, user, uid, tg_cstr(ev, ev->user_real_name),
                    tg_str_digits(ev->user_real_id), host, tg_cstr(ev, ev->executable),
                    tg_cstr(ev, ev->command_line), tg_cstr(ev, ev->working_directory), now, v);
}

void tg_policy_evaluate(struct tg_policy *p, struct tg_event *ev)
{
    if (!p || !p->conf.snapshot_dir)
        return;
    struct tg_verdict v = {0};
    struct tg_snapshot *s = tg_policy_acquire(p);
    if (!s) {
        pthread_mutex_lock(&p->mu);
        tg_v(&v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "No policy snapshot is loaded (%s), so the event was not checked.",
             p->load_error ? p->load_error : "not loaded yet");
        pthread_mutex_unlock(&p->mu);
    } else {
        tg_policy_decide(p, s, ev, &v);
        ev->policy.snapshot = tg_event_strdup(ev, s->id, strlen(s->id));
    }
    ev->policy.decision = v.decision;
    ev->policy.check = v.check;
    ev->policy.rule = v.rule ? tg_event_strdup(ev, v.rule, strlen(v.rule)) : TG_STR_NULL;
    ev->policy.reason = tg_event_strdup(ev, v.reason, strlen(v.reason));
    __atomic_add_fetch(&p->decisions[v.decision & 3], 1, __ATOMIC_RELAXED);
    tg_snapshot_unref(s);
}
