/*
 * sudo_argv.c - sudo's command-line reading.  See sudo_argv.h.
 *
 * sudo uses getopt_long with "+" (stop at the first non-option); we walk
 * argv the same way by hand so the parse is pure and re-entrant.
 */
#include <ctype.h>
#include <string.h>

#include "policy/sudo_argv.h"

/* Short options that take an argument (h only when attached). */
static const char tg_with_arg[] = "CDRTUacgprtu";
static const char tg_no_arg[] = "ABEHKNPSVbeiklnsv";

struct tg_longopt {
    const char *name;
    char letter; /* equivalent short option, or 0 */
    int arg;     /* 0 none, 1 required, 2 optional (only with =) */
};

static const struct tg_longopt tg_longopts[] = {{"askpass", 'A', 0},
                                                {"background", 'b', 0},
                                                {"bell", 'B', 0},
                                                {"close-from", 'C', 1},
                                                {"login-class", 'c', 1},
                                                {"chdir", 'D', 1},
                                                {"preserve-env", 'E', 2},
                                                {"edit", 'e', 0},
                                                {"group", 'g', 1},
                                                {"set-home", 'H', 0},
                                                {"help", 'h', 0},
                                                {"host", 'h', 1},
                                                {"login", 'i', 0},
                                                {"remove-timestamp", 'K', 0},
                                                {"reset-timestamp", 'k', 0},
                                                {"list", 'l', 0},
                                                {"non-interactive", 'n', 0},
                                                {"preserve-groups", 'P', 0},
                                                {"prompt", 'p', 1},
                                                {"chroot", 'R', 1},
                                                {"role", 'r', 1},
                                                {"stdin", 'S', 0},
                                                {"shell", 's', 0},
                                                {"type", 't', 1},
                                                {"command-timeout", 'T', 1},
                                                {"other-user", 'U', 1},
                                                {"user", 'u', 1},
                                                {"version", 'V', 0},
                                                {"validate", 'v', 0},
                                                {"no-update", 'N', 0},
                                                {NULL, 0, 0}};

/* The argument-less options seen, by letter (-h only without a host). */
struct tg_flags {
    bool seen[128];
};

static void tg_apply(struct tg_flags *f, struct tg_sudo_args *out, char c, const char *arg)
{
    if (c == 'u')
        out->user = arg;
    else if (c == 'g')
        out->group = arg;
    else if (!arg)
        f->seen[c & 127] = true;
}

/* sudo would print its usage and run nothing. */
static void tg_usage(struct tg_sudo_args *out, int argc, const char *why)
{
    out->mode = TG_SMODE_USAGE;
    out->error = why;
    out->cmd = argc;
}

static bool tg_is_env_assign(const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return false;
    for (const char *p = s; p < eq; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

void tg_sudo_args_parse(int argc, char *const *argv, struct tg_sudo_args *out)
{
    memset(out, 0, sizeof(*out));
    struct tg_flags f = {0};
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : (argc > 0 ? argv[0] : "sudo");
    bool sudoedit = strcmp(base, "sudoedit") == 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (a[1] == '-') { /* long option */
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            const struct tg_longopt *lo = NULL;
            for (const struct tg_longopt *p = tg_longopts; p->name; p++)
                if (strlen(p->name) == nl && strncmp(p->name, name, nl) == 0 &&
                    (p->letter != 'h' || (p->arg == 1) == (eq != NULL))) {
                    lo = p;
                    break;
                }
            if (!lo) {
                tg_usage(out, argc, "unknown long option");
                return;
            }
            const char *arg = eq ? eq + 1 : NULL;
            if (lo->arg == 1 && !arg) {
                if (i + 1 >= argc) {
                    tg_usage(out, argc, "option requires an argument");
                    return;
                }
                arg = argv[++i];
            }
            tg_apply(&f, out, lo->letter, arg);
            continue;
        }
        for (const char *p = a + 1; *p; p++) { /* short options, possibly combined */
            if (*p == 'h') {
                tg_apply(&f, out, 'h', p[1] ? p + 1 : NULL);
                break;
            }
            if (strchr(tg_with_arg, *p)) {
                const char *arg = p[1] ? p + 1 : NULL;
                if (!arg) {
                    if (i + 1 >= argc) {
                        tg_usage(out, argc, "option requires an argument");
                        return;
                    }
                    arg = argv[++i];
                }
                tg_apply(&f, out, *p, arg);
                break;
            }
            if (!strchr(tg_no_arg, *p)) {
                tg_usage(out, argc, "unknown option");
                return;
            }
            tg_apply(&f, out, *p, NULL);
        }
    }
    while (i < argc && tg_is_env_assign(argv[i]) && !sudoedit && !f.seen['e'])
        i++;
    out->cmd = i;
    bool has_cmd = i < argc;
    out->login_shell = f.seen['i'];
    out->shell = f.seen['s'];
    if (f.seen['h'])
        out->mode = TG_SMODE_HELP;
    else if (f.seen['V'])
        out->mode = TG_SMODE_VERSION;
    else if (f.seen['l'])
        out->mode = TG_SMODE_LIST;
    else if (f.seen['v'])
        out->mode = TG_SMODE_VALIDATE;
    else if (f.seen['K'])
        out->mode = TG_SMODE_INVALIDATE;
    else if (f.seen['e'] || sudoedit)
        out->mode = has_cmd ? TG_SMODE_EDIT : TG_SMODE_USAGE;
    else if (f.seen['k'] && !has_cmd && !f.seen['i'] && !f.seen['s'])
        out->mode = TG_SMODE_KILL;
    else if (!has_cmd && !f.seen['i'] && !f.seen['s'])
        out->mode = TG_SMODE_USAGE;
    if (out->mode == TG_SMODE_USAGE && !out->error)
        out->error = "no command given";
    if (f.seen['i'] && f.seen['s']) {
        out->mode = TG_SMODE_USAGE;
        out->error = "-i and -s are mutually exclusive";
    }
}

void tg_sudo_shell_escape(int argc, char *const *argv, int from, struct tg_buf *out)
{
    for (int i = from; i < argc; i++) {
        if (i > from)
            tg_buf_putc(out, ' ');
        for (const char *p = argv[i]; *p; p++) {
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '$')
                tg_buf_putc(out, '\\');
            tg_buf_putc(out, *p);
        }
    }
}
