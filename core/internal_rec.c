/*
 * internal_rec.c - build trailguard's own records.  See internal_rec.h.
 *
 * The host name is read once (gethostname) and kept.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "core/event.h"
#include "core/internal_rec.h"
#include "core/json.h"

static char tg_hostname[256];
static pthread_once_t tg_hostname_once = PTHREAD_ONCE_INIT;

static void tg_hostname_read(void)
{
    if (gethostname(tg_hostname, sizeof(tg_hostname) - 1) != 0)
        strcpy(tg_hostname, "localhost");
}

bool tg_internal_rec_dataset_ok(struct tg_str ds)
{
    static const char *const reserved[] = {"policy", "input", "parse", NULL};
    size_t pl = strlen(TG_INTERNAL_PREFIX);
    if (!ds.p || ds.len <= pl || memcmp(ds.p, TG_INTERNAL_PREFIX, pl) != 0)
        return false;
    struct tg_str name = tg_str_make(ds.p + pl, ds.len - pl);
    for (size_t i = 0; i < name.len; i++) {
        char c = name.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    for (size_t i = 0; reserved[i]; i++)
        if (tg_str_eq(name, reserved[i]))
            return false;
    return true;
}

void tg_internal_rec_build(struct tg_buf *out, const char *dataset, const char *action,
                           const char *message, struct tg_str data)
{
    pthread_once(&tg_hostname_once, tg_hostname_read);
    struct tg_jw w;
    tg_jw_begin(&w, out);
    tg_jw_int(&w, "trailguard_internal", 1);
    tg_jw_time(&w, "@timestamp", tg_time_now());
    tg_jw_cstr(&w, "dataset", dataset);
    tg_jw_cstr(&w, "action", action);
    tg_jw_cstr(&w, "host", tg_hostname);
    tg_jw_cstr(&w, "message", message);
    tg_jw_raw(&w, "data", data.p ? data : TG_STR_LIT("{}"));
    tg_jw_end(&w);
}
