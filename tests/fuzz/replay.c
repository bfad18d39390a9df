/*
 * replay.c - run a fuzz harness over its stored corpus, as a TAP test.
 *
 * Reads every regular file of $TG_SRCDIR/tests/fuzz/corpus/TG_FUZZ_NAME/
 * (or of the directories given as arguments) in name order and calls
 * LLVMFuzzerTestOneInput on its bytes.  A harness that finds a broken
 * invariant aborts, which fails the test; under --enable-sanitizers the
 * sanitizers check every replay as well.  One TAP line per directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tests/fuzz/fuzz.h"

static int tg_replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed every file of dir; returns the number fed, or -1 if dir is unreadable. */
static long tg_replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = tg_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = tg_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), tg_replay_cmp);
    long fed = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = tg_xasprintf("%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f) {
            char *buf = NULL;
            size_t len = 0, cap2 = 0, got;
            do {
                if (cap2 - len < 65536) {
                    cap2 = cap2 ? cap2 * 2 : 65536;
                    buf = tg_xrealloc(buf, cap2);
                }
                got = fread(buf + len, 1, cap2 - len, f);
                len += got;
            } while (got > 0);
            fclose(f);
            LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
            free(buf);
            fed++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return fed;
}

int main(int argc, char **argv)
{
    int failed = 0, t = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            long fed = tg_replay_dir(argv[i]);
            printf("%s %d - %s: %ld inputs\n", fed < 0 ? "not ok" : "ok", ++t, argv[i], fed);
            failed |= fed < 0;
        }
    } else {
        const char *src = getenv("TG_SRCDIR");
        char *dir = tg_xasprintf("%s/tests/fuzz/corpus/%s", src ? src : ".", TG_FUZZ_NAME);
        long fed = tg_replay_dir(dir);
        printf("%s %d - replay corpus %s: %ld inputs\n", fed <= 0 ? "not ok" : "ok", ++t,
               TG_FUZZ_NAME, fed);
        failed |= fed <= 0;
        free(dir);
    }
    printf("1..%d\n", t);
    return failed;
}
