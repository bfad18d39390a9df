/*
 * count_by.c - group counting.  See count_by.h.
 *
 * A key is the values of the fields one after the other, each as one byte
 * (0: absent, 1: present) and, when present, a u32 length and the bytes:
 * unambiguous whatever the values hold.  The groups live in one open
 * addressing table (FNV-1a of the key), grown at half full; sorting for
 * output sorts the table itself, which is rehashed if more comes.
 */
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/mem.h"
#include "tools/commands.h"
#include "tools/count_by.h"

int tg_countby_init(struct tg_countby *cb, struct tg_filter *f, const char *spec, const char *cmd)
{
    memset(cb, 0, sizeof(*cb));
    char *copy = tg_xstrdup(spec), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        const char *path = tg_field_alias(t);
        if (!path && (strchr(t, ' ') || *t == '.' || t[strlen(t) - 1] == '.' || strstr(t, ".."))) {
            rc = tg_usage_error(cmd,
                                "--count-by '%s': not a field: give short names or dotted "
                                "paths",
                                t);
            break;
        }
        cb->name = tg_xrealloc(cb->name, (cb->nkeys + 1) * sizeof(*cb->name));
        cb->path = tg_xrealloc(cb->path, (cb->nkeys + 1) * sizeof(*cb->path));
        cb->idx = tg_xrealloc(cb->idx, (cb->nkeys + 1) * sizeof(*cb->idx));
        cb->name[cb->nkeys] = tg_xstrdup(t);
        cb->path[cb->nkeys] = path ? path : cb->name[cb->nkeys];
        cb->idx[cb->nkeys] =
            path && path[0] == '(' ? -1 : tg_fields_add(&f->fields, cb->path[cb->nkeys]);
        cb->nkeys++;
    }
    free(copy);
    if (rc == 0 && cb->nkeys == 0)
        rc = tg_usage_error(cmd, "--count-by '%s': name at least one field", spec);
    return rc;
}

static void tg_key_put(struct tg_buf *out, const char *v, size_t n)
{
    tg_buf_putc(out, v ? 1 : 0);
    if (!v)
        return;
    uint32_t len = (uint32_t)n;
    tg_buf_append(out, &len, sizeof(len));
    tg_buf_append(out, v, n);
}

void tg_group_key_put(struct tg_buf *key, const char *v)
{
    tg_key_put(key, v, v ? strlen(v) : 0);
}

void tg_countby_render(const struct tg_countby *cb, struct tg_record *r, struct tg_buf *out)
{
    for (size_t k = 0; k < cb->nkeys; k++) {
        size_t n = 0;
        const char *v =
            cb->idx[k] >= 0 ? tg_record_get(r, cb->idx[k], &n) : tg_record_field(r, cb->path[k]);
        if (v && cb->idx[k] < 0)
            n = strlen(v);
        tg_key_put(out, v, n);
    }
}

static uint64_t tg_key_hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 0x100000001b3ull;
    return h;
}

/* Rehash into a table of `cap` slots. */
static void tg_countby_rehash(struct tg_countby *cb, size_t cap)
{
    struct tg_group *old = cb->g;
    size_t ocap = cb->capg;
    cb->g = tg_xcalloc(cap, sizeof(*cb->g));
    cb->capg = cap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key)
            continue;
        size_t j = tg_key_hash(old[i].key, old[i].klen) & (cap - 1);
        while (cb->g[j].key)
            j = (j + 1) & (cap - 1);
        cb->g[j] = old[i];
    }
    free(old);
}

void tg_countby_add(struct tg_countby *cb, const char *key, size_t klen, uint64_t n)
{
    if (cb->sorted || 2 * (cb->ng + 1) > cb->capg)
        tg_countby_rehash(cb,
                          2 * (cb->ng + 1) > cb->capg ? (cb->capg ? 2 * cb->capg : 256) : cb->capg);
    cb->sorted = false;
    size_t j = tg_key_hash(key, klen) & (cb->capg - 1);
    while (cb->g[j].key && !(cb->g[j].klen == klen && memcmp(cb->g[j].key, key, klen) == 0))
        j = (j + 1) & (cb->capg - 1);
    if (!cb->g[j].key) {
        cb->g[j].key = tg_xmalloc(klen + 1);
        memcpy(cb->g[j].key, key, klen);
        cb->g[j].klen = klen;
        cb->ng++;
    }
    cb->g[j].count += n;
    cb->total += n;
}

static int tg_group_cmp(const void *a, const void *b)
{
    const struct tg_group *x = a, *y = b;
    if (!x->key || !y->key)
        return !x->key - !y->key; /* empty slots last */
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

struct tg_group *tg_countby_sorted(struct tg_countby *cb, size_t *n)
{
    if (cb->capg)
        qsort(cb->g, cb->capg, sizeof(*cb->g), tg_group_cmp);
    cb->sorted = true; /* no longer in hash order: the next add rehashes */
    *n = cb->ng;
    return cb->g;
}

const char *tg_group_value(const struct tg_group *g, size_t k, struct tg_buf *tmp)
{
    const char *p = g->key, *e = g->key + g->klen;
    for (size_t i = 0; p < e; i++) {
        bool present = *p++ == 1;
        uint32_t len = 0;
        if (present) {
            memcpy(&len, p, sizeof(len));
            p += sizeof(len);
        }
        if (i == k) {
            if (!present)
                return NULL;
            tmp->len = 0;
            tg_buf_append(tmp, p, len);
            return tg_buf_cstr(tmp);
        }
        p += len;
    }
    return NULL;
}

void tg_countby_print(struct tg_countby *cb, FILE *f, enum tg_out_format fmt, uint64_t limit)
{
    size_t n;
    struct tg_group *g = tg_countby_sorted(cb, &n);
    if (limit && n > limit)
        n = (size_t)limit;
    struct tg_buf line = TG_BUF_INIT, tmp = TG_BUF_INIT;
    int *width = tg_xcalloc(cb->nkeys + 1, sizeof(int));
    for (size_t k = 0; fmt == TG_OUT_TABLE && k < cb->nkeys; k++) {
        width[k] = (int)strlen(cb->name[k]);
        for (size_t i = 0; i < n; i++) {
            const char *v = tg_group_value(&g[i], k, &tmp);
            int w = v ? (int)strlen(v) : 1;
            if (w > width[k])
                width[k] = w > 60 ? 60 : w;
        }
    }
    if (fmt == TG_OUT_TABLE || fmt == TG_OUT_CSV) {
        for (size_t k = 0; k < cb->nkeys; k++) {
            if (fmt == TG_OUT_CSV) {
                tg_csv_cell(&line, cb->name[k]);
                tg_buf_putc(&line, ',');
                continue;
            }
            char title[64];
            snprintf(title, sizeof(title), "%s", cb->name[k]);
            for (char *p = title; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            tg_table_cell(&line, title, width[k], true);
            tg_buf_puts(&line, "  ");
        }
        tg_buf_puts(&line, fmt == TG_OUT_CSV ? "count\r\n" : "COUNT\n");
    }
    for (size_t i = 0; i < n; i++) {
        if (fmt == TG_OUT_NDJSON)
            tg_buf_putc(&line, '{');
        for (size_t k = 0; k < cb->nkeys; k++) {
            const char *v = tg_group_value(&g[i], k, &tmp);
            if (fmt == TG_OUT_NDJSON) {
                tg_json_str(&line, cb->name[k], strlen(cb->name[k]), NULL);
                tg_buf_putc(&line, ':');
                if (v)
                    tg_json_str(&line, v, tmp.len, NULL);
                else
                    tg_buf_puts(&line, "null");
                tg_buf_putc(&line, ',');
            } else if (fmt == TG_OUT_CSV) {
                tg_csv_cell(&line, v);
                tg_buf_putc(&line, ',');
            } else {
                tg_table_cell(&line, v, width[k], true);
                tg_buf_puts(&line, "  ");
            }
        }
        if (fmt == TG_OUT_NDJSON)
            tg_buf_printf(&line, "\"count\":%llu}\n", (unsigned long long)g[i].count);
        else
            tg_buf_printf(&line, fmt == TG_OUT_CSV ? "%llu\r\n" : "%llu\n",
                          (unsigned long long)g[i].count);
        fwrite(line.data, 1, line.len, f);
        line.len = 0;
    }
    if (line.len)
        fwrite(line.data, 1, line.len, f);
    fflush(f);
    free(width);
    tg_buf_free(&line);
    tg_buf_free(&tmp);
}

void tg_countby_free(struct tg_countby *cb)
{
    for (size_t i = 0; i < cb->capg; i++)
        free(cb->g[i].key);
    free(cb->g);
    for (size_t k = 0; k < cb->nkeys; k++)
        free(cb->name[k]);
    free(cb->name);
    free(cb->path);
    free(cb->idx);
    memset(cb, 0, sizeof(*cb));
}
