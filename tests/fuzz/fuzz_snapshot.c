/*
 * fuzz_snapshot.c - libFuzzer harness for the policy snapshot loader: the
 * input becomes the one file of a snapshot directory, which is read as
 * `policy lint` reads it (kind recognised by content: LDIF, cvtsudoers
 * JSON, passwd/group; damaged content reported, not refused, so it still
 * reaches the rest) and reported, then asked a fixed set of sudo and HBAC
 * questions (so fuzzed rules go through the matchers: wildcards, argument
 * regexes, aliases, negation, runas lists).  Any bytes must be read or
 * reported as problems, never crash.  The report goes to /dev/null; problems to stderr (run
 * libFuzzer with -close_fd_mask=2 to silence them).
 */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/hbac.h"
#include "policy/snapshot.h"
#include "policy/sudo.h"
#include "tests/fuzz/fuzz.h"

static const struct tg_sudo_req tg_questions[] = {
    {"alice", "web1.example.com", "root", NULL, false, "/usr/bin/systemctl", "restart nginx", 0,
     true},
    {"alice", "web1", "postgres", NULL, true, "/usr/bin/psql", NULL, 0, true},
    {"bob", "db1.example.com", "root", "adm", false, "/bin/ls", "-la /root", 0, true},
    {"bob", "db1", "bob", "adm", false, "/usr/bin/journalctl", "-u sshd", 2000000000, false},
    {"root", "web1.example.com", "#0", NULL, true, "sudoedit", "/etc/hosts", 0, true},
    {"frank", "web2", "root", NULL, false, "/usr/bin/vim", "", 0, true},
    {"#1000", "web1.example.com", "root", NULL, false, "/usr/sbin/reboot", NULL, 0, true},
    {"erin", "db1", "mysql", NULL, true, "/usr/bin/sh", "-c id", 0, true},
};
static const char *const tg_users[] = {"alice", "bob", "root", "frank"};
static const char *const tg_hosts[] = {"web1.example.com", "db1"};

static void tg_ask(const struct tg_snapshot *s)
{
    struct tg_sudo_result r;
    for (size_t i = 0; i < sizeof(tg_questions) / sizeof(tg_questions[0]); i++)
        tg_sudo_eval(s, &tg_questions[i], &r);
    for (size_t u = 0; u < 4; u++)
        for (size_t h = 0; h < 2; h++) {
            tg_hbac_check(s, tg_users[u], tg_hosts[h], "sshd");
            tg_hbac_check(s, tg_users[u], tg_hosts[h], "sudo");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], path[96];
    static FILE *devnull;
    if (!devnull) {
        snprintf(dir, sizeof(dir), "/tmp/tg-fuzz-snapshot-%d", (int)getpid());
        mkdir(dir, 0700);
        snprintf(path, sizeof(path), "%s/input", dir);
        devnull = fopen("/dev/null", "w");
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort(); /* the harness itself cannot work: not a finding */
    struct tg_snapshot *s = NULL;
    char *err = NULL;
    if (tg_snapshot_read(dir, &s, &err) == 0) {
        tg_snapshot_report(s, devnull);
        tg_ask(s);
        tg_snapshot_unref(s);
    }
    free(err);
    return 0;
}
