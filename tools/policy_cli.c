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
 * lint reads a snapshot even when it is damaged (tg_snapshot_read; the
 * collector refuses such a snapshot) and prints what it holds and every
 * problem.  Main thread only.
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
#include "policy/policy.h"
#include "tools/commands.h"
#include "tools/registry.h"

const char tg_policy_usage[] =
    "usage: trailguard policy check --snapshot DIR --user U --host H [--service S]\n"
    "                               [--runas R] [--command 'CMD ARGS'] [--json] [-c FILE]\n"
    "       trailguard policy lint --snapshot DIR\n"
    "\n"
    "check: explain the verdict the collector gives.  With --command: may U run\n"
    "CMD ARGS with sudo (as R, default root; --runas needs --command) on H, and does\n"
    "HBAC grant U the service sudo there (like `sudo -l -U U -h H [-u R] CMD`).\n"
    "With --service: HBAC for that service (like `ipa hbactest`).  Otherwise: HBAC\n"
    "for [policy] session_services.  Accounts below [policy] min_uid and accounts\n"
    "the snapshot does not know are not_applicable, as in the collector.\n"
    "Prints the decision, the deciding rule and the reason.\n"
    "Exit status: 0 allow or not_applicable, 1 deny, 2 usage, 3 snapshot unreadable.\n"
    "\n"
    "lint: load the snapshot, print what it holds (counts of users, groups, hosts,\n"
    "rules by kind) and every problem with file:line; warns when the directory holds\n"
    "no policy files.  Damage (a file or line that cannot be read as written) is an\n"
    "error, and the collector does not load such a snapshot.\n"
    "Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage,\n"
    "3 snapshot unreadable.\n"
    "\n"
    "  -c, --config FILE  take [policy] (session_services, min_uid, usrmerge) from FILE\n";

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

static void tg_print_json(const struct tg_verdict *v, const struct tg_snapshot *s)
{
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
    tg_jw_cstr(&w, "snapshot", s->id);
    tg_jw_end(&w);
    fwrite(b.data, 1, b.len, stdout);
    fputc('\n', stdout);
    tg_buf_free(&b);
}

/*
 * The verdict the collector gives user on host: tg_verdict_exec on the exec
 * that carries the question.  command ("CMD ARGS", not blank) is logged as
 * `sudo [-u runas] -- CMD ARGS`; without it the exec is a session command,
 * checked against service when given, else [policy] session_services.
 */
static void tg_check_verdict(const struct tg_snapshot *s, const struct tg_policy_conf *pc,
                             const char *user, const char *host, char *service, const char *runas,
                             const char *command, struct tg_verdict *v)
{
    struct tg_policy_conf conf = *pc;
    if (service)
        conf.session_services = service;
    struct tg_buf line = TG_BUF_INIT;
    if (command) {
        command += strspn(command, " ");
        size_t n = strlen(command);
        while (command[n - 1] == ' ')
            n--;
        tg_buf_puts(&line, "sudo");
        if (runas)
            tg_buf_printf(&line, " -u %s", runas);
        tg_buf_printf(&line, " -- %.*s", (int)n, command);
    }
    tg_verdict_exec(s, &conf, user, -1, NULL, -1, host, NULL, command ? tg_buf_cstr(&line) : NULL,
                    NULL, (int64_t)time(NULL), v);
    tg_buf_free(&line);
}

int tg_cmd_policy(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, 'S'}, {"user", required_argument, NULL, 'u'},
        {"host", required_argument, NULL, 'H'},     {"service", required_argument, NULL, 's'},
        {"runas", required_argument, NULL, 'r'},    {"command", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},           {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return tg_usage_error("policy", "missing subcommand: check or lint");
        fputs(tg_policy_usage, stdout);
        return TG_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "check") != 0 && strcmp(sub, "lint") != 0)
        return tg_usage_error("policy", "unknown subcommand '%s' (use check or lint)", sub);
    const char *dir = NULL, *user = NULL, *host = NULL, *runas = NULL, *command = NULL,
               *config = NULL;
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
        case 'h':
            fputs(tg_policy_usage, stdout);
            return TG_EXIT_OK;
        default:
            return tg_option_error("policy", c, argv);
        }
    }
    if (optind < argc)
        return tg_usage_error("policy", "unexpected argument '%s'", argv[optind]);
    struct tg_config *cfg = NULL;
    if (config && tg_registry_load_config(config, &cfg) != 0)
        return TG_EXIT_USAGE;
    const struct tg_policy_conf *pc = cfg ? tg_config_get(cfg, "policy") : NULL;
    struct tg_policy_conf defaults = {0};
    if (!pc) {
        tg_config_defaults(&tg_policy_section, &defaults);
        pc = &defaults;
    }
    if (!dir)
        dir = pc->snapshot_dir;
    int rc = TG_EXIT_OK;
    if (!dir) {
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
    struct tg_snapshot *s;
    char *err = NULL;
    if (tg_snapshot_load(dir, &s, &err) != 0) {
        fprintf(stderr, "trailguard policy check: %s\n", err);
        free(err);
        rc = TG_EXIT_RUNTIME;
        goto out;
    }
    struct tg_verdict v = {0};
    tg_check_verdict(s, pc, user, host, service, runas, command, &v);
    if (json) {
        tg_print_json(&v, s);
    } else {
        printf("decision: %s\n", tg_decision_names[v.decision]);
        printf("check: %s\n", tg_check_names[v.check] ? tg_check_names[v.check] : "-");
        printf("rule: %s\n", v.rule ? v.rule : "-");
        printf("reason: %s\n", v.reason);
        printf("snapshot: %s\n", s->id);
    }
    rc = v.decision == TG_DECISION_DENY ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
    tg_snapshot_unref(s);
out:
    if (pc == &defaults) {
        free(defaults.snapshot_dir);
        free(defaults.session_services);
        free(defaults.db_service);
    }
    tg_config_free(cfg);
    return rc;
}
