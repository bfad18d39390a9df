/*
 * in_internal.h - the internal source: trailguard's own records
 * (core/internal_rec.h: the file sink's signed checkpoints, later health
 * events) go through the intake like any record -- spooled, replayed after a
 * crash, parsed (parsers/internal.h) and delivered to every sink but the
 * one that announced it.
 *
 * Records come in two ways, neither of which blocks: a sink announces one
 * (tg_sink_announce; the composition layer points the pipeline's announce
 * hook at tg_internal_announce), any other part of the collector emits one
 * (tg_internal_emit).  Both copy the record into a bounded queue; when it
 * is full the record is dropped, counted (trailguard_internal_records_
 * dropped_total) and logged once per episode.  The source's thread hands
 * the queued records to the intake, which confirms each for the sink that
 * announced it at once (it never gets its own record back, not on a replay
 * either).
 *
 * Life cycle (tg_in_internal, started by the composition before the
 * pipeline starts): stop() ends the thread before the pipeline drains, like
 * any source; records announced meanwhile (a sink's last checkpoint as it
 * closes) wait in the queue, and finish(), after the drain, puts them in the
 * spool for the next start (without a spool, as in `ingest`, they are
 * dropped and counted).
 */
#ifndef TG_IN_INTERNAL_H
#define TG_IN_INTERNAL_H

#include <stddef.h>

#include "core/buf.h"
#include "ingest/source.h"

/* The pipeline's announce hook (tg_announce_fn); ctx is the started
 * tg_in_internal input.  Any thread; never blocks. */
void tg_internal_announce(void *ctx, size_t from_sink, const char *rec, size_t len);

/*
 * Emit an internal record (built by tg_internal_rec_build) to every sink,
 * through the running internal source.  0, TG_EFULL (its queue is full) or
 * TG_ECLOSED (none runs); a record not taken is counted as dropped.  Any
 * thread; never blocks.
 */
int tg_internal_emit(const char *rec, size_t len);

#endif
