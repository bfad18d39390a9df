/*
 * dedup.h - drop repeats of an event.id seen within `dedup_window` seconds
 * (SPEC.md section 6: replays and RELP resends repeat records).
 *
 * Design: a FIFO ring of (id, time) in arrival order plus an open-addressing
 * hash index into the ring.  Entries older than the window, or the oldest
 * when the ring is at its size limit, leave from the ring head (each such
 * early eviction is counted: a repeat after it would pass).  The ring grows
 * by doubling up to `max_entries`, so memory follows the real rate.
 *
 * Not thread-safe: the pipeline calls it from its single dispatcher thread.
 */
#ifndef TG_DEDUP_H
#define TG_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct tg_dedup;

struct tg_dedup_stats {
    uint64_t seen, duplicates, evicted_early; /* evicted before the window ended */
    size_t entries;
};

/* window_s 0 disables (every event passes); max_entries 0: 4 Mi entries. */
struct tg_dedup *tg_dedup_new(int64_t window_s, size_t max_entries);
void tg_dedup_free(struct tg_dedup *d);

/* True when `id` (the 16 bytes of an event.id, tg_event.id_bin) was seen
 * within the window at time `now_s`; records it otherwise. */
bool tg_dedup_check(struct tg_dedup *d, const uint8_t id[16], int64_t now_s);

/* pipeline conf.is_duplicate: tg_dedup_check(ev->id, monotonic now); false
 * for an event a [filter] rule dropped. */
bool tg_dedup_is_duplicate(void *dedup, const struct tg_event *ev);

void tg_dedup_stats(const struct tg_dedup *d, struct tg_dedup_stats *st);

#endif
