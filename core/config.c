/*
 * config.c - INI loader driven by option tables.  See config.h.
 *
 * inih does the INI syntax.  We feed it through our own line reader, which
 * gives us the line number of every key (inih's handler does not receive
 * one) and lets us see section headers even when a section has no keys.
 * The lines of the keys are kept in the loaded sections, so a check's
 * error points at the key its sentence names (and `trailguard check`'s at
 * the key it concerns).  All problems are collected and printed, not just
 * the first.
 */
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/mem.h"

struct tg_cfg_parse {
    const char *file;
    FILE *fp;         /* file input, or NULL */
    const char *text; /* string input */
    int line;
    int errors;
    struct tg_config *cfg;
    struct tg_section *cur; /* NULL: outside any section or in a bad one */
    bool cur_bad;
    bool keep; /* tg_config_load_all: keep the configuration despite problems */
    const struct tg_section_def *const *defs; /* the sections this load knows */
    size_t ndefs;
    char *linebuf;
    size_t linecap;
    char *long_value; /* value of a "key = value" line longer than inih's buffer */
};

static void tg_cfg_error(struct tg_cfg_parse *ps, int line, const char *section, const char *key,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void tg_cfg_error(struct tg_cfg_parse *ps, int line, const char *section, const char *key,
                         const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s%s:%d: ", tg_log_prefix(TG_LOG_ERROR), ps->file, line);
    if (section)
        fprintf(stderr, "[%s] ", section);
    if (key)
        fprintf(stderr, "%s: ", key);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ps->errors++;
}

static size_t tg_opt_count(const struct tg_section_def *def)
{
    size_t n = 0;
    while (def->opts[n].key)
        n++;
    return n;
}

const char *tg_config_section_label(const struct tg_section *s, char *buf, size_t n)
{
    if (s->instance && s->instance[0])
        snprintf(buf, n, "%s.%s", s->def->name, s->instance);
    else
        snprintf(buf, n, "%s", s->def->name);
    return buf;
}

static int tg_parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return TG_EINVAL;
}

int tg_config_choice(const char *const *choices, const char *value)
{
    for (int i = 0; choices[i]; i++)
        if (strcasecmp(value, choices[i]) == 0)
            return i;
    return -1;
}

/* Parse `v` for `o` into the section struct; returns NULL or an error sentence (static). */
static const char *tg_opt_set(const struct tg_opt *o, void *data, const char *v)
{
    char *field = (char *)data + o->offset;
    switch (o->type) {
    case TG_OPT_STR:
    case TG_OPT_ADDR: {
        char **sp = (char **)field;
        if (o->type == TG_OPT_ADDR && v[0]) {
            const char *colon = strrchr(v, ':');
            char *end;
            long port = colon ? strtol(colon + 1, &end, 10) : 0;
            if (!colon || colon == v || !colon[1] || *end || port < 1 || port > 65535)
                return "expected HOST:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:2514)";
        }
        free(*sp);
        *sp = v[0] ? tg_xstrdup(v) : NULL;
        return NULL;
    }
    case TG_OPT_INT:
    case TG_OPT_SIZE: {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (end == v || errno)
            return o->type == TG_OPT_SIZE ? "expected a size in bytes (suffixes k, M, G allowed)"
                                          : "expected a whole number";
        if (o->type == TG_OPT_SIZE && *end) {
            int shift = 0;
            switch (*end) {
            case 'k':
            case 'K':
                shift = 10;
                break;
            case 'm':
            case 'M':
                shift = 20;
                break;
            case 'g':
            case 'G':
                shift = 30;
                break;
            default:
                return "unknown size suffix (use k, M or G)";
            }
            end++;
            if (*end == 'i' || *end == 'B')
                end++;
            if (*end == 'B')
                end++;
            if (n < 0 || n > (INT64_MAX >> shift))
                return "size out of range (it must be 0 or more, and below 8 EiB)";
            n <<= shift;
        }
        if (*end)
            return "trailing characters after the number";
        if (o->max > o->min && (n < o->min || n > o->max)) {
            static __thread char msg[128];
            snprintf(msg, sizeof(msg), "out of range: must be between %" PRId64 " and %" PRId64,
                     o->min, o->max);
            return msg;
        }
        *(int64_t *)field = n;
        return NULL;
    }
    case TG_OPT_BOOL:
        if (tg_parse_bool(v, (bool *)field))
            return "expected true or false (also yes/no, on/off, 1/0)";
        return NULL;
    case TG_OPT_ENUM: {
        int i = tg_config_choice(o->choices, v);
        if (i >= 0) {
            *(int *)field = i;
            return NULL;
        }
        static __thread char msg[256];
        size_t off = (size_t)snprintf(msg, sizeof(msg), "expected one of:");
        for (i = 0; o->choices[i] && off < sizeof(msg); i++)
            off += (size_t)snprintf(msg + off, sizeof(msg) - off, " %s", o->choices[i]);
        return msg;
    }
    }
    return "unsupported option type";
}

void tg_config_defaults(const struct tg_section_def *def, void *data)
{
    for (const struct tg_opt *o = def->opts; o->key; o++)
        if (o->def)
            tg_opt_set(o, data, o->def);
}

static struct tg_section *tg_cfg_add(struct tg_cfg_parse *ps, const struct tg_section_def *def,
                                     const char *instance, int line)
{
    struct tg_config *cfg = ps->cfg;
    cfg->sections = tg_xrealloc(cfg->sections, (cfg->n + 1) * sizeof(*cfg->sections));
    struct tg_section *s = &cfg->sections[cfg->n++];
    memset(s, 0, sizeof(*s));
    s->lines = tg_xcalloc(tg_opt_count(def) + 1, sizeof(int));
    s->rejected = tg_xcalloc(tg_opt_count(def) + 1, sizeof(bool));
    s->def = def;
    s->instance = tg_xstrdup(instance ? instance : "");
    s->line = line;
    s->data = tg_xcalloc(1, def->size);
    tg_config_defaults(def, s->data);
    if (def->multi)
        *(char **)((char *)s->data + def->name_offset) = tg_xstrdup(s->instance);
    return s;
}

static const struct tg_section_def *tg_cfg_find_def(struct tg_cfg_parse *ps, const char *name,
                                                    const char **instance)
{
    size_t n = ps->ndefs;
    const struct tg_section_def *const *defs = ps->defs;
    *instance = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(defs[i]->name, name) == 0)
            return defs[i];
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(defs[i]->name);
        if (defs[i]->multi && strncmp(defs[i]->name, name, l) == 0 && name[l] == '.' &&
            name[l + 1]) {
            *instance = name + l + 1;
            return defs[i];
        }
    }
    return NULL;
}

static void tg_cfg_section_header(struct tg_cfg_parse *ps, const char *name)
{
    const char *inst;
    const struct tg_section_def *def = tg_cfg_find_def(ps, name, &inst);
    ps->cur = NULL;
    ps->cur_bad = true;
    if (!def) {
        size_t n = ps->ndefs;
        const struct tg_section_def *const *defs = ps->defs;
        char known[512];
        size_t off = 0;
        for (size_t i = 0; i < n && off < sizeof(known); i++)
            off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "",
                                    defs[i]->name);
        tg_cfg_error(ps, ps->line, NULL, NULL, "unknown section [%s]; known sections: %s", name,
                     known);
        return;
    }
    for (size_t i = 0; i < ps->cfg->n; i++) {
        struct tg_section *s = &ps->cfg->sections[i];
        if (s->def == def && strcmp(s->instance, inst ? inst : "") == 0) {
            tg_cfg_error(ps, ps->line, name, NULL,
                         "section defined twice (first at line %d); merge the two or give the "
                         "second a name, e.g. [%s.second]",
                         s->line, def->name);
            return;
        }
    }
    ps->cur = tg_cfg_add(ps, def, inst, ps->line);
    ps->cur_bad = false;
}

/* inih reader: one line per call, tracking the line number and headers. */
static char *tg_cfg_reader(char *str, int num, void *stream)
{
    struct tg_cfg_parse *ps = stream;
    ssize_t len;
    if (ps->fp) {
        len = getline(&ps->linebuf, &ps->linecap, ps->fp);
        if (len < 0) {
            if (ferror(ps->fp))
                tg_cfg_error(ps, ps->line + 1, NULL, NULL,
                             "cannot read the file: %s; the rest of it was not read",
                             strerror(errno));
            return NULL;
        }
    } else {
        if (!*ps->text)
            return NULL;
        const char *nl = strchr(ps->text, '\n');
        len = nl ? nl - ps->text + 1 : (ssize_t)strlen(ps->text);
        if ((size_t)len + 1 > ps->linecap) {
            ps->linecap = (size_t)len + 1;
            ps->linebuf = tg_xrealloc(ps->linebuf, ps->linecap);
        }
        memcpy(ps->linebuf, ps->text, (size_t)len);
        ps->linebuf[len] = '\0';
        ps->text += len;
    }
    ps->line++;
    const char *eq = strchr(ps->linebuf, '=');
    size_t lead = strspn(ps->linebuf, " \t");
    if (len >= num - 1 && eq && ps->linebuf[lead] != '[' && eq - ps->linebuf < num - 4) {
        /* inih's line buffer is fixed (200 bytes in Debian's build): hand it
         * the key with a marker and keep the long value here (snoopy
         * message formats are longer than that) */
        const char *v = eq + 1, *e = ps->linebuf + len;
        while (*v == ' ' || *v == '\t')
            v++;
        while (e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        free(ps->long_value);
        ps->long_value = tg_xstrndup(v, (size_t)(e - v));
        snprintf(str, (size_t)num, "%.*s=\x1f\n", (int)(eq - ps->linebuf), ps->linebuf);
        return str;
    }
    if (len >= num - 1) {
        tg_cfg_error(ps, ps->line, NULL, NULL, "line longer than %d characters", num - 2);
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    memcpy(str, ps->linebuf, (size_t)len + 1);
    /* Section header?  "[name]" possibly followed by a ; or # comment. */
    const char *p = str;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (e) {
            char name[256];
            const char *b = p + 1;
            while (b < e && isspace((unsigned char)*b))
                b++;
            size_t n = (size_t)(e - b);
            while (n && isspace((unsigned char)b[n - 1]))
                n--;
            if (n >= sizeof(name))
                n = sizeof(name) - 1;
            memcpy(name, b, n);
            name[n] = '\0';
            tg_cfg_section_header(ps, name);
        } else {
            tg_cfg_error(ps, ps->line, NULL, NULL, "section header without ']'");
            ps->cur = NULL;
            ps->cur_bad = true;
        }
    }
    return str;
}

static int tg_cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    struct tg_cfg_parse *ps = user;
    if (!ps->cur) {
        if (!ps->cur_bad && !section[0])
            tg_cfg_error(ps, ps->line, NULL, name,
                         "key outside any section; put it under a [section] header");
        return 1; /* the header error was already reported */
    }
    struct tg_section *s = ps->cur;
    const struct tg_section_def *def = s->def;
    char label[300];
    tg_config_section_label(s, label, sizeof(label));
    if (!value)
        value = "";
    if (strcmp(value, "\x1f") == 0 && ps->long_value)
        value = ps->long_value;
    if (def->passthrough && strncmp(name, def->passthrough, strlen(def->passthrough)) == 0) {
        struct tg_kv **kv = (struct tg_kv **)((char *)s->data + def->kv_offset);
        size_t *nkv = (size_t *)((char *)s->data + def->nkv_offset);
        *kv = tg_xrealloc(*kv, (*nkv + 1) * sizeof(**kv));
        (*kv)[*nkv].key = tg_xstrdup(name + strlen(def->passthrough));
        (*kv)[*nkv].value = tg_xstrdup(value);
        (*nkv)++;
        int **lines = &s->lines;
        size_t at = tg_opt_count(def) + *nkv - 1;
        *lines = tg_xrealloc(*lines, (at + 1) * sizeof(int));
        (*lines)[at] = ps->line;
        return 1;
    }
    size_t idx = 0;
    const struct tg_opt *o = def->opts;
    for (; o->key; o++, idx++)
        if (strcmp(o->key, name) == 0)
            break;
    if (!o->key) {
        char known[1024];
        size_t off = 0;
        for (const struct tg_opt *k = def->opts; k->key && off < sizeof(known); k++)
            off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
                                    k == def->opts ? "" : ", ", k->key);
        if (def->passthrough && off < sizeof(known))
            snprintf(known + off, sizeof(known) - off, ", %s*", def->passthrough);
        tg_cfg_error(ps, ps->line, label, name, "unknown key; valid keys here: %s", known);
        s->errors++;
        return 1;
    }
    int *lines = s->lines;
    if (lines[idx]) {
        tg_cfg_error(ps, ps->line, label, name, "set twice (first at line %d); keep one",
                     lines[idx]);
        s->errors++;
        return 1;
    }
    lines[idx] = ps->line;
    const char *err = tg_opt_set(o, s->data, value);
    if (err) {
        tg_cfg_error(ps, ps->line, label, name, "invalid value '%s': %s", value, err);
        s->errors++;
        s->rejected[idx] = true;
    }
    return 1;
}

/* Does `sentence` start with the key `prefix``key` as a whole word? */
static bool tg_cfg_names_key(const char *sentence, const char *prefix, const char *key)
{
    size_t lp = strlen(prefix), lk = strlen(key);
    if (strncmp(sentence, prefix, lp) != 0 || strncmp(sentence + lp, key, lk) != 0)
        return false;
    char next = sentence[lp + lk];
    return !isalnum((unsigned char)next) && next != '_' && next != '.';
}

/* The line for the check error `err` of section s: that of the key the
 * sentence starts with if the file set it, else the section header's. */
static int tg_cfg_check_line(const struct tg_section *s, const char *err)
{
    const struct tg_section_def *def = s->def;
    const int *lines = s->lines;
    size_t nopt = tg_opt_count(def);
    for (size_t i = 0; i < nopt; i++)
        if (tg_cfg_names_key(err, "", def->opts[i].key))
            return lines[i] ? lines[i] : s->line;
    if (def->passthrough) {
        const struct tg_kv *kv = *(struct tg_kv **)((char *)s->data + def->kv_offset);
        size_t nkv = *(size_t *)((char *)s->data + def->nkv_offset);
        for (size_t k = 0; k < nkv; k++)
            if (tg_cfg_names_key(err, def->passthrough, kv[k].key))
                return lines[nopt + k];
    }
    return s->line;
}

static int tg_cfg_finish(struct tg_cfg_parse *ps, struct tg_config **out)
{
    size_t n = ps->ndefs;
    const struct tg_section_def *const *defs = ps->defs;
    for (size_t i = 0; i < n; i++) {
        if (!defs[i]->implicit || defs[i]->multi)
            continue;
        bool seen = false;
        for (size_t j = 0; j < ps->cfg->n; j++)
            seen |= ps->cfg->sections[j].def == defs[i];
        if (!seen)
            tg_cfg_add(ps, defs[i], NULL, 0);
    }
    for (size_t j = 0; j < ps->cfg->n; j++) {
        struct tg_section *s = &ps->cfg->sections[j];
        const char *err = s->def->check ? s->def->check(s->data) : NULL;
        char label[300];
        if (err) {
            tg_cfg_error(ps, tg_cfg_check_line(s, err),
                         tg_config_section_label(s, label, sizeof(label)), NULL, "%s", err);
            s->errors++;
        }
    }
    free(ps->linebuf);
    free(ps->long_value);
    if (ps->errors && !ps->keep) {
        fprintf(stderr,
                "%s%s: %d configuration error%s; see `trailguard help config` for every key\n",
                tg_log_prefix(TG_LOG_ERROR), ps->file, ps->errors, ps->errors == 1 ? "" : "s");
        tg_config_free(ps->cfg);
        return TG_ECONFIG;
    }
    *out = ps->cfg;
    return 0;
}

static int tg_cfg_run(struct tg_cfg_parse *ps, struct tg_config **out)
{
    if (!ps->defs) { /* a caller's bug: every load names its sections (tools/registry.h) */
        fprintf(stderr, "%s: no configuration sections given to the loader\n", ps->file);
        abort();
    }
    ps->cfg = tg_xcalloc(1, sizeof(*ps->cfg));
    int rc = ini_parse_stream(tg_cfg_reader, ps, tg_cfg_handler, ps);
    if (rc > 0)
        tg_cfg_error(ps, rc, NULL, NULL,
                     "syntax error: expected 'key = value', '[section]' or a comment");
    else if (rc < 0)
        tg_cfg_error(ps, 0, NULL, NULL, "could not read the file");
    return tg_cfg_finish(ps, out);
}

int tg_config_load_string(const char *name, const char *text,
                          const struct tg_section_def *const *defs, size_t ndefs,
                          struct tg_config **out)
{
    struct tg_cfg_parse ps = {.file = name, .text = text, .defs = defs, .ndefs = ndefs};
    return tg_cfg_run(&ps, out);
}

/* Open and load `path` into *out; ps->keep says whether problems still
 * give a configuration. */
static int tg_cfg_load_file(struct tg_cfg_parse *ps, const char *path, struct tg_config **out)
{
    struct stat st;
    ps->file = path;
    ps->fp = fopen(path, "r");
    if (!ps->fp) {
        fprintf(stderr, "%s: cannot open configuration file: %s; check the path given with -c\n",
                path, strerror(errno));
        return TG_ECONFIG;
    }
    if (fstat(fileno(ps->fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "%s: is a directory, not a configuration file; give the path of the file in it "
                "with -c\n",
                path);
        fclose(ps->fp);
        return TG_ECONFIG;
    }
    int rc = tg_cfg_run(ps, out);
    fclose(ps->fp);
    if (rc == 0)
        (*out)->path = tg_xstrdup(path);
    return rc;
}

int tg_config_load_file(const char *path, const struct tg_section_def *const *defs, size_t ndefs,
                        struct tg_config **out)
{
    if (!path)
        return tg_config_load_string("(built-in defaults)", "", defs, ndefs, out);
    struct tg_cfg_parse ps = {.defs = defs, .ndefs = ndefs};
    return tg_cfg_load_file(&ps, path, out);
}

int tg_config_load_all(const char *path, const struct tg_section_def *const *defs, size_t ndefs,
                       struct tg_config **out, int *nerrors)
{
    struct tg_cfg_parse ps = {.defs = defs, .ndefs = ndefs, .keep = true};
    int rc = tg_cfg_load_file(&ps, path, out);
    *nerrors = ps.errors;
    return rc;
}

/* The row of `key` in s's table, or NULL. */
static const struct tg_opt *tg_cfg_opt(const struct tg_section *s, const char *key)
{
    for (const struct tg_opt *o = s->def->opts; o->key; o++)
        if (strcmp(o->key, key) == 0)
            return o;
    return NULL;
}

const char *tg_config_str(const struct tg_section *s, const char *key)
{
    const struct tg_opt *o = tg_cfg_opt(s, key);
    if (!o || (o->type != TG_OPT_STR && o->type != TG_OPT_ADDR) || s->rejected[o - s->def->opts])
        return NULL;
    return *(char **)((char *)s->data + o->offset);
}

bool tg_config_bool(const struct tg_section *s, const char *key)
{
    const struct tg_opt *o = tg_cfg_opt(s, key);
    return o && o->type == TG_OPT_BOOL && !s->rejected[o - s->def->opts] &&
           *(bool *)((char *)s->data + o->offset);
}

int tg_config_line(const struct tg_section *s, const char *key)
{
    size_t i = 0;
    for (const struct tg_opt *o = s->def->opts; o->key; o++, i++)
        if (strcmp(o->key, key) == 0)
            return s->lines[i] ? s->lines[i] : s->line;
    return s->line;
}

void tg_config_free(struct tg_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        struct tg_section *s = &cfg->sections[i];
        for (const struct tg_opt *o = s->def->opts; o->key; o++)
            if (o->type == TG_OPT_STR || o->type == TG_OPT_ADDR)
                free(*(char **)((char *)s->data + o->offset));
        if (s->def->multi)
            free(*(char **)((char *)s->data + s->def->name_offset));
        if (s->def->passthrough) {
            struct tg_kv *kv = *(struct tg_kv **)((char *)s->data + s->def->kv_offset);
            size_t nkv = *(size_t *)((char *)s->data + s->def->nkv_offset);
            for (size_t k = 0; k < nkv; k++) {
                free(kv[k].key);
                free(kv[k].value);
            }
            free(kv);
        }
        free(s->instance);
        free(s->lines);
        free(s->rejected);
        free(s->data);
    }
    free(cfg->sections);
    free(cfg->path);
    free(cfg);
}

void *tg_config_get(const struct tg_config *cfg, const char *section)
{
    for (size_t i = 0; cfg && i < cfg->n; i++)
        if (strcmp(cfg->sections[i].def->name, section) == 0)
            return cfg->sections[i].data;
    return NULL;
}

void *tg_config_next(const struct tg_config *cfg, const char *section, size_t *iter)
{
    for (; cfg && *iter < cfg->n; (*iter)++) {
        if (strcmp(cfg->sections[*iter].def->name, section) == 0)
            return cfg->sections[(*iter)++].data;
    }
    return NULL;
}

int tg_config_print_reference(const struct tg_section_def *const *defs, size_t n, const char *only)
{
    static const char *const type_name[] = {"string",  "integer", "size",
                                            "boolean", "choice",  "host:port"};
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tg_section_def *d = defs[i];
        if (only && strcmp(only, d->name) != 0)
            continue;
        found++;
        printf("[%s]\n    %s\n", d->name, d->doc);
        if (d->multi)
            printf("    May repeat as [%s.NAME].\n", d->name);
        for (const struct tg_opt *o = d->opts; o->key; o++) {
            printf("  %-20s %-9s default: %s\n      %s\n", o->key, type_name[o->type],
                   o->def ? (o->def[0] ? o->def : "(empty)") : "(unset)", o->doc);
            if (o->choices) {
                printf("      choices:");
                for (int c = 0; o->choices[c]; c++)
                    printf(" %s", o->choices[c]);
                printf("\n");
            }
        }
        if (d->passthrough)
            printf("  %s*   passed through unchanged\n", d->passthrough);
        printf("\n");
    }
    return found ? 0 : TG_ENOENT;
}
