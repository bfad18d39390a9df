/*
 * test_config.c - the INI loader: defaults, every value type, multi
 * sections, passthrough keys, and every error path, each of which must name
 * the file, the line and the key (also for the checks of the real sections,
 * loaded from the registry).  stderr is captured into a temp file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/collector_conf.h"
#include "core/config.h"
#include "core/errors.h"
#include "tools/registry.h"

struct t_multi {
    char *name;
    char *listen;
    bool tls;
    struct tg_kv *kv;
    size_t nkv;
};

static const struct tg_opt t_multi_opts[] = {
    {"listen", TG_OPT_ADDR, "0.0.0.0:2514", offsetof(struct t_multi, listen), "addr"},
    {"tls", TG_OPT_BOOL, "off", offsetof(struct t_multi, tls), "tls"},
    {NULL},
};

static const char *t_multi_check(const void *data)
{
    const struct t_multi *m = data;
    return m->tls && m->listen && strstr(m->listen, ":514") ? "tls on port 514 is not allowed"
                                                            : NULL;
}

static const struct tg_section_def t_multi = {
    .name = "input.t",
    .multi = true,
    .doc = "test",
    .opts = t_multi_opts,
    .size = sizeof(struct t_multi),
    .name_offset = offsetof(struct t_multi, name),
    .passthrough = "lib.",
    .kv_offset = offsetof(struct t_multi, kv),
    .nkv_offset = offsetof(struct t_multi, nkv),
    .check = t_multi_check,
};

static const struct tg_section_def *const t_defs[] = {&tg_collector_section, &t_multi};

static char errbuf[8192];

/* Load the file `path`, or else `text` against `defs` (NULL: the registry's
 * sections); capture stderr into errbuf; return the rc. */
static int load_from(const char *path, const char *text, const struct tg_section_def *const *defs,
                     size_t ndefs, struct tg_config **cfg)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    if (!defs)
        defs = tg_registry_sections(&ndefs);
    int rc = path ? tg_config_load_file(path, defs, ndefs, cfg)
                  : tg_config_load_string("test.ini", text, defs, ndefs, cfg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(errbuf, 1, sizeof(errbuf) - 1, tmp);
    errbuf[n] = '\0';
    fclose(tmp);
    return rc;
}

static int load(const char *text, struct tg_config **cfg)
{
    return load_from(NULL, text, t_defs, 2, cfg);
}

static void expect_in_errbuf(const char *fragment)
{
    if (!strstr(errbuf, fragment)) {
        print_error("expected '%s' in:\n%s\n", fragment, errbuf);
        fail();
    }
}

static void expect_error(const char *text, const char *fragment)
{
    struct tg_config *cfg = NULL;
    assert_int_equal(load(text, &cfg), TG_ECONFIG);
    assert_null(cfg);
    expect_in_errbuf(fragment);
}

/* The same against the registry's sections ([input.relp], [sink.kafka], ...). */
static void expect_registry_error(const char *text, const char *fragment)
{
    struct tg_config *cfg = NULL;
    assert_int_equal(load_from(NULL, text, NULL, 0, &cfg), TG_ECONFIG);
    assert_null(cfg);
    expect_in_errbuf(fragment);
}

static void expect_file_error(const char *path, const char *fragment)
{
    struct tg_config *cfg = NULL;
    assert_int_equal(load_from(path, NULL, NULL, 0, &cfg), TG_ECONFIG);
    assert_null(cfg);
    expect_in_errbuf(fragment);
}

static void test_defaults_when_empty(void **state)
{
    struct tg_config *cfg;
    assert_int_equal(load("", &cfg), 0);
    const struct tg_collector_conf *c = tg_config_get(cfg, "collector");
    assert_non_null(c); /* implicit section */
    assert_int_equal(c->fsync, TG_FSYNC_INTERVAL);
    assert_int_equal(c->fsync_interval_ms, 1000);
    assert_int_equal(c->dedup_window, 600);
    assert_int_equal(c->spool_max_bytes, 10LL << 30);
    assert_string_equal(c->metrics_listen, "127.0.0.1:9880");
    size_t it = 0;
    assert_null(tg_config_next(cfg, "input.t", &it)); /* not implicit */
    tg_config_free(cfg);
}

static void test_values_and_multi_sections(void **state)
{
    struct tg_config *cfg;
    const char *text = "; comment\n"
                       "[collector]\n"
                       "fsync = always   ; inline comment\n"
                       "workers = 3\n"
                       "spool_max_bytes = 64M\n"
                       "metrics_listen =\n"
                       "[input.t]\n"
                       "listen = 127.0.0.1:2514\n"
                       "tls = yes\n"
                       "lib.batch.size = 1000\n"
                       "[input.t.second]\n"
                       "listen = [::1]:6514\n";
    assert_int_equal(load(text, &cfg), 0);
    const struct tg_collector_conf *c = tg_config_get(cfg, "collector");
    assert_int_equal(c->fsync, TG_FSYNC_ALWAYS);
    assert_int_equal(c->workers, 3);
    assert_int_equal(c->spool_max_bytes, 64 << 20);
    assert_null(c->metrics_listen); /* empty disables */
    size_t it = 0;
    const struct t_multi *m = tg_config_next(cfg, "input.t", &it);
    assert_non_null(m);
    assert_string_equal(m->name, "");
    assert_string_equal(m->listen, "127.0.0.1:2514");
    assert_true(m->tls);
    assert_int_equal(m->nkv, 1);
    assert_string_equal(m->kv[0].key, "batch.size");
    assert_string_equal(m->kv[0].value, "1000");
    m = tg_config_next(cfg, "input.t", &it);
    assert_non_null(m);
    assert_string_equal(m->name, "second");
    assert_string_equal(m->listen, "[::1]:6514");
    assert_false(m->tls);
    assert_null(tg_config_next(cfg, "input.t", &it));
    tg_config_free(cfg);
}

static void test_error_paths_name_file_line_key(void **state)
{
    expect_error("[collector]\nbogus = 1\n", "test.ini:2: [collector] bogus: unknown key");
    expect_error("[nosuch]\n", "test.ini:1: unknown section [nosuch]");
    expect_error("[collector]\nworkers = many\n",
                 "test.ini:2: [collector] workers: invalid value 'many'");
    expect_error("[collector]\nworkers = 65\n", "out of range");
    expect_error("[collector]\nfsync = sometimes\n", "expected one of: interval always never");
    expect_error("[collector]\nmetrics_listen = localhost\n", "expected HOST:PORT");
    expect_error("[collector]\nmetrics_listen = h:99999\n", "expected HOST:PORT");
    expect_error("[collector]\nspool_max_bytes = 5X\n", "unknown size suffix");
    expect_error("[collector]\nspool_max_bytes = 1k\n", "out of range");
    /* found by fuzz_config: a negative size with a suffix was shifted (UB) */
    expect_error("[collector]\nspool_max_bytes = -1g\n", "size out of range");
    expect_error("[collector]\nspool_max_bytes = 99999999999G\n", "size out of range");
    expect_error("[input.t]\ntls = maybe\n", "expected true or false");
    expect_error("[collector]\nworkers = 1\nworkers = 2\n",
                 "test.ini:3: [collector] workers: set twice (first at line 2)");
    expect_error("[collector]\n[collector]\n", "test.ini:2: [collector] section defined twice");
    expect_error("workers = 1\n", "test.ini:1: workers: key outside any section");
    expect_error("[collector]\nthis line has no equals sign\n", "test.ini:2: syntax error");
    expect_error("[collector\n", "test.ini:1: section header without ']'");
    expect_error("[input.t]\nlisten = 1.2.3.4:514\ntls = on\n",
                 "test.ini:3: [input.t] tls on port 514");
    /* several errors are all reported */
    expect_error("[collector]\nbogus = 1\nworkers = x\n", "2 configuration errors");
    char longline[400];
    memset(longline, 'a', sizeof(longline));
    memcpy(longline, "[collector]\nx;", 14); /* no "=": a long key = value line is accepted */
    longline[sizeof(longline) - 2] = '\n';
    longline[sizeof(longline) - 1] = '\0';
    expect_error(longline, "test.ini:2: line longer than");
}

/* found by the black-box audit: the list of valid keys ended in a stray '*'
 * for sections without pass-through keys */
static void test_unknown_key_lists_valid_keys(void **state)
{
    expect_error("[collector]\nbogus = 1\n",
                 "valid keys here: spool_dir, workers, fsync, fsync_interval_ms, dedup_window, "
                 "metrics_listen, spool_max_bytes, queue_max_bytes, silence_seconds, "
                 "sink_failing_seconds\n");
    expect_error("[input.t]\nbogus = 1\n", "valid keys here: listen, tls, lib.*\n");
}

/* found by the black-box audit: a section check's error was reported at the
 * [header] line even when it concerns one key the file sets */
static void test_check_errors_at_the_key_line(void **state)
{
    expect_registry_error("[input.relp]\ntls = on\n",
                          "test.ini:2: [input.relp] tls = on needs tls_ca");
    /* the whole key: tls (line 3) is not tls_auth_mode (line 8) */
    expect_registry_error("[collector]\nworkers = 1\n[input.relp.b]\ntls = on\ntls_ca = a\n"
                          "tls_cert = b\ntls_key = c\ntls_auth_mode = name\n",
                          "test.ini:8: [input.relp.b] tls_auth_mode name or fingerprint needs");
    expect_registry_error(
        "[collector]\nworkers = 1\n\n[input.file]\npath = /x\nformat = bogus\n",
        "test.ini:6: [input.file] format: expected auto, syslog, snoopy, percona or sudo");
    expect_registry_error("[sink.kafka]\nbrokers = k:9092\nrdkafka.acks = all\n"
                          "rdkafka.no.such.property = 1\n",
                          "test.ini:4: [sink.kafka] rdkafka.no.such.property: ");
    /* a required key that is not set: the section's line */
    expect_registry_error("[collector]\n[input.file]\nformat = percona\n",
                          "test.ini:2: [input.file] path is required");
    expect_registry_error("[sink.kafka]\ntopic = t\n",
                          "test.ini:1: [sink.kafka] brokers is required");
    /* set, but empty */
    expect_registry_error("[input.relp]\n\nlisten =\n",
                          "test.ini:3: [input.relp] listen is required");
}

/* [input.file] format takes the names of `ingest --format` */
static void test_file_format_choices(void **state)
{
    static const char *const ok[] = {"auto", "syslog", "snoopy", "percona", "Percona"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char text[128];
        struct tg_config *cfg = NULL;
        snprintf(text, sizeof(text), "[input.file]\npath = /x\nformat = %s\n", ok[i]);
        if (load_from(NULL, text, NULL, 0, &cfg) != 0) {
            print_error("format = %s rejected:\n%s\n", ok[i], errbuf);
            fail();
        }
        tg_config_free(cfg);
    }
}

static void test_unusable_files(void **state)
{
    expect_file_error("/nonexistent/trailguard.conf", "/nonexistent/trailguard.conf: cannot open");
    /* found by the black-box audit: a directory was read as an empty config */
    char dir[] = "/tmp/tg-test-config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char want[64];
    snprintf(want, sizeof(want), "%s: is a directory", dir);
    expect_file_error(dir, want);
    rmdir(dir);
    /* a read error is an error, not the end of the file (reading address 0 fails) */
    expect_file_error("/proc/self/mem", "/proc/self/mem:1: cannot read the file");
}

/* `trailguard check`'s load: the configuration is kept despite problems, a
 * refused value reads as unset, and every key knows its line. */
static void test_load_all_keeps_the_config(void **state)
{
    char path[] = "/tmp/tg-test-config.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "[collector]\nworkers = many\nspool_dir = /tmp/s\n"
                               "[input.relp.a]\nlisten = nohost\ntls = on\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    struct tg_config *cfg = NULL;
    int nerr = 0;
    size_t ndefs;
    const struct tg_section_def *const *defs = tg_registry_sections(&ndefs);
    int rc = tg_config_load_all(path, defs, ndefs, &cfg, &nerr);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(tmp);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_non_null(cfg);
    assert_true(nerr >= 2); /* workers, listen (and the tls check) */
    const struct tg_section *col = NULL, *relp = NULL;
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->sections[i].def->name, "collector") == 0)
            col = &cfg->sections[i];
        if (strcmp(cfg->sections[i].def->name, "input.relp") == 0)
            relp = &cfg->sections[i];
    }
    assert_non_null(col);
    assert_non_null(relp);
    assert_int_equal(col->errors, 1);
    assert_string_equal(tg_config_str(col, "spool_dir"), "/tmp/s");
    assert_int_equal(tg_config_line(col, "spool_dir"), 3);
    assert_int_equal(tg_config_line(col, "workers"), 2);
    assert_int_equal(tg_config_line(col, "metrics_listen"), 1); /* unset: the header */
    assert_null(tg_config_str(relp, "listen"));                 /* refused: not the default */
    assert_true(tg_config_bool(relp, "tls"));
    assert_int_equal(tg_config_line(relp, "listen"), 5);
    char label[64];
    assert_string_equal(tg_config_section_label(relp, label, sizeof(label)), "input.relp.a");
    tg_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_when_empty),
        cmocka_unit_test(test_values_and_multi_sections),
        cmocka_unit_test(test_error_paths_name_file_line_key),
        cmocka_unit_test(test_unknown_key_lists_valid_keys),
        cmocka_unit_test(test_check_errors_at_the_key_line),
        cmocka_unit_test(test_file_format_choices),
        cmocka_unit_test(test_unusable_files),
        cmocka_unit_test(test_load_all_keeps_the_config),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
