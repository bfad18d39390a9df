/*
 * fuzz_mask.c - fuzz the masking of secrets (core/mask.c) with the built-in
 * rules: the input is an exec event's record, command line and args (split
 * at spaces), masked once through the gate and once without it.
 *
 * Invariants: the gate never changes a result (the same texts, the same
 * rules hit, on any bytes), and a text that was masked holds the mask token.
 */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/mask.h"
#include "tests/fuzz/fuzz.h"

static struct tg_mask_rule *tg_fz_rules[TG_MASK_MAX_RULES];
static bool tg_fz_on[TG_MASK_MAX_RULES];
static size_t tg_fz_n;
static struct tg_mask_gate *tg_fz_gate;

static struct tg_event *tg_fz_exec(const uint8_t *data, size_t size)
{
    struct tg_event *ev = tg_event_new((const char *)data, size, NULL, TG_FUZZ_NOW);
    ev->command_line = ev->original;
    size_t n = 1;
    for (size_t i = 0; i < size; i++)
        n += data[i] == ' ';
    ev->args = tg_arena_alloc(&ev->arena, n * sizeof(*ev->args));
    const char *w = ev->original.p, *end = w + size;
    for (size_t i = 0; i < n; i++) {
        const char *sp = memchr(w, ' ', (size_t)(end - w));
        size_t len = sp ? (size_t)(sp - w) : (size_t)(end - w);
        ev->args[i] = tg_str_make(w, len);
        w += len + 1;
    }
    ev->nargs = n;
    return ev;
}

static bool tg_fz_same(struct tg_str a, struct tg_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tg_fz_gate) {
        for (; tg_mask_builtins[tg_fz_n].name; tg_fz_n++) {
            char *err = NULL;
            if (tg_mask_rule_new(tg_mask_builtins[tg_fz_n].name, tg_mask_builtins[tg_fz_n].pattern,
                                 tg_mask_builtins[tg_fz_n].need, &tg_fz_rules[tg_fz_n], &err) != 0)
                abort();
            tg_fz_on[tg_fz_n] = true;
        }
        tg_fz_gate = tg_mask_gate_new(tg_fz_rules, tg_fz_n);
    }
    struct tg_event *a = tg_fz_exec(data, size), *b = tg_fz_exec(data, size);
    bool hit_a[TG_MASK_MAX_RULES], hit_b[TG_MASK_MAX_RULES];
    bool ma = tg_mask_event(tg_fz_rules, tg_fz_on, tg_fz_n, tg_fz_gate, NULL, 0, a, hit_a);
    bool mb = tg_mask_event(tg_fz_rules, tg_fz_on, tg_fz_n, NULL, NULL, 0, b, hit_b);
    if (ma != mb || memcmp(hit_a, hit_b, tg_fz_n * sizeof(*hit_a)) != 0 ||
        !tg_fz_same(a->command_line, b->command_line) || !tg_fz_same(a->original, b->original) ||
        a->nargs != b->nargs)
        abort();
    for (size_t i = 0; i < a->nargs; i++)
        if (!tg_fz_same(a->args[i], b->args[i]))
            abort();
    if (ma &&
        !memmem(a->command_line.p, a->command_line.len, TG_MASK_TOKEN, sizeof(TG_MASK_TOKEN) - 1))
        abort();
    tg_event_free(a);
    tg_event_free(b);
    return 0;
}
