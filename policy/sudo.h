/*
 * sudo.h - sudo rule evaluation with sudo's own semantics (sudoers(5),
 * sudoers.ldap(5); sudo 1.9.13's match.c/parse.c as described in
 * reference/policy.md section 4): user specs from last to first, inside each
 * privileges and command specs from last to first, the first command that
 * matches (positively or through `!`) decides; lists scanned from the end;
 * runas per runaslist_matches; commands by path (usrmerge-aware string
 * compare standing in for sudo's inode compare), glob, directory, regex,
 * sudoedit and ALL; arguments by fnmatch, `""` or regex.  Because sudo
 * compares files, not strings, both the rule's path and the command's are
 * normalised lexically first (`//`, `.` and `..` components: `/usr/bin/../bin/x`
 * and `/usr//bin/x` are `/usr/bin/x`); a ^regex$ sees the command's path as
 * typed, as in sudo.
 *
 * Offline differences, by necessity: network/IP host entries never match
 * (sudo only matches the audited machine's interfaces, which we do not
 * know); digests (sha256:...) are not checked; globs in paths are matched
 * like `fast_glob` (fnmatch with FNM_PATHNAME) instead of against the
 * audited host's filesystem; `..` is resolved lexically, so a `..` after a
 * symlinked directory other than the usrmerge ones can differ from sudo.
 *
 * Pure functions over an immutable snapshot: any thread.
 */
#ifndef TG_POLICY_SUDO_H
#define TG_POLICY_SUDO_H

#include "policy/snapshot.h"

enum { TG_SUDO_UNSPEC = -1, TG_SUDO_DENY = 0, TG_SUDO_ALLOW = 1 };

struct tg_sudo_req {
    const char *user;          /* invoking user (login name) */
    const char *host;          /* the host as logged (FQDN or short) */
    const char *runas_user;    /* target user name or "#uid"; never NULL */
    const char *runas_group;   /* -g, or NULL */
    bool runas_user_specified; /* -u given */
    const char *cmnd;          /* full path, or "sudoedit" */
    const char *args;          /* space-joined arguments, NULL when none */
    int64_t now;               /* epoch seconds for NOTBEFORE/NOTAFTER */
    bool usrmerge;             /* /bin, /sbin, /lib* are /usr/... */
};

struct tg_sudo_result {
    int match;                       /* TG_SUDO_ALLOW, _DENY or _UNSPEC (no rule) */
    const struct tg_sudo_spec *spec; /* the deciding rule, or NULL */
};

/* Evaluate q against the snapshot's sudo rules. */
void tg_sudo_eval(const struct tg_snapshot *s, const struct tg_sudo_req *q,
                  struct tg_sudo_result *res);

/* Write the full path `path` into buf (size n; buf may be path itself) with
 * empty and `.` components removed and `..` resolved lexically (never above
 * `/`); a trailing `/` stays.  False, buf untouched, when path does not start
 * with `/` or does not fit. */
bool tg_sudo_path_clean(const char *path, char *buf, size_t n);

/* The path sudo would run for a bare command name: the first directory of
 * secure_path (from the snapshot's Defaults, else sudo's default) holding a
 * rule command of that name, else one holding it on this machine, else
 * /usr/bin/NAME.  Writes into buf (size n). */
void tg_sudo_resolve(const struct tg_snapshot *s, const char *name, char *buf, size_t n);

#endif
