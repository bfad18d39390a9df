/*
 * model.h - the in-memory form of a policy snapshot, shared by the loaders
 * (ldif.c, sudoers_json.c, accounts.c), the index builder (snapshot.c) and
 * the evaluators (hbac.c, sudo.c).  Not a public API: callers outside
 * policy/ use snapshot.h and policy.h.
 *
 * Design: every name lives in one of a few namespaces (users, user groups,
 * hosts, host groups, HBAC services, service groups, netgroups), interned in
 * a case-insensitive map to a dense index.  Membership is stored as direct
 * parent edges while loading; snapshot.c then precomputes for every user,
 * host and service the sorted, transitive set of its groups, and the HBAC
 * rule index (rules by user name, by user group, and user category ALL), so
 * a decision never walks all rules or re-expands nested groups.
 *
 * Ownership: all strings and arrays belong to the snapshot (one heap pool,
 * freed with it).  After tg_snapshot_load returns, nothing here is written
 * again, so any number of worker threads may read it.
 */
#ifndef TG_POLICY_MODEL_H
#define TG_POLICY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "policy/strmap.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* A sorted array of dense ids. */
struct tg_idlist {
    uint32_t *v;
    uint32_t n, cap;
};

enum tg_ns {
    TG_NS_USER = 0,
    TG_NS_GROUP,
    TG_NS_HOST,
    TG_NS_HOSTGROUP,
    TG_NS_SERVICE,
    TG_NS_SVCGROUP,
    TG_NS_NETGROUP,
    TG_NS_COUNT
};

/* A netgroup triple (host, user, domain); NULL field = wildcard. */
struct tg_netgr_triple {
    const char *host, *user;
};

struct tg_entity {
    const char *name;
    const char *file; /* where it was defined; NULL when only referenced */
    int line;
    const char *ref_file; /* first reference by a rule (lint) */
    int ref_line;
    int64_t uid, gid; /* users: uidNumber/gidNumber; groups: gidNumber; -1 unknown */
    const char *shell, *home;
    struct tg_idlist parents;        /* direct memberships (group namespace of this ns) */
    struct tg_idlist closure;        /* users/hosts/services: transitive groups, sorted */
    struct tg_netgr_triple *triples; /* netgroups */
    size_t ntriples;
    struct tg_idlist children; /* netgroups: nested netgroups */
};

struct tg_nstable {
    struct tg_strmap map;
    struct tg_entity *v;
    uint32_t n, cap;
};

/* ---- HBAC ---- */
struct tg_hbac_el {
    bool all;
    struct tg_idlist names;  /* ids in the element's name namespace */
    struct tg_idlist groups; /* ids in its group namespace */
};

struct tg_hbac_rule {
    const char *name, *file;
    int line;
    bool enabled, allow;
    struct tg_hbac_el users, hosts, services;
};

/* Compressed sparse rows: rules[off[i] .. off[i+1]) for key i. */
struct tg_csr {
    uint32_t *off;
    uint32_t *rules;
};

#define TG_HOST_AMBIGUOUS (TG_STRMAP_NONE - 1)

struct tg_gid_group {
    int64_t gid;
    uint32_t group;
};

/* ---- sudo ---- */
enum tg_sudo_mtype {
    TG_SM_ALL = 0,
    TG_SM_NAME,     /* user name or host name pattern */
    TG_SM_ID,       /* #uid */
    TG_SM_GROUP,    /* %group (also %:nonunix) */
    TG_SM_GID,      /* %#gid */
    TG_SM_NETGROUP, /* +netgroup (hosts: also IdM host groups) */
    TG_SM_NETADDR,  /* address or network: only the audited machine's interfaces match */
    TG_SM_ALIAS,    /* resolved to a list */
    TG_SM_MYSELF,   /* runas (): the invoking user */
    TG_SM_CMD,
    TG_SM_BROKEN /* unresolvable: never matches (reported by lint) */
};

struct tg_sudo_list;

struct tg_sudo_cmd {
    char *path;          /* "sudoedit", a path, a dir ending '/', or a regex */
    char *args;          /* NULL: any args; "\"\"": none */
    pcre2_code *path_re; /* path is ^...$ */
    pcre2_code *args_re; /* args is ^...$ */
    bool has_meta;       /* glob characters in path */
};

struct tg_sudo_member {
    uint8_t type;
    bool negated;
    char *str;
    int64_t num;
    const struct tg_sudo_list *alias;
    struct tg_sudo_cmd *cmd;
};

struct tg_sudo_list {
    struct tg_sudo_member *v;
    size_t n, cap;
};

struct tg_sudo_cmndspec {
    struct tg_sudo_list *runasusers, *runasgroups; /* NULL: absent */
    struct tg_sudo_member cmnd;
    int64_t notbefore, notafter; /* epoch seconds, INT64_MIN/MAX when unset */
};

struct tg_sudo_priv {
    struct tg_sudo_list hosts;
    struct tg_sudo_cmndspec *cs;
    size_t ncs, capcs;
};

/* One user spec (sudoers) or one sudoRole (LDAP). */
struct tg_sudo_spec {
    const char *name, *file;
    int line;
    double order; /* LDAP sudoOrder; sudoers: position */
    bool ldap;
    struct tg_sudo_list users;
    struct tg_sudo_priv *privs;
    size_t nprivs, capprivs;
};

/* ---- a host's own accounts ----
 * A passwd file whose first line is "# host: NAME [NAME...]" holds the
 * local accounts of those hosts (their /etc/passwd, `getent passwd -s
 * files`): a uid a record of one of them names is looked up there first,
 * as NSS does with "passwd: files sss", then among the directory's users.
 * Its accounts are not users of the snapshot: the policy knows only the
 * directory's (and unscoped passwd files'), so a local account is judged
 * as one the snapshot does not know. */
struct tg_local_user {
    int64_t uid;
    const char *name;
    int line;
};

struct tg_local_passwd {
    const char *file;
    struct tg_local_user *v;
    size_t n, cap;
};

struct tg_uid_user {
    int64_t uid;
    uint32_t user; /* entity id; the first user defined with the uid */
};

/* A problem found while loading: "file:line: message". */
struct tg_problem {
    const char *file;
    int line;     /* 0: the file as a whole */
    bool warning; /* false: an entry or file could not be used */
    bool damage;  /* the content could not be read as written (tg_snap_damage) */
    char *msg;
};

struct tg_snapshot_data {
    struct tg_arena arena; /* strings and fixed-size objects */
    struct tg_nstable ns[TG_NS_COUNT];

    struct tg_hbac_rule *hbac;
    size_t nhbac, caphbac;
    size_t hbac_enabled, hbac_disabled, hbac_nonallow;
    /* index over enabled allow rules, rule ids ascending */
    struct tg_csr hbac_by_user, hbac_by_group;
    uint32_t *hbac_user_all;
    size_t nhbac_user_all;

    struct tg_sudo_spec *sudo; /* evaluation order: sudoers files, then LDAP by sudoOrder */
    size_t nsudo, capsudo;
    size_t nsudo_json, nsudo_ldap, nsudo_ipa;
    struct tg_sudo_list **lists; /* every allocated list (aliases, runas) for freeing */
    size_t nlists, caplists;
    /* sudo index: specs whose user list can match only by name or group are
     * listed under those keys, the rest (ALL, negations, ids, netgroups)
     * under "always"; all lists in ascending spec order. */
    struct tg_strmap sudo_ukeys;               /* user name -> key of sudo_by_user */
    struct tg_csr sudo_by_user, sudo_by_group; /* by group: user-group entity id */
    uint32_t *sudo_always;
    size_t nsudo_always;
    struct tg_gid_group *gid_groups; /* (gid, group id) sorted by gid */
    size_t ngid_groups;
    struct tg_strmap cmd_paths;  /* plain command paths named by sudo rules */
    size_t users_defined;        /* users with a passwd/LDIF entry */
    struct tg_strmap host_short; /* short name -> host id (TG_STRMAP_NONE - 1: ambiguous) */
    char *secure_path;
    char *runas_default;
    struct tg_local_passwd *locals; /* host-scoped passwd files */
    size_t nlocals, caplocals;
    struct tg_strmap local_by_host; /* host name (and its short name) -> index into locals */
    struct tg_uid_user *uid_users;  /* defined users with a uid, sorted by uid */
    size_t nuid_users;

    struct tg_problem *problems;
    size_t nproblems, capproblems;
    size_t ndamage; /* problems that are damage: tg_snapshot_load fails */
    size_t nfiles;
    const char **file_kinds; /* per file "ldif", "sudoers-json", ... */
    const char **file_names;
    pcre2_code **res; /* compiled regexes, freed with the snapshot */
    size_t nres, capres;
    void *ldif_pending; /* ldif.c: IdM sudo entries resolved by tg_ldif_finish */
};

/* ---- helpers shared by the loaders (snapshot.c) ---- */

/* Intern `name` in namespace ns; returns its id.  The string is copied. */
uint32_t tg_snap_intern(struct tg_snapshot_data *d, enum tg_ns ns, const char *name, size_t len);
/* Id of name in ns, or TG_STRMAP_NONE. */
uint32_t tg_snap_find(const struct tg_snapshot_data *d, enum tg_ns ns, const char *name,
                      size_t len);
/* Record a finding about what the files say (printf-style): a reference to
 * an undefined entry, a rule that can never match, a value sudo or SSSD
 * would not use.  warning=false: something was not used.  The snapshot
 * still loads; `policy lint` and the load log show the finding. */
void tg_snap_problem(struct tg_snapshot_data *d, const char *file, int line, bool warning,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Record damage (printf-style): content that could not be read as written
 * (an unreadable or unparsable file, a line the file's syntax does not
 * allow, an entry that had to be dropped).  An error that makes
 * tg_snapshot_load fail, since the rest of the snapshot would give wrong
 * verdicts; the message says what to do (line 0: the whole file). */
void tg_snap_damage(struct tg_snapshot_data *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Copy a string into the snapshot's lifetime (freed with it). */
char *tg_snap_strdup(struct tg_snapshot_data *d, const char *s, size_t n);
char *tg_snap_printf(struct tg_snapshot_data *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tg_idlist_add(struct tg_idlist *l, uint32_t id);       /* append (unsorted) */
void tg_idlist_sort(struct tg_idlist *l);                   /* sort + dedupe */
bool tg_idlist_has(const struct tg_idlist *l, uint32_t id); /* l sorted */

/* New sudo spec appended to d->sudo; new priv/cmndspec/list helpers. */
struct tg_sudo_spec *tg_sudo_spec_new(struct tg_snapshot_data *d, const char *name,
                                      const char *file, int line);
struct tg_sudo_priv *tg_sudo_priv_new(struct tg_sudo_spec *s);
struct tg_sudo_cmndspec *tg_sudo_cs_new(struct tg_sudo_priv *p);
struct tg_sudo_member *tg_sudo_list_add(struct tg_sudo_list *l);
struct tg_sudo_list *tg_sudo_list_new(struct tg_snapshot_data *d);
/* Parse a sudo command "PATH [ARGS]" (sudoers/sudoRole text form) into m;
 * returns 0 or TG_EINVAL with *err set to a static sentence. */
int tg_sudo_cmd_parse(struct tg_snapshot_data *d, struct tg_sudo_member *m, const char *text,
                      const char **err);
/* Seconds since the epoch of a sudoNotBefore/NOTAFTER value
 * ("YYYYMMDDHHMMSSZ", minutes and seconds optional), or INT64_MIN. */
int64_t tg_sudo_gentime(const char *s);
/* Parse a sudoUser/sudoHost/sudoRunAs* value ("%g", "#1", "+ng", "!x", "ALL")
 * into m (str copied).  host: host-list rules (addresses, no ids). */
void tg_sudo_member_parse(struct tg_snapshot_data *d, struct tg_sudo_member *m, const char *v,
                          bool host);

/* Build the sudo index (after closures).  snapshot.c, at load. */
void tg_sudo_index(struct tg_snapshot_data *d);

/* Loaders: each reads one file's bytes; problems and damage go to d. */
void tg_ldif_load(struct tg_snapshot_data *d, const char *file, const char *text, size_t len);
void tg_ldif_finish(struct tg_snapshot_data *d); /* resolve ipaSudoRule after all files */
void tg_sudoers_json_load(struct tg_snapshot_data *d, const char *file, const char *text,
                          size_t len);
void tg_accounts_load(struct tg_snapshot_data *d, const char *file, const char *text, size_t len,
                      const char *kind);
/* "passwd", "group", "netgroup" or NULL when text is none of those. */
const char *tg_accounts_kind(const char *text, size_t len);

#endif
