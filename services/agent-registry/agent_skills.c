/* agent_skills.c - which skills an agent has, at what capacity (1..100),
 * and whether each is active; stored per agent in {cc}:askill:<user_id>
 * (skill id -> packed AgentSkill) with the reverse {cc}:skillagents:<skill>
 * set so that deleting a skill or a user drops its rows. Every change
 * rewrites the agent's routing index entries (routing_index.c) under the
 * configuration lock.
 * Subjects: cc.registry.agent_skills.list / put / delete. */
#include "registry.h"
#include "routing_index.h"
#include "cc_log.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum cc_status authorize(struct registry *reg, const Cc__V1__Caller *c, const char *user,
                                int write)
{
    Cc__V1__Permissions *p;
    if (!c || !c->role)
        return CC_ERR_UNAUTHORIZED;
    if (strcmp(c->role, "admin") == 0)
        return CC_OK;
    if (!write && c->user_id && user && strcmp(c->user_id, user) == 0)
        return CC_OK; /* agents see their own skills */
    if (strcmp(c->role, "supervisor") != 0)
        return CC_ERR_FORBIDDEN;
    enum cc_status st = permissions_get(reg, &p);
    if (st != CC_OK)
        return st;
    int may = write ? p->supervisor->manage_skills : p->supervisor->view_skills;
    cc__v1__permissions__free_unpacked(p, NULL);
    return may ? CC_OK : CC_ERR_FORBIDDEN;
}

static void respond_items(struct registry *reg, const struct cc_nats_msg *m, redisReply *all)
{
    Cc__V1__ObjectReply rep = CC__V1__OBJECT_REPLY__INIT;
    size_t n = all->elements / 2;
    ProtobufCBinaryData *items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        cc_nats_respond_error(reg->nats, m, CC_ERR_NOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *v = all->element[2 * i + 1];
        items[i].data = (uint8_t *)v->str, items[i].len = v->len;
    }
    rep.n_items = n, rep.items = items;
    cc_nats_respond(reg->nats, m, &rep.base);
    free(items);
}

static void on_list(struct registry *reg, const struct cc_nats_msg *m,
                    const Cc__V1__ObjectRequest *req)
{
    redisReply *all;
    enum cc_status st = store_exists(reg->redis, &kind_users.store, req->parent_id);
    if (st == CC_OK)
        st = cc_redis_run(reg->redis, &all, "HGETALL " KEY_ASKILL, cc_tag(), req->parent_id);
    if (st == CC_OK)
        respond_items(reg, m, all);
    else
        cc_nats_respond_error(reg->nats, m, st, st == CC_ERR_NOT_FOUND ? "no such user" : NULL);
    if (st == CC_OK)
        freeReplyObject(all);
}

/* Validates and fills the row to store. */
static enum cc_status prepare(struct registry *reg, const Cc__V1__ObjectRequest *req,
                              Cc__V1__AgentSkill *as, char *why, size_t whycap)
{
    ProtobufCMessage *skill = NULL;
    enum cc_status st = store_exists(reg->redis, &kind_users.store, req->parent_id);
    if (st == CC_ERR_NOT_FOUND)
        snprintf(why, whycap, "no such user");
    if (st != CC_OK)
        return st;
    st = store_get(reg->redis, &kind_skills.store, req->id, &skill);
    if (st == CC_ERR_NOT_FOUND)
        snprintf(why, whycap, "no such skill");
    if (st != CC_OK)
        return st;
    if (!as->has_capacity || as->capacity < 1 || as->capacity > 100) {
        snprintf(why, whycap, "capacity: required, 1..100");
        st = CC_ERR_INVALID;
    }
    if (!as->has_active)
        as->has_active = 1, as->active = 1;
    store_set_str(&as->base, "skill_id", req->id);
    store_set_str(&as->base, "user_id", req->parent_id);
    store_set_str(&as->base, "name", ((Cc__V1__Skill *)skill)->name);
    protobuf_c_message_free_unpacked(skill, NULL);
    return st;
}

static enum cc_status save(struct registry *reg, const Cc__V1__AgentSkill *as)
{
    size_t len = protobuf_c_message_get_packed_size(&as->base);
    uint8_t *buf = malloc(len ? len : 1);
    redisReply *rep;
    if (!buf)
        return CC_ERR_NOMEM;
    protobuf_c_message_pack(&as->base, buf);
    enum cc_status st = cc_redis_run_bin(reg->redis, &rep, "HSET " KEY_ASKILL " %s %b", cc_tag(),
                                         as->user_id, as->skill_id, buf, len);
    if (rep)
        freeReplyObject(rep);
    if (st == CC_OK && (st = cc_redis_run(reg->redis, &rep, "SADD " KEY_SKILLAGENTS " %s", cc_tag(),
                                          as->skill_id, as->user_id)) == CC_OK)
        freeReplyObject(rep);
    free(buf);
    return st;
}

static void on_put(struct registry *reg, const struct cc_nats_msg *m,
                   const Cc__V1__ObjectRequest *req)
{
    char why[128] = "";
    struct store_lock lk;
    Cc__V1__AgentSkill *as = cc__v1__agent_skill__unpack(NULL, req->body.len, req->body.data);
    enum cc_status st = as ? store_lock(reg->redis, &lk) : CC_ERR_INVALID;
    if (as && st == CC_OK) {
        if ((st = prepare(reg, req, as, why, sizeof why)) == CC_OK && (st = save(reg, as)) == CC_OK)
            routing_index_user_id(reg, req->parent_id);
        store_unlock(reg->redis, &lk);
    }
    if (st == CC_OK) {
        registry_changed(reg, "agent_skills", req->parent_id, "updated", req->caller);
        registry_reply(reg, m, &as->base);
    } else
        cc_nats_respond_error(reg->nats, m, st, why[0] ? why : NULL);
    if (as)
        cc__v1__agent_skill__free_unpacked(as, NULL);
}

/* Deletes one row; CC_ERR_NOT_FOUND when there was none. */
static enum cc_status drop_row(struct registry *reg, const Cc__V1__ObjectRequest *req)
{
    redisReply *rep;
    enum cc_status st =
        cc_redis_run(reg->redis, &rep, "HDEL " KEY_ASKILL " %s", cc_tag(), req->parent_id, req->id);
    int gone = st == CC_OK && rep->integer == 1;
    if (rep)
        freeReplyObject(rep);
    if (gone && (st = cc_redis_run(reg->redis, &rep, "SREM " KEY_SKILLAGENTS " %s", cc_tag(),
                                   req->id, req->parent_id)) == CC_OK)
        freeReplyObject(rep);
    return st == CC_OK && !gone ? CC_ERR_NOT_FOUND : st;
}

static void on_delete(struct registry *reg, const struct cc_nats_msg *m,
                      const Cc__V1__ObjectRequest *req)
{
    struct store_lock lk;
    /* Under the lock like every write, so that the index change cannot
     * interleave with a put of the same row. */
    enum cc_status st = store_lock(reg->redis, &lk);
    if (st == CC_OK) {
        if ((st = drop_row(reg, req)) == CC_OK)
            routing_index_drop_agent_skill(reg, req->parent_id, req->id);
        store_unlock(reg->redis, &lk);
    }
    if (st == CC_OK) {
        registry_changed(reg, "agent_skills", req->parent_id, "updated", req->caller);
        cc_nats_respond(reg->nats, m, NULL);
    } else {
        cc_nats_respond_error(reg->nats, m, st, st == CC_ERR_NOT_FOUND ? "no such agent skill"
                                                                       : NULL);
    }
}

/* cc.registry.agent_skills.list / put / delete */
static void on_agent_skills(void *arg, const struct cc_nats_msg *m)
{
    struct registry *reg = arg;
    const char *verb = m->subject + strlen(SUBJ_AGENT_SKILLS_PREFIX);
    Cc__V1__ObjectRequest *req = cc__v1__object_request__unpack(NULL, m->len, m->data);
    int write = strcmp(verb, "list") != 0;
    enum cc_status st = !req || !req->parent_id || (write && !req->id) ? CC_ERR_INVALID : CC_OK;
    if (st == CC_OK)
        st = authorize(reg, req->caller, req->parent_id, write);
    if (st != CC_OK)
        cc_nats_respond_error(reg->nats, m, st, NULL);
    else if (!write)
        on_list(reg, m, req);
    else if (strcmp(verb, "put") == 0 && req->has_body)
        on_put(reg, m, req);
    else if (strcmp(verb, "delete") == 0)
        on_delete(reg, m, req);
    else
        cc_nats_respond_error(reg->nats, m, CC_ERR_INVALID, NULL);
    if (req)
        cc__v1__object_request__free_unpacked(req, NULL);
}

enum cc_status agent_skills_start(struct registry *reg)
{
    return cc_nats_subscribe(reg->nats, SUBJ_AGENT_SKILLS_ALL, "registry", on_agent_skills, reg);
}

enum cc_status agent_skills_drop_skill(struct registry *reg, const char *skill_id)
{
    redisReply *users;
    enum cc_status st =
        cc_redis_run(reg->redis, &users, "SMEMBERS " KEY_SKILLAGENTS, cc_tag(), skill_id);
    for (size_t i = 0; st == CC_OK && i < users->elements; i++) {
        redisReply *rep;
        st = cc_redis_run(reg->redis, &rep, "HDEL " KEY_ASKILL " %s", cc_tag(),
                          users->element[i]->str, skill_id);
        if (rep)
            freeReplyObject(rep);
    }
    if (users)
        freeReplyObject(users);
    if (st == CC_OK && (st = cc_redis_run(reg->redis, &users, "DEL " KEY_SKILLAGENTS, cc_tag(),
                                          skill_id)) == CC_OK)
        freeReplyObject(users);
    return st == CC_OK ? routing_index_drop_skill(reg, skill_id) : st;
}

enum cc_status agent_skills_drop_user(struct registry *reg, const char *user_id)
{
    redisReply *skills = NULL;
    enum cc_status st = routing_index_drop_user(reg, user_id); /* reads the rows dropped next */
    if (st == CC_OK)
        st = cc_redis_run(reg->redis, &skills, "HKEYS " KEY_ASKILL, cc_tag(), user_id);
    for (size_t i = 0; st == CC_OK && i < skills->elements; i++) {
        redisReply *rep;
        st = cc_redis_run(reg->redis, &rep, "SREM " KEY_SKILLAGENTS " %s", cc_tag(),
                          skills->element[i]->str, user_id);
        if (rep)
            freeReplyObject(rep);
    }
    if (skills)
        freeReplyObject(skills);
    if (st == CC_OK &&
        (st = cc_redis_run(reg->redis, &skills, "DEL " KEY_ASKILL, cc_tag(), user_id)) == CC_OK)
        freeReplyObject(skills);
    return st;
}

/* 1 when `user_id` holds the queue's skill (active or not, any capacity)
 * and belongs to one of its teams (when the queue names teams): an agent of
 * the queue, as its supervisors see it. */
int agent_in_queue(struct registry *reg, const Cc__V1__Queue *q, const char *user_id,
                   const char *team_id)
{
    redisReply *rep;
    int in = !q->n_team_ids;
    for (size_t i = 0; i < q->n_team_ids && !in; i++)
        in = team_id && strcmp(q->team_ids[i], team_id) == 0;
    if (!in || !q->skill_id)
        return 0;
    in = cc_redis_run(reg->redis, &rep, "HEXISTS " KEY_ASKILL " %s", cc_tag(), user_id,
                      q->skill_id) == CC_OK &&
         rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    if (rep)
        freeReplyObject(rep);
    return in;
}

/* 1 when `user_id` has the queue's skill active at or above its bar and
 * belongs to one of its teams (when the queue names teams). */
static int serves_queue(struct registry *reg, const Cc__V1__Queue *q, const char *user_id,
                        const char *team_id)
{
    redisReply *rep;
    int ok = 0;
    if (q->n_team_ids) {
        int in = 0;
        for (size_t i = 0; i < q->n_team_ids && !in; i++)
            in = team_id && strcmp(q->team_ids[i], team_id) == 0;
        if (!in)
            return 0;
    }
    if (cc_redis_run(reg->redis, &rep, "HGET " KEY_ASKILL " %s", cc_tag(), user_id, q->skill_id) ==
            CC_OK &&
        rep->type == REDIS_REPLY_STRING) {
        Cc__V1__AgentSkill *as =
            cc__v1__agent_skill__unpack(NULL, rep->len, (const uint8_t *)rep->str);
        ok = as && as->active && as->capacity >= q->min_capacity;
        if (as)
            cc__v1__agent_skill__free_unpacked(as, NULL);
    }
    if (rep)
        freeReplyObject(rep);
    return ok;
}

struct share {
    struct registry *reg;
    const Cc__V1__User *a;
    const Cc__V1__User *b;
};

static int queue_shared(void *arg, const ProtobufCMessage *obj)
{
    struct share *s = arg;
    const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
    const char *ta = s->a->agent ? s->a->agent->team_id : NULL;
    const char *tb = s->b->agent ? s->b->agent->team_id : NULL;
    return serves_queue(s->reg, q, s->a->id, ta) && serves_queue(s->reg, q, s->b->id, tb);
}

int agents_share_queue(struct registry *reg, const Cc__V1__User *a, const char *b_id)
{
    ProtobufCMessage *b;
    enum cc_status st;
    if (store_get(reg->redis, &kind_users.store, b_id, &b) != CC_OK)
        return 0;
    struct share s = {reg, a, (const Cc__V1__User *)b};
    int shared = store_each(reg->redis, &kind_queues.store, queue_shared, &s, &st);
    protobuf_c_message_free_unpacked(b, NULL);
    return st == CC_OK && shared;
}
