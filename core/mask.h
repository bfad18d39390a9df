/*
 * mask.h - masking secrets in an event's texts, and event.hash.
 *
 * A mask rule is a PCRE2 pattern: in every match, the text of each capture
 * group that took part (of the whole match when the pattern has no group)
 * becomes "****".  The built-in rules (tg_mask_builtins) find the secrets
 * people put on command lines and into SQL: mysql's -pSECRET, options like
 * --password=SECRET / --token SECRET, IDENTIFIED BY 'SECRET', PASSWORD('..'),
 * credentials and tokens in URLs, Authorization headers, NAME_PASSWORD=...
 * assignments.  Their secret classes stop at quotes and backslashes, so a
 * match inside JSON text (a Percona record's event.original) never cuts an
 * escape: the masked text stays valid JSON.
 *
 * tg_mask_event applies a set of rules to every stored text of an event
 * that can hold a secret: event.original, process.command_line,
 * process.args (matched as the words joined by spaces, so a rule sees the
 * whole command, and the spans are cut back into the words),
 * trailguard.db.statement, trailguard.sudo.command, the sudo line's data,
 * and the verdict's reason (which quotes the command).  When anything was
 * masked, event.hash is the SHA-256 (HMAC-SHA-256 with a key) of the record
 * as received, so whoever holds the original line can show it is this
 * event's, and trailguard.mask names the rules that hit.
 *
 * Rules are compiled once (main thread) and then read-only: any number of
 * worker threads apply them, each with its own match data.
 */
#ifndef TG_MASK_H
#define TG_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* The built-in rules: name, pattern, its literals (need, below), what it
 * masks; NULL-terminated. */
struct tg_mask_builtin {
    const char *name, *pattern, *need, *doc;
};
extern const struct tg_mask_builtin tg_mask_builtins[];

#define TG_MASK_TOKEN "****"

#define TG_MASK_MAX_RULES 256 /* rules of one tg_mask_event call; more are not applied */

struct tg_mask_rule;
struct tg_mask_gate;

/* Compile `pattern` as rule `name` (copied).  need: NULL, or literals
 * "lit|lit|..." one of which (caselessly) is in every match of the pattern,
 * which lets the gate skip the rule on texts without any.  0, or TG_EINVAL
 * with *err (caller frees) giving PCRE2's message and the offset.  Main
 * thread. */
int tg_mask_rule_new(const char *name, const char *pattern, const char *need,
                     struct tg_mask_rule **out, char **err);
void tg_mask_rule_free(struct tg_mask_rule *r);
const char *tg_mask_rule_name(const struct tg_mask_rule *r);

/* The gate of rules[0..n): one scan of a text tells which of them may
 * match there.  Built once (main thread), then read-only. */
struct tg_mask_gate *tg_mask_gate_new(struct tg_mask_rule *const *rules, size_t n);
void tg_mask_gate_free(struct tg_mask_gate *g);

/*
 * Apply rules[i] for which on[i] is true to ev's texts (above); hit[i] is
 * set for each rule that masked something.  When something was masked,
 * sets ev->hash (over the record as received: key NULL SHA-256, else
 * HMAC-SHA-256 with key[0..keylen)) and ev->mask_data, and returns true.
 * Replaced texts live in the event's arena.  gate: tg_mask_gate_new of the
 * same rules, or NULL (every rule that is on scans every text: the same
 * result, slower).  Worker thread.
 */
bool tg_mask_event(struct tg_mask_rule *const *rules, const bool *on, size_t n,
                   const struct tg_mask_gate *gate, const uint8_t *key, size_t keylen,
                   struct tg_event *ev, bool *hit);

/* Mask one text with one rule: *out is the masked copy in ev's arena and
 * true is returned, or false (nothing matched, *out untouched).  For
 * tests and callers with a single text.  Worker thread. */
bool tg_mask_text(const struct tg_mask_rule *r, struct tg_event *ev, struct tg_str in,
                  struct tg_str *out);

#endif
