/* ix.c - the interaction record ({cc}:ix:<id>): its one reader, the Offer
 * made from it, and the routing trace ({cc}:trace:<id>). Calls nothing else
 * of skill-router but the configuration (for a queue's name). */
#include "router.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

/* --- the record ------------------------------------------------------------------------- */

/* The fields read, in this order. */
#define IX_FIELDS                                                                                  \
    "state queue kind agent enq prio attempts chat_id end_reason customer_id "                     \
    "customer_name customer_phone preview source offered_at expires_at ring "                      \
    "excluded sticky sticky_until"
#define IX_NFIELDS 20

static const char *text(const redisReply *v)
{
    return v->type == REDIS_REPLY_STRING ? v->str : "";
}

/* A string field, NULL when empty. */
static const char *opt(const redisReply *v)
{
    return v->type == REDIS_REPLY_STRING && v->len ? v->str : NULL;
}

static int64_t num(const redisReply *v)
{
    return v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : 0;
}

enum cc_status ix_read(struct router *r, const char *id, struct ix *x)
{
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "%s", id);
    enum cc_status st =
        cc_redis_run(r->redis, &x->rep, "HMGET " KEY_IX " " IX_FIELDS, cc_tag(), id);
    if (st == CC_OK && (x->rep->type != REDIS_REPLY_ARRAY || x->rep->elements != IX_NFIELDS))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK && x->rep->element[0]->type != REDIS_REPLY_STRING)
        st = CC_ERR_NOT_FOUND;
    if (st != CC_OK) {
        ix_release(x);
        return st;
    }
    redisReply **e = x->rep->element;
    snprintf(x->state, sizeof x->state, "%s", text(e[0]));
    snprintf(x->queue, sizeof x->queue, "%s", text(e[1]));
    snprintf(x->kind, sizeof x->kind, "%s", text(e[2]));
    snprintf(x->agent, sizeof x->agent, "%s", text(e[3]));
    x->enq = num(e[4]), x->prio = num(e[5]), x->attempts = num(e[6]);
    x->chat_id = opt(e[7]);
    snprintf(x->end_reason, sizeof x->end_reason, "%s", text(e[8]));
    x->customer_id = opt(e[9]), x->customer_name = opt(e[10]), x->customer_phone = opt(e[11]);
    x->preview = opt(e[12]), x->source = opt(e[13]);
    x->offered_ms = num(e[14]), x->expires_ms = num(e[15]);
    x->ring = !strcmp(text(e[16]), "1");
    snprintf(x->excluded, sizeof x->excluded, "%s", text(e[17]));
    snprintf(x->sticky, sizeof x->sticky, "%s", text(e[18]));
    x->sticky_until = num(e[19]);
    return CC_OK;
}

void ix_release(struct ix *x)
{
    free_reply(x->rep);
    x->rep = NULL;
}

double ix_score(int64_t prio, int64_t enq_ms)
{
    return (double)(200 - prio) * 1e13 + (double)enq_ms;
}

void ix_offer(struct router *r, const struct ix *x, const char *agent, struct offer_view *v)
{
    memset(v, 0, sizeof *v);
    cc__v1__offer__init(&v->msg);
    cc__v1__customer__init(&v->customer);
    cc_time_format_ms(x->offered_ms, v->offered_at, sizeof v->offered_at);
    cc_time_format_ms(x->expires_ms, v->expires_at, sizeof v->expires_at);
    snprintf(v->offer_id, sizeof v->offer_id, "%s:%lld", x->id, (long long)x->offered_ms);
    snprintf(v->agent, sizeof v->agent, "%s", agent);
    v->msg.offer_id = v->offer_id, v->msg.interaction_id = CC_PB_STR(x->id);
    v->msg.agent_id = v->agent;
    v->msg.kind = CC_PB_STR(x->kind), v->msg.queue_id = CC_PB_STR(x->queue);
    v->msg.chat_id = CC_PB_STR(x->chat_id), v->msg.preview = CC_PB_STR(x->preview);
    v->customer.id = CC_PB_STR(x->customer_id), v->customer.name = CC_PB_STR(x->customer_name);
    v->customer.phone = CC_PB_STR(x->customer_phone);
    v->msg.customer = &v->customer;
    v->msg.offered_at = v->offered_at, v->msg.expires_at = v->expires_at;
    v->msg.source = CC_PB_STR(x->source);
    const struct config *c = config_get(r);
    const Cc__V1__Queue *q = config_queue(c, x->queue);
    if (q && q->name)
        snprintf(v->queue_name, sizeof v->queue_name, "%s", q->name);
    config_put(c);
    v->msg.queue_name = v->queue_name[0] ? v->queue_name : NULL;
}

/* --- trace -------------------------------------------------------------------------------- */

size_t trace_pack(const struct trace_step *t, const char *at, uint8_t *buf, size_t cap)
{
    Cc__V1__TraceStep s = CC__V1__TRACE_STEP__INIT;
    s.at = CC_PB_STR(at), s.step = CC_PB_STR(t->step), s.agent_id = CC_PB_STR(t->agent_id);
    s.reason = CC_PB_STR(t->reason), s.strategy = CC_PB_STR(t->strategy);
    size_t len = protobuf_c_message_get_packed_size(&s.base);
    return len <= cap ? protobuf_c_message_pack(&s.base, buf) : 0;
}

void trace_steps(struct router *r, const char *id, const struct trace_step *steps, size_t n)
{
    enum { MAX = 16, CAP = 512 };
    char key[160], at[32], ttl[16];
    uint8_t bufs[MAX][CAP];
    const char *argv[MAX + 2];
    size_t lens[MAX + 2];
    struct cc_redis_conn *c;
    redisReply *rep;
    size_t argc = 2;
    if (n > MAX)
        n = MAX;
    cc_time_format_ms(cc_time_now_ms(), at, sizeof at);
    snprintf(key, sizeof key, KEY_TRACE, cc_tag(), id);
    argv[0] = "RPUSH", argv[1] = key, lens[0] = 5, lens[1] = strlen(key);
    for (size_t i = 0; i < n; i++)
        if ((lens[argc] = trace_pack(&steps[i], at, bufs[i], CAP)))
            argv[argc++] = (const char *)bufs[i];
    if (argc == 2 || cc_redis_acquire(r->redis, &c) != CC_OK)
        return;
    snprintf(ttl, sizeof ttl, "%d", TRACE_TTL_S);
    const char *expire[] = {"EXPIRE", key, ttl};
    cc_redis_append(c, (int)argc, argv, lens); /* one round trip for both */
    cc_redis_append(c, 3, expire, NULL);
    for (int i = 0; i < 2; i++)
        if (cc_redis_reply(c, &rep) == CC_OK || rep)
            free_reply(rep);
    cc_redis_release(r->redis, c);
}

void trace_add(struct router *r, const char *id, const char *step, const char *agent_id,
               const char *reason, const char *strategy)
{
    struct trace_step t = {step, agent_id, reason, strategy};
    trace_steps(r, id, &t, 1);
}
