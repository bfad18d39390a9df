/*
 * snapshot_diff.h - what changed between two policy snapshots: rules (HBAC
 * and sudo), users, user groups, hosts, host groups, HBAC services and
 * service groups, each added, removed or changed (which fields, which
 * members).  For `trailguard policy history --diff`.  Reads two immutable
 * snapshots; any thread.
 */
#ifndef TG_POLICY_SNAPSHOT_DIFF_H
#define TG_POLICY_SNAPSHOT_DIFF_H

#include <stdio.h>

#include "policy/snapshot.h"

/*
 * Print one line per difference from a to b ("+ user carol (uid 1003)",
 * "- HBAC rule old (enabled yes; ...)", "~ user alice: member of +admins
 * -ops", "~ sudo rule ops: rule OLD -> NEW"), in the order rules, users,
 * groups, hosts, host groups, services, then a summary line with the
 * counts per kind.
 * Returns the number of differences.
 */
size_t tg_snapshot_diff(const struct tg_snapshot *a, const struct tg_snapshot *b, FILE *out);

#endif
