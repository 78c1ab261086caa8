/* pbx.c - the PBX-facing HTTP API (/pbx/v1, docs/calls.md): bearer token,
 * strict checks of what the PBX sends, and the answers. The route long-poll
 * is deferred (cc_http_defer) and parked in waiters.c, so thousands of
 * callers may wait without a thread each. Behaviour lives in flow.c. */
#include "callrouter.h"
#include "cc_log.h"
#include "cc_time.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WAIT_S 30

/* The token is compared through a hash, so its length leaks nothing either. */
static int authorized(struct call_router *cr, struct cc_http_req *req)
{
    const char *h = cc_http_header(req, "Authorization");
    unsigned char want[32], got[32];
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    crypto_generichash(want, sizeof want, (const unsigned char *)cr->token, strlen(cr->token), NULL,
                       0);
    crypto_generichash(got, sizeof got, (const unsigned char *)h + 7, strlen(h + 7), NULL, 0);
    return sodium_memcmp(want, got, sizeof want) == 0;
}

static int deny(struct call_router *cr, struct cc_http_req *req, struct cc_http_resp *resp)
{
    if (authorized(cr, req))
        return 0;
    cc_http_add_header(req, resp, "WWW-Authenticate", "Bearer");
    cc_http_error(resp, CC_ERR_UNAUTHORIZED, "a valid PBX token is required");
    return 1;
}

/* Path parameter i percent-decoded into the pool; NULL when malformed. */
static const char *path_param(struct cc_http_req *req, int i)
{
    char *out = cc_pool_alloc(req->pool, strlen(req->params[i]) + 1);
    return out && pbx_decode_segment(req->params[i], out) ? out : NULL;
}

static void answer_call(struct cc_http_resp *resp, int status, const struct call_rec *rec,
                        int ignored, int with_ignored)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "interaction_id", rec->id);
    cJSON_AddStringToObject(o, "call_id", rec->call_id);
    cJSON_AddStringToObject(o, "state", rec->state);
    if (with_ignored)
        cJSON_AddBoolToObject(o, "ignored", ignored);
    cc_http_json(resp, status, o);
}

/* POST /pbx/v1/calls {call_id, queue_id, from, from_name?, to?, priority?} */
static void create_call(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    struct new_call nc;
    struct call_rec rec;
    const char *why = NULL;
    int created = 0;
    if (deny(cr, req, resp))
        return;
    if ((why = pbx_read_new_call(req->json, &nc)))
        return cc_http_error(resp, CC_ERR_INVALID, why);
    enum cc_status st = flow_create(cr, &nc, &rec, &created, &why);
    if (st != CC_OK)
        return cc_http_error(resp, st, why);
    answer_call(resp, created ? 201 : 200, &rec, 0, 0);
}

/* GET /pbx/v1/calls/{call_id}/route?wait_s=N */
static void route(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *call_id = path_param(req, 0), *w = cc_http_query(req, "wait_s");
    char id[64];
    int64_t wait_s = 0;
    if (deny(cr, req, resp))
        return;
    if (!call_id)
        return cc_http_error(resp, CC_ERR_INVALID, "call_id: printable, at most 255 bytes");
    if (w && cc_parse_int(w, 0, MAX_WAIT_S, &wait_s) != 0)
        return cc_http_error(resp, CC_ERR_INVALID, "wait_s: an integer 0..30");
    enum cc_status st = flow_lookup(cr, call_id, id, sizeof id);
    if (st != CC_OK)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND ? "no such call" : NULL);
    cc_metric_add(cr->m_route, "", 1);
    /* a call just created here: its offer is on its way (no question to
     * skill-router while it comes; looked at properly if it does not) */
    int answered = wait_s > 0 ? flow_route_try(cr, id, resp) : flow_route_answer(cr, id, resp);
    if (answered > 0)
        return;
    struct cc_http_deferred *d = wait_s > 0 ? cc_http_defer(req) : NULL;
    if (!d && answered < 0) /* cannot wait: look now */
        answered = flow_route_answer(cr, id, resp);
    if (answered > 0)
        return;
    if (!d)
        return cc_http_empty(resp, 204);
    int64_t now = cc_time_now_ms();
    /* parked first, then looked at again: an offer made in between is not missed */
    if (waiters_add_check(cr->waiters, id, d, answered < 0 ? now + ROUTE_CHECK_MS : 0,
                          now + wait_s * 1000) != CC_OK) {
        struct cc_http_resp busy = {0};
        cc_http_error(&busy, CC_ERR_NOMEM, NULL);
        return cc_http_resume(d, &busy);
    }
    if (answered == 0 || !offers_fresh(cr->offers, id)) /* the offer (or an end) came */
        waiters_wake(cr->waiters, id);
}

/* POST /pbx/v1/calls/{call_id}/events {type, offer_id?, by?, reason?} */
static void event(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *call_id = path_param(req, 0), *why = NULL;
    struct call_event ev;
    struct call_rec rec;
    char id[64];
    int ignored = 0;
    if (deny(cr, req, resp))
        return;
    if (!call_id)
        return cc_http_error(resp, CC_ERR_INVALID, "call_id: printable, at most 255 bytes");
    if ((why = pbx_read_event(req->json, &ev)))
        return cc_http_error(resp, CC_ERR_INVALID, why);
    enum cc_status st = flow_lookup(cr, call_id, id, sizeof id);
    if (st == CC_OK)
        st = flow_event(cr, id, &ev, &rec, &ignored, &why);
    if (st != CC_OK)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND && !why ? "no such call" : why);
    answer_call(resp, 200, &rec, ignored, 1);
}

/* POST /pbx/v1/agents/{agent}/calls {call_id, direction, from, from_name?, to} */
static void direct_call(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *key = path_param(req, 0), *why = NULL;
    struct direct_call dc;
    struct agent_entry a;
    struct call_rec rec;
    int created = 0;
    if (deny(cr, req, resp))
        return;
    if (!key)
        return cc_http_error(resp, CC_ERR_INVALID, "an agent and a JSON body are required");
    if ((why = pbx_read_direct_call(req->json, &dc)))
        return cc_http_error(resp, CC_ERR_INVALID, why);
    enum cc_status st = directory_find(cr, key, &a);
    if (st == CC_OK)
        st = flow_direct(cr, &a, &dc, &rec, &created, &why);
    if (st != CC_OK)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND && !why ? "no such agent" : why);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "interaction_id", rec.id);
    cJSON_AddStringToObject(o, "call_id", rec.call_id);
    cJSON_AddStringToObject(o, "agent_id", a.id);
    cJSON_AddStringToObject(o, "sip_uri", a.sip_uri);
    cJSON_AddStringToObject(o, "state", rec.state);
    cc_http_json(resp, created ? 201 : 200, o);
}

/* GET /pbx/v1/agents/{agent}/reachable */
static void reachable(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *key = path_param(req, 0);
    struct agent_entry a;
    char status[16];
    if (deny(cr, req, resp))
        return;
    enum cc_status st = key ? directory_find(cr, key, &a) : CC_ERR_INVALID;
    if (st == CC_OK)
        st = flow_agent_status(cr, a.id, status, sizeof status);
    if (st != CC_OK)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND ? "no such agent" : NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "reachable",
                          !strcmp(status, "ready") || !strcmp(status, "callcenter"));
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "agent_id", a.id);
    cJSON_AddStringToObject(o, "sip_uri", a.sip_uri);
    cc_http_json(resp, 200, o);
}

/* GET /pbx/v1/commands?wait_s=N: what the engine asks of the PBX. */
static void commands(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *w = cc_http_query(req, "wait_s");
    int64_t wait_s = 0;
    if (deny(cr, req, resp))
        return;
    if (w && cc_parse_int(w, 0, MAX_WAIT_S, &wait_s) != 0)
        return cc_http_error(resp, CC_ERR_INVALID, "wait_s: an integer 0..30");
    commands_fetch(cr, req, wait_s, resp);
}

/* POST /pbx/v1/commands/{id}/result {status: done|failed, reason?} */
static void command_result(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *id = path_param(req, 0), *reason, *why;
    char type[32];
    int ok;
    if (deny(cr, req, resp))
        return;
    if (!id)
        return cc_http_error(resp, CC_ERR_INVALID, "a command id and a JSON body are required");
    if ((why = pbx_read_command_result(req->json, &ok, &reason)))
        return cc_http_error(resp, CC_ERR_INVALID, why);
    enum cc_status st = commands_result(cr, id, ok, reason, type, sizeof type);
    if (st == CC_OK && !strcmp(type, "supervise"))
        supervision_result(cr, id, ok, reason);
    if (st != CC_OK && st != CC_ERR_CONFLICT)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND ? "no such command" : NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command_id", id);
    cJSON_AddBoolToObject(o, "ignored", st == CC_ERR_CONFLICT);
    cc_http_json(resp, 200, o);
}

int pbx_routes(struct call_router *cr, struct cc_http_route *out, int cap)
{
    const struct cc_http_route routes[] = {
        {"POST", "/pbx/v1/calls", create_call, cr, CC_HTTP_JSON},
        {"GET", "/pbx/v1/calls/{call_id}/route", route, cr, 0},
        {"POST", "/pbx/v1/calls/{call_id}/events", event, cr, CC_HTTP_JSON},
        {"POST", "/pbx/v1/agents/{agent}/calls", direct_call, cr, CC_HTTP_JSON},
        {"GET", "/pbx/v1/agents/{agent}/reachable", reachable, cr, 0},
        {"GET", "/pbx/v1/commands", commands, cr, 0},
        {"POST", "/pbx/v1/commands/{id}/result", command_result, cr, CC_HTTP_JSON},
    };
    int n = (int)(sizeof routes / sizeof *routes);
    if (n > cap)
        return -1;
    memcpy(out, routes, sizeof routes);
    return n;
}
