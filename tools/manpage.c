/*
 * manpage.c - trailguard(1) and trailguard.conf(5) in roff, written by
 * `trailguard help --man 1|5` (the build runs it; see Makefile.am).
 *
 * The pages are made from the sources the binary itself prints: every
 * command's summary and help text from the command table (tg_commands), and
 * every section and key of the configuration from the option tables (the
 * registry's tg_section_defs, as `trailguard help config` prints them).  So
 * a new option or key is in the manual as soon as it is in the help; only
 * the framing (name, exit status, files, see also) is written here.  The
 * help texts are laid out for a terminal already, so they are kept as they
 * are (no-fill blocks), with roff's special characters escaped.
 */
#include <stdio.h>
#include <string.h>

#include "buildconf.h"
#include "core/config.h"
#include "tools/commands.h"
#include "tools/manual.h"
#include "tools/registry.h"

/* Write s (up to n bytes, or to its end when n is SIZE_MAX) for roff: \ and
 * - escaped, a line starting with . or ' guarded. */
static void tg_man_text(FILE *out, const char *s, size_t n)
{
    bool bol = true;
    for (size_t i = 0; i < n && s[i]; i++) {
        char c = s[i];
        if (bol && (c == '.' || c == '\''))
            fputs("\\&", out);
        if (c == '\\')
            fputs("\\e", out);
        else if (c == '-')
            fputs("\\-", out);
        else
            fputc(c, out);
        bol = c == '\n';
    }
}

static void tg_man_line(FILE *out, const char *s)
{
    tg_man_text(out, s, SIZE_MAX);
    fputc('\n', out);
}

/* A command's help text without its "usage: ". */
static const char *tg_man_usage(const struct tg_command *c)
{
    return strncmp(c->usage, "usage: ", 7) == 0 ? c->usage + 7 : c->usage;
}

/* The usage lines of a command (its help up to the first blank line), the
 * 7 columns of "usage: " taken off the continuation lines too. */
static void tg_man_head(FILE *out, const struct tg_command *c)
{
    const char *u = tg_man_usage(c), *blank = strstr(u, "\n\n");
    const char *end = blank ? blank + 1 : u + strlen(u);
    for (const char *line = u; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        size_t skip = 0;
        while (line != u && skip < 7 && line[skip] == ' ')
            skip++;
        tg_man_text(out, line + skip, n - skip);
        line += n;
    }
}

/* A command's help: its usage lines (up to the first blank line) in bold,
 * the rest as it is printed. */
static void tg_man_command(FILE *out, const struct tg_command *c)
{
    fprintf(out, ".SS %s\n", c->name);
    tg_man_line(out, c->summary);
    fputs(".PP\n.nf\n", out);
    const char *blank = strstr(tg_man_usage(c), "\n\n");
    fputs("\\fB", out);
    tg_man_head(out, c);
    fputs("\\fR\n", out);
    if (blank)
        tg_man_text(out, blank + 1, SIZE_MAX);
    fputs(".fi\n", out);
}

static void tg_man_page1(FILE *out)
{
    fprintf(out, ".TH TRAILGUARD 1 \"\" \"trailguard %s\" \"trailguard manual\"\n",
            PACKAGE_VERSION);
    fputs(".SH NAME\n"
          "trailguard \\- collect access audit trails and judge them against sudo and HBAC "
          "policy\n"
          ".SH SYNOPSIS\n.nf\n",
          out);
    for (const struct tg_command *c = tg_commands; c->name; c++)
        tg_man_head(out, c);
    fputs("trailguard \\-\\-version\n.fi\n"
          ".SH DESCRIPTION\n"
          "trailguard is a central collector for access audit trails: snoopy's record of every "
          "exec and Percona Server's audit log, forwarded by rsyslog over RELP or run as "
          "rsyslog's omprog program.  It stores every record in a durable spool before "
          "acknowledging it, parses it into an event with Elastic Common Schema field names, "
          "judges it against a snapshot of the organisation's sudo and FreeIPA HBAC policy, and "
          "writes it to Kafka and/or to a gzip, hash-chained file store that "
          "\\fBquery\\fR, \\fBexport\\fR and \\fBverify\\fR read.\n"
          ".PP\n"
          "Each command below is also described by \\fBtrailguard help\\fR \\fICOMMAND\\fR; "
          "the configuration file by \\fBtrailguard.conf\\fR(5) and "
          "\\fBtrailguard help config\\fR.\n"
          ".SH COMMANDS\n",
          out);
    for (const struct tg_command *c = tg_commands; c->name; c++)
        tg_man_command(out, c);
    fputs(".SH EXIT STATUS\n"
          ".TP\n.B 0\nsuccess\n"
          ".TP\n.B 1\na negative result (verify found a changed, removed or reordered record)\n"
          ".TP\n.B 2\na usage or configuration error (the message names the file, line and "
          "key)\n"
          ".TP\n.B 3\na runtime failure (cannot bind, cannot read or write)\n"
          ".SH ENVIRONMENT\n"
          ".TP\n.B NOTIFY_SOCKET, WATCHDOG_USEC\n"
          "set by systemd for a Type=notify service: \\fBserve\\fR reports READY=1 once its "
          "listeners are bound, STATUS= lines, and WATCHDOG=1 keep-alives.\n"
          ".TP\n.B JOURNAL_STREAM\n"
          "when it names stderr, log lines carry syslog priority prefixes for the journal "
          "(\\fBjournalctl \\-p err\\fR).\n"
          ".SH FILES\n"
          ".TP\n.I " TG_SYSCONFDIR "/trailguard/trailguard.conf\n"
          "the configuration (\\fBtrailguard.conf\\fR(5)); check it with \\fBtrailguard check "
          "\\-c\\fR \\fIFILE\\fR\n"
          ".TP\n.I /var/lib/trailguard/spool, /var/lib/trailguard/events\n"
          "the spool and the file store of the packaged unit (\\fBtrailguard.service\\fR)\n"
          ".SH SEE ALSO\n"
          "\\fBtrailguard.conf\\fR(5), \\fBrsyslogd\\fR(8), \\fBsystemd.service\\fR(5), "
          "\\fBsd_notify\\fR(3)\n",
          out);
}

static void tg_man_page5(FILE *out)
{
    static const char *const type_name[] = {"string",  "integer", "size",
                                            "boolean", "choice",  "host:port"};
    fprintf(out, ".TH TRAILGUARD.CONF 5 \"\" \"trailguard %s\" \"trailguard manual\"\n",
            PACKAGE_VERSION);
    fputs(".SH NAME\n"
          "trailguard.conf \\- the trailguard configuration file\n"
          ".SH DESCRIPTION\n"
          "An INI file: \\fB[section]\\fR headers, \\fIkey\\fR \\fB=\\fR \\fIvalue\\fR lines, "
          "and comments starting with ; or #.  Unknown sections and keys are errors, each "
          "reported with the file, the line and the key.  "
          "\\fBtrailguard check \\-c\\fR \\fIFILE\\fR checks a file without starting the "
          "collector.  Sizes take the suffixes k, M and G (powers of 1024); booleans are "
          "true/false, yes/no, on/off or 1/0.\n"
          ".SH SECTIONS\n",
          out);
    size_t n;
    const struct tg_section_def *const *defs = tg_registry_sections(&n);
    for (size_t i = 0; i < n; i++) {
        const struct tg_section_def *d = defs[i];
        fprintf(out, ".SS [%s]\n", d->name);
        tg_man_line(out, d->doc);
        if (d->multi)
            fprintf(out, "May repeat as [%s.NAME].\n", d->name);
        for (const struct tg_opt *o = d->opts; o->key; o++) {
            fputs(".TP\n\\fB", out);
            tg_man_text(out, o->key, SIZE_MAX);
            fputs("\\fR = \\fI", out);
            tg_man_text(out, o->def ? (o->def[0] ? o->def : "(empty)") : "(unset)", SIZE_MAX);
            fprintf(out, "\\fR (%s)\n", type_name[o->type]);
            tg_man_line(out, o->doc);
            if (o->choices) {
                fputs(".br\nChoices:", out);
                for (int c = 0; o->choices[c]; c++) {
                    fputs(" \\fB", out);
                    tg_man_text(out, o->choices[c], SIZE_MAX);
                    fputs("\\fR", out);
                }
                fputs(".\n", out);
            }
        }
        if (d->passthrough) {
            fputs(".TP\n\\fB", out);
            tg_man_text(out, d->passthrough, SIZE_MAX);
            fputs("\\fR\\fINAME\\fR\npassed through unchanged\n", out);
        }
    }
    fputs(".SH SEE ALSO\n\\fBtrailguard\\fR(1)\n", out);
}

int tg_manual_page(FILE *out, int section)
{
    if (section == 1)
        tg_man_page1(out);
    else if (section == 5)
        tg_man_page5(out);
    else
        return -1;
    return 0;
}
