/*
 * hbac.h - FreeIPA HBAC evaluation with libipa_hbac's semantics
 * (reference/policy.md section 1.2): allowed iff some enabled allow rule
 * matches user AND target host AND service; an element matches by category
 * ALL, by name, or by any of the request's (transitive) groups; names are
 * case-insensitive; the reported rule is the first match in rule order.
 *
 * Pure functions over an immutable snapshot: any thread.
 */
#ifndef TG_POLICY_HBAC_H
#define TG_POLICY_HBAC_H

#include "policy/snapshot.h"

/* A request: ids in the snapshot's namespaces (TG_STRMAP_NONE = a name the
 * snapshot does not know) and the sorted transitive groups of each. */
struct tg_hbac_req {
    uint32_t user, host, service;
    const struct tg_idlist *user_groups, *host_groups, *service_groups;
};

/* Index of the first matching rule in d->hbac, or -1 (deny). */
long tg_hbac_eval(const struct tg_snapshot_data *d, const struct tg_hbac_req *q);

/* Resolve names through the snapshot (groups from its precomputed closures)
 * and evaluate.  Returns the rule index or -1. */
long tg_hbac_check(const struct tg_snapshot *s, const char *user, const char *host,
                   const char *service);

#endif
