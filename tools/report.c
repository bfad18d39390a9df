/*
 * report.c - `trailguard report`: one self-contained HTML page for an audit
 * of a time range of the file store.
 *
 * One pass, as export does: the store's chain is verified
 * (tools/store_verify.c) and the records it vouches for are tested against
 * the filters (tools/store_read.c) and counted as they come, so what the
 * page counts is exactly what was verified.  Counted: totals (events,
 * hosts, users, decisions, datasets), sudo use by user and host, denies by
 * user, host and reason, the top programs run, events per hour, and each
 * host's last event (the hosts that went silent: none in the last hour of
 * the range, or its last tenth if that is longer).  The page carries the
 * verification's result and the checkpoint the store was checked against.
 *
 * The page: inline CSS and an inline SVG chart, no script, no external
 * reference (it opens offline and prints as it shows: @media print).  Every
 * value from the store is HTML-escaped.  Numbers a test reads carry ids
 * (total-events, total-deny, total-sudo, verify-result).  Memory: the
 * groups (distinct users x hosts, reasons, programs, hours, hosts).  Main
 * thread.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/mem.h"
#include "tools/commands.h"
#include "tools/count_by.h"
#include "tools/store_read.h"
#include "tools/store_verify.h"

const char tg_report_usage[] =
    "usage: trailguard report DIR --since T --until T [filters] --out report.html\n"
    "                         [--title TEXT] [--key FILE] [--checkpoint FILE [--pubkey FILE]]\n"
    "\n"
    "Write one self-contained HTML page (no script, nothing fetched from the network;\n"
    "prints to PDF as it shows) for an audit of the events in DIR between --since\n"
    "and --until that match the filters: totals, sudo use by user and host, denies\n"
    "with their reasons, the top programs run, events per hour as a chart, the hosts\n"
    "that went silent (no event in the last hour of the range, or its last tenth),\n"
    "and the result of verifying the store's hash chain with the checkpoint it was\n"
    "checked against.  The store is verified in the same pass: only events the check\n"
    "vouches for are counted.\n"
    "\n" TG_FILTER_USAGE "  --out PATH       the page (replaced if it exists)\n"
    "  --title TEXT     the page's title (default: trailguard audit report)\n"
    "  -k, --key FILE   the store's hmac_key_file, to verify a keyed chain\n"
    "  -c, --checkpoint FILE  check the store against these checkpoints (as for\n"
    "                   `trailguard verify --checkpoint`)\n"
    "  -p, --pubkey FILE  the checkpoints' public key (signatures are checked)\n"
    "\n"
    "Exit status: 0 written and the store verified intact, 1 written but the chain\n"
    "is broken (the page says where; only the events before it are counted),\n"
    "2 usage error, 3 DIR cannot be read or PATH cannot be written.\n";

#define TG_REPORT_MAX_BARS 744 /* hours in a month; longer ranges are charted per day */

struct tg_report {
    struct tg_rctx rc;
    int i_user, i_host, i_decision, i_reason, i_exe, i_cmd, i_dataset;
    uint64_t events, deny, allow, na, sudo;
    struct tg_countby users, hosts, datasets, sudo_by, denies, programs;
    int64_t start_ns, step_ns;
    uint64_t *bars;
    size_t nbars;
    struct tg_buf key;
    /* each host's last event: open addressing by name */
    struct tg_last {
        char *host;
        int64_t ns;
    } * last;
    size_t nlast, caplast;
};

static uint64_t tg_name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The slot of host h (a new empty one when it is not there). */
static struct tg_last *tg_last_slot(struct tg_report *x, const char *h)
{
    if (2 * (x->nlast + 1) > x->caplast) {
        size_t cap = x->caplast ? 2 * x->caplast : 256;
        struct tg_last *old = x->last;
        size_t ocap = x->caplast;
        x->last = tg_xcalloc(cap, sizeof(*x->last));
        x->caplast = cap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].host)
                *tg_last_slot(x, old[i].host) = old[i];
        free(old);
    }
    size_t j = tg_name_hash(h) & (x->caplast - 1);
    while (x->last[j].host && strcmp(x->last[j].host, h) != 0)
        j = (j + 1) & (x->caplast - 1);
    return &x->last[j];
}

/* The basename of the first word of s (NUL-terminated copy into out). */
static const char *tg_program(const char *s, char *out, size_t cap)
{
    if (!s)
        return NULL;
    while (*s == ' ')
        s++;
    size_t n = strcspn(s, " \t");
    const char *b = s;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/')
            b = s + i + 1;
    n -= (size_t)(b - s);
    if (n == 0)
        return NULL;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, b, n);
    out[n] = '\0';
    return out;
}

static void tg_report_count(struct tg_report *x, struct tg_countby *cb, const char *a,
                            const char *b, const char *c, int nvals)
{
    x->key.len = 0;
    tg_group_key_put(&x->key, a);
    if (nvals > 1)
        tg_group_key_put(&x->key, b);
    if (nvals > 2)
        tg_group_key_put(&x->key, c);
    tg_countby_add(cb, x->key.data, x->key.len, 1);
}

/* store_verify's on_record: a verified record; count it if it matches. */
static bool tg_report_record(void *arg, struct tg_str line, bool has_time, int64_t ns)
{
    (void)has_time;
    (void)ns;
    struct tg_report *x = arg;
    struct tg_record r;
    tg_record_init(&r, &x->rc, line);
    if (!tg_filter_match(&r))
        return true;
    x->events++;
    const char *user = tg_record_get(&r, x->i_user, NULL);
    const char *host = tg_record_get(&r, x->i_host, NULL);
    const char *decision = tg_record_get(&r, x->i_decision, NULL);
    const char *exe = tg_record_get(&r, x->i_exe, NULL);
    const char *cmd = tg_record_get(&r, x->i_cmd, NULL);
    char prog[128], prog2[128];
    const char *p = exe ? tg_program(exe, prog, sizeof(prog)) : tg_program(cmd, prog, sizeof(prog));
    tg_report_count(x, &x->users, user, NULL, NULL, 1);
    tg_report_count(x, &x->datasets, tg_record_get(&r, x->i_dataset, NULL), NULL, NULL, 1);
    if (p)
        tg_report_count(x, &x->programs, p, NULL, NULL, 1);
    if (decision && strcmp(decision, "deny") == 0) {
        x->deny++;
        tg_report_count(x, &x->denies, user, host, tg_record_get(&r, x->i_reason, NULL), 3);
    } else if (decision && strcmp(decision, "allow") == 0) {
        x->allow++;
    } else if (decision) {
        x->na++;
    }
    const char *first = tg_program(cmd, prog2, sizeof(prog2));
    if ((p && strcmp(p, "sudo") == 0) || (first && strcmp(first, "sudo") == 0)) {
        x->sudo++;
        tg_report_count(x, &x->sudo_by, user, host, NULL, 2);
    }
    tg_report_count(x, &x->hosts, host, NULL, NULL, 1);
    if (host && r.has_time) {
        struct tg_last *l = tg_last_slot(x, host);
        if (!l->host) {
            l->host = tg_xstrdup(host);
            l->ns = r.ns;
            x->nlast++;
        } else if (r.ns > l->ns) {
            l->ns = r.ns;
        }
    }
    if (r.has_time && r.ns >= x->start_ns) {
        uint64_t i = (uint64_t)((r.ns - x->start_ns) / x->step_ns);
        if (i < x->nbars)
            x->bars[i]++;
    }
    return true;
}

/* --- HTML */
static void tg_html(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static const char tg_report_css[] =
    "body{font:14px/1.45 'DejaVu Sans',Helvetica,Arial,sans-serif;color:#1d2733;margin:2em auto;"
    "max-width:1100px;padding:0 1em}"
    "h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em;"
    "border-bottom:2px solid #d6dde6;padding-bottom:.2em}"
    ".meta{color:#566270}table{border-collapse:collapse;margin:.3em 0;width:100%}"
    "th,td{border-bottom:1px solid #e3e8ee;padding:.25em .6em;text-align:left;"
    "vertical-align:top}th{background:#f2f5f8;font-weight:600}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".ok{background:#e6f4ea;border:1px solid #8cc79e}.bad{background:#fdecea;"
    "border:1px solid #e39a93}.box{padding:.7em 1em;border-radius:6px}"
    ".totals td{font-size:1.05em}.tiles{display:flex;flex-wrap:wrap;gap:.8em}"
    ".tile{border:1px solid #d6dde6;border-radius:6px;padding:.5em 1em;min-width:9em}"
    ".tile b{display:block;font-size:1.5em}.none{color:#566270;font-style:italic}"
    "svg{width:100%;height:auto}"
    "@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
    "table,svg,.box{break-inside:avoid}}";

static void tg_tile(FILE *f, const char *id, const char *label, uint64_t n)
{
    fprintf(f, "<div class=\"tile\"><b id=\"%s\">%" PRIu64 "</b>%s</div>\n", id, n, label);
}

/* A table of the biggest groups of cb: one column per title, then count. */
static void tg_group_table(FILE *f, struct tg_countby *cb, const char *const *titles, size_t ncols,
                           size_t limit, const char *none)
{
    size_t n;
    struct tg_group *g = tg_countby_sorted(cb, &n);
    if (n == 0) {
        fprintf(f, "<p class=\"none\">%s</p>\n", none);
        return;
    }
    struct tg_buf tmp = TG_BUF_INIT;
    fputs("<table><tr>", f);
    for (size_t k = 0; k < ncols; k++)
        fprintf(f, "<th>%s</th>", titles[k]);
    fputs("<th class=\"n\">events</th></tr>\n", f);
    for (size_t i = 0; i < n && i < limit; i++) {
        fputs("<tr>", f);
        for (size_t k = 0; k < ncols; k++) {
            const char *v = tg_group_value(&g[i], k, &tmp);
            fputs("<td>", f);
            tg_html(f, v ? v : "-");
            fputs("</td>", f);
        }
        fprintf(f, "<td class=\"n\">%" PRIu64 "</td></tr>\n", g[i].count);
    }
    fputs("</table>\n", f);
    if (n > limit)
        fprintf(f, "<p class=\"meta\">and %zu more</p>\n", n - limit);
    tg_buf_free(&tmp);
}

static void tg_ns_text(int64_t ns, char out[32])
{
    int64_t sec = ns / 1000000000 - (ns % 1000000000 < 0);
    tg_time_format(out, (struct tg_time){sec, 0, 0});
}

/* Events per hour (or day) as bars, with the day boundaries labelled. */
static void tg_chart(FILE *f, const struct tg_report *x)
{
    uint64_t max = 1;
    for (size_t i = 0; i < x->nbars; i++)
        if (x->bars[i] > max)
            max = x->bars[i];
    const double W = 1000, H = 220, L = 60, B = 30, T = 10;
    double bw = (W - L - 10) / (double)(x->nbars ? x->nbars : 1);
    fprintf(f,
            "<svg id=\"chart\" viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\" "
            "role=\"img\" aria-label=\"events per %s\">\n",
            W, H + B + T, x->step_ns == 3600000000000LL ? "hour" : "day");
    fprintf(f,
            "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#98a4b3\"/>\n"
            "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"end\">%" PRIu64
            "</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"end\">0</text>\n",
            L, T + H, W - 10, T + H, L - 6, T + 12, max, L - 6, T + H);
    for (size_t i = 0; i < x->nbars; i++) {
        double h = (double)x->bars[i] / (double)max * H;
        if (x->bars[i])
            fprintf(f,
                    "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                    "fill=\"#3d7cc9\"><title>%" PRIu64 "</title></rect>\n",
                    L + bw * (double)i, T + H - h, bw > 2 ? bw - 1 : bw, h, x->bars[i]);
        int64_t t = x->start_ns + (int64_t)i * x->step_ns;
        char ts[32];
        tg_ns_text(t, ts);
        bool hourly = x->step_ns == 3600000000000LL;
        size_t every = hourly ? (x->nbars > 48   ? 24
                                 : x->nbars > 12 ? 6
                                                 : 1)
                              : (x->nbars > 31 ? 7 : 1);
        bool day = !hourly || every == 24;
        if (i % every == 0)
            fprintf(f,
                    "<text x=\"%.2f\" y=\"%.0f\" font-size=\"11\" fill=\"#566270\">%.*s</text>\n",
                    L + bw * (double)i, T + H + 18, day ? 10 : 5, day ? ts : ts + 11);
    }
    fputs("</svg>\n", f);
}

/* The hosts whose last event is older than the silence threshold. */
static void tg_silent(FILE *f, struct tg_report *x, int64_t until_ns)
{
    int64_t now = (int64_t)time(NULL) * 1000000000;
    int64_t end = until_ns < now ? until_ns : now;
    int64_t range = end - x->start_ns,
            gap = range / 10 > 3600000000000LL ? range / 10 : 3600000000000LL;
    size_t n;
    struct tg_group *g = tg_countby_sorted(&x->hosts, &n);
    struct tg_buf tmp = TG_BUF_INIT;
    size_t shown = 0;
    char since[32];
    tg_ns_text(end - gap, since);
    fprintf(
        f, "<p class=\"meta\">No event since %s (the last %" PRId64 " minutes of the range):</p>\n",
        since, (int64_t)(gap / 60000000000LL));
    for (size_t i = 0; i < n; i++) {
        const char *h = tg_group_value(&g[i], 0, &tmp);
        struct tg_last *l = h ? tg_last_slot(x, h) : NULL;
        const int64_t *last = l && l->host ? &l->ns : NULL;
        if (!last || *last >= end - gap)
            continue;
        if (!shown++)
            fputs("<table id=\"silent\"><tr><th>host</th><th>last event</th>"
                  "<th class=\"n\">events</th></tr>\n",
                  f);
        char ts[32];
        tg_ns_text(*last, ts);
        fputs("<tr><td>", f);
        tg_html(f, h);
        fprintf(f, "</td><td>%s</td><td class=\"n\">%" PRIu64 "</td></tr>\n", ts, g[i].count);
    }
    if (shown)
        fputs("</table>\n", f);
    else
        fputs("<p class=\"none\">None: every host sent events until the end of the range.</p>\n",
              f);
    tg_buf_free(&tmp);
}

static void tg_verify_html(FILE *f, const char *dir, const struct tg_verify_report *rep)
{
    fprintf(f,
            "<div class=\"box %s\"><p><b id=\"verify-result\">%s</b>: ", rep->intact ? "ok" : "bad",
            rep->intact ? "intact" : "TAMPERED");
    if (rep->intact)
        fprintf(f,
                "the hash chain (%s) of %" PRIu64 " records in %" PRIu64
                " segments checks out: no record was changed, removed, reordered or inserted.",
                rep->keyed ? "HMAC-SHA-256" : "SHA-256", rep->records, rep->segments);
    else
        tg_html(f, rep->problem);
    fputs("</p>\n", f);
    if (rep->have_checkpoint) {
        char t[32];
        struct tg_time tt = {rep->checkpoint.time_us / 1000000,
                             (int32_t)(rep->checkpoint.time_us % 1000000) * 1000, 0};
        tg_time_format(t, tt);
        bool own = strcmp(rep->checkpoint_from, "given") != 0;
        char link[2 * TG_LINK_LEN + 1];
        tg_link_hex(rep->checkpoint.link, link);
        fprintf(f, "<p id=\"checkpoint\">Checked against the checkpoint of %s (%s, host ", t,
                rep->checkpoint.reason);
        tg_html(f, rep->checkpoint.host);
        fprintf(f, "): %" PRIu64 " records, link <code>%.16s&hellip;</code>, %s%s.",
                rep->checkpoint.records, link,
                own ? "from the store's own checkpoints.ndjson (whoever can write the store can "
                      "rewrite it: give one you hold with --checkpoint)"
                    : "given by the auditor",
                rep->checkpoint_signed ? ", signature checked" : "");
        if (rep->unproven)
            fprintf(f, " The %" PRIu64 " records after it cannot be proven complete.",
                    rep->unproven);
        fputs("</p>\n", f);
    } else {
        fputs("<p id=\"checkpoint\">Checked against no checkpoint: the newest records could have "
              "been cut without a trace (give one with --checkpoint).</p>\n",
              f);
    }
    if (rep->torn_note) {
        fputs("<p>Torn tail (not tampering): ", f);
        tg_html(f, rep->torn_note);
        fputs("</p>\n", f);
    }
    if (rep->warning) {
        fputs("<p>Warning: ", f);
        tg_html(f, rep->warning);
        fputs("</p>\n", f);
    }
    fputs("<p class=\"meta\">Store ", f);
    tg_html(f, dir);
    fputs("</p></div>\n", f);
}

static void tg_report_page(FILE *f, struct tg_report *x, const char *title, const char *dir,
                           const struct tg_filter *flt, const struct tg_verify_report *rep)
{
    char since[32], until[32], now[32];
    tg_ns_text(flt->since_ns, since);
    tg_ns_text(flt->until_ns, until);
    tg_ns_text((int64_t)time(NULL) * 1000000000, now);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    tg_html(f, title);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>", tg_report_css);
    tg_html(f, title);
    fprintf(f, "</h1>\n<p class=\"meta\">Events from <b>%s</b> to <b>%s</b>", since, until);
    const struct {
        const char *name, *v;
    } fl[] = {{"user", flt->user},         {"euser", flt->euser},
              {"host", flt->host},         {"executable", flt->executable},
              {"action", flt->action},     {"dataset", flt->dataset},
              {"decision", flt->decision}, {"word", flt->word},
              {"grep", flt->grep_arg}};
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
        if (fl[i].v) {
            fprintf(f, ", %s = <b>", fl[i].name);
            tg_html(f, fl[i].v);
            fputs("</b>", f);
        }
    fprintf(f, ". Generated %s by trailguard report.</p>\n", now);
    fputs("<h2>Integrity of the store</h2>\n", f);
    tg_verify_html(f, dir, rep);
    fputs("<h2>Totals</h2>\n<div class=\"tiles\">\n", f);
    tg_tile(f, "total-events", "events", x->events);
    tg_tile(f, "total-hosts", "hosts", x->hosts.ng);
    tg_tile(f, "total-users", "users", x->users.ng);
    tg_tile(f, "total-allow", "allowed", x->allow);
    tg_tile(f, "total-deny", "denied", x->deny);
    tg_tile(f, "total-na", "not applicable", x->na);
    tg_tile(f, "total-sudo", "sudo commands", x->sudo);
    fputs("</div>\n", f);
    static const char *const t_ds[] = {"dataset"}, *const t_uh[] = {"user", "host"},
                             *const t_den[] = {"user", "host", "reason"},
                             *const t_prog[] = {"program"}, *const t_users[] = {"user"};
    tg_group_table(f, &x->datasets, t_ds, 1, 20, "No events.");
    fprintf(f, "<h2>Events per %s</h2>\n", x->step_ns == 3600000000000LL ? "hour" : "day");
    tg_chart(f, x);
    fputs("<h2>sudo use by user and host</h2>\n", f);
    tg_group_table(f, &x->sudo_by, t_uh, 2, 50, "No sudo command in the range.");
    fputs("<h2>Denies and their reasons</h2>\n", f);
    tg_group_table(f, &x->denies, t_den, 3, 100, "Nothing was denied in the range.");
    fputs("<h2>Top programs</h2>\n", f);
    tg_group_table(f, &x->programs, t_prog, 1, 25, "No commands in the range.");
    fputs("<h2>Most active users</h2>\n", f);
    tg_group_table(f, &x->users, t_users, 1, 25, "No users in the range.");
    fputs("<h2>Hosts that went silent</h2>\n", f);
    tg_silent(f, x, flt->until_ns);
    fputs("</body></html>\n", f);
}

int tg_cmd_report(int argc, char **argv)
{
    enum { OPT_OUT = 2000, OPT_TITLE };
    static const struct option own[] = {{"out", required_argument, NULL, OPT_OUT},
                                        {"title", required_argument, NULL, OPT_TITLE},
                                        {"key", required_argument, NULL, 'k'},
                                        {"checkpoint", required_argument, NULL, 'c'},
                                        {"pubkey", required_argument, NULL, 'p'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct option *longopts = tg_filter_options(own);
    struct tg_filter f = {0};
    struct tg_report x = {0};
    const char *out = NULL, *title = "trailguard audit report", *key_path = NULL, *cp_path = NULL,
               *pub_path = NULL;
    int c, exit_code = TG_EXIT_OK;
    bool ready = false;
    FILE *of = NULL;
    struct tg_verify_report rep = {0};
    struct tg_verify_opts o = {.on_record = tg_report_record, .ctx = &x};
    struct tg_checkpoint *given = NULL;
    size_t ngiven = 0;
    uint8_t key[TG_LINK_LEN];
    optind = 1;
    while ((c = getopt_long(argc, argv, ":k:c:p:h", longopts, NULL)) != -1) {
        int rc = tg_filter_option(&f, c, optarg, "report");
        if (rc == 0)
            continue;
        if (rc != 1) {
            exit_code = rc;
            goto out;
        }
        switch (c) {
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_TITLE:
            title = optarg;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 'c':
            cp_path = optarg;
            break;
        case 'p':
            pub_path = optarg;
            break;
        case 'h':
            fputs(tg_report_usage, stdout);
            goto out;
        default:
            exit_code = tg_option_error("report", c, argv);
            goto out;
        }
    }
    const char *missing = optind + 1 != argc ? "exactly one store DIR"
                          : !f.since_set     ? "--since"
                          : !f.until_set     ? "--until"
                          : !out             ? "--out"
                                             : NULL;
    if (missing) {
        exit_code = tg_usage_error(
            "report", "give %s (report needs DIR, --since, --until and --out)", missing);
        goto out;
    }
    if ((exit_code = tg_filter_done(&f, "report")) != 0)
        goto out;
    const char *dir = argv[optind];
    x.i_user = tg_fields_add(&f.fields, "user.name");
    x.i_host = tg_fields_add(&f.fields, "host.name");
    x.i_decision = tg_fields_add(&f.fields, "trailguard.policy.decision");
    x.i_reason = tg_fields_add(&f.fields, "trailguard.policy.reason");
    x.i_exe = tg_fields_add(&f.fields, "process.executable");
    x.i_cmd = tg_fields_add(&f.fields, "process.command_line");
    x.i_dataset = tg_fields_add(&f.fields, "event.dataset");
    tg_rctx_init(&x.rc, &f);
    ready = true;
    x.start_ns = f.since_ns;
    int64_t range = f.until_ns - f.since_ns;
    x.step_ns = range / 3600000000000LL <= TG_REPORT_MAX_BARS ? 3600000000000LL : 86400000000000LL;
    x.start_ns -= ((x.start_ns % x.step_ns) + x.step_ns) % x.step_ns; /* whole hours (days) */
    x.nbars = (size_t)((f.until_ns - x.start_ns + x.step_ns - 1) / x.step_ns);
    if (x.nbars > 2 * TG_REPORT_MAX_BARS) /* a range of years: the chart keeps its last part */
        x.nbars = 2 * TG_REPORT_MAX_BARS;
    x.bars = tg_xcalloc(x.nbars + 1, sizeof(*x.bars));
    exit_code = tg_verify_prepare("report", key_path, cp_path, pub_path, key, &given, &ngiven, &o);
    if (exit_code != TG_EXIT_OK)
        goto out;
    int vrc = tg_store_verify(dir, &o, &rep);
    OPENSSL_cleanse(key, sizeof(key));
    if (vrc == TG_EIO) {
        fprintf(stderr, "trailguard report: %s: cannot read the store: %s\n", dir, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    if (vrc == TG_EUSAGE) {
        fprintf(stderr, "trailguard report: %s: %s\n", dir, rep.problem);
        exit_code = TG_EXIT_USAGE;
        goto out;
    }
    of = fopen(out, "w");
    if (!of) {
        fprintf(stderr, "trailguard report: %s: cannot create: %s\n", out, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    char *adir = realpath(dir, NULL); /* the page outlives this directory */
    tg_report_page(of, &x, title, adir ? adir : dir, &f, &rep);
    free(adir);
    bool werr = ferror(of) != 0;
    werr |= fclose(of) != 0;
    of = NULL;
    if (werr) {
        fprintf(stderr, "trailguard report: %s: cannot write: %s\n", out, strerror(errno));
        exit_code = TG_EXIT_RUNTIME;
        goto out;
    }
    fprintf(stderr, "trailguard report: %" PRIu64 " events (%" PRIu64 " denied) to %s; store %s\n",
            x.events, x.deny, out, rep.intact ? "intact" : "TAMPERED");
    if (!rep.intact) {
        fprintf(stderr, "trailguard report: WARNING: the store's chain is broken: %s\n",
                rep.problem);
        exit_code = TG_EXIT_NEGATIVE;
    }
out:
    OPENSSL_cleanse(key, sizeof(key));
    if (of)
        fclose(of);
    if (ready)
        tg_rctx_free(&x.rc);
    tg_countby_free(&x.users);
    tg_countby_free(&x.hosts);
    tg_countby_free(&x.datasets);
    tg_countby_free(&x.sudo_by);
    tg_countby_free(&x.denies);
    tg_countby_free(&x.programs);
    for (size_t i = 0; i < x.caplast; i++)
        free(x.last[i].host);
    free(x.last);
    free(x.bars);
    tg_buf_free(&x.key);
    tg_verify_report_free(&rep);
    tg_checkpoints_free(given, ngiven);
    tg_sign_key_free(o.pubkey);
    tg_filter_free(&f);
    free(longopts);
    return exit_code;
}
