/*
 * arena.c - bump allocator.  See arena.h.
 *
 * Chunks are singly linked, newest first.  A request larger than half the
 * next chunk size gets a chunk of its own so that one big string does not
 * waste the rest of the current chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"

struct tg_arena_chunk {
    struct tg_arena_chunk *next;
    size_t size;
    _Alignas(16) char data[];
};

#define TG_ARENA_MIN_CHUNK 4096

void tg_arena_init(struct tg_arena *a, void *block, size_t size)
{
    a->cur = block;
    a->end = block ? (char *)block + size : NULL;
    a->chunks = NULL;
    a->next_size = TG_ARENA_MIN_CHUNK;
    a->parent = NULL;
}

void tg_arena_init_child(struct tg_arena *a, void *block, size_t size, struct tg_arena *parent)
{
    tg_arena_init(a, block, size);
    a->parent = parent;
}

void tg_arena_free(struct tg_arena *a)
{
    struct tg_arena_chunk *c = a->chunks;
    while (c) {
        struct tg_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->chunks = NULL;
    a->cur = a->end = NULL;
}

static void *tg_arena_new_chunk(struct tg_arena *a, size_t n)
{
    size_t size = a->next_size;
    int own = n > size / 2;
    if (own)
        size = n;
    if (a->parent) { /* the parent keeps (and frees) it */
        char *d = tg_arena_alloc(a->parent, size);
        if (own)
            return d;
        a->next_size = size * 2 > (1u << 20) ? (1u << 20) : size * 2;
        a->cur = d + n;
        a->end = d + size;
        return d;
    }
    struct tg_arena_chunk *c = tg_xmalloc(sizeof(*c) + size);
    c->size = size;
    c->next = a->chunks;
    a->chunks = c;
    if (own)
        return c->data; /* current chunk stays in use */
    a->next_size = size * 2 > (1u << 20) ? (1u << 20) : size * 2;
    a->cur = c->data + n;
    a->end = c->data + size;
    return c->data;
}

void *tg_arena_alloc(struct tg_arena *a, size_t n)
{
    uintptr_t p = ((uintptr_t)a->cur + 7) & ~(uintptr_t)7;
    if (a->cur && p + n <= (uintptr_t)a->end) {
        a->cur = (char *)(p + n);
        return (void *)p;
    }
    return tg_arena_new_chunk(a, (n + 7) & ~(size_t)7);
}

struct tg_str tg_arena_strndup(struct tg_arena *a, const char *p, size_t n)
{
    char *d;
    if (a->cur && (size_t)(a->end - a->cur) > n) {
        d = a->cur; /* strings need no alignment */
        a->cur += n + 1;
    } else {
        d = tg_arena_alloc(a, n + 1);
    }
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return tg_str_make(d, n);
}

size_t tg_arena_used(const struct tg_arena *a)
{
    size_t total = 0;
    for (const struct tg_arena_chunk *c = a->chunks; c; c = c->next)
        total += c->size;
    return total;
}
