/*
 * sieve.h - the [filter] stage: drop or sample noise, mask secrets (called
 * the sieve in the code: struct tg_filter is the query filter, tools/).
 *
 * [filter.NAME] sections are rules, in the order of the file.  A rule's
 * matchers (dataset, host, user, executable, command; every one that is set
 * must match) choose events; its action is
 *   drop    the event is not written to any sink;
 *   sample  one in `rate` of the matching events is kept, chosen by
 *           event.id, so a record resent or replayed gets the same choice;
 *           a kept one carries trailguard.filter {rule, rate};
 *   mask    `pattern`'s capture groups become "****" (core/mask.h).
 * The first drop or sample rule that matches decides; every mask rule that
 * matches applies, and so do the built-in secret masks unless [filter]
 * mask_secrets = false.  [filter] itself holds only the settings of the
 * whole stage (mask_secrets, hash_key_file).
 *
 * Never silently: a dropped event is still confirmed to the spool (it was
 * received; dropping it is a decision), and every rule counts what it did
 * (matched, dropped, kept, protected, masked) in /metrics and in the
 * once-a-minute summary line.  A drop or sample rule never drops an event
 * the policy denies or that shows drift: it is kept and counted as
 * protected.  trailguard's own events are never filtered.
 *
 * Where it runs (tools/process.c): after the policy stage, so that the
 * verdict protects what must be seen, uid-only records can be matched by
 * user name, and the policy judges the command as it ran (a sudo rule may
 * name arguments; a masked one would be judged wrongly); then masking,
 * then event.id over the masked record (so the id is no way to test
 * guesses of a masked secret), then the sample choice, then serialization.
 *
 * The stage is built once (main thread) and read-only afterwards except
 * for its counters (relaxed atomics): any worker applies it.
 */
#ifndef TG_SIEVE_H
#define TG_SIEVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/event.h"

enum tg_sieve_action { TG_SIEVE_NONE = 0, TG_SIEVE_DROP, TG_SIEVE_SAMPLE, TG_SIEVE_MASK };

/* [filter] and [filter.NAME] */
struct tg_sieve_conf {
    char *name; /* "" for [filter] */
    int action; /* enum tg_sieve_action */
    char *dataset, *host, *user, *executable, *command;
    int64_t rate;
    char *pattern;
    bool mask_secrets;
    char *hash_key_file;
};
extern const struct tg_section_def tg_sieve_section;

struct tg_sieve;

/*
 * Build the stage from the [filter*] sections of cfg (NULL: none, so only
 * the built-in masks).  0, or TG_EINVAL / TG_EIO with *err (caller frees)
 * naming the rule and what to do (a pattern that does not compile, an
 * unreadable hash_key_file).  Main thread.
 */
int tg_sieve_new(const struct tg_config *cfg, struct tg_sieve **out, char **err);
void tg_sieve_free(struct tg_sieve *f);

/*
 * Worker thread, after the policy stage: apply the stage to ev (f may be
 * NULL: nothing to do).  Computes event.id (tg_event_id) for every event
 * it keeps; a dropped event gets ev->filtered and no id.  The caller then
 * serializes the events that are kept.
 */
void tg_sieve_event(struct tg_sieve *f, struct tg_event *ev);

/* Events dropped so far (drop rules and sampled out).  Any thread. */
uint64_t tg_sieve_dropped(const struct tg_sieve *f);
/* Append the Prometheus families of the rules' counters.  Any thread. */
void tg_sieve_render(const struct tg_sieve *f, struct tg_buf *out);
/* Append " filter: RULE dropped=N ..." for the rules that did something,
 * for the summary line (nothing when none did).  Any thread. */
void tg_sieve_summary(const struct tg_sieve *f, struct tg_buf *out);

#endif
