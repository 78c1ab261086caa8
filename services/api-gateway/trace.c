/* trace.c - GET /api/v1/interactions/{id}/trace: why each routing decision
 * about an interaction was made, for supervisors and admins. */
#include "trace.h"
#include "auth.h"
#include "cc/v1/routing.pb-c.h"
#include "forward.h"

#include <string.h>

static cJSON *step_item(const void *ctx, size_t i)
{
    const Cc__V1__Trace *t = ctx;
    return forward_json(&t->items[i]->base);
}

void trace_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__OfferAction q = CC__V1__OFFER_ACTION__INIT;
    ProtobufCMessage *rep = NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (!caller.role || (strcmp(caller.role, "admin") && strcmp(caller.role, "supervisor"))) {
        cc_http_error(resp, CC_ERR_FORBIDDEN, "supervisors and admins only");
        return;
    }
    q.caller = &caller;
    q.interaction_id = CC_PB_STR(req->params[0]);
    if (forward_request(rt->gw, rt->spec->subject, &q.base, &cc__v1__trace__descriptor, &rep,
                        resp) != CC_OK)
        return;
    const Cc__V1__Trace *t = (const Cc__V1__Trace *)rep;
    cJSON *j = forward_list(t->n_items, step_item, t, NULL);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (j)
        cc_http_json(resp, 200, j);
    else
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
}
