/*
 * limits.h - the size limits every part of trailguard shares, in one place.
 *
 * TG_RECORD_MAX is the largest record (the bytes of one message or line as
 * received) that any source hands on: a source cuts a longer one there and
 * marks it truncated (the event becomes partial, nothing is dropped).  A
 * configured limit such as [input.relp] max_message may only be lower.  The
 * spool accepts every record up to this size with its metadata, so a record
 * that was acknowledged is always readable again (issue: a 64 MiB RELP
 * message was acked, then called corrupt on replay).
 */
#ifndef TG_LIMITS_H
#define TG_LIMITS_H

#define TG_RECORD_MAX (64u << 20)

#endif
