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
#define MAX_CALL_ID 255
#define MAX_NUMBER 128

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

/* 1 when `s` is 1..max printable ASCII characters (spaces when `spaces`). */
static int printable(const char *s, size_t max, int spaces)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < (spaces ? 0x20 : 0x21) || s[i] > 0x7e)
            return 0;
    return n > 0 && n <= max;
}

/* Field `name` of the body: NULL when absent; *bad set when present but wrong. */
static const char *field(const cJSON *json, const char *name, size_t max, int spaces, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v) || !printable(v->valuestring, max, spaces)) {
        *bad = 1;
        return NULL;
    }
    return v->valuestring;
}

/* Percent-decodes a path segment into the pool; NULL when malformed. */
static const char *path_param(struct cc_http_req *req, int i)
{
    const char *s = req->params[i];
    char *out = cc_pool_alloc(req->pool, strlen(s) + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        unsigned v;
        if (!s[1] || !s[2] || sscanf(s + 1, "%2x", &v) != 1 || v == 0)
            return NULL;
        *o++ = (char)v, s += 2;
    }
    *o = '\0';
    return printable(out, MAX_CALL_ID, 0) ? out : NULL;
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

/* POST /pbx/v1/calls {call_id, queue_id, from, to?, priority?} */
static void create_call(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    struct new_call nc = {0};
    struct call_rec rec;
    const char *why = NULL;
    int bad = 0, created = 0;
    if (deny(cr, req, resp))
        return;
    if (!req->json)
        return cc_http_error(resp, CC_ERR_INVALID, "a JSON body is required");
    nc.call_id = field(req->json, "call_id", MAX_CALL_ID, 0, &bad);
    nc.queue_id = field(req->json, "queue_id", 64, 0, &bad);
    nc.from = field(req->json, "from", MAX_NUMBER, 1, &bad);
    nc.to = field(req->json, "to", MAX_NUMBER, 1, &bad);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(req->json, "priority");
    if (p && (!cJSON_IsNumber(p) || p->valuedouble != (double)(int)p->valuedouble ||
              p->valueint < 0 || p->valueint > 100))
        return cc_http_error(resp, CC_ERR_INVALID, "priority: an integer 0..100");
    nc.has_priority = p != NULL, nc.priority = p ? p->valueint : 0;
    if (bad || !nc.call_id || !nc.queue_id || !nc.from)
        return cc_http_error(resp, CC_ERR_INVALID,
                             "call_id, queue_id and from are required: printable text, call_id at "
                             "most 255 bytes, numbers at most 128");
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
    enum cc_status st = calls_lookup(cr, call_id, id, sizeof id);
    if (st != CC_OK)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND ? "no such call" : NULL);
    cc_metric_add(cr->m_route, "", 1);
    if (flow_route_answer(cr, id, resp))
        return;
    struct cc_http_deferred *d = wait_s > 0 ? cc_http_defer(req) : NULL;
    if (!d)
        return cc_http_empty(resp, 204);
    /* parked first, then looked at again: an offer made in between is not missed */
    if (waiters_add(cr->waiters, id, d, cc_time_now_ms() + wait_s * 1000) != CC_OK) {
        struct cc_http_resp busy = {0};
        cc_http_error(&busy, CC_ERR_NOMEM, NULL);
        return cc_http_resume(d, &busy);
    }
    waiters_wake(cr->waiters, id);
}

/* POST /pbx/v1/calls/{call_id}/events {type, offer_id?, by?, reason?} */
static void event(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *call_id = path_param(req, 0), *why = NULL;
    struct call_event ev = {0};
    struct call_rec rec;
    char id[64];
    int bad = 0, ignored = 0;
    if (deny(cr, req, resp))
        return;
    if (!call_id || !req->json)
        return cc_http_error(resp, CC_ERR_INVALID,
                             call_id ? "a JSON body is required"
                                     : "call_id: printable, at most 255 bytes");
    ev.type = field(req->json, "type", 24, 0, &bad);
    ev.offer_id = field(req->json, "offer_id", 160, 0, &bad);
    ev.by = field(req->json, "by", 16, 0, &bad);
    ev.reason = field(req->json, "reason", 256, 1, &bad);
    if (bad || !ev.type)
        return cc_http_error(resp, CC_ERR_INVALID,
                             "type is required; offer_id, by and reason are "
                             "printable text");
    if (ev.by && strcmp(ev.by, "caller") && strcmp(ev.by, "agent"))
        return cc_http_error(resp, CC_ERR_INVALID, "by: caller or agent");
    enum cc_status st = calls_lookup(cr, call_id, id, sizeof id);
    if (st == CC_OK)
        st = flow_event(cr, id, &ev, &rec, &ignored, &why);
    if (st != CC_OK)
        return cc_http_error(resp, st, st == CC_ERR_NOT_FOUND && !why ? "no such call" : why);
    answer_call(resp, 200, &rec, ignored, 1);
}

/* POST /pbx/v1/agents/{agent}/calls {call_id, direction, from, to} */
static void direct_call(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct call_router *cr = arg;
    const char *key = path_param(req, 0), *why = NULL;
    struct direct_call dc = {0};
    struct agent_entry a;
    struct call_rec rec;
    int bad = 0, created = 0;
    if (deny(cr, req, resp))
        return;
    if (!key || !req->json)
        return cc_http_error(resp, CC_ERR_INVALID, "an agent and a JSON body are required");
    dc.call_id = field(req->json, "call_id", MAX_CALL_ID, 0, &bad);
    dc.direction = field(req->json, "direction", 16, 0, &bad);
    dc.from = field(req->json, "from", MAX_NUMBER, 1, &bad);
    dc.to = field(req->json, "to", MAX_NUMBER, 1, &bad);
    if (bad || !dc.call_id || !dc.direction || !dc.from || !dc.to ||
        (strcmp(dc.direction, "inbound") && strcmp(dc.direction, "outbound")))
        return cc_http_error(resp, CC_ERR_INVALID,
                             "call_id, direction (inbound or outbound), "
                             "from and to are required printable text");
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
    const char *id = path_param(req, 0), *status, *reason;
    char type[32];
    int bad = 0;
    if (deny(cr, req, resp))
        return;
    if (!id || !req->json)
        return cc_http_error(resp, CC_ERR_INVALID, "a command id and a JSON body are required");
    status = field(req->json, "status", 16, 0, &bad);
    reason = field(req->json, "reason", 256, 1, &bad);
    if (bad || !status || (strcmp(status, "done") && strcmp(status, "failed")))
        return cc_http_error(resp, CC_ERR_INVALID, "status: done or failed; reason: text");
    int ok = !strcmp(status, "done");
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
