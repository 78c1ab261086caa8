/* routing.c - what skill-router knows, over HTTP: the routing trace of an
 * interaction (supervisors and admins), the caller's ringing offers, and the
 * interactions waiting per queue. Each is one request to skill-router with
 * the caller, answered as a list. */
#include "routing.h"
#include "auth.h"
#include "cc/v1/registry.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "forward.h"
#include "cc_subjects.h"

#include <string.h>

#define TRACE_CHECK_MS 3000 /* each request of the supervisor's trace check */

static int staff(const Cc__V1__Caller *c)
{
    return c->role && (!strcmp(c->role, "admin") || !strcmp(c->role, "supervisor"));
}

static cJSON *item(const void *items, size_t i)
{
    return forward_json(((ProtobufCMessage *const *)items)[i]);
}

/* Asks `subject` with `q` and answers its list reply (message `desc`, whose
 * repeated field `items` is the list). */
static void ask_list(const struct gw_route *rt, const Cc__V1__OfferAction *q,
                     const ProtobufCMessageDescriptor *desc, struct cc_http_resp *resp)
{
    ProtobufCMessage *rep = NULL;
    if (forward_request(rt->gw, rt->spec->subject, &q->base, desc, &rep, resp) != CC_OK)
        return;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc,
                                                                                        "items");
    size_t n = *(const size_t *)((const char *)rep + f->quantifier_offset);
    cJSON *j = forward_list(n, item, *(ProtobufCMessage ***)((char *)rep + f->offset), NULL);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (j)
        cc_http_json(resp, 200, j);
    else
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
}

/* The caller, when signed in (and staff when `staff_only`); else the
 * error is answered and 0 returned. */
static int caller_of(const struct gw_route *rt, struct cc_http_req *req,
                     struct cc_http_resp *resp, int staff_only, Cc__V1__Caller *caller)
{
    if (auth_require(rt->gw, req, resp, caller) != CC_OK)
        return 0;
    if (staff_only && !staff(caller)) {
        cc_http_error(resp, CC_ERR_FORBIDDEN, "supervisors and admins only");
        return 0;
    }
    return 1;
}

/* A supervisor reads the trace of an interaction only in a queue
 * agent-registry shows them (limit_to_assigned_queues: the assigned ones):
 * the interaction's queue from skill-router, then that queue read as the
 * caller. CC_ERR_NOT_FOUND (answered as "no such interaction", so that
 * nothing tells which ids exist elsewhere) when not. */
static enum cc_status trace_allowed(const struct gw_route *rt, Cc__V1__Caller *caller,
                                    const char *interaction_id)
{
    Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
    Cc__V1__ObjectRequest q = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage *ix = NULL, *queue = NULL;
    struct cc_nats *nats = rt->gw->svc->nats;
    if (strcmp(caller->role, "supervisor") != 0)
        return CC_OK;
    a.caller = caller, a.interaction_id = CC_PB_STR(interaction_id);
    enum cc_status st =
        cc_nats_request(nats, SUBJ_ROUTER_GET, &a.base, &cc__v1__interaction__descriptor,
                        TRACE_CHECK_MS, &ix, NULL, 0);
    const char *queue_id = st == CC_OK ? ((const Cc__V1__Interaction *)ix)->queue_id : NULL;
    if (st == CC_OK && !queue_id)
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK) {
        q.caller = caller, q.id = CC_PB_STR(queue_id);
        st = cc_nats_request(nats, SUBJ_REGISTRY_QUEUES_GET, &q.base,
                             &cc__v1__object_reply__descriptor, TRACE_CHECK_MS, &queue, NULL, 0);
    }
    if (st == CC_ERR_FORBIDDEN || st == CC_ERR_INVALID)
        st = CC_ERR_NOT_FOUND;
    if (ix)
        protobuf_c_message_free_unpacked(ix, NULL);
    if (queue)
        protobuf_c_message_free_unpacked(queue, NULL);
    return st;
}

void trace_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    Cc__V1__Caller caller;
    Cc__V1__OfferAction q = CC__V1__OFFER_ACTION__INIT;
    if (!caller_of(arg, req, resp, 1, &caller))
        return;
    enum cc_status st = trace_allowed(arg, &caller, req->params[0]);
    if (st != CC_OK) {
        cc_http_error(resp, st, st == CC_ERR_NOT_FOUND ? "no such interaction" : NULL);
        return;
    }
    q.caller = &caller, q.interaction_id = CC_PB_STR(req->params[0]);
    ask_list(arg, &q, &cc__v1__trace__descriptor, resp);
}

void offers_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    Cc__V1__Caller caller;
    Cc__V1__OfferAction q = CC__V1__OFFER_ACTION__INIT;
    if (!caller_of(arg, req, resp, 0, &caller))
        return;
    q.caller = &caller;
    ask_list(arg, &q, &cc__v1__offer_list__descriptor, resp);
}

void queues_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    Cc__V1__Caller caller;
    Cc__V1__OfferAction q = CC__V1__OFFER_ACTION__INIT;
    if (!caller_of(arg, req, resp, 1, &caller))
        return;
    q.caller = &caller;
    ask_list(arg, &q, &cc__v1__queue_stats_list__descriptor, resp);
}
