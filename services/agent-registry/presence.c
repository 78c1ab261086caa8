/* presence.c - agent status/state records in Redis ({cc}:agent:<id>), the
 * NATS subjects cc.presence.get/list/set/route, state and idle timers, and
 * time-in-state per agent per day ({cc}:tis:<yyyy-mm-dd>:<id>). */
#include "presence.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_agent_store.h"
#include "cc_keys.h"
#include "cc_log.h"
#include "cc_subjects.h"
#include "cc_time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEASE_MS "1000"
#define MAX_WAIT_MS 100
#define CAS_TRIES 20

extern const char timers_claim_lua[], timers_done_lua[];
static struct cc_redis_script claim_script = CC_REDIS_SCRIPT("timers_claim", timers_claim_lua);
static struct cc_redis_script done_script = CC_REDIS_SCRIPT("timers_done", timers_done_lua);

/* --- the record: read, applied and published by cc_agent_store.h ------------------------ */

static enum cc_status rec_read(struct registry *reg, const char *id, struct agent_rec *r)
{
    return agent_read(reg->redis, id, r);
}

/* CC_OK when the agent holds interaction `ix` (accepted and not ended),
 * CC_ERR_NOT_FOUND when not, or the Redis failure. */
static enum cc_status holds(struct registry *reg, const char *agent, const char *ix)
{
    redisReply *rep;
    enum cc_status st =
        cc_redis_run(reg->redis, &rep, "SISMEMBER " KEY_HOLDS " %s", cc_tag(), agent, ix);
    if (st == CC_OK)
        st = rep->type != REDIS_REPLY_INTEGER ? CC_ERR_INTERNAL
             : rep->integer == 1              ? CC_OK
                                              : CC_ERR_NOT_FOUND;
    if (rep)
        freeReplyObject(rep);
    return st;
}

/* --- facts --------------------------------------------------------------------------- */

/* Milliseconds spent today in pause `cause` into *ms; CC_OK or the Redis
 * failure (never taken for "nothing spent"). */
static enum cc_status spent_today(struct registry *reg, const char *id, const char *cause,
                                  int64_t now, int64_t *ms)
{
    char day[16];
    redisReply *rep;
    *ms = 0;
    cc_time_day(now, day, sizeof day);
    enum cc_status st =
        cc_redis_run(reg->redis, &rep, "HGET " KEY_TIS " pause.%s", cc_tag(), day, id, cause);
    if (st == CC_OK && rep->type == REDIS_REPLY_STRING)
        *ms = strtoll(rep->str, NULL, 10);
    if (rep)
        freeReplyObject(rep);
    return st;
}

/* Fills what choosing `cause` means for `actor`; cause_left_ms -1 = no limit.
 * An unknown cause is a fact (cause_found 0); a Redis failure is returned. */
static enum cc_status cause_facts(struct registry *reg, const char *id, const char *cause,
                                  enum presence_actor actor, int admin, struct presence_facts *f,
                                  int64_t *left)
{
    ProtobufCMessage *obj;
    int64_t spent = 0;
    *left = -1;
    enum cc_status st = cause ? store_get(reg->redis, &kind_pause_causes.store, cause, &obj)
                              : CC_ERR_NOT_FOUND;
    if (st != CC_OK)
        return st == CC_ERR_NOT_FOUND ? CC_OK : st;
    const Cc__V1__PauseCause *pc = (const Cc__V1__PauseCause *)obj;
    f->cause_found = 1;
    f->cause_allowed = admin || actor == ACTOR_SYSTEM || actor == ACTOR_ROUTER ||
                       (actor == ACTOR_AGENT ? pc->allow_agent : pc->allow_supervisor);
    if (pc->limit_minutes_per_day > 0 &&
        (st = spent_today(reg, id, cause, f->now_ms, &spent)) == CC_OK) {
        int64_t left_ms = pc->limit_minutes_per_day * 60000 - spent;
        *left = left_ms > 0 ? left_ms : 0;
    }
    protobuf_c_message_free_unpacked(obj, NULL);
    return st;
}

/* Team timings of the user (the defaults of a team when they have none, or
 * when the team is gone); a Redis failure is returned. */
static enum cc_status team_facts(struct registry *reg, const Cc__V1__User *u, const char *kind,
                                 struct presence_facts *f)
{
    ProtobufCMessage *obj;
    int call = kind && !strcmp(kind, "call");
    f->wrap_up_s = 0, f->no_answer_delay_s = 5, f->max_no_answer = 0;
    f->offer_timeout_s = call ? 20 : 30;
    enum cc_status st = u->agent && u->agent->team_id
                            ? store_get(reg->redis, &kind_teams.store, u->agent->team_id, &obj)
                            : CC_ERR_NOT_FOUND;
    if (st != CC_OK)
        return st == CC_ERR_NOT_FOUND ? CC_OK : st;
    const Cc__V1__Team *t = (const Cc__V1__Team *)obj;
    f->wrap_up_s = t->wrap_up_time_s;
    f->no_answer_delay_s = t->no_answer_delay_s;
    f->max_no_answer = t->max_no_answer;
    f->offer_timeout_s = call ? t->call_offer_timeout_s : t->chat_invite_timeout_s;
    protobuf_c_message_free_unpacked(obj, NULL);
    return CC_OK;
}

/* The queue's wrap-up time over the team's; a Redis failure is returned. */
static enum cc_status queue_wrap_up(struct registry *reg, const char *queue_id,
                                    struct presence_facts *f)
{
    ProtobufCMessage *obj;
    enum cc_status st = queue_id ? store_get(reg->redis, &kind_queues.store, queue_id, &obj)
                                 : CC_ERR_NOT_FOUND;
    if (st != CC_OK)
        return st == CC_ERR_NOT_FOUND ? CC_OK : st;
    const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
    if (q->has_wrap_up_time_s)
        f->wrap_up_s = q->wrap_up_time_s;
    protobuf_c_message_free_unpacked(obj, NULL);
    return CC_OK;
}

struct change {
    const char *agent_id;
    struct presence_input in;
    int admin;            /* the caller is an admin: every pause cause */
    const char *queue_id; /* router events: for the queue's wrap-up */
    const char *interaction_id; /* router events: the offer's interaction */
    const char *by;       /* changed_by in the event */
    const char *reason;
};

static enum cc_status gather(struct registry *reg, const struct change *ch,
                             const struct agent_rec *cur, struct presence_facts *f)
{
    ProtobufCMessage *obj;
    memset(f, 0, sizeof *f);
    f->now_ms = cc_time_now_ms();
    enum cc_status st = store_get(reg->redis, &kind_users.store, ch->agent_id, &obj);
    if (st != CC_OK)
        return st;
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    f->is_agent = u->agent && u->agent->enabled && !u->archived;
    st = team_facts(reg, u, ch->in.kind, f);
    protobuf_c_message_free_unpacked(obj, NULL);
    if (st == CC_OK)
        st = queue_wrap_up(reg, ch->queue_id, f);
    f->cause_left_ms = -1;
    if (st == CC_OK && ch->in.ev == EV_SET_STATE)
        st = cause_facts(reg, ch->agent_id, ch->in.cause, ch->in.actor, ch->admin, f,
                         &f->cause_left_ms);
    f->pending_cause_left_ms = -1;
    if (st == CC_OK && ch->in.ev == EV_END && cur->pending == PENDING_PAUSE) {
        struct presence_facts pf = *f;
        st = cause_facts(reg, ch->agent_id, cur->pending_cause, ACTOR_SYSTEM, 1, &pf,
                         &f->pending_cause_left_ms);
    }
    return st;
}

/* --- publishing -------------------------------------------------------------------- */

static void publish(struct registry *reg, const struct change *ch, const struct agent_rec *r)
{
    if (agent_publish(reg->nats, ch->agent_id, r, ch->by, ch->reason, ch->interaction_id) != CC_OK)
        CC_WARN("cannot publish the status of %s", ch->agent_id);
}

/* Keeps the offer-timeout timer of a routing event's interaction: set when
 * it is offered, dropped when the offer is answered, declined or withdrawn.
 * Member: "<agent_id>|<interaction_id>|<kind>". */
static void offer_timer(struct registry *reg, const struct change *ch,
                        const struct presence_facts *f)
{
    redisReply *rep = NULL;
    char member[256];
    enum presence_event ev = ch->in.ev;
    if (!ch->interaction_id || ev == EV_END || ev < EV_OFFER || ev > EV_OFFER_TIMEOUT)
        return;
    snprintf(member, sizeof member, "%s|%s|%s", ch->agent_id, ch->interaction_id, ch->in.kind);
    if (ev == EV_OFFER)
        cc_redis_run(reg->redis, &rep, "ZADD " KEY_TIMERS_OFFER " %lld %s", cc_tag(),
                     (long long)(f->now_ms + f->offer_timeout_s * 1000), member);
    else
        cc_redis_run(reg->redis, &rep, "ZREM " KEY_TIMERS_OFFER " %s", cc_tag(), member);
    if (rep)
        freeReplyObject(rep);
}

/* 1 when the offer of a routing event's interaction still rings for the agent
 * (its offer timer is set), or when that cannot be told. */
static int offer_rings(struct registry *reg, const struct change *ch)
{
    redisReply *rep = NULL;
    if (!ch->interaction_id)
        return 1;
    int rings = cc_redis_run(reg->redis, &rep, "ZSCORE " KEY_TIMERS_OFFER " %s|%s|%s", cc_tag(),
                             ch->agent_id, ch->interaction_id, ch->in.kind) != CC_OK ||
                rep->type != REDIS_REPLY_NIL;
    if (rep)
        freeReplyObject(rep);
    return rings;
}

/* Writes `s` into `out` with the glob characters of a SCAN pattern escaped. */
static void glob_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 2 < cap; s++) {
        if (strchr("*?[]\\", *s))
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

/* A change that is no routing event (sign-out, a status or state chosen,
 * deactivation) took ringing offers away from the agent: drops each of
 * their offer timers (so none fires later on another offer) and publishes
 * the agent's status once per offer with reason "offer_released" and its
 * interaction_id, which the router takes as "re-queue it at its old place".
 * The ZREM that removes a timer decides which replica publishes it. */
static void release_offers(struct registry *reg, const struct change *ch, const struct agent_rec *r)
{
    char esc[200], pattern[220], cursor[32] = "0";
    glob_escape(ch->agent_id, esc, sizeof esc);
    snprintf(pattern, sizeof pattern, "%s|*", esc);
    do {
        redisReply *rep = NULL, *del = NULL;
        if (cc_redis_run(reg->redis, &rep, "ZSCAN " KEY_TIMERS_OFFER " %s MATCH %s COUNT 500",
                         cc_tag(), cursor, pattern) != CC_OK ||
            rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            CC_WARN("cannot read the ringing offers of %s", ch->agent_id);
            if (rep)
                freeReplyObject(rep);
            return;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        const redisReply *items = rep->element[1];
        for (size_t i = 0; i + 1 < items->elements; i += 2) { /* member, score */
            char agent[96], interaction[96], kind[8];
            const char *member = items->element[i]->str;
            if (sscanf(member, "%95[^|]|%95[^|]|%7s", agent, interaction, kind) != 3 ||
                strcmp(agent, ch->agent_id) != 0)
                continue;
            if (cc_redis_run(reg->redis, &del, "ZREM " KEY_TIMERS_OFFER " %s", cc_tag(), member) ==
                    CC_OK &&
                del->integer == 1) {
                struct change rel = *ch;
                rel.interaction_id = interaction;
                rel.reason = "offer_released";
                publish(reg, &rel, r);
            }
            if (del)
                freeReplyObject(del), del = NULL;
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
}

/* --- the one way to change a record ----------------------------------------------- */

/* Reads, decides and applies (retrying when another replica raced us);
 * publishes a change. *out is the record after it. */
static enum cc_status change_apply(struct registry *reg, const struct change *ch,
                                   struct agent_rec *out, const char **why)
{
    char hold[128] = "";
    enum presence_event ev = ch->in.ev;
    if (ch->interaction_id && (ev == EV_ACCEPT || ev == EV_END || ev == EV_CALL_START ||
                               ev == EV_CALL_END))
        snprintf(hold, sizeof hold, "%c%s", ev == EV_ACCEPT || ev == EV_CALL_START ? '+' : '-',
                 ch->interaction_id);
    if (ev == EV_OFFER_TIMEOUT && ch->in.actor == ACTOR_ROUTER && !offer_rings(reg, ch))
        return rec_read(reg, ch->agent_id, out); /* not ringing (any more): nothing to time out */
    /* a timeout applies only while that offer's timer is set (agent_cas checks
     * it in the same step): a timer claimed just before the offer was answered
     * must not time out the agent's next offer */
    char offer[160] = "";
    if (ev == EV_OFFER_TIMEOUT && ch->interaction_id && ch->in.kind)
        snprintf(offer, sizeof offer, "-%s|%s", ch->interaction_id, ch->in.kind);
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        struct agent_rec cur, next;
        struct presence_facts f;
        int applied = 0;
        enum cc_status st = rec_read(reg, ch->agent_id, &cur);
        if (st == CC_OK && hold[0] == '-' &&
            (st = holds(reg, ch->agent_id, hold + 1)) == CC_ERR_NOT_FOUND) {
            *out = cur; /* ended already: a retry changes nothing */
            return CC_OK;
        }
        if (st == CC_OK)
            st = gather(reg, ch, &cur, &f);
        cur.enabled = f.is_agent; /* from the user record, fresher than the index's copy */
        if (st == CC_OK)
            st = presence_decide(&cur, &ch->in, &f, &next, why);
        if (st != CC_OK || !presence_changed(&cur, &next)) {
            *out = cur;
            return st;
        }
        if ((st = agent_apply(reg->redis, ch->agent_id, &cur, &next, hold, offer, &applied,
                              out)) != CC_OK)
            return st;
        if (applied < 0) {
            *out = cur;
            return CC_OK;
        }
        if (applied) { /* *out: the record the script wrote */
            /* the offer timer first: the event may bring a new offer of the
             * same interaction to the same agent (same timer member) at once;
             * a timeout's timer went in agent_cas's step already */
            if (!offer[0])
                offer_timer(reg, ch, &f);
            publish(reg, ch, out);
            if (next.offers < cur.offers && (ev == EV_SIGN_OUT || ev == EV_SET_STATUS ||
                                             ev == EV_SET_STATE || ev == EV_DEACTIVATE))
                release_offers(reg, ch, out);
            return CC_OK;
        }
    }
    return CC_ERR_TIMEOUT;
}

/* --- NATS subjects ------------------------------------------------------------------ */

static void reply_status(struct registry *reg, const struct cc_nats_msg *m, const char *id,
                         const struct agent_rec *r)
{
    Cc__V1__AgentStatus s;
    char since[64];
    agent_rec_to_proto(id, r, &s, since, sizeof since);
    cc_nats_respond(reg->nats, m, &s.base);
}

static int role_is(const Cc__V1__Caller *c, const char *role)
{
    return c && c->role && !strcmp(c->role, role);
}

static int may_steer(const Cc__V1__Caller *c)
{
    return role_is(c, "supervisor") || role_is(c, "admin");
}

/* The agent a request is about: the caller's own, or another for those who steer. */
static enum cc_status target(const Cc__V1__Caller *c, const char *agent_id, const char **id,
                             int *self)
{
    if (!c || !c->user_id)
        return CC_ERR_UNAUTHORIZED;
    *self = !agent_id || !*agent_id || !strcmp(agent_id, c->user_id);
    *id = *self ? c->user_id : agent_id;
    return *self || may_steer(c) ? CC_OK : CC_ERR_FORBIDDEN;
}

/* CC_OK when user `id` exists and the caller may see them: themselves, or
 * (admin, supervisor) an agent within their monitor scope (a supervisor
 * with limit_to_assigned_queues: the agents of their queues). Anyone else
 * is CC_ERR_NOT_FOUND, as for an unknown id. */
static enum cc_status visible_user(struct registry *reg, const Cc__V1__Caller *c, const char *id,
                                   int self)
{
    struct monitor_scope scope;
    ProtobufCMessage *u = NULL;
    if (self)
        return store_exists(reg->redis, &kind_users.store, id);
    enum cc_status st = monitor_scope_load(reg, c, &scope);
    if (st != CC_OK)
        return st;
    if ((st = store_get(reg->redis, &kind_users.store, id, &u)) == CC_OK &&
        !monitor_scope_has(reg, &scope, (const Cc__V1__User *)u))
        st = CC_ERR_NOT_FOUND;
    if (u)
        protobuf_c_message_free_unpacked(u, NULL);
    monitor_scope_free(&scope);
    return st;
}

static void on_get(struct registry *reg, const struct cc_nats_msg *m)
{
    Cc__V1__AgentQuery *q = cc__v1__agent_query__unpack(NULL, m->len, m->data);
    const char *id = NULL;
    int self;
    struct agent_rec r;
    enum cc_status st = q ? target(q->caller, q->agent_id, &id, &self) : CC_ERR_INVALID;
    if (st == CC_OK)
        st = visible_user(reg, q->caller, id, self);
    if (st == CC_OK)
        st = rec_read(reg, id, &r);
    if (st == CC_OK)
        reply_status(reg, m, id, &r);
    else
        cc_nats_respond_error(reg->nats, m, st, st == CC_ERR_NOT_FOUND ? "no such user" : NULL);
    if (q)
        cc__v1__agent_query__free_unpacked(q, NULL);
}

static void on_set(struct registry *reg, const struct cc_nats_msg *m)
{
    Cc__V1__StatusChange *sc = cc__v1__status_change__unpack(NULL, m->len, m->data);
    struct change ch = {0};
    struct agent_rec r;
    const char *why = NULL;
    int self = 0;
    enum cc_status st = sc ? target(sc->caller, sc->agent_id, &ch.agent_id, &self) : CC_ERR_INVALID;
    if (st == CC_OK && (st = visible_user(reg, sc->caller, ch.agent_id, self)) != CC_OK)
        why = st == CC_ERR_NOT_FOUND ? "no such user" : NULL;
    if (st == CC_OK && !sc->status && !sc->state)
        st = CC_ERR_INVALID, why = "status or state required";
    if (st == CC_OK) {
        ch.in.ev = sc->status ? EV_SET_STATUS : EV_SET_STATE;
        ch.in.actor = self ? ACTOR_AGENT : ACTOR_SUPERVISOR;
        ch.in.status = sc->status, ch.in.state = sc->state, ch.in.cause = sc->pause_cause_id;
        ch.admin = role_is(sc->caller, "admin");
        ch.by = self ? "agent" : sc->caller->role;
        ch.reason = sc->status ? "status_chosen" : "state_chosen";
        st = change_apply(reg, &ch, &r, &why);
    }
    if (st == CC_OK)
        reply_status(reg, m, ch.agent_id, &r);
    else
        cc_nats_respond_error(reg->nats, m, st, why);
    if (sc)
        cc__v1__status_change__free_unpacked(sc, NULL);
}

static int route_event(const char *name, enum presence_event *ev)
{
    static const struct {
        const char *name;
        enum presence_event ev;
    } map[] = {{"offer", EV_OFFER}, {"offer_withdrawn", EV_OFFER_WITHDRAWN},
               {"accept", EV_ACCEPT}, {"decline", EV_DECLINE},
               {"offer_timeout", EV_OFFER_TIMEOUT}, {"end", EV_END},
               {"call_start", EV_CALL_START}, {"call_end", EV_CALL_END}};
    for (size_t i = 0; name && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(name, map[i].name)) {
            *ev = map[i].ev;
            return 0;
        }
    return -1;
}

static void on_route(struct registry *reg, const struct cc_nats_msg *m)
{
    Cc__V1__RoutingEvent *re = cc__v1__routing_event__unpack(NULL, m->len, m->data);
    struct change ch = {0};
    struct agent_rec r;
    const char *why = "unknown event or kind";
    enum cc_status st = CC_ERR_INVALID;
    if (re && re->agent_id && re->kind && (!strcmp(re->kind, "call") || !strcmp(re->kind, "chat")) &&
        route_event(re->event, &ch.in.ev) == 0) {
        ch.agent_id = re->agent_id, ch.queue_id = re->queue_id;
        ch.interaction_id = re->interaction_id;
        ch.in.actor = ACTOR_ROUTER, ch.in.kind = re->kind;
        ch.by = "router", ch.reason = re->event;
        st = store_exists(reg->redis, &kind_users.store, re->agent_id);
        why = st == CC_ERR_NOT_FOUND ? "no such agent" : NULL;
        if (st == CC_OK)
            st = change_apply(reg, &ch, &r, &why);
    }
    if (st == CC_OK)
        reply_status(reg, m, ch.agent_id, &r);
    else
        cc_nats_respond_error(reg->nats, m, st, why);
    if (re)
        cc__v1__routing_event__free_unpacked(re, NULL);
}

/* One agent of the monitor list. */
struct listed {
    char id[64];
    char name[208];
    char since[64];
    struct agent_rec rec;
    Cc__V1__AgentStatus msg;
};

struct list_ctx {
    struct registry *reg;
    const struct monitor_scope *scope; /* whose agents the caller sees */
    struct listed *items;
    size_t n, cap;
    enum cc_status st;
};

static int list_one(void *arg, const ProtobufCMessage *obj)
{
    struct list_ctx *l = arg;
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    if (!u->agent || !u->agent->enabled || u->archived || !monitor_scope_has(l->reg, l->scope, u))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct listed *more = realloc(l->items, cap * sizeof *more);
        if (!more)
            return (l->st = CC_ERR_NOMEM), 1;
        l->items = more, l->cap = cap;
    }
    struct listed *it = &l->items[l->n++];
    snprintf(it->id, sizeof it->id, "%s", u->id);
    snprintf(it->name, sizeof it->name, "%s%s%s", u->first_name ? u->first_name : u->login,
             u->last_name ? " " : "", u->last_name ? u->last_name : "");
    l->st = rec_read(l->reg, u->id, &it->rec);
    return l->st != CC_OK;
}

static void on_list(struct registry *reg, const struct cc_nats_msg *m)
{
    Cc__V1__AgentQuery *q = cc__v1__agent_query__unpack(NULL, m->len, m->data);
    struct monitor_scope scope = {0};
    struct list_ctx l = {reg, &scope, NULL, 0, 0, CC_OK};
    Cc__V1__AgentStatus **ptrs = NULL;
    enum cc_status st = !q ? CC_ERR_INVALID : may_steer(q->caller) ? CC_OK : CC_ERR_FORBIDDEN;
    if (st == CC_OK)
        st = monitor_scope_load(reg, q->caller, &scope);
    if (st == CC_OK)
        store_each(reg->redis, &kind_users.store, list_one, &l, &st);
    if (st == CC_OK && (st = l.st) == CC_OK && !(ptrs = calloc(l.n + 1, sizeof *ptrs)))
        st = CC_ERR_NOMEM;
    if (st == CC_OK) {
        Cc__V1__AgentList list = CC__V1__AGENT_LIST__INIT;
        for (size_t i = 0; i < l.n; i++) {
            struct listed *it = &l.items[i];
            agent_rec_to_proto(it->id, &it->rec, &it->msg, it->since, sizeof it->since);
            it->msg.name = it->name;
            ptrs[i] = &it->msg;
        }
        list.n_items = l.n, list.items = ptrs;
        list.has_limited = 1, list.limited = scope.limited;
        cc_nats_respond(reg->nats, m, &list.base);
    } else {
        cc_nats_respond_error(reg->nats, m, st, NULL);
    }
    free(ptrs);
    free(l.items);
    monitor_scope_free(&scope);
    if (q)
        cc__v1__agent_query__free_unpacked(q, NULL);
}

/* cc.presence.get / list / set / route */
static void on_presence(void *arg, const struct cc_nats_msg *m)
{
    struct registry *reg = arg;
    const char *verb = m->subject + strlen(SUBJ_PRESENCE_PREFIX);
    if (!strcmp(verb, "get"))
        on_get(reg, m);
    else if (!strcmp(verb, "list"))
        on_list(reg, m);
    else if (!strcmp(verb, "set"))
        on_set(reg, m);
    else if (!strcmp(verb, "route"))
        on_route(reg, m);
    else
        cc_nats_respond_error(reg->nats, m, CC_ERR_NOT_FOUND, "no such verb");
}

/* --- sessions -------------------------------------------------------------------------- */

static void sign(struct registry *reg, const char *user_id, enum presence_event ev,
                 const char *reason)
{
    struct change ch = {user_id, {ev, ACTOR_SYSTEM, NULL, NULL, NULL, NULL, NULL}, 0, NULL, NULL,
                        "system", reason};
    struct agent_rec r;
    const char *why;
    enum cc_status st = change_apply(reg, &ch, &r, &why);
    if (st != CC_OK && st != CC_ERR_NOT_FOUND)
        CC_WARN("%s of %s not applied: %s", reason, user_id, why ? why : cc_status_str(st));
}

void presence_signed_in(struct registry *reg, const char *user_id, const char *sid, int64_t idle_s)
{
    redisReply *rep = NULL;
    if (idle_s > 0)
        cc_redis_run(reg->redis, &rep, "ZADD " KEY_TIMERS_IDLE " %lld %s|%s", cc_tag(),
                     (long long)(cc_time_now_ms() + idle_s * 1000), user_id, sid);
    if (rep)
        freeReplyObject(rep);
    sign(reg, user_id, EV_SIGN_IN, "signed_in");
}

/* 1 when the user still holds a live session (dead ids are dropped). */
static int has_session(struct registry *reg, const char *user_id)
{
    redisReply *ids, *rep;
    int live = 0;
    if (cc_redis_run(reg->redis, &ids, "SMEMBERS " KEY_USESS, cc_tag(), user_id) != CC_OK) {
        if (ids)
            freeReplyObject(ids);
        return 1; /* unknown: keep the agent as is */
    }
    for (size_t i = 0; i < ids->elements; i++) {
        const char *sid = ids->element[i]->str;
        if (cc_redis_run(reg->redis, &rep, "EXISTS " KEY_SESS, cc_tag(), sid) != CC_OK) {
            live = 1;
        } else if (rep->integer) {
            live = 1;
        } else {
            freeReplyObject(rep);
            cc_redis_run(reg->redis, &rep, "SREM " KEY_USESS " %s", cc_tag(), user_id, sid);
        }
        if (rep)
            freeReplyObject(rep);
    }
    freeReplyObject(ids);
    return live;
}

void presence_session_ended(struct registry *reg, const char *user_id)
{
    if (!has_session(reg, user_id))
        sign(reg, user_id, EV_SIGN_OUT, "signed_out");
}

void presence_deactivated(struct registry *reg, const char *user_id)
{
    sign(reg, user_id, EV_DEACTIVATE, "deactivated");
}

void presence_forget(struct registry *reg, const char *user_id)
{
    redisReply *rep;
    if (cc_redis_run(reg->redis, &rep, "DEL " KEY_AGENT, cc_tag(), user_id) == CC_OK || rep)
        freeReplyObject(rep);
    if (cc_redis_run(reg->redis, &rep, "ZREM " KEY_TIMERS_STATE " %s", cc_tag(), user_id) ==
            CC_OK ||
        rep)
        freeReplyObject(rep);
}

/* --- timers ------------------------------------------------------------------------------ */

struct timers {
    pthread_t thread;
    atomic_int stopping;
    int running;
};

static enum cc_status timer_done(struct cc_redis_conn *c, const char *set, const char *member,
                                 const char *lease)
{
    redisReply *rep;
    const char *argv[] = {set, member, lease};
    enum cc_status st = cc_redis_eval(c, &done_script, &rep, 1, 3, argv, NULL);
    if (rep)
        freeReplyObject(rep);
    return st;
}

/* The state timer of `agent_id` fired: the machine checks it is still due. */
static void fire_state(struct registry *reg, const char *agent_id)
{
    struct change ch = {agent_id, {EV_TIMER, ACTOR_TIMER, NULL, NULL, NULL, NULL, NULL}, 0, NULL, NULL,
                        "timer", "timer"};
    struct agent_rec before, r;
    const char *why;
    if (rec_read(reg, agent_id, &before) == CC_OK) /* name the timer in the event */
        ch.reason = before.state == STATE_POST_PROCESSING ? "wrap_up_ended"
                    : before.state == STATE_MISSED          ? "missed_ended"
                                                            : "pause_limit";
    change_apply(reg, &ch, &r, &why);
}

/* The idle check of a session fired: sign out when it expired, else look again
 * when it would. Member: "<user_id>|<session id>". */
static void fire_idle(struct registry *reg, const char *member)
{
    char user[96];
    redisReply *rep;
    const char *bar = strchr(member, '|');
    if (!bar || (size_t)(bar - member) >= sizeof user)
        return;
    memcpy(user, member, (size_t)(bar - member));
    user[bar - member] = '\0';
    if (cc_redis_run(reg->redis, &rep, "PTTL " KEY_SESS, cc_tag(), bar + 1) != CC_OK) {
        if (rep)
            freeReplyObject(rep);
        return;
    }
    long long left = rep->integer;
    freeReplyObject(rep);
    if (left > 0) { /* renewed by activity: check again when it would expire */
        if (cc_redis_run(reg->redis, &rep, "ZADD " KEY_TIMERS_IDLE " %lld %s", cc_tag(),
                         (long long)cc_time_now_ms() + left, member) == CC_OK ||
            rep)
            freeReplyObject(rep);
        return;
    }
    if (cc_redis_run(reg->redis, &rep, "SREM " KEY_USESS " %s", cc_tag(), user, bar + 1) == CC_OK ||
        rep)
        freeReplyObject(rep);
    if (!has_session(reg, user))
        sign(reg, user, EV_SIGN_OUT, "idle_logout");
}

/* An offer was not answered in time. Member: "<agent_id>|<interaction_id>|<kind>".
 * When the offer is no longer ringing (answered meanwhile), nothing happens. */
static void fire_offer(struct registry *reg, const char *member)
{
    char agent[96], interaction[96], kind[8];
    struct agent_rec r;
    const char *why;
    if (sscanf(member, "%95[^|]|%95[^|]|%7s", agent, interaction, kind) != 3)
        return;
    struct change ch = {agent, {EV_OFFER_TIMEOUT, ACTOR_TIMER, NULL, NULL, NULL, kind, NULL}, 0, NULL,
                        interaction, "timer", "offer_timeout"};
    change_apply(reg, &ch, &r, &why);
}

/* Claims due members of `set` and fires them. Returns how many fired. */
static int fire_due(struct registry *reg, const char *set, void (*fire)(struct registry *,
                                                                        const char *))
{
    struct cc_redis_conn *c;
    redisReply *rep;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
    const char *argv[] = {set, now, LEASE_MS, "200"};
    if (cc_redis_acquire(reg->redis, &c) != CC_OK)
        return 0;
    enum cc_status st = cc_redis_eval(c, &claim_script, &rep, 1, 4, argv, NULL);
    cc_redis_release(reg->redis, c);
    int n = 0;
    for (size_t i = 0; st == CC_OK && i + 1 < rep->elements; i += 2, n++) {
        const char *member = rep->element[i]->str, *lease = rep->element[i + 1]->str;
        fire(reg, member);
        if (cc_redis_acquire(reg->redis, &c) == CC_OK) {
            timer_done(c, set, member, lease);
            cc_redis_release(reg->redis, c);
        }
    }
    if (rep)
        freeReplyObject(rep);
    return n;
}

/* Milliseconds until the earliest timer, at most MAX_WAIT_MS. */
static int64_t next_wait(struct registry *reg)
{
    int64_t wait = MAX_WAIT_MS, now = cc_time_now_ms();
    const char *sets[] = {cc_key_fixed(KEY_TIMERS_STATE), cc_key_fixed(KEY_TIMERS_IDLE),
                          cc_key_fixed(KEY_TIMERS_OFFER)};
    for (int i = 0; i < 3; i++) {
        redisReply *rep;
        if (cc_redis_run(reg->redis, &rep, "ZRANGE %s 0 0 WITHSCORES", sets[i]) == CC_OK &&
            rep->elements == 2) {
            int64_t due = strtoll(rep->element[1]->str, NULL, 10) - now;
            if (due < wait)
                wait = due > 0 ? due : 0;
        }
        if (rep)
            freeReplyObject(rep);
    }
    return wait;
}

static void *timer_loop(void *arg)
{
    struct registry *reg = arg;
    struct timers *t = reg->timers;
    while (!atomic_load(&t->stopping)) {
        int fired = fire_due(reg, cc_key_fixed(KEY_TIMERS_STATE), fire_state) +
                    fire_due(reg, cc_key_fixed(KEY_TIMERS_IDLE), fire_idle) +
                    fire_due(reg, cc_key_fixed(KEY_TIMERS_OFFER), fire_offer);
        int64_t wait = fired ? 0 : next_wait(reg);
        if (wait > 0)
            usleep((useconds_t)wait * 1000);
    }
    return NULL;
}

enum cc_status presence_start(struct registry *reg)
{
    enum cc_status st = CC_OK;
    for (int i = 0; i < reg->workers && st == CC_OK; i++)
        st = cc_nats_subscribe(reg->nats, SUBJ_PRESENCE_ALL, "registry", on_presence, reg);
    if (st != CC_OK)
        return st;
    if (!(reg->timers = calloc(1, sizeof *reg->timers)))
        return CC_ERR_NOMEM;
    if (pthread_create(&reg->timers->thread, NULL, timer_loop, reg) != 0)
        return CC_ERR_NOMEM;
    reg->timers->running = 1;
    return CC_OK;
}

void presence_stop(struct registry *reg)
{
    if (!reg->timers)
        return;
    atomic_store(&reg->timers->stopping, 1);
    if (reg->timers->running)
        pthread_join(reg->timers->thread, NULL);
    free(reg->timers);
    reg->timers = NULL;
}
