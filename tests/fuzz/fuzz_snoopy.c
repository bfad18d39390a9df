/*
 * fuzz_snoopy.c - fuzz the snoopy template compiler and scanner.
 *
 * An input starting with '%' is a template: it is compiled (and, when it
 * compiles, a record built from it is scanned).  Any other input is a
 * record, scanned with snoopy's built-in formats and a rich custom one.
 * Invariants: compiled templates describe themselves; a parse that claims
 * the record fills dataset snoopy and only slices of the record or arena.
 */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/mem.h"
#include "parsers/snoopy.h"
#include "tests/fuzz/fuzz.h"

#define TG_FZ_RICH                                                                                 \
    "%{datetime} host=%{hostname} pid=%{pid} ppid=%{ppid} sid=%{sid} tty=%{tty} "                  \
    "uid=%{uid}(%{username}) euid=%{euid}(%{eusername}) login=%{login} cwd=%{cwd} "                \
    "filename=%{filename}: %{cmdline}"

static struct tg_snoopy_fmt *tg_fz_fmts[16];
static size_t tg_fz_n;

static void tg_fz_init(void)
{
    char *err;
    if (tg_fz_n)
        return;
    if (tg_snoopy_compile(TG_FZ_RICH, &tg_fz_fmts[tg_fz_n++], &err) != 0)
        abort();
    for (size_t i = 0; tg_snoopy_builtin_formats[i]; i++)
        if (tg_snoopy_compile(tg_snoopy_builtin_formats[i], &tg_fz_fmts[tg_fz_n++], &err) != 0)
            abort();
}

static void tg_fz_record(const struct tg_snoopy_fmt *const *f, size_t n, const char *p, size_t len)
{
    struct tg_event *ev = tg_event_new(p, len, NULL, TG_FUZZ_NOW);
    int rc = tg_snoopy_parse(f, n, ev, ev->original);
    if (rc == 0 && (ev->dataset != TG_DS_SNOOPY || !tg_str_eq(ev->action, "exec")))
        abort();
    if (rc != 0 && (ev->dataset != TG_DS_SYSLOG || ev->command_line.p))
        abort();
    if (rc == 0 && tg_snoopy_matches(f, n, p, len) && ev->parse_status == TG_PARSE_UNPARSED)
        abort();
    tg_event_free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tg_fz_init();
    if (size > 0 && data[0] == '%') {
        char *tmpl = tg_xstrndup((const char *)data + 1, size - 1);
        struct tg_snoopy_fmt *f;
        char *err = NULL;
        if (tg_snoopy_compile(tmpl, &f, &err) == 0) {
            struct tg_buf b = TG_BUF_INIT;
            tg_snoopy_describe(f, &b);
            /* the template's own text, scanned as a record, must not crash */
            const struct tg_snoopy_fmt *one[1] = {f};
            tg_fz_record(one, 1, tmpl, strlen(tmpl));
            tg_buf_free(&b);
            tg_snoopy_free(f);
        } else if (!err || !err[0]) {
            abort(); /* a rejected template always says why */
        }
        free(err);
        free(tmpl);
        return 0;
    }
    tg_fz_record((const struct tg_snoopy_fmt *const *)tg_fz_fmts, tg_fz_n, (const char *)data,
                 size);
    return 0;
}
