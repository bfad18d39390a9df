/*
 * percona.h - Percona Server audit log records (JSON): the audit_log plugin
 * of 5.7/8.0 ({"audit_record":{...}}) and the audit_log_filter component of
 * 8.0/8.4 (class/event records, pretty-printed or JSONL).  Pure; any thread.
 */
#ifndef TG_PERCONA_H
#define TG_PERCONA_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/event.h"

/*
 * Parse `body` (a slice of ev->original, or of the arena) as one Percona
 * audit record.  Accepts the bare JSON record (FILE handler, with optional
 * trailing ',' of the JSONL array form) and the audit_log_filter syslog form
 * "TAG: {#012 ...".  Returns 0 (ev filled, maybe partial), or TG_ENOTMINE
 * when the body is not a Percona record; a record that looks like one but
 * cannot be read at all is left unparsed with the reason in parse.error
 * (and 0 is returned).
 */
int tg_percona_parse(struct tg_event *ev, struct tg_str body);

/* Cheap test: could `body` be a Percona record (starts like one)? */
bool tg_percona_claims(struct tg_str body);

/* The parts of the server-built "priv_user[user] @ host [ip]" string. */
struct tg_mysql_user {
    struct tg_str priv, user, host, ip; /* slices of the input; empty when empty */
};

/*
 * Split "priv_user[user] @ host [ip]" (MySQL make_user_name; host may be
 * empty, giving two spaces before '[').  Returns 0, TG_ETRUNC when the string
 * was cut (the server truncates it at 511 bytes: the parts read so far are
 * filled, the rest absent), or TG_EINVAL when it is not of that form.
 */
int tg_percona_split_user(struct tg_str s, struct tg_mysql_user *out);

#endif
