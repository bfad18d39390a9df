/*
 * sudo_argv.c - sudo's command-line reading.  See sudo_argv.h.
 *
 * What sudo 1.9.13p3 (Debian 12) accepts on its command line, written from
 * its documented behaviour and parse_args()'s rules and checked case by
 * case against the real sudo (tests/unit/test_policy.c): the same option
 * letters and long names (sudoedit has fewer), one switch over the option
 * letters, then the refusals in the order sudo applies them.  sudo stops at
 * the first word that is not an option and skips VAR=value words among the
 * options; we walk argv the same way by hand, so the parse is pure and
 * re-entrant.  After parse_args()'s checks come the
 * sudoers plugin's refusals that need no rule (a remote host outside -l, no
 * command without shell_noargs).  Refusals that depend on the rules or
 * Defaults (-D, -R, -T, -E without the matching Defaults or tag) are not
 * decided here.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sudo_argv.h"

static const char tg_short_opts[] = "+Aa:BbC:c:D:Eeg:Hh::iKklNnPp:R:r:SsT:t:U:u:Vv";
static const char tg_edit_short_opts[] = "+Aa:BC:c:D:g:h::KkNnp:R:r:ST:t:u:V";

enum tg_has_arg { TG_NO_ARG, TG_REQUIRED_ARG, TG_OPTIONAL_ARG };

/* --host: no short form of its own (-h is help, or a host when it has one) */
#define TG_OPT_HOSTNAME 256

struct tg_longopt {
    const char *name;
    enum tg_has_arg has_arg;
    int val;
};

static const struct tg_longopt tg_long_opts[] = {
    /* sudo-specific long options */
    {"background", TG_NO_ARG, 'b'},
    {"preserve-env", TG_OPTIONAL_ARG, 'E'},
    {"edit", TG_NO_ARG, 'e'},
    {"set-home", TG_NO_ARG, 'H'},
    {"login", TG_NO_ARG, 'i'},
    {"remove-timestamp", TG_NO_ARG, 'K'},
    {"list", TG_NO_ARG, 'l'},
    {"preserve-groups", TG_NO_ARG, 'P'},
    {"shell", TG_NO_ARG, 's'},
    {"other-user", TG_REQUIRED_ARG, 'U'},
    {"validate", TG_NO_ARG, 'v'},
    /* common long options: all that sudoedit has */
    {"askpass", TG_NO_ARG, 'A'},
    {"auth-type", TG_REQUIRED_ARG, 'a'},
    {"bell", TG_NO_ARG, 'B'},
    {"close-from", TG_REQUIRED_ARG, 'C'},
    {"login-class", TG_REQUIRED_ARG, 'c'},
    {"chdir", TG_REQUIRED_ARG, 'D'},
    {"group", TG_REQUIRED_ARG, 'g'},
    {"help", TG_NO_ARG, 'h'},
    {"host", TG_REQUIRED_ARG, TG_OPT_HOSTNAME},
    {"reset-timestamp", TG_NO_ARG, 'k'},
    {"no-update", TG_NO_ARG, 'N'},
    {"non-interactive", TG_NO_ARG, 'n'},
    {"prompt", TG_REQUIRED_ARG, 'p'},
    {"chroot", TG_REQUIRED_ARG, 'R'},
    {"role", TG_REQUIRED_ARG, 'r'},
    {"stdin", TG_NO_ARG, 'S'},
    {"command-timeout", TG_REQUIRED_ARG, 'T'},
    {"type", TG_REQUIRED_ARG, 't'},
    {"user", TG_REQUIRED_ARG, 'u'},
    {"version", TG_NO_ARG, 'V'},
    {NULL, TG_NO_ARG, 0}};
static const struct tg_longopt *const tg_edit_long_opts = &tg_long_opts[11];

/* parse_args()'s mode flags, and the ones each mode accepts */
enum {
    TG_F_BACKGROUND = 1 << 0,      /* -b */
    TG_F_PRESERVE_ENV = 1 << 1,    /* -E without a list */
    TG_F_RESET_HOME = 1 << 2,      /* -H */
    TG_F_LOGIN_SHELL = 1 << 3,     /* -i */
    TG_F_NONINTERACTIVE = 1 << 4,  /* -n */
    TG_F_PRESERVE_GROUPS = 1 << 5, /* -P */
    TG_F_SHELL = 1 << 6,           /* -s */
};
#define TG_DEFAULT_VALID                                                                           \
    (TG_F_BACKGROUND | TG_F_PRESERVE_ENV | TG_F_RESET_HOME | TG_F_LOGIN_SHELL |                    \
     TG_F_NONINTERACTIVE | TG_F_PRESERVE_GROUPS | TG_F_SHELL)
#define TG_EDIT_VALID     TG_F_NONINTERACTIVE
#define TG_LIST_VALID     TG_F_NONINTERACTIVE
#define TG_VALIDATE_VALID TG_F_NONINTERACTIVE

/* The parse in progress: parse_args()'s locals. */
struct tg_argp {
    bool sudoedit;          /* invoked as sudoedit */
    enum tg_sudo_mode mode; /* TG_SMODE_RUN: none chosen yet (sudo's 0) */
    unsigned flags, valid;  /* TG_F_* given, TG_F_* the mode accepts */
    bool seen[128];         /* option letters given */
    const char *value[128]; /* their arguments; the remote host under 'h' */
    bool host_word;         /* the remote host was the word after a lone -h */
    int nenv;               /* VAR=value words */
    const char *why;        /* the refusal */
};

static bool tg_refuse(struct tg_argp *st, const char *why)
{
    st->why = why;
    return false;
}

/* An option with a value: sudo takes each once, most never empty. */
static bool tg_setting(struct tg_argp *st, int c, const char *arg, bool empty_ok)
{
    if (st->value[c])
        return tg_refuse(st, "an option that takes a value was given twice");
    if (!empty_ok && !*arg)
        return tg_refuse(st, "an option was given an empty value");
    st->value[c] = arg;
    return true;
}

/* Choose a mode: a different one already chosen is sudo's usage_excl()
 * (sudoedit lets -h and -V replace its edit mode). */
static bool tg_mode(struct tg_argp *st, enum tg_sudo_mode m, unsigned valid)
{
    if (st->mode != TG_SMODE_RUN && st->mode != m &&
        !(st->sudoedit && (m == TG_SMODE_HELP || m == TG_SMODE_VERSION)))
        return tg_refuse(st, "only one of the -e, -h, -K, -l, -v or -V options may be given");
    st->mode = m;
    st->valid = valid;
    return true;
}

/* One option, as the switch in parse_args(); false: sudo prints its usage. */
static bool tg_option(struct tg_argp *st, int c, const char *arg)
{
    if (c < 128)
        st->seen[c] = true;
    switch (c) {
    case 'a': /* BSD authentication type and login class: not built on Linux */
    case 'c':
        return tg_refuse(st, "-a and -c exist only on BSD systems");
    case 'C': {
        char *end;
        long n = strtol(arg, &end, 10);
        if (!*arg || *end || n < 3 || n > INT_MAX)
            return tg_refuse(st, "the argument to -C must be a number greater than or equal to 3");
        return tg_setting(st, c, arg, false);
    }
    case 'D':
    case 'g':
    case 'R':
    case 'r':
    case 't':
    case 'U':
    case 'u':
        return tg_setting(st, c, arg, false);
    case 'p': /* an empty prompt is allowed; the plugin judges -T */
    case 'T':
        return tg_setting(st, c, arg, true);
    case 'E':
        if (!arg)
            st->flags |= TG_F_PRESERVE_ENV;
        else if (strchr(arg, '='))
            return tg_refuse(st, "invalid environment variable name in --preserve-env");
        return true;
    case 'e':
        return tg_mode(st, TG_SMODE_EDIT, TG_EDIT_VALID);
    case 'h':
        if (!arg)
            return tg_mode(st, TG_SMODE_HELP, 0);
        return tg_setting(st, 'h', arg, false);
    case TG_OPT_HOSTNAME:
        return tg_setting(st, 'h', arg, false);
    case 'K':
        if (!tg_mode(st, TG_SMODE_INVALIDATE, 0))
            return false;
        /* fall through - -K also ignores the cached credentials, like -k */
    case 'k':
        if (st->seen['N'])
            return tg_refuse(st, "only one of the -K, -k or -N options may be given");
        return true;
    case 'N':
        if (st->seen['k'] || st->seen['K'])
            return tg_refuse(st, "only one of the -K, -k or -N options may be given");
        return true;
    case 'l':
        return tg_mode(st, TG_SMODE_LIST, TG_LIST_VALID);
    case 'v':
        return tg_mode(st, TG_SMODE_VALIDATE, TG_VALIDATE_VALID);
    case 'V':
        return tg_mode(st, TG_SMODE_VERSION, 0);
    case 'b':
        st->flags |= TG_F_BACKGROUND;
        return true;
    case 'H':
        st->flags |= TG_F_RESET_HOME;
        return true;
    case 'i':
        st->flags |= TG_F_LOGIN_SHELL;
        return true;
    case 'n':
        st->flags |= TG_F_NONINTERACTIVE;
        return true;
    case 'P':
        st->flags |= TG_F_PRESERVE_GROUPS;
        return true;
    case 's':
        st->flags |= TG_F_SHELL;
        return true;
    default: /* A, B, S: how the password is asked for (-A with -S: checked later) */
        return true;
    }
}

/* sudo's is_envar: a VAR=value word among the options. */
static bool tg_is_envar(const char *s)
{
    return s[0] != '/' && s[0] != '=' && strchr(s, '=') != NULL;
}

/* A long option argv[*i] = "--name[=arg]": the exact name or a unique
 * abbreviation, as getopt_long. */
static bool tg_long(struct tg_argp *st, int argc, char *const *argv, int *i)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t nl = eq ? (size_t)(eq - name) : strlen(name);
    const struct tg_longopt *hit = NULL;
    bool ambiguous = false;
    for (const struct tg_longopt *o = st->sudoedit ? tg_edit_long_opts : tg_long_opts; o->name;
         o++) {
        if (strncmp(o->name, name, nl) != 0)
            continue;
        if (o->name[nl] == '\0') {
            hit = o;
            ambiguous = false;
            break;
        }
        ambiguous |= hit != NULL;
        if (!hit)
            hit = o;
    }
    if (!hit)
        return tg_refuse(st, "unknown long option");
    if (ambiguous)
        return tg_refuse(st, "ambiguous abbreviation of a long option");
    const char *arg = eq ? eq + 1 : NULL;
    if (arg && hit->has_arg == TG_NO_ARG)
        return tg_refuse(st, "a long option that takes no argument was given one");
    if (!arg && hit->has_arg == TG_REQUIRED_ARG) {
        if (*i + 1 >= argc)
            return tg_refuse(st, "option requires an argument");
        arg = argv[++*i];
    }
    return tg_option(st, hit->val, arg);
}

/* A word of short options argv[*i] ("-n", "-iu", "-ubob", "-hweb1"), as
 * getopt. */
static bool tg_short(struct tg_argp *st, int argc, char *const *argv, int *i)
{
    const char *word = argv[*i];
    const char *opts = st->sudoedit ? tg_edit_short_opts : tg_short_opts;
    for (const char *p = word + 1; *p; p++) {
        const char *spec = *p != ':' && *p != '+' ? strchr(opts, *p) : NULL;
        if (!spec)
            return tg_refuse(st, "unknown option");
        if (spec[1] != ':') {
            if (!tg_option(st, *p, NULL))
                return false;
            continue;
        }
        const char *arg = p[1] ? p + 1 : NULL;
        if (!arg && spec[2] != ':') {
            if (*i + 1 >= argc)
                return tg_refuse(st, "option requires an argument");
            arg = argv[++*i];
        } else if (!arg && strcmp(word, "-h") == 0 && *i + 1 < argc && argv[*i + 1][0] != '-' &&
                   !tg_is_envar(argv[*i + 1])) {
            /* "-h" alone, then a word that is no option: sudo takes that
             * word as the remote host */
            arg = argv[++*i];
            st->host_word = true;
        }
        return tg_option(st, *p, arg);
    }
    return true;
}

/* parse_args()'s checks after its loop, then the sudoers plugin's refusals
 * that need no rule.  NULL: sudo goes on to the rules. */
static const char *tg_check(struct tg_argp *st, bool has_cmd)
{
    const unsigned shells = TG_F_SHELL | TG_F_LOGIN_SHELL;
    if (st->mode == TG_SMODE_RUN && st->seen['k'] && !has_cmd && !(st->flags & shells)) {
        st->mode = TG_SMODE_KILL; /* -k by itself */
        st->valid = 0;
    }
    if ((st->flags & TG_F_LOGIN_SHELL) && (st->flags & TG_F_SHELL))
        return "you may not specify both the -i and -s options";
    if ((st->flags & TG_F_LOGIN_SHELL) && (st->flags & TG_F_PRESERVE_ENV))
        return "you may not specify both the -i and -E options";
    if ((st->flags & st->valid) != st->flags)
        return "an option (-b, -E, -H, -i, -n, -P or -s) that this mode does not take";
    if (st->mode == TG_SMODE_EDIT && st->nenv)
        return "you may not specify environment variables in edit mode";
    bool checks_rules = st->mode == TG_SMODE_RUN || st->mode == TG_SMODE_EDIT ||
                        st->mode == TG_SMODE_VALIDATE || (st->mode == TG_SMODE_LIST && has_cmd);
    if ((st->value['u'] || st->value['g']) && !checks_rules)
        return "-u and -g need a command to run, edit or check, or -v";
    if (st->value['U'] && st->mode != TG_SMODE_LIST)
        return "the -U option may only be used with the -l option";
    if (st->seen['A'] && st->seen['S'])
        return "the -A and -S options may not be used together";
    if (st->mode == TG_SMODE_EDIT && !has_cmd)
        return "no file to edit";
    if (has_cmd && st->mode != TG_SMODE_RUN && st->mode != TG_SMODE_EDIT &&
        st->mode != TG_SMODE_LIST)
        return "a command given to -v, -K, -V or -h, which run none";
    if (st->value['h'] && checks_rules && st->mode != TG_SMODE_LIST)
        return st->host_word ? "a lone -h takes the next word as a remote host, and a remote host "
                               "may only be specified when listing privileges"
                             : "a remote host may only be specified when listing privileges";
    if (st->mode == TG_SMODE_RUN && !has_cmd && !(st->flags & shells))
        return "no command given";
    return NULL;
}

void tg_sudo_args_parse(int argc, char *const *argv, struct tg_sudo_args *out)
{
    memset(out, 0, sizeof(*out));
    struct tg_argp st = {0};
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : (argc > 0 ? argv[0] : "sudo");
    st.sudoedit = strcmp(base, "sudoedit") == 0;
    st.mode = st.sudoedit ? TG_SMODE_EDIT : TG_SMODE_RUN;
    st.valid = st.sudoedit ? TG_EDIT_VALID : TG_DEFAULT_VALID;
    bool ok = true;
    int i = 1;
    for (; ok && i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] == '-' && a[1] != '\0')
            ok = a[1] == '-' ? tg_long(&st, argc, argv, &i) : tg_short(&st, argc, argv, &i);
        else if (tg_is_envar(a) && strcmp(argv[i - 1], "--") != 0) /* not after -u -- */
            st.nenv++;
        else
            break;
    }
    const char *why = ok ? tg_check(&st, i < argc) : st.why;
    out->cmd = why ? argc : i;
    out->mode = why ? TG_SMODE_USAGE : st.mode;
    out->error = why;
    out->login_shell = st.flags & TG_F_LOGIN_SHELL;
    out->shell = st.flags & TG_F_SHELL;
    out->user = st.value['u'];
    out->group = st.value['g'];
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
