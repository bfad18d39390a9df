/*
 * out_kafka.c - the Kafka sink (SPEC.md section 8): a librdkafka producer.
 *
 * Design.  Every event of a batch becomes one message on `topic` (and a
 * second one on `deny_topic` for deny verdicts): value = ev->json, key =
 * host.name / user.name / none, headers `dataset` and `decision`.  The
 * producer runs with acks=all and enable.idempotence=true, so a delivery
 * report with no error means every in-sync replica has the message.  The
 * payload is not copied: ev->json lives as long as the batch, and the batch
 * lives until all its messages are delivered.
 *
 * Confirmation.  A batch is tracked by a struct tg_kbatch holding one
 * struct tg_kmsg per message (the message's opaque).  Delivery reports mark
 * each message ok or failed; when no message of a batch is in flight any
 * more, the batch is confirmed (tg_batch_done) if all are ok, otherwise its
 * failed messages are produced again after a back-off (1 s doubling to
 * 60 s).  So a broker outage or a permanent error never drops an event: it
 * stays unconfirmed, hence in the spool, and is produced again until it is
 * delivered.  librdkafka does the short-term retries itself (within
 * message.timeout.ms); our re-produce is the long-term one.  Failures are
 * counted in sink->failed, re-produced messages in sink->retried, delivered
 * messages in sink->delivered.  A fatal producer error (idempotence
 * violation) recreates the producer and re-produces what was in flight.
 * Order: librdkafka keeps order within a partition (idempotence), but a
 * re-produced message lands after newer ones; consumers order by
 * @timestamp and deduplicate by event.id.
 *
 * Memory is bounded: write() blocks, serving delivery reports, while more
 * than TG_KAFKA_MAX_UNCONFIRMED messages are unconfirmed, which stalls the
 * pipeline (backpressure).
 *
 * Shutdown: close() keeps serving reports and retries for at most
 * flush_timeout_ms, then abandons what was not delivered (tg_batch_abandon:
 * unconfirmed, so serve replays it from the spool on its next start) and
 * logs how much.
 *
 * Threads: every callback of the sink runs on the sink's thread; delivery
 * reports and error callbacks run inside rd_kafka_poll()/rd_kafka_flush() on
 * that same thread, so the tracking structures need no lock.  librdkafka's
 * log callback runs on its own threads and only calls tg_log (thread-safe).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pipeline.h"
#include "sinks/sinks.h"

#define TG_KAFKA_MAX_UNCONFIRMED 200000
#define TG_KAFKA_BACKOFF_MIN_MS  1000
#define TG_KAFKA_BACKOFF_MAX_MS  60000

enum tg_kafka_key { TG_KAFKA_KEY_HOST = 0, TG_KAFKA_KEY_USER, TG_KAFKA_KEY_NONE };

struct tg_kafka_conf {
    char *brokers;
    char *topic;
    char *deny_topic;
    int key;         /* enum tg_kafka_key */
    int compression; /* index into tg_kafka_compression_choices */
    int64_t flush_timeout_ms;
    struct tg_kv *kv; /* rdkafka.* keys, prefix removed */
    size_t nkv;
};

enum tg_kmsg_state { TG_KMSG_INFLIGHT = 0, TG_KMSG_OK, TG_KMSG_FAILED };

struct tg_kbatch;

/* One message of a batch; its address is the librdkafka message opaque. */
struct tg_kmsg {
    struct tg_kbatch *kb;
    size_t ev; /* index into kb->b->ev */
    bool deny; /* the copy for deny_topic */
    enum tg_kmsg_state state;
};

struct tg_kbatch {
    struct tg_batch *b;
    size_t n;        /* messages */
    size_t inflight; /* produced, report pending */
    size_t nfailed;  /* state == FAILED */
    struct tg_kbatch *prev, *next;
    struct tg_kmsg msg[];
};

struct tg_kafka {
    const struct tg_kafka_conf *conf;
    struct tg_sink *sink;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt, *rkt_deny;
    struct tg_kbatch *head, *tail; /* batches not confirmed yet, oldest first */
    size_t unconfirmed;            /* messages in those batches not yet delivered */
    int64_t retry_at_ms;           /* 0: no re-produce scheduled */
    int64_t backoff_ms;
    bool fatal;   /* the producer hit a fatal error: recreate it */
    bool failing; /* the last report was a failure (for log de-duplication) */
};

static const char *const tg_kafka_key_choices[] = {"host", "user", "none", NULL};
static const char *const tg_kafka_compression_choices[] = {"none", "gzip", "snappy",
                                                           "lz4",  "zstd", NULL};

/* The librdkafka properties the sink sets itself: the delivery guarantee
 * (SPEC 6, 8) and what its own keys set.  An rdkafka.* key may not change
 * them; librdkafka resolves aliases and spellings (request.required.acks,
 * acks = -1) when they are compared. */
struct tg_kafka_prop {
    const char *name, *value, *why;
};
#define TG_KAFKA_NFIXED 4

static void tg_kafka_fixed(const struct tg_kafka_conf *c, struct tg_kafka_prop p[TG_KAFKA_NFIXED])
{
    const char *acks_why = "the sink confirms an event only when every in-sync replica has it";
    p[0] = (struct tg_kafka_prop){"bootstrap.servers", c->brokers, "set brokers instead"};
    p[1] = (struct tg_kafka_prop){"acks", "all", acks_why};
    p[2] = (struct tg_kafka_prop){"enable.idempotence", "true",
                                  "retries must not duplicate or reorder events"};
    p[3] = (struct tg_kafka_prop){"compression.codec", tg_kafka_compression_choices[c->compression],
                                  "set compression instead"};
}

/* Set the fixed properties on rc; NULL, or what failed (in errstr). */
static const struct tg_kafka_prop *
tg_kafka_set_fixed(rd_kafka_conf_t *rc, const struct tg_kafka_prop *p, char *errstr, size_t n)
{
    for (size_t i = 0; i < TG_KAFKA_NFIXED; i++)
        if (rd_kafka_conf_set(rc, p[i].name, p[i].value, errstr, n) != RD_KAFKA_CONF_OK)
            return &p[i];
    return NULL;
}

/* The fixed property whose value differs between a and b, or NULL. */
static const struct tg_kafka_prop *
tg_kafka_changed(const rd_kafka_conf_t *a, const rd_kafka_conf_t *b, const struct tg_kafka_prop *p)
{
    for (size_t i = 0; i < TG_KAFKA_NFIXED; i++) {
        char va[512], vb[512];
        size_t la = sizeof(va), lb = sizeof(vb);
        if (rd_kafka_conf_get(a, p[i].name, va, &la) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_get(b, p[i].name, vb, &lb) != RD_KAFKA_CONF_OK || strcmp(va, vb) != 0)
            return &p[i];
    }
    return NULL;
}

/* Config-time validation (loader thread): required keys, no rdkafka.* key
 * that would weaken the delivery guarantee, and every rdkafka.* property
 * tried on a scratch librdkafka config, so a bad one is a configuration
 * error (exit 2) naming the file, line and key. */
static const char *tg_kafka_check(const void *section)
{
    static _Thread_local char msg[768];
    const struct tg_kafka_conf *c = section;
    if (!c->brokers)
        return "brokers is required: set it to host:port[,host:port...] of the Kafka cluster";
    if (!c->topic)
        return "topic is required: set it to the topic that receives every event";
    struct tg_kafka_prop fixed[TG_KAFKA_NFIXED];
    tg_kafka_fixed(c, fixed);
    char errstr[512];
    rd_kafka_conf_t *base = rd_kafka_conf_new();
    const char *ret = NULL;
    const struct tg_kafka_prop *bad = tg_kafka_set_fixed(base, fixed, errstr, sizeof(errstr));
    if (bad) {
        snprintf(msg, sizeof(msg), "brokers or compression: librdkafka refuses %s = %s: %s",
                 bad->name, bad->value, errstr);
        ret = msg;
    }
    for (size_t i = 0; i < c->nkv && !ret; i++) {
        rd_kafka_conf_t *rc = rd_kafka_conf_dup(base);
        if (rd_kafka_conf_set(rc, c->kv[i].key, c->kv[i].value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(msg, sizeof(msg),
                     "rdkafka.%s: %s; see librdkafka's CONFIGURATION.md for producer properties",
                     c->kv[i].key, errstr);
            ret = msg;
        } else if ((bad = tg_kafka_changed(base, rc, fixed)) != NULL) {
            snprintf(msg, sizeof(msg),
                     "rdkafka.%s: it changes %s, which trailguard sets%s%s (%s); remove the key",
                     c->kv[i].key, bad->name, bad == &fixed[0] ? "" : " to ",
                     bad == &fixed[0] ? "" : bad->value, bad->why);
            ret = msg;
        }
        rd_kafka_conf_destroy(rc);
    }
    rd_kafka_conf_destroy(base);
    return ret;
}

#define OFF(f) offsetof(struct tg_kafka_conf, f)
static const struct tg_opt tg_kafka_opts[] = {
    {"brokers", TG_OPT_STR, NULL, OFF(brokers),
     "bootstrap brokers, host:port[,host:port...] (librdkafka bootstrap.servers)"},
    {"topic", TG_OPT_STR, "audit.events", OFF(topic), "topic that receives every event"},
    {"deny_topic", TG_OPT_STR, NULL, OFF(deny_topic),
     "optional: events with a deny verdict are also written here"},
    {"key", TG_OPT_ENUM, "host", OFF(key),
     "message key: host (host.name), user (user.name) or none; absent fields give no key",
     tg_kafka_key_choices},
    {"compression", TG_OPT_ENUM, "lz4", OFF(compression),
     "compression codec: none, gzip, snappy, lz4 or zstd", tg_kafka_compression_choices},
    {"flush_timeout_ms", TG_OPT_INT, "30000", OFF(flush_timeout_ms),
     "on shutdown, how long to wait for outstanding deliveries; the rest stays in the spool", NULL,
     0, 3600000},
    {NULL},
};
#undef OFF

const struct tg_section_def tg_kafka_section = {
    .name = "sink.kafka",
    .doc = "Kafka producer (acks=all, idempotent); delivery reports confirm to the spool. "
           "Any key rdkafka.NAME is passed to librdkafka as property NAME, except the ones "
           "the sink sets: acks (all), enable.idempotence (true), bootstrap.servers (brokers), "
           "compression.codec/type (compression).",
    .opts = tg_kafka_opts,
    .size = sizeof(struct tg_kafka_conf),
    .passthrough = "rdkafka.",
    .kv_offset = offsetof(struct tg_kafka_conf, kv),
    .nkv_offset = offsetof(struct tg_kafka_conf, nkv),
    .check = tg_kafka_check,
};

static int64_t tg_kafka_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tg_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum tg_log_level l = level <= LOG_ERR       ? TG_LOG_ERROR
                          : level <= LOG_WARNING ? TG_LOG_WARN
                          : level <= LOG_INFO    ? TG_LOG_INFO
                                                 : TG_LOG_DEBUG;
    tg_log(l, "kafka: %s: %s", fac, buf);
}

static void tg_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct tg_kafka *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, why, sizeof(why));
        tg_err("kafka: fatal producer error %s: %s; recreating the producer, undelivered "
               "events will be produced again",
               rd_kafka_err2name(fe), why);
        k->fatal = true;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
        return; /* the log callback already said which broker and why */
    tg_warn("kafka: %s: %s (librdkafka keeps retrying; events stay in the spool)",
            rd_kafka_err2name(err), reason);
}

/* The batch has no message in flight: confirm it, or schedule a re-produce. */
static void tg_kafka_settle(struct tg_kafka *k, struct tg_kbatch *kb)
{
    if (kb->inflight)
        return;
    if (kb->nfailed) {
        if (!k->retry_at_ms)
            k->retry_at_ms = tg_kafka_now_ms() + k->backoff_ms;
        return;
    }
    if (kb->prev)
        kb->prev->next = kb->next;
    else
        k->head = kb->next;
    if (kb->next)
        kb->next->prev = kb->prev;
    else
        k->tail = kb->prev;
    tg_batch_done(k->sink, kb->b);
    free(kb);
}

static void tg_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct tg_kafka *k = opaque;
    struct tg_kmsg *km = m->_private;
    struct tg_kbatch *kb = km->kb;
    kb->inflight--;
    if (m->err) {
        km->state = TG_KMSG_FAILED;
        kb->nfailed++;
        atomic_fetch_add(&k->sink->failed, 1);
        bool purged = m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                      m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT; /* our own disconnect */
        if (!k->failing && !purged)
            tg_err("kafka: delivery to %s failed: %s; the events stay in the spool and are "
                   "produced again (check the brokers and the topic)",
                   rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        k->failing = true;
    } else {
        km->state = TG_KMSG_OK;
        k->unconfirmed--;
        atomic_fetch_add(&k->sink->delivered, 1);
        if (k->failing)
            tg_info("kafka: deliveries succeed again");
        k->failing = false;
        k->backoff_ms = TG_KAFKA_BACKOFF_MIN_MS;
    }
    tg_kafka_settle(k, kb);
}

/* Create the producer from the configuration; errors are logged. */
static int tg_kafka_connect(struct tg_kafka *k)
{
    const struct tg_kafka_conf *c = k->conf;
    char errstr[512];
    rd_kafka_conf_t *rc = rd_kafka_conf_new();
    struct tg_kafka_prop fixed[TG_KAFKA_NFIXED];
    tg_kafka_fixed(c, fixed);
    const struct tg_kafka_prop *bad = tg_kafka_set_fixed(rc, fixed, errstr, sizeof(errstr));
    if (bad || rd_kafka_conf_set(rc, "client.id", "trailguard", errstr, sizeof(errstr)) !=
                   RD_KAFKA_CONF_OK) {
        tg_err("[sink.kafka] %s: %s", bad ? bad->name : "client.id", errstr);
        goto fail;
    }
    for (size_t i = 0; i < c->nkv; i++) {
        if (rd_kafka_conf_set(rc, c->kv[i].key, c->kv[i].value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            tg_err("[sink.kafka] rdkafka.%s: %s; see librdkafka's CONFIGURATION.md for valid "
                   "producer properties",
                   c->kv[i].key, errstr);
            goto fail;
        }
    }
    rd_kafka_conf_set_opaque(rc, k);
    rd_kafka_conf_set_dr_msg_cb(rc, tg_kafka_dr_cb);
    rd_kafka_conf_set_error_cb(rc, tg_kafka_error_cb);
    rd_kafka_conf_set_log_cb(rc, tg_kafka_log_cb);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, errstr, sizeof(errstr));
    if (!k->rk) {
        tg_err("[sink.kafka]: cannot create the producer: %s", errstr);
        goto fail;
    }
    k->rkt = rd_kafka_topic_new(k->rk, c->topic, NULL);
    k->rkt_deny = c->deny_topic ? rd_kafka_topic_new(k->rk, c->deny_topic, NULL) : NULL;
    k->fatal = false;
    return 0;
fail:
    rd_kafka_conf_destroy(rc);
    return TG_ECONFIG;
}

/* Destroy the producer; messages still in flight are marked failed. */
static void tg_kafka_disconnect(struct tg_kafka *k)
{
    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(k->rk, 0); /* serve the purge reports */
    for (struct tg_kbatch *kb = k->head; kb; kb = kb->next) {
        for (size_t i = 0; i < kb->n; i++) {
            if (kb->msg[i].state == TG_KMSG_INFLIGHT && kb->inflight) {
                kb->msg[i].state = TG_KMSG_FAILED;
                kb->nfailed++;
                kb->inflight--;
                atomic_fetch_add(&k->sink->failed, 1);
            }
        }
    }
    if (k->rkt_deny)
        rd_kafka_topic_destroy(k->rkt_deny);
    rd_kafka_topic_destroy(k->rkt);
    rd_kafka_destroy(k->rk);
    k->rk = NULL;
    k->rkt = k->rkt_deny = NULL;
}

static void tg_kafka_fail_now(struct tg_kafka *k, struct tg_kmsg *km, rd_kafka_resp_err_t err)
{
    km->state = TG_KMSG_FAILED;
    km->kb->nfailed++;
    atomic_fetch_add(&k->sink->failed, 1);
    if (!k->failing)
        tg_err("kafka: cannot produce to %s: %s; the event stays in the spool and is produced "
               "again",
               km->deny ? k->conf->deny_topic : k->conf->topic, rd_kafka_err2str(err));
    k->failing = true;
}

/*
 * Produce one message (km->state becomes INFLIGHT, or FAILED when librdkafka
 * refuses it).  A full local queue is waited out by serving reports, unless
 * shutdown has passed `deadline_ms` (0: no deadline).
 */
static void tg_kafka_produce(struct tg_kafka *k, struct tg_kmsg *km, int64_t deadline_ms)
{
    const struct tg_event *ev = km->kb->b->ev[km->ev];
    struct tg_str key = k->conf->key == TG_KAFKA_KEY_HOST   ? ev->host_name
                        : k->conf->key == TG_KAFKA_KEY_USER ? ev->user_name
                                                            : TG_STR_NULL;
    const char *decision = tg_decision_name[ev->policy.decision];
    if (!k->rk) { /* being recreated after a fatal error */
        tg_kafka_fail_now(k, km, RD_KAFKA_RESP_ERR__STATE);
        return;
    }
    for (;;) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "dataset", -1, tg_dataset_name[ev->dataset], -1);
        if (decision)
            rd_kafka_header_add(h, "decision", -1, decision, -1);
        km->state = TG_KMSG_INFLIGHT;
        rd_kafka_resp_err_t err = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(km->deny ? k->rkt_deny : k->rkt), RD_KAFKA_V_KEY(key.p, key.len),
            RD_KAFKA_V_VALUE(ev->json.data, ev->json.len), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE(km), RD_KAFKA_V_END);
        if (!err) {
            km->kb->inflight++;
            return;
        }
        rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
            (deadline_ms && tg_kafka_now_ms() >= deadline_ms)) {
            tg_kafka_fail_now(k, km, err);
            return;
        }
        rd_kafka_poll(k->rk, 100);
    }
}

/* Produce again every failed message of batches with nothing in flight. */
static void tg_kafka_reproduce(struct tg_kafka *k, int64_t deadline_ms)
{
    k->retry_at_ms = 0;
    size_t n = 0;
    for (struct tg_kbatch *kb = k->head; kb; kb = kb->next) {
        if (kb->inflight || !kb->nfailed)
            continue;
        kb->nfailed = 0;
        for (size_t i = 0; i < kb->n; i++) {
            if (kb->msg[i].state != TG_KMSG_FAILED)
                continue;
            tg_kafka_produce(k, &kb->msg[i], deadline_ms);
            atomic_fetch_add(&k->sink->retried, 1);
            n++;
        }
    }
    if (n)
        tg_info("kafka: producing %zu undelivered message%s again", n, n == 1 ? "" : "s");
    k->backoff_ms =
        k->backoff_ms * 2 > TG_KAFKA_BACKOFF_MAX_MS ? TG_KAFKA_BACKOFF_MAX_MS : k->backoff_ms * 2;
    /* Batches whose every re-produce was refused at once are rescheduled. */
    for (struct tg_kbatch *kb = k->head, *next; kb; kb = next) {
        next = kb->next;
        tg_kafka_settle(k, kb);
    }
}

/* Serve delivery reports (waiting up to wait_ms), recreate a failed
 * producer, and re-produce failed messages when their back-off expired. */
static int tg_kafka_service(struct tg_kafka *k, int wait_ms, int64_t deadline_ms)
{
    if (k->rk && k->fatal)
        tg_kafka_disconnect(k);
    if (!k->rk) {
        if (tg_kafka_connect(k) != 0) { /* logged; try again on the next call */
            usleep((useconds_t)wait_ms * 1000);
            return TG_EIO;
        }
        k->retry_at_ms = tg_kafka_now_ms() + k->backoff_ms;
    }
    rd_kafka_poll(k->rk, wait_ms);
    if (k->retry_at_ms && tg_kafka_now_ms() >= k->retry_at_ms)
        tg_kafka_reproduce(k, deadline_ms);
    return 0;
}

static int tg_kafka_open(struct tg_sink *s, const void *conf)
{
    struct tg_kafka *k = tg_xcalloc(1, sizeof(*k));
    k->conf = conf;
    k->sink = s;
    k->backoff_ms = TG_KAFKA_BACKOFF_MIN_MS;
    if (tg_kafka_connect(k) != 0) {
        free(k);
        return TG_ECONFIG;
    }
    s->ctx = k;
    tg_info("kafka: producing to %s on %s (acks=all, idempotent, %s)", k->conf->topic,
            k->conf->brokers, tg_kafka_compression_choices[k->conf->compression]);
    return 0;
}

static int tg_kafka_write(struct tg_sink *s, struct tg_batch *b)
{
    struct tg_kafka *k = s->ctx;
    int64_t deadline = 0;
    while (k->unconfirmed > TG_KAFKA_MAX_UNCONFIRMED) {
        if (tg_sink_stopping(s)) {
            if (!deadline)
                deadline = tg_kafka_now_ms() + k->conf->flush_timeout_ms;
            if (tg_kafka_now_ms() >= deadline) {
                tg_batch_abandon(s, b); /* unconfirmed: it stays in the spool */
                return TG_EFULL;
            }
        }
        tg_kafka_service(k, 100, deadline);
    }
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (tg_sink_wants(s, b->ev[i]))
            n += 1 + (k->rkt_deny && b->ev[i]->policy.decision == TG_DECISION_DENY);
    if (n == 0) {
        tg_batch_done(s, b);
        return 0;
    }
    struct tg_kbatch *kb = tg_xcalloc(1, sizeof(*kb) + n * sizeof(kb->msg[0]));
    kb->b = b;
    kb->n = n;
    size_t m = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct tg_event *ev = b->ev[i];
        if (!tg_sink_wants(s, ev))
            continue;
        kb->msg[m++] = (struct tg_kmsg){.kb = kb, .ev = i};
        if (k->rkt_deny && ev->policy.decision == TG_DECISION_DENY)
            kb->msg[m++] = (struct tg_kmsg){.kb = kb, .ev = i, .deny = true};
    }
    kb->prev = k->tail;
    if (k->tail)
        k->tail->next = kb;
    else
        k->head = kb;
    k->tail = kb;
    k->unconfirmed += n;
    for (size_t i = 0; i < n; i++)
        tg_kafka_produce(k, &kb->msg[i], deadline);
    tg_kafka_settle(k, kb);
    return tg_kafka_service(k, 0, deadline);
}

static int tg_kafka_tick(struct tg_sink *s)
{
    return tg_kafka_service(s->ctx, 0, 0);
}

static void tg_kafka_close(struct tg_sink *s)
{
    struct tg_kafka *k = s->ctx;
    int64_t deadline = tg_kafka_now_ms() + k->conf->flush_timeout_ms;
    while (k->head && tg_kafka_now_ms() < deadline) {
        /* No long back-off while shutting down: retry at least every second. */
        if (k->retry_at_ms && k->retry_at_ms > tg_kafka_now_ms() + TG_KAFKA_BACKOFF_MIN_MS)
            k->retry_at_ms = tg_kafka_now_ms() + TG_KAFKA_BACKOFF_MIN_MS;
        tg_kafka_service(k, 100, deadline);
    }
    size_t batches = 0;
    for (struct tg_kbatch *kb = k->head; kb; kb = kb->next)
        batches++;
    if (batches)
        tg_err("kafka: %zu message%s in %zu batch%s not delivered within flush_timeout_ms = "
               "%lld; left unconfirmed (`serve` produces them again from the spool on its "
               "next start)",
               k->unconfirmed, k->unconfirmed == 1 ? "" : "s", batches, batches == 1 ? "" : "es",
               (long long)k->conf->flush_timeout_ms);
    if (k->rk)
        tg_kafka_disconnect(k);
    for (struct tg_kbatch *kb = k->head, *next; kb; kb = next) {
        next = kb->next;
        tg_batch_abandon(s, kb->b);
        free(kb);
    }
    free(k);
    s->ctx = NULL;
}

const struct tg_sink_ops tg_out_kafka = {
    .name = "kafka",
    .section = &tg_kafka_section,
    .open = tg_kafka_open,
    .write = tg_kafka_write,
    .tick = tg_kafka_tick,
    .close = tg_kafka_close,
};
