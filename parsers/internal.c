/*
 * internal.c - trailguard's own records into events.  See internal.h.
 *
 * json-c checks the record and gives the string fields (unescaped); the data
 * object is placed as the very bytes of the record (so numbers and key
 * order are what its writer wrote), found by walking the top-level members
 * of the text json-c accepted.  The tokener is kept per thread, as
 * percona.c does.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/internal_rec.h"
#include "core/timeutil.h"
#include "parsers/internal.h"

static pthread_key_t tg_itok_key;
static pthread_once_t tg_itok_once = PTHREAD_ONCE_INIT;

static void tg_itok_free(void *tok)
{
    json_tokener_free(tok);
}

static void tg_itok_init(void)
{
    pthread_key_create(&tg_itok_key, tg_itok_free);
}

static struct json_tokener *tg_itokener(void)
{
    pthread_once(&tg_itok_once, tg_itok_init);
    struct json_tokener *tok = pthread_getspecific(tg_itok_key);
    if (!tok) {
        tok = json_tokener_new();
        if (!tok)
            abort(); /* out of memory, as tg_xmalloc */
        pthread_setspecific(tg_itok_key, tok);
    } else {
        json_tokener_reset(tok);
    }
    return tok;
}

/* The end of the JSON value that starts at p (valid JSON: json-c said so). */
static const char *tg_iskip(const char *p, const char *end)
{
    int depth = 0;
    bool in_str = false;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\')
                p++;
            else if (c == '"')
                in_str = false;
            else
                continue;
            if (depth == 0 && !in_str)
                return p + 1;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0)
                return depth < 0 ? p : p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return p; /* end of a number, true, false or null */
        }
    }
    return end;
}

static const char *tg_iws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The bytes of the top-level member "data" of the object text [p, end), or absent. */
static struct tg_str tg_idata_span(const char *p, const char *end)
{
    p = tg_iws(p, end);
    if (p == end || *p != '{')
        return TG_STR_NULL;
    p++;
    for (;;) {
        p = tg_iws(p, end);
        if (p == end || *p != '"')
            return TG_STR_NULL;
        const char *key = p + 1, *kend = tg_iskip(p, end) - 1;
        p = tg_iws(kend + 1, end);
        if (p == end || *p != ':')
            return TG_STR_NULL;
        const char *v = tg_iws(p + 1, end), *vend = tg_iskip(v, end);
        if (kend - key == 4 && memcmp(key, "data", 4) == 0)
            return tg_str_make(v, (size_t)(vend - v));
        p = tg_iws(vend, end);
        if (p == end || *p != ',')
            return TG_STR_NULL;
        p++;
    }
}

/* A string member's value copied into the arena, or absent. */
static struct tg_str tg_istr(struct tg_event *ev, json_object *root, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_string))
        return TG_STR_NULL;
    return tg_event_strdup(ev, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

void tg_internal_parse(struct tg_event *ev)
{
    struct json_tokener *tok = tg_itokener();
    json_object *root = json_tokener_parse_ex(tok, ev->original.p, (int)ev->original.len);
    size_t end = root ? json_tokener_get_parse_end(tok) : 0;
    json_object *mark = NULL, *data = NULL;
    const char *why = NULL;
    if (!root || !json_object_is_type(root, json_type_object) ||
        tg_iws(ev->original.p + end, ev->original.p + ev->original.len) !=
            ev->original.p + ev->original.len)
        why = "internal record: not one JSON object";
    else if (!json_object_object_get_ex(root, "trailguard_internal", &mark) ||
             json_object_get_int(mark) != 1)
        why = "internal record: trailguard_internal is not 1";
    struct tg_str ds = why ? TG_STR_NULL : tg_istr(ev, root, "dataset");
    if (!why && !tg_internal_rec_dataset_ok(ds))
        why = "internal record: dataset is not trailguard.<name>";
    if (why) {
        ev->parse_status = TG_PARSE_UNPARSED;
        tg_event_partial(ev, why);
        json_object_put(root);
        return;
    }
    ev->dataset = TG_DS_INTERNAL;
    ev->dataset_name = ds;
    ev->parse_status = TG_PARSE_OK;
    ev->action = tg_istr(ev, root, "action");
    ev->host_name = tg_istr(ev, root, "host");
    ev->message = tg_istr(ev, root, "message");
    struct tg_str ts = tg_istr(ev, root, "@timestamp");
    if (ts.p && tg_time_parse_iso(ts.p, ts.len, &ev->timestamp) != ts.len) {
        ev->timestamp = TG_TIME_NONE;
        tg_event_partial(ev, "internal record: @timestamp is not RFC 3339");
    }
    if (json_object_object_get_ex(root, "data", &data)) {
        if (json_object_is_type(data, json_type_object)) {
            ev->internal_key =
                tg_str_make(ds.p + strlen(TG_INTERNAL_PREFIX), ds.len - strlen(TG_INTERNAL_PREFIX));
            ev->internal_data = tg_idata_span(ev->original.p, ev->original.p + ev->original.len);
            if (!ev->internal_data.p) { /* a key written with escapes: json-c's own text */
                const char *t = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN);
                ev->internal_data = tg_event_strdup(ev, t, strlen(t));
            }
        } else {
            tg_event_partial(ev, "internal record: data is not an object");
        }
    }
    json_object_put(root);
}
