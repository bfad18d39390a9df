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
 * A HOST or TAG word holding '=' means the record is not syslog but a
 * key=value line that starts with a timestamp (snoopy's "%{datetime}
 * host=%{hostname} pid=%{pid} ..." formats): no hostname or appname is
 * invented from it.  RFC 5424 headers, unambiguous by their "<PRI>1 ", are
 * taken as the RFC's grammar allows (PRINTUSASCII, '=' included).
 * RFC 5424 STRUCTURED-DATA is checked against the RFC's grammar (quoted
 * values may hold escaped '"', '\\' and ']') and becomes the ECS object
 * log.syslog.structured_data; malformed SD means the record is not RFC 5424.
 */
#include <stdbool.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
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

#define TG_SL_NOT_NAME ((size_t)-1)

/* Length of the HOST or TAG word at p, or TG_SL_NOT_NAME when it holds '=':
 * rsyslog's RFC 3164 parser takes only letters, digits, '.', '_' and '-' as
 * a hostname, a TAG is a program name, so such a word is a key=value field
 * of another format. */
static size_t tg_sl_name(const char *p, size_t n)
{
    size_t i = 0;
    for (; i < n && p[i] != ' '; i++)
        if (p[i] == '=')
            return TG_SL_NOT_NAME;
    return i;
}

#define TG_SL_SD_NAMES 32 /* SD-IDs per message, PARAM-NAMEs per element, kept */

static bool tg_sl_sd_name_char(char c)
{
    return c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"';
}

/* Remember `name` in seen[]; false when it is a duplicate (or seen[] is full). */
static bool tg_sl_sd_first(struct tg_str *seen, size_t *nseen, struct tg_str name,
                           struct tg_event *ev)
{
    for (size_t k = 0; k < *nseen; k++)
        if (seen[k].len == name.len && memcmp(seen[k].p, name.p, name.len) == 0) {
            tg_event_partial(ev, "RFC 5424 structured data repeats a name; the first is kept");
            return false;
        }
    if (*nseen == TG_SL_SD_NAMES) {
        tg_event_partial(ev, "RFC 5424 structured data has more than 32 names; the rest dropped");
        return false;
    }
    seen[(*nseen)++] = name;
    return true;
}

/*
 * STRUCTURED-DATA at p (p[0] == '['): 1*("[" SD-ID *(SP NAME="VALUE") "]"),
 * VALUE escaping '"', '\\' and ']' with '\\'.  Builds the ECS
 * log.syslog.structured_data object ({"SD-ID":{"NAME":"VALUE",...},...}) as
 * JSON text in the arena.  Returns the bytes consumed, 0 when malformed.
 * Duplicate names (JSON objects must not repeat keys) keep the first.
 */
static size_t tg_sl_sd(struct tg_event *ev, const char *p, size_t n, struct tg_str *json)
{
    struct tg_buf b = TG_BUF_INIT, val = TG_BUF_INIT;
    struct tg_str ids[TG_SL_SD_NAMES], names[TG_SL_SD_NAMES];
    size_t nids = 0, i = 0, used = 0;
    tg_buf_putc(&b, '{');
    while (i < n && p[i] == '[') {
        size_t id0 = ++i, nnames = 0;
        while (i < n && tg_sl_sd_name_char(p[i]))
            i++;
        if (i == id0 || i >= n || (p[i] != ' ' && p[i] != ']'))
            goto out;
        bool keep = tg_sl_sd_first(ids, &nids, tg_str_make(p + id0, i - id0), ev);
        if (keep) {
            if (b.len > 1)
                tg_buf_putc(&b, ',');
            tg_json_str(&b, p + id0, i - id0, NULL);
            tg_buf_append(&b, ":{", 2);
        }
        size_t params = 0;
        while (p[i] == ' ') {
            size_t n0 = ++i;
            while (i < n && tg_sl_sd_name_char(p[i]))
                i++;
            if (i == n0 || i + 1 >= n || p[i] != '=' || p[i + 1] != '"')
                goto out;
            struct tg_str name = tg_str_make(p + n0, i - n0);
            i += 2;
            val.len = 0;
            while (i < n && p[i] != '"') {
                if (p[i] == '\\' && i + 1 < n &&
                    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
                    i++;
                tg_buf_putc(&val, p[i++]);
            }
            if (i + 1 >= n) /* no closing quote, or nothing after it */
                goto out;
            i++;
            if (keep && tg_sl_sd_first(names, &nnames, name, ev)) {
                if (params++)
                    tg_buf_putc(&b, ',');
                tg_json_str(&b, name.p, name.len, NULL);
                tg_buf_putc(&b, ':');
                tg_json_str(&b, val.data ? val.data : "", val.len, NULL);
            }
        }
        if (i >= n || p[i] != ']')
            goto out;
        i++;
        if (keep)
            tg_buf_putc(&b, '}');
    }
    tg_buf_putc(&b, '}');
    *json = tg_event_strdup(ev, b.data, b.len);
    used = i;
out:
    tg_buf_free(&b);
    tg_buf_free(&val);
    return used;
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
    /* STRUCTURED-DATA: "-" or [..][..] */
    if (p[i] == '-') {
        i++;
    } else if (p[i] == '[') {
        size_t used = tg_sl_sd(ev, p + i, n - i, &ev->sl_structured_data);
        if (!used)
            return TG_ENOTMINE; /* malformed SD: not RFC 5424 */
        i += used;
    } else {
        return TG_ENOTMINE;
    }
    if (i < n && p[i] != ' ')
        return TG_ENOTMINE;
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
    ev->sl_structured_data = TG_STR_NULL;
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
            size_t hl = tg_sl_name(p + i, n - i);
            if (hl == 0 || hl == TG_SL_NOT_NAME) {
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
        size_t tagl = tg_sl_name(p + i, n - i);
        if (tagl == TG_SL_NOT_NAME) {
            tg_syslog_clear(ev);
            return TG_ENOTMINE;
        }
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
