/*
 * config.h - option tables and the INI configuration loader.
 *
 * Fluent Bit style: every section is described by a table of options (key,
 * type, default, offset into the section's struct, one-line doc).  The same
 * rows give validation, defaults, the unknown-key error and `trailguard help
 * config`.  A module that owns a section exports its struct tg_section_def;
 * the registry (tools/registry.h) lists them all and hands the list to the
 * loader: this module knows no section itself.
 *
 * Loading (inih underneath) collects *every* problem, each as
 * "FILE:LINE: [section] key: what is wrong; what to do", and fails with
 * TG_ECONFIG if there was any.  LINE is the line of the key concerned (of
 * the [header] for a section-wide problem or a required key that is not
 * set).  A loaded config is immutable and may be read from any thread;
 * tg_config_free() releases it.
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tg_opt_type {
    TG_OPT_STR,  /* char *, NULL when unset or empty */
    TG_OPT_INT,  /* int64_t, within [min, max] */
    TG_OPT_SIZE, /* int64_t bytes; accepts suffixes k, M, G (powers of 1024) */
    TG_OPT_BOOL, /* bool: true/false, yes/no, on/off, 1/0 */
    TG_OPT_ENUM, /* int: index into choices */
    TG_OPT_ADDR, /* char *, "host:port" with a port 1..65535, or empty */
};

struct tg_opt {
    const char *key;
    enum tg_opt_type type;
    const char *def; /* default as written in the INI file; NULL = unset */
    size_t offset;
    const char *doc;
    const char *const *choices; /* TG_OPT_ENUM: NULL-terminated (see tg_config_choice) */
    int64_t min, max;           /* TG_OPT_INT/SIZE when max > min */
};

/* A key/value pair passed through unchanged (e.g. "rdkafka.*"). */
struct tg_kv {
    char *key;
    char *value;
};

struct tg_section_def {
    const char *name; /* "collector", "input.relp", ... */
    bool multi;       /* may repeat as [name.INSTANCE] */
    bool implicit;    /* exists with defaults even when absent from the file */
    const char *doc;
    const struct tg_opt *opts;    /* terminated by a row with key == NULL */
    size_t size;                  /* sizeof the section struct */
    size_t name_offset;           /* multi: offset of a char * receiving INSTANCE (or "") */
    const char *passthrough;      /* key prefix stored as tg_kv (e.g. "rdkafka."), or NULL */
    size_t kv_offset, nkv_offset; /* passthrough: struct tg_kv * and size_t fields */
    /* Cross-key validation after loading; returns NULL or an error sentence
     * that starts with the key it concerns ("tls = on needs ...", "path is
     * required", "rdkafka.NAME: ..."): the error is reported at that key's
     * line, or at the [header] when the file does not set the key. */
    const char *(*check)(const void *section);
};

struct tg_section {
    const struct tg_section_def *def;
    char *instance; /* multi sections: the INSTANCE part, "" for the bare name */
    int line;       /* line of the [header], 0 for implicit */
    int *lines;     /* per option, then per passthrough key: the line that set it, or 0 */
    bool *rejected; /* per option: its value was refused (tg_config_load_all keeps the default) */
    int errors;     /* problems the loader reported in this section */
    void *data;
};

struct tg_config {
    char *path; /* NULL for built-in defaults */
    size_t n;
    struct tg_section *sections;
};

/*
 * Load `path` (NULL: built-in defaults only) against the sections `defs`
 * (the registry's list, tools/registry.h, which also has the shorthand
 * every command uses).  Problems are printed to stderr (each with file:line
 * and key); a path that cannot be opened or read, or names a directory, is
 * one too.  Returns 0 or TG_ECONFIG; on success *out is owned by the caller.
 */
int tg_config_load_file(const char *path, const struct tg_section_def *const *defs, size_t ndefs,
                        struct tg_config **out);
/* The same from a string; `name` labels messages.  (defs NULL, as the
 * loader once read the registry by itself, is a bug: it aborts.) */
int tg_config_load_string(const char *name, const char *text,
                          const struct tg_section_def *const *defs, size_t ndefs,
                          struct tg_config **out);
void tg_config_free(struct tg_config *cfg);
/*
 * As tg_config_load_file, for `trailguard check`: every problem is printed
 * and counted in *nerrors (and in each section's `errors`), but the
 * configuration is kept all the same (a key with a bad value keeps its
 * default), so that what it names can be checked too.  Returns 0 with
 * *out set, or TG_ECONFIG when the file cannot be read at all (printed).
 */
int tg_config_load_all(const char *path, const struct tg_section_def *const *defs, size_t ndefs,
                       struct tg_config **out, int *nerrors);
/* The line of `key` in section s: where the file sets it, else the
 * [header]'s (0 for an implicit section absent from the file). */
int tg_config_line(const struct tg_section *s, const char *key);
/* A string or address key of s by name (NULL when unset, refused, or not
 * such a key), and a boolean one (false when refused or not such a key):
 * for code that reads any section without its struct (`trailguard check`,
 * the health probes). */
const char *tg_config_str(const struct tg_section *s, const char *key);
bool tg_config_bool(const struct tg_section *s, const char *key);
/* "name" or "name.INSTANCE" into buf (n bytes); returns buf. */
const char *tg_config_section_label(const struct tg_section *s, char *buf, size_t n);

/* The single instance of a non-multi section (defaults if absent and implicit), or NULL. */
void *tg_config_get(const struct tg_config *cfg, const char *section);
/* Iterate instances of a section: pass *iter = 0 first; returns NULL at the end. */
void *tg_config_next(const struct tg_config *cfg, const char *section, size_t *iter);

/* Index of `value` in the NULL-terminated `choices` (case-insensitive), or
 * -1: how TG_OPT_ENUM values are read, and command-line options that take
 * the same names (`ingest --format`).  Any thread. */
int tg_config_choice(const char *const *choices, const char *value);

/* Apply the defaults of `def` to a zeroed struct (tests and built-in configs). */
void tg_config_defaults(const struct tg_section_def *def, void *data);
/* Print every section of `defs`, its keys, defaults and docs (for
 * `trailguard help config`), or only those of the section named `only`;
 * 0, or TG_ENOENT when no section has that name. */
int tg_config_print_reference(const struct tg_section_def *const *defs, size_t n, const char *only);

#endif
