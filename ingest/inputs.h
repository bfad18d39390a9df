/*
 * inputs.h - the daemon's sources (SPEC.md section 5): RELP listeners
 * (in_relp.c) and followed files (in_file.c).
 *
 * Every source does the same three steps per record: append it to the spool
 * (tg_spool_append, and tg_spool_commit before acknowledging the sender),
 * build the event (tg_spool_event), hand it to the pipeline through its own
 * tg_source.  Each source runs on its own thread(s); start and stop are
 * called from the main thread.
 */
#ifndef TG_INPUTS_H
#define TG_INPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/pipeline.h"
#include "core/spool.h"

/* [input.relp] / [input.relp.NAME] */
enum tg_relp_auth { TG_RELP_AUTH_NAME = 0, TG_RELP_AUTH_FINGERPRINT, TG_RELP_AUTH_CERTVALID };
struct tg_relp_conf {
    char *name; /* the NAME of [input.relp.NAME], "" for [input.relp] */
    char *listen;
    bool tls;
    char *tls_ca, *tls_cert, *tls_key;
    int tls_auth_mode; /* enum tg_relp_auth */
    char *tls_permitted_peers;
    int64_t max_message;
};
extern const struct tg_section_def tg_relp_section;

struct tg_relp_stats {
    uint64_t messages, bytes, truncated, auth_failures, errors, spool_retries;
};

struct tg_relp_listener;

/*
 * Bind a listener and start its engine thread.  Records go to `sp`, events
 * to `p`.  0, TG_EIO when it cannot listen (logged: address and reason) or
 * TG_ECONFIG for a TLS set-up problem (logged).
 */
int tg_relp_start(const struct tg_relp_conf *conf, struct tg_spool *sp, struct tg_pipeline *p,
                  struct tg_relp_listener **out);
/* Submit the events received so far (called every few ms by the daemon). */
void tg_relp_flush(struct tg_relp_listener *l);
void tg_relp_stats(const struct tg_relp_listener *l, struct tg_relp_stats *st);
/* Stop accepting, close the sessions (unacknowledged frames are resent by
 * the senders), join the thread, flush and free. */
void tg_relp_stop(struct tg_relp_listener *l);

/* [input.file] / [input.file.NAME] */
struct tg_file_conf {
    char *name;
    char *path;
    char *format; /* auto|syslog|snoopy|percona, as ingest --format; NULL = auto */
};
extern const struct tg_section_def tg_file_section;

struct tg_file_input;

/*
 * Start following conf->path: read from the remembered position (kept in
 * the spool directory `state_dir`), follow renames and copytruncate, read
 * .gz files whole.  0 or TG_EIO.
 */
int tg_file_start(const struct tg_file_conf *conf, const char *state_dir, struct tg_spool *sp,
                  struct tg_pipeline *p, struct tg_file_input **out);
/* Reopen the file now (SIGHUP). */
void tg_file_reopen(struct tg_file_input *f);
void tg_file_stop(struct tg_file_input *f);

#endif
