/*
 * sudo.h - sudo's own log lines (dataset `sudo`): what sudo 1.9 writes to
 * syslog (authpriv by `Defaults syslog=authpriv`) for every attempt, in its
 * "sudo" log format:
 *
 *      alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/ls -l
 *      alice : command not allowed ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/cat /etc/shadow
 *      alice : 3 incorrect password attempts ; TTY=pts/0 ; ... ; COMMAND=...
 *      alice : TTY=pts/0 ; ... ; COMMAND=/usr/bin/ls -l ; EXIT=0     (log_exit_status)
 *      alice : (command continued) ...                      (lines past syslog_maxlen)
 *
 * The submitting user (padded to 8 columns), an optional reason (a refusal,
 * an authentication failure, an alert), then "KEY=value ; " fields (HOST,
 * TTY, CHROOT, PWD, CWD, USER, GROUP, TSID, ENV) and COMMAND last, whose
 * arguments sudo quotes ('a b') and escapes (\' \\, and #0nn for control
 * characters and blanks) so that the argv can be read back.
 *
 * Pure; any thread; allocates only in the event's arena.
 */
#ifndef TG_SUDO_PARSER_H
#define TG_SUDO_PARSER_H

#include "core/event.h"

/*
 * Parse `body` (a slice of ev->original: the MSG of a syslog record whose
 * tag is sudo, or a bare line) as one sudo log line.  Fills dataset sudo,
 * event.action (accept, reject, auth_failure, alert, exit,
 * command_continued), outcome, user.name, user.effective.name (USER=) and
 * .group.name (GROUP=), process.working_directory (PWD=), .tty.name,
 * .command_line (COMMAND= as logged), .executable and .args (the argv read
 * back), .exit_code, trailguard.sudo (reason, the host's decision, the other
 * fields) and ev->host_decision: allow for a command sudo ran, deny for a
 * refusal by its policy (sudoers, or PAM's account check: HBAC on a FreeIPA
 * client), none otherwise.  A line that may have been split by sudo
 * (longer than its syslog_maxlen) is partial.  Returns 0, or TG_ENOTMINE
 * when the body is not a sudo log line (ev unchanged).
 */
int tg_sudo_parse(struct tg_event *ev, struct tg_str body);

#endif
