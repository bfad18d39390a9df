/*
 * test_policy.c - the policy modules one by one: the sudo argv reader, the
 * LDIF reader (folding, base64, comments, nested groups, ipaSudoRule with
 * commands and command groups, problems with file:line), the snapshot id and
 * refcount, reload keeping the last good snapshot, and the verdict on
 * constructed events (session HBAC, sudo with -u/-i/-l, `sudo sudoedit`,
 * system accounts with and without a logged uid, unknown users, usrmerge,
 * Percona connect, broken snapshot).
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

#include "policy/hbac.h"
#include "policy/policy.h"
#include "policy/sudo_argv.h"

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
    parse("sudo -hweb1 id", &a, &argc, argv, buf);
    assert_int_equal(a.mode, TG_SMODE_RUN);
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
    parse("sudo --host=web1 --preserve-env=PATH -s", &a, &argc, argv, buf);
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
                           "memberAllowCmd: ipaUniqueID=missing,cn=sudocmds,cn=sudo,dc=x\n"
                           "\n"
                           "bogus line without colon\n";

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
    tg_verdict_exec(s, c, user, -1, host, "/usr/bin/sudo", line, NULL, 0, v);
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
    /* problems carry file:line */
    bool saw_missing = false, saw_bogus = false, saw_deny = false;
    for (size_t i = 0; i < s->d.nproblems; i++) {
        const struct tg_problem *p = &s->d.problems[i];
        saw_missing |= strstr(p->msg, "missing") != NULL && p->line == 80;
        saw_bogus |= strstr(p->msg, "not an LDIF") != NULL && p->line == 82;
        saw_deny |= strstr(p->msg, "deny") != NULL;
    }
    assert_true(saw_missing);
    assert_true(saw_bogus);
    assert_true(saw_deny);
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
    tg_verdict_exec(s, &c, "root", -1, "web1.x", NULL, NULL, NULL, 0, &v);
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
    tg_verdict_exec(s, &c, "alice", -1, "web1.x", NULL, NULL, NULL, 0, &v);
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
    tg_verdict_exec(s, &c, "alice", -1, "h", "/usr/bin/sudoedit", "sudoedit /etc/motd", NULL, 0,
                    &v);
    assert_int_equal(v.decision, TG_DECISION_ALLOW);
    sudo_verdict(s, &c, "alice", "h", "sudoedit /etc/shadow", &v);
    assert_int_equal(v.decision, TG_DECISION_DENY);
    sudo_verdict(s, &c, "alice", "h", "-s sudoedit /etc/motd", &v); /* the shell runs it */
    assert_int_equal(v.decision, TG_DECISION_DENY);
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
    /* Percona: connect checked against db_service, queries not applicable */
    struct tg_event *ev = exec_event("alice", NULL, "", "");
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
    struct tg_snapshot *s;
    char *err = NULL;
    assert_int_equal(tg_snapshot_load(dir, &s, &err), 0);
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
 * sample load without a crash (the sanitizer build checks memory): damage
 * becomes reported problems, never a failed load. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv),
        cmocka_unit_test_setup_teardown(test_ldif, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_json, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_system_account_without_uid, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_sudo_sudoedit, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_events, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_reload_while_deciding, mkdir_setup, rm_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_samples, mkdir_setup, rm_teardown),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
