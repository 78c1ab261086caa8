/* registry.h - agent-registry's shared state and the pieces its modules use.
 *
 * Requests arrive over NATS on cc.registry.<kind>.<verb> (queue group
 * "registry", so replicas share them) as cc.v1.ObjectRequest; rpc.c runs
 * the generic verbs and calls each kind's hooks (kinds.c, users.c) for
 * permissions, defaults and validation. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include "cc/v1/registry.pb-c.h"
#include "cc_service.h"
#include "store.h"

struct registry {
    struct cc_service *svc;
    struct cc_redis *redis;
    struct cc_nats *nats;
    unsigned long long pw_ops; /* argon2id opslimit */
    size_t pw_mem;             /* argon2id memlimit, bytes */
    int login_max_fails;       /* failed sign-ins per (login, address) before delays */
    int login_lock_s;          /* the longest delay */
    int login_forget_s;        /* failures are forgotten after this long without one */
    struct cc_metric *m_login_lockouts;  /* delays imposed */
    struct cc_metric *m_login_throttled; /* sign-ins refused during a delay */
    int workers;               /* NATS subscriptions per subject */
    struct cc_metric *m_requests;
    struct timers *timers;     /* presence.c: the timer thread */
    struct ingest *ingest;     /* reports_ingest.c: status events waiting to be counted */
};

enum verb { VERB_CREATE, VERB_GET, VERB_LIST, VERB_UPDATE, VERB_DELETE, VERB_ARCHIVE,
            VERB_UNARCHIVE };

/* One request being served. */
struct op {
    struct registry *reg;
    const Cc__V1__Caller *caller; /* never NULL; fields may be */
    enum verb verb;
    const char *parent_id;        /* agent skills: the user */
    int include_archived;         /* users list: ?archived=true */
    char why[256];                /* message for the user when a hook fails */
};

struct kind {
    struct store_kind store;
    /* 403 unless the caller may do op->verb on obj (NULL for list/create). */
    enum cc_status (*authorize)(struct op *op, const ProtobufCMessage *obj);
    /* 0 hides obj from the caller (404 on get, left out of lists). */
    int (*visible)(struct op *op, const ProtobufCMessage *obj);
    /* Defaults and validation of a created or updated object; old is NULL
     * on create. 400 for bad values, 409 for conflicts. */
    enum cc_status (*prepare)(struct op *op, ProtobufCMessage *obj, const ProtobufCMessage *old);
    /* Refuses (409) or cascades before obj is deleted. */
    enum cc_status (*before_delete)(struct op *op, const ProtobufCMessage *obj);
    /* Removes what must never be answered to the caller of `op`. */
    void (*redact)(const struct op *op, ProtobufCMessage *obj);
};

/* The kinds, by name ("users", "teams", ...); NULL when unknown. */
const struct kind *kind_find(const char *name);
extern const struct kind kind_users, kind_teams, kind_skills, kind_queues, kind_pause_causes,
    kind_quick_replies, kind_results, kind_channels;

/* Archives or unarchives user `id`; *out is the resulting user. */
enum cc_status users_set_archived(struct op *op, const char *id, int archived,
                                  ProtobufCMessage **out);

/* Role checks on the caller. */
int caller_is(const struct op *op, const char *role);

/* Fails with `st` and a formatted message in op->why. */
enum cc_status op_fail(struct op *op, enum cc_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Permission switches (stored, with the SPEC defaults). Caller frees. */
enum cc_status permissions_get(struct registry *reg, Cc__V1__Permissions **out);

/* 1 when supervisor `user_id` is assigned to queue `q` (listed in its
 * supervisor_ids or in a supervisor_ids of one of its teams). */
int queue_assigned(struct registry *reg, const Cc__V1__Queue *q, const char *user_id);

/* Answers request `m` with cc.v1.ObjectReply {body = obj packed}. */
void registry_reply(struct registry *reg, const struct cc_nats_msg *m, const ProtobufCMessage *obj);

/* 1 when `id` is one of the `n` ids. */
int ids_contain(char *const *ids, size_t n, const char *id);

/* Publishes cc.registry.changed.<kind>. */
void registry_changed(struct registry *reg, const char *kind, const char *id, const char *what,
                      const Cc__V1__Caller *by);

/* Serves cc.registry.settings.get/put. */
enum cc_status permissions_start(struct registry *reg);

/* Subscribes every subject. */
enum cc_status rpc_start(struct registry *reg);

/* Sign-in, sessions, passwords and the first admin (auth.c). */
enum cc_status auth_start(struct registry *reg);
enum cc_status auth_bootstrap(struct registry *reg);
enum cc_status auth_hash_password(struct registry *reg, const char *password, char *out,
                                  size_t cap);
enum cc_status auth_store_password(struct registry *reg, const char *user_id, const char *hash);
void auth_revoke_user(struct registry *reg, const char *user_id);

/* Agent skills (agent_skills.c). */
enum cc_status agent_skills_start(struct registry *reg);
enum cc_status agent_skills_drop_skill(struct registry *reg, const char *skill_id);
enum cc_status agent_skills_drop_user(struct registry *reg, const char *user_id);
/* 1 when the user holds queue q's skill (active or not) and is in its
 * teams when it names any: an agent of the queue for its supervisors. */
int agent_in_queue(struct registry *reg, const Cc__V1__Queue *q, const char *user_id,
                   const char *team_id);

/* What a caller may monitor: everything (admins, supervisors without
 * limit_to_assigned_queues), else the agents of the queues assigned to the
 * supervisor. Other roles see nothing through it. */
struct monitor_scope {
    int limited;               /* 1: only the agents of `queues` */
    ProtobufCMessage **queues; /* the assigned queues (owned) */
    size_t n, cap;
};
enum cc_status monitor_scope_load(struct registry *reg, const Cc__V1__Caller *c,
                                  struct monitor_scope *s);
int monitor_scope_has(struct registry *reg, const struct monitor_scope *s, const Cc__V1__User *u);
void monitor_scope_free(struct monitor_scope *s);

/* 1 when both users may serve a common queue (callback forwarding rule). */
int agents_share_queue(struct registry *reg, const Cc__V1__User *a, const char *b_id);

#endif
