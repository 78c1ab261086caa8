/* status.c - agent status over HTTP: each route authenticates the caller,
 * builds the presence message (cc.v1.AgentQuery or StatusChange) with the
 * agent from the path or, without one, the caller, asks agent-registry on the
 * route's subject and answers the AgentStatus or AgentList as JSON. Roles
 * and transitions are the registry's to check (403, 404, 409 come back as
 * they are answered). */
#include "status.h"
#include "auth.h"
#include "cc/v1/presence.pb-c.h"
#include "forward.h"

#include <stdio.h>
#include <string.h>

/* The agent of the path (/agents/{id}/status), or NULL for the caller. */
static char *path_agent(const struct cc_http_req *req)
{
    return req->nparams > 0 ? CC_PB_STR(req->params[0]) : NULL;
}

/* Answers 200 with the AgentStatus `rep` as JSON (absent strings as null). */
static void answer_status(const ProtobufCMessage *rep, struct cc_http_resp *resp)
{
    cJSON *j = forward_json(rep);
    if (!j) {
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    cc_http_json(resp, 200, j);
}

void status_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__AgentQuery q = CC__V1__AGENT_QUERY__INIT;
    ProtobufCMessage *rep = NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    q.caller = &caller;
    q.agent_id = path_agent(req);
    if (forward_request(rt->gw, rt->spec->subject, &q.base, &cc__v1__agent_status__descriptor, &rep,
                        resp) != CC_OK)
        return;
    answer_status(rep, resp);
    protobuf_c_message_free_unpacked(rep, NULL);
}

/* Fills status, state and pause_cause_id of `ch` from the JSON body: each a
 * string or null, nothing else, and status or state given. The strings stay
 * owned by the body. On CC_ERR_INVALID `why` says what is wrong. */
static enum cc_status change_from_body(const cJSON *body, Cc__V1__StatusChange *ch, char *why,
                                       size_t cap)
{
    static const char *const names[] = {"status", "state", "pause_cause_id"};
    char **slots[] = {&ch->status, &ch->state, &ch->pause_cause_id};
    if (!body) {
        snprintf(why, cap, "a JSON object body is required");
        return CC_ERR_INVALID;
    }
    for (const cJSON *it = body->child; it; it = it->next) {
        size_t i = 0;
        while (i < sizeof names / sizeof *names && strcmp(it->string, names[i]) != 0)
            i++;
        if (i == sizeof names / sizeof *names) {
            snprintf(why, cap, "unknown field: %s", it->string);
            return CC_ERR_INVALID;
        }
        if (!cJSON_IsNull(it) && !cJSON_IsString(it)) {
            snprintf(why, cap, "%s: expected a string", names[i]);
            return CC_ERR_INVALID;
        }
        *slots[i] = cJSON_IsString(it) ? it->valuestring : NULL;
    }
    if (!ch->status && !ch->state) {
        snprintf(why, cap, "status or state is required");
        return CC_ERR_INVALID;
    }
    return CC_OK;
}

void status_put(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__StatusChange ch = CC__V1__STATUS_CHANGE__INIT;
    ProtobufCMessage *rep = NULL;
    char why[256];
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (change_from_body(req->json, &ch, why, sizeof why) != CC_OK) {
        cc_http_error(resp, CC_ERR_INVALID, why);
        return;
    }
    ch.caller = &caller;
    ch.agent_id = path_agent(req);
    if (forward_request(rt->gw, rt->spec->subject, &ch.base, &cc__v1__agent_status__descriptor,
                        &rep, resp) != CC_OK)
        return;
    answer_status(rep, resp);
    protobuf_c_message_free_unpacked(rep, NULL);
}

/* {"items": [AgentStatus...], "next_cursor": null}; NULL when out of memory. */
static cJSON *status_item(const void *ctx, size_t i)
{
    const Cc__V1__AgentList *list = ctx;
    return forward_json(&list->items[i]->base);
}

static cJSON *list_json(const Cc__V1__AgentList *list)
{
    return forward_list(list->n_items, status_item, list, NULL);
}

void status_list(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__AgentQuery q = CC__V1__AGENT_QUERY__INIT;
    ProtobufCMessage *rep = NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    q.caller = &caller;
    if (forward_request(rt->gw, rt->spec->subject, &q.base, &cc__v1__agent_list__descriptor, &rep,
                        resp) != CC_OK)
        return;
    cJSON *j = list_json((const Cc__V1__AgentList *)rep);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (!j) {
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    cc_http_json(resp, 200, j);
}
