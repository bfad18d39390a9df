/*
 * snoopy.h - snoopy exec records (snoopy 1.x to 2.5).
 *
 * A snoopy message is its snoopy.ini `message_format` with every
 * `%{datasource[:arg]}` replaced by text.  tg_snoopy_compile() turns such a
 * template into a scanner program once (at start-up); tg_snoopy_parse() runs
 * compiled programs over a record body, without regex and without any
 * allocation outside the event's arena.  Compiled formats are immutable and
 * may be shared by all worker threads.
 */
#ifndef TG_SNOOPY_H
#define TG_SNOOPY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/event.h"

/* The compiled-in defaults of snoopy's builds (formats.md section 2.2). */
#define TG_SNOOPY_FMT_UPSTREAM                                                                     \
    "[uid:%{uid} sid:%{sid} tty:%{tty} cwd:%{cwd} filename:%{filename}]: %{cmdline}"
#define TG_SNOOPY_FMT_DEBIAN                                                                       \
    "[login:%{login} ssh:(%{env:SSH_CONNECTION}) sid:%{sid} tty:%{tty} "                           \
    "(%{tty_uid}/%{tty_username}) uid:%{username}(%{uid})/%{eusername}(%{euid}) cwd:%{cwd}]: "     \
    "%{cmdline}"
/*
 * Every message format snoopy has shipped as a default, most specific
 * first, NULL-terminated: the Debian and upstream defaults of 2.x, then the
 * fixed formats of 1.x (1.7.9-1.9 without cwd, 1.7.x with "path:", 1.6,
 * and 1.3's "[login, uid:N sid:N]").
 */
extern const char *const tg_snoopy_builtin_formats[];

struct tg_snoopy_fmt;

/*
 * Compile a message_format.  Returns 0 and *out (caller frees with
 * tg_snoopy_free), or TG_EINVAL with *err set to a sentence saying what is
 * wrong and what to do (caller frees).
 */
int tg_snoopy_compile(const char *tmpl, struct tg_snoopy_fmt **out, char **err);
void tg_snoopy_free(struct tg_snoopy_fmt *f);

/*
 * Describe the compiled program, one step per line ("lit \"[uid:\"",
 * "field uid", "field env:SSH_CONNECTION until \" sid:\"", ...): used by the
 * unit tests and for diagnostics.  Appends to b.
 */
void tg_snoopy_describe(const struct tg_snoopy_fmt *f, struct tg_buf *b);

/*
 * Parse `body` (a slice of ev->original) with the first of fmts[0..n) that
 * matches it completely; if none does, with the one that matched the most
 * of its fields (at least two), marking the event partial.  Fills ev's
 * fields per SPEC.md section 3; when the record gives no pid, a numeric
 * syslog PROCID already in ev->sl_procid (snoopy's own pid) is the pid.
 * Returns 0, or TG_ENOTMINE when no format matches (ev unchanged).  Worker
 * thread; pure.
 */
int tg_snoopy_parse(const struct tg_snoopy_fmt *const *fmts, size_t n, struct tg_event *ev,
                    struct tg_str body);

/* True when [p, p+len) matches one of fmts completely (record-start test of
 * the framer). */
bool tg_snoopy_matches(const struct tg_snoopy_fmt *const *fmts, size_t n, const char *p,
                       size_t len);

#endif
