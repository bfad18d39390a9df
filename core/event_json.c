/*
 * event_json.c - serialize an event to its one JSON line (SPEC.md section 3).
 *
 * Field order follows the SPEC example.  Objects are opened lazily (json.h),
 * so an object all of whose fields are absent does not appear.  The bytes
 * written here are what every sink receives.  trailguard.parse is written
 * last so that anything the writer had to repair (invalid UTF-8) can still
 * mark the event partial with the reason.  An internal record's data object
 * (parsers/internal.c checked it) is written raw as trailguard.<its name>,
 * before trailguard.input.
 *
 * Field names are ECS 8.11's (TG_ECS_VERSION, in ecs.version); what ECS
 * has no field for is under trailguard.*, at the path ECS would put it
 * (trailguard.db.*, trailguard.process.tty.name), so that no name can
 * clash with ECS now or later (README's table of custom fields;
 * tests/ecs/fields.py checks every name against ECS's list and the
 * index templates in deploy/).  event.module is the part of event.dataset
 * before its first dot.
 */
#include <string.h>

#include "core/event.h"
#include "core/json.h"

const char *const tg_dataset_name[] = {[TG_DS_SYSLOG] = "syslog",
                                       [TG_DS_SNOOPY] = "snoopy",
                                       [TG_DS_PERCONA] = "percona.audit",
                                       [TG_DS_INTERNAL] = "trailguard",
                                       [TG_DS_SUDO] = "sudo"};
static const char *const tg_outcome_name[] = {[TG_OUTCOME_UNKNOWN] = "unknown",
                                              [TG_OUTCOME_SUCCESS] = "success",
                                              [TG_OUTCOME_FAILURE] = "failure"};
static const char *const tg_status_name[] = {
    [TG_PARSE_OK] = "ok", [TG_PARSE_PARTIAL] = "partial", [TG_PARSE_UNPARSED] = "unparsed"};
const char *const tg_decision_name[] = {[TG_DECISION_NONE] = NULL,
                                        [TG_DECISION_ALLOW] = "allow",
                                        [TG_DECISION_DENY] = "deny",
                                        [TG_DECISION_NOT_APPLICABLE] = "not_applicable"};
static const char *const tg_check_name[] = {[TG_CHECK_NONE] = NULL,
                                            [TG_CHECK_HBAC] = "hbac",
                                            [TG_CHECK_SUDO] = "sudo",
                                            [TG_CHECK_HBAC_SUDO] = "hbac+sudo"};

static struct tg_str tg_basename(struct tg_str path)
{
    const char *slash = path.len ? memrchr(path.p, '/', path.len) : NULL;
    return slash ? tg_str_make(slash + 1, path.len - (size_t)(slash + 1 - path.p)) : path;
}

struct tg_str tg_event_process_name(const struct tg_event *ev)
{
    struct tg_str n = ev->executable.p ? tg_basename(ev->executable)
                      : ev->nargs      ? tg_basename(ev->args[0])
                                       : TG_STR_NULL;
    return n.len ? n : TG_STR_NULL;
}

void tg_event_serialize(struct tg_event *ev)
{
    struct tg_jw w;
    unsigned fl = 0, orig_fl = 0;
    struct tg_time ts = ev->timestamp.frac >= 0      ? ev->timestamp
                        : ev->sl_timestamp.frac >= 0 ? ev->sl_timestamp
                                                     : ev->ingested;

    /* an event of a batch is written into the batch's buffer and copied
     * into the batch's memory: no allocation per event */
    struct tg_buf *out = ev->pool ? &ev->pool->scratch : &ev->json;
    tg_buf_reset(out);
    tg_buf_reserve(out, 512 + ev->original.len * 2);
    struct tg_jspan *at = ev->json_vals;
    memset(at, 0, sizeof(ev->json_vals));
    ev->json_vals_ok = !ev->internal_data.p;
    tg_jw_begin(&w, out);
    tg_jw_time(&w, "@timestamp", ts);
    tg_jw_open(&w, "ecs");
    tg_jw_cstr(&w, "version", TG_ECS_VERSION);
    tg_jw_close(&w);

    tg_jw_open(&w, "event");
    tg_jw_cstr(&w, "id", ev->id);
    tg_jw_cstr(&w, "kind", "event");
    struct tg_str dataset = ev->dataset == TG_DS_INTERNAL && ev->dataset_name.p
                                ? ev->dataset_name
                                : tg_str_c(tg_dataset_name[ev->dataset]);
    const char *dot = memchr(dataset.p, '.', dataset.len);
    tg_jw_str(&w, "module", dot ? tg_str_make(dataset.p, (size_t)(dot - dataset.p)) : dataset, &fl);
    tg_jw_str_at(&w, "dataset", dataset, &fl, &at[TG_JV_DATASET]);
    tg_jw_str_array(&w, "category", ev->category);
    tg_jw_str_array(&w, "type", ev->type);
    tg_jw_str_at(&w, "action", ev->action, &fl, &at[TG_JV_ACTION]);
    tg_jw_cstr(&w, "outcome", tg_outcome_name[ev->outcome]);
    tg_jw_time(&w, "ingested", ev->ingested);
    tg_jw_str(&w, "original", ev->original, &orig_fl);
    tg_jw_str(&w, "hash", ev->hash, NULL);
    tg_jw_close(&w);

    tg_jw_open(&w, "host");
    tg_jw_str_at(&w, "name", ev->host_name, &fl, &at[TG_JV_HOST]);
    tg_jw_close(&w);
    tg_jw_str(&w, "message", ev->message, &fl);

    tg_jw_open(&w, "user");
    tg_jw_str_at(&w, "name", ev->user_name, &fl, &at[TG_JV_USER]);
    tg_jw_str(&w, "id", ev->user_id, &fl);
    tg_jw_open(&w, "effective");
    tg_jw_str_at(&w, "name", ev->user_eff_name, &fl, &at[TG_JV_EUSER]);
    tg_jw_str(&w, "id", ev->user_eff_id, &fl);
    tg_jw_open(&w, "group");
    tg_jw_str(&w, "name", ev->user_eff_group, &fl);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_open(&w, "target");
    tg_jw_str(&w, "name", ev->user_target_name, &fl);
    tg_jw_open(&w, "group");
    tg_jw_str(&w, "name", ev->user_target_group, &fl);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_close(&w);

    tg_jw_open(&w, "process");
    tg_jw_int(&w, "pid", ev->pid);
    tg_jw_str(&w, "name", tg_event_process_name(ev), &fl);
    tg_jw_open(&w, "parent");
    tg_jw_int(&w, "pid", ev->ppid);
    tg_jw_close(&w);
    tg_jw_str_at(&w, "executable", ev->executable, &fl, &at[TG_JV_EXE]);
    tg_jw_str_at(&w, "command_line", ev->command_line, &fl, &at[TG_JV_COMMAND_LINE]);
    tg_jw_str_list(&w, "args", ev->args, ev->nargs, &fl);
    tg_jw_int(&w, "args_count", ev->nargs ? (int64_t)ev->nargs : TG_NUM_NONE);
    tg_jw_int(&w, "exit_code", ev->exit_code);
    tg_jw_str(&w, "working_directory", ev->working_directory, &fl);
    tg_jw_open(&w, "session_leader");
    tg_jw_int(&w, "pid", ev->session_leader_pid);
    tg_jw_close(&w);
    tg_jw_open(&w, "real_user");
    tg_jw_str(&w, "name", ev->user_real_name, &fl);
    tg_jw_str(&w, "id", ev->user_real_id, &fl);
    tg_jw_close(&w);
    tg_jw_close(&w);

    tg_jw_open(&w, "source");
    tg_jw_str(&w, "ip", ev->source_ip, &fl);
    tg_jw_int(&w, "port", ev->source_port);
    tg_jw_str(&w, "address", ev->source_address, &fl);
    tg_jw_close(&w);

    tg_jw_open(&w, "log");
    tg_jw_open(&w, "syslog");
    tg_jw_str(&w, "hostname", ev->sl_hostname, &fl);
    tg_jw_str(&w, "appname", ev->sl_appname, &fl);
    tg_jw_str(&w, "procid", ev->sl_procid, &fl);
    tg_jw_str(&w, "msgid", ev->sl_msgid, &fl);
    tg_jw_raw(&w, "structured_data", ev->sl_structured_data);
    tg_jw_open(&w, "facility");
    tg_jw_int(&w, "code", ev->sl_facility);
    tg_jw_close(&w);
    tg_jw_open(&w, "severity");
    tg_jw_int(&w, "code", ev->sl_severity);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_close(&w);

    tg_jw_open(&w, "trailguard");
    tg_jw_raw_at(&w, ev->internal_key, ev->internal_data);
    if (ev->policy.decision != TG_DECISION_NONE) {
        tg_jw_open(&w, "policy");
        tg_jw_str_at(&w, "decision", tg_str_c(tg_decision_name[ev->policy.decision]), NULL,
                     &at[TG_JV_DECISION]);
        tg_jw_cstr(&w, "check", tg_check_name[ev->policy.check]);
        if (ev->policy.rule.p)
            tg_jw_str(&w, "rule", ev->policy.rule, NULL);
        else
            tg_jw_null(&w, "rule");
        tg_jw_str(&w, "reason", ev->policy.reason, NULL);
        tg_jw_str(&w, "snapshot", ev->policy.snapshot, NULL);
        tg_jw_str(&w, "in_force", ev->policy.in_force, NULL);
        if (ev->policy.drift) {
            tg_jw_open(&w, "drift");
            tg_jw_cstr(&w, "host", tg_decision_name[ev->host_decision]);
            tg_jw_cstr(&w, "policy", tg_decision_name[ev->policy.decision]);
            tg_jw_close(&w);
        }
        tg_jw_close(&w);
    }
    tg_jw_open(&w, "sudo");
    tg_jw_str(&w, "command", ev->sudo_command, &fl);
    tg_jw_members(&w, ev->sudo_data);
    tg_jw_close(&w);
    tg_jw_open(&w, "db");
    tg_jw_str(&w, "name", ev->db_name, &fl);
    tg_jw_str_at(&w, "statement", ev->db_statement, &fl, &at[TG_JV_DB_STATEMENT]);
    tg_jw_str(&w, "operation", ev->db_operation, &fl);
    tg_jw_str(&w, "connection_id", ev->db_connection_id, &fl);
    tg_jw_int(&w, "status", ev->db_status);
    tg_jw_str(&w, "os_user", ev->db_os_user, &fl);
    tg_jw_str(&w, "connection_type", ev->db_connection_type, &fl);
    tg_jw_close(&w);
    tg_jw_open(&w, "process");
    tg_jw_open(&w, "tty");
    tg_jw_str(&w, "name", ev->tty, &fl);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_open(&w, "user");
    tg_jw_str(&w, "name_from", ev->user_name_from, NULL);
    tg_jw_open(&w, "effective");
    tg_jw_str(&w, "name_from", ev->user_eff_name_from, NULL);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_raw(&w, "mask", ev->mask_data);
    tg_jw_raw(&w, "filter", ev->filter_data);
    tg_jw_open(&w, "input");
    tg_jw_cstr(&w, "type", ev->input.type);
    tg_jw_str(&w, "peer", ev->input.peer, NULL);
    tg_jw_close(&w);
    if ((fl | orig_fl) & TG_JSON_INVALID_UTF8)
        tg_event_partial(ev, "invalid UTF-8 replaced with U+FFFD");
    tg_jw_open(&w, "parse");
    tg_jw_cstr(&w, "status", tg_status_name[ev->parse_status]);
    tg_jw_str(&w, "error", ev->parse_error, NULL);
    tg_jw_close(&w);
    tg_jw_close(&w);
    tg_jw_end(&w);
    if (ev->pool) {
        struct tg_str j = tg_arena_strndup(&ev->pool->arena, out->data, out->len);
        ev->json = (struct tg_buf){(char *)j.p, j.len, j.len + 1};
    }
}
