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
 *
 * Time (policy.h, history.h): tg_policy_judge finds the snapshot in force
 * at the event's @timestamp -- the current one, a cached or lazily loaded
 * historical one -- and applies the grace rule with the one before it.
 * Reload with a history: load the directory as before, then (recording)
 * copy it into a stage of the history, check the copy hashes to the loaded
 * id, and commit it; a snapshot that cannot be stored is still put in
 * force, pinned in memory, and the failure logged and counted.  The new
 * snapshot goes into the history's cache before its entry is added, the
 * one that stops being current stays there, so no event waits for a load.
 * A sudo log line (dataset sudo) is judged like the sudo exec it records
 * (the command as sudo matched it, the runas user and group it logged),
 * and drift is marked when the host's decision in the line differs.
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
#include "core/json.h"
#include "policy/hbac.h"
#include "policy/history.h"
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
    {"snapshot_history_dir", TG_OPT_STR, NULL, OFF(snapshot_history_dir),
     "directory keeping a copy of every snapshot that came into force and when (history.tsv), "
     "so an event is judged by the snapshot in force at its @timestamp; empty: every event by "
     "the current snapshot"},
    {"grace_seconds", TG_OPT_INT, "0", OFF(grace_seconds),
     "for this long after a snapshot change, an event the previous snapshot allows is allow "
     "(FreeIPA clients apply changes late: sssd caches rules); needs snapshot_history_dir; 0: "
     "off",
     NULL, 0, 7 * 86400},
    {NULL},
};

static const char *tg_policy_check_conf(const void *section)
{
    const struct tg_policy_conf *c = section;
    if (c->grace_seconds > 0 && !c->snapshot_history_dir)
        return "grace_seconds needs snapshot_history_dir: the snapshot before a change is known "
               "only from the history";
    return NULL;
}

const struct tg_section_def tg_policy_section = {
    .name = "policy",
    .implicit = true,
    .doc = "Policy snapshot (FreeIPA HBAC, sudo rules) and how events are checked against it.",
    .opts = tg_policy_opts,
    .size = sizeof(struct tg_policy_conf),
    .check = tg_policy_check_conf,
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
    struct tg_history *hist;                     /* NULL: every event is judged by cur */
    bool record; /* store what comes into force in hist (the collector) */
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
    snprintf(v->target, sizeof(v->target), "%s", a->runas);
    snprintf(v->target_group, sizeof(v->target_group), "%s", a->group ? a->group : "");
    snprintf(v->command, sizeof(v->command), "%s%s%s", a->cmnd, a->args ? " " : "",
             a->args ? a->args : "");
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

/* A sudo log line: sudo's own record of the command it matched (argv[0]
 * the full path, "sudoedit", or the pseudo-commands "list" and
 * "validate"), the runas user and group it logged (NULL: not logged). */
static void tg_verdict_sudo_line(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                                 const char *user, const char *host, const char *runas,
                                 const char *group, const struct tg_str *argv, size_t argc,
                                 int64_t now, struct tg_verdict *v)
{
    if (tg_account_gate(s, conf, user, -1, v))
        return;
    char cmnd[4096];
    snprintf(cmnd, sizeof(cmnd), "%.*s", (int)argv[0].len, argv[0].p);
    if (strcmp(cmnd, "list") == 0 || strcmp(cmnd, "validate") == 0) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "%s and runs no command, so there is nothing to judge.",
             tg_mode_words[cmnd[0] == 'l' ? TG_SMODE_LIST : TG_SMODE_VALIDATE]);
        return;
    }
    if (cmnd[0] != '/' && strcmp(cmnd, "sudoedit") != 0) {
        char name[4096];
        snprintf(name, sizeof(name), "%s", cmnd);
        tg_sudo_resolve(s, name, cmnd, sizeof(cmnd));
    }
    struct tg_buf args = TG_BUF_INIT;
    for (size_t i = 1; i < argc; i++) { /* sudo matches the arguments joined by spaces */
        if (i > 1)
            tg_buf_putc(&args, ' ');
        tg_buf_append(&args, argv[i].p, argv[i].len);
    }
    const char *def = tg_runas_default(s);
    struct tg_sudo_ask a = {user,
                            host,
                            runas ? runas : def,
                            group,
                            runas && strcasecmp(runas, def) != 0,
                            cmnd,
                            args.len ? tg_buf_cstr(&args) : NULL,
                            now};
    tg_sudo_decide(s, conf, &a, v);
    tg_buf_free(&args);
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

struct tg_policy *tg_policy_open(const struct tg_policy_conf *conf, const char *dir, unsigned flags)
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
    p->conf.snapshot_history_dir =
        conf->snapshot_history_dir && !dir ? tg_xstrdup(conf->snapshot_history_dir) : NULL;
    p->record = flags & TG_POLICY_RECORD;
    pthread_mutex_init(&p->mu, NULL);
    char *err = NULL;
    if (p->conf.snapshot_history_dir &&
        tg_history_open(p->conf.snapshot_history_dir, p->record, &p->hist, &err) != 0) {
        tg_err("policy: %s; events are judged by the current snapshot only", err);
        tg_metrics_inc(TG_C_HISTORY_FAILURES, 1);
        free(err);
    }
    if (p->conf.snapshot_dir)
        tg_policy_reload(p);
    struct tg_history_entry last;
    size_t n = p->hist ? tg_history_len(p->hist) : 0;
    if (!p->cur && n && tg_history_entry(p->hist, n - 1, &last)) {
        char ts[32];
        tg_time_format(ts, (struct tg_time){last.from_us / 1000000, 0, 0});
        tg_info("policy: the newest snapshot of the history, %s (in force from %s), stays in "
                "force",
                last.id, ts);
    }
    return p;
}

struct tg_policy *tg_policy_new(const struct tg_policy_conf *conf, const char *dir)
{
    return tg_policy_open(conf, dir, 0);
}

void tg_policy_free(struct tg_policy *p)
{
    if (!p)
        return;
    tg_snapshot_unref(p->cur);
    tg_history_free(p->hist);
    pthread_mutex_destroy(&p->mu);
    free(p->conf.snapshot_dir);
    free(p->conf.session_services);
    free(p->conf.db_service);
    free(p->conf.snapshot_history_dir);
    free(p->load_error);
    free(p);
}

static int64_t tg_now_us(void)
{
    struct tg_time t = tg_time_now();
    return t.sec * 1000000 + t.nsec / 1000;
}

/* s came into force now: record it in the history (stored when recording
 * and possible, else pinned in memory). */
static void tg_policy_record(struct tg_policy *p, struct tg_snapshot *s)
{
    struct tg_history_entry last;
    size_t n = tg_history_len(p->hist);
    if (n && tg_history_entry(p->hist, n - 1, &last) && strcmp(last.id, s->id) == 0)
        return; /* already the newest: stored, or pinned earlier in this run */
    int64_t now = tg_now_us();
    if (!p->record) {
        tg_history_pin(p->hist, s, now);
        return;
    }
    char *stage = NULL, *err = NULL, id[17];
    if (tg_history_stage(p->hist, p->conf.snapshot_dir, &stage, &err) == 0) {
        if (tg_snapshot_dir_id(stage, id) != 0 || strcmp(id, s->id) != 0) {
            tg_history_discard(p->hist, stage);
            err = tg_xasprintf("%s changed while it was loaded (the next reload records the new "
                               "content)",
                               p->conf.snapshot_dir);
        } else if (tg_history_commit(p->hist, stage, s, now, &err) == 0) {
            free(stage);
            return;
        }
        free(stage);
    }
    tg_err("policy: snapshot %s is in force but not kept in the history %s: %s", s->id,
           p->conf.snapshot_history_dir, err);
    tg_metrics_inc(TG_C_HISTORY_FAILURES, 1);
    free(err);
    tg_history_pin(p->hist, s, now);
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
    if (p->hist) { /* cached first: events of its time find it at once */
        tg_history_keep(p->hist, s);
        tg_policy_record(p, s);
    }
    __atomic_add_fetch(&p->loads, 1, __ATOMIC_RELAXED);
    tg_metrics_set_snapshot(s->id, (int64_t)time(NULL));
    pthread_mutex_lock(&p->mu);
    struct tg_snapshot *old = p->cur;
    p->cur = s;
    p->failed_id[0] = '\0';
    pthread_mutex_unlock(&p->mu);
    if (p->hist && old)
        tg_history_keep(p->hist, old); /* late events of its time need no load */
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

struct tg_history *tg_policy_history(struct tg_policy *p)
{
    return p ? p->hist : NULL;
}

void tg_policy_stats(const struct tg_policy *p, struct tg_policy_stats *out)
{
    for (int i = 0; i < 4; i++)
        out->decisions[i] = __atomic_load_n(&p->decisions[i], __ATOMIC_RELAXED);
    out->loads = __atomic_load_n(&p->loads, __ATOMIC_RELAXED);
    out->load_failures = __atomic_load_n(&p->load_failures, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- judging */

/* The snapshot of id: the current one when it is, else the history's. */
static struct tg_snapshot *tg_policy_snap(struct tg_policy *p, const char *id, char **err)
{
    struct tg_snapshot *cur = tg_policy_acquire(p);
    if (cur && strcmp(cur->id, id) == 0)
        return cur;
    tg_snapshot_unref(cur);
    return tg_history_get(p->hist, id, err);
}

static void tg_policy_us_text(int64_t us, char out[32])
{
    tg_time_format(out, (struct tg_time){us / 1000000, (int32_t)(us % 1000000) * 1000, 6});
}

/* Within grace after the change to entry k (`at`, whose verdict in j did
 * not allow): the previous snapshot's allow, with a reason naming the
 * change. */
static void tg_policy_grace(struct tg_policy *p, long k, const struct tg_history_entry *at,
                            tg_decide_fn decide, void *ctx, struct tg_judgement *j)
{
    struct tg_history_entry prev;
    char *err = NULL;
    if (!tg_history_entry(p->hist, (size_t)k - 1, &prev))
        return;
    struct tg_snapshot *old = tg_policy_snap(p, prev.id, &err);
    free(err); /* logged and counted by the history */
    if (!old)
        return;
    struct tg_verdict ov = {0};
    decide(ctx, old, &ov);
    if (ov.decision != TG_DECISION_ALLOW) {
        tg_snapshot_unref(old);
        return;
    }
    char ts[32], now_says[sizeof(j->v.reason)];
    tg_policy_us_text(at->from_us, ts);
    memcpy(now_says, j->v.reason, sizeof(now_says));
    snprintf(j->v.reason, sizeof(j->v.reason),
             "Allowed within [policy] grace_seconds %lld of the change from policy snapshot %s to "
             "%s at %s (hosts apply changes late: sssd caches rules): %.400s The snapshot in "
             "force says: %.400s",
             (long long)p->conf.grace_seconds, old->id, at->id, ts, ov.reason, now_says);
    j->v.decision = ov.decision;
    j->v.check = ov.check;
    j->v.rule = ov.rule;
    j->in_force = j->judged;
    j->judged = old;
    tg_metrics_inc(TG_C_GRACE_ALLOWED, 1);
}

void tg_policy_judge(struct tg_policy *p, int64_t t_us, tg_decide_fn decide, void *ctx,
                     struct tg_judgement *j)
{
    memset(j, 0, sizeof(*j));
    struct tg_history_entry at;
    long k = p->hist ? tg_history_find(p->hist, t_us, &at) : -1;
    char *err = NULL;
    j->judged = k < 0 ? tg_policy_acquire(p) : tg_policy_snap(p, at.id, &err);
    if (!j->judged) {
        pthread_mutex_lock(&p->mu);
        if (k < 0)
            tg_v(&j->v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
                 "No policy snapshot is loaded (%s), so the event was not checked.",
                 p->load_error ? p->load_error : "not loaded yet");
        else
            tg_v(&j->v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
                 "Policy snapshot %s, in force at the event's time, cannot be loaded (%s), so the "
                 "event was not checked.",
                 at.id, err);
        pthread_mutex_unlock(&p->mu);
        free(err);
        return;
    }
    decide(ctx, j->judged, &j->v);
    if (k < 0)
        return;
    if (t_us < at.from_us) { /* before the history began: the oldest snapshot kept judges */
        char ts[32];
        tg_policy_us_text(at.from_us, ts);
        size_t n = strlen(j->v.reason);
        snprintf(j->v.reason + n, sizeof(j->v.reason) - n,
                 " (The event is older than the snapshot history, whose oldest snapshot, %s, "
                 "came into force at %s.)",
                 at.id, ts);
        return;
    }
    if (j->v.decision != TG_DECISION_ALLOW && k > 0 && p->conf.grace_seconds > 0 &&
        t_us - at.from_us < p->conf.grace_seconds * 1000000)
        tg_policy_grace(p, k, &at, decide, ctx, j);
}

void tg_judgement_release(struct tg_judgement *j)
{
    tg_snapshot_unref(j->judged);
    tg_snapshot_unref(j->in_force);
    j->judged = j->in_force = NULL;
}

/* NUL-terminated copy of an event string (or NULL). */
static char *tg_cstr(struct tg_event *ev, struct tg_str s)
{
    return s.p ? (char *)tg_event_strdup(ev, s.p, s.len).p : NULL;
}

/* The event's @timestamp (as serialized: the record's time, else the
 * syslog header's, else the receive time). */
static struct tg_time tg_event_time(const struct tg_event *ev)
{
    return ev->timestamp.frac >= 0      ? ev->timestamp
           : ev->sl_timestamp.frac >= 0 ? ev->sl_timestamp
                                        : ev->ingested;
}

static void tg_policy_decide(struct tg_policy *p, const struct tg_snapshot *s, struct tg_event *ev,
                             struct tg_verdict *v)
{
    const char *user = tg_cstr(ev, ev->user_name);
    const char *host = tg_cstr(ev, ev->host_name);
    bool exec = ev->dataset == TG_DS_SNOOPY && tg_str_eq(ev->action, "exec");
    bool connect = ev->dataset == TG_DS_PERCONA && tg_str_eq(ev->action, "connect");
    bool sudo_line = ev->dataset == TG_DS_SUDO && ev->nargs > 0;
    if (!exec && !connect && !sudo_line) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             ev->dataset == TG_DS_PERCONA
                 ? "Database statements and events other than logins are outside the access "
                   "policy."
             : ev->dataset == TG_DS_SUDO
                 ? "The sudo line names no complete command (a continuation, or a message about "
                   "sudo itself), so there is nothing to judge."
                 : "The record was not recognised as a command or login, so no policy applies.");
        return;
    }
    if (connect && !p->conf.db_service) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "Database logins are not checked; set [policy] db_service to the HBAC service "
             "that grants them.");
        return;
    }
    int64_t uid = tg_str_digits(ev->user_id);
    if (!user && uid >= 0) { /* snoopy's upstream format logs only the uid */
        user = tg_snapshot_uid_name(s, host, uid, NULL, NULL);
        if (!user) {
            tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
                 "The record names only uid %lld, which no account of policy snapshot %s has%s%s, "
                 "so its access cannot be judged; export the account (or the host's passwd "
                 "file, with a first line \"# host: NAME\") into the snapshot.",
                 (long long)uid, s->id, host ? " on " : "", host ? host : "");
            return;
        }
    }
    if (!user || !host) {
        tg_v(v, TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, NULL,
             "The record names no %s, so the policy cannot be applied.", !user ? "user" : "host");
        return;
    }
    if (connect) {
        if (!tg_account_gate(s, &p->conf, user, uid, v))
            tg_verdict_hbac(s, &p->conf, user, host, p->conf.db_service, v);
        return;
    }
    int64_t now = tg_event_time(ev).sec;
    if (sudo_line) {
        tg_verdict_sudo_line(s, &p->conf, user, host, tg_cstr(ev, ev->user_eff_name),
                             tg_cstr(ev, ev->user_eff_group), ev->args, ev->nargs, now, v);
        return;
    }
    tg_verdict_exec(s, &p->conf, user, uid, tg_cstr(ev, ev->user_real_name),
                    tg_str_digits(ev->user_real_id), host, tg_cstr(ev, ev->executable),
                    tg_cstr(ev, ev->command_line), tg_cstr(ev, ev->working_directory), now, v);
}

struct tg_policy_event {
    struct tg_policy *p;
    struct tg_event *ev;
};

static void tg_policy_decide_event(void *ctx, const struct tg_snapshot *s, struct tg_verdict *v)
{
    struct tg_policy_event *c = ctx;
    tg_policy_decide(c->p, s, c->ev, v);
}

/* The snapshot's name for a user the record names by id only, and where
 * it is defined ("FILE:LINE", the file's name in the snapshot). */
static void tg_policy_name(struct tg_event *ev, const struct tg_snapshot *s, struct tg_str id,
                           struct tg_str *name, struct tg_str *from)
{
    int64_t uid = tg_str_digits(id);
    if (name->p || uid < 0)
        return;
    const char *file = NULL, *host = tg_cstr(ev, ev->host_name);
    int line = 0;
    const char *n = tg_snapshot_uid_name(s, host, uid, &file, &line);
    if (!n)
        return;
    *name = tg_event_strdup(ev, n, strlen(n));
    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : file ? file : "?";
    char where[300];
    int len = snprintf(where, sizeof(where), "%s:%d", base, line);
    *from =
        tg_event_strdup(ev, where, (size_t)len < sizeof(where) ? (size_t)len : sizeof(where) - 1);
}

void tg_policy_evaluate(struct tg_policy *p, struct tg_event *ev)
{
    if (!p || (!p->conf.snapshot_dir && !p->hist))
        return;
    struct tg_judgement j;
    struct tg_policy_event c = {p, ev};
    struct tg_time t = tg_event_time(ev);
    tg_policy_judge(p, t.sec * 1000000 + t.nsec / 1000, tg_policy_decide_event, &c, &j);
    const struct tg_verdict *v = &j.v;
    if (j.judged) {
        ev->policy.snapshot = tg_event_strdup(ev, j.judged->id, strlen(j.judged->id));
        tg_policy_name(ev, j.judged, ev->user_id, &ev->user_name, &ev->user_name_from);
        tg_policy_name(ev, j.judged, ev->user_eff_id, &ev->user_eff_name, &ev->user_eff_name_from);
    }
    if (j.in_force)
        ev->policy.in_force = tg_event_strdup(ev, j.in_force->id, strlen(j.in_force->id));
    ev->policy.decision = v->decision;
    ev->policy.check = v->check;
    ev->policy.rule = v->rule ? tg_event_strdup(ev, v->rule, strlen(v->rule)) : TG_STR_NULL;
    ev->policy.reason = tg_event_strdup(ev, v->reason, strlen(v->reason));
    if (v->command[0]) /* a sudo command was judged: what it ran, as whom */
        ev->sudo_command = tg_event_strdup(ev, v->command, strlen(v->command));
    if (v->target[0] && !ev->user_target_name.p)
        ev->user_target_name = tg_event_strdup(ev, v->target, strlen(v->target));
    if (v->target_group[0] && !ev->user_target_group.p)
        ev->user_target_group = tg_event_strdup(ev, v->target_group, strlen(v->target_group));
    /* drift: the host said otherwise (only on a line read whole: a cut
     * command is not the one the host decided on) */
    bool decided = v->decision == TG_DECISION_ALLOW || v->decision == TG_DECISION_DENY;
    bool host = ev->host_decision == TG_DECISION_ALLOW || ev->host_decision == TG_DECISION_DENY;
    ev->policy.drift =
        decided && host && ev->parse_status == TG_PARSE_OK && ev->host_decision != v->decision;
    __atomic_add_fetch(&p->decisions[v->decision & 3], 1, __ATOMIC_RELAXED);
    tg_judgement_release(&j);
}
