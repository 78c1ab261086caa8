/* permissions.c - the permission switches of SPEC section 3 (stored as one
 * record, defaults filled in on read) and supervisor queue assignment. */
#include "registry.h"
#include "reports.h"
#include "cc_log.h"
#include "pbmerge.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT(m, f, v)                                                                           \
    do {                                                                                           \
        if (!(m)->has_##f)                                                                         \
            (m)->has_##f = 1, (m)->f = (v);                                                        \
    } while (0)

static enum cc_status fill_defaults(Cc__V1__Permissions *p)
{
    if (!p->supervisor && !(p->supervisor = calloc(1, sizeof *p->supervisor)))
        return CC_ERR_NOMEM;
    if (!p->agent && !(p->agent = calloc(1, sizeof *p->agent)))
        return CC_ERR_NOMEM;
    if (!p->organisation && !(p->organisation = calloc(1, sizeof *p->organisation)))
        return CC_ERR_NOMEM;
    Cc__V1__SupervisorPermissions *s = p->supervisor;
    if (!s->base.descriptor)
        cc__v1__supervisor_permissions__init(s);
    if (!p->agent->base.descriptor)
        cc__v1__agent_permissions__init(p->agent);
    if (!p->organisation->base.descriptor)
        cc__v1__organisation_permissions__init(p->organisation);
    DEFAULT(s, config_portal, 0);
    DEFAULT(s, limit_to_assigned_queues, 1);
    s->has_view_queue_settings = 1, s->view_queue_settings = 1; /* cannot be removed */
    DEFAULT(s, manage_queue_settings, 0);
    DEFAULT(s, view_pause_causes, 1);
    DEFAULT(s, manage_pause_causes, 0);
    DEFAULT(s, view_skills, 1);
    DEFAULT(s, manage_skills, 0);
    DEFAULT(p->agent, manage_prerecorded, 0);
    DEFAULT(p->agent, manage_public_canned, 0);
    DEFAULT(p->agent, custom_chat_tags, 0);
    DEFAULT(p->agent, call_dispositions, 0);
    DEFAULT(p->organisation, agents_may_join_unassigned_queues, 0);
    if (!p->organisation->time_zone && !(p->organisation->time_zone = strdup("UTC")))
        return CC_ERR_NOMEM;
    return CC_OK;
}

enum cc_status permissions_get(struct registry *reg, Cc__V1__Permissions **out)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(reg->redis, &rep, "GET " KEY_PERMISSIONS, cc_tag());
    *out = NULL;
    if (st == CC_OK && rep->type == REDIS_REPLY_STRING)
        *out = cc__v1__permissions__unpack(NULL, rep->len, (const uint8_t *)rep->str);
    else if (st == CC_OK)
        *out = cc__v1__permissions__unpack(NULL, 0, NULL);
    if (rep)
        freeReplyObject(rep);
    if (st == CC_OK && !*out)
        st = CC_ERR_INTERNAL;
    if (st == CC_OK && (st = fill_defaults(*out)) != CC_OK) {
        cc__v1__permissions__free_unpacked(*out, NULL);
        *out = NULL;
    }
    return st;
}

static enum cc_status permissions_put(struct registry *reg, Cc__V1__Permissions *p)
{
    redisReply *rep;
    enum cc_status st = fill_defaults(p);
    size_t len = protobuf_c_message_get_packed_size(&p->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (st != CC_OK || !buf) {
        free(buf);
        return CC_ERR_NOMEM;
    }
    protobuf_c_message_pack(&p->base, buf);
    st = cc_redis_run_bin(reg->redis, &rep, "SET " KEY_PERMISSIONS " %b", cc_tag(), buf, len);
    if (rep)
        freeReplyObject(rep);
    free(buf);
    return st;
}

/* cc.registry.settings.get / cc.registry.settings.put (admins). */
static void on_settings(void *arg, const struct cc_nats_msg *m)
{
    struct registry *reg = arg;
    Cc__V1__Permissions *p = NULL;
    enum cc_status st = CC_OK;
    Cc__V1__ObjectRequest *req = cc__v1__object_request__unpack(NULL, m->len, m->data);
    int put = strcmp(m->subject, SUBJ_SETTINGS_PUT) == 0;
    const char *why = NULL;
    if (!req)
        st = CC_ERR_INVALID;
    else if (!req->caller || !req->caller->role || strcmp(req->caller->role, "admin") != 0)
        st = CC_ERR_FORBIDDEN;
    else if (put && !(p = cc__v1__permissions__unpack(NULL, req->body.len, req->body.data)))
        st = CC_ERR_INVALID;
    else if (put && p->organisation && p->organisation->time_zone &&
             !tz_valid(p->organisation->time_zone))
        st = CC_ERR_INVALID, why = "organisation.time_zone: an IANA time zone (e.g. Europe/Warsaw)";
    if (st == CC_OK && put && (st = permissions_put(reg, p)) == CC_OK)
        registry_changed(reg, "settings", "permissions", "updated", req->caller);
    if (p)
        cc__v1__permissions__free_unpacked(p, NULL);
    p = NULL;
    if (st == CC_OK)
        st = permissions_get(reg, &p);
    if (st == CC_OK)
        registry_reply(reg, m, &p->base);
    else
        cc_nats_respond_error(reg->nats, m, st, why                     ? why
                                                : st == CC_ERR_FORBIDDEN ? "administrators only"
                                                                         : NULL);
    if (p)
        cc__v1__permissions__free_unpacked(p, NULL);
    if (req)
        cc__v1__object_request__free_unpacked(req, NULL);
}

enum cc_status permissions_start(struct registry *reg)
{
    return cc_nats_subscribe(reg->nats, SUBJ_SETTINGS_ALL, "registry", on_settings, reg);
}

int queue_assigned(struct registry *reg, const Cc__V1__Queue *q, const char *user_id)
{
    if (!user_id)
        return 0;
    if (ids_contain(q->supervisor_ids, q->n_supervisor_ids, user_id))
        return 1;
    for (size_t i = 0; i < q->n_team_ids; i++) {
        ProtobufCMessage *obj;
        if (store_get(reg->redis, &kind_teams.store, q->team_ids[i], &obj) != CC_OK)
            continue;
        const Cc__V1__Team *t = (const Cc__V1__Team *)obj;
        int found = ids_contain(t->supervisor_ids, t->n_supervisor_ids, user_id);
        protobuf_c_message_free_unpacked(obj, NULL);
        if (found)
            return 1;
    }
    return 0;
}

/* store_each: keeps a copy of each queue assigned to the scope's supervisor. */
struct assigned_ctx {
    struct registry *reg;
    const char *user_id;
    struct monitor_scope *s;
    enum cc_status st;
};

static int keep_assigned(void *arg, const ProtobufCMessage *obj)
{
    struct assigned_ctx *a = arg;
    struct monitor_scope *s = a->s;
    if (!queue_assigned(a->reg, (const Cc__V1__Queue *)obj, a->user_id))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        ProtobufCMessage **more = realloc(s->queues, cap * sizeof *more);
        if (!more)
            return (a->st = CC_ERR_NOMEM), 1;
        s->queues = more, s->cap = cap;
    }
    if (!(s->queues[s->n] = pb_copy(obj)))
        return (a->st = CC_ERR_NOMEM), 1;
    s->n++;
    return 0;
}

enum cc_status monitor_scope_load(struct registry *reg, const Cc__V1__Caller *c,
                                  struct monitor_scope *s)
{
    Cc__V1__Permissions *p;
    memset(s, 0, sizeof *s);
    if (!c || !c->role || strcmp(c->role, "supervisor") != 0)
        return CC_OK; /* admins see all; callers check the role themselves */
    enum cc_status st = permissions_get(reg, &p);
    if (st != CC_OK)
        return st;
    s->limited = p->supervisor->limit_to_assigned_queues;
    cc__v1__permissions__free_unpacked(p, NULL);
    if (!s->limited)
        return CC_OK;
    struct assigned_ctx a = {reg, c->user_id, s, CC_OK};
    store_each(reg->redis, &kind_queues.store, keep_assigned, &a, &st);
    if (st == CC_OK)
        st = a.st;
    if (st != CC_OK)
        monitor_scope_free(s);
    return st;
}

int monitor_scope_has(struct registry *reg, const struct monitor_scope *s, const Cc__V1__User *u)
{
    if (!s->limited)
        return 1;
    const char *team = u->agent ? u->agent->team_id : NULL;
    for (size_t i = 0; i < s->n; i++)
        if (agent_in_queue(reg, (const Cc__V1__Queue *)s->queues[i], u->id, team))
            return 1;
    return 0;
}

void monitor_scope_free(struct monitor_scope *s)
{
    for (size_t i = 0; i < s->n; i++)
        protobuf_c_message_free_unpacked(s->queues[i], NULL);
    free(s->queues);
    memset(s, 0, sizeof *s);
}
