/*
 * sudo_cases.c - trailguard's side of the sudo differential test: reads
 * cases in sudo_oracle.sh's format (the arguments of `sudo -l`: -U USER
 * [-h HOST] [-u RUNAS] [-g GROUP] CMD [ARGS...], one per line) and prints
 * "<case>\tALLOW" or "<case>\tDENY" as trailguard judges the equivalent
 * logged command line `sudo [-u RUNAS] [-g GROUP] CMD ARGS` by USER on HOST
 * (the event path: argv reader, command resolution through secure_path,
 * sudo rules) against the snapshot directory given as argument.  Without -h
 * the host is this machine's name, as for sudo -l.
 *
 * usage: sudo_cases SNAPDIR < CASES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "policy/policy.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sudo_cases SNAPDIR < CASES\n");
        return 2;
    }
    struct tg_snapshot *s;
    char *err = NULL;
    if (tg_snapshot_load(argv[1], &s, &err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    struct tg_policy_conf conf;
    memset(&conf, 0, sizeof(conf));
    tg_config_defaults(&tg_policy_section, &conf);
    char hostname[256];
    gethostname(hostname, sizeof(hostname));
    char line[8192];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char copy[8192], *w[256], *save = NULL;
        int n = 0;
        snprintf(copy, sizeof(copy), "%s", line);
        for (char *t = strtok_r(copy, " ", &save); t && n < 256; t = strtok_r(NULL, " ", &save))
            w[n++] = t;
        const char *user = NULL, *host = hostname, *runas = NULL, *group = NULL;
        int i = 0;
        for (; i + 1 < n && w[i][0] == '-'; i += 2) {
            if (strcmp(w[i], "-U") == 0)
                user = w[i + 1];
            else if (strcmp(w[i], "-h") == 0)
                host = w[i + 1];
            else if (strcmp(w[i], "-u") == 0)
                runas = w[i + 1];
            else if (strcmp(w[i], "-g") == 0)
                group = w[i + 1];
        }
        if (!user || i >= n) {
            printf("%s\tERROR bad case\n", line);
            continue;
        }
        /* the case as a logged command line, read by the argv reader */
        struct tg_buf cmd = TG_BUF_INIT;
        tg_buf_puts(&cmd, "sudo");
        if (runas)
            tg_buf_printf(&cmd, " -u %s", runas);
        if (group)
            tg_buf_printf(&cmd, " -g %s", group);
        for (int k = i; k < n; k++)
            tg_buf_printf(&cmd, " %s", w[k]);
        struct tg_verdict v;
        tg_verdict_exec(s, &conf, user, -1, NULL, -1, host, "/usr/bin/sudo", tg_buf_cstr(&cmd),
                        NULL, (int64_t)time(NULL), &v);
        printf("%s\t%s\n", line, v.decision == TG_DECISION_ALLOW ? "ALLOW" : "DENY");
        tg_buf_free(&cmd);
    }
    tg_snapshot_unref(s);
    free(conf.session_services);
    return 0;
}
