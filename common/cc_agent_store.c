/* cc_agent_store.c - reading, compare-and-set and publishing of the agent
 * record (see cc_agent_store.h). */
#include "cc_agent_store.h"
#include "cc_keys.h"
#include "cc_subjects.h"
#include "cc_time.h"

#include <stdio.h>
#include <string.h>

extern const char agent_apply_lua[];
static struct cc_redis_script apply_script = CC_REDIS_SCRIPT("agent_apply", agent_apply_lua);

void agent_rec_from_reply(struct agent_rec *r, const redisReply *rep)
{
    agent_rec_init(r);
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        if (rep->element[i]->type == REDIS_REPLY_STRING &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING)
            agent_rec_field(r, rep->element[i]->str, rep->element[i + 1]->str);
}

enum cc_status agent_read(struct cc_redis *redis, const char *id, struct agent_rec *r)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(redis, &rep, "HGETALL " KEY_AGENT, cc_tag(), id);
    agent_rec_from_reply(r, st == CC_OK ? rep : NULL);
    if (rep)
        freeReplyObject(rep);
    return st;
}

void agent_read_append(struct cc_redis_conn *c, const char *id)
{
    char key[160];
    snprintf(key, sizeof key, KEY_AGENT, cc_tag(), id);
    const char *argv[] = {"HGETALL", key};
    cc_redis_append(c, 2, argv, NULL);
}

int agent_read_reply(struct cc_redis_conn *c, struct agent_rec *r)
{
    redisReply *rep;
    int ok = cc_redis_reply(c, &rep) == CC_OK && rep->type == REDIS_REPLY_ARRAY;
    agent_rec_from_reply(r, ok ? rep : NULL);
    if (rep)
        freeReplyObject(rep);
    return ok;
}

void agent_cas_prepare(struct agent_cas_arg *a, const char *id, const struct agent_rec *cur,
                       const struct agent_rec *next, const char *hold, const char *offer)
{
    char day[16];
    int moved = next->since_ms != cur->since_ms && cur->since_ms > 0;
    cc_time_day(cur->since_ms, day, sizeof day);
    snprintf(a->k[0], sizeof a->k[0], KEY_AGENT, cc_tag(), id);
    snprintf(a->k[1], sizeof a->k[1], KEY_TIS, cc_tag(), day, id);
    snprintf(a->k[2], sizeof a->k[2], KEY_HOLDS, cc_tag(), id);
    snprintf(a->k[3], sizeof a->k[3], KEY_AOFF, cc_tag(), id);
    for (int i = 0; i < AGENT_CAS_NKEYS; i++)
        a->keys[i] = a->k[i];
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->ver, sizeof a->ver, "%lld", (long long)cur->version);
    snprintf(a->due, sizeof a->due, "%lld", (long long)next->due_ms);
    snprintf(a->spent, sizeof a->spent, "%lld",
             moved ? (long long)(next->since_ms - cur->since_ms) : 0LL);
    if (moved)
        agent_tis_field(cur, a->tis_field, sizeof a->tis_field);
    else
        a->tis_field[0] = '\0';
    const char *head[] = {a->id,        a->ver,   a->due,           cur->due_ms ? "1" : "0",
                          a->tis_field, a->spent, hold ? hold : "", offer ? offer : ""};
    memcpy(a->argv, head, sizeof head);
    agent_rec_fields(next, a->f, a->argv + 8);
}

enum cc_status agent_apply(struct cc_redis *redis, const char *id, const struct agent_rec *cur,
                           const struct agent_rec *next, const char *hold, const char *offer,
                           int *applied, struct agent_rec *out)
{
    struct agent_cas_arg a;
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    char ttl[16];
    const char *argv[2 + AGENT_CAS_NKEYS + 1 + AGENT_CAS_NARGS];
    size_t k = 0;
    agent_cas_prepare(&a, id, cur, next, hold, offer);
    snprintf(ttl, sizeof ttl, "%d", TIS_TTL_S);
    argv[k++] = cc_key_fixed(KEY_TIMERS_STATE), argv[k++] = cc_key_fixed(KEY_TIMERS_OFFER);
    for (int i = 0; i < AGENT_CAS_NKEYS; i++)
        argv[k++] = a.keys[i];
    argv[k++] = ttl;
    for (int i = 0; i < AGENT_CAS_NARGS; i++)
        argv[k++] = a.argv[i];
    *applied = 0;
    enum cc_status st = cc_redis_acquire(redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &apply_script, &rep, 2 + AGENT_CAS_NKEYS, (int)k, argv, NULL);
    cc_redis_release(redis, c);
    if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
                        rep->element[0]->type != REDIS_REPLY_INTEGER))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        long long v = rep->element[0]->integer;
        *applied = v > 0 ? 1 : v < 0 ? -1 : 0;
        if (v > 0 && out)
            agent_rec_from_reply(out, rep->elements > 1 ? rep->element[1] : NULL);
    }
    if (rep)
        freeReplyObject(rep);
    return st;
}

enum cc_status agent_publish(struct cc_nats *nats, const char *id, const struct agent_rec *r,
                             const char *by, const char *reason, const char *interaction_id)
{
    Cc__V1__AgentStatus s;
    char since[64], subject[160];
    agent_rec_to_proto(id, r, &s, since, sizeof since);
    s.changed_by = CC_PB_STR(by);
    s.reason = CC_PB_STR(reason);
    s.interaction_id = CC_PB_STR(interaction_id);
    snprintf(subject, sizeof subject, SUBJ_PRESENCE_CHANGED, id);
    return cc_nats_publish(nats, subject, &s.base);
}
