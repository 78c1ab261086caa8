/* flow.c - the life of a call between the PBX and the engine.
 *
 * A queue call: created (record + skill-router enqueue, idempotent on the
 * PBX's call id), offered by skill-router (the long-poll answers with the
 * ringing agents), then the PBX's events: answered accepts the offer,
 * no_answer/busy/rejected times the offer out (agent missed, call back at
 * its old place), hangup ends it (wrap-up), abandoned/failed remove it.
 * A direct or outgoing call: the agent is held busy (call_start) until it
 * ends (call_end). skill-router and agent-registry own the decisions; this
 * module checks that an event is about the current offer, asks them, and
 * keeps the call record. An offer id is "<offered ms>.<agent id>". */
#include "callrouter.h"
#include "cc/v1/crm.pb-c.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_log.h"
#include "cc_subjects.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_TIMEOUT_MS 3000

static Cc__V1__Caller service_caller(void)
{
    Cc__V1__Caller c = CC__V1__CALLER__INIT;
    c.user_id = CC_PB_STR("call-router"), c.role = CC_PB_STR("admin");
    c.has_service = 1, c.service = 1;
    return c;
}

/* --- asking skill-router and agent-registry ---------------------------------------------- */

/* cc.router.<verb> for interaction `id` (agent_id may be NULL); *out (may be
 * NULL) gets the interaction after. */
static enum cc_status router_ask(struct call_router *cr, const char *verb, const char *id,
                                 const char *agent_id, Cc__V1__Interaction **out, char *why,
                                 size_t whycap)
{
    Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
    ProtobufCMessage *reply = NULL;
    char subject[64];
    a.interaction_id = CC_PB_STR(id), a.agent_id = CC_PB_STR(agent_id);
    snprintf(subject, sizeof subject, SUBJ_ROUTER_VERB, verb);
    enum cc_status st =
        cc_nats_request(cr->nats, subject, &a.base, &cc__v1__interaction__descriptor,
                        BUS_TIMEOUT_MS, &reply, why, whycap);
    if (st == CC_OK && out)
        *out = (Cc__V1__Interaction *)reply;
    else if (reply)
        protobuf_c_message_free_unpacked(reply, NULL);
    return st;
}

/* cc.presence.route: a routing event of `agent` about interaction `id`. */
static enum cc_status presence_route(struct call_router *cr, const char *agent, const char *event,
                                     const char *id, const char *queue, char *why, size_t whycap)
{
    Cc__V1__RoutingEvent e = CC__V1__ROUTING_EVENT__INIT;
    ProtobufCMessage *reply = NULL;
    e.agent_id = CC_PB_STR(agent), e.event = CC_PB_STR(event), e.kind = CC_PB_STR("call");
    e.interaction_id = CC_PB_STR(id), e.queue_id = queue && *queue ? CC_PB_STR(queue) : NULL;
    enum cc_status st =
        cc_nats_request(cr->nats, SUBJ_PRESENCE_ROUTE, &e.base, &cc__v1__agent_status__descriptor,
                        BUS_TIMEOUT_MS, &reply, why, whycap);
    if (reply)
        protobuf_c_message_free_unpacked(reply, NULL);
    return st;
}

enum cc_status flow_agent_status(struct call_router *cr, const char *agent_id, char *status,
                                 size_t cap)
{
    Cc__V1__AgentQuery q = CC__V1__AGENT_QUERY__INIT;
    Cc__V1__Caller caller = service_caller();
    ProtobufCMessage *reply = NULL;
    q.caller = &caller, q.agent_id = CC_PB_STR(agent_id);
    enum cc_status st =
        cc_nats_request(cr->nats, SUBJ_PRESENCE_GET, &q.base, &cc__v1__agent_status__descriptor,
                        BUS_TIMEOUT_MS, &reply, NULL, 0);
    if (st == CC_OK) {
        const Cc__V1__AgentStatus *s = (const Cc__V1__AgentStatus *)reply;
        snprintf(status, cap, "%s", s->status ? s->status : "offline");
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    return st;
}

/* When NATS last said that no crm-sync listens (the request unavailable at
 * once, not slow): for CRM_ABSENT_MS after that, new calls are not held up
 * asking again (a crm-sync that starts identifies the calls after it). */
#define CRM_ABSENT_MS 2000
static _Atomic int64_t crm_absent_at;

/* The CRM's contact for `number` (crm-sync; nothing when it is not running,
 * not configured, slow, or finds no single contact). */
static void identify(struct call_router *cr, const char *number, struct call_change *ch, char *name,
                     char *account, char *contact, char *account_id, size_t cap)
{
    Cc__V1__ContactQuery q = CC__V1__CONTACT_QUERY__INIT;
    Cc__V1__Caller caller = service_caller();
    ProtobufCMessage *reply = NULL;
    int64_t now = cc_time_now_ms(), absent = crm_absent_at;
    if (cr->identify_timeout_ms <= 0 || !number || !*number)
        return;
    if (absent && now >= absent && now - absent < CRM_ABSENT_MS)
        return;
    q.caller = &caller, q.channel = CC_PB_STR("phone"), q.phone = CC_PB_STR(number);
    q.customer_id = CC_PB_STR(number);
    enum cc_status st =
        cc_nats_request(cr->nats, SUBJ_CRM_IDENTIFY, &q.base, &cc__v1__contact_list__descriptor,
                        cr->identify_timeout_ms, &reply, NULL, 0);
    if (st == CC_ERR_UNAVAILABLE) /* nobody listens (or NATS is down): not again for a while */
        crm_absent_at = now;
    if (st != CC_OK)
        return;
    const Cc__V1__ContactList *l = (const Cc__V1__ContactList *)reply;
    if (l->n_items == 1) {
        const Cc__V1__Contact *c = l->items[0];
        snprintf(name, cap, "%s", c->name ? c->name : "");
        snprintf(account, cap, "%s", c->account_name ? c->account_name : "");
        snprintf(contact, 64, "%s", c->id ? c->id : "");
        snprintf(account_id, 64, "%s", c->account_id ? c->account_id : "");
        call_change_set(ch, "customer_name", name);
        call_change_set(ch, "account_name", account);
        call_change_set(ch, "link_contact", contact);
        call_change_set(ch, "link_account", account_id);
    }
    protobuf_c_message_free_unpacked(reply, NULL);
}

/* Tells every replica that call `id` moved, so their long-polls look again. */
static void changed(struct call_router *cr, const char *id)
{
    offers_drop(cr->offers, id);
    Cc__V1__CallChanged c = CC__V1__CALL_CHANGED__INIT;
    c.id = CC_PB_STR(id);
    if (cc_nats_publish(cr->nats, SUBJ_CALL_CHANGED, &c.base) != CC_OK)
        waiters_wake(cr->waiters, id); /* at least this replica's */
}

/* --- creating ------------------------------------------------------------------------------ */

enum cc_status flow_enqueue(struct call_router *cr, const struct call_rec *rec, int has_priority,
                            int64_t priority, char *why, size_t whycap)
{
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    Cc__V1__Customer cu = CC__V1__CUSTOMER__INIT;
    ProtobufCMessage *reply = NULL;
    int callback = !strcmp(rec->direction, "callback");
    const char *customer = callback ? rec->to : rec->from; /* a callback calls `to` */
    cu.id = CC_PB_STR(customer), cu.phone = CC_PB_STR(customer);
    cu.name = rec->customer_name[0] ? CC_PB_STR(rec->customer_name)
              : rec->caller_name[0] ? CC_PB_STR(rec->caller_name)
                                    : NULL; /* the CRM's name first, else the PBX's */
    ix.id = CC_PB_STR(rec->id), ix.kind = CC_PB_STR("call"), ix.queue_id = CC_PB_STR(rec->queue_id);
    ix.customer = &cu, ix.source = CC_PB_STR(callback ? "callback" : "phone");
    ix.reserved_agent = rec->reserved_agent[0] ? CC_PB_STR(rec->reserved_agent) : NULL;
    ix.has_priority = has_priority, ix.priority = priority;
    enum cc_status st =
        cc_nats_request(cr->nats, SUBJ_ROUTER_ENQUEUE, &ix.base, &cc__v1__interaction__descriptor,
                        BUS_TIMEOUT_MS, &reply, why, whycap);
    if (reply)
        protobuf_c_message_free_unpacked(reply, NULL);
    return st;
}

/* Forgets a call that was refused (nothing stays stored of bad input). */
static void discard(struct call_router *cr, const struct call_rec *rec)
{
    offers_forget_id(cr->offers, rec->call_id);
    if (cc_redis_do(cr->redis, "DEL " KEY_CALL " " KEY_PBXCALL, cc_tag(), rec->id, cc_tag(),
                    rec->call_id) != CC_OK ||
        cc_redis_do(cr->redis, "ZREM " KEY_CALLS_ACTIVE " %s", cc_tag(), rec->id) != CC_OK ||
        (rec->queue_id[0] ? cc_redis_do(cr->redis, "ZREM " KEY_CALLS_QUEUE " %s", cc_tag(),
                                        rec->queue_id, rec->id)
                          : cc_redis_do(cr->redis, "ZREM " KEY_CALLS_AGENT " %s", cc_tag(),
                                        rec->agent_id, rec->id)) != CC_OK)
        CC_WARN("call %s: refused, but its record could not be removed", rec->id);
}

enum cc_status flow_create(struct call_router *cr, const struct new_call *nc, struct call_rec *rec,
                           int *created, const char **why)
{
    static _Thread_local char reason[256];
    char id[64], qname[128] = "", name[256] = "", account[256] = "", contact[64] = "",
                 account_id[64] = "";
    struct call_change ch = {.n = 0};
    *why = NULL;
    /* No look-up first: the create script finds a call the PBX created
     * before (a retry) and then ignores the fields given here. */
    enum cc_status st = directory_queue_name(cr, nc->queue_id, qname, sizeof qname);
    if (st == CC_ERR_NOT_FOUND) { /* a retry may name a queue deleted since */
        if ((st = flow_lookup(cr, nc->call_id, id, sizeof id)) == CC_ERR_NOT_FOUND)
            return *why = "queue_id: no such queue", CC_ERR_INVALID;
    } else if (st == CC_OK && !offers_find_id(cr->offers, nc->call_id, id, sizeof id)) {
        identify(cr, nc->from, &ch, name, account, contact, account_id, sizeof name);
    }
    if (st != CC_OK)
        return st;
    call_change_set(&ch, "call_id", nc->call_id);
    call_change_set(&ch, "direction", "inbound");
    call_change_set(&ch, "from", nc->from);
    call_change_set(&ch, "caller_name", nc->from_name);
    call_change_set(&ch, "to", nc->to);
    call_change_set(&ch, "queue_id", nc->queue_id);
    call_change_set(&ch, "queue_name", qname);
    call_change_set(&ch, "state", "waiting");
    if ((st = calls_create(cr, &ch, nc->call_id, rec, created)) != CC_OK)
        return st;
    offers_remember_id(cr->offers, nc->call_id, rec->id);
    if (*created)
        offers_created(cr->offers, rec->id);
    if (!*created && strcmp(rec->queue_id, nc->queue_id) != 0)
        return *why = "call_id: this call was created for another queue", CC_ERR_CONFLICT;
    if (strcmp(rec->state, "waiting") != 0)
        return CC_OK; /* offered or further on: enqueued long ago */
    reason[0] = '\0';
    /* again on a retry: idempotent */
    st = flow_enqueue(cr, rec, nc->has_priority, nc->priority, reason, sizeof reason);
    if (st == CC_ERR_INVALID && *created) {
        discard(cr, rec);
        *why = reason[0] ? reason : "the queue cannot take this call";
    }
    if (st == CC_OK && *created)
        cc_metric_add(cr->m_calls, "direction=\"inbound\"", 1);
    return st;
}

/* --- the route long-poll --------------------------------------------------------------------- */

static void offer_id(int64_t offered_ms, const char *agent, char *out, size_t cap)
{
    snprintf(out, cap, "%lld.%s", (long long)offered_ms, agent);
}

/* Parses "<ms>.<agent>". Returns 0 on success. */
static int offer_parse(const char *s, int64_t *ms, const char **agent)
{
    char *end;
    if (!s)
        return -1;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '.' || !end[1] || v <= 0)
        return -1;
    *ms = v, *agent = end + 1;
    return 0;
}

/* One agent of the answer; 0 when it cannot be rung (no SIP account). */
static int add_target(struct call_router *cr, cJSON *targets, int64_t offered_ms, const char *agent,
                      cJSON **first)
{
    struct agent_entry a;
    char oid[160];
    if (directory_find(cr, agent, &a) != CC_OK || !a.sip_uri[0])
        return 0;
    offer_id(offered_ms, agent, oid, sizeof oid);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "offer_id", oid);
    cJSON_AddStringToObject(t, "agent_id", agent);
    cJSON_AddStringToObject(t, "sip_uri", a.sip_uri);
    cJSON_AddStringToObject(t, "agent_name", a.name);
    cJSON_AddItemToArray(targets, t);
    if (!*first)
        *first = t;
    return 1;
}

/* An agent offered a call without a phone to ring (no sip_account, no
 * agent_number): the offer counts as unanswered, as a phone that never rang
 * would (missed, then pause "no answer"), so the call moves on. */
static void unreachable(struct call_router *cr, const char *id, const char *queue,
                        const char *agent)
{
    CC_WARN("call %s: agent %s has no sip_account or agent_number to ring", id, agent);
    if (presence_route(cr, agent, "offer_timeout", id, queue, NULL, 0) != CC_OK)
        CC_WARN("call %s: the offer to %s could not be ended", id, agent);
}

/* --- noting offers in the record, after the PBX has its answer -------------------------- */

struct note_job {
    char id[64], agent[64];
    int64_t offered_ms;
    struct note_job *next;
};

/* Queues the record's "ringing" of offer `offered_ms` for the noter thread. */
static void note_later(struct call_router *cr, const char *id, const char *agent,
                       int64_t offered_ms)
{
    struct note_job *j = calloc(1, sizeof *j);
    if (!j || strlen(id) >= sizeof j->id || strlen(agent) >= sizeof j->agent) {
        free(j); /* the events note it (note_now) */
        return;
    }
    strcpy(j->id, id), strcpy(j->agent, agent); /* lengths checked above */
    j->offered_ms = offered_ms;
    pthread_mutex_lock(&cr->note_lock);
    *cr->notes_tail = j, cr->notes_tail = &j->next;
    pthread_cond_signal(&cr->note_cond);
    pthread_mutex_unlock(&cr->note_lock);
}

static void *noter(void *arg)
{
    struct call_router *cr = arg;
    pthread_mutex_lock(&cr->note_lock);
    for (;;) {
        while (!cr->notes && !cr->notes_stop)
            pthread_cond_wait(&cr->note_cond, &cr->note_lock);
        struct note_job *list = cr->notes;
        if (!list)
            break; /* stopping, and everything written */
        cr->notes = NULL, cr->notes_tail = &cr->notes;
        pthread_mutex_unlock(&cr->note_lock);
        while (list) {
            struct note_job *next = list->next;
            if (calls_offered(cr, list->id, list->agent, list->offered_ms, NULL) != CC_OK)
                CC_WARN("call %s: cannot record its offer", list->id);
            free(list);
            list = next;
        }
        pthread_mutex_lock(&cr->note_lock);
    }
    pthread_mutex_unlock(&cr->note_lock);
    return NULL;
}

/* The record says offer `offered_ms` rings (its first agent), should the
 * noter not have written it yet (a replica that died before it did). */
static void note_now(struct call_router *cr, struct call_rec *rec, int64_t offered_ms,
                     const char *agent)
{
    if (rec->ring_ms >= offered_ms || !agent)
        return;
    if (calls_offered(cr, rec->id, agent, offered_ms, NULL) != CC_OK)
        CC_WARN("call %s: cannot record its offer", rec->id);
    else if (calls_read(cr, rec->id, rec) != CC_OK)
        CC_WARN("call %s: cannot read its record again", rec->id);
}

/* The engine ended the call without the PBX (max_wait_s): the record says so. */
static void ended_by_engine(struct call_router *cr, const char *id, const char *outcome)
{
    struct call_change ch = {.n = 0};
    struct call_rec after;
    int applied = 0;
    offers_done(cr->offers, id, INT64_MAX);
    call_change_set(&ch, "state", "ended");
    call_change_set(&ch, "outcome", outcome);
    call_change_set(&ch, "hangup_by", "system");
    call_change_ms(&ch, "ended", cc_time_now_ms());
    if (calls_update(cr, id, &ch, &after, &applied) == CC_OK && applied)
        changed(cr, id);
}

/* The 200 of the route long-poll for offer `o` of call `id`; 0 when none of
 * its agents can be rung (they are let go: the call moves on). The record's
 * "ringing" is written after the answer (the noter thread). */
static int answer_offer(struct call_router *cr, const char *id, const struct call_offer *o,
                        struct cc_http_resp *resp)
{
    cJSON *body = cJSON_CreateObject(), *targets = cJSON_CreateArray(), *first = NULL;
    for (int i = 0; i < o->n; i++)
        if (!add_target(cr, targets, o->offered_ms, o->ringing[i], &first))
            unreachable(cr, id, o->queue_id, o->ringing[i]);
    if (!first) {
        offers_done(cr->offers, id, o->offered_ms);
        cJSON_Delete(targets);
        cJSON_Delete(body);
        return 0;
    }
    int64_t ring_ms = o->expires_ms - cc_time_now_ms();
    const char *agent = cJSON_GetStringValue(cJSON_GetObjectItem(first, "agent_id"));
    cJSON_AddStringToObject(body, "interaction_id", id);
    cJSON_AddStringToObject(body, "offer_id",
                            cJSON_GetStringValue(cJSON_GetObjectItem(first, "offer_id")));
    cJSON_AddStringToObject(body, "agent_id", agent);
    cJSON_AddStringToObject(body, "sip_uri",
                            cJSON_GetStringValue(cJSON_GetObjectItem(first, "sip_uri")));
    cJSON_AddNumberToObject(body, "ring_s", ring_ms > 1000 ? (double)(ring_ms / 1000) : 1);
    cJSON_AddItemToObject(body, "targets", targets);
    note_later(cr, id, agent, o->offered_ms);
    cc_http_json(resp, 200, body);
    return 1;
}

/* The offer of interaction `ix` (state offered) as skill-router told it. */
static void offer_of(const Cc__V1__Interaction *ix, struct call_offer *o)
{
    memset(o, 0, sizeof *o);
    o->offered_ms = ix->offered_ms, o->expires_ms = ix->expires_ms;
    snprintf(o->queue_id, sizeof o->queue_id, "%s", ix->queue_id ? ix->queue_id : "");
    for (size_t i = 0; i < ix->n_ringing && o->n < CALL_RING_MAX; i++)
        snprintf(o->ringing[o->n++], sizeof o->ringing[0], "%s", ix->ringing[i]);
}

int flow_route_try(struct call_router *cr, const char *id, struct cc_http_resp *resp)
{
    struct call_offer o;
    if (offers_get(cr->offers, id, &o) && answer_offer(cr, id, &o, resp))
        return 1;
    if (offers_fresh(cr->offers, id))
        return -1;
    return flow_route_answer(cr, id, resp);
}

int flow_route_answer(struct call_router *cr, const char *id, struct cc_http_resp *resp)
{
    struct call_rec rec;
    struct call_offer o;
    Cc__V1__Interaction *ix = NULL;
    /* the offer skill-router published, while nothing said it is over: no
     * record read and no question to skill-router */
    if (offers_get(cr->offers, id, &o) && answer_offer(cr, id, &o, resp))
        return 1;
    enum cc_status st = calls_read(cr, id, &rec);
    if (st == CC_OK && !strcmp(rec.state, "ended") && !strcmp(rec.outcome, "timed_out")) {
        cc_http_error(resp, CC_ERR_CONFLICT, "the call ended: timed_out");
        return 1;
    }
    if (st == CC_OK && (!strcmp(rec.state, "ended") || !strcmp(rec.state, "connected") ||
                        strcmp(rec.direction, "inbound") != 0)) {
        cc_http_empty(resp, 204); /* nothing to route: the PBX stops asking */
        return 1;
    }
    if (st == CC_OK)
        st = router_ask(cr, "get", id, NULL, &ix, NULL, 0);
    if (st != CC_OK) {
        cc_http_error(resp, st, NULL);
        return 1;
    }
    int answered = 0;
    if (!strcmp(ix->state, "ended")) {
        ended_by_engine(cr, id,
                        ix->end_reason && !strcmp(ix->end_reason, "timed_out") ? "timed_out"
                                                                               : "failed");
        cc_http_error(resp, CC_ERR_CONFLICT, "the call ended");
        answered = 1;
    } else if (!strcmp(ix->state, "offered") && ix->offered_ms > rec.offered_done_ms) {
        offer_of(ix, &o);
        offers_done(cr->offers, id, rec.offered_done_ms);
        offers_put(cr->offers, id, &o); /* the events of this offer need not ask again */
        answered = answer_offer(cr, id, &o, resp);
    }
    protobuf_c_message_free_unpacked(&ix->base, NULL);
    return answered;
}

/* A parked long-poll looks again: answers, or parks until its deadline. */
static void on_waiter(struct call_router *cr, struct cc_http_deferred *d, const char *id,
                      int64_t deadline_ms, int timed_out)
{
    struct cc_http_resp resp = {0};
    if (flow_route_answer(cr, id, &resp)) {
        cc_http_resume(d, &resp);
        return;
    }
    if (!timed_out && !cr->stopping && cc_time_now_ms() < deadline_ms &&
        waiters_add(cr->waiters, id, d, deadline_ms) == CC_OK)
        return;
    cc_http_empty(&resp, 204);
    cc_http_resume(d, &resp);
}

/* --- events from the PBX ---------------------------------------------------------------- */

/* Whether `offer` names an offer of `ix` that still rings, and the agent. */
static int offer_current(const Cc__V1__Interaction *ix, const char *offer, const char **agent)
{
    int64_t ms;
    if (offer_parse(offer, &ms, agent) != 0 || strcmp(ix->state, "offered") != 0 ||
        ix->offered_ms != ms)
        return 0;
    for (size_t i = 0; i < ix->n_ringing; i++)
        if (!strcmp(ix->ringing[i], *agent))
            return 1;
    return 0;
}

static void set_end(struct call_change *ch, const char *outcome, const char *by)
{
    call_change_set(ch, "state", "ended");
    call_change_set(ch, "outcome", outcome);
    call_change_set(ch, "hangup_by", by);
    call_change_ms(ch, "ended", cc_time_now_ms());
}

/* answered: the offer is accepted by the agent whose phone answered. */
static enum cc_status ev_answered(struct call_router *cr, const struct call_rec *rec,
                                  const Cc__V1__Interaction *ix, const char *offer,
                                  struct call_change *ch, int *ignored, char *why, size_t cap)
{
    const char *agent = NULL;
    int64_t ms;
    if (!strcmp(rec->state, "connected") && offer_parse(offer, &ms, &agent) == 0 &&
        !strcmp(rec->agent_id, agent))
        return *ignored = 1, CC_OK; /* a repeated event */
    int accepted = 0; /* a retry after the accept went through but the record did not */
    if (!offer_current(ix, offer, &agent) &&
        !(accepted = !strcmp(ix->state, "connected") && agent && ix->agent_id &&
                     !strcmp(ix->agent_id, agent) && offer_parse(offer, &ms, &agent) == 0 &&
                     ms == ix->offered_ms))
        return *ignored = 1, CC_OK;
    enum cc_status st = accepted ? CC_OK : router_ask(cr, "accept", rec->id, agent, NULL, why, cap);
    if (st == CC_ERR_CONFLICT || st == CC_ERR_NOT_FOUND)
        return *ignored = 1, CC_OK; /* timed out or abandoned a moment ago */
    if (st != CC_OK)
        return st;
    call_change_set(ch, "state", "connected");
    call_change_set(ch, "agent_id", agent);
    call_change_ms(ch, "answered", cc_time_now_ms());
    return CC_OK;
}

/* no_answer / busy / rejected: the agent missed the offer; the call goes back. */
static enum cc_status ev_missed(struct call_router *cr, const struct call_rec *rec,
                                const Cc__V1__Interaction *ix, const char *offer,
                                struct call_change *ch, int *ignored, char *why, size_t cap)
{
    const char *agent = NULL;
    if (!offer_current(ix, offer, &agent) || ix->offered_ms <= rec->offered_done_ms)
        return *ignored = 1, CC_OK;
    enum cc_status st =
        presence_route(cr, agent, "offer_timeout", rec->id, rec->queue_id, why, cap);
    if (st == CC_ERR_CONFLICT)
        st = CC_OK; /* the offer timer fired first: the call went back already */
    if (st != CC_OK)
        return st;
    call_change_ms(ch, "offered_done", ix->offered_ms);
    call_change_set(ch, "state", "waiting");
    return CC_OK;
}

/* hangup / abandoned / failed of a queue call. */
static enum cc_status ev_end(struct call_router *cr, const struct call_rec *rec, const char *type,
                             const char *by, struct call_change *ch, char *why, size_t cap)
{
    int connected = !strcmp(rec->state, "connected");
    enum cc_status st;
    if (connected && !strcmp(type, "failed") && !strcmp(rec->direction, "callback")) {
        st = router_ask(cr, "end", rec->id, NULL, NULL, why, cap); /* customer not reached */
        set_end(ch, "failed", "system");
    } else if (connected) {
        st = router_ask(cr, "end", rec->id, NULL, NULL, why, cap);
        set_end(ch, "answered", by && !strcmp(by, "agent") ? "agent" : "caller");
    } else {
        st = router_ask(cr, "abandon", rec->id, NULL, NULL, why, cap);
        set_end(ch, !strcmp(type, "failed") ? "failed" : "abandoned",
                !strcmp(type, "failed") ? "system" : "caller");
    }
    return st == CC_ERR_NOT_FOUND ? CC_OK : st;
}

/* Events of a direct or outgoing call: the agent stays held until it ends. */
static enum cc_status ev_direct(struct call_router *cr, const struct call_rec *rec,
                                const char *type, const char *by, struct call_change *ch,
                                int *ignored, char *why, size_t cap)
{
    if (!strcmp(type, "ringing"))
        return *ignored = 1, CC_OK;
    if (!strcmp(type, "answered")) {
        if (!strcmp(rec->state, "connected"))
            return *ignored = 1, CC_OK;
        call_change_set(ch, "state", "connected");
        call_change_ms(ch, "answered", cc_time_now_ms());
        return CC_OK;
    }
    enum cc_status st = presence_route(cr, rec->agent_id, "call_end", rec->id, NULL, why, cap);
    if (st != CC_OK && st != CC_ERR_CONFLICT)
        return st;
    int answered = !strcmp(rec->state, "connected");
    const char *outcome = answered                     ? "answered"
                          : !strcmp(type, "no_answer") ? "timed_out"
                          : !strcmp(type, "abandoned") ? "abandoned"
                                                       : "failed";
    set_end(ch, outcome, by ? by : !strcmp(type, "failed") ? "system" : "caller");
    return CC_OK;
}

static int type_known(const char *t)
{
    static const char *const types[] = {
        "ringing",   "answered", "no_answer",          "busy", "rejected", "hangup",
        "abandoned", "failed",   "callback_requested", NULL};
    for (int i = 0; t && types[i]; i++)
        if (!strcmp(t, types[i]))
            return 1;
    return 0;
}

/* The offer skill-router published for call `id` when `offer` names it (one
 * of its agents): the interaction as cc.router.get would tell it, filled
 * into `ix` (its strings point into `ringing` and this replica's copy);
 * NULL when this replica knows no such offer (then ask skill-router). */
static Cc__V1__Interaction *known_offer(struct call_router *cr, const char *id, const char *offer,
                                        Cc__V1__Interaction *ix, char **ringing)
{
    static _Thread_local struct call_offer o;
    const char *agent = NULL;
    if (!offer || !offers_get(cr->offers, id, &o))
        return NULL;
    cc__v1__interaction__init(ix);
    ix->id = (char *)id, ix->state = CC_PB_STR("offered"), ix->queue_id = o.queue_id;
    ix->has_offered_ms = ix->has_expires_ms = 1;
    ix->offered_ms = o.offered_ms, ix->expires_ms = o.expires_ms;
    for (int i = 0; i < o.n; i++)
        ringing[i] = o.ringing[i];
    ix->n_ringing = (size_t)o.n, ix->ringing = ringing;
    return offer_current(ix, offer, &agent) ? ix : NULL;
}

enum cc_status flow_event(struct call_router *cr, const char *id, const struct call_event *ev,
                          struct call_rec *rec, int *ignored, const char **why)
{
    static _Thread_local char reason[256];
    struct call_change ch = {.n = 0};
    Cc__V1__Interaction *ix = NULL, known;
    char *ringing[CALL_RING_MAX];
    const char *t = ev->type;
    int applied = 0;
    enum cc_status st = calls_read(cr, id, rec);
    *ignored = 0, *why = NULL, reason[0] = '\0';
    if (!type_known(t))
        return *why = "type: ringing, answered, no_answer, busy, rejected, hangup, abandoned, "
                      "failed or callback_requested",
               CC_ERR_INVALID;
    if (st != CC_OK)
        return st;
    if (!strcmp(rec->state, "ended"))
        return *ignored = 1, CC_OK;
    int asked = !strcmp(t, "callback_requested");
    int ends = !strcmp(t, "hangup") || !strcmp(t, "abandoned") || !strcmp(t, "failed") || asked;
    int missed = !strcmp(t, "no_answer") || !strcmp(t, "busy") || !strcmp(t, "rejected");
    int was_connected = !strcmp(rec->state, "connected");
    if (strcmp(rec->direction, "inbound") != 0 && strcmp(rec->direction, "callback") != 0) {
        st = ev_direct(cr, rec, t, ev->by, &ch, ignored, reason, sizeof reason);
    } else if (ends) {
        st = ev_end(cr, rec, t, ev->by, &ch, reason, sizeof reason);
    } else if ((!missed && (ix = known_offer(cr, id, ev->offer_id, &known, ringing))) ||
               (st = router_ask(cr, "get", id, NULL, &ix, reason, sizeof reason)) == CC_OK) {
        const char *agent = NULL;
        if (offer_current(ix, ev->offer_id, &agent) && ix->offered_ms > rec->offered_done_ms)
            note_now(cr, rec, ix->offered_ms, agent); /* the noter had not written it */
        if (!strcmp(t, "answered"))
            st = ev_answered(cr, rec, ix, ev->offer_id, &ch, ignored, reason, sizeof reason);
        else if (missed)
            st = ev_missed(cr, rec, ix, ev->offer_id, &ch, ignored, reason, sizeof reason);
        else /* ringing: nothing changes, but a stale one is told so */
            *ignored = !offer_current(ix, ev->offer_id, &(const char *){NULL});
        if (st == CC_OK && !*ignored && (missed || !strcmp(t, "answered")))
            offers_done(cr->offers, id, ix->offered_ms); /* no more ringing for this one */
    }
    if (ix && ix != &known)
        protobuf_c_message_free_unpacked(&ix->base, NULL);
    if (st == CC_OK && ends && !*ignored)
        offers_done(cr->offers, id, INT64_MAX);
    if (st == CC_OK && ch.n > 0 && !*ignored)
        st = calls_update(cr, id, &ch, rec, &applied);
    if (st == CC_OK && (ends || missed) && !*ignored)
        changed(cr, id);
    if (st == CC_OK && applied && ends && !was_connected && !strcmp(rec->direction, "inbound"))
        callbacks_after_abandon(cr, rec, asked);
    if (reason[0])
        *why = reason;
    cc_metric_add(cr->m_events, *ignored ? "result=\"ignored\"" : "result=\"applied\"", 1);
    return st;
}

/* --- direct and outgoing calls --------------------------------------------------------- */

enum cc_status flow_direct(struct call_router *cr, const struct agent_entry *agent,
                           const struct direct_call *dc, struct call_rec *rec, int *created,
                           const char **why)
{
    static _Thread_local char reason[256];
    char id[64], name[256] = "", account[256] = "", contact[64] = "", account_id[64] = "";
    struct call_change ch = {.n = 0};
    int outbound = !strcmp(dc->direction, "outbound");
    enum cc_status st = flow_lookup(cr, dc->call_id, id, sizeof id);
    *why = NULL, reason[0] = '\0';
    if (st == CC_ERR_NOT_FOUND)
        identify(cr, outbound ? dc->to : dc->from, &ch, name, account, contact, account_id,
                 sizeof name);
    else if (st != CC_OK)
        return st;
    call_change_set(&ch, "call_id", dc->call_id);
    call_change_set(&ch, "direction", outbound ? "outbound" : "direct");
    call_change_set(&ch, "from", dc->from);
    call_change_set(&ch, "caller_name", dc->from_name);
    call_change_set(&ch, "to", dc->to);
    call_change_set(&ch, "agent_id", agent->id);
    call_change_set(&ch, "state", "ringing");
    if ((st = calls_create(cr, &ch, dc->call_id, rec, created)) == CC_OK)
        offers_remember_id(cr->offers, dc->call_id, rec->id);
    if (st != CC_OK || !*created)
        return st == CC_OK && strcmp(rec->agent_id, agent->id) != 0
                   ? (*why = "call_id: this call belongs to another agent", CC_ERR_CONFLICT)
                   : st;
    st = presence_route(cr, agent->id, "call_start", rec->id, NULL, reason, sizeof reason);
    if (st != CC_OK) {
        discard(cr, rec);
        *why = reason[0] ? reason : NULL;
        return st;
    }
    cc_metric_add(cr->m_calls, outbound ? "direction=\"outbound\"" : "direction=\"direct\"", 1);
    return CC_OK;
}

/* --- what the bus tells ------------------------------------------------------------------ */

static void on_changed(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__CallChanged *c = cc__v1__call_changed__unpack(NULL, m->len, m->data);
    if (c && c->id) {
        offers_drop(cr->offers, c->id); /* the next route asks skill-router */
        waiters_wake(cr->waiters, c->id);
    }
    if (c)
        cc__v1__call_changed__free_unpacked(c, NULL);
}

/* An offer of a call: noted (the route answers from it, a queue call's only:
 * callbacks are dialled through commands), and the long-polls of that call
 * answer now. */
static void on_offer(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
    if (o && o->kind && !strcmp(o->kind, "call") && o->interaction_id) {
        if (o->source && !strcmp(o->source, "phone") && o->has_offered_ms && o->has_expires_ms &&
            o->n_ringing > 0) {
            struct call_offer co = {.offered_ms = o->offered_ms, .expires_ms = o->expires_ms};
            snprintf(co.queue_id, sizeof co.queue_id, "%s", o->queue_id ? o->queue_id : "");
            for (size_t i = 0; i < o->n_ringing && co.n < CALL_RING_MAX; i++)
                snprintf(co.ringing[co.n++], sizeof co.ringing[0], "%s", o->ringing[i]);
            offers_put(cr->offers, o->interaction_id, &co);
        }
        waiters_wake(cr->waiters, o->interaction_id);
    }
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

/* An agent's offer ended without an answer from the PBX (another agent took
 * it, the desk let it go): the known offer is not trusted any more. */
static void on_withdrawn(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
    if (o && o->kind && !strcmp(o->kind, "call") && o->interaction_id)
        offers_drop(cr->offers, o->interaction_id);
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

/* skill-router ended a waiting call (max_wait_s). */
static void on_expired(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__Interaction *ix = cc__v1__interaction__unpack(NULL, m->len, m->data);
    if (ix && ix->id)
        ended_by_engine(cr, ix->id, "timed_out");
    if (ix)
        cc__v1__interaction__free_unpacked(ix, NULL);
}

enum cc_status flow_lookup(struct call_router *cr, const char *call_id, char *id, size_t cap)
{
    if (offers_find_id(cr->offers, call_id, id, cap))
        return CC_OK;
    enum cc_status st = calls_lookup(cr, call_id, id, cap);
    if (st == CC_OK)
        offers_remember_id(cr->offers, call_id, id);
    return st;
}

enum cc_status flow_start(struct call_router *cr)
{
    enum cc_status st = offers_new(&cr->offers);
    pthread_mutex_init(&cr->note_lock, NULL);
    pthread_cond_init(&cr->note_cond, NULL);
    cr->notes = NULL, cr->notes_tail = &cr->notes;
    if (st == CC_OK && pthread_create(&cr->noter, NULL, noter, cr) != 0)
        st = CC_ERR_INTERNAL;
    cr->noting = st == CC_OK;
    if (st == CC_OK)
        st = waiters_new(cr, on_waiter, &cr->waiters);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_CALL_CHANGED, NULL, on_changed, cr);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_ROUTER_OFFER_ALL, NULL, on_offer, cr);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_ROUTER_OFFER_WITHDRAWN_ALL, NULL, on_withdrawn, cr);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_ROUTER_EXPIRED_CALL, "call-router", on_expired, cr);
    return st;
}

void flow_stop(struct call_router *cr)
{
    if (!cr->noting)
        return;
    pthread_mutex_lock(&cr->note_lock);
    cr->notes_stop = 1;
    pthread_cond_signal(&cr->note_cond);
    pthread_mutex_unlock(&cr->note_lock);
    pthread_join(cr->noter, NULL);
    cr->noting = 0;
}
