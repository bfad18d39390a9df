/*
 * event.c - event life cycle and event.id.  See event.h.
 *
 * An event is one malloc: the struct, then an inline block that starts the
 * arena and holds the raw record copy; only large or field-heavy records
 * spill into heap chunks.  An event of a pool (a batch's memory) is carved
 * from the pool's arena the same way, with a smaller inline block, and
 * spills into the pool, not the heap.  event.id is computed as event.h
 * describes, the parts separated by NUL bytes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/event.h"
#include "core/mem.h"

#define TG_EVENT_INLINE      768
#define TG_EVENT_POOL_INLINE 256

struct tg_time tg_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (struct tg_time){ts.tv_sec, (int32_t)(ts.tv_nsec / 1000 * 1000), 6};
}

/* Fill a new event at ev, its arena starting in the inline block after it. */
static struct tg_event *tg_event_init(struct tg_event *ev, size_t inline_size,
                                      struct tg_event_pool *pool, const char *raw, size_t len,
                                      const struct tg_input_meta *in, struct tg_time received)
{
    memset(ev, 0, sizeof(*ev));
    tg_arena_init_child(&ev->arena, (char *)(ev + 1), inline_size, pool ? &pool->arena : NULL);
    ev->pool = pool;
    ev->original = tg_arena_strndup(&ev->arena, raw, len);
    ev->body = ev->original;
    ev->dataset = TG_DS_SYSLOG;
    ev->outcome = TG_OUTCOME_UNKNOWN;
    ev->timestamp = TG_TIME_NONE;
    ev->sl_timestamp = TG_TIME_NONE;
    ev->ingested = received;
    ev->pid = ev->ppid = ev->session_leader_pid = ev->exit_code = TG_NUM_NONE;
    ev->source_port = TG_NUM_NONE;
    ev->db_status = TG_NUM_NONE;
    ev->sl_facility = ev->sl_severity = TG_NUM_NONE;
    ev->parse_status = TG_PARSE_UNPARSED;
    if (in) {
        ev->input.type = in->type;
        if (in->peer.p)
            ev->input.peer = tg_arena_strndup(&ev->arena, in->peer.p, in->peer.len);
    }
    ev->json = TG_BUF_INIT;
    return ev;
}

struct tg_event *tg_event_new(const char *raw, size_t len, const struct tg_input_meta *in,
                              struct tg_time received)
{
    size_t inline_size = TG_EVENT_INLINE + len + 1;
    return tg_event_init(tg_xmalloc(sizeof(struct tg_event) + inline_size), inline_size, NULL, raw,
                         len, in, received);
}

struct tg_event *tg_event_new_in(struct tg_event_pool *pool, const char *raw, size_t len,
                                 const struct tg_input_meta *in, struct tg_time received)
{
    size_t inline_size = TG_EVENT_POOL_INLINE + len + 1;
    return tg_event_init(tg_arena_alloc(&pool->arena, sizeof(struct tg_event) + inline_size),
                         inline_size, pool, raw, len, in, received);
}

void tg_event_free(struct tg_event *ev)
{
    if (!ev || ev->pool)
        return; /* the pool's memory: freed with the pool */
    tg_arena_free(&ev->arena);
    tg_buf_free(&ev->json);
    free(ev);
}

struct tg_str tg_event_strdup(struct tg_event *ev, const char *p, size_t n)
{
    return tg_arena_strndup(&ev->arena, p, n);
}

void tg_event_partial(struct tg_event *ev, const char *reason)
{
    if (ev->parse_status == TG_PARSE_OK)
        ev->parse_status = TG_PARSE_PARTIAL;
    size_t rl = strlen(reason);
    if (!ev->parse_error.p) {
        ev->parse_error = tg_str_make(reason, rl);
        return;
    }
    /* skip a reason already recorded */
    const char *hit = ev->parse_error.p;
    const char *end = ev->parse_error.p + ev->parse_error.len;
    while ((hit = memmem(hit, (size_t)(end - hit), reason, rl)) != NULL) {
        if ((hit == ev->parse_error.p || hit[-1] == ' ') && (hit + rl == end || hit[rl] == ';'))
            return;
        hit++;
    }
    size_t n = ev->parse_error.len + 2 + rl;
    char *d = tg_arena_alloc(&ev->arena, n + 1);
    memcpy(d, ev->parse_error.p, ev->parse_error.len);
    memcpy(d + ev->parse_error.len, "; ", 2);
    memcpy(d + ev->parse_error.len + 2, reason, rl + 1);
    ev->parse_error = tg_str_make(d, n);
}

/* One digest context per thread, made on first use and freed when the thread
 * exits, and SHA-256 fetched once: allocating a context and fetching the
 * algorithm per event cost about a third of tg_event_finish. */
static pthread_key_t tg_id_ctx_key;
static pthread_once_t tg_id_once = PTHREAD_ONCE_INIT;
static EVP_MD *tg_id_sha256;

static void tg_id_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void tg_id_init(void)
{
    pthread_key_create(&tg_id_ctx_key, tg_id_ctx_free);
    tg_id_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static EVP_MD_CTX *tg_id_ctx(void)
{
    pthread_once(&tg_id_once, tg_id_init);
    EVP_MD_CTX *ctx = pthread_getspecific(tg_id_ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        pthread_setspecific(tg_id_ctx_key, ctx);
    }
    return ctx;
}

static void tg_event_compute_id(struct tg_event *ev)
{
    static const char hex[] = "0123456789abcdef";
    struct tg_str host = ev->host_name.p ? ev->host_name : ev->input.peer;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = tg_id_ctx();
    EVP_DigestInit_ex(ctx, tg_id_sha256, NULL);
    EVP_DigestUpdate(ctx, host.p ? host.p : "", host.len);
    EVP_DigestUpdate(ctx, "", 1);
    EVP_DigestUpdate(ctx, ev->sl_timestamp_text.p ? ev->sl_timestamp_text.p : "",
                     ev->sl_timestamp_text.len);
    EVP_DigestUpdate(ctx, "", 1);
    EVP_DigestUpdate(ctx, ev->original.p, ev->original.len);
    if (ev->id_salt.p) {
        EVP_DigestUpdate(ctx, "", 1);
        EVP_DigestUpdate(ctx, ev->id_salt.p, ev->id_salt.len);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    memcpy(ev->id_bin, md, sizeof(ev->id_bin));
    for (int i = 0; i < 16; i++) {
        ev->id[2 * i] = hex[md[i] >> 4];
        ev->id[2 * i + 1] = hex[md[i] & 15];
    }
    ev->id[32] = '\0';
}

void tg_event_id(struct tg_event *ev)
{
    tg_event_compute_id(ev);
}

void tg_event_finish(struct tg_event *ev)
{
    tg_event_compute_id(ev);
    tg_event_serialize(ev);
}
