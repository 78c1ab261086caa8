/* routing_index.c - keeps {cc}:rt:cand:<skill_id> (user id scored by
 * capacity, agents with the skill active only) and the "team" field of
 * {cc}:agent:<user_id> in step with users and agent skills, for
 * skill-router's Lua scripts. Each user's entries are recomputed whole from
 * the stored data, so a call is idempotent and a rebuild repairs anything. */
#include "routing_index.h"
#include "cc_keys.h"
#include "cc_log.h"

#include <stdio.h>
#include <string.h>

#define LOCK_TRIES 3 /* 3 s each: outlasts the 5 s lock a killed writer left */
#define SCAN_COUNT "100"

/* One MULTI/EXEC being queued on a borrowed connection. */
struct tx {
    struct cc_redis_conn *c;
    int queued;        /* commands appended, each owing one reply */
    enum cc_status st; /* the first append failure */
};

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

/* Queues one command unless an earlier append failed. */
static void tx_add(struct tx *t, int argc, const char **argv)
{
    if (t->st != CC_OK)
        return;
    t->st = cc_redis_append(t->c, argc, argv, NULL);
    t->queued += t->st == CC_OK;
}

/* 1 when EXEC answered and none of its commands failed. */
static int exec_ok(const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t i = 0; i < rep->elements; i++)
        if (rep->element[i]->type == REDIS_REPLY_ERROR)
            return 0;
    return 1;
}

/* Queues EXEC and reads every reply; returns the first failure. After a
 * failed append hiredis' context is in error, so the first read fails and
 * drops the connection: nothing of a half-queued transaction is sent. */
static enum cc_status tx_exec(struct tx *t)
{
    const char *exec[] = {"EXEC"};
    tx_add(t, 1, exec);
    enum cc_status first = t->st;
    for (int i = 0; i < t->queued; i++) {
        redisReply *rep;
        enum cc_status st = cc_redis_reply(t->c, &rep);
        if (st == CC_OK && t->st == CC_OK && i == t->queued - 1 && !exec_ok(rep))
            st = CC_ERR_INTERNAL;
        free_reply(rep);
        if (first == CC_OK)
            first = st;
        if (st == CC_ERR_UNAVAILABLE)
            break;
    }
    return first;
}

/* Writes KEY_RT_CAND of <skill> into `key`; -1 when it does not fit. */
static int cand_key(char *key, size_t cap, const char *skill)
{
    return (size_t)snprintf(key, cap, KEY_RT_CAND, cc_tag(), skill) < cap ? 0 : -1;
}

static int is_agent(const Cc__V1__User *u)
{
    return u->agent && u->agent->enabled && !u->archived;
}

/* Queues ZADD (an active skill of an agent) or ZREM for one stored agent
 * skill: `skill` is its id, `packed` the AgentSkill. */
static void queue_skill(struct tx *t, const char *uid, int agent, const redisReply *skill,
                        const redisReply *packed)
{
    char key[256], score[24];
    Cc__V1__AgentSkill *as =
        cc__v1__agent_skill__unpack(NULL, packed->len, (const uint8_t *)packed->str);
    if (!as)
        CC_WARN("routing index: unreadable agent skill %s of %s", skill->str, uid);
    if (cand_key(key, sizeof key, skill->str) != 0) {
        CC_WARN("routing index: skill id too long at user %s", uid); /* no such skill */
        if (as)
            cc__v1__agent_skill__free_unpacked(as, NULL);
        return;
    }
    snprintf(score, sizeof score, "%lld", as ? (long long)as->capacity : 0LL);
    const char *zadd[] = {"ZADD", key, score, uid}, *zrem[] = {"ZREM", key, uid};
    if (as && agent && as->active)
        tx_add(t, 4, zadd);
    else
        tx_add(t, 3, zrem);
    if (as)
        cc__v1__agent_skill__free_unpacked(as, NULL);
}

/* Queues user u's whole index (skills = HGETALL of their agent skills). */
static void queue_user(struct tx *t, const Cc__V1__User *u, const redisReply *skills)
{
    const char *team = u->agent && u->agent->team_id ? u->agent->team_id : "";
    const char *multi[] = {"MULTI"};
    char key[256];
    tx_add(t, 1, multi);
    for (size_t i = 0; i + 1 < skills->elements; i += 2)
        queue_skill(t, u->id, is_agent(u), skills->element[i], skills->element[i + 1]);
    snprintf(key, sizeof key, KEY_AGENT, cc_tag(), u->id);
    /* A plain HSET: "team" and "enabled" are no fields of the state machine,
     * so the version that agent_cas.lua compares stays as it is; routing reads
     * both (agent_can_take: a deactivated or archived agent takes nothing). */
    const char *hset[] = {"HSET", key, "team", team, "enabled", is_agent(u) ? "1" : "0"};
    tx_add(t, 6, hset);
}

/* Recomputes and writes user u's entries; returns CC_OK or the failure. */
static enum cc_status reindex(struct registry *reg, const Cc__V1__User *u)
{
    struct tx t = {NULL, 0, CC_OK};
    redisReply *skills;
    if (!u->id || strlen(u->id) > 128)
        return CC_ERR_INVALID;
    enum cc_status st = cc_redis_acquire(reg->redis, &t.c);
    if (st != CC_OK)
        return st;
    st = cc_redis_cmd(t.c, &skills, "HGETALL " KEY_ASKILL, cc_tag(), u->id);
    if (st == CC_OK && skills->type != REDIS_REPLY_ARRAY)
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        queue_user(&t, u, skills);
        st = tx_exec(&t);
    }
    free_reply(skills);
    cc_redis_release(reg->redis, t.c);
    return st;
}

void routing_index_user(struct registry *reg, const Cc__V1__User *u)
{
    enum cc_status st = reindex(reg, u);
    if (st != CC_OK)
        CC_WARN("routing index: user %s not updated: %s", u->id ? u->id : "?", cc_status_str(st));
}

void routing_index_user_id(struct registry *reg, const char *user_id)
{
    ProtobufCMessage *u;
    enum cc_status st = store_get(reg->redis, &kind_users.store, user_id, &u);
    if (st == CC_OK) {
        routing_index_user(reg, (const Cc__V1__User *)u);
        protobuf_c_message_free_unpacked(u, NULL);
    } else if (st != CC_ERR_NOT_FOUND) {
        CC_WARN("routing index: user %s not read: %s", user_id, cc_status_str(st));
    }
}

void routing_index_drop_agent_skill(struct registry *reg, const char *user_id, const char *skill_id)
{
    redisReply *rep;
    enum cc_status st =
        cc_redis_run(reg->redis, &rep, "ZREM " KEY_RT_CAND " %s", cc_tag(), skill_id, user_id);
    free_reply(rep);
    if (st != CC_OK)
        CC_WARN("routing index: user %s not dropped from skill %s: %s", user_id, skill_id,
                cc_status_str(st));
}

enum cc_status routing_index_drop_user(struct registry *reg, const char *user_id)
{
    struct tx t = {NULL, 0, CC_OK};
    const char *multi[] = {"MULTI"};
    redisReply *skills;
    char key[256];
    enum cc_status st = cc_redis_acquire(reg->redis, &t.c);
    if (st != CC_OK)
        return st;
    st = cc_redis_cmd(t.c, &skills, "HKEYS " KEY_ASKILL, cc_tag(), user_id);
    if (st == CC_OK && skills->type != REDIS_REPLY_ARRAY)
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        tx_add(&t, 1, multi);
        for (size_t i = 0; i < skills->elements; i++) {
            const char *zrem[] = {"ZREM", key, user_id};
            if (cand_key(key, sizeof key, skills->element[i]->str) == 0)
                tx_add(&t, 3, zrem);
        }
        st = tx_exec(&t);
    }
    free_reply(skills);
    cc_redis_release(reg->redis, t.c);
    if (st != CC_OK)
        CC_WARN("routing index: user %s not dropped: %s", user_id, cc_status_str(st));
    return st;
}

enum cc_status routing_index_drop_skill(struct registry *reg, const char *skill_id)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(reg->redis, &rep, "DEL " KEY_RT_CAND, cc_tag(), skill_id);
    free_reply(rep);
    if (st != CC_OK)
        CC_WARN("routing index: skill %s not dropped: %s", skill_id, cc_status_str(st));
    return st;
}

/* --- rebuild ------------------------------------------------------------------------- */

struct rebuild {
    struct registry *reg;
    enum cc_status st; /* the first user that failed */
    int users;         /* users recomputed */
};

static int rebuild_user(void *arg, const ProtobufCMessage *obj)
{
    struct rebuild *rb = arg;
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    rb->st = reindex(rb->reg, u);
    rb->users += rb->st == CC_OK;
    if (rb->st != CC_OK)
        CC_WARN("routing index: user %s not rebuilt: %s", u->id ? u->id : "?",
                cc_status_str(rb->st));
    return rb->st != CC_OK; /* stops the walk */
}

/* Removes `uid` from the candidate set `key` of `skill` unless the user
 * exists and still holds the skill. */
static enum cc_status sweep_member(struct registry *reg, const char *key, const char *skill,
                                   const char *uid)
{
    redisReply *rep;
    enum cc_status st =
        cc_redis_run(reg->redis, &rep, "HEXISTS " KEY_ASKILL " %s", cc_tag(), uid, skill);
    int keep = st == CC_OK && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    free_reply(rep);
    if (st == CC_OK && keep) {
        st = store_exists(reg->redis, &kind_users.store, uid);
        keep = st == CC_OK;
        st = st == CC_ERR_NOT_FOUND ? CC_OK : st;
    }
    if (st == CC_OK && !keep) {
        st = cc_redis_run(reg->redis, &rep, "ZREM %s %s", key, uid);
        free_reply(rep);
    }
    return st;
}

/* Sweeps every member of one candidate set. */
static enum cc_status sweep_key(struct registry *reg, const char *key)
{
    redisReply *members;
    char prefix[64];
    cc_key_prefix(prefix, sizeof prefix, KEY_RT_CAND);
    const char *skill = key + strlen(prefix);
    enum cc_status st = cc_redis_run(reg->redis, &members, "ZRANGE %s 0 -1", key);
    if (st == CC_OK && members->type != REDIS_REPLY_ARRAY)
        st = CC_ERR_INTERNAL;
    for (size_t i = 0; st == CC_OK && i < members->elements; i++)
        st = sweep_member(reg, key, skill, members->element[i]->str);
    free_reply(members);
    return st;
}

/* Sweeps every candidate set (SCAN: the sets may be many). */
static enum cc_status sweep(struct registry *reg)
{
    char cursor[32] = "0";
    char match[64];
    enum cc_status st;
    cc_key_prefix(match, sizeof match - 1, KEY_RT_CAND);
    strcat(match, "*");
    do {
        redisReply *rep;
        st = cc_redis_run(reg->redis, &rep, "SCAN %s MATCH %s COUNT %s", cursor, match, SCAN_COUNT);
        if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
                            rep->element[0]->type != REDIS_REPLY_STRING ||
                            rep->element[1]->type != REDIS_REPLY_ARRAY))
            st = CC_ERR_INTERNAL;
        if (st == CC_OK)
            snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        for (size_t i = 0; st == CC_OK && i < rep->element[1]->elements; i++)
            st = sweep_key(reg, rep->element[1]->element[i]->str);
        free_reply(rep);
    } while (st == CC_OK && strcmp(cursor, "0") != 0);
    if (st != CC_OK)
        CC_WARN("routing index: sweep failed: %s", cc_status_str(st));
    return st;
}

static enum cc_status lock(struct registry *reg, struct store_lock *lk)
{
    enum cc_status st = store_lock(reg->redis, lk);
    for (int i = 1; i < LOCK_TRIES && st == CC_ERR_TIMEOUT; i++)
        st = store_lock(reg->redis, lk);
    if (st != CC_OK)
        CC_WARN("routing index: no configuration lock: %s", cc_status_str(st));
    return st;
}

enum cc_status routing_index_rebuild(struct registry *reg)
{
    struct store_lock lk;
    struct rebuild rb = {reg, CC_OK, 0};
    enum cc_status st = lock(reg, &lk);
    if (st != CC_OK)
        return st;
    if (store_each(reg->redis, &kind_users.store, rebuild_user, &rb, &st) && st == CC_OK)
        st = rb.st;
    else if (st != CC_OK)
        CC_WARN("routing index: users not read: %s", cc_status_str(st));
    if (st == CC_OK)
        st = sweep(reg);
    store_unlock(reg->redis, &lk);
    if (st == CC_OK)
        CC_INFO("routing index rebuilt: %d users", rb.users);
    return st;
}
