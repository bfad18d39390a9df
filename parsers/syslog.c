/*
 * syslog.c - syslog envelope parser.  See syslog.h.
 *
 * Accepted (formats.md section 3):
 *   <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]        RFC 5424
 *   [<PRI>]RFC3339-TIMESTAMP HOST TAG MSG                   rsyslog ForwardFormat / FileFormat
 *   [<PRI>]Mmm dd hh:mm:ss HOST TAG MSG                     RFC 3164 / TraditionalFormat
 *   <PRI>TAG MSG                                            what a program writes to /dev/log
 * TAG is "app[pid]:" or "app:", possibly cut at 32 characters by rsyslog
 * (then without the colon): it ends at the first space.  A HOST word that
 * ends in ':' is the TAG of a header without hostname.  One trailing LF is
 * stripped from MSG.  A record without PRI must start with a timestamp to
 * count as syslog, so bare snoopy lines and JSON are left to the body parsers.
 * RFC 5424 STRUCTURED-DATA is checked for well-formedness (quoted values may
 * hold escaped '"', '\\' and ']') and skipped: the event has no field for it
 * and it stays in event.original.
 */
#include <stdbool.h>
#include <string.h>

#include "core/errors.h"
#include "core/timeutil.h"
#include "parsers/syslog.h"

static size_t tg_sl_word(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != ' ')
        i++;
    return i;
}

static struct tg_str tg_sl_nil(const char *p, size_t n)
{
    return n == 1 && p[0] == '-' ? TG_STR_NULL : tg_str_make(p, n);
}

/* Split TAG into appname/procid. */
static void tg_sl_tag(struct tg_event *ev, const char *t, size_t n)
{
    size_t end = n;
    if (end && t[end - 1] == ':')
        end--;
    const char *lb = memchr(t, '[', end);
    if (lb && end && t[end - 1] == ']') {
        ev->sl_appname = tg_str_make(t, (size_t)(lb - t));
        ev->sl_procid = tg_str_make(lb + 1, (size_t)(t + end - 1 - lb - 1));
    } else {
        ev->sl_appname = tg_str_make(t, end);
    }
    if (ev->sl_appname.len == 0)
        ev->sl_appname = TG_STR_NULL;
    if (ev->sl_procid.p && ev->sl_procid.len == 0)
        ev->sl_procid = TG_STR_NULL;
}

/* "app:" or "app[pid]:": a TAG, not a hostname (hostnames have no ':' at
 * the end; an IPv6 address does not end in ':'). */
static bool tg_sl_is_tag(const char *t, size_t n)
{
    return n >= 2 && t[n - 1] == ':';
}

static int tg_sl_5424(struct tg_event *ev, const char *p, size_t n)
{
    struct tg_str f[5];
    size_t i = 0;
    for (int k = 0; k < 5; k++) {
        size_t w = tg_sl_word(p + i, n - i);
        if (w == 0 || i + w >= n)
            return TG_ENOTMINE;
        f[k] = tg_str_make(p + i, w);
        i += w + 1;
    }
    struct tg_time ts;
    if (!tg_str_eq(f[0], "-")) {
        if (tg_time_parse_iso(f[0].p, f[0].len, &ts) != f[0].len)
            return TG_ENOTMINE;
        ev->sl_timestamp = ts;
        ev->sl_timestamp_text = f[0];
    }
    ev->sl_hostname = tg_sl_nil(f[1].p, f[1].len);
    ev->sl_appname = tg_sl_nil(f[2].p, f[2].len);
    ev->sl_procid = tg_sl_nil(f[3].p, f[3].len);
    ev->sl_msgid = tg_sl_nil(f[4].p, f[4].len);
    /* STRUCTURED-DATA: "-" or [..][..] with quoted values that may hold ']' */
    if (p[i] == '-') {
        i++;
    } else if (p[i] == '[') {
        int in_q = 0;
        while (i < n) {
            char c = p[i];
            if (in_q) {
                if (c == '\\' && i + 1 < n)
                    i++;
                else if (c == '"')
                    in_q = 0;
            } else if (c == '"') {
                in_q = 1;
            } else if (c == ']' && (i + 1 == n || p[i + 1] != '[')) {
                i++;
                break;
            }
            i++;
        }
        if (in_q || p[i - 1] != ']')
            return TG_ENOTMINE; /* unterminated SD-ELEMENT */
    } else {
        return TG_ENOTMINE;
    }
    if (i < n && p[i] == ' ')
        i++;
    if (n - i >= 3 && memcmp(p + i, "\xEF\xBB\xBF", 3) == 0)
        i += 3;
    ev->body = tg_str_make(p + i, n - i);
    return 0;
}

void tg_syslog_clear(struct tg_event *ev)
{
    ev->sl_hostname = ev->sl_appname = ev->sl_procid = ev->sl_msgid = TG_STR_NULL;
    ev->sl_timestamp_text = TG_STR_NULL;
    ev->sl_timestamp = TG_TIME_NONE;
    ev->sl_facility = ev->sl_severity = TG_NUM_NONE;
    ev->host_name = TG_STR_NULL;
    ev->body = ev->original;
}

int tg_syslog_parse(struct tg_event *ev)
{
    const char *p = ev->original.p;
    size_t n = ev->original.len, i = 0;
    int64_t pri = TG_NUM_NONE;
    if (n && p[n - 1] == '\n')
        n--;
    if (n > 2 && p[0] == '<') {
        size_t j = 1;
        int v = 0;
        while (j < n && j <= 4 && p[j] >= '0' && p[j] <= '9')
            v = v * 10 + (p[j++] - '0');
        if (j > 1 && j < n && p[j] == '>' && v <= 191) {
            pri = v;
            i = j + 1;
        }
    }
    if (pri != TG_NUM_NONE && n - i > 2 && p[i] == '1' && p[i + 1] == ' ') {
        if (tg_sl_5424(ev, p + i + 2, n - i - 2) != 0) {
            tg_syslog_clear(ev);
            return TG_ENOTMINE;
        }
    } else {
        struct tg_time ts;
        size_t tl = tg_time_parse_iso(p + i, n - i, &ts);
        if (!tl)
            tl = tg_time_parse_bsd(p + i, n - i, ev->ingested.sec, &ts);
        if (tl && (i + tl >= n || p[i + tl] != ' '))
            return TG_ENOTMINE;
        if (!tl && (pri == TG_NUM_NONE || !tg_sl_is_tag(p + i, tg_sl_word(p + i, n - i))))
            return TG_ENOTMINE;
        if (tl) {
            ev->sl_timestamp = ts;
            ev->sl_timestamp_text = tg_str_make(p + i, tl);
            i += tl + 1;
            size_t hl = tg_sl_word(p + i, n - i);
            if (hl == 0) {
                tg_syslog_clear(ev);
                return TG_ENOTMINE;
            }
            if (!tg_sl_is_tag(p + i, hl)) {
                ev->sl_hostname = tg_str_make(p + i, hl);
                i += hl;
                if (i < n)
                    i++;
            }
        }
        size_t tagl = tg_sl_word(p + i, n - i);
        tg_sl_tag(ev, p + i, tagl);
        i += tagl;
        if (i < n)
            i++; /* the one space before MSG */
        ev->body = tg_str_make(p + i, n - i);
    }
    if (pri != TG_NUM_NONE) {
        ev->sl_facility = pri / 8;
        ev->sl_severity = pri % 8;
    }
    ev->host_name = ev->sl_hostname;
    return 0;
}
