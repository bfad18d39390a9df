/*
 * sudo_argv.h - read a logged `sudo ...` command line the way sudo 1.9.13p3
 * (as Debian ships it) reads its argv: which mode, which runas user/group,
 * where the command starts, or why sudo would refuse the line.
 *
 * Handles short options (combined, attached or separate arguments: -u bob,
 * -ubob, -iu bob), long options (--user=bob, --user bob, unique
 * abbreviations such as --us=bob), `--`, -h's optional argument (attached,
 * or the next word when -h stands alone and that word is neither an option
 * nor VAR=value), VAR=value assignments among the options, the reduced option
 * set of `sudoedit`, and the modes: -l, -v, -k/-K, -V, -h (help) run no
 * command; -e and the name `sudoedit` edit files; -i and -s run a (login)
 * shell.  Every command line that sudo answers with its usage, or that the
 * sudoers plugin refuses before any rule is looked at, is TG_SMODE_USAGE
 * with sudo's reason: conflicting modes, options the mode does not take,
 * -i with -s or -E, -U without -l, -A with -S, an option given twice or with
 * an empty argument, -u/-g without a command, a command in a mode that runs
 * none, environment variables in edit mode, no command, and a remote host
 * (-h HOST, --host) outside -l (sudo's CVE-2025-32462 fix; sudo accepts it
 * when HOST is the machine's own name, which the reader cannot know, so
 * that case is a usage error here too).  Pure, any thread.
 */
#ifndef TG_POLICY_SUDO_ARGV_H
#define TG_POLICY_SUDO_ARGV_H

#include <stdbool.h>

#include "core/buf.h"

enum tg_sudo_mode {
    TG_SMODE_RUN = 0,
    TG_SMODE_EDIT,       /* -e / sudoedit */
    TG_SMODE_LIST,       /* -l, with or without a command */
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
