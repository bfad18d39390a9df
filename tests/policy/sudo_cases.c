/*
 * sudo_cases.c - trailguard's side of the sudo differential test: reads
 * cases in sudo_oracle.sh's format (the arguments of `sudo -l`: -U USER
 * [-h HOST] [-u RUNAS] [-g GROUP] CMD [ARGS...], one per line) and prints
 * "<case>\tALLOW" or "<case>\tDENY" as evaluated by policy/sudo.c against
 * the snapshot directory given as argument.  A bare CMD is resolved through
 * secure_path like sudo does; without -h the host is this machine's name.
 *
 * usage: sudo_cases SNAPDIR < CASES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "policy/sudo.h"

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
        char path[4096];
        if (w[i][0] != '/' && strcmp(w[i], "sudoedit") != 0)
            tg_sudo_resolve(s, w[i], path, sizeof(path));
        else
            snprintf(path, sizeof(path), "%s", w[i]);
        struct tg_buf args = TG_BUF_INIT;
        for (int k = i + 1; k < n; k++) {
            if (k > i + 1)
                tg_buf_putc(&args, ' ');
            tg_buf_puts(&args, w[k]);
        }
        struct tg_sudo_req q = {
            .user = user,
            .host = host,
            .runas_user = runas   ? runas
                          : group ? user
                                  : "root",
            .runas_group = group,
            .runas_user_specified = runas != NULL,
            .cmnd = path,
            .args = args.len ? tg_buf_cstr(&args) : NULL,
            .now = (int64_t)time(NULL),
            .usrmerge = true,
        };
        struct tg_sudo_result r;
        tg_sudo_eval(s, &q, &r);
        printf("%s\t%s\n", line, r.match == TG_SUDO_ALLOW ? "ALLOW" : "DENY");
        tg_buf_free(&args);
    }
    tg_snapshot_unref(s);
    return 0;
}
