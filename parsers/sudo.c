/*
 * sudo.c - sudo's own log lines.  See sudo.h.
 *
 * Format (sudo 1.9's lib/eventlog new_logline and do_syslog_sudo):
 *
 *      "%8s : " user
 *      [reason (" ; " | " : " errstr " ; ")]
 *      ["HOST=h ; "] ["TTY=t ; "] ["CHROOT=c ; "] ["PWD=d ; " | "CWD=d ; "]
 *      ["USER=u ; "] ["GROUP=g ; "] ["TSID=s ; "] ["ENV=a=1 b=2 ; "]
 *      "COMMAND=" path [" " arg]... [" ; SIGNAL=S"] [" ; EXIT=n"]
 *
 * or "(command continued) " and the rest of a line longer than
 * syslog_maxlen (960 bytes by default; sudo cuts at the last space that
 * fits).  Values are escaped: control characters as #0 and the octal code
 * ("#011" is a TAB), in the command path and unquoted arguments blanks too
 * ("#040"), and in arguments ' and \ with a backslash; an argument holding
 * a space is wrapped in single quotes.  So the argv is read back word by
 * word: process.args, and the command sudo matched (sudo compares the
 * arguments joined by single spaces) for the verdict in policy.c.
 *
 * Fields are split at " ; ".  A value may hold " ; " itself (an argument
 * ";", an ENV value): COMMAND runs to the end of the line (less a trailing
 * SIGNAL=/EXIT=), and a segment that is not KEY=value continues the value
 * before it.  Only the KEYs above start a field, so a command's text never
 * becomes a field.
 *
 * The host's decision: allow for a command sudo accepted (and an exit
 * line, which follows a command that ran), deny for a refusal by its
 * policy ("command not allowed", "user NOT in sudoers", "user NOT
 * authorized on host") or by PAM's account check ("PAM account management
 * error: Permission denied": HBAC for service sudo on a FreeIPA client);
 * authentication failures and alerts say nothing about the policy.
 */
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "parsers/sudo.h"

/* A line at least this long may be the first part of one sudo split. */
#define TG_SUDO_SPLIT_AT 800

enum tg_skey { K_HOST = 0, K_TTY, K_CHROOT, K_PWD, K_CWD, K_USER, K_GROUP, K_TSID, K_ENV, K_CMD };
#define TG_SKEYS (K_CMD + 1)

static const char *const tg_skeys[TG_SKEYS] = {"HOST", "TTY",   "CHROOT", "PWD", "CWD",
                                               "USER", "GROUP", "TSID",   "ENV", "COMMAND"};

static const char tg_ssep[] = " ; ";
#define TG_SSEP_LEN 3

/* The key of a "KEY=..." segment, or -1. */
static int tg_skey(const char *p, size_t n)
{
    for (int k = 0; k < TG_SKEYS; k++) {
        size_t kl = strlen(tg_skeys[k]);
        if (n > kl && memcmp(p, tg_skeys[k], kl) == 0 && p[kl] == '=')
            return k;
    }
    return -1;
}

static const char *tg_sfind(const char *p, size_t n, const char *lit, size_t litlen)
{
    return n >= litlen ? memmem(p, n, lit, litlen) : NULL;
}

/* ------------------------------------------------------------ escapes */

/* The byte of a "#0..." escape at p (p[0] == '#'), as sudo writes it for
 * the control characters and blanks it escapes (1-3 octal digits, the
 * fewest that hold the value); 0 when p is not one.  *used: its length. */
static int tg_soctal(const char *p, size_t n, size_t *used)
{
    if (n < 3 || p[1] != '0')
        return 0;
    if (n >= 5 && memcmp(p + 2, "177", 3) == 0) {
        *used = 5;
        return 0177;
    }
    if (n >= 4 && p[2] >= '1' && p[2] <= '4' && p[3] >= '0' && p[3] <= '7') {
        int v = (p[2] - '0') * 8 + (p[3] - '0');
        if (v < 040 || v == 040) {
            *used = 4;
            return v;
        }
    }
    if (p[2] >= '1' && p[2] <= '7') {
        *used = 3;
        return p[2] - '0';
    }
    return 0;
}

/* Decode [p, p+n) into the arena: #0nn escapes, and with quotes "\x". */
static struct tg_str tg_sdecode(struct tg_event *ev, const char *p, size_t n, bool quotes)
{
    char *out = tg_arena_alloc(&ev->arena, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t used = 0;
        int c = p[i] == '#' ? tg_soctal(p + i, n - i, &used) : 0;
        if (c) {
            out[o++] = (char)c;
            i += used;
        } else if (quotes && p[i] == '\\' && i + 1 < n) {
            out[o++] = p[i + 1];
            i += 2;
        } else {
            out[o++] = p[i++];
        }
    }
    out[o] = '\0';
    return tg_str_make(out, o);
}

/* Read the argv back from a COMMAND value (see the top of the file). */
static void tg_sargv(struct tg_event *ev, struct tg_str v)
{
    size_t cap = 1;
    for (size_t i = 0; i < v.len; i++)
        cap += v.p[i] == ' ';
    struct tg_str *a = tg_arena_alloc(&ev->arena, cap * sizeof(*a));
    size_t n = 0, i = 0;
    const char *sp = memchr(v.p, ' ', v.len);
    size_t end = sp ? (size_t)(sp - v.p) : v.len;
    a[n++] = tg_sdecode(ev, v.p, end, false); /* the path: blanks escaped, no quoting */
    i = end;
    while (i < v.len && n < cap) {
        i++; /* the one space between words */
        if (i < v.len && v.p[i] == '\'') {
            size_t j = i + 1;
            while (j < v.len && v.p[j] != '\'')
                j += v.p[j] == '\\' ? 2 : 1;
            if (j >= v.len) {
                tg_event_partial(ev, "the last quoted argument of the sudo command is cut");
                j = v.len;
            }
            a[n++] = tg_sdecode(ev, v.p + i + 1, (j > v.len ? v.len : j) - i - 1, true);
            i = j + 1;
        } else {
            const char *s2 = memchr(v.p + i, ' ', v.len - i);
            size_t j = s2 ? (size_t)(s2 - v.p) : v.len;
            a[n++] = tg_sdecode(ev, v.p + i, j - i, true);
            i = j;
        }
    }
    ev->args = a;
    ev->nargs = n;
    if (a[0].len && a[0].p[0] == '/')
        ev->executable = a[0];
}

/* ----------------------------------------------------------- the line */

struct tg_sline {
    struct tg_str user, reason, val[TG_SKEYS], signal, exit;
    bool continued;
};

/* When *v ends in lit and a value of characters from `set`, cut that off
 * into *out. */
static void tg_stail(struct tg_str *v, const char *lit, const char *set, struct tg_str *out)
{
    size_t ll = strlen(lit);
    const char *last = NULL;
    for (const char *q = v->p; (q = tg_sfind(q, v->len - (size_t)(q - v->p), lit, ll)); q++)
        last = q;
    if (!last)
        return;
    size_t at = (size_t)(last - v->p) + ll, vl = v->len - at;
    for (size_t i = 0; i < vl; i++)
        if (!strchr(set, v->p[at + i]))
            return;
    if (vl == 0)
        return;
    *out = tg_str_make(v->p + at, vl);
    v->len = (size_t)(last - v->p);
}

/* Strip a trailing " ; EXIT=n", then " ; SIGNAL=S" (sudo writes SIGNAL
 * first) from a COMMAND value. */
static void tg_sexit(struct tg_str *v, struct tg_sline *l)
{
    tg_stail(v, " ; EXIT=", "-0123456789", &l->exit);
    tg_stail(v, " ; SIGNAL=", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+", &l->signal);
}

/* Split the line into user, reason and fields; false when it is not one. */
static bool tg_ssplit(struct tg_str body, struct tg_sline *l)
{
    const char *p = body.p;
    size_t n = body.len, i = 0;
    while (i < n && p[i] == ' ')
        i++;
    const char *colon = tg_sfind(p + i, n - i, " : ", 3);
    if (!colon || colon == p + i || memchr(p + i, ' ', (size_t)(colon - (p + i))))
        return false;
    l->user = tg_str_make(p + i, (size_t)(colon - (p + i)));
    size_t pos = (size_t)(colon - p) + 3;
    static const char cont[] = "(command continued) ";
    if (n - pos >= sizeof(cont) - 1 && memcmp(p + pos, cont, sizeof(cont) - 1) == 0) {
        l->continued = true;
        l->val[K_CMD] = tg_str_make(p + pos + sizeof(cont) - 1, n - pos - (sizeof(cont) - 1));
        tg_sexit(&l->val[K_CMD], l);
        return true;
    }
    int last = -1;
    bool any = false;
    for (bool first = true; pos < n; first = false) {
        const char *s = tg_sfind(p + pos, n - pos, tg_ssep, TG_SSEP_LEN);
        size_t end = s ? (size_t)(s - p) : n;
        int k = tg_skey(p + pos, end - pos);
        if (k == K_CMD) {
            size_t kl = strlen(tg_skeys[k]) + 1;
            l->val[K_CMD] = tg_str_make(p + pos + kl, n - pos - kl);
            tg_sexit(&l->val[K_CMD], l);
            return true;
        }
        if (!s) /* a line without a command ends in "KEY=value ; ": " ;" left */
            while (end > pos &&
                   (p[end - 1] == ' ' || (p[end - 1] == ';' && end - 1 > pos && p[end - 2] == ' ')))
                end--;
        if (k >= 0) {
            size_t kl = strlen(tg_skeys[k]) + 1;
            l->val[k] = tg_str_make(p + pos + kl, end > pos + kl ? end - pos - kl : 0);
            last = k;
            any = true;
        } else if (first) {
            l->reason = tg_str_make(p + pos, end - pos);
        } else if (end > pos && last >= 0) { /* a value holding " ; " */
            l->val[last].len = end - (size_t)(l->val[last].p - p);
        } else if (end > pos) {
            l->reason.len = end - (size_t)(l->reason.p - p);
        }
        if (!s)
            break;
        pos = end + TG_SSEP_LEN;
    }
    return any; /* a reason alone is not a sudo event line */
}

/* ------------------------------------------------------ classification */

static bool tg_sprefix(struct tg_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.p, lit, n) == 0;
}

/* "3 incorrect password attempts", "1 incorrect password attempt" */
static bool tg_sbadpass(struct tg_str r)
{
    size_t d = 0;
    while (d < r.len && r.p[d] >= '0' && r.p[d] <= '9')
        d++;
    struct tg_str rest = tg_str_make(r.p + d, r.len - d);
    return d > 0 && (tg_str_eq(rest, " incorrect password attempt") ||
                     tg_str_eq(rest, " incorrect password attempts"));
}

static void tg_sclassify(struct tg_event *ev, const struct tg_sline *l)
{
    static const char *const refusals[] = {"command not allowed", "user NOT in sudoers",
                                           "user NOT authorized on host",
                                           "PAM account management error: Permission denied"};
    ev->category[0] = "process";
    if (l->continued) {
        ev->action = TG_STR_LIT("command_continued");
        ev->type[0] = "info";
        return;
    }
    if (!l->reason.p) {
        bool exited = l->exit.p || l->signal.p;
        ev->action = exited ? TG_STR_LIT("exit") : TG_STR_LIT("accept");
        ev->type[0] = exited ? "end" : "start";
        ev->outcome = !exited || (tg_str_eq(l->exit, "0") && !l->signal.p) ? TG_OUTCOME_SUCCESS
                                                                           : TG_OUTCOME_FAILURE;
        ev->host_decision = TG_DECISION_ALLOW;
        return;
    }
    ev->outcome = TG_OUTCOME_FAILURE;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
        if (tg_str_eq(l->reason, refusals[i])) {
            ev->action = TG_STR_LIT("reject");
            ev->type[0] = "denied";
            ev->host_decision = TG_DECISION_DENY;
            return;
        }
    if (tg_sbadpass(l->reason) || tg_str_eq(l->reason, "a password is required") ||
        tg_str_eq(l->reason, "no password was provided") ||
        tg_str_eq(l->reason, "timed out reading password") ||
        tg_sprefix(l->reason, "a terminal is required to read the password")) {
        ev->action = TG_STR_LIT("auth_failure");
        ev->category[0] = "authentication";
        ev->type[0] = "start";
        return;
    }
    ev->action = TG_STR_LIT("alert"); /* sudo's warnings: defaults, PAM, files */
    ev->type[0] = "error";
}

/* trailguard.sudo: what the line says that ECS has no field for. */
static void tg_sdata(struct tg_event *ev, const struct tg_sline *l)
{
    struct tg_buf b = TG_BUF_INIT;
    struct tg_jw w;
    unsigned fl = 0;
    tg_jw_begin(&w, &b);
    tg_jw_str(&w, "reason", l->reason, &fl);
    tg_jw_cstr(&w, "decision", tg_decision_name[ev->host_decision]);
    tg_jw_str(&w, "host", l->val[K_HOST], &fl);
    tg_jw_str(&w, "chroot", l->val[K_CHROOT], &fl);
    tg_jw_str(&w, "cwd", l->val[K_CWD], &fl);
    tg_jw_str(&w, "tsid", l->val[K_TSID], &fl);
    tg_jw_str(&w, "env", l->val[K_ENV], &fl);
    tg_jw_str(&w, "signal", l->signal, &fl);
    if (l->continued)
        tg_jw_bool(&w, "continued", true);
    tg_jw_end(&w);
    if (b.len > 2)
        ev->sudo_data = tg_event_strdup(ev, b.data, b.len);
    tg_buf_free(&b);
}

int tg_sudo_parse(struct tg_event *ev, struct tg_str body)
{
    struct tg_sline l;
    memset(&l, 0, sizeof(l));
    if (!body.p || !tg_ssplit(body, &l))
        return TG_ENOTMINE;
    ev->dataset = TG_DS_SUDO;
    ev->parse_status = TG_PARSE_OK;
    ev->user_name = l.user;
    ev->user_eff_name = l.val[K_USER];
    ev->user_eff_group = l.val[K_GROUP];
    ev->user_target_name = l.val[K_USER]; /* whom the command runs as: also user.target */
    ev->user_target_group = l.val[K_GROUP];
    ev->working_directory = l.val[K_PWD].p ? l.val[K_PWD] : l.val[K_CWD];
    ev->tty = l.val[K_TTY];
    ev->command_line = l.val[K_CMD];
    if (!ev->host_name.p && l.val[K_HOST].p)
        ev->host_name = l.val[K_HOST];
    bool neg = l.exit.len > 1 && l.exit.p[0] == '-';
    int64_t code = tg_str_digits(neg ? tg_str_make(l.exit.p + 1, l.exit.len - 1) : l.exit);
    if (code >= 0)
        ev->exit_code = neg ? -code : code;
    if (ev->pid == TG_NUM_NONE && tg_str_digits(ev->sl_procid) >= 0)
        ev->pid = tg_str_digits(ev->sl_procid);
    tg_sclassify(ev, &l);
    if (l.val[K_CMD].p && !l.continued && l.val[K_CMD].len) {
        tg_sargv(ev, l.val[K_CMD]);
        if (body.len >= TG_SUDO_SPLIT_AT && !l.exit.p && !l.signal.p)
            tg_event_partial(ev, "sudo splits lines longer than its syslog_maxlen (960 bytes by "
                                 "default): the command may go on in a '(command continued)' "
                                 "record");
    }
    tg_sdata(ev, &l);
    return 0;
}
