/*
 * policy_cli.c - `trailguard policy check` and `trailguard policy lint`.
 *
 * check explains one verdict like `ipa hbactest` / `sudo -l -U U -h H CMD`,
 * and it is the verdict the collector gives: the question is put to
 * tg_verdict_exec, the pipeline's own entry for a logged exec, as the exec
 * that would carry it.  --command 'CMD ARGS' is the exec of
 * `sudo [-u R] -- CMD ARGS` (sudo rules plus HBAC service sudo); otherwise
 * it is a session command, checked against --service or [policy]
 * session_services.  So the account gates (system accounts below min_uid,
 * accounts the snapshot does not know: not_applicable) and sudo's argument
 * reading are the collector's, and the two cannot drift.  [policy] comes
 * from -c FILE, else from the option table's defaults.
 * check --at TIME asks the snapshot history ([policy]
 * snapshot_history_dir, or --history DIR) through tg_policy_judge, the
 * pipeline's own path for an event of that time: the snapshot in force
 * then, and the grace rule after a change.
 * lint reads a snapshot even when it is damaged (tg_snapshot_read; the
 * collector refuses such a snapshot) and prints what it holds and every
 * problem.  history lists the snapshots of the history with the times they
 * were in force, or what changed between two of them (snapshot_diff.h).
 * Main thread only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "policy/history.h"
#include "policy/policy.h"
#include "policy/snapshot_diff.h"
#include "tools/commands.h"
#include "tools/registry.h"

const char tg_policy_usage[] =
    "usage: trailguard policy check --snapshot DIR --user U --host H [--service S]\n"
    "                               [--runas R] [--command 'CMD ARGS'] [--json] [-c FILE]\n"
    "       trailguard policy check --at TIME [--history DIR] --user U --host H ...\n"
    "       trailguard policy lint --snapshot DIR\n"
    "       trailguard policy history [--history DIR] [-c FILE] [--json] [OLD [NEW]]\n"
    "\n"
    "check: explain the verdict the collector gives.  With --command: may U run\n"
    "CMD ARGS with sudo (as R, default root; --runas needs --command) on H, and does\n"
    "HBAC grant U the service sudo there (like `sudo -l -U U -h H [-u R] CMD`).\n"
    "With --service: HBAC for that service (like `ipa hbactest`).  Otherwise: HBAC\n"
    "for [policy] session_services.  Accounts below [policy] min_uid and accounts\n"
    "the snapshot does not know are not_applicable, as in the collector.\n"
    "Prints the decision, the deciding rule and the reason.\n"
    "With --at TIME (RFC 3339, or relative: -2h): the verdict an event of that time\n"
    "gets, from the snapshot history: the snapshot in force then, and within [policy]\n"
    "grace_seconds after a change the previous one's allow too.\n"
    "Exit status: 0 allow or not_applicable, 1 deny, 2 usage, 3 snapshot unreadable.\n"
    "\n"
    "lint: load the snapshot, print what it holds (counts of users, groups, hosts,\n"
    "rules by kind) and every problem with file:line; warns when the directory holds\n"
    "no policy files.  Damage (a file or line that cannot be read as written) is an\n"
    "error, and the collector does not load such a snapshot.\n"
    "Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage,\n"
    "3 snapshot unreadable.\n"
    "\n"
    "history: the snapshots of the history, oldest first, with the time each came into\n"
    "force and until when (--json: one object per line).  With OLD NEW (ids, or\n"
    "unique prefixes): what changed between them -- HBAC and sudo rules, users,\n"
    "groups, hosts, host groups, services added (+), removed (-) or changed (~);\n"
    "with OLD alone: what the change to OLD changed.\n"
    "Exit status: 0, 2 usage, 3 history or snapshot unreadable.\n"
    "\n"
    "  -c, --config FILE  take [policy] (session_services, min_uid, usrmerge,\n"
    "                     snapshot_history_dir, grace_seconds) from FILE\n"
    "  --history DIR      the snapshot history ([policy] snapshot_history_dir)\n";

static const char *const tg_decision_names[] = {"none", "allow", "deny", "not_applicable"};
static const char *const tg_check_names[] = {NULL, "hbac", "sudo", "hbac+sudo"};

static int tg_policy_lint(const char *dir)
{
    struct tg_snapshot *s;
    char *err = NULL;
    if (tg_snapshot_read(dir, &s, &err) != 0) {
        fprintf(stderr, "trailguard policy lint: %s\n", err);
        free(err);
        return TG_EXIT_RUNTIME;
    }
    size_t errors = tg_snapshot_report(s, stdout);
    size_t policy_files = 0;
    for (size_t i = 0; i < s->d.nfiles; i++)
        policy_files +=
            strcmp(s->d.file_kinds[i], "empty") != 0 && strcmp(s->d.file_kinds[i], "unknown") != 0;
    /* a warning, like other loadable but suspicious content: nothing was
     * ignored, and the collector runs with it (every verdict not_applicable) */
    if (policy_files == 0)
        printf("%s: warning: the directory holds no policy files (LDIF, cvtsudoers JSON, passwd, "
               "group or netgroup), so every event would be not_applicable; export the policy "
               "into it (see deploy/export-policy-snapshot.sh)\n",
               dir);
    tg_snapshot_unref(s);
    return errors ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
}

/* Print a verdict, judged by snapshot `id`; in_force: the snapshot in
 * force when a grace verdict came from the previous one (NULL: none). */
static void tg_print_verdict(const struct tg_verdict *v, const char *id, const char *in_force,
                             bool json)
{
    if (!json) {
        printf("decision: %s\n", tg_decision_names[v->decision]);
        printf("check: %s\n", tg_check_names[v->check] ? tg_check_names[v->check] : "-");
        printf("rule: %s\n", v->rule ? v->rule : "-");
        printf("reason: %s\n", v->reason);
        printf("snapshot: %s\n", id ? id : "-");
        if (in_force)
            printf("in force: %s\n", in_force);
        return;
    }
    struct tg_buf b = TG_BUF_INIT;
    struct tg_jw w;
    tg_jw_begin(&w, &b);
    tg_jw_cstr(&w, "decision", tg_decision_names[v->decision]);
    if (tg_check_names[v->check])
        tg_jw_cstr(&w, "check", tg_check_names[v->check]);
    else
        tg_jw_null(&w, "check");
    if (v->rule)
        tg_jw_cstr(&w, "rule", v->rule);
    else
        tg_jw_null(&w, "rule");
    tg_jw_cstr(&w, "reason", v->reason);
    if (id)
        tg_jw_cstr(&w, "snapshot", id);
    else
        tg_jw_null(&w, "snapshot");
    tg_jw_cstr(&w, "in_force", in_force);
    tg_jw_end(&w);
    fwrite(b.data, 1, b.len, stdout);
    fputc('\n', stdout);
    tg_buf_free(&b);
}

/* The question of `policy check`. */
struct tg_check_q {
    const struct tg_policy_conf *pc;
    const char *user, *host, *runas, *command;
    char *service;
    int64_t now; /* the time asked about (epoch seconds) */
};

/*
 * The verdict the collector gives user on host: tg_verdict_exec on the exec
 * that carries the question.  command ("CMD ARGS", not blank) is logged as
 * `sudo [-u runas] -- CMD ARGS`; without it the exec is a session command,
 * checked against service when given, else [policy] session_services.
 */
static void tg_check_verdict(void *ctx, const struct tg_snapshot *s, struct tg_verdict *v)
{
    const struct tg_check_q *q = ctx;
    struct tg_policy_conf conf = *q->pc;
    if (q->service)
        conf.session_services = q->service;
    struct tg_buf line = TG_BUF_INIT;
    const char *command = q->command;
    if (command) {
        command += strspn(command, " ");
        size_t n = strlen(command);
        while (command[n - 1] == ' ')
            n--;
        tg_buf_puts(&line, "sudo");
        if (q->runas)
            tg_buf_printf(&line, " -u %s", q->runas);
        tg_buf_printf(&line, " -- %.*s", (int)n, command);
    }
    tg_verdict_exec(s, &conf, q->user, -1, NULL, -1, q->host, NULL,
                    command ? tg_buf_cstr(&line) : NULL, NULL, q->now, v);
    tg_buf_free(&line);
}

/* check --at: the verdict of an event at `at`, through the history. */
static int tg_policy_check_at(const struct tg_policy_conf *pc, struct tg_check_q *q,
                              struct tg_time at, bool json)
{
    struct tg_policy *pol = tg_policy_open(pc, NULL, 0);
    struct tg_history *h = tg_policy_history(pol);
    int rc = TG_EXIT_OK;
    if (!h) {
        fprintf(stderr,
                "trailguard policy check: the snapshot history %s cannot be read (see "
                "above)\n",
                pc->snapshot_history_dir);
        rc = TG_EXIT_RUNTIME;
    } else if (tg_history_len(h) == 0) {
        fprintf(stderr,
                "trailguard policy check: the snapshot history %s is empty: no snapshot was "
                "recorded yet (the collector records one when it loads it)\n",
                pc->snapshot_history_dir);
        rc = TG_EXIT_RUNTIME;
    } else {
        struct tg_judgement j;
        q->now = at.sec;
        tg_policy_judge(pol, at.sec * 1000000 + at.nsec / 1000, tg_check_verdict, q, &j);
        tg_print_verdict(&j.v, j.judged ? j.judged->id : NULL, j.in_force ? j.in_force->id : NULL,
                         json);
        rc = j.v.decision == TG_DECISION_DENY ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
        tg_judgement_release(&j);
    }
    tg_policy_free(pol);
    return rc;
}

/* The entry whose id is `arg` or starts with it (the newest such entry;
 * the prefix must name one snapshot); -1 with a message when there is
 * none or several. */
static long tg_history_pick(struct tg_history *h, const char *arg)
{
    long found = -1;
    char id[17] = "";
    size_t n = tg_history_len(h), len = strlen(arg);
    struct tg_history_entry e;
    for (size_t i = 0; len && i < n && tg_history_entry(h, i, &e); i++) {
        if (strncmp(e.id, arg, len) != 0)
            continue;
        if (found >= 0 && strcmp(id, e.id) != 0) {
            fprintf(stderr,
                    "trailguard policy history: '%s' names more than one snapshot; give "
                    "more of the id\n",
                    arg);
            return -1;
        }
        found = (long)i;
        memcpy(id, e.id, sizeof(id));
    }
    if (found < 0)
        fprintf(stderr,
                "trailguard policy history: no snapshot '%s' in the history; `trailguard policy "
                "history` lists them\n",
                arg);
    return found;
}

static void tg_history_list(struct tg_history *h, bool json)
{
    size_t n = tg_history_len(h);
    if (!json)
        printf("%-16s  %-27s  %s\n", "snapshot", "in force from", "until");
    for (size_t i = 0; i < n; i++) {
        struct tg_history_entry e;
        if (!tg_history_entry(h, i, &e))
            break;
        char from[32], until[32] = "";
        tg_time_format(
            from, (struct tg_time){e.from_us / 1000000, (int32_t)(e.from_us % 1000000) * 1000, 6});
        if (e.until_us != INT64_MAX)
            tg_time_format(until, (struct tg_time){e.until_us / 1000000,
                                                   (int32_t)(e.until_us % 1000000) * 1000, 6});
        if (!json) {
            printf("%-16s  %-27s  %s\n", e.id, from, until[0] ? until : "(now)");
            continue;
        }
        struct tg_buf b = TG_BUF_INIT;
        struct tg_jw w;
        tg_jw_begin(&w, &b);
        tg_jw_cstr(&w, "snapshot", e.id);
        tg_jw_cstr(&w, "from", from);
        if (until[0])
            tg_jw_cstr(&w, "until", until);
        else
            tg_jw_null(&w, "until");
        tg_jw_end(&w);
        printf("%s\n", tg_buf_cstr(&b));
        tg_buf_free(&b);
    }
}

/* history OLD [NEW]: the changes between two entries' snapshots (OLD
 * alone: from the entry before it). */
static int tg_history_changes(struct tg_history *h, const char *old, const char *new_)
{
    long a = tg_history_pick(h, old), b = new_ ? tg_history_pick(h, new_) : a;
    if (a < 0 || b < 0)
        return TG_EXIT_USAGE;
    if (!new_) {
        if (a == 0) {
            fprintf(stderr,
                    "trailguard policy history: %s is the oldest snapshot of the "
                    "history; give the two to compare\n",
                    old);
            return TG_EXIT_USAGE;
        }
        a--;
    }
    struct tg_history_entry ea, eb;
    tg_history_entry(h, (size_t)a, &ea);
    tg_history_entry(h, (size_t)b, &eb);
    char *err = NULL;
    struct tg_snapshot *sa = tg_history_get(h, ea.id, &err), *sb = NULL;
    if (sa)
        sb = tg_history_get(h, eb.id, &err);
    int rc = TG_EXIT_OK;
    if (!sa || !sb) {
        fprintf(stderr, "trailguard policy history: %s\n", err);
        rc = TG_EXIT_RUNTIME;
    } else {
        printf("changes from snapshot %s to %s:\n", ea.id, eb.id);
        tg_snapshot_diff(sa, sb, stdout);
    }
    free(err);
    tg_snapshot_unref(sa);
    tg_snapshot_unref(sb);
    return rc;
}

static int tg_policy_history_cmd(const char *dir, bool json, int nargs, char **args)
{
    struct tg_history *h;
    char *err = NULL;
    if (tg_history_open(dir, false, &h, &err) != 0) {
        fprintf(stderr, "trailguard policy history: %s\n", err);
        free(err);
        return TG_EXIT_RUNTIME;
    }
    int rc = TG_EXIT_OK;
    if (nargs == 0)
        tg_history_list(h, json);
    else
        rc = tg_history_changes(h, args[0], nargs > 1 ? args[1] : NULL);
    tg_history_free(h);
    return rc;
}

int tg_cmd_policy(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, 'S'}, {"user", required_argument, NULL, 'u'},
        {"host", required_argument, NULL, 'H'},     {"service", required_argument, NULL, 's'},
        {"runas", required_argument, NULL, 'r'},    {"command", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},           {"config", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 'A'},       {"history", required_argument, NULL, 'Y'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return tg_usage_error("policy", "missing subcommand: check, lint or history");
        fputs(tg_policy_usage, stdout);
        return TG_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "check") != 0 && strcmp(sub, "lint") != 0 && strcmp(sub, "history") != 0)
        return tg_usage_error("policy", "unknown subcommand '%s' (use check, lint or history)",
                              sub);
    const char *dir = NULL, *user = NULL, *host = NULL, *runas = NULL, *command = NULL,
               *config = NULL, *at = NULL, *history = NULL;
    char *service = NULL;
    bool json = false;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'S':
            dir = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'H':
            host = optarg;
            break;
        case 's':
            service = optarg;
            break;
        case 'r':
            runas = optarg;
            break;
        case 'C':
            command = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'c':
            config = optarg;
            break;
        case 'A':
            at = optarg;
            break;
        case 'Y':
            history = optarg;
            break;
        case 'h':
            fputs(tg_policy_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("policy", c, argv);
        }
    }
    bool is_history = strcmp(sub, "history") == 0;
    if (optind < argc && (!is_history || argc - optind > 2))
        return tg_usage_error("policy", "unexpected argument '%s'",
                              argv[is_history ? optind + 2 : optind]);
    struct tg_config *cfg = NULL;
    if (config && tg_registry_load_config(config, &cfg) != 0)
        return TG_EXIT_USAGE;
    const struct tg_policy_conf *cpc = cfg ? tg_config_get(cfg, "policy") : NULL;
    struct tg_policy_conf defaults = {0}, pcv;
    if (!cpc) {
        tg_config_defaults(&tg_policy_section, &defaults);
        cpc = &defaults;
    }
    pcv = *cpc;
    if (history)
        pcv.snapshot_history_dir = (char *)history;
    const struct tg_policy_conf *pc = &pcv;
    if (!dir)
        dir = pc->snapshot_dir;
    int rc = TG_EXIT_OK;
    if (is_history || at) {
        if (!pc->snapshot_history_dir) {
            rc = tg_usage_error("policy",
                                "%s needs the snapshot history: --history DIR, or -c "
                                "FILE with [policy] snapshot_history_dir",
                                is_history ? "history" : "check --at");
            goto out;
        }
        if (is_history) {
            rc =
                tg_policy_history_cmd(pc->snapshot_history_dir, json, argc - optind, argv + optind);
            goto out;
        }
    }
    if (!dir && !at) {
        rc = tg_usage_error("policy", "--snapshot DIR is required");
        goto out;
    }
    if (strcmp(sub, "lint") == 0) {
        rc = tg_policy_lint(dir);
        goto out;
    }
    if (!user || !host) {
        rc = tg_usage_error("policy", "check needs --user and --host");
        goto out;
    }
    if (service && command) {
        rc = tg_usage_error("policy", "--service and --command exclude each other (a --command "
                                      "check uses the HBAC service sudo)");
        goto out;
    }
    if (command && command[strspn(command, " ")] == '\0') {
        rc = tg_usage_error("policy",
                            "--command is empty: give the command to check with its "
                            "arguments, e.g. --command '/usr/bin/systemctl restart nginx'");
        goto out;
    }
    if (runas && !command) {
        rc = tg_usage_error("policy", "--runas applies to a sudo check only: give --command 'CMD "
                                      "ARGS' too (without it check asks HBAC, which has no runas "
                                      "user)");
        goto out;
    }
    if (runas && (runas[0] == '\0' || strchr(runas, ' '))) {
        rc = tg_usage_error("policy", "--runas '%s': give one user name (or #uid)", runas);
        goto out;
    }
    struct tg_check_q q = {pc, user, host, runas, command, service, (int64_t)time(NULL)};
    if (at) {
        struct tg_time t;
        if (tg_time_parse_arg(at, tg_time_now(), &t) != 0) {
            rc = tg_usage_error("policy",
                                "--at '%s': give an RFC 3339 time "
                                "(2026-11-24T13:42:31Z) or a relative one (-2h, -30m)",
                                at);
            goto out;
        }
        pcv.snapshot_dir = (char *)dir; /* --snapshot: what comes into force now */
        rc = tg_policy_check_at(pc, &q, t, json);
        goto out;
    }
    struct tg_snapshot *s;
    char *err = NULL;
    if (tg_snapshot_load(dir, &s, &err) != 0) {
        fprintf(stderr, "trailguard policy check: %s\n", err);
        free(err);
        rc = TG_EXIT_RUNTIME;
        goto out;
    }
    struct tg_verdict v = {0};
    tg_check_verdict(&q, s, &v);
    tg_print_verdict(&v, s->id, NULL, json);
    rc = v.decision == TG_DECISION_DENY ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
    tg_snapshot_unref(s);
out:
    if (cpc == &defaults) {
        free(defaults.snapshot_dir);
        free(defaults.session_services);
        free(defaults.db_service);
        free(defaults.snapshot_history_dir);
    }
    tg_config_free(cfg);
    return rc;
}
