/*
 * strmap.h - case-insensitive string -> uint32 map used to intern names in a
 * policy snapshot (users, groups, hosts, services, rule names).
 *
 * Open addressing with linear probing over a power-of-two table; keys are
 * compared ASCII-case-insensitively (LDAP names, PAM services and host names
 * are case-insensitive; non-ASCII bytes compare exactly).  The map does not
 * own its keys: they live as long as the snapshot that built the map.
 * Building is single-threaded; once built, lookups are read-only and may run
 * from any number of threads.
 */
#ifndef TG_POLICY_STRMAP_H
#define TG_POLICY_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#define TG_STRMAP_NONE UINT32_MAX

struct tg_strmap_slot {
    const char *key;
    uint32_t len;
    uint32_t hash;
    uint32_t value;
};

struct tg_strmap {
    struct tg_strmap_slot *slots;
    size_t cap; /* power of two */
    size_t n;
};

void tg_strmap_init(struct tg_strmap *m);
void tg_strmap_free(struct tg_strmap *m);
/* Value stored for [key, key+len), or TG_STRMAP_NONE. */
uint32_t tg_strmap_get(const struct tg_strmap *m, const char *key, size_t len);
/* Insert key -> value unless present; returns the value now stored.  The key
 * bytes must outlive the map. */
uint32_t tg_strmap_put(struct tg_strmap *m, const char *key, size_t len, uint32_t value);
/* Replace the value of a present key (no-op when absent). */
void tg_strmap_set(struct tg_strmap *m, const char *key, size_t len, uint32_t value);

#endif
