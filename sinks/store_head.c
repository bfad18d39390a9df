/*
 * store_head.c - how long ago the file store last stored a flush, for
 * /metrics (trailguard_store_head_age_seconds).
 *
 * The file sink rewrites chain.head (segment.h) after every flush it
 * stored, so the file's mtime is the time of the last stored flush.  This
 * is the one place that knows it: once the sink keeps that time itself
 * (the store rewrite), point tg_store_head_age at its getter instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "sinks/segment.h"
#include "sinks/sinks.h"

int64_t tg_store_head_age(const char *dir)
{
    char path[4096];
    struct stat st;
    struct timespec now;
    snprintf(path, sizeof(path), "%s/%s", dir, TG_SEG_HEAD_FILE);
    if (stat(path, &st) != 0)
        return -1;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age = (int64_t)now.tv_sec - (int64_t)st.st_mtim.tv_sec;
    return age < 0 ? 0 : age;
}
