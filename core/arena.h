/*
 * arena.h - bump allocator: many small allocations, one free.
 *
 * An event owns one arena; its strings and parser scratch live there and the
 * whole arena is released at once (as nginx pools free a request).  The arena
 * may start in a caller-provided block (so an event and its first strings
 * are one malloc); further chunks come from the heap, doubling in size, or,
 * for an arena with a parent, from the parent (an event of a batch draws
 * on the batch's memory: nothing of it is freed on its own, the parent
 * frees it all).  Allocation aborts on OOM.  Not thread-safe: one owner at
 * a time (an arena and its parent: the same owner).
 */
#ifndef TG_ARENA_H
#define TG_ARENA_H

#include <stddef.h>

#include "core/buf.h"

struct tg_arena_chunk;

struct tg_arena {
    char *cur;
    char *end;
    struct tg_arena_chunk *chunks; /* heap chunks, newest first */
    size_t next_size;
    struct tg_arena *parent; /* where further chunks come from; NULL: the heap */
};

/* Start an arena in [block, block+size) (may be NULL/0), chunks from the heap. */
void tg_arena_init(struct tg_arena *a, void *block, size_t size);
/* The same, with further chunks taken from `parent` (which must outlive a). */
void tg_arena_init_child(struct tg_arena *a, void *block, size_t size, struct tg_arena *parent);
/* Release all heap chunks; the arena is unusable until tg_arena_init. */
void tg_arena_free(struct tg_arena *a);
/* `n` bytes aligned to 8; never NULL. */
void *tg_arena_alloc(struct tg_arena *a, size_t n);
/* Copy [p, p+n) into the arena with a trailing NUL; returns the slice. */
struct tg_str tg_arena_strndup(struct tg_arena *a, const char *p, size_t n);
/* Heap bytes held by the arena beyond its initial block (memory reports). */
size_t tg_arena_used(const struct tg_arena *a);

#endif
