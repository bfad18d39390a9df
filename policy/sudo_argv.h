/*
 * sudo_argv.h - read a logged `sudo ...` command line the way sudo's
 * parse_args() reads its argv: which mode, which runas user/group, where the
 * command starts.
 *
 * Handles short options (combined, attached or separate arguments: -u bob,
 * -ubob, -iu bob), long options (--user=bob, --user bob), `--`, the option
 * letters that take arguments (-u -g -U -p -C -c -D -R -r -T -t -a, -h only
 * attached), VAR=value assignments before the command, and the modes: -l,
 * -v, -k/-K, -V, -h (help) run no command; -e and the name `sudoedit` edit
 * files; -i and -s run a (login) shell.  Pure, any thread.
 */
#ifndef TG_POLICY_SUDO_ARGV_H
#define TG_POLICY_SUDO_ARGV_H

#include <stdbool.h>

#include "core/buf.h"

enum tg_sudo_mode {
    TG_SMODE_RUN = 0,
    TG_SMODE_EDIT,       /* -e / sudoedit */
    TG_SMODE_LIST,       /* -l */
    TG_SMODE_VALIDATE,   /* -v */
    TG_SMODE_KILL,       /* -k without a command */
    TG_SMODE_INVALIDATE, /* -K */
    TG_SMODE_VERSION,    /* -V */
    TG_SMODE_HELP,       /* -h */
    TG_SMODE_USAGE       /* sudo would refuse the command line */
};

struct tg_sudo_args {
    enum tg_sudo_mode mode;
    bool login_shell;         /* -i */
    bool shell;               /* -s */
    const char *user, *group; /* -u, -g (pointers into argv) */
    int cmd;                  /* index of the command in argv; == argc when none */
    const char *error;        /* TG_SMODE_USAGE: why (static) */
};

/* Parse argv (argv[0] = "sudo" or "sudoedit", any path). */
void tg_sudo_args_parse(int argc, char *const *argv, struct tg_sudo_args *out);

/* Append the words argv[from..argc) as sudo passes them to `shell -c` for
 * -i/-s: every character but alphanumerics, '_', '-' and '$' is escaped with
 * a backslash, words are joined with single spaces. */
void tg_sudo_shell_escape(int argc, char *const *argv, int from, struct tg_buf *out);

#endif
