/*
 * policy.h - the policy stage: the [policy] section, the current snapshot
 * with atomic swap on reload, and the verdict on an event (SPEC.md
 * section 4).
 *
 * struct tg_policy holds the current snapshot behind a mutex that guards
 * only the pointer: a worker takes a reference (tg_policy_acquire), decides
 * without locks, and drops it; a reload builds the new snapshot outside the
 * lock and swaps the pointer, so decisions never wait for a load and a
 * failed load leaves the last good snapshot in place.  tg_policy_evaluate is
 * called by every worker thread; tg_policy_reload* by one control thread
 * (SIGHUP handler loop of `serve`, or a timer noticing a changed directory).
 *
 * With [policy] snapshot_history_dir (history.h) every snapshot that comes
 * into force is recorded with its time, and an event is judged by the
 * snapshot in force at its @timestamp (tg_policy_judge): a late or replayed
 * event gets the policy of its time.  The collector records (it opens with
 * TG_POLICY_RECORD: the snapshot is copied into the history first and
 * loaded from the copy, so what is stored is what judged); `ingest` and
 * `policy check --at` only read the history.  Within [policy] grace_seconds
 * after a change, an event the new snapshot does not allow but the previous
 * one does is allowed, with a reason naming the change: FreeIPA clients
 * apply changes late (sssd caches rules).  Without a loadable snapshot
 * directory the newest recorded snapshot stays in force, also across a
 * restart.
 */
#ifndef TG_POLICY_POLICY_H
#define TG_POLICY_POLICY_H

#include <stdint.h>

#include "core/config.h"
#include "core/event.h"
#include "policy/snapshot.h"

/* [policy] */
struct tg_policy_conf {
    char *snapshot_dir;     /* NULL: no policy: events carry no verdict */
    char *session_services; /* comma-separated HBAC services granting a session */
    int64_t min_uid;
    bool usrmerge;
    char *db_service;           /* NULL: database logins are not checked */
    char *snapshot_history_dir; /* NULL: every event is judged by the current snapshot */
    int64_t grace_seconds;
};
extern const struct tg_section_def tg_policy_section;

/* A decision with its explanation.  rule points into the snapshot (valid
 * while the caller holds it). */
struct tg_verdict {
    enum tg_decision decision;
    enum tg_check check;
    const char *rule; /* NULL: no deciding rule */
    char reason[1024];
    /* A sudo command that was checked against the sudo rules: whom it runs
     * as, the group given with -g, and the command as sudo matched it (full
     * path, then the arguments); empty strings otherwise.  The pipeline
     * puts them into user.target.* and trailguard.sudo.command. */
    char target[256], target_group[256], command[4096];
};

struct tg_policy;

/*
 * Create the policy stage from conf (NULL = defaults); `dir` overrides
 * conf->snapshot_dir.  A snapshot that cannot be loaded (directory missing,
 * files damaged) is logged and counted, and events then get not_applicable
 * with the reason.  Main thread.
 */
struct tg_policy *tg_policy_new(const struct tg_policy_conf *conf, const char *dir);
/* As tg_policy_new, with flags: TG_POLICY_RECORD records every snapshot
 * that comes into force in conf->snapshot_history_dir (the collector);
 * without it a history is only read.  A `dir` override judges every event
 * with that directory's snapshot: the history is not used.  Main thread. */
#define TG_POLICY_RECORD 0x1u
struct tg_policy *tg_policy_open(const struct tg_policy_conf *conf, const char *dir,
                                 unsigned flags);
void tg_policy_free(struct tg_policy *p);

/* Load the directory again and swap it in; on failure keep the old one.
 * Returns 0 or a TG_E* code (logged).  Control thread. */
int tg_policy_reload(struct tg_policy *p);
/* Reload only when the directory's content id changed, and not again for
 * content that already failed to load (its error was logged once).
 * Control thread. */
int tg_policy_reload_if_changed(struct tg_policy *p);

/* The current snapshot with a reference (tg_snapshot_unref it), or NULL. */
struct tg_snapshot *tg_policy_acquire(struct tg_policy *p);

/* Fill ev->policy for a parsed event, judged by the snapshot in force at
 * its @timestamp, and mark drift when the record gives the host's own
 * decision (ev->host_decision) and it differs.  Any worker thread; p may
 * be NULL (no policy configured: nothing is set). */
void tg_policy_evaluate(struct tg_policy *p, struct tg_event *ev);

/* A verdict function over one snapshot (the caller's question). */
typedef void (*tg_decide_fn)(void *ctx, const struct tg_snapshot *s, struct tg_verdict *v);

/* A verdict at a point in time, with the snapshots it came from: judged
 * gave the verdict (v.rule points into it); in_force, when not NULL, is the
 * snapshot in force then, which did not allow it (a grace verdict).  Both
 * referenced until tg_judgement_release. */
struct tg_judgement {
    struct tg_verdict v;
    struct tg_snapshot *judged, *in_force;
};

/*
 * Judge at t (microseconds since the epoch): decide() with the snapshot in
 * force then (the current one without a history), and within grace_seconds
 * after a change with the previous one too (see above).  Without a
 * snapshot (none loaded, or the one in force cannot be loaded) the verdict
 * is not_applicable with the reason, judged NULL.  The pipeline and
 * `policy check` both ask through here.  Any thread.
 */
void tg_policy_judge(struct tg_policy *p, int64_t t_us, tg_decide_fn decide, void *ctx,
                     struct tg_judgement *j);
void tg_judgement_release(struct tg_judgement *j);

/* The history (NULL when none is configured or it could not be opened),
 * for `policy history`.  Valid until tg_policy_free. */
struct tg_history *tg_policy_history(struct tg_policy *p);

/* Counters (for metrics and tests). */
struct tg_policy_stats {
    uint64_t decisions[4]; /* by enum tg_decision */
    uint64_t loads, load_failures;
};
void tg_policy_stats(const struct tg_policy *p, struct tg_policy_stats *out);

/* ---- the verdict functions.  `policy check` asks tg_verdict_exec, as the
 * pipeline does for every exec, so the two give the same verdict. ---- */

/* HBAC: does some enabled allow rule grant user one of services (a
 * comma-separated list) on host?  HBAC only: of the account gate it applies
 * just the unknown-user check; the pipeline puts every exec and database
 * login through the whole gate (min_uid, overflow account) first. */
void tg_verdict_hbac(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                     const char *user, const char *host, const char *services,
                     struct tg_verdict *v);

/* A logged exec: cmdline is the logged command line (space-separated, as
 * snoopy writes it) or NULL, exe the executable path or NULL, cwd the working
 * directory or NULL, uid the event's user id or -1 (the snapshot's uid for
 * the user wins).  runner/runner_uid: the real user who ran the command when
 * `user` is a login name of someone else (NULL/-1: user); sudo judges the
 * user who runs it, so a sudo exec is checked for the runner.  Accounts below min_uid, the overflow
 * account and users the snapshot does not know are not_applicable; a sudo exec (exe, or else the
 * first word, named sudo or sudoedit) is read like sudo reads its argv and
 * checked against the sudo rules plus HBAC service sudo (a bare command is
 * resolved through secure_path); any other exec is a session: HBAC for
 * conf->session_services on host. */
void tg_verdict_exec(const struct tg_snapshot *s, const struct tg_policy_conf *conf,
                     const char *user, int64_t uid, const char *runner, int64_t runner_uid,
                     const char *host, const char *exe, const char *cmdline, const char *cwd,
                     int64_t now, struct tg_verdict *v);

#endif
