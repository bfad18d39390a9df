/*
 * buildinfo.h - what this binary is: its version, the build's features
 * (TLS in librelp, libsystemd, sanitizers) and the versions of the
 * libraries as linked (asked of each library at run time where it can
 * say; else as built against).  For `trailguard --version` and the
 * trailguard_build_info metric, from one table.  Any thread; the values
 * are computed once.
 */
#ifndef TG_BUILDINFO_H
#define TG_BUILDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct tg_build_item {
    const char *label; /* a Prometheus label name: "version", "librelp", "tls", ... */
    const char *name;  /* as people write it: "librelp", "TLS (RELP)", ... */
    char value[96];
    bool feature; /* a build feature (on/off and how), not a library version */
};

/* The table (n items in *n); built at the first call. */
const struct tg_build_item *tg_buildinfo(size_t *n);
/* `trailguard --version`: the version line, then the features and libraries. */
void tg_buildinfo_print(FILE *out);

#endif
