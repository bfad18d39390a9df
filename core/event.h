/*
 * event.h - the normalized event: one record in, one event out.
 *
 * An event owns one arena (arena.h); every string field is a tg_str slice
 * into that arena or into the raw record (which the arena also holds, since
 * the raw record is always kept).  Absent fields have p == NULL (strings) or
 * TG_NUM_NONE (numbers) and are never serialized: a field the record does
 * not carry is absent, never an empty string or a guess (SPEC.md section 3).
 *
 * event.id = first 128 bits of SHA-256(origin host | syslog timestamp text |
 * record bytes | id_salt), where the origin host is host.name or else the
 * input peer.  A record resent after a RELP reconnect has the same bytes and
 * gets the same id; a file record's salt is its file's identity and the byte
 * offset of its first line (ingest/intake.h), so one re-read from the same
 * position after a restart gets the same id, and an identical line elsewhere
 * in the file another.
 *
 * Life cycle, and which thread touches the event:
 *   source thread  tg_event_new()        raw bytes + input metadata copied in
 *   worker         tg_parse_event()      parsers fill fields (parsers/parse.h)
 *   worker         policy verdict        (policy/) fills ev->policy
 *   worker         tg_event_finish()     computes event.id, serializes JSON once
 *   sink threads   read ev->json only    the same bytes go to every sink
 *   last owner     tg_event_free()       one call frees everything
 * Between stages the event is handed over through queues; it is never shared
 * for writing.
 */
#ifndef TG_EVENT_H
#define TG_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

#define TG_NUM_NONE INT64_MIN

/* A point in time with the precision the source had. */
struct tg_time {
    int64_t sec;  /* seconds since the epoch, UTC */
    int32_t nsec; /* 0..999999999 */
    int8_t frac;  /* fractional digits the source had: 0, 3, 6 or 9; -1 = absent */
};

#define TG_TIME_NONE ((struct tg_time){0, 0, -1})

/* TG_DS_INTERNAL: trailguard's own records (parsers/internal.c); their
 * dataset name ("trailguard.checkpoint", ...) is in ev->dataset_name. */
enum tg_dataset { TG_DS_SYSLOG = 0, TG_DS_SNOOPY, TG_DS_PERCONA, TG_DS_INTERNAL, TG_DS_SUDO };
enum tg_outcome { TG_OUTCOME_UNKNOWN = 0, TG_OUTCOME_SUCCESS, TG_OUTCOME_FAILURE };
enum tg_parse_status { TG_PARSE_OK = 0, TG_PARSE_PARTIAL, TG_PARSE_UNPARSED };
enum tg_decision {
    TG_DECISION_NONE = 0, /* policy not evaluated: the field is omitted */
    TG_DECISION_ALLOW,
    TG_DECISION_DENY,
    TG_DECISION_NOT_APPLICABLE
};
enum tg_check { TG_CHECK_NONE = 0, TG_CHECK_HBAC, TG_CHECK_SUDO, TG_CHECK_HBAC_SUDO };

/* Where a record came from; filled by the intake. */
struct tg_input_meta {
    const char *type;   /* "relp", "file", "stdin", "omprog", "internal" (static string) */
    struct tg_str peer; /* RELP peer IP, or the file path; copied into the arena */
};

#define TG_EVENT_MAX_CATEGORY 3

/* The parse context of a record's source: parsers/parse.h's, opaque here. */
struct tg_parse_ctx;

/*
 * The memory the events of one batch live in (pipeline.h): their structs,
 * raw records and parser strings come from `arena`, and their JSON is
 * written into `scratch` and then copied there.  Freeing an event of a pool
 * releases none of it; the pool is reset as a whole when the batch is done
 * (and reused).  One owner at a time, like the batch.
 */
struct tg_event_pool {
    struct tg_arena arena;
    struct tg_buf scratch;
};

/* The string values of ev->json that the store's skip index reads, in the
 * order of its paths (sinks/skipidx.c checks it); each one's text between
 * its quotes, still escaped, at json.data + off (off 0: absent). */
enum tg_json_val {
    TG_JV_USER,         /* user.name */
    TG_JV_EUSER,        /* user.effective.name */
    TG_JV_HOST,         /* host.name */
    TG_JV_EXE,          /* process.executable */
    TG_JV_DATASET,      /* event.dataset */
    TG_JV_ACTION,       /* event.action */
    TG_JV_DECISION,     /* trailguard.policy.decision */
    TG_JV_COMMAND_LINE, /* process.command_line */
    TG_JV_DB_STATEMENT, /* trailguard.db.statement */
    TG_JV_N
};
struct tg_jspan {
    uint32_t off, len;
};

struct tg_event {
    struct tg_arena arena;
    struct tg_str original; /* the record as received (always present) */

    /* event.* */
    enum tg_dataset dataset;
    struct tg_str dataset_name;                      /* TG_DS_INTERNAL: the record's dataset */
    struct tg_str action;                            /* "exec", "connect", "query", ... */
    const char *category[TG_EVENT_MAX_CATEGORY + 1]; /* NULL-terminated static strings */
    const char *type[TG_EVENT_MAX_CATEGORY + 1];
    enum tg_outcome outcome;
    struct tg_time timestamp; /* @timestamp; when absent the syslog or receive time is used */
    struct tg_time ingested;  /* receive time */
    char id[33];              /* event.id, hex; set by tg_event_finish */
    uint8_t id_bin[16];       /* the same 128 bits (dedup's key) */

    struct tg_str host_name;
    struct tg_str message; /* ECS message: an internal record's sentence */

    struct tg_str user_name, user_id; /* user_id only when it is user_name's */
    struct tg_str user_eff_name, user_eff_id;
    /* process.real_user: the real user, when user_name is a login name of
     * someone else (alice logged in, then became root with sudo -i) */
    struct tg_str user_real_name, user_real_id;

    int64_t pid, ppid, session_leader_pid;
    struct tg_str executable, command_line, working_directory, tty;
    /* process.args (the argv, when the record gives it word by word: sudo's
     * log line), process.exit_code, user.effective.group.name */
    struct tg_str *args;
    size_t nargs;
    int64_t exit_code;
    struct tg_str user_eff_group;
    /* user.target.*: whom a sudo command runs as (sudo's log line gives it;
     * for a sudo exec the policy stage reads it from the argv) */
    struct tg_str user_target_name, user_target_group;

    struct tg_str source_ip, source_address;
    int64_t source_port;

    struct tg_str db_name, db_statement, db_operation, db_connection_id, db_os_user,
        db_connection_type;
    int64_t db_status;

    /* log.syslog.* (the envelope); hostname also feeds host_name */
    struct tg_str sl_hostname, sl_appname, sl_procid, sl_msgid;
    struct tg_str sl_structured_data; /* RFC 5424 SD as JSON object text (syslog parser) */
    int64_t sl_facility, sl_severity;
    struct tg_time sl_timestamp;
    struct tg_str sl_timestamp_text; /* exact header timestamp, part of event.id */
    struct tg_str body;              /* MSG part after the envelope (or the whole record) */

    /* trailguard.* */
    /* an internal record's data: JSON object text written raw under
     * trailguard.<internal_key> (the dataset without "trailguard.") */
    struct tg_str internal_key, internal_data;
    struct {
        enum tg_decision decision;
        enum tg_check check;
        struct tg_str rule; /* NULL: serialized as null */
        struct tg_str reason;
        struct tg_str snapshot;
        struct tg_str in_force; /* the snapshot in force when a grace verdict came from the
                                   previous one (policy.h), else NULL */
        bool drift;             /* the host's own decision differs from decision */
    } policy;
    /* a host's own access decision as its log line gives it (sudo: accepted
     * or refused by its policy), TG_DECISION_NONE when the record does not
     * say; and the trailguard.sudo object (JSON text, parsers/sudo.c) */
    enum tg_decision host_decision;
    struct tg_str sudo_data;
    /* trailguard.sudo.command: the command a sudo exec or line runs, as sudo
     * matches it (full path and arguments; the policy stage resolves it) */
    struct tg_str sudo_command;
    /* trailguard.user.name_from, trailguard.user.effective.name_from: where
     * user.name / user.effective.name came from when the record gave only
     * the id (the policy snapshot's file:line, policy.c) */
    struct tg_str user_name_from, user_eff_name_from;
    /* event.hash (hex) of the record as received, and trailguard.mask and
     * trailguard.filter (JSON object texts), when [filter] masked the event
     * or a sample rule kept it (core/sieve.h) */
    struct tg_str hash, mask_data, filter_data;
    struct tg_input_meta input;
    enum tg_parse_status parse_status;
    struct tg_str parse_error; /* reasons, "; "-joined, for partial/unparsed */

    /* pipeline bookkeeping (not serialized) */
    const struct tg_parse_ctx *parser; /* how to parse it (the intake sets it); NULL: default */
    uint64_t spool_seq;                /* position in the spool, 0 when not spooled */
    bool truncated;        /* the source cut the record (size limit): parse marks it partial */
    struct tg_str id_salt; /* the record's position in its source (file identity and offset),
                              part of event.id, so equal lines at different places stay
                              distinct; arena */
    bool duplicate;        /* dropped by dedup: not written to sinks */
    bool filtered;         /* dropped by a [filter] rule: not written to sinks, still
                              confirmed (core/sieve.h) */
    uint8_t sinks_done;    /* replayed: bit i set = sink i confirmed it in an earlier run */
    struct tg_buf json;    /* the serialized event, without the trailing newline */
    /* where the serializer put the values the store's skip index reads, so
     * the file sink need not walk the line again (sinks/skipidx.h); false
     * when raw JSON of the record's own (an internal record's data) could
     * shadow one of their paths */
    struct tg_jspan json_vals[TG_JV_N];
    bool json_vals_ok;
    struct tg_event_pool *pool; /* the memory it lives in, or NULL: its own (the heap) */
};

/*
 * Create an event holding a copy of [raw, raw+len) and the input metadata.
 * Any thread; the caller owns the result.
 */
struct tg_event *tg_event_new(const char *raw, size_t len, const struct tg_input_meta *in,
                              struct tg_time received);
/*
 * The same in `pool` (a batch's, tg_source_begin): the event, its strings
 * and its JSON live in the pool's memory, so neither making nor freeing it
 * allocates.  The pool's owner's thread.
 */
struct tg_event *tg_event_new_in(struct tg_event_pool *pool, const char *raw, size_t len,
                                 const struct tg_input_meta *in, struct tg_time received);
/* Free an event (of a pool: only what it took from the heap, nothing). */
void tg_event_free(struct tg_event *ev);

/* Copy a string into the event's arena. */
struct tg_str tg_event_strdup(struct tg_event *ev, const char *p, size_t n);

/*
 * Mark the event partial (or keep it unparsed) and append `reason` to
 * parse.error.  Reasons are static or arena strings; duplicates are skipped.
 */
void tg_event_partial(struct tg_event *ev, const char *reason);

/* Compute event.id (SPEC.md section 3) and serialize ev->json.  Worker thread. */
void tg_event_finish(struct tg_event *ev);
/* Only compute event.id (tg_event_finish's first half), for a stage that
 * needs the id before the event is serialized.  Worker thread. */
void tg_event_id(struct tg_event *ev);

/* process.name: the last component of process.executable, else of the
 * first argument; TG_STR_NULL when the record has neither.  Any thread. */
struct tg_str tg_event_process_name(const struct tg_event *ev);

/* The ECS version whose field names and types the events follow. */
#define TG_ECS_VERSION "8.11.0"

/* Serialize ev into ev->json (event_json.c); part of tg_event_finish, exposed
 * for benchmarks.  Worker thread. */
void tg_event_serialize(struct tg_event *ev);

/* Names as serialized: event.dataset per enum tg_dataset (TG_DS_INTERNAL:
 * "trailguard", the events carry their own), trailguard.decision per enum
 * tg_decision (NULL for TG_DECISION_NONE).  Read-only. */
extern const char *const tg_dataset_name[];
extern const char *const tg_decision_name[];

/* Current time (CLOCK_REALTIME) with microsecond precision. */
struct tg_time tg_time_now(void);

#endif
