/*
 * fuzz_snapshot.c - libFuzzer harness for the policy snapshot loader: the
 * input becomes the one file of a snapshot directory, which is loaded (kind
 * recognised by content: LDIF, cvtsudoers JSON, passwd/group) and reported
 * like `policy lint`.  Any bytes must load or be reported as problems,
 * never crash.  The report goes to /dev/null; problems to stderr (run
 * libFuzzer with -close_fd_mask=2 to silence them).
 */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/snapshot.h"
#include "tests/fuzz/fuzz.h"

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
    if (tg_snapshot_load(dir, &s, &err) == 0) {
        tg_snapshot_report(s, devnull);
        tg_snapshot_unref(s);
    }
    free(err);
    return 0;
}
