/*
 * percona.c - Percona Server audit log JSON.  See percona.h.
 *
 * Two schemas (formats.md section 1):
 *  - the audit_log plugin (5.7/8.0): {"audit_record":{"name":...,...}}, one
 *    flat object per record, fixed key order, `status` a number and every
 *    other value a string.  json-c reads it; when json-c cannot (rsyslog cut
 *    the record at maxMessageSize, 8 KiB by default) a small scanner for
 *    this flat layout salvages every complete "key":value pair before the
 *    cut, and the event is partial.
 *  - the audit_log_filter component (8.0.30+/8.4): {"timestamp":...,
 *    "class":...,"event":...,"account":{...},"login":{...},...}, pretty
 *    printed over several lines (the file framer joins them) or one object
 *    per line (JSONL); over syslog it arrives as "audit-filter: {#012 ...",
 *    whose #ooo escapes sit between tokens and are undone before parsing.
 *
 * Event mapping (SPEC.md section 3).  event.action: Connect -> connect,
 * Quit -> disconnect, Change user -> change_user, Audit -> audit_start,
 * NoAudit -> audit_stop, any other record name in lower snake case (Query ->
 * query, Init DB -> init_db, Close stmt -> close_stmt, ...).  ECS
 * categorization, chosen from the ECS allowed values:
 *   connect, change_user     ["authentication","session"] / ["start"]
 *                            (change_user re-authenticates and starts a new
 *                            user session on the same connection)
 *   disconnect               ["session"] / ["end"]
 *   pre_authenticate, class authentication
 *                            ["authentication"] / ["info"]
 *   statements and commands  ["database"] / ["access"]
 *   audit_start, audit_stop and other server notices
 *                            ["database"] / ["info"]
 * `status` 0 -> outcome success, else failure (absent: unknown); a string
 * holding a number is read as that number, any other value leaves the
 * outcome unknown and the event partial, as does a missing or unreadable
 * timestamp (@timestamp is then the receive time).  user.name
 * is the login user (`user` of a connection record, the bracketed [user] of
 * a statement's "priv_user[user] @ host [ip]"), or the matched account when
 * the login user is empty; user.effective.name is the matched account
 * (priv_user), whose privileges apply.  source.ip / source.address are the
 * client's ip / host.  Empty strings mean "not carried" and stay absent.
 *
 * Ownership: every string put in the event is copied into its arena; json-c
 * objects are freed before returning.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/errors.h"
#include "core/timeutil.h"
#include "parsers/percona.h"

/* ------------------------------------------------------ plugin (legacy) */

enum tg_pkey {
    PK_NAME = 0,
    PK_TIMESTAMP,
    PK_STATUS, /* only when not a JSON number: the string's text (tolerated) */
    PK_CONNECTION_ID,
    PK_USER,
    PK_PRIV_USER,
    PK_OS_LOGIN,
    PK_HOST,
    PK_IP,
    PK_DB,
    PK_COMMAND_CLASS,
    PK_SQLTEXT,
    PK_OS_USER,
    PK_COUNT
};

static const char *const tg_pkeys[PK_COUNT] = {
    "name", "timestamp", "status", "connection_id", "user",    "priv_user", "os_login",
    "host", "ip",        "db",     "command_class", "sqltext", "os_user"};

struct tg_precord {
    struct tg_str v[PK_COUNT]; /* arena copies; p == NULL: absent */
    int64_t status;            /* a JSON number; TG_NUM_NONE: see v[PK_STATUS] */
    bool is_general;           /* has command_class: a statement, not a connection */
};

static int tg_pkey_find(const char *k, size_t n)
{
    for (int i = 0; i < PK_COUNT; i++)
        if (strlen(tg_pkeys[i]) == n && memcmp(tg_pkeys[i], k, n) == 0)
            return i;
    return -1;
}

static const char *const tg_cat_auth[] = {"authentication", "session", NULL};
static const char *const tg_cat_session[] = {"session", NULL};
static const char *const tg_cat_authinfo[] = {"authentication", NULL};
static const char *const tg_cat_db[] = {"database", NULL};
static const char *const tg_type_start[] = {"start", NULL};
static const char *const tg_type_end[] = {"end", NULL};
static const char *const tg_type_info[] = {"info", NULL};
static const char *const tg_type_access[] = {"access", NULL};

static void tg_pset_cat(struct tg_event *ev, const char *const *cat, const char *const *type)
{
    for (int i = 0; i <= TG_EVENT_MAX_CATEGORY; i++)
        ev->category[i] = ev->type[i] = NULL;
    for (int i = 0; cat[i] && i < TG_EVENT_MAX_CATEGORY; i++)
        ev->category[i] = cat[i];
    for (int i = 0; type[i] && i < TG_EVENT_MAX_CATEGORY; i++)
        ev->type[i] = type[i];
}

/* event.action and categorization from an action name already in snake case. */
static void tg_paction(struct tg_event *ev, struct tg_str action, bool notice)
{
    ev->action = action;
    if (tg_str_eq(action, "connect") || tg_str_eq(action, "change_user"))
        tg_pset_cat(ev, tg_cat_auth, tg_type_start);
    else if (tg_str_eq(action, "disconnect"))
        tg_pset_cat(ev, tg_cat_session, tg_type_end);
    else if (tg_str_eq(action, "pre_authenticate"))
        tg_pset_cat(ev, tg_cat_authinfo, tg_type_info);
    else if (notice || tg_str_eq(action, "audit_start") || tg_str_eq(action, "audit_stop"))
        tg_pset_cat(ev, tg_cat_db, tg_type_info);
    else
        tg_pset_cat(ev, tg_cat_db, tg_type_access);
}

/* "Init DB" -> "init_db" (arena). */
static struct tg_str tg_psnake(struct tg_event *ev, struct tg_str s)
{
    char *d = tg_arena_alloc(&ev->arena, s.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == ' ' || c == '-')
            c = '_';
        d[n++] = c;
    }
    d[n] = '\0';
    return tg_str_make(d, n);
}

static struct tg_str tg_pne(struct tg_str s) /* non-empty or absent */
{
    return s.p && s.len ? s : TG_STR_NULL;
}

/*
 * `status`: the JSON number Percona writes, else `text`, the value as text
 * when it was not a JSON number: a string holding [-]digits is taken as the
 * number (tolerated), anything else leaves db.status absent and the outcome
 * unknown, with a reason.
 */
static void tg_pstatus(struct tg_event *ev, int64_t status, struct tg_str text)
{
    if (status == TG_NUM_NONE && text.p) {
        size_t neg = text.len && text.p[0] == '-', i = neg;
        while (i < text.len && text.p[i] >= '0' && text.p[i] <= '9')
            i++;
        if (i == neg || i != text.len || i - neg > 18) {
            tg_event_partial(ev, "Percona status is not a number; outcome unknown");
            return;
        }
        status = 0;
        for (size_t k = neg; k < text.len; k++)
            status = status * 10 + (text.p[k] - '0');
        if (neg)
            status = -status;
    }
    if (status == TG_NUM_NONE)
        return;
    ev->db_status = status;
    ev->outcome = status == 0 ? TG_OUTCOME_SUCCESS : TG_OUTCOME_FAILURE;
}

static void tg_ptime(struct tg_event *ev, struct tg_str ts)
{
    struct tg_time t;
    if (!ts.p)
        tg_event_partial(ev, "Percona record has no timestamp; receive time used");
    else if (tg_time_parse_iso(ts.p, ts.len, &t) == ts.len)
        ev->timestamp = t;
    else
        tg_event_partial(ev, "Percona timestamp not understood; receive time used");
}

int tg_percona_split_user(struct tg_str s, struct tg_mysql_user *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = s.p, *e = s.p + s.len;
    const char *lb = s.len ? memchr(p, '[', s.len) : NULL;
    if (!lb)
        return TG_EINVAL;
    out->priv = tg_str_make(p, (size_t)(lb - p));
    const char *at = NULL;
    for (const char *q = lb + 1; q + 4 <= e; q++)
        if (memcmp(q, "] @ ", 4) == 0) {
            at = q;
            break;
        }
    if (!at) { /* cut inside the user part */
        out->user = tg_str_make(lb + 1, (size_t)(e - lb - 1));
        return TG_ETRUNC;
    }
    out->user = tg_str_make(lb + 1, (size_t)(at - lb - 1));
    const char *h = at + 4;
    const char *ipb = NULL; /* the last " [" */
    for (const char *q = e - 2; q >= h; q--)
        if (q[0] == ' ' && q[1] == '[') {
            ipb = q;
            break;
        }
    if (!ipb || e[-1] != ']') {
        out->host = tg_str_make(h, (size_t)((ipb ? ipb : e) - h));
        return TG_ETRUNC;
    }
    out->host = tg_str_make(h, (size_t)(ipb - h));
    out->ip = tg_str_make(ipb + 2, (size_t)(e - 1 - ipb - 2));
    return 0;
}

static void tg_plegacy_fill(struct tg_event *ev, struct tg_precord *r)
{
    const struct tg_str *v = r->v;
    ev->dataset = TG_DS_PERCONA;
    if (ev->parse_status == TG_PARSE_UNPARSED)
        ev->parse_status = TG_PARSE_OK;
    struct tg_str name = v[PK_NAME], action;
    if (!name.p) {
        tg_event_partial(ev, "Percona record has no name");
    } else {
        if (tg_str_eq(name, "Connect"))
            action = TG_STR_LIT("connect");
        else if (tg_str_eq(name, "Quit"))
            action = TG_STR_LIT("disconnect");
        else if (tg_str_eq(name, "Change user"))
            action = TG_STR_LIT("change_user");
        else if (tg_str_eq(name, "Audit"))
            action = TG_STR_LIT("audit_start");
        else if (tg_str_eq(name, "NoAudit"))
            action = TG_STR_LIT("audit_stop");
        else
            action = tg_psnake(ev, name);
        tg_paction(ev, action, false);
    }
    tg_ptime(ev, v[PK_TIMESTAMP]);
    ev->db_connection_id = tg_pne(v[PK_CONNECTION_ID]);
    tg_pstatus(ev, r->status, r->v[PK_STATUS]);
    ev->db_name = tg_pne(v[PK_DB]);
    ev->db_statement = tg_pne(v[PK_SQLTEXT]);
    ev->db_operation = tg_pne(v[PK_COMMAND_CLASS]);
    ev->source_address = tg_pne(v[PK_HOST]);
    ev->source_ip = tg_pne(v[PK_IP]);
    if (r->is_general) {
        ev->db_os_user = tg_pne(v[PK_OS_USER]);
        struct tg_mysql_user u;
        if (v[PK_USER].p && v[PK_USER].len) {
            int rc = tg_percona_split_user(v[PK_USER], &u);
            if (rc == TG_EINVAL) {
                tg_event_partial(ev, "Percona user is not \"priv_user[user] @ host [ip]\"");
            } else {
                if (rc == TG_ETRUNC)
                    tg_event_partial(ev, "Percona user string was cut by the server (511 bytes)");
                ev->user_name = tg_pne(u.user).p ? u.user : tg_pne(u.priv);
                ev->user_eff_name = tg_pne(u.priv);
                if (!ev->source_address.p)
                    ev->source_address = tg_pne(u.host);
                if (!ev->source_ip.p)
                    ev->source_ip = tg_pne(u.ip);
            }
        }
    } else {
        ev->db_os_user = tg_pne(v[PK_OS_LOGIN]);
        ev->user_name = tg_pne(v[PK_USER]).p ? v[PK_USER] : tg_pne(v[PK_PRIV_USER]);
        ev->user_eff_name = tg_pne(v[PK_PRIV_USER]);
    }
}

/* ------------------------------------------- salvage scanner (flat JSON) */

static const char *tg_pws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int tg_phex4(const char *p, const char *e, unsigned *out)
{
    unsigned v = 0;
    if (e - p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 1;
}

static size_t tg_putf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | cp >> 12);
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | cp >> 18);
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Decode the JSON string whose opening quote is at p[-1] into the arena.
 * Returns 1 (complete; *next after the closing quote), 0 (input ended
 * inside it: *out holds what was decoded), -1 (malformed).
 */
static int tg_pjstr(struct tg_event *ev, const char *p, const char *e, struct tg_str *out,
                    const char **next)
{
    char *d = tg_arena_alloc(&ev->arena, (size_t)(e - p) + 1), *w = d;
    int rc = 0;
    while (p < e) {
        char c = *p;
        if (c == '"') {
            p++;
            rc = 1;
            break;
        }
        if (c != '\\') {
            *w++ = c;
            p++;
            continue;
        }
        if (e - p < 2)
            break;
        char x = p[1];
        p += 2;
        switch (x) {
        case '"':
            *w++ = '"';
            break;
        case '\\':
            *w++ = '\\';
            break;
        case '/':
            *w++ = '/';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            int h = tg_phex4(p, e, &cp);
            if (h <= 0) {
                rc = h;
                goto done;
            }
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                tg_phex4(p + 2, e, &lo) == 1 && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd; /* lone surrogate */
            }
            w += tg_putf8(w, cp);
            break;
        }
        default:
            rc = -1;
            goto done;
        }
    }
done:
    *w = '\0';
    *out = tg_str_make(d, (size_t)(w - d));
    *next = p;
    return rc;
}

/*
 * Read {"audit_record":{ "k":v, ... }} up to the cut.  Returns 1 when the
 * record was complete, 0 when cut, -1 when malformed (the pairs before the
 * problem are kept); *cut_key names the field the input ended in.
 */
static int tg_psalvage(struct tg_event *ev, const char *p, const char *e, struct tg_precord *r,
                       const char **cut_key)
{
    static const char head[] = "{\"audit_record\":{";
    *cut_key = NULL;
    p = tg_pws(p, e);
    if ((size_t)(e - p) < sizeof(head) - 1 || memcmp(p, head, sizeof(head) - 1) != 0)
        return -1;
    p += sizeof(head) - 1;
    for (;;) {
        p = tg_pws(p, e);
        if (p == e)
            return 0;
        if (*p == '}')
            return 1;
        if (*p != '"')
            return -1;
        struct tg_str key, val;
        const char *next;
        int rc = tg_pjstr(ev, p + 1, e, &key, &next);
        if (rc <= 0)
            return rc;
        p = tg_pws(next, e);
        if (p == e)
            return 0;
        if (*p++ != ':')
            return -1;
        p = tg_pws(p, e);
        if (p == e)
            return 0;
        int k = tg_pkey_find(key.p, key.len);
        if (*p == '"') {
            rc = tg_pjstr(ev, p + 1, e, &val, &next);
            if (rc < 0)
                return -1;
            if (k >= 0 && (rc == 1 || k == PK_SQLTEXT)) /* a cut statement is still evidence */
                r->v[k] = val;
            if (rc == 0) {
                *cut_key = k >= 0 ? tg_pkeys[k] : "an unknown field";
                return 0;
            }
            p = next;
        } else {
            /* a number: [-]digits (status is the only one the plugin writes) */
            const char *q = p + (*p == '-');
            while (q < e && *q >= '0' && *q <= '9')
                q++;
            if (q == e)
                return 0;
            if (q == p + (*p == '-'))
                return -1;
            if (k == PK_STATUS) {
                int64_t s = 0;
                for (const char *c = p + (*p == '-'); c < q && s < (int64_t)1 << 40; c++)
                    s = s * 10 + (*c - '0');
                r->status = *p == '-' ? -s : s;
            }
            p = q;
        }
        p = tg_pws(p, e);
        if (p == e)
            return 0;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return -1;
    }
}

/*
 * The plugin's own layout, read without json-c: exactly
 * {"audit_record":{"key":"string" or integer, ...}} and a trailer, every
 * known key once, the strings without \u escapes (the other escapes decode
 * as json-c decodes them), integers of at most 15 digits.  For such a text
 * the record is the one json-c's tree gives (tg_plegacy_from_json); for
 * anything else false, and json-c reads it.  json-c's tree cost a malloc
 * per member and a locale switch per record: about 2 us of a record's 2.6.
 */
static bool tg_ptrailer_ok(const char *p, const char *e);

static bool tg_pflat(struct tg_event *ev, const char *p, const char *e, struct tg_precord *r)
{
    static const char head[] = "{\"audit_record\":{";
    p = tg_pws(p, e);
    if ((size_t)(e - p) < sizeof(head) - 1 || memcmp(p, head, sizeof(head) - 1) != 0)
        return false;
    p += sizeof(head) - 1;
    uint32_t seen = 0;
    for (bool first = true;; first = false) {
        p = tg_pws(p, e);
        if (p < e && *p == '}' && first)
            break;
        if (p == e || *p != '"')
            return false;
        struct tg_str key, val;
        const char *next;
        if (tg_pjstr(ev, p + 1, e, &key, &next) != 1)
            return false;
        p = tg_pws(next, e);
        if (p == e || *p++ != ':')
            return false;
        p = tg_pws(p, e);
        int k = tg_pkey_find(key.p, key.len);
        if (k >= 0 && (seen & (1u << k)))
            return false; /* a repeated key: json-c's last one wins; leave it to json-c */
        if (k >= 0)
            seen |= 1u << k;
        if (p < e && *p == '"') {
            const char *q = p + 1;
            while (q < e && *q != '"') {
                if (*q == '\\' && (q + 1 == e || q[1] == 'u'))
                    return false;
                q += *q == '\\' ? 2 : 1;
            }
            if (tg_pjstr(ev, p + 1, e, &val, &next) != 1)
                return false;
            if (k >= 0)
                r->v[k] = val;
            p = next;
        } else {
            const char *q = p + (p < e && *p == '-');
            const char *d = q;
            while (q < e && *q >= '0' && *q <= '9')
                q++;
            if (q == d || q - d > 15 || (q < e && (*q == '.' || *q == 'e' || *q == 'E')))
                return false;
            if (k == PK_STATUS) {
                int64_t v = 0;
                for (const char *c = d; c < q; c++)
                    v = v * 10 + (*c - '0');
                r->status = *p == '-' ? -v : v;
            } else if (k >= 0) {
                r->v[k] = TG_STR_NULL; /* json-c: not a string, absent */
            }
            p = q;
        }
        p = tg_pws(p, e);
        if (p < e && *p == ',')
            p++;
        else if (p < e && *p == '}')
            break;
        else
            return false;
    }
    p = tg_pws(p + 1, e);
    return p < e && *p == '}' && tg_ptrailer_ok(p + 1, e);
}

/* ------------------------------------------------------------- json-c */

static struct tg_str tg_jstr(struct tg_event *ev, json_object *o)
{
    if (!o || !json_object_is_type(o, json_type_string))
        return TG_STR_NULL;
    return tg_event_strdup(ev, json_object_get_string(o), (size_t)json_object_get_string_len(o));
}

static json_object *tg_jget(json_object *o, const char *k1, const char *k2)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k1, &v))
        return NULL;
    if (k2 && (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, k2, &v)))
        return NULL;
    return v;
}

/* A `status` value (present, maybe null): a number into *num, anything else
 * as text into *text, for tg_pstatus. */
static void tg_jstatus(struct tg_event *ev, json_object *o, int64_t *num, struct tg_str *text)
{
    if (json_object_is_type(o, json_type_int)) {
        *num = json_object_get_int64(o);
    } else if (json_object_is_type(o, json_type_string)) {
        *text = tg_jstr(ev, o);
    } else {
        const char *j = json_object_to_json_string(o);
        *text = tg_event_strdup(ev, j, strlen(j));
    }
}

/* The record of the legacy schema from json-c's tree. */
static void tg_plegacy_from_json(struct tg_event *ev, json_object *ar, struct tg_precord *r)
{
    json_object_object_foreach(ar, key, val)
    {
        int k = tg_pkey_find(key, strlen(key));
        if (k == PK_STATUS)
            tg_jstatus(ev, val, &r->status, &r->v[PK_STATUS]);
        else if (k >= 0)
            r->v[k] = tg_jstr(ev, val);
    }
}

/* audit_log_filter component record. */
static void tg_pfilter_fill(struct tg_event *ev, json_object *root)
{
    ev->dataset = TG_DS_PERCONA;
    if (ev->parse_status == TG_PARSE_UNPARSED)
        ev->parse_status = TG_PARSE_OK;
    struct tg_str cls = tg_jstr(ev, tg_jget(root, "class", NULL));
    struct tg_str evn = tg_jstr(ev, tg_jget(root, "event", NULL));
    struct tg_str cmd = tg_jstr(ev, tg_jget(root, "general_data", "command"));
    struct tg_str action = TG_STR_NULL;
    bool notice = false;
    if (tg_str_eq(cls, "audit")) {
        action = tg_str_eq(evn, "startup")    ? TG_STR_LIT("audit_start")
                 : tg_str_eq(evn, "shutdown") ? TG_STR_LIT("audit_stop")
                                              : evn;
        notice = true;
    } else if (tg_str_eq(cls, "general") && cmd.p && cmd.len) {
        action = tg_psnake(ev, cmd);
    } else if (tg_str_eq(cls, "table_access") && evn.p) {
        char *d = tg_arena_alloc(&ev->arena, evn.len + 7);
        memcpy(d, "table_", 6);
        memcpy(d + 6, evn.p, evn.len + 1);
        action = tg_str_make(d, evn.len + 6);
    } else if (evn.p && evn.len) {
        action = tg_psnake(ev, evn);
        notice = !(tg_str_eq(cls, "connection") || tg_str_eq(cls, "general") ||
                   tg_str_eq(cls, "query") || tg_str_eq(cls, "command") ||
                   tg_str_eq(cls, "stored_program"));
    } else if (cls.p) {
        action = cls;
        notice = true;
    }
    if (action.p)
        tg_paction(ev, action, notice);
    else
        tg_event_partial(ev, "Percona audit_log_filter record has no class/event");
    if (tg_str_eq(cls, "authentication"))
        tg_pset_cat(ev, tg_cat_authinfo, tg_type_info);

    tg_ptime(ev, tg_jstr(ev, tg_jget(root, "timestamp", NULL)));
    json_object *cid = tg_jget(root, "connection_id", NULL);
    if (cid && json_object_is_type(cid, json_type_int)) {
        char tmp[24];
        int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)json_object_get_int64(cid));
        ev->db_connection_id = tg_event_strdup(ev, tmp, (size_t)n);
    } else {
        ev->db_connection_id = tg_pne(tg_jstr(ev, cid));
    }
    struct tg_str acct = tg_pne(tg_jstr(ev, tg_jget(root, "account", "user")));
    struct tg_str login = tg_pne(tg_jstr(ev, tg_jget(root, "login", "user")));
    ev->user_name = login.p ? login : acct;
    ev->user_eff_name = acct;
    ev->source_ip = tg_pne(tg_jstr(ev, tg_jget(root, "login", "ip")));
    ev->db_os_user = tg_pne(tg_jstr(ev, tg_jget(root, "login", "os")));

    static const char *const sections[] = {"connection_data",   "general_data", "query_data",
                                           "table_access_data", "command_data", NULL};
    int64_t status = TG_NUM_NONE;
    struct tg_str status_text = TG_STR_NULL;
    for (int i = 0; sections[i]; i++) {
        json_object *sec = tg_jget(root, sections[i], NULL), *st;
        if (!sec)
            continue;
        if (!ev->db_name.p)
            ev->db_name = tg_pne(tg_jstr(ev, tg_jget(sec, "db", NULL)));
        if (!ev->db_statement.p)
            ev->db_statement = tg_pne(tg_jstr(ev, tg_jget(sec, "query", NULL)));
        if (!ev->db_operation.p)
            ev->db_operation = tg_pne(tg_jstr(ev, tg_jget(sec, "sql_command", NULL)));
        if (!ev->db_connection_type.p)
            ev->db_connection_type = tg_pne(tg_jstr(ev, tg_jget(sec, "connection_type", NULL)));
        if (status == TG_NUM_NONE && !status_text.p &&
            json_object_object_get_ex(sec, "status", &st))
            tg_jstatus(ev, st, &status, &status_text);
    }
    tg_pstatus(ev, status, status_text);
}

/* ------------------------------------------------------------- entry */

/* Length of "TAG:" + spaces before '{' in the filter's syslog form, or 0. */
static size_t tg_ptag(struct tg_str b)
{
    size_t i = 0;
    while (i < b.len && i < 64 &&
           ((b.p[i] >= 'a' && b.p[i] <= 'z') || (b.p[i] >= 'A' && b.p[i] <= 'Z') ||
            (b.p[i] >= '0' && b.p[i] <= '9') || b.p[i] == '-' || b.p[i] == '_' || b.p[i] == '.'))
        i++;
    if (i == 0 || i >= b.len || b.p[i] != ':')
        return 0;
    i++;
    while (i < b.len && b.p[i] == ' ')
        i++;
    return i < b.len && b.p[i] == '{' ? i : 0;
}

bool tg_percona_claims(struct tg_str b)
{
    size_t i = 0;
    while (i < b.len && (b.p[i] == ' ' || b.p[i] == '\t'))
        i++;
    if (i < b.len && b.p[i] == '{')
        return true;
    return tg_ptag(b) != 0;
}

/* Copy b into the arena undoing rsyslog's #ooo escapes outside strings. */
static struct tg_str tg_punescape(struct tg_event *ev, struct tg_str b)
{
    char *d = tg_arena_alloc(&ev->arena, b.len + 1), *w = d;
    bool in_str = false;
    for (size_t i = 0; i < b.len; i++) {
        char c = b.p[i];
        if (in_str) {
            if (c == '\\' && i + 1 < b.len) {
                *w++ = c;
                c = b.p[++i];
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '#' && i + 3 < b.len && b.p[i + 1] == '0' && b.p[i + 2] >= '0' &&
                   b.p[i + 2] <= '3' && b.p[i + 3] >= '0' && b.p[i + 3] <= '7') {
            c = (char)((b.p[i + 2] - '0') * 8 + (b.p[i + 3] - '0'));
            i += 3;
        }
        *w++ = c;
    }
    *w = '\0';
    return tg_str_make(d, (size_t)(w - d));
}

static bool tg_ptrailer_ok(const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ',')
            return false;
    return true;
}

/* One json-c tokener per thread, reset per record: creating one per record
 * was a tenth of the parse time. */
static pthread_key_t tg_tok_key;
static pthread_once_t tg_tok_once = PTHREAD_ONCE_INIT;

static void tg_tok_free(void *tok)
{
    json_tokener_free(tok);
}

static void tg_tok_key_init(void)
{
    pthread_key_create(&tg_tok_key, tg_tok_free);
}

static struct json_tokener *tg_tokener(void)
{
    pthread_once(&tg_tok_once, tg_tok_key_init);
    struct json_tokener *tok = pthread_getspecific(tg_tok_key);
    if (!tok) {
        tok = json_tokener_new();
        if (!tok)
            abort(); /* out of memory, as tg_xmalloc */
        pthread_setspecific(tg_tok_key, tok);
    } else {
        json_tokener_reset(tok);
    }
    return tok;
}

int tg_percona_parse(struct tg_event *ev, struct tg_str body)
{
    if (!tg_percona_claims(body))
        return TG_ENOTMINE;
    size_t tag = tg_ptag(body);
    struct tg_str js = body;
    if (tag) {
        js = tg_str_make(body.p + tag, body.len - tag);
        if (memchr(js.p, '#', js.len))
            js = tg_punescape(ev, js);
    }
    struct tg_precord flat = {.status = TG_NUM_NONE};
    if (tg_pflat(ev, js.p, js.p + js.len, &flat)) {
        flat.is_general = flat.v[PK_COMMAND_CLASS].p != NULL;
        tg_plegacy_fill(ev, &flat);
        return 0;
    }
    struct json_tokener *tok = tg_tokener();
    json_object *root = json_tokener_parse_ex(tok, js.p, (int)js.len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (root && !tg_ptrailer_ok(js.p + end, js.p + js.len)) {
        json_object_put(root);
        root = NULL;
        jerr = json_tokener_error_parse_unexpected;
    }
    json_object *ar = tg_jget(root, "audit_record", NULL);
    int rc = 0;
    if (ar && json_object_is_type(ar, json_type_object)) {
        struct tg_precord r = {.status = TG_NUM_NONE};
        tg_plegacy_from_json(ev, ar, &r);
        r.is_general = r.v[PK_COMMAND_CLASS].p != NULL;
        tg_plegacy_fill(ev, &r);
    } else if (root && json_object_is_type(root, json_type_object) &&
               (tg_jget(root, "class", NULL) || tg_jget(root, "event", NULL))) {
        tg_pfilter_fill(ev, root);
    } else if (root) {
        rc = TG_ENOTMINE; /* JSON, but not an audit record */
    } else {
        /* not parseable: salvage the flat plugin layout, if it is that */
        struct tg_precord r = {.status = TG_NUM_NONE};
        const char *cut_key;
        int s = tg_psalvage(ev, js.p, js.p + js.len, &r, &cut_key);
        bool any = false;
        for (int k = 0; k < PK_COUNT; k++)
            any |= r.v[k].p != NULL;
        if (!any && jerr != json_tokener_continue)
            return TG_ENOTMINE; /* not JSON, or not ours */
        if (any) {
            r.is_general = r.v[PK_COMMAND_CLASS].p != NULL;
            tg_plegacy_fill(ev, &r);
        }
        tg_event_partial(ev, jerr == json_tokener_continue || s == 0
                                 ? "audit JSON is cut short (rsyslog maxMessageSize?)"
                                 : "audit JSON is malformed");
        if (any && cut_key) {
            static const char pre[] = "record ends inside field ";
            size_t kl = strlen(cut_key);
            char *m = tg_arena_alloc(&ev->arena, sizeof(pre) + kl);
            memcpy(m, pre, sizeof(pre) - 1);
            memcpy(m + sizeof(pre) - 1, cut_key, kl + 1);
            tg_event_partial(ev, m);
        }
        if (!any)
            ev->parse_status = TG_PARSE_UNPARSED;
    }
    if (root)
        json_object_put(root);
    return rc;
}
