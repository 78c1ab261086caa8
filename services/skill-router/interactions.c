/* interactions.c - the subjects of skill-router (enqueue, accept, decline,
 * abandon, end, get, trace), interaction records in Redis ({cc}:ix:<id>),
 * routing traces ({cc}:trace:<id>), and the agent status events that make
 * routing happen (an agent available, an offer timed out). */
#include "router.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTT_MS 5000

extern const char requeue_lua[], accept_lua[], decline_lua[], expire_lua[], abandon_lua[],
    finish_lua[];
static struct cc_redis_script finish_script = CC_REDIS_SCRIPT("finish", finish_lua);
static struct cc_redis_script abandon_script = CC_REDIS_SCRIPT("abandon", abandon_lua);
static struct cc_redis_script expire_script = CC_REDIS_SCRIPT("expire", expire_lua);
static struct cc_redis_script requeue_script = CC_REDIS_SCRIPT("requeue", requeue_lua);
static struct cc_redis_script accept_script = CC_REDIS_SCRIPT("accept", accept_lua);
static struct cc_redis_script decline_script = CC_REDIS_SCRIPT("decline", decline_lua);

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

/* --- records -------------------------------------------------------------------------------- */

/* The agents an offered interaction rings for, into ix->ringing (pointing
 * into *ring or x). Returns CC_OK or the Redis failure. */
static enum cc_status ringing_read(struct router *r, const char *id, struct ix *x,
                                   Cc__V1__Interaction *ix, redisReply **ring, char **one)
{
    *ring = NULL;
    ix->has_offered_ms = x->offered_ms > 0, ix->offered_ms = x->offered_ms; /* the last offer */
    if (strcmp(x->state, "offered") != 0)
        return CC_OK;
    ix->has_expires_ms = 1, ix->expires_ms = x->expires_ms;
    if (!x->ring) {
        *one = x->agent;
        ix->ringing = one, ix->n_ringing = x->agent[0] ? 1 : 0;
        return CC_OK;
    }
    enum cc_status st = cc_redis_run(r->redis, ring, "SMEMBERS " KEY_RING, cc_tag(), id);
    if (st != CC_OK || (*ring)->type != REDIS_REPLY_ARRAY)
        return st == CC_OK ? CC_ERR_INTERNAL : st;
    ix->ringing = calloc((*ring)->elements + 1, sizeof *ix->ringing);
    if (!ix->ringing)
        return CC_ERR_NOMEM;
    for (size_t i = 0; i < (*ring)->elements; i++)
        ix->ringing[ix->n_ringing++] = (*ring)->element[i]->str;
    return CC_OK;
}

static void reply_record(struct router *r, const struct cc_nats_msg *m, const char *id)
{
    struct ix x;
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    char enq[32], *one = NULL;
    redisReply *ring = NULL;
    enum cc_status st = ix_read(r, id, &x);
    if (st == CC_OK)
        st = ringing_read(r, id, &x, &ix, &ring, &one);
    if (st != CC_OK) {
        cc_nats_respond_error(r->nats, m, st, st == CC_ERR_NOT_FOUND ? "no such interaction" : NULL);
        if (ring)
            free(ix.ringing);
        free_reply(ring);
        ix_release(&x);
        return;
    }
    cc_time_format_ms(x.enq, enq, sizeof enq);
    ix.id = CC_PB_STR(id), ix.kind = x.kind, ix.queue_id = x.queue, ix.state = x.state;
    ix.enqueued_at = enq;
    ix.agent_id = x.agent[0] ? x.agent : NULL;
    ix.chat_id = CC_PB_STR(x.chat_id);
    ix.end_reason = x.end_reason[0] ? x.end_reason : NULL;
    ix.has_priority = ix.has_attempts = 1;
    ix.priority = x.prio, ix.attempts = x.attempts;
    cc_nats_respond(r->nats, m, &ix.base);
    if (ring)
        free(ix.ringing);
    free_reply(ring);
    ix_release(&x);
}

static int id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i]))
            return 0;
    return n > 0 && n <= 64;
}

/* --- enqueue -------------------------------------------------------------------------------- */

struct queue_facts {
    char channel[8];
    int64_t priority;
    int64_t max_wait_s;    /* 0 = waits for ever */
    int64_t sticky_wait_s; /* -1: not sticky */
    int found;
};

static enum cc_status queue_facts(struct router *r, const char *id, struct queue_facts *f)
{
    const struct config *c = config_get_for_queue(r, id);
    const Cc__V1__Queue *q = config_queue(c, id);
    memset(f, 0, sizeof *f);
    if (q) {
        snprintf(f->channel, sizeof f->channel, "%s", q->channel ? q->channel : "");
        f->priority = q->priority, f->max_wait_s = q->max_wait_s, f->found = 1;
        f->sticky_wait_s = q->sticky_agent ? q->sticky_wait_s : -1;
    }
    config_put(c);
    return q ? CC_OK : CC_ERR_NOT_FOUND;
}

static const char *check_new(struct router *r, const Cc__V1__Interaction *in, struct queue_facts *f)
{
    if (!id_ok(in->id))
        return "id: 1 to 64 letters, digits or - _ . :";
    if (in->reserved_agent && *in->reserved_agent && !id_ok(in->reserved_agent))
        return "reserved_agent: an agent id";
    if (!in->kind || (strcmp(in->kind, "call") && strcmp(in->kind, "chat")))
        return "kind: call or chat";
    if (in->has_priority && (in->priority < 0 || in->priority > 100))
        return "priority: 0..100";
    if (!in->queue_id || queue_facts(r, in->queue_id, f) != CC_OK)
        return "queue_id: no such queue";
    if (strcmp(f->channel, in->kind) != 0)
        return "kind: the queue takes the other kind";
    return NULL;
}

/* The agent who last served customer `customer` ({cc}:last_agent:<id>, set
 * on accept), preferred until `until` ms when the queue is sticky. */
static void sticky_agent(struct router *r, const char *customer, int64_t until, char *agent,
                         size_t cap, char *suntil, size_t ucap)
{
    redisReply *rep;
    if (cc_redis_run(r->redis, &rep, "GET " KEY_LAST_AGENT, cc_tag(), customer) == CC_OK &&
        rep->type == REDIS_REPLY_STRING) {
        snprintf(agent, cap, "%s", rep->str);
        snprintf(suntil, ucap, "%lld", (long long)until);
    }
    free_reply(rep);
}

#define RESERVED_MS (3650LL * 86400000) /* a reserved interaction waits for its agent */

/* A new interaction as it is about to be stored: the record (no need to
 * read it back) and reserve.lua's arguments storing it (ix_store). */
struct new_ix {
    int64_t enq, prio;
    struct ix x;
    char sscore[40], senq[24], sprio[24], sdeadline[24], nsteps[4], at[32];
    char sticky[64], suntil[24];
    uint8_t packed[2][512];
    const char *argv[40];
    size_t lens[40];
    struct ix_store store;
};

static void prepare_new(struct router *r, const Cc__V1__Interaction *in,
                        const struct queue_facts *f, struct new_ix *out)
{
    const Cc__V1__Customer *c = in->customer;
    int64_t now = cc_time_now_ms(), prio = f->priority + (in->has_priority ? in->priority : 0);
    memset(out, 0, sizeof *out);
    snprintf(out->sscore, sizeof out->sscore, "%.0f", ix_score(prio, now));
    snprintf(out->senq, sizeof out->senq, "%lld", (long long)now);
    snprintf(out->sprio, sizeof out->sprio, "%lld", (long long)prio);
    if (f->max_wait_s > 0) /* the sweep ends it if still waiting then */
        snprintf(out->sdeadline, sizeof out->sdeadline, "%lld",
                 (long long)(now + f->max_wait_s * 1000));
    if (in->reserved_agent && *in->reserved_agent) { /* a personal callback: that agent only */
        snprintf(out->sticky, sizeof out->sticky, "%s", in->reserved_agent);
        snprintf(out->suntil, sizeof out->suntil, "%lld", (long long)(now + RESERVED_MS));
    } else if (f->sticky_wait_s >= 0 && c && c->id) {
        sticky_agent(r, c->id, now + f->sticky_wait_s * 1000, out->sticky, sizeof out->sticky,
                     out->suntil, sizeof out->suntil);
    }
    /* the trace starts in the same script: enqueued, and sticky when it is */
    struct trace_step steps[] = {{"enqueued", NULL, NULL, NULL},
                                 {"sticky", out->sticky, "last served this customer", NULL}};
    size_t plen[2] = {0, 0};
    cc_time_format_ms(now, out->at, sizeof out->at);
    int n = out->sticky[0] ? 2 : 1;
    for (int i = 0; i < n; i++)
        plen[i] = trace_pack(&steps[i], out->at, out->packed[i], sizeof out->packed[i]);
    snprintf(out->nsteps, sizeof out->nsteps, "%d", n);
    const char *argv[] = {out->sscore,
                          out->sdeadline,
                          out->nsteps,
                          (const char *)out->packed[0],
                          (const char *)out->packed[1],
                          "state",
                          "waiting",
                          "queue",
                          in->queue_id,
                          "kind",
                          in->kind,
                          "enq",
                          out->senq,
                          "prio",
                          out->sprio,
                          "attempts",
                          "0",
                          "customer_id",
                          c && c->id ? c->id : "",
                          "customer_name",
                          c && c->name ? c->name : "",
                          "customer_phone",
                          c && c->phone ? c->phone : "",
                          "preview",
                          in->preview ? in->preview : "",
                          "chat_id",
                          in->chat_id ? in->chat_id : "",
                          "sticky",
                          out->sticky,
                          "sticky_until",
                          out->suntil,
                          "source",
                          in->source ? in->source : ""};
    enum { ARGC = sizeof argv / sizeof *argv };
    _Static_assert(ARGC <= sizeof out->argv / sizeof *out->argv, "room for the arguments");
    size_t k = 0;
    for (size_t i = 0; i < ARGC; i++) { /* the second trace step only when sticky */
        if (i == 4 && n < 2)
            continue;
        out->argv[k] = argv[i];
        out->lens[k++] = i == 3 ? plen[0] : i == 4 ? plen[1] : strlen(argv[i]);
    }
    out->store = (struct ix_store){out->argv, out->lens, k, NULL, NULL};
    out->enq = now, out->prio = prio;
    struct ix *x = &out->x;
    snprintf(x->id, sizeof x->id, "%s", in->id);
    snprintf(x->state, sizeof x->state, "waiting");
    snprintf(x->queue, sizeof x->queue, "%s", in->queue_id);
    snprintf(x->kind, sizeof x->kind, "%s", in->kind);
    snprintf(x->sticky, sizeof x->sticky, "%s", out->sticky);
    x->sticky_until = out->suntil[0] ? strtoll(out->suntil, NULL, 10) : 0;
    x->enq = now, x->prio = prio;
    x->chat_id = in->chat_id && *in->chat_id ? in->chat_id : NULL;
    x->customer_id = c && c->id && *c->id ? c->id : NULL;
    x->customer_name = c && c->name && *c->name ? c->name : NULL;
    x->customer_phone = c && c->phone && *c->phone ? c->phone : NULL;
    x->preview = in->preview && *in->preview ? in->preview : NULL;
    x->source = in->source && *in->source ? in->source : NULL;
}

/* The enqueue being answered once its interaction is stored. */
struct enqueue_answer {
    struct router *r;
    const struct cc_nats_msg *m;
    const Cc__V1__Interaction *in;
    const struct new_ix *s;
};

/* Answers the enqueue from what was stored, without reading it back:
 * waiting, or offered to `agent` already (ring_all: offered, the agents in
 * cc.router.get); a retry of an existing one gets the record as it is. */
static void answered(void *arg, int got, const char *agent)
{
    struct enqueue_answer *e = arg;
    if (got == -3) {
        reply_record(e->r, e->m, e->in->id);
        return;
    }
    if (got == -2) {
        cc_nats_respond_error(e->r->nats, e->m, CC_ERR_UNAVAILABLE, NULL);
        return;
    }
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    char enq[32];
    cc_time_format_ms(e->s->enq, enq, sizeof enq);
    ix.id = e->in->id, ix.kind = e->in->kind, ix.queue_id = e->in->queue_id;
    ix.chat_id = e->in->chat_id;
    ix.state = CC_PB_STR(got > 0 ? "offered" : "waiting"), ix.enqueued_at = enq;
    ix.agent_id = CC_PB_STR(agent);
    ix.has_priority = ix.has_attempts = 1;
    ix.priority = e->s->prio, ix.attempts = got > 0 ? 1 : 0;
    cc_nats_respond(e->r->nats, e->m, &ix.base);
}

static void on_enqueue(struct router *r, const struct cc_nats_msg *m)
{
    Cc__V1__Interaction *in = cc__v1__interaction__unpack(NULL, m->len, m->data);
    struct queue_facts f;
    const char *why = in ? check_new(r, in, &f) : "unreadable interaction";
    struct new_ix *s = why ? NULL : malloc(sizeof *s);
    if (!s) {
        cc_nats_respond_error(r->nats, m, why ? CC_ERR_INVALID : CC_ERR_NOMEM, why);
    } else {
        struct enqueue_answer e = {r, m, in, s};
        prepare_new(r, in, &f, s);
        s->store.answered = answered, s->store.arg = &e;
        routing_offer_new(r, &s->x, &s->store); /* stored, answered, then offered */
    }
    free(s);
    if (in)
        cc__v1__interaction__free_unpacked(in, NULL);
}

/* --- outcomes ---------------------------------------------------------------------------- */

/* Tells agent-registry what happened to the agent (accept, decline, ...). */
static enum cc_status presence_route(struct router *r, const char *agent, const char *event,
                                     const struct ix *x, const char *id, char *why, size_t whycap)
{
    Cc__V1__RoutingEvent ev = CC__V1__ROUTING_EVENT__INIT;
    ProtobufCMessage *rep = NULL;
    ev.agent_id = CC_PB_STR(agent), ev.event = CC_PB_STR(event), ev.kind = CC_PB_STR(x->kind);
    ev.queue_id = CC_PB_STR(x->queue), ev.interaction_id = CC_PB_STR(id);
    enum cc_status st =
        cc_nats_request(r->nats, SUBJ_PRESENCE_ROUTE, &ev.base, &cc__v1__agent_status__descriptor,
                        RTT_MS, &rep, why, whycap);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

static void withdrawn(struct router *r, const char *agent, const struct ix *x, const char *id);

/* The offer to `agent` ("" for every agent ringing) ended without an
 * accept: re-queued at the old place unless others still ring. A lost offer
 * (no timer answered for it: "" with one agent offered) is withdrawn from
 * that agent, its desk and its presence, before the chat is offered again. */
static enum cc_status requeue(struct router *r, const char *id, const struct ix *x,
                              const char *agent, const char *step)
{
    char kix[160], kwait[160], kring[160], sscore[40], paoff[64];
    struct cc_redis_conn *c;
    redisReply *rep;
    snprintf(kix, sizeof kix, KEY_IX, cc_tag(), id);
    snprintf(kwait, sizeof kwait, KEY_WAIT, cc_tag(), x->queue);
    snprintf(kring, sizeof kring, KEY_RING, cc_tag(), id);
    cc_key_prefix(paoff, sizeof paoff, KEY_AOFF);
    snprintf(sscore, sizeof sscore, "%.0f", ix_score(x->prio, x->enq));
    int lost = !agent[0] && !x->ring && x->agent[0];
    /* a lost offer names its agent: should another replica's sweeper have
     * re-queued it and it been offered anew meanwhile, the new offer stays */
    const char *argv[] = {
        kix, kwait, cc_key_fixed(KEY_OFFERED), kring, id, lost ? x->agent : agent, sscore, paoff};
    if (lost) /* the desk first: once re-queued, any replica may offer it anew at once */
        withdrawn(r, x->agent, x, id);
    enum cc_status st = cc_redis_acquire(r->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &requeue_script, &rep, 4, 8, argv, NULL);
    long long done = st == CC_OK && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    free_reply(rep);
    cc_redis_release(r->redis, c);
    if (done)
        trace_add(r, id, step, agent[0] ? agent : NULL, NULL, NULL);
    if (done) /* one agent's offer, or the whole lost one */
        cc_metric_add(r->m_outcomes,
                      step[0] == 'd'   ? "outcome=\"declined\""
                      : step[0] == 'w' ? "outcome=\"withdrawn\""
                                       : "outcome=\"timed_out\"",
                      1);
    if (done == 1 && lost) /* and the agent's presence, should it still count the offer */
        presence_route(r, x->agent, "offer_withdrawn", x, id, NULL, 0);
    if (done == 1) {
        trace_add(r, id, "requeued", NULL, NULL, NULL);
        routing_offer_interaction(r, id, ROUTE_TRACE_SKIPS);
    }
    return st;
}

/* Ends connected interaction `id` for `reason` with trace step `step` of
 * `agent`, atomically (finish.lua). CC_OK also when it was ended already. */
static enum cc_status finish(struct router *r, const char *id, const char *step,
                             const char *agent, const char *reason)
{
    struct trace_step t = {step, agent, reason, NULL};
    char kix[160], ktrace[160], at[32], ttl[16];
    uint8_t packed[512];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    cc_time_format_ms(cc_time_now_ms(), at, sizeof at);
    size_t plen = trace_pack(&t, at, packed, sizeof packed);
    snprintf(kix, sizeof kix, KEY_IX, cc_tag(), id);
    snprintf(ktrace, sizeof ktrace, KEY_TRACE, cc_tag(), id);
    snprintf(ttl, sizeof ttl, "%d", TRACE_TTL_S);
    const char *argv[] = {kix, ktrace, reason, (const char *)packed, ttl};
    const size_t lens[] = {strlen(kix), strlen(ktrace), strlen(reason), plen, strlen(ttl)};
    enum cc_status st = plen ? cc_redis_acquire(r->redis, &c) : CC_ERR_INTERNAL;
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &finish_script, &rep, 2, 5, argv, lens);
    free_reply(rep);
    cc_redis_release(r->redis, c);
    return st;
}

/* Releases the agent of a connected interaction in agent-registry. An agent
 * that no longer exists has nothing to release; any other failure (the
 * registry or its Redis down) is returned: the end fails as a whole and is
 * retried, the interaction staying connected meanwhile. */
static enum cc_status release_agent(struct router *r, const struct ix *x, const char *id,
                                    char *why, size_t whycap)
{
    enum cc_status st = presence_route(r, x->agent, "end", x, id, why, whycap);
    if (st == CC_ERR_NOT_FOUND) {
        CC_INFO("interaction %s: its agent %s no longer exists", id, x->agent);
        why[0] = '\0';
        st = CC_OK;
    }
    return st;
}

/* The agent acting: the caller, or agent_id for call-router acting for one. */
static const char *actor(const Cc__V1__OfferAction *a)
{
    if (a->caller && a->caller->user_id)
        return a->caller->user_id;
    return a->agent_id;
}

/* How answer_offer ended. */
enum answer { ANSWER_OK = 1, ANSWER_NOT_YOURS = 0, ANSWER_ENDED = -1, ANSWER_FAILED = -2 };

#define CAS_TRIES 20

/* Decides the agent's accept or decline (`ev`) on its record with the one
 * machine (cc_agent.h) and runs accept.lua or decline.lua, which applies it
 * compare-and-set together with the interaction's change; decides again when
 * the record moved meanwhile. On ANSWER_OK *out is the script's answer (its
 * first element the agent's new version) and *rec the record it wrote. */
static enum answer answer_offer(struct router *r, struct cc_redis_script *script,
                                enum presence_event ev, const char *id, const char *agent,
                                const struct ix *x, redisReply **out, struct agent_rec *rec)
{
    char kix[160], kring[160], kwait[160], sscore[40], ttl[16], hold[160], offer[128];
    struct presence_input in = {.ev = ev, .actor = ACTOR_ROUTER, .kind = x->kind};
    *out = NULL;
    if (strcmp(x->state, "offered") != 0 || (!x->ring && strcmp(x->agent, agent) != 0))
        return ANSWER_NOT_YOURS;
    snprintf(kix, sizeof kix, KEY_IX, cc_tag(), id);
    snprintf(kring, sizeof kring, KEY_RING, cc_tag(), id);
    snprintf(kwait, sizeof kwait, KEY_WAIT, cc_tag(), x->queue);
    snprintf(sscore, sizeof sscore, "%.0f", ix_score(x->prio, x->enq));
    snprintf(ttl, sizeof ttl, "%d", TIS_TTL_S);
    snprintf(hold, sizeof hold, "%s%s", ev == EV_ACCEPT ? "+" : "", ev == EV_ACCEPT ? id : "");
    snprintf(offer, sizeof offer, "-%s|%s", id, x->kind);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        struct presence_facts f = {.now_ms = cc_time_now_ms(), .is_agent = 1};
        struct agent_rec cur;
        struct agent_cas_arg cas;
        struct cc_redis_conn *c;
        redisReply *rep = NULL;
        const char *why, *argv[6 + AGENT_CAS_NKEYS + 4 + AGENT_CAS_NARGS];
        size_t k = 0;
        if (agent_read(r->redis, agent, &cur) != CC_OK)
            return ANSWER_FAILED;
        if (presence_decide(&cur, &in, &f, rec, &why) != CC_OK)
            return ANSWER_ENDED; /* no offer rings for the agent (timed out) */
        agent_cas_prepare(&cas, agent, &cur, rec, hold, offer);
        const char *fixed[] = {kix,   cc_key_fixed(KEY_TIMERS_OFFER), cc_key_fixed(KEY_OFFERED),
                               kring, cc_key_fixed(KEY_TIMERS_STATE), kwait};
        for (size_t i = 0; i < 6; i++)
            argv[k++] = fixed[i];
        for (int i = 0; i < AGENT_CAS_NKEYS; i++)
            argv[k++] = cas.keys[i];
        argv[k++] = id, argv[k++] = agent, argv[k++] = ttl, argv[k++] = sscore;
        for (int i = 0; i < AGENT_CAS_NARGS; i++)
            argv[k++] = cas.argv[i];
        if (cc_redis_acquire(r->redis, &c) != CC_OK)
            return ANSWER_FAILED;
        enum cc_status st = cc_redis_eval(c, script, &rep, 6 + AGENT_CAS_NKEYS, (int)k, argv, NULL);
        cc_redis_release(r->redis, c);
        if (st != CC_OK || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
            rep->element[0]->type != REDIS_REPLY_INTEGER) {
            free_reply(rep);
            return ANSWER_FAILED;
        }
        long long v = rep->element[0]->integer;
        if (v > 0) {
            rec->version = v;
            *out = rep;
            return ANSWER_OK;
        }
        free_reply(rep);
        if (v == 0)
            return ANSWER_NOT_YOURS;
        if (v == -1)
            return ANSWER_ENDED;
        /* -2: the record moved since it was read: decide again */
    }
    return ANSWER_FAILED;
}

static enum cc_status answer_status(enum answer a, char *why, size_t whycap)
{
    if (a == ANSWER_OK)
        return CC_OK;
    snprintf(why, whycap, "%s", a == ANSWER_NOT_YOURS ? "this interaction is not offered to you"
                                : a == ANSWER_ENDED   ? "the offer has ended"
                                                      : "Redis unavailable");
    return a == ANSWER_FAILED ? CC_ERR_UNAVAILABLE : CC_ERR_CONFLICT;
}

/* The offer of `id` to `agent` ended without its answer (another agent
 * answered first, or the customer left): the agent's desktop drops it. */
static void withdrawn(struct router *r, const char *agent, const struct ix *x, const char *id)
{
    Cc__V1__Offer offer = CC__V1__OFFER__INIT;
    char subject[128];
    offer.interaction_id = CC_PB_STR(id), offer.agent_id = CC_PB_STR(agent);
    offer.kind = CC_PB_STR(x->kind), offer.queue_id = CC_PB_STR(x->queue);
    offer.chat_id = CC_PB_STR(x->chat_id);
    snprintf(subject, sizeof subject, SUBJ_ROUTER_OFFER_WITHDRAWN, agent);
    cc_nats_publish(r->nats, subject, &offer.base);
}

static enum cc_status do_accept(struct router *r, const char *id, const char *agent, struct ix *x,
                                char *why, size_t whycap)
{
    redisReply *rep = NULL;
    struct agent_rec rec;
    if (!strcmp(x->state, "connected") && !strcmp(x->agent, agent))
        return CC_OK; /* a retry: accepted already */
    enum cc_status st = answer_status(answer_offer(r, &accept_script, EV_ACCEPT, id, agent, x,
                                                   &rep, &rec),
                                      why, whycap);
    if (st == CC_OK) {
        char d[16];
        redisReply *rr;
        agents_update(r, agent, &rec);
        agent_publish(r->nats, agent, &rec, "router", "accept", id);
        cc_time_day(cc_time_now_ms(), d, sizeof d);
        if (cc_redis_run(r->redis, &rr, "HINCRBY " KEY_HANDLED " %s 1", cc_tag(), d, agent) ==
                CC_OK ||
            rr)
            free_reply(rr);
        if (x->customer_id &&
            (cc_redis_run(r->redis, &rr, "SET " KEY_LAST_AGENT " %s EX %d", cc_tag(),
                          x->customer_id, agent, LAST_AGENT_TTL_S) == CC_OK ||
             rr))
            free_reply(rr);
        snprintf(x->agent, sizeof x->agent, "%s", agent);
        char offer[128];
        snprintf(offer, sizeof offer, "-%s|%s", id, x->kind);
        for (size_t i = 1; i < rep->elements; i++) { /* ring_all: the others stop ringing */
            agents_event(r, rep->element[i]->str, EV_OFFER_WITHDRAWN, x, offer, "offer_withdrawn");
            withdrawn(r, rep->element[i]->str, x, id);
            trace_add(r, id, "withdrawn", rep->element[i]->str, "answered by another agent", NULL);
        }
        trace_add(r, id, "accepted", agent, NULL, NULL);
        cc_metric_add(r->m_outcomes, "outcome=\"accepted\"", 1);
    }
    free_reply(rep);
    return st;
}

static enum cc_status do_decline(struct router *r, const char *id, const char *agent,
                                 struct ix *x, char *why, size_t whycap)
{
    redisReply *rep = NULL;
    struct agent_rec rec;
    enum cc_status st = answer_status(answer_offer(r, &decline_script, EV_DECLINE, id, agent, x,
                                                   &rep, &rec),
                                      why, whycap);
    if (st == CC_OK) {
        int requeued = rep->elements > 1 && rep->element[1]->integer == 1;
        agents_update(r, agent, &rec);
        agent_publish(r->nats, agent, &rec, "router", "decline", id);
        trace_add(r, id, "declined", agent, NULL, NULL);
        cc_metric_add(r->m_outcomes, "outcome=\"declined\"", 1);
        if (requeued) {
            trace_add(r, id, "requeued", NULL, NULL, NULL);
            routing_offer_interaction(r, id, ROUTE_TRACE_SKIPS);
        }
    }
    free_reply(rep);
    return st;
}

static enum cc_status do_abandon(struct router *r, const char *id, struct ix *x, char *why,
                                 size_t whycap)
{
    char kix[160], kwait[160], kring[160];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    snprintf(kix, sizeof kix, KEY_IX, cc_tag(), id);
    snprintf(kwait, sizeof kwait, KEY_WAIT, cc_tag(), x->queue);
    snprintf(kring, sizeof kring, KEY_RING, cc_tag(), id);
    const char *argv[] = {kix, kwait, cc_key_fixed(KEY_OFFERED), kring, cc_key_fixed(KEY_DEADLINE),
                          id};
    enum cc_status st = cc_redis_acquire(r->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &abandon_script, &rep, 5, 6, argv, NULL);
    cc_redis_release(r->redis, c);
    if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1))
        st = CC_ERR_INTERNAL;
    const char *was = st == CC_OK ? rep->element[0]->str : "";
    if (!strcmp(was, "offered")) { /* ended already: no agent can accept it now */
        for (size_t i = 1; i < rep->elements; i++) {
            presence_route(r, rep->element[i]->str, "offer_withdrawn", x, id, NULL, 0);
            withdrawn(r, rep->element[i]->str, x, id);
        }
    } else if (!strcmp(was, "connected")) {
        st = release_agent(r, x, id, why, whycap);
        if (st == CC_OK) /* its trace step with it */
            st = finish(r, id, "abandoned", x->agent, "abandoned");
    }
    if (st == CC_OK && strcmp(was, "ended") && strcmp(was, "none")) { /* not a retry */
        if (strcmp(was, "connected"))
            trace_add(r, id, "abandoned", rep->elements > 1 ? rep->element[1]->str : NULL, NULL,
                      NULL);
        cc_metric_add(r->m_outcomes, "outcome=\"abandoned\"", 1);
    }
    free_reply(rep);
    return st;
}

static enum cc_status do_end(struct router *r, const char *id, struct ix *x, char *why,
                             size_t whycap)
{
    if (!strcmp(x->state, "ended"))
        return CC_OK; /* a retry: ended already */
    if (strcmp(x->state, "connected"))
        return snprintf(why, whycap, "the interaction is not connected"), CC_ERR_CONFLICT;
    enum cc_status st = release_agent(r, x, id, why, whycap);
    return st == CC_OK ? finish(r, id, "ended", x->agent, "completed") : st;
}

static void on_trace(struct router *r, const struct cc_nats_msg *m, const char *id)
{
    redisReply *rep;
    Cc__V1__Trace t = CC__V1__TRACE__INIT;
    enum cc_status st = cc_redis_run(r->redis, &rep, "LRANGE " KEY_TRACE " 0 -1", cc_tag(), id);
    if (st == CC_OK && rep->elements == 0)
        st = CC_ERR_NOT_FOUND;
    Cc__V1__TraceStep **steps = st == CC_OK ? calloc(rep->elements, sizeof *steps) : NULL;
    for (size_t i = 0; steps && i < rep->elements; i++)
        if ((steps[t.n_items] = cc__v1__trace_step__unpack(NULL, rep->element[i]->len,
                                                           (uint8_t *)rep->element[i]->str)))
            t.n_items++;
    t.items = steps;
    if (st == CC_OK && steps)
        cc_nats_respond(r->nats, m, &t.base);
    else
        cc_nats_respond_error(r->nats, m, st == CC_OK ? CC_ERR_NOMEM : st,
                              st == CC_ERR_NOT_FOUND ? "no such interaction" : NULL);
    for (size_t i = 0; i < t.n_items; i++)
        cc__v1__trace_step__free_unpacked(steps[i], NULL);
    free(steps);
    free_reply(rep);
}

/* cc.router.accept / decline / abandon / end / get / trace */
static void on_action(struct router *r, const struct cc_nats_msg *m, const char *verb)
{
    Cc__V1__OfferAction *a = cc__v1__offer_action__unpack(NULL, m->len, m->data);
    struct ix x = {.rep = NULL};
    char why[256] = "";
    enum cc_status st = a && id_ok(a->interaction_id) ? CC_OK : CC_ERR_INVALID;
    const char *id = st == CC_OK ? a->interaction_id : NULL, *agent = a ? actor(a) : NULL;
    if (st == CC_OK && !strcmp(verb, "trace")) {
        on_trace(r, m, id);
        goto out;
    }
    if (st == CC_OK)
        st = ix_read(r, id, &x);
    if (st == CC_OK && !strcmp(verb, "accept"))
        st = agent ? do_accept(r, id, agent, &x, why, sizeof why) : CC_ERR_INVALID;
    else if (st == CC_OK && !strcmp(verb, "decline"))
        st = agent ? do_decline(r, id, agent, &x, why, sizeof why) : CC_ERR_INVALID;
    else if (st == CC_OK && !strcmp(verb, "abandon"))
        st = do_abandon(r, id, &x, why, sizeof why);
    else if (st == CC_OK && !strcmp(verb, "end"))
        st = do_end(r, id, &x, why, sizeof why);
    else if (st == CC_OK && strcmp(verb, "get"))
        st = CC_ERR_NOT_FOUND, snprintf(why, sizeof why, "no such verb");
    if (st == CC_OK)
        reply_record(r, m, id);
    else
        cc_nats_respond_error(r->nats, m, st, why[0] ? why
                                              : st == CC_ERR_NOT_FOUND ? "no such interaction"
                                                                       : NULL);
    ix_release(&x);
out:
    if (a)
        cc__v1__offer_action__free_unpacked(a, NULL);
}

static void on_router(void *arg, const struct cc_nats_msg *m)
{
    struct router *r = arg;
    const char *verb = m->subject + strlen(SUBJ_ROUTER_PREFIX);
    if (!strcmp(verb, "enqueue"))
        on_enqueue(r, m);
    else if (!strcmp(verb, "offers") || !strcmp(verb, "queues"))
        offers_request(r, m, verb);
    else
        on_action(r, m, verb);
}

#define LOST_OFFER_GRACE_MS 3000

/* Tells the interaction's owner (call-router for calls) that it ended waiting. */
static void expired_publish(struct router *r, const char *id, const struct ix *x)
{
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    ix.id = CC_PB_STR(id), ix.kind = CC_PB_STR(x->kind), ix.queue_id = CC_PB_STR(x->queue);
    ix.state = CC_PB_STR("ended"), ix.end_reason = CC_PB_STR("timed_out");
    char subject[64];
    snprintf(subject, sizeof subject, SUBJ_ROUTER_EXPIRED, x->kind);
    if (cc_nats_publish(r->nats, subject, &ix.base) != CC_OK)
        CC_WARN("cannot publish the expiry of %s", id);
}

void expire_waiting(struct router *r)
{
    redisReply *due;
    if (cc_redis_run(r->redis, &due, "ZRANGEBYSCORE " KEY_DEADLINE " -inf %lld LIMIT 0 100",
                     cc_tag(), (long long)cc_time_now_ms()) != CC_OK) {
        free_reply(due);
        return;
    }
    for (size_t i = 0; i < due->elements; i++) {
        struct ix x;
        struct cc_redis_conn *c;
        redisReply *rep = NULL;
        char kix[160], kwait[160];
        const char *id = due->element[i]->str;
        if (ix_read(r, id, &x) != CC_OK)
            continue;
        if (cc_redis_acquire(r->redis, &c) != CC_OK) {
            ix_release(&x);
            continue;
        }
        snprintf(kix, sizeof kix, KEY_IX, cc_tag(), id);
        snprintf(kwait, sizeof kwait, KEY_WAIT, cc_tag(), x.queue);
        const char *argv[] = {kix, kwait, cc_key_fixed(KEY_DEADLINE), id};
        if (cc_redis_eval(c, &expire_script, &rep, 3, 4, argv, NULL) == CC_OK && rep->integer == 1) {
            trace_add(r, id, "ended", NULL, "timed_out", NULL);
            cc_metric_add(r->m_outcomes, "outcome=\"timed_out_waiting\"", 1);
            expired_publish(r, id, &x);
        }
        free_reply(rep);
        cc_redis_release(r->redis, c);
        ix_release(&x);
    }
    free_reply(due);
}

static void forget_offer(struct router *r, const char *id)
{
    redisReply *rep;
    cc_redis_run(r->redis, &rep, "ZREM " KEY_OFFERED " %s", cc_tag(), id);
    free_reply(rep);
}

#define TIMER_LATE_MS 30000

/* 1 when the offer timer of x's (single) agent is still set and not long
 * overdue: agent-registry's timer thread, late under load, will fire it and
 * the router re-queues on its event. A timer fired (the event lost with a
 * killed replica) or long overdue (agent-registry down) is not waited for. */
static int timer_pending(struct router *r, const struct ix *x)
{
    redisReply *rep;
    int pending = 0;
    if (x->ring || !x->agent[0])
        return 0;
    if (cc_redis_run(r->redis, &rep, "ZSCORE " KEY_TIMERS_OFFER " %s|%s|%s", cc_tag(), x->agent,
                     x->id, x->kind) == CC_OK &&
        rep->type == REDIS_REPLY_STRING)
        pending = strtoll(rep->str, NULL, 10) > cc_time_now_ms() - TIMER_LATE_MS;
    free_reply(rep);
    return pending;
}

void requeue_lost_offers(struct router *r)
{
    redisReply *rep;
    long long before = (long long)cc_time_now_ms() - LOST_OFFER_GRACE_MS;
    if (cc_redis_run(r->redis, &rep, "ZRANGEBYSCORE " KEY_OFFERED " -inf %lld LIMIT 0 50", cc_tag(),
                     before) == CC_OK)
        for (size_t i = 0; i < rep->elements; i++) {
            struct ix x;
            const char *id = rep->element[i]->str;
            enum cc_status st = ix_read(r, id, &x);
            if (st == CC_OK && !strcmp(x.state, "offered") && !timer_pending(r, &x))
                requeue(r, id, &x, "", "timed_out");
            else if (st == CC_OK && !strcmp(x.state, "offered"))
                ; /* agent-registry's offer timer, running late, will time it out */
            else if (st == CC_OK || st == CC_ERR_NOT_FOUND)
                forget_offer(r, id); /* answered or gone: only the index entry was left */
            ix_release(&x);
        }
    free_reply(rep);
}

/* --- agent status events ------------------------------------------------------------------ */

/* The agent of a status event can take something now (agent_can_take for
 * any kind in any queue; each waiting interaction is then checked with its
 * own queue). */
static int available(const Cc__V1__AgentStatus *s)
{
    struct agent_rec rec;
    agent_rec_init(&rec);
    agent_rec_from_proto(&rec, s);
    return agent_can_take(&rec, NULL, NULL) == NULL;
}

static void on_status(void *arg, const struct cc_nats_msg *m)
{
    struct router *r = arg;
    Cc__V1__AgentStatus *s = cc__v1__agent_status__unpack(NULL, m->len, m->data);
    struct ix x;
    if (!s || !s->agent_id)
        goto out;
    /* the offer stopped ringing unanswered: timed out, or released by the
     * agent's status change (pause, sign-out, deactivation) */
    int timed_out = s->reason && !strcmp(s->reason, "offer_timeout");
    int released = s->reason && !strcmp(s->reason, "offer_released");
    if ((timed_out || released) && s->interaction_id &&
        ix_read(r, s->interaction_id, &x) == CC_OK) {
        requeue(r, s->interaction_id, &x, s->agent_id, timed_out ? "timed_out" : "withdrawn");
        ix_release(&x);
    }
    if (available(s))
        routing_offer_agent(r, s->agent_id);
out:
    if (s)
        cc__v1__agent_status__free_unpacked(s, NULL);
}

enum cc_status interactions_start(struct router *r)
{
    enum cc_status st = CC_OK;
    for (int i = 0; i < 4 && st == CC_OK; i++)
        st = cc_nats_subscribe(r->nats, SUBJ_ROUTER_ALL, "router", on_router, r);
    for (int i = 0; i < 4 && st == CC_OK; i++)
        st = cc_nats_subscribe(r->nats, SUBJ_PRESENCE_CHANGED_ALL, "router", on_status, r);
    return st;
}
