/* calls.c - phone calls over HTTP (SPEC section 7): every route builds a
 * cc.v1.CallRequest with the caller and asks call-router (cc.call.<verb>),
 * which decides whose calls the caller may see or change; here only the
 * shape of the request is checked (query values, PATCH members and types). */
#include "calls.h"
#include "auth.h"
#include "cc/v1/call.pb-c.h"
#include "cc_config.h"
#include "cc_pbjson.h"
#include "forward.h"
#include "gateway.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <string.h>

#define CALLS_MAX_LIMIT 100

/* Asks `subject` with `r` and answers its reply (of type `desc`) as JSON
 * with `status`; lists come out as {"items", "next_cursor"}. */
static void ask(struct api_gateway *gw, const char *subject, Cc__V1__CallRequest *r,
                const ProtobufCMessageDescriptor *desc, int status, struct cc_http_resp *resp)
{
    ProtobufCMessage *rep = NULL;
    if (forward_request(gw, subject, &r->base, desc, &rep, resp) != CC_OK)
        return;
    cJSON *j = forward_json(rep);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (j)
        cc_http_json(resp, status, j);
    else
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
}

/* ?view= (active or closed), ?limit= (1..CALLS_MAX_LIMIT), ?cursor= into
 * `r` and `page`. Returns CC_OK, or CC_ERR_INVALID with the 400 answered. */
static enum cc_status list_query(struct cc_http_req *req, Cc__V1__CallRequest *r,
                                 Cc__V1__Page *page, struct cc_http_resp *resp)
{
    const char *view = cc_http_query(req, "view"), *limit = cc_http_query(req, "limit");
    const char *cursor = cc_http_query(req, "cursor");
    int64_t n;
    if (!view || (strcmp(view, "active") != 0 && strcmp(view, "closed") != 0)) {
        cc_http_error(resp, CC_ERR_INVALID, "view: active or closed");
        return CC_ERR_INVALID;
    }
    if (limit && cc_parse_int(limit, 1, CALLS_MAX_LIMIT, &n) != 0) {
        cc_http_error(resp, CC_ERR_INVALID, "limit: an integer from 1 to 100");
        return CC_ERR_INVALID;
    }
    page->has_limit = limit != NULL;
    page->limit = limit ? (uint32_t)n : 0;
    page->cursor = cursor && cursor[0] ? CC_PB_STR(cursor) : NULL;
    r->view = CC_PB_STR(view), r->page = page;
    return CC_OK;
}

void calls_list(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
    Cc__V1__Page page = CC__V1__PAGE__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (list_query(req, &r, &page, resp) != CC_OK)
        return;
    r.caller = &caller;
    ask(rt->gw, SUBJ_CALL_LIST, &r, &cc__v1__call_list__descriptor, 200, resp);
}

void calls_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    r.caller = &caller, r.id = CC_PB_STR(req->params[0]);
    ask(rt->gw, SUBJ_CALL_GET, &r, &cc__v1__call__descriptor, 200, resp);
}

void calls_patch(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"result_id", "result_details", "links", NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
    ProtobufCMessage *patch = NULL;
    char why[256];
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (forward_fields_only(req->json, allowed, resp) != CC_OK)
        return;
    enum cc_status st =
        cc_pbjson_from_json(&cc__v1__call__descriptor, req->json, &patch, why, sizeof why);
    if (st != CC_OK) {
        cc_http_error(resp, st, why);
        return;
    }
    r.caller = &caller, r.id = CC_PB_STR(req->params[0]), r.patch = (Cc__V1__Call *)patch;
    ask(rt->gw, SUBJ_CALL_UPDATE, &r, &cc__v1__call__descriptor, 200, resp);
    protobuf_c_message_free_unpacked(patch, NULL);
}

void calls_supervise(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"mode", NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
    int stop = !strcmp(req->method, "DELETE");
    const cJSON *mode = req->json ? cJSON_GetObjectItemCaseSensitive(req->json, "mode") : NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (!stop && (forward_fields_only(req->json, allowed, resp) != CC_OK))
        return;
    if (!stop && (!cJSON_IsString(mode) ||
                  (strcmp(mode->valuestring, "listen") && strcmp(mode->valuestring, "whisper") &&
                   strcmp(mode->valuestring, "barge"))))
        return cc_http_error(resp, CC_ERR_INVALID, "mode: listen, whisper or barge");
    r.caller = &caller, r.id = CC_PB_STR(req->params[0]);
    r.mode = stop ? CC_PB_STR("stop") : mode->valuestring;
    ask(rt->gw, SUBJ_CALL_SUPERVISE, &r, &cc__v1__supervision__descriptor, 200, resp);
}

void calls_supervisions(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    r.caller = &caller, r.id = req->nparams ? CC_PB_STR(req->params[0]) : NULL;
    ask(rt->gw, SUBJ_CALL_SUPERVISIONS, &r, &cc__v1__supervision_list__descriptor, 200, resp);
}

void calls_callback(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"number", "queue_id", "agent_id", "note", NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
    ProtobufCMessage *cb = NULL;
    char why[256];
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (forward_fields_only(req->json, allowed, resp) != CC_OK)
        return;
    enum cc_status st =
        cc_pbjson_from_json(&cc__v1__callback__descriptor, req->json, &cb, why, sizeof why);
    if (st != CC_OK)
        return cc_http_error(resp, st, why);
    r.caller = &caller, r.callback = (Cc__V1__Callback *)cb;
    ask(rt->gw, SUBJ_CALL_CALLBACK, &r, &cc__v1__call__descriptor, 201, resp);
    protobuf_c_message_free_unpacked(cb, NULL);
}
