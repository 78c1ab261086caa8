/* routing.c - choosing an agent for a waiting interaction (SPEC section 5):
 * the queue's skill at or above the current bar (widened as the wait grows),
 * the agent's status, state and capacity, teams, the call-or-chat rule and
 * the agent excluded after a decline or a miss; ordered by the queue's
 * strategy; offered through one atomic script (reserve.lua). */
#include "router.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 5000
#define MAX_TRACED_SKIPS 10

extern const char reserve_lua[];
static struct cc_redis_script reserve_script = CC_REDIS_SCRIPT("reserve", reserve_lua);

struct candidate {
    char id[64];
    int64_t capacity, since, offers, calls, chats, version, handled;
    char status[16], state[20], pending[16], team[64];
};

struct ix {
    char id[64], state[16], queue[64], kind[8], excluded[64];
    int64_t enq;
};

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

static void copy_str(char *dst, size_t cap, const redisReply *v)
{
    snprintf(dst, cap, "%s", v && v->type == REDIS_REPLY_STRING ? v->str : "");
}

static int64_t num(const redisReply *v)
{
    return v && v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : 0;
}

static enum cc_status ix_read(struct router *r, const char *id, struct ix *x)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(r->redis, &rep, "HMGET {cc}:ix:%s state queue kind enq excluded",
                                     id);
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "%s", id);
    if (st == CC_OK && rep->elements == 5) {
        copy_str(x->state, sizeof x->state, rep->element[0]);
        copy_str(x->queue, sizeof x->queue, rep->element[1]);
        copy_str(x->kind, sizeof x->kind, rep->element[2]);
        x->enq = num(rep->element[3]);
        copy_str(x->excluded, sizeof x->excluded, rep->element[4]);
    }
    free_reply(rep);
    return st;
}

/* The skill bar now: min_capacity lowered by the widening steps passed. */
static int64_t bar(const Cc__V1__Queue *q, int64_t waited_ms)
{
    int64_t b = q->min_capacity > 0 ? q->min_capacity : 1;
    for (size_t i = 0; i < q->n_widening; i++)
        if (waited_ms >= q->widening[i]->after_s * 1000)
            b = q->widening[i]->min_capacity;
    return b;
}

/* Reads the agents holding the queue's skill at or above `min`, with their
 * presence records, in one pipeline. Returns how many (<= MAX_CANDIDATES). */
static size_t candidates(struct router *r, const Cc__V1__Queue *q, int64_t min,
                         struct candidate **out)
{
    redisReply *ids;
    struct cc_redis_conn *c;
    size_t n = 0;
    *out = NULL;
    if (cc_redis_run(r->redis, &ids, "ZRANGEBYSCORE {cc}:rt:cand:%s %lld +inf WITHSCORES LIMIT 0 %d",
                     q->skill_id, (long long)min, MAX_CANDIDATES) != CC_OK ||
        !(*out = calloc(ids->elements / 2 + 1, sizeof **out)) ||
        cc_redis_acquire(r->redis, &c) != CC_OK) {
        free_reply(ids);
        return 0;
    }
    for (size_t i = 0; i + 1 < ids->elements; i += 2) {
        char key[96];
        snprintf(key, sizeof key, "{cc}:agent:%s", ids->element[i]->str);
        const char *argv[] = {"HMGET", key, "status", "state", "offers", "calls", "chats",
                              "pending", "since", "team", "version"};
        cc_redis_append(c, 11, argv, NULL);
    }
    for (size_t i = 0; i + 1 < ids->elements; i += 2) {
        redisReply *rec;
        struct candidate *a = &(*out)[n];
        if (cc_redis_reply(c, &rec) != CC_OK || rec->elements != 9) {
            free_reply(rec);
            continue;
        }
        snprintf(a->id, sizeof a->id, "%s", ids->element[i]->str);
        a->capacity = strtoll(ids->element[i + 1]->str, NULL, 10);
        copy_str(a->status, sizeof a->status, rec->element[0]);
        copy_str(a->state, sizeof a->state, rec->element[1]);
        a->offers = num(rec->element[2]), a->calls = num(rec->element[3]);
        a->chats = num(rec->element[4]);
        copy_str(a->pending, sizeof a->pending, rec->element[5]);
        a->since = num(rec->element[6]);
        copy_str(a->team, sizeof a->team, rec->element[7]);
        a->version = num(rec->element[8]);
        freeReplyObject(rec);
        n++;
    }
    cc_redis_release(r->redis, c);
    freeReplyObject(ids);
    return n;
}

/* Why `a` cannot take the interaction now, or NULL when it can. */
static const char *skip_reason(const struct candidate *a, const Cc__V1__Queue *q, const char *kind)
{
    int chat = !strcmp(kind, "chat");
    int64_t room = q->max_concurrent_chats > 0 ? q->max_concurrent_chats : 1;
    if (strcmp(a->status, "callcenter") != 0)
        return "not_callcenter";
    if (!strcmp(a->state, "pause"))
        return "paused";
    if (q->n_team_ids) {
        int in = 0;
        for (size_t i = 0; i < q->n_team_ids && !in; i++)
            in = !strcmp(q->team_ids[i], a->team);
        if (!in)
            return "not_in_team";
    }
    if (!strcmp(a->state, "waiting") && a->offers == 0)
        return NULL;
    if ((chat && a->calls > 0) || (!chat && a->chats > 0))
        return "call_or_chat";
    if (chat && !strcmp(a->state, "busy") && a->calls == 0 && !a->pending[0] &&
        a->chats + a->offers < room)
        return NULL;
    return "busy";
}

static const char *strategy_of(const Cc__V1__Queue *q)
{
    return q->strategy ? q->strategy : "longest_idle";
}

static int by_idle(const void *x, const void *y)
{
    const struct candidate *a = x, *b = y;
    return (a->since > b->since) - (a->since < b->since);
}

static int by_skill(const void *x, const void *y)
{
    const struct candidate *a = x, *b = y;
    return a->capacity != b->capacity ? (a->capacity < b->capacity) - (a->capacity > b->capacity)
                                      : by_idle(x, y);
}

static int by_handled(const void *x, const void *y)
{
    const struct candidate *a = x, *b = y;
    return a->handled != b->handled ? (a->handled > b->handled) - (a->handled < b->handled)
                                    : by_idle(x, y);
}

static int by_id(const void *x, const void *y)
{
    return strcmp(((const struct candidate *)x)->id, ((const struct candidate *)y)->id);
}

/* Interactions each candidate accepted today ({cc}:handled:<day>). */
static void load_handled(struct router *r, struct candidate *a, size_t n)
{
    char day[16];
    cc_time_day(cc_time_now_ms(), day, sizeof day);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep;
        if (cc_redis_run(r->redis, &rep, "HGET {cc}:handled:%s %s", day, a[i].id) == CC_OK)
            a[i].handled = num(rep);
        free_reply(rep);
    }
}

/* Round robin: the agents after the one chosen last in this queue come first. */
static void rotate(struct router *r, const Cc__V1__Queue *q, struct candidate *a, size_t n)
{
    redisReply *rep;
    size_t start = 0;
    qsort(a, n, sizeof *a, by_id);
    if (cc_redis_run(r->redis, &rep, "GET {cc}:rr:%s", q->id) == CC_OK &&
        rep->type == REDIS_REPLY_STRING)
        while (start < n && strcmp(a[start].id, rep->str) <= 0)
            start++;
    free_reply(rep);
    if (start == 0 || start >= n)
        return;
    struct candidate *tmp = malloc(start * sizeof *a);
    if (!tmp)
        return;
    memcpy(tmp, a, start * sizeof *a);
    memmove(a, a + start, (n - start) * sizeof *a);
    memcpy(a + (n - start), tmp, start * sizeof *a);
    free(tmp);
}

static void order(struct router *r, const Cc__V1__Queue *q, struct candidate *a, size_t n)
{
    const char *s = strategy_of(q);
    if (!strcmp(s, "most_skilled")) {
        qsort(a, n, sizeof *a, by_skill);
    } else if (!strcmp(s, "fewest_interactions")) {
        load_handled(r, a, n);
        qsort(a, n, sizeof *a, by_handled);
    } else if (!strcmp(s, "round_robin")) {
        rotate(r, q, a, n);
    } else if (!strcmp(s, "random")) {
        for (size_t i = n; i > 1; i--) {
            size_t j = randombytes_uniform((uint32_t)i);
            struct candidate t = a[i - 1];
            a[i - 1] = a[j], a[j] = t;
        }
    } else { /* longest_idle, and ring_all until ringing several is built */
        qsort(a, n, sizeof *a, by_idle);
    }
}

/* Keeps the eligible candidates in order, the excluded agent last; traces skips. */
static size_t eligible(struct router *r, const struct ix *x, const Cc__V1__Queue *q,
                       struct candidate *a, size_t n, int trace_skips)
{
    size_t kept = 0, traced = 0;
    int excluded_at = -1;
    for (size_t i = 0; i < n; i++) {
        const char *why = skip_reason(&a[i], q, x->kind);
        if (!why && x->excluded[0] && !strcmp(a[i].id, x->excluded))
            why = "excluded";
        if (why && trace_skips && traced++ < MAX_TRACED_SKIPS)
            trace_add(r, x->id, "skipped", a[i].id, why, NULL);
        if (!why || !strcmp(why, "excluded")) {
            if (why)
                excluded_at = (int)kept;
            a[kept++] = a[i];
        }
    }
    if (excluded_at >= 0 && kept > 1) { /* skipped while any other eligible agent exists */
        struct candidate ex = a[excluded_at];
        memmove(&a[excluded_at], &a[excluded_at + 1], (kept - 1 - (size_t)excluded_at) * sizeof *a);
        a[kept - 1] = ex;
    }
    return kept;
}

/* The offer expiry: the agent's team invite (chat) or ring (call) time. */
static int64_t offer_ms(struct router *r, const char *team_id, const char *kind)
{
    ProtobufCMessage *obj;
    int call = !strcmp(kind, "call");
    int64_t s = call ? 20 : 30;
    if (team_id[0] && config_copy(r, &r->teams, team_id, &obj) == CC_OK) {
        const Cc__V1__Team *t = (const Cc__V1__Team *)obj;
        s = call ? t->call_offer_timeout_s : t->chat_invite_timeout_s;
        protobuf_c_message_free_unpacked(obj, NULL);
    }
    return s * 1000;
}

/* Runs reserve.lua; returns its answer (version, 0 agent moved, -1 gone) or -2. */
static long long reserve(struct router *r, const struct ix *x, const struct candidate *a,
                         int64_t now, int64_t expires)
{
    char kix[96], kwait[96], kagent[96], ktis[128], day[16], ver[24], snow[24], sexp[24],
        spent[24];
    struct cc_redis_conn *c;
    redisReply *rep;
    int waiting = !strcmp(a->state, "waiting");
    cc_time_day(a->since ? a->since : now, day, sizeof day);
    snprintf(kix, sizeof kix, "{cc}:ix:%s", x->id);
    snprintf(kwait, sizeof kwait, "{cc}:wait:%s", x->queue);
    snprintf(kagent, sizeof kagent, "{cc}:agent:%s", a->id);
    snprintf(ktis, sizeof ktis, "{cc}:tis:%s:%s", day, a->id);
    snprintf(ver, sizeof ver, "%lld", (long long)a->version);
    snprintf(snow, sizeof snow, "%lld", (long long)now);
    snprintf(sexp, sizeof sexp, "%lld", (long long)expires);
    snprintf(spent, sizeof spent, "%lld", waiting && a->since ? (long long)(now - a->since) : 0LL);
    const char *argv[] = {kix, kwait, kagent, "{cc}:timers:offer", ktis, "{cc}:offered",
                          x->id, a->id, ver, x->kind, snow, sexp, waiting ? "offering" : "", spent};
    if (cc_redis_acquire(r->redis, &c) != CC_OK)
        return -2;
    enum cc_status st = cc_redis_eval(c, &reserve_script, &rep, 6, 14, argv, NULL);
    long long v = st == CC_OK && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -2;
    free_reply(rep);
    cc_redis_release(r->redis, c);
    return v;
}

/* Tells the agent (cc.router.offer.<agent>) and the registry (which publishes
 * the agent's new status) that the offer was made. */
static void announce(struct router *r, const struct ix *x, const char *agent, int64_t now,
                     int64_t expires)
{
    Cc__V1__Offer offer = CC__V1__OFFER__INIT;
    char subject[128], at[32], exp[32], offer_id[96];
    redisReply *rep;
    cc_time_format_ms(now, at, sizeof at);
    cc_time_format_ms(expires, exp, sizeof exp);
    snprintf(offer_id, sizeof offer_id, "%s:%lld", x->id, (long long)now);
    offer.offer_id = offer_id, offer.interaction_id = CC_PB_STR(x->id);
    offer.kind = CC_PB_STR(x->kind), offer.queue_id = CC_PB_STR(x->queue);
    offer.offered_at = at, offer.expires_at = exp, offer.agent_id = CC_PB_STR(agent);
    if (cc_redis_run(r->redis, &rep, "HMGET {cc}:ix:%s chat_id preview", x->id) == CC_OK &&
        rep->elements == 2) {
        offer.chat_id = rep->element[0]->type == REDIS_REPLY_STRING ? rep->element[0]->str : NULL;
        offer.preview = rep->element[1]->type == REDIS_REPLY_STRING ? rep->element[1]->str : NULL;
    }
    snprintf(subject, sizeof subject, "cc.router.offer.%s", agent);
    cc_nats_publish(r->nats, subject, &offer.base);
    free_reply(rep);
    Cc__V1__RoutingEvent ev = CC__V1__ROUTING_EVENT__INIT;
    ev.agent_id = CC_PB_STR(agent), ev.event = CC_PB_STR("offer");
    ev.kind = CC_PB_STR(x->kind), ev.queue_id = CC_PB_STR(x->queue);
    ev.interaction_id = CC_PB_STR(x->id);
    cc_nats_publish(r->nats, "cc.presence.announce", &ev.base);
}

static int try_offer(struct router *r, const struct ix *x, const Cc__V1__Queue *q,
                     int trace_skips)
{
    struct candidate *a;
    int64_t now = cc_time_now_ms();
    size_t n = candidates(r, q, bar(q, now - x->enq), &a);
    n = eligible(r, x, q, a, n, trace_skips);
    order(r, q, a, n);
    int offered = 0;
    for (size_t i = 0; i < n && !offered; i++) {
        int64_t expires = now + offer_ms(r, a[i].team, x->kind);
        long long v = reserve(r, x, &a[i], now, expires);
        if (v == -1 || v == -2)
            break; /* gone meanwhile (another replica offered it), or Redis failed */
        if (v == 0)
            continue; /* the agent changed meanwhile: next one */
        offered = 1;
        trace_add(r, x->id, "offered", a[i].id, NULL, strategy_of(q));
        if (!strcmp(strategy_of(q), "round_robin")) {
            redisReply *rep;
            if (cc_redis_run(r->redis, &rep, "SET {cc}:rr:%s %s", q->id, a[i].id) == CC_OK || rep)
                free_reply(rep);
        }
        announce(r, x, a[i].id, now, expires);
        cc_metric_add(r->m_offers, NULL, 1);
    }
    free(a);
    return offered;
}

int routing_offer_interaction(struct router *r, const char *id, int trace_skips)
{
    struct ix x;
    ProtobufCMessage *q;
    int64_t t0 = cc_time_mono_us();
    if (ix_read(r, id, &x) != CC_OK)
        return -1;
    if (strcmp(x.state, "waiting") != 0 || config_copy(r, &r->queues, x.queue, &q) != CC_OK)
        return 0;
    int offered = try_offer(r, &x, (const Cc__V1__Queue *)q, trace_skips);
    protobuf_c_message_free_unpacked(q, NULL);
    cc_metric_observe(r->m_decision, NULL, (double)(cc_time_mono_us() - t0) / 1e6);
    return offered;
}

/* The head (best score) of every queue whose skill the agent holds. */
static int best_waiting(struct router *r, const char *agent, char *best, size_t cap)
{
    char **ids = NULL;
    size_t n = 0;
    double best_score = 0;
    int found = 0;
    if (config_ids(r, &r->queues, &ids, &n) != CC_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *obj;
        redisReply *head = NULL, *cap_rep = NULL;
        if (!ids[i] || config_copy(r, &r->queues, ids[i], &obj) != CC_OK)
            continue;
        const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
        if (cc_redis_run(r->redis, &cap_rep, "ZSCORE {cc}:rt:cand:%s %s", q->skill_id, agent) ==
                CC_OK && cap_rep->type == REDIS_REPLY_STRING &&
            cc_redis_run(r->redis, &head, "ZRANGE {cc}:wait:%s 0 0 WITHSCORES", q->id) == CC_OK &&
            head->elements == 2) {
            double score = strtod(head->element[1]->str, NULL);
            if (!found || score < best_score) {
                snprintf(best, cap, "%s", head->element[0]->str);
                best_score = score, found = 1;
            }
        }
        free_reply(cap_rep);
        free_reply(head);
        protobuf_c_message_free_unpacked(obj, NULL);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return found;
}

void routing_offer_agent(struct router *r, const char *agent_id)
{
    char id[64];
    /* each round offers one interaction; chats may take several */
    for (int round = 0; round < 16 && best_waiting(r, agent_id, id, sizeof id); round++)
        if (routing_offer_interaction(r, id, 1) <= 0)
            break;
}

/* The waiting interactions at the head of every queue get another chance,
 * in priority and age order across the queues:
 * a widening step may have come due, or a replica may have died between
 * queueing an interaction and routing it. Runs every SWEEP_MS on each
 * replica; events do the routing, this only catches what no event will. */
struct head {
    char id[64];
    double score;
};

static int by_score(const void *x, const void *y)
{
    const struct head *a = x, *b = y;
    return (a->score > b->score) - (a->score < b->score);
}

void routing_sweep(struct router *r)
{
    char **ids = NULL;
    size_t n = 0, nh = 0;
    requeue_lost_offers(r);
    expire_waiting(r);
    if (config_ids(r, &r->queues, &ids, &n) != CC_OK)
        return;
    struct head *heads = calloc(n * 5 + 1, sizeof *heads);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = NULL;
        if (heads && ids[i] &&
            cc_redis_run(r->redis, &rep, "ZRANGE {cc}:wait:%s 0 4 WITHSCORES", ids[i]) == CC_OK)
            for (size_t j = 0; j + 1 < rep->elements; j += 2, nh++) {
                snprintf(heads[nh].id, sizeof heads[nh].id, "%s", rep->element[j]->str);
                heads[nh].score = strtod(rep->element[j + 1]->str, NULL);
            }
        free_reply(rep);
        free(ids[i]);
    }
    free(ids);
    /* across queues too: the highest priority, then the oldest, goes first */
    if (heads)
        qsort(heads, nh, sizeof *heads, by_score);
    for (size_t i = 0; i < nh; i++)
        routing_offer_interaction(r, heads[i].id, 0);
    free(heads);
}
