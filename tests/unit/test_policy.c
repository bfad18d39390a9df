/*
 * test_policy.c - the policy modules one by one: the sudo argv reader, the
 * LDIF reader (folding, base64, comments, nested groups, ipaSudoRule with
 * commands and command groups, problems with file:line), the snapshot id and
 * refcount, reload keeping the last good snapshot, and the verdict on
 * constructed events (session HBAC, sudo with -u/-i/-l, `sudo sudoedit`,
 * system accounts with and without a logged uid, unknown users, usrmerge,
 * Percona connect and its account gate, broken snapshot), and damaged
 * snapshots (the load fails naming file:line, lint lists every problem, a
 * reload keeps the last good snapshot).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/metrics.h"
#include "policy/hbac.h"
#include "policy/policy.h"
#include "policy/sudo.h"
#include "policy/sudo_argv.h"
#include "parsers/sudo.h"

static char dir[64];

static void put(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int mkdir_setup(void **state)
{
    strcpy(dir, "/tmp/tg-policy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int rm_teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- argv */

static void parse(const char *line, struct tg_sudo_args *a, int *argc, char **argv, char *buf)
{
    strcpy(buf, line);
    *argc = 0;
    for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
        argv[(*argc)++] = t;
    tg_sudo_args_parse(*argc, argv, a);
}

static void test_argv(void **state)
{
    struct tg_sudo_args a;
    char *argv[32], buf[256];
    int argc;
    parse("sudo -u postgres psql -c select", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_RUN);
    assert_string_equal(a.user, "postgres");
    assert_string_equal(argv[a.cmd], "psql");
    parse("/usr/bin/sudo -iupostgres", &a, &argc, argv, buf);
    assert_true(a.login_shell);
    assert_string_equal(a.user, "postgres");
    assert_int_equal(a.cmd, argc);
    parse("sudo --user=bob -E -H -- id -u", &a, &argc, argv, buf);
    assert_string_equal(a.user, "bob");
    assert_string_equal(argv[a.cmd], "id");
    parse("sudo -g adm journalctl", &a, &argc, argv, buf);
    assert_string_equal(a.group, "adm");
    assert_null(a.user);
    parse("sudo -l", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_LIST);
    parse("sudo -k", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_KILL);
    parse("sudo -k id", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_RUN);
    parse("sudo -nS FOO=bar id", &a, &argc, argv, buf);
    assert_string_equal(argv[a.cmd], "id");
    parse("sudoedit /etc/motd", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_EDIT);
    parse("sudo -hweb1 -l id", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_LIST);
    parse("sudo -h", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_HELP);
    parse("sudo -u", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_USAGE);
    parse("sudo -V", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_VERSION);
    parse("sudo -v", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_VALIDATE);
    parse("sudo -K", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_INVALIDATE);
    parse("sudo --help", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_HELP);
    parse("sudo --preserve-env=PATH -s", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_RUN);
    assert_true(a.shell);
    parse("sudo -is", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_USAGE);
    parse("sudo --frobnicate id", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_USAGE);
    assert_int_equal(a.cmd, argc);
    parse("sudo -Z id", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_USAGE);
    parse("sudo -s ls a.b", &a, &argc, argv, buf);
    struct tg_buf b = TG_BUF_INIT;
    tg_sudo_shell_escape(argc, argv, a.cmd, &b);
    assert_string_equal(tg_buf_cstr(&b), "ls a\\.b");
    tg_buf_free(&b);
}

/* Command lines and what sudo 1.9.13p3 (Debian) did with each, run as root:
 * the mode, the command word (NULL: none), and for refusals a word of the
 * reason.  sudoedit lines were run as the sudoedit program. */
static const struct {
    const char *line;
    enum tg_sudo_mode mode;
    const char *cmd_or_why;
} argv_cases[] = {
    /* sudo refused these */
    {"sudo -U bob id", TG_SMODE_USAGE, "-U option may only be used with the -l"},
    {"sudo --host=web1 uptime", TG_SMODE_USAGE, "remote host may only"},
    {"sudo -hweb1 uptime", TG_SMODE_USAGE, "remote host may only"},
    {"sudo --ho=web1 true", TG_SMODE_USAGE, "remote host may only"},
    {"sudo -h uptime", TG_SMODE_USAGE, "lone -h takes the next word as a remote host"},
    {"sudo -h web1 uptime", TG_SMODE_USAGE, "lone -h"},
    {"sudo -v -hweb1", TG_SMODE_USAGE, "remote host may only"},
    {"sudoedit -h web1 /tmp/x", TG_SMODE_USAGE, "remote host may only"},
    {"sudo -a x true", TG_SMODE_USAGE, "BSD"},
    {"sudo -c x true", TG_SMODE_USAGE, "BSD"},
    {"sudo --auth-type=x true", TG_SMODE_USAGE, "BSD"},
    {"sudo --logi true", TG_SMODE_USAGE, "ambiguous"},
    {"sudo --h", TG_SMODE_USAGE, "ambiguous"},
    {"sudo --list=x", TG_SMODE_USAGE, "takes no argument"},
    {"sudo -u root -u root true", TG_SMODE_USAGE, "twice"},
    {"sudo -U root -l -U root", TG_SMODE_USAGE, "twice"},
    {"sudo -C 2 true", TG_SMODE_USAGE, "-C must be a number"},
    {"sudo -n -k", TG_SMODE_USAGE, "does not take"},
    {"sudo -E -l", TG_SMODE_USAGE, "does not take"},
    {"sudo -e -H /tmp/x", TG_SMODE_USAGE, "does not take"},
    {"sudo -u root -l", TG_SMODE_USAGE, "-u and -g need a command"},
    {"sudo -u root -K", TG_SMODE_USAGE, "-u and -g need a command"},
    {"sudo -l -v", TG_SMODE_USAGE, "only one of"},
    {"sudo -h -V", TG_SMODE_USAGE, "only one of"},
    {"sudo -e FOO=1 /tmp/x", TG_SMODE_USAGE, "environment variables in edit mode"},
    {"sudoedit FOO=1 /tmp/x", TG_SMODE_USAGE, "environment variables in edit mode"},
    {"sudo --preserve-env=A=b true", TG_SMODE_USAGE, "invalid environment variable name"},
    {"sudo -A -S true", TG_SMODE_USAGE, "-A and -S"},
    {"sudo -i -E", TG_SMODE_USAGE, "-i and -E"},
    {"sudo --login --shell", TG_SMODE_USAGE, "-i and -s"},
    {"sudo -k -N true", TG_SMODE_USAGE, "-K, -k or -N"},
    {"sudo -K true", TG_SMODE_USAGE, "which run none"},
    {"sudo -v true", TG_SMODE_USAGE, "which run none"},
    {"sudo -V true", TG_SMODE_USAGE, "which run none"},
    {"sudo -nh web1 true", TG_SMODE_USAGE, "does not take"},
    {"sudo -h -- id", TG_SMODE_USAGE, "which run none"},
    {"sudoedit -s /tmp/x", TG_SMODE_USAGE, "unknown option"},
    {"sudoedit --list", TG_SMODE_USAGE, "unknown long option"},
    {"sudoedit -K", TG_SMODE_USAGE, "only one of"},
    {"sudoedit -k", TG_SMODE_USAGE, "no file to edit"},
    {"sudo -e", TG_SMODE_USAGE, "no file to edit"},
    {"sudo -E=PATH true", TG_SMODE_USAGE, "unknown option"},
    {"sudo -u root", TG_SMODE_USAGE, "no command given"},
    /* sudo took these */
    {"sudo --us=nobody id", TG_SMODE_RUN, "id"},
    {"sudo FOO=1 -u nobody id", TG_SMODE_RUN, "id"},
    {"sudo ./a=b id", TG_SMODE_RUN, "id"},
    {"sudo -- FOO=1 id", TG_SMODE_RUN, "FOO=1"},
    {"sudo =x id", TG_SMODE_RUN, "=x"},
    {"sudo --preserve-env PATH true", TG_SMODE_RUN, "PATH"},
    {"sudo -C 3 true", TG_SMODE_RUN, "true"},
    {"sudo -u root -- id", TG_SMODE_RUN, "id"},
    {"sudo -e --preserve-env=NOPE /tmp/x", TG_SMODE_EDIT, "/tmp/x"},
    {"sudoedit -k /tmp/x", TG_SMODE_EDIT, "/tmp/x"},
    {"sudoedit -u root /tmp/x", TG_SMODE_EDIT, "/tmp/x"},
    {"sudo -h FOO=1", TG_SMODE_HELP, NULL},
    {"sudo --he", TG_SMODE_HELP, NULL},
    {"sudoedit -h", TG_SMODE_HELP, NULL},
    {"sudoedit -V -h", TG_SMODE_HELP, NULL},
    {"sudo --li", TG_SMODE_LIST, NULL},
    {"sudo -l -l -l", TG_SMODE_LIST, NULL},
    {"sudo -hweb1 -l true", TG_SMODE_LIST, "true"},
    {"sudo -U root -l id", TG_SMODE_LIST, "id"},
    {"sudo -K -hweb1", TG_SMODE_INVALIDATE, NULL},
    {"sudo -k -K", TG_SMODE_INVALIDATE, NULL},
    {"sudo -k -hweb1", TG_SMODE_KILL, NULL},
    {"sudo -u root -v", TG_SMODE_VALIDATE, NULL},
};

static void test_argv_sudo_1913(void **state)
{
    struct tg_sudo_args a;
    char *argv[32], buf[256];
    int argc;
    for (size_t i = 0; i < sizeof(argv_cases) / sizeof(argv_cases[0]); i++) {
        const char *want = argv_cases[i].cmd_or_why;
        parse(argv_cases[i].line, &a, &argc, argv, buf);
        if (a.mode != argv_cases[i].mode)
            fail_msg("%s: mode %d, want %d", argv_cases[i].line, a.mode, argv_cases[i].mode);
        if (a.mode == TG_SMODE_USAGE) {
            assert_int_equal(a.cmd, argc);
            if (!strstr(a.error, want))
                fail_msg("%s: reason '%s' lacks '%s'", argv_cases[i].line, a.error, want);
        } else if (want ? a.cmd >= argc || strcmp(argv[a.cmd], want) != 0 : a.cmd != argc) {
            fail_msg("%s: command at %d, want %s", argv_cases[i].line, a.cmd, want ? want : "none");
        }
    }
    parse("sudo FOO=1 -u nobody id", &a, &argc, argv, buf);
    assert_string_equal(a.user, "nobody");
    parse("sudo --us=nobody id", &a, &argc, argv, buf);
    assert_string_equal(a.user, "nobody");
}

/* ---------------------------------------------------------------- LDIF */

static const char ldif[] = "version: 1\n"
                           "# comment that is\n"
                           " folded\n"
                           "\n"
                           "dn: uid=alice,cn=users,cn=accounts,dc=x\n"
                           "objectClass: posixaccount\n"
                           "uid: alice\n"
                           "uidNumber: 1500\n"
                           "loginShell: /bin/bash\n"
                           "memberOf: cn=web,cn=groups,cn=accou\n"
                           " nts,dc=x\n"
                           "\n"
                           "dn: uid=svc,cn=users,cn=accounts,dc=x\n"
                           "objectClass: posixaccount\n"
                           "uid: svc\n"
                           "uidNumber: 500\n"
                           "\n"
                           "dn: cn=web,cn=groups,cn=accounts,dc=x\n"
                           "objectClass: ipausergroup\n"
                           "cn: web\n"
                           "\n"
                           "dn: cn=admins,cn=groups,cn=accounts,dc=x\n"
                           "objectClass: ipausergroup\n"
                           "cn: admins\n"
                           "member: cn=web,cn=groups,cn=accounts,dc=x\n"
                           "\n"
                           "dn: fqdn=web1.x,cn=computers,cn=accounts,dc=x\n"
                           "objectClass: ipahost\n"
                           "fqdn: web1.x\n"
                           "memberOf: cn=webservers,cn=hostgroups,cn=accounts,dc=x\n"
                           "\n"
                           "dn: ipaUniqueID=1,cn=hbac,dc=x\n"
                           "objectClass: ipahbacrule\n"
                           "cn:: YWRtaW5zX3NzaA==\n" /* admins_ssh */
                           "accessRuleType: allow\n"
                           "ipaEnabledFlag: TRUE\n"
                           "memberUser: cn=admins,cn=groups,cn=accounts,dc=x\n"
                           "memberHost: cn=webservers,cn=hostgroups,cn=accounts,dc=x\n"
                           "memberService: cn=sshd,cn=hbacservices,cn=hbac,dc=x\n"
                           "\n"
                           "dn: ipaUniqueID=2,cn=hbac,dc=x\n"
                           "objectClass: ipahbacrule\n"
                           "cn: sudo_all\n"
                           "accessRuleType: allow\n"
                           "ipaEnabledFlag: TRUE\n"
                           "userCategory: all\n"
                           "hostCategory: all\n"
                           "memberService: cn=sudo,cn=hbacservices,cn=hbac,dc=x\n"
                           "\n"
                           "dn: ipaUniqueID=3,cn=hbac,dc=x\n"
                           "objectClass: ipahbacrule\n"
                           "cn: old_deny\n"
                           "accessRuleType: deny\n"
                           "ipaEnabledFlag: TRUE\n"
                           "userCategory: all\n"
                           "\n"
                           "dn: ipaUniqueID=c1,cn=sudocmds,cn=sudo,dc=x\n"
                           "objectClass: ipasudocmd\n"
                           "ipaUniqueID: c1\n"
                           "sudoCmd: /bin/systemctl restart *\n"
                           "\n"
                           "dn: ipaUniqueID=c2,cn=sudocmds,cn=sudo,dc=x\n"
                           "objectClass: ipasudocmd\n"
                           "ipaUniqueID: c2\n"
                           "sudoCmd: /usr/bin/systemctl restart sshd\n"
                           "\n"
                           "dn: cn=svcs,cn=sudocmdgroups,cn=sudo,dc=x\n"
                           "objectClass: ipasudocmdgrp\n"
                           "cn: svcs\n"
                           "member: ipaUniqueID=c1,cn=sudocmds,cn=sudo,dc=x\n"
                           "\n"
                           "dn: ipaUniqueID=r1,cn=sudorules,cn=sudo,dc=x\n"
                           "objectClass: ipasudorule\n"
                           "cn: web_restart\n"
                           "ipaEnabledFlag: TRUE\n"
                           "memberUser: cn=admins,cn=groups,cn=accounts,dc=x\n"
                           "hostCategory: all\n"
                           "memberAllowCmd: cn=svcs,cn=sudocmdgroups,cn=sudo,dc=x\n"
                           "memberDenyCmd: ipaUniqueID=c2,cn=sudocmds,cn=sudo,dc=x\n"
                           "memberAllowCmd: ipaUniqueID=missing,cn=sudocmds,cn=sudo,dc=x\n";

static struct tg_policy_conf conf(void)
{
    struct tg_policy_conf c = {.snapshot_dir = dir,
                               .session_services = "sshd,login",
                               .min_uid = 1000,
                               .usrmerge = true,
                               .db_service = "mysql"};
    return c;
}

/* The verdict on user's logged `sudo ARGS` (a snoopy record with no uid),
 * as the pipeline and `policy check` ask it. */
static void sudo_verdict(const struct tg_snapshot *s, const struct tg_policy_conf *c,
                         const char *user, const char *host, const char *args, struct tg_verdict *v)
{
    char line[512];
    snprintf(line, sizeof(line), "sudo %s", args);
    tg_verdict_exec(s, c, user, -1, NULL, -1, host, "/usr/bin/sudo", line, NULL, 0, v);
}

static void test_ldif(void **state)
{
    put("idm.ldif", ldif);
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
    assert_int_equal(strlen(s->id), 16);
    assert_int_equal(s->d.nhbac, 3);
    assert_string_equal(s->d.hbac[0].name, "admins_ssh");
    assert_int_equal(s->d.hbac_nonallow, 1);
    /* alice -> web -> admins (nested), web1.x -> webservers */
    assert_int_equal(tg_hbac_check(s, "ALICE", "WEB1.X", "sshd"), 0);
    assert_int_equal(tg_hbac_check(s, "alice", "web2.x", "sshd"), -1);
    assert_int_equal(tg_hbac_check(s, "bob", "db.x", "sudo"), 1);
    /* problems carry file:line; findings are not damage (damage: test_damaged_ldif) */
    bool saw_missing = false, saw_deny = false;
    for (size_t i = 0; i < s->d.nproblems; i++) {
        const struct tg_problem *p = &s->d.problems[i];
        saw_missing |= strstr(p->msg, "missing") != NULL && p->line == 80;
        saw_deny |= strstr(p->msg, "deny") != NULL;
    }
    assert_true(saw_missing);
    assert_true(saw_deny);
    assert_int_equal(s->d.ndamage, 0);
    struct tg_snapshot_data *d = &s->d;
    assert_int_equal(d->nsudo_ipa, 1);
    struct tg_policy_conf c = conf();
    struct tg_verdict v;
    sudo_verdict(s, &c, "alice", "web1.x", "/usr/bin/systemctl restart nginx", &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW); /* /bin matches /usr/bin (usrmerge) */
    assert_int_equal(v.check, TG_CHECK_HBAC_SUDO);
    assert_string_equal(v.rule, "web_restart");
    sudo_verdict(s, &c, "alice", "web1.x", "/usr/bin/systemctl restart sshd", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY); /* deny command wins inside the rule */
    c.usrmerge = false;
    sudo_verdict(s, &c, "alice", "web1.x", "/usr/bin/systemctl restart nginx", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY);
    tg_snapshot_unref(s);
}

/* ---------------------------------------------------------- sudoers JSON */

static void test_json(void **state)
{
    /* cvtsudoers 1.9.13 writes a bare "runcwd" member (invalid JSON): repaired;
     * "negated" before "command"; an alias naming an alias; an undefined
     * Host_Alias matched as a host name, as sudo does */
    put("sudoers.json",
        "{\n"
        " \"User_Aliases\": { \"OPS\": [ { \"useralias\": \"ADM\" } ],\n"
        "                    \"ADM\": [ { \"username\": \"alice\" } ] },\n"
        " \"User_Specs\": [\n"
        "  { \"User_List\": [ { \"useralias\": \"OPS\" } ],\n"
        "    \"Host_List\": [ { \"hostalias\": \"WEB1\" } ],\n"
        "    \"Cmnd_Specs\": [ { \"Options\": [ \"runcwd\": \"/tmp\" ],\n"
        "      \"Commands\": [ { \"command\": \"ALL\" },\n"
        "                    { \"negated\": true, \"command\": \"/usr/bin/su\" } ] } ] }\n"
        " ]\n"
        "}\n");
    put("passwd", "alice:x:1500:1500::/home/alice:/bin/bash\n");
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
    assert_int_equal(s->d.nsudo_json, 1);
    assert_string_equal(s->d.sudo[0].name, "sudoers.json:5");
    bool repaired = false;
    for (size_t i = 0; i < s->d.nproblems; i++)
        repaired |= strstr(s->d.problems[i].msg, "repaired 1 place") != NULL;
    assert_true(repaired);
    struct tg_policy_conf c = conf();
    struct tg_verdict v;
    sudo_verdict(s, &c, "alice", "web1.example.com", "/usr/bin/id", &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW);
    sudo_verdict(s, &c, "alice", "web1", "/bin/su -", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY);
    assert_string_equal(v.rule, "sudoers.json:5");
    sudo_verdict(s, &c, "alice", "db1", "/usr/bin/id", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY);
    assert_null(v.rule);
    tg_snapshot_unref(s);
}

/* A question without a uid (`policy check`, a record that carries none)
 * takes the snapshot's uid: system accounts are not_applicable, not denied. */
static void test_system_account_without_uid(void **state)
{
    put("idm.ldif", ldif);
    put("passwd", "root:x:0:0:root:/root:/bin/bash\n");
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
    struct tg_policy_conf c = conf();
    struct tg_verdict v;
    tg_verdict_exec(s, &c, "root", -1, NULL, -1, "web1.x", NULL, NULL, NULL, 0, &v);
    assert_int_equal(v.decision, TG_DECISION_NOT_APPLICABLE);
    assert_int_equal(v.check, TG_CHECK_NONE);
    assert_string_equal(v.reason, "root (uid 0) is a system account below [policy] min_uid 1000, "
                                  "which the policy does not cover.");
    sudo_verdict(s, &c, "svc", "web1.x", "-- /usr/bin/id", &v);
    assert_int_equal(v.decision, TG_DECISION_NOT_APPLICABLE);
    assert_string_equal(v.reason, "svc (uid 500) is a system account below [policy] min_uid "
                                  "1000, which the policy does not cover.");
    c.min_uid = 500; /* [policy] min_uid from -c */
    sudo_verdict(s, &c, "svc", "web1.x", "-- /usr/bin/id", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY);
    tg_verdict_exec(s, &c, "alice", -1, NULL, -1, "web1.x", NULL, NULL, NULL, 0, &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW);
    assert_string_equal(v.rule, "admins_ssh");
    tg_snapshot_unref(s);
}

/* `sudo sudoedit FILE` is checked as `sudoedit FILE`, as sudoers does
 * (it used to be checked as the command /usr/bin/sudoedit). */
static void test_sudo_sudoedit(void **state)
{
    put("sudoers.json", "{ \"User_Specs\": [ {\n"
                        "  \"User_List\": [ { \"username\": \"alice\" } ],\n"
                        "  \"Host_List\": [ { \"hostname\": \"ALL\" } ],\n"
                        "  \"Cmnd_Specs\": [ { \"Commands\": [\n"
                        "    { \"command\": \"sudoedit /etc/motd\" } ] } ] } ] }\n");
    put("passwd", "alice:x:1500:1500::/home/alice:/bin/bash\n");
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
    struct tg_policy_conf c = conf();
    static const char *const allowed[] = {"sudoedit /etc/motd", "-- sudoedit /etc/motd",
                                          "/usr/bin/sudoedit /etc/motd", "-e /etc/motd"};
    struct tg_verdict v;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        sudo_verdict(s, &c, "alice", "h", allowed[i], &v);
        assert_int_equal(v.decision, TG_DECISION_ALLOW);
        assert_string_equal(v.rule, "sudoers.json:2");
    }
    tg_verdict_exec(s, &c, "alice", -1, NULL, -1, "h", "/usr/bin/sudoedit", "sudoedit /etc/motd",
                    NULL, 0, &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW);
    sudo_verdict(s, &c, "alice", "h", "sudoedit /etc/shadow", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY);
    sudo_verdict(s, &c, "alice", "h", "-s sudoedit /etc/motd", &v); /* the shell runs it */
    assert_int_equal(v.decision, TG_DECISION_DENY);
    tg_snapshot_unref(s);
}

/* ------------------------------------------------------- command paths */

static void test_sudo_path_clean(void **state)
{
    static const char *const cases[][2] = {
        {"/", "/"},
        {"//", "/"},
        {"/usr//bin/./uptime", "/usr/bin/uptime"},
        {"/usr/bin/../bin/uptime", "/usr/bin/uptime"},
        {"/a/b/../../..", "/"},
        {"/../x", "/x"},
        {"/usr/local/sbin/../sbin/", "/usr/local/sbin/"},
        {"/usr/bin/.", "/usr/bin"},
        {"/home/alice/./local.sh", "/home/alice/local.sh"},
        {"/.../x/..y", "/.../x/..y"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(tg_sudo_path_clean(cases[i][0], buf, sizeof(buf)));
        assert_string_equal(buf, cases[i][1]);
    }
    strcpy(buf, "//usr/./bin//../sbin/x/"); /* in place */
    assert_true(tg_sudo_path_clean(buf, buf, sizeof(buf)));
    assert_string_equal(buf, "/usr/sbin/x/");
    assert_false(tg_sudo_path_clean("./local.sh", buf, sizeof(buf)));
    assert_false(tg_sudo_path_clean("/usr/bin/uptime", buf, 8));
}

/* sudo compares commands by file: a path spelled with //, . or .. matches
 * the rule for the file, and a rule spelled so matches too; a ^regex$ sees
 * the path as typed.  Each case was confirmed with the real sudo's -l
 * (sudo_oracle.sh), the cwd ones as sudo ./local.sh run in /home/alice. */
static void test_sudo_paths(void **state)
{
    put("sudoers.json", "{ \"User_Specs\": [ {\n"
                        "  \"User_List\": [ { \"username\": \"alice\" } ],\n"
                        "  \"Host_List\": [ { \"hostname\": \"ALL\" } ],\n"
                        "  \"Cmnd_Specs\": [ { \"Commands\": [\n"
                        "    { \"command\": \"/usr/bin/uptime\" },\n"
                        "    { \"command\": \"/usr//bin/../bin/./id\" },\n"
                        "    { \"command\": \"/usr/local/sbin/\" },\n"
                        "    { \"command\": \"/home/alice/local.sh\" },\n"
                        "    { \"command\": \"^/usr/bin/who[a-z]+$\" } ] } ] } ] }\n");
    put("passwd", "alice:x:1500:1500::/home/alice:/bin/bash\n");
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
    struct tg_policy_conf c = conf();
    static const struct {
        const char *cmd;
        enum tg_decision want;
    } cases[] = {
        {"/usr/bin/../bin/uptime", TG_DECISION_ALLOW},
        {"/usr//bin/uptime", TG_DECISION_ALLOW},
        {"/usr/bin/./uptime -p", TG_DECISION_ALLOW},
        {"/usr/bin/../../usr/bin/uptime", TG_DECISION_ALLOW},
        {"/usr/bin/id", TG_DECISION_ALLOW},
        {"/bin/id", TG_DECISION_ALLOW},
        {"/usr/local/sbin/../sbin/./fixperms", TG_DECISION_ALLOW},
        {"/usr/local/sbin//fixperms", TG_DECISION_ALLOW},
        {"/usr/bin/whoami", TG_DECISION_ALLOW},
        {"/usr/bin/../bin/whoami", TG_DECISION_DENY},
        {"/usr/bin/date", TG_DECISION_DENY},
    };
    struct tg_verdict v;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sudo_verdict(s, &c, "alice", "web1", cases[i].cmd, &v);
        if (v.decision != cases[i].want)
            fail_msg("%s: decision %d, want %d", cases[i].cmd, v.decision, cases[i].want);
    }
    tg_verdict_exec(s, &c, "alice", 1500, NULL, -1, "web1", "/usr/bin/sudo", "sudo ./local.sh",
                    "/home/alice", 0, &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW);
    tg_verdict_exec(s, &c, "alice", 1500, NULL, -1, "web1", "/usr/bin/sudo",
                    "sudo ../alice//local.sh", "/home/alice", 0, &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW);
    assert_non_null(strstr(v.reason, "/home/alice/local.sh")); /* the path sudo runs */
    tg_snapshot_unref(s);
}

/* --------------------------------------------------------------- events */

static struct tg_event *exec_event(const char *user, const char *uid, const char *exe,
                                   const char *cmdline)
{
    struct tg_input_meta in = {.type = "file"};
    struct tg_event *ev = tg_event_new("x", 1, &in, (struct tg_time){1700000000, 0, 6});
    ev->dataset = TG_DS_SNOOPY;
    ev->action = TG_STR_LIT("exec");
    ev->user_name = tg_event_strdup(ev, user, strlen(user));
    ev->user_id = uid ? tg_event_strdup(ev, uid, strlen(uid)) : TG_STR_NULL;
    ev->host_name = TG_STR_LIT("web1.x");
    ev->executable = tg_event_strdup(ev, exe, strlen(exe));
    ev->command_line = tg_event_strdup(ev, cmdline, strlen(cmdline));
    return ev;
}

static enum tg_decision decide(struct tg_policy *p, struct tg_event *ev, const char *want_rule)
{
    tg_policy_evaluate(p, ev);
    enum tg_decision d = ev->policy.decision;
    assert_non_null(ev->policy.reason.p);
    if (want_rule) {
        assert_non_null(ev->policy.rule.p);
        assert_int_equal(strncmp(ev->policy.rule.p, want_rule, ev->policy.rule.len), 0);
    }
    tg_event_free(ev);
    return d;
}

static void test_events(void **state)
{
    put("idm.ldif", ldif);
    put("passwd", "bob:x:1600:1600::/home/bob:/bin/zsh\n");
    struct tg_policy_conf c = conf();
    struct tg_policy *p = tg_policy_new(&c, NULL);
    struct tg_event *ev;
    assert_int_equal(decide(p, exec_event("alice", "1500", "/usr/bin/ls", "ls -l"), "admins_ssh"),
                     TG_DECISION_ALLOW);
    assert_int_equal(decide(p, exec_event("bob", "1600", "/usr/bin/ls", "ls"), NULL),
                     TG_DECISION_DENY);
    assert_int_equal(decide(p, exec_event("svc", "500", "/usr/bin/ls", "ls"), NULL),
                     TG_DECISION_NOT_APPLICABLE);
    assert_int_equal(decide(p, exec_event("nobody", "1700", "/usr/bin/ls", "ls"), NULL),
                     TG_DECISION_NOT_APPLICABLE);
    assert_int_equal(
        decide(p,
               exec_event("alice", "1500", "/usr/bin/sudo", "sudo -u root systemctl restart nginx"),
               "web_restart"),
        TG_DECISION_ALLOW);
    assert_int_equal(decide(p, exec_event("alice", "1500", "/usr/bin/sudo", "sudo -l"), NULL),
                     TG_DECISION_NOT_APPLICABLE);
    assert_int_equal(decide(p, exec_event("alice", "1500", "/usr/bin/sudo", "sudo -i"), NULL),
                     TG_DECISION_DENY);
    /* sudo judges who runs it: bob (logged in as alice, then su bob) may not
     * restart nginx, whatever alice may do; a plain exec is alice's session */
    ev = exec_event("alice", NULL, "/usr/bin/sudo", "sudo -u root systemctl restart nginx");
    ev->user_real_name = TG_STR_LIT("bob");
    ev->user_real_id = TG_STR_LIT("1600");
    assert_int_equal(decide(p, ev, NULL), TG_DECISION_DENY);
    ev = exec_event("alice", NULL, "/usr/bin/ls", "ls");
    ev->user_real_name = TG_STR_LIT("bob");
    ev->user_real_id = TG_STR_LIT("1600");
    assert_int_equal(decide(p, ev, "admins_ssh"), TG_DECISION_ALLOW);
    /* known by uid only: the snapshot names it */
    ev = exec_event("alice", NULL, "/usr/bin/sudo", "sudo -u root systemctl restart nginx");
    ev->user_real_id = TG_STR_LIT("1600");
    assert_int_equal(decide(p, ev, NULL), TG_DECISION_DENY);
    /* Percona: connect checked against db_service, queries not applicable */
    ev = exec_event("alice", NULL, "", "");
    ev->dataset = TG_DS_PERCONA;
    ev->action = TG_STR_LIT("query");
    assert_int_equal(decide(p, ev, NULL), TG_DECISION_NOT_APPLICABLE);
    ev = exec_event("alice", NULL, "", "");
    ev->dataset = TG_DS_PERCONA;
    ev->action = TG_STR_LIT("connect");
    assert_int_equal(decide(p, ev, NULL), TG_DECISION_DENY);

    /* a broken reload keeps the last good snapshot */
    struct tg_snapshot *s1 = tg_policy_acquire(p);
    char moved[80];
    snprintf(moved, sizeof(moved), "%s.gone", dir);
    assert_int_equal(rename(dir, moved), 0);
    assert_true(tg_policy_reload(p) < 0);
    struct tg_snapshot *s2 = tg_policy_acquire(p);
    assert_ptr_equal(s1, s2);
    assert_int_equal(rename(moved, dir), 0);
    put("extra.ldif", "dn: cn=x,cn=hbacservices,cn=hbac,dc=x\ncn: x\n");
    assert_int_equal(tg_policy_reload_if_changed(p), 0);
    struct tg_snapshot *s3 = tg_policy_acquire(p);
    assert_ptr_not_equal(s1, s3);
    assert_string_not_equal(s1->id, s3->id);
    tg_snapshot_unref(s1);
    tg_snapshot_unref(s2);
    tg_snapshot_unref(s3);
    struct tg_policy_stats st;
    tg_policy_stats(p, &st);
    assert_int_equal(st.loads, 2);
    assert_int_equal(st.load_failures, 1);
    tg_policy_free(p);

    /* missing snapshot: not_applicable with the reason, never a stop */
    c.snapshot_dir = "/nonexistent/tg-policy";
    p = tg_policy_new(&c, NULL);
    ev = exec_event("alice", "1500", "/usr/bin/ls", "ls");
    tg_policy_evaluate(p, ev);
    assert_int_equal(ev->policy.decision, TG_DECISION_NOT_APPLICABLE);
    assert_non_null(strstr(ev->policy.reason.p, "/nonexistent/tg-policy"));
    tg_event_free(ev);
    tg_policy_free(p);
}

/* ------------------------------------------------------------ concurrency */

static void *eval_thread(void *arg)
{
    struct tg_policy *p = arg;
    for (int i = 0; i < 3000; i++) {
        struct tg_event *ev = exec_event("alice", "1500", "/usr/bin/ls", "ls");
        tg_policy_evaluate(p, ev);
        assert_int_equal(ev->policy.decision, TG_DECISION_ALLOW);
        tg_event_free(ev);
    }
    return NULL;
}

/* Workers decide while the control thread swaps snapshots (run under
 * ThreadSanitizer by `make threads`). */
static void test_reload_while_deciding(void **state)
{
    put("idm.ldif", ldif);
    struct tg_policy_conf c = conf();
    struct tg_policy *p = tg_policy_new(&c, NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, eval_thread, p), 0);
    for (int i = 0; i < 10; i++) {
        char extra[64];
        snprintf(extra, sizeof(extra), "dn: cn=svc%d,cn=hbacservices,cn=hbac,dc=x\ncn: svc%d\n", i,
                 i);
        put("extra.ldif", extra);
        assert_int_equal(tg_policy_reload_if_changed(p), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct tg_policy_stats st;
    tg_policy_stats(p, &st);
    assert_int_equal(st.decisions[TG_DECISION_ALLOW], 4 * 3000);
    assert_int_equal(st.loads, 11);
    tg_policy_free(p);
}

/* ------------------------------------------------------------ robustness */

static void load_damaged(const char *name, const char *data, size_t len)
{
    char fp[128];
    snprintf(fp, sizeof(fp), "%s/%s", dir, name);
    FILE *o = fopen(fp, "wb");
    assert_non_null(o);
    fwrite(data, 1, len, o);
    fclose(o);
    struct tg_snapshot *s, *loaded;
    char *err = NULL;
    assert_int_equal(tg_snapshot_read(dir, &s, &err), 0);
    /* the collector's load refuses exactly the damaged ones, naming the file */
    int rc = tg_snapshot_load(dir, &loaded, &err);
    assert_int_equal(rc != 0, s->d.ndamage > 0);
    if (rc == 0)
        tg_snapshot_unref(loaded);
    else
        assert_non_null(strstr(err, fp));
    free(err);
    /* the matchers on whatever was read (never done with a damaged one outside tests) */
    struct tg_policy_conf c = conf();
    struct tg_verdict v;
    sudo_verdict(s, &c, "alice", "web1.example.com", "/usr/bin/systemctl x", &v);
    tg_verdict_hbac(s, &c, "alice", "web1.example.com", "sshd", &v);
    FILE *null = fopen("/dev/null", "w");
    tg_snapshot_report(s, null);
    fclose(null);
    tg_snapshot_unref(s);
    unlink(fp);
}

/* Prefixes (every 53 bytes) and 150 byte-mutated copies of each shared
 * sample are read without a crash (the sanitizer build checks memory):
 * damage becomes reported problems, and the load fails exactly when some
 * of them are damage (content not readable as written). */
static void test_damaged_samples(void **state)
{
    static const char *const samples[] = {"hbac.ldif", "sudoers.json", "sudoers.ldif",
                                          "ipa-compat-sudoers.ldif"};
    static const char pick[] = ":\n \"{}[],!%#+=\\^$*/\x80\xff";
    static char buf[65536], mut[65536];
    const char *shared = getenv("TG_SHARED");
    if (!shared)
        skip();
    unsigned long long rng = 42;
    for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/samples/%s", shared, samples[k]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        for (size_t cut = 0; cut < n; cut += 53)
            load_damaged(samples[k], buf, cut);
        for (int round = 0; round < 150; round++) {
            memcpy(mut, buf, n);
            for (int j = 0; j < 8; j++) {
                rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                mut[(rng >> 33) % n] = pick[(rng >> 20) % (sizeof(pick) - 1)];
            }
            load_damaged(samples[k], mut, n);
        }
    }
}

/* ---------------------------------------------------------------- damage */

/* The lines of a snapshot load's error and of `policy lint`'s report name
 * the damaged file and line: "DIR/NAME:LINE: ". */
static void assert_damage_at(const char *text, const char *name, int line)
{
    char want[160];
    snprintf(want, sizeof(want), "%s/%s:%d: ", dir, name, line);
    if (!strstr(text, want))
        fail_msg("'%s' does not name %s", text, want);
}

/* What lint prints for a damaged snapshot: every problem, exit status from
 * the count of errors (tg_snapshot_read loads it anyway). */
static size_t lint_report(char **out)
{
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_read(dir, &s, &err), 0);
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    size_t errors = tg_snapshot_report(s, f);
    fclose(f);
    tg_snapshot_unref(s);
    return errors;
}

/* Load dir expecting damage at name:line; returns the message (free it). */
static char *load_fails_at(const char *name, int line)
{
    struct tg_snapshot *s = (struct tg_snapshot *)1;
    char *err = NULL;
    assert_true(tg_snapshot_load(dir, &s, &err) < 0);
    assert_null(s);
    assert_non_null(err);
    assert_damage_at(err, name, line);
    assert_non_null(strstr(err, "is damaged and was not loaded"));
    char *out;
    assert_true(lint_report(&out) > 0); /* lint: an error, exit status 1 */
    assert_damage_at(out, name, line);
    assert_non_null(strstr(out, "the collector does not load this snapshot"));
    free(out);
    return err;
}

/* A truncated sudoers.json (the audit's repro: the snapshot used to load
 * with no sudo rules, so HBAC alone allowed every sudo command), JSON with
 * text after it, a file that cannot be read, a damaged passwd line: the
 * load fails, naming the file and line and what to do. */
static void test_damaged_files(void **state)
{
    static const char spec[] = "{ \"User_Specs\": [ {\n"
                               "  \"User_List\": [ { \"username\": \"alice\" } ],\n"
                               "  \"Host_List\": [ { \"hostname\": \"ALL\" } ],\n"
                               "  \"Cmnd_Specs\": [ { \"Commands\": [\n"
                               "    { \"command\": \"/usr/bin/id\" } ] } ] } ] }\n";
    char text[sizeof(spec) + 8];
    memcpy(text, spec, 79); /* cut short: the parser stops at its end */
    text[79] = '\0';
    int line = 1;
    for (const char *p = text; *p; p++)
        line += *p == '\n';
    put("sudoers.json", text);
    char *err = load_fails_at("sudoers.json", line);
    assert_non_null(strstr(err, "invalid JSON (the file ends in the middle of it); export the file "
                                "again with cvtsudoers -f json"));
    free(err);
    snprintf(text, sizeof(text), "%s}\n", spec);
    put("sudoers.json", text);
    free(load_fails_at("sudoers.json", 6)); /* "text after the end of the JSON document" */
    put("sudoers.json", spec);
    struct tg_snapshot *s;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
    assert_int_equal(s->d.nsudo_json, 1);
    tg_snapshot_unref(s);

    char link[128];
    snprintf(link, sizeof(link), "%s/passwd", dir);
    assert_int_equal(symlink("/nonexistent/passwd", link), 0);
    assert_true(tg_snapshot_load(dir, &s, &err) < 0);
    assert_non_null(strstr(err, "/passwd: cannot read the file (No such file or directory)"));
    free(err);
    unlink(link);

    char pw[4096] = "";
    for (int i = 0; i < 60; i++) /* past the 50 lines that tell the kind */
        snprintf(pw + strlen(pw), sizeof(pw) - strlen(pw), "u%d:x:%d:%d::/home/u%d:/bin/sh\n", i,
                 2000 + i, 2000 + i, i);
    strcat(pw, "u60:x:2060\n");
    put("passwd", pw);
    free(load_fails_at("passwd", 61));
}

/* LDIF syntax damage: a line that is not `attribute: value`, an HBAC rule
 * whose dn: line is damaged (its entry had to be dropped: the rule would
 * be missing), a missing blank line between entries.  Findings (a deny
 * rule, a command that is not in the snapshot) still load: test_ldif. */
static void test_damaged_ldif(void **state)
{
    char text[sizeof(ldif) + 64];
    snprintf(text, sizeof(text), "%s\nbogus line without colon\n", ldif);
    put("idm.ldif", text);
    free(load_fails_at("idm.ldif", 82));

    snprintf(text, sizeof(text), "%s", ldif);
    char *dn = strstr(text, "dn: ipaUniqueID=2,cn=hbac");
    int line = 1;
    for (const char *p = text; p < dn; p++)
        line += *p == '\n';
    dn[2] = ' '; /* "dn  ipaUniqueID=2,...": not an attribute line */
    put("idm.ldif", text);
    char *err = load_fails_at("idm.ldif", line);
    assert_non_null(strstr(err, "not an LDIF 'attribute: value' line"));
    free(err);
    struct tg_snapshot *s;
    assert_int_equal(tg_snapshot_read(dir, &s, &err), 0);
    assert_int_equal(s->d.nhbac, 2); /* sudo_all was lost: why the load fails */
    tg_snapshot_unref(s);

    snprintf(text, sizeof(text), "%s", ldif);
    dn = strstr(text, "dn: ipaUniqueID=2,cn=hbac");
    memmove(dn - 1, dn, strlen(dn) + 1); /* no blank line before it */
    put("idm.ldif", text);
    err = load_fails_at("idm.ldif", line - 1);
    assert_non_null(strstr(err, "the blank line between entries is missing"));
    free(err);
}

/* A Percona connect event by user (no uid logged, as Percona writes it). */
static struct tg_event *connect_event(const char *user)
{
    struct tg_event *ev = exec_event(user, NULL, "", "");
    ev->dataset = TG_DS_PERCONA;
    ev->action = TG_STR_LIT("connect");
    return ev;
}

/* A damaged snapshot: at start events get not_applicable with the load
 * error; a reload to a damaged snapshot keeps the last good one; both are
 * counted. */
static void test_damaged_reload(void **state)
{
    put("idm.ldif", ldif);
    struct tg_policy_conf c = conf();
    uint64_t failures0 = tg_metrics_get(TG_C_SNAPSHOT_LOAD_FAILURES);
    struct tg_policy *p = tg_policy_new(&c, NULL);
    struct tg_snapshot *s1 = tg_policy_acquire(p);
    assert_non_null(s1);
    put("sudoers.json", "{ \"User_Specs\": [ {\n");
    assert_true(tg_policy_reload(p) < 0);
    assert_true(tg_policy_reload_if_changed(p) < 0); /* the directory differs from s1 */
    /* the periodic check does not try the same damaged content again */
    assert_int_equal(tg_policy_reload_if_changed(p), 0);
    struct tg_snapshot *s2 = tg_policy_acquire(p);
    assert_ptr_equal(s1, s2);
    tg_snapshot_unref(s1);
    tg_snapshot_unref(s2);
    assert_int_equal(decide(p, exec_event("alice", "1500", "/usr/bin/ls", "ls"), "admins_ssh"),
                     TG_DECISION_ALLOW);
    struct tg_policy_stats st;
    tg_policy_stats(p, &st);
    assert_int_equal(st.loads, 1);
    assert_int_equal(st.load_failures, 2);
    assert_int_equal(tg_metrics_get(TG_C_SNAPSHOT_LOAD_FAILURES), failures0 + 2);
    tg_policy_free(p);

    p = tg_policy_new(&c, NULL);
    assert_null(tg_policy_acquire(p));
    struct tg_event *ev = exec_event("alice", "1500", "/usr/bin/sudo", "sudo /usr/bin/id");
    tg_policy_evaluate(p, ev);
    assert_int_equal(ev->policy.decision, TG_DECISION_NOT_APPLICABLE);
    assert_damage_at(ev->policy.reason.p, "sudoers.json", 2);
    assert_non_null(strstr(ev->policy.reason.p, "invalid JSON"));
    tg_event_free(ev);
    ev = connect_event("alice");
    tg_policy_evaluate(p, ev);
    assert_int_equal(ev->policy.decision, TG_DECISION_NOT_APPLICABLE);
    tg_event_free(ev);
    tg_policy_stats(p, &st);
    assert_int_equal(st.load_failures, 1);
    tg_policy_free(p);
}

/* Percona connects go through the exec's account gate: system accounts
 * below min_uid (root and mysql used to be denied by HBAC), the overflow
 * account and users the snapshot does not know are not_applicable; a
 * directory user gets the HBAC verdict for db_service. */
static void test_db_login_gate(void **state)
{
    put("idm.ldif", ldif);
    put("db.ldif", "dn: ipaUniqueID=db,cn=hbac,dc=x\n"
                   "objectClass: ipahbacrule\n"
                   "cn: admins_db\n"
                   "accessRuleType: allow\n"
                   "ipaEnabledFlag: TRUE\n"
                   "memberUser: cn=admins,cn=groups,cn=accounts,dc=x\n"
                   "hostCategory: all\n"
                   "memberService: cn=mysql,cn=hbacservices,cn=hbac,dc=x\n");
    put("passwd", "root:x:0:0:root:/root:/bin/bash\n"
                  "mysql:x:105:110:MySQL Server:/nonexistent:/bin/false\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                  "bob:x:1600:1600::/home/bob:/bin/zsh\n");
    struct tg_policy_conf c = conf(); /* db_service = mysql */
    struct tg_policy *p = tg_policy_new(&c, NULL);
    static const struct {
        const char *user;
        enum tg_decision decision;
        enum tg_check check;
        const char *reason;
    } cases[] = {
        {"root", TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE,
         "root (uid 0) is a system account below [policy] min_uid 1000, which the policy does not "
         "cover."},
        {"mysql", TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE,
         "mysql (uid 105) is a system account below [policy] min_uid 1000, which the policy does "
         "not cover."},
        {"svc", TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE,
         "svc (uid 500) is a system account below [policy] min_uid 1000, which the policy does "
         "not cover."},
        {"nobody", TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE,
         "nobody (uid 65534) is the unprivileged overflow account, which the policy does not "
         "cover."},
        {"app", TG_DECISION_NOT_APPLICABLE, TG_CHECK_NONE, "User app is not in policy snapshot"},
        {"alice", TG_DECISION_ALLOW, TG_CHECK_HBAC,
         "HBAC rule admins_db grants alice the service mysql on web1.x."},
        {"bob", TG_DECISION_DENY, TG_CHECK_HBAC,
         "No enabled HBAC allow rule grants bob the service mysql on web1.x;"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_event *ev = connect_event(cases[i].user);
        tg_policy_evaluate(p, ev);
        if (ev->policy.decision != cases[i].decision || ev->policy.check != cases[i].check ||
            strncmp(ev->policy.reason.p, cases[i].reason, strlen(cases[i].reason)) != 0)
            fail_msg("%s: decision %d check %d: %s", cases[i].user, ev->policy.decision,
                     ev->policy.check, ev->policy.reason.p);
        tg_event_free(ev);
    }
    tg_policy_free(p);
}

/* ------------------------------------------------------- sudo's lines */

/* A sudo log line from host web1.x, parsed and judged: "decision drift". */
static const char *sudo_line(struct tg_policy *p, const char *line)
{
    static char out[64];
    struct tg_event *ev =
        tg_event_new(line, strlen(line), NULL, (struct tg_time){1700000000, 0, 6});
    assert_int_equal(tg_sudo_parse(ev, ev->original), 0);
    ev->host_name = TG_STR_LIT("web1.x");
    tg_policy_evaluate(p, ev);
    tg_metrics_count_event(ev); /* as the processing chain does */
    snprintf(out, sizeof(out), "%s %s", tg_decision_name[ev->policy.decision],
             ev->policy.drift ? tg_decision_name[ev->host_decision] : "-");
    tg_event_free(ev);
    return out;
}

static void test_sudo_lines(void **state)
{
    put("idm.ldif", ldif);
    struct tg_policy_conf c = conf();
    struct tg_policy *p = tg_policy_new(&c, NULL);
    uint64_t allowed = tg_metrics_get(TG_C_DRIFT_HOST_ALLOWED);
    uint64_t denied = tg_metrics_get(TG_C_DRIFT_HOST_DENIED);
    const char *ok = "alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/systemctl restart ";
    char line[256];
    snprintf(line, sizeof(line), "%snginx", ok); /* both allow */
    assert_string_equal(sudo_line(p, line), "allow -");
    snprintf(line, sizeof(line), "%ssshd", ok); /* the host allows what the policy forbids */
    assert_string_equal(sudo_line(p, line), "deny allow");
    assert_string_equal(sudo_line(p, "alice : command not allowed ; TTY=pts/0 ; PWD=/ ; USER=root "
                                     "; COMMAND=/usr/bin/systemctl restart nginx"),
                        "allow deny"); /* the host refuses what the policy grants */
    assert_string_equal(sudo_line(p, "alice : command not allowed ; TTY=pts/0 ; PWD=/ ; "
                                     "USER=root ; COMMAND=/usr/bin/systemctl restart sshd"),
                        "deny -");
    /* the runas user is the one sudo logged: the rule grants root only */
    assert_string_equal(sudo_line(p, "alice : TTY=pts/0 ; PWD=/ ; USER=postgres ; "
                                     "COMMAND=/usr/bin/systemctl restart nginx"),
                        "deny allow");
    /* an authentication failure says nothing about the host's policy */
    assert_string_equal(sudo_line(p, "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; "
                                     "USER=root ; COMMAND=/usr/bin/systemctl restart sshd"),
                        "deny -");
    assert_string_equal(sudo_line(p, "alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=list"),
                        "not_applicable -");
    assert_string_equal(sudo_line(p, "alice : (command continued) sshd"), "not_applicable -");
    assert_string_equal(sudo_line(p, "svc : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls"),
                        "not_applicable -"); /* a system account */
    /* a line sudo may have split: judged, but no drift on a command that may be cut */
    char longline[1024];
    int n = snprintf(longline, sizeof(longline), "%s",
                     "alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/cat");
    while (n < 900)
        n += snprintf(longline + n, sizeof(longline) - (size_t)n, " x");
    assert_string_equal(sudo_line(p, longline), "deny -");
    assert_int_equal(tg_metrics_get(TG_C_DRIFT_HOST_ALLOWED), allowed + 2);
    assert_int_equal(tg_metrics_get(TG_C_DRIFT_HOST_DENIED), denied + 1);
    tg_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_argv_sudo_1913),
        cmocka_unit_test_setup_teardown(test_ldif, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_json, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_system_account_without_uid, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_sudo_sudoedit, mkdir_setup, rm_teardown),
        cmocka_unit_test(test_sudo_path_clean),
        cmocka_unit_test_setup_teardown(test_sudo_paths, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_events, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_reload_while_deciding, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_samples, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_files, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_ldif, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_reload, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_db_login_gate, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_sudo_lines, mkdir_setup, rm_teardown),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
