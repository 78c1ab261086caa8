/* callbacks.c - calling customers back (SPEC 7): a caller who abandons after
 * waiting at least the queue's callback_after_s, or who asks for it (PBX
 * event callback_requested), and a callback staff ask for (personal when it
 * names an agent), become a call of direction "callback" in that queue,
 * routed by skill-router like any call (a personal one to its agent only).
 * When skill-router offers it, the PBX is told to dial (command `dial`): it
 * rings the agent's phone first and, once the agent answers, the customer;
 * it reports on the callback's own call id with the usual events.
 *
 * A personal callback of an agent who is absent (offline, archived,
 * deactivated) goes to their callbacks_forward_to, who must share a queue
 * with them (agent-registry refuses a forward target that does not). */
#include "callrouter.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_TIMEOUT_MS 3000
#define DIAL_ONCE_S 3600 /* how long an offer's dial command is remembered */

static Cc__V1__Caller service_caller(void)
{
    Cc__V1__Caller c = CC__V1__CALLER__INIT;
    c.user_id = CC_PB_STR("call-router"), c.role = CC_PB_STR("admin");
    c.has_service = 1, c.service = 1;
    return c;
}

/* The user `id` (free with protobuf_c_message_free_unpacked). */
static enum cc_status user_get(struct call_router *cr, const char *id, Cc__V1__User **out)
{
    Cc__V1__ObjectRequest q = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller caller = service_caller();
    ProtobufCMessage *reply = NULL;
    q.caller = &caller, q.id = CC_PB_STR(id);
    enum cc_status st =
        cc_nats_request(cr->nats, SUBJ_REGISTRY_USERS_GET, &q.base,
                        &cc__v1__object_reply__descriptor, BUS_TIMEOUT_MS, &reply, NULL, 0);
    if (st != CC_OK)
        return st;
    const Cc__V1__ObjectReply *r = (const Cc__V1__ObjectReply *)reply;
    *out = cc__v1__user__unpack(NULL, r->body.len, r->body.data);
    protobuf_c_message_free_unpacked(reply, NULL);
    return *out ? CC_OK : CC_ERR_INTERNAL;
}

/* The agent a personal callback of `agent` goes to: them while they can take
 * it, else their callbacks_forward_to; "" when neither (the queue's). */
static void personal_target(struct call_router *cr, const char *agent, char *out, size_t cap)
{
    Cc__V1__User *u = NULL;
    char status[16] = "offline";
    out[0] = '\0';
    if (!agent || !*agent || user_get(cr, agent, &u) != CC_OK)
        return;
    int usable = !u->archived && u->agent && u->agent->enabled;
    if (usable && flow_agent_status(cr, agent, status, sizeof status) == CC_OK &&
        strcmp(status, "offline") != 0)
        snprintf(out, cap, "%s", agent);
    else if (u->callbacks_forward_to && *u->callbacks_forward_to)
        snprintf(out, cap, "%s", u->callbacks_forward_to);
    if (!out[0])
        CC_INFO("callback of absent agent %s: no forward target, the queue takes it", agent);
    cc__v1__user__free_unpacked(u, NULL);
}

/* Creates and enqueues a callback to `number` from queue `queue`. */
static enum cc_status callback_create(struct call_router *cr, const char *queue, const char *number,
                                      const char *clip, const char *origin, const char *agent,
                                      struct call_rec *rec, const char **why)
{
    static _Thread_local char reason[256];
    struct agent_entry q;
    unsigned char raw[12];
    char hex[25], call_id[40], target[64];
    struct call_change ch = {.n = 0};
    int created = 0;
    enum cc_status st = directory_queue(cr, queue, &q);
    *why = NULL, reason[0] = '\0';
    if (st == CC_ERR_NOT_FOUND)
        return *why = "queue_id: no such queue", CC_ERR_INVALID;
    if (st != CC_OK)
        return st;
    personal_target(cr, agent, target, sizeof target);
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(call_id, sizeof call_id, "cb.%s", hex); /* the PBX reports the dialing on it */
    call_change_set(&ch, "call_id", call_id);
    call_change_set(&ch, "direction", "callback");
    call_change_set(&ch, "from", clip);
    call_change_set(&ch, "to", number);
    call_change_set(&ch, "queue_id", queue);
    call_change_set(&ch, "queue_name", q.name);
    call_change_set(&ch, "state", "waiting");
    call_change_set(&ch, "callback_of", origin);
    call_change_set(&ch, "reserved_agent", target);
    if ((st = calls_create(cr, &ch, call_id, rec, &created)) != CC_OK)
        return st;
    st = flow_enqueue(cr, rec, 0, 0, reason, sizeof reason);
    if (reason[0])
        *why = reason;
    if (st == CC_OK)
        cc_metric_add(cr->m_calls, "direction=\"callback\"", 1);
    return st;
}

void callbacks_after_abandon(struct call_router *cr, const struct call_rec *rec, int asked)
{
    struct agent_entry q;
    struct call_rec cb;
    const char *why;
    int64_t waited = rec->ended_ms - rec->enq_ms;
    if (directory_queue(cr, rec->queue_id, &q) != CC_OK ||
        (!asked && (q.callback_after_s <= 0 || waited < q.callback_after_s * 1000)))
        return;
    if (callback_create(cr, rec->queue_id, rec->from, rec->to, rec->id, NULL, &cb, &why) != CC_OK)
        CC_WARN("call %s: its callback could not be made: %s", rec->id, why ? why : "");
    else
        CC_INFO("call %s abandoned after %lld ms: callback %s", rec->id, (long long)waited, cb.id);
}

/* skill-router offered a callback: the PBX dials (once per offer, whichever
 * replica hears it first). */
static void on_offer(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
    struct call_rec rec;
    struct agent_entry a;
    redisReply *rep = NULL;
    char offer[160], cmd[64];
    if (!o || !o->source || strcmp(o->source, "callback") != 0 || !o->interaction_id ||
        !o->agent_id || !o->offered_at || calls_read(cr, o->interaction_id, &rec) != CC_OK)
        goto out;
    int64_t at;
    if (cc_time_parse_ms(o->offered_at, &at) != 0 || directory_find(cr, o->agent_id, &a) != CC_OK)
        goto out;
    snprintf(offer, sizeof offer, "%lld.%s", (long long)at, o->agent_id);
    if (cc_redis_run(cr->redis, &rep, "SET " KEY_CBDIAL " 1 NX EX %d", cc_tag(), rec.id, offer,
                     DIAL_ONCE_S) != CC_OK ||
        rep->type == REDIS_REPLY_NIL)
        goto out; /* another replica dials it */
    const char *fields[] = {
        "interaction_id", rec.id,    "call_id", rec.call_id, "offer_id",  offer,   "agent_id", a.id,
        "agent_sip_uri",  a.sip_uri, "number",  rec.to,      "caller_id", rec.from};
    if (commands_push(cr, "dial", fields, (int)(sizeof fields / sizeof *fields), cmd, sizeof cmd) !=
        CC_OK)
        CC_WARN("callback %s: the PBX could not be told to dial", rec.id);
out:
    if (rep)
        freeReplyObject(rep);
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

/* cc.call.callback: staff ask for a callback (an agent's is personal). */
static void on_callback(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__CallRequest *q = cc__v1__call_request__unpack(NULL, m->len, m->data);
    const Cc__V1__Callback *c = q ? q->callback : NULL;
    const Cc__V1__Caller *who = q ? q->caller : NULL;
    const char *why = "number and queue_id are required";
    struct call_rec rec;
    enum cc_status st = c && c->number && c->queue_id && *c->number && strlen(c->number) <= 64 &&
                                strlen(c->queue_id) <= 64
                            ? CC_OK
                            : CC_ERR_INVALID;
    int agent = who && who->role && !strcmp(who->role, "agent");
    int staff =
        who && who->role && (!strcmp(who->role, "admin") || !strcmp(who->role, "supervisor"));
    if (st == CC_OK && !agent && !staff)
        st = CC_ERR_FORBIDDEN, why = "agents, supervisors and administrators only";
    if (st == CC_OK && agent && c->agent_id && strcmp(c->agent_id, who->user_id) != 0)
        st = CC_ERR_FORBIDDEN, why = "an agent's callbacks are their own";
    if (st == CC_OK)
        st = callback_create(cr, c->queue_id, c->number, "", NULL,
                             agent ? who->user_id : c->agent_id, &rec, &why);
    if (st == CC_OK) {
        struct call_view v;
        calls_view(&rec, &v);
        cc_nats_respond(cr->nats, m, &v.msg.base);
    } else {
        cc_nats_respond_error(cr->nats, m, st, why);
    }
    if (q)
        cc__v1__call_request__free_unpacked(q, NULL);
}

enum cc_status callbacks_start(struct call_router *cr)
{
    enum cc_status st =
        cc_nats_subscribe(cr->nats, SUBJ_ROUTER_OFFER_ALL, "call-router-dial", on_offer, cr);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_CALL_CALLBACK, "call-router", on_callback, cr);
    return st;
}
