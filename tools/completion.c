/*
 * completion.c - the bash completion script, written by `trailguard help
 * --completion` (the build runs it; see Makefile.am).
 *
 * Like the manual (manpage.c), it is made from what the binary prints: the
 * commands from the command table, each command's options from its help
 * text (every word that starts with - or -- after a blank, '[', '(' or
 * ','), the values of an option written as `--opt a|b|c`, file or
 * directory arguments from `--opt FILE` / `DIR` / `PATH`, subcommands from
 * its usage lines (`trailguard policy check ...`), and the configuration
 * sections for `trailguard help config SECTION` from the registry.  The
 * script needs nothing but bash (it uses bash-completion's _filedir when
 * that is loaded).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "tools/commands.h"
#include "tools/manual.h"
#include "tools/registry.h"

#define TG_COMP_MAX 64

struct tg_comp_opt {
    char name[40];
    char values[160]; /* "a b c", or "" */
    char arg;         /* 'f' file, 'd' directory, 0 none or other */
};

struct tg_comp {
    struct tg_comp_opt opt[TG_COMP_MAX];
    size_t nopt;
    char subs[160]; /* subcommands, "check lint" */
};

/* The word at p (letters, digits, _, -, |): its length. */
static size_t tg_comp_word(const char *p)
{
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-' || p[n] == '|')
        n++;
    return n;
}

static struct tg_comp_opt *tg_comp_add(struct tg_comp *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nopt; i++)
        if (strlen(c->opt[i].name) == n && strncmp(c->opt[i].name, name, n) == 0)
            return &c->opt[i];
    if (c->nopt == TG_COMP_MAX || n >= sizeof(c->opt[0].name))
        return NULL;
    struct tg_comp_opt *o = &c->opt[c->nopt++];
    snprintf(o->name, sizeof(o->name), "%.*s", (int)n, name);
    return o;
}

/* What the word after an option says about its argument. */
static void tg_comp_arg(struct tg_comp_opt *o, const char *w, size_t n)
{
    if (!o || n == 0)
        return;
    if ((n == 4 && (strncmp(w, "FILE", 4) == 0 || strncmp(w, "PATH", 4) == 0)))
        o->arg = 'f';
    else if (n == 3 && strncmp(w, "DIR", 3) == 0)
        o->arg = 'd';
    else if (memchr(w, '|', n) && islower((unsigned char)w[0]) && !o->values[0]) {
        snprintf(o->values, sizeof(o->values), "%.*s", (int)n, w);
        for (char *p = o->values; *p; p++)
            if (*p == '|')
                *p = ' ';
    }
}

static void tg_comp_scan(const struct tg_command *cmd, struct tg_comp *c)
{
    memset(c, 0, sizeof(*c));
    const char *u = cmd->usage;
    struct tg_comp_opt *alias = NULL; /* "-c," waiting for the "--config FILE" after it */
    for (size_t i = 0; u[i]; i++) {
        bool starts = i == 0 || strchr(" [(,\n", u[i - 1]);
        bool dash = u[i] == '-' && (isalpha((unsigned char)u[i + 1]) ||
                                    (u[i + 1] == '-' && isalpha((unsigned char)u[i + 2])));
        if (!starts || !dash)
            continue;
        size_t n = tg_comp_word(u + i);
        struct tg_comp_opt *o = tg_comp_add(c, u + i, n);
        const char *after = u + i + n;
        if (after[0] == ',' && after[1] == ' ') {
            alias = o;
        } else if (after[0] == ' ' || after[0] == '=') {
            tg_comp_arg(o, after + 1, tg_comp_word(after + 1));
            if (alias && o) {
                alias->arg = o->arg;
                memcpy(alias->values, o->values, sizeof(o->values));
            }
            alias = NULL;
        } else {
            alias = NULL;
        }
        i += n - 1;
    }
    /* subcommands: "trailguard NAME SUB" in the usage lines */
    char pat[64];
    snprintf(pat, sizeof(pat), "trailguard %s ", cmd->name);
    for (const char *p = strstr(u, pat); p; p = strstr(p + 1, pat)) {
        const char *w = p + strlen(pat);
        size_t n = 0;
        while (islower((unsigned char)w[n]))
            n++;
        if (n && (w[n] == ' ' || w[n] == '\n')) {
            char word[32];
            snprintf(word, sizeof(word), "%.*s", (int)n, w);
            if (!strstr(c->subs, word))
                snprintf(c->subs + strlen(c->subs), sizeof(c->subs) - strlen(c->subs), "%s%s",
                         c->subs[0] ? " " : "", word);
        }
    }
}

static void tg_comp_command(FILE *out, const struct tg_command *cmd)
{
    struct tg_comp c;
    tg_comp_scan(cmd, &c);
    fprintf(out, "    %s)\n        opts=\"", cmd->name);
    for (size_t i = 0; i < c.nopt; i++)
        fprintf(out, "%s ", c.opt[i].name);
    fputs("--help", out); /* every command takes it; few help texts name it */
    fprintf(out, "\"\n        subs=\"%s\"\n        case $prev in\n", c.subs);
    for (size_t i = 0; i < c.nopt; i++) {
        if (c.opt[i].values[0])
            fprintf(out, "        %s) _trailguard_words \"%s\"; return ;;\n", c.opt[i].name,
                    c.opt[i].values);
        else if (c.opt[i].arg)
            fprintf(out, "        %s) _trailguard_files%s; return ;;\n", c.opt[i].name,
                    c.opt[i].arg == 'd' ? " -d" : "");
    }
    fputs("        esac\n        ;;\n", out);
}

void tg_manual_completion(FILE *out)
{
    fputs("# bash completion for trailguard: commands, their options and values, and the\n"
          "# configuration sections.  Generated by `trailguard help --completion`.\n"
          "_trailguard_words() {\n"
          "    local IFS=$' \\t\\n'\n"
          "    COMPREPLY=($(compgen -W \"$1\" -- \"${COMP_WORDS[COMP_CWORD]}\"))\n"
          "}\n"
          "_trailguard_files() {\n"
          "    if declare -F _filedir >/dev/null; then\n"
          "        _filedir \"$@\"\n"
          "    elif [ \"${1:-}\" = -d ]; then\n"
          "        COMPREPLY=($(compgen -d -- \"${COMP_WORDS[COMP_CWORD]}\"))\n"
          "    else\n"
          "        COMPREPLY=($(compgen -f -- \"${COMP_WORDS[COMP_CWORD]}\"))\n"
          "    fi\n"
          "}\n"
          "_trailguard() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
          "    local cmd=${COMP_WORDS[1]:-} opts=\"\" subs=\"\"\n"
          "    COMPREPLY=()\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "        _trailguard_words \"",
          out);
    for (const struct tg_command *c = tg_commands; c->name; c++)
        fprintf(out, "%s ", c->name);
    fputs("--version --help\"\n        return\n    fi\n    case $cmd in\n", out);
    for (const struct tg_command *c = tg_commands; c->name; c++)
        if (strcmp(c->name, "help") != 0)
            tg_comp_command(out, c);
    fputs("    help)\n"
          "        if [ \"$COMP_CWORD\" -eq 2 ]; then\n"
          "            _trailguard_words \"",
          out);
    for (const struct tg_command *c = tg_commands; c->name; c++)
        fprintf(out, "%s ", c->name);
    fputs("config --man --completion\"\n"
          "        elif [ \"$prev\" = config ] && [ \"$COMP_CWORD\" -eq 3 ]; then\n"
          "            _trailguard_words \"",
          out);
    size_t n;
    const struct tg_section_def *const *defs = tg_registry_sections(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? " " : "", defs[i]->name);
    fputs("\"\n"
          "        elif [ \"$prev\" = --man ]; then\n"
          "            _trailguard_words \"1 5\"\n"
          "        fi\n"
          "        return\n"
          "        ;;\n"
          "    *) return ;;\n"
          "    esac\n"
          "    if [ -n \"$subs\" ] && [ \"$COMP_CWORD\" -eq 2 ]; then\n"
          "        _trailguard_words \"$subs\"\n"
          "    elif [ \"${cur#-}\" != \"$cur\" ]; then\n"
          "        _trailguard_words \"$opts\"\n"
          "    else\n"
          "        _trailguard_files\n"
          "    fi\n"
          "}\n"
          "complete -F _trailguard trailguard\n",
          out);
}
