/*
 * health.h - the answers of /healthz and /readyz (served beside /metrics).
 *
 * /readyz is 200 once start-up is done: the sinks are open, the spool's
 * unconfirmed records are replayed and the inputs run.  /healthz is 200
 * while the collector does its job: the listeners are bound, no sink has
 * been failing for longer than [collector] sink_failing_seconds, and the
 * spool is below spool_max_bytes (else the inputs are blocked); otherwise
 * 503, with one plain-text line per check that failed.
 *
 * A sink is failing when its failure counter moves and its delivered
 * counter does not: every sink counts both (struct tg_sink), so this needs
 * nothing from the sink plugins.  The counters are sampled by the daemon's
 * control loop (about once a second) and at every probe; a sink is failing
 * since the first sample that saw it fail without delivering, and healthy
 * again at the first delivery.  Thread-safe: the control loop and the HTTP
 * thread call in (one mutex).
 */
#ifndef TG_HEALTH_H
#define TG_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pipeline.h"
#include "core/spool.h"

struct tg_health_conf {
    struct tg_pipeline *pipe; /* borrowed; its sinks are added */
    struct tg_spool *spool;   /* borrowed; NULL: no spool check */
    int64_t spool_max_bytes;
    int64_t sink_failing_s; /* a sink failing longer than this is unhealthy */
};

struct tg_health;

struct tg_health *tg_health_new(const struct tg_health_conf *conf);
void tg_health_free(struct tg_health *h);

/* The inputs are started (their listeners bound): what /healthz needs. */
void tg_health_set_listening(struct tg_health *h);
/* Start-up and the spool replay are done: /readyz says 200 from now on. */
void tg_health_set_ready(struct tg_health *h);

/* Sample the sinks' counters (control loop, about once a second). */
void tg_health_sample(struct tg_health *h);

/* /healthz and /readyz: true for 200; the plain-text body is appended to
 * `body` ("ok", or a line per failed check). */
bool tg_health_live(struct tg_health *h, struct tg_buf *body);
bool tg_health_ready(struct tg_health *h, struct tg_buf *body);

#endif
