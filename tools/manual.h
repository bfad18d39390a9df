/*
 * manual.h - the installed documentation the binary writes about itself,
 * from its own command table and option tables, so that it never drifts
 * from the help: the manual pages (manpage.c) and the bash completion
 * (completion.c).  `trailguard help --man 1|5` and `help --completion`
 * print them; the build installs what they print.  Main thread.
 */
#ifndef TG_MANUAL_H
#define TG_MANUAL_H

#include <stdio.h>

/* trailguard(1) (section 1) or trailguard.conf(5) (section 5) in roff;
 * 0, or -1 for another section. */
int tg_manual_page(FILE *out, int section);
/* The bash completion script. */
void tg_manual_completion(FILE *out);

#endif
