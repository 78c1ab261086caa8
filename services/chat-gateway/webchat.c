/* webchat.c - the web-chat widget's API (SPEC section 9) and the widget:
 *   POST /webchat/v1/{channel_id}/sessions {name?} -> 201 {session_id, token}
 *   POST /webchat/v1/sessions/{id}/messages {text, client_id?} (X-Webchat-Token)
 *   GET  /webchat/v1/sessions/{id}/messages, GET .../events (SSE; ?token= too)
 *   GET  /webchat/widget.js, GET /webchat/demo/{channel_id}
 * A session is {cc}:wcs:<id> (the channel, the customer's name and the
 * token's SHA-256; 30 days); it is the conversation of the channel, so its
 * messages take the providers' path: stored in CHAT_IN before 201. */
#include "chatgw.h"
#include "cc_log.h"
#include "cc_pbjson.h"
#include "cc_sse.h"
#include "cc_time.h"
#include "webchat_body.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_TTL_S 2592000

extern const char widget_js[];

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

static void token_hash(const char *token, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, 65, h, sizeof h);
}

void webchat_session_new(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    const char *name, *bad = webchat_read_session(req->json, &name);
    unsigned char raw[32];
    char id[40], token[65], hash[65];
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(g, req->params[0], &ch);
    int ok = ch && !strcmp(ch->type, "webchat");
    channels_put(cs);
    if (!webchat_cors(g, req, resp, ok ? req->params[0] : NULL))
        return;
    if (!ok) {
        cc_http_error(resp, CC_ERR_NOT_FOUND, "no such web-chat channel");
        return;
    }
    if (bad) {
        cc_http_error(resp, CC_ERR_INVALID, bad);
        return;
    }
    if (!webchat_limit(g, req, resp, WEBCHAT_LIMIT_SESSION, req->params[0]))
        return;
    store_new_id("wcs_", id, sizeof id);
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    token_hash(token, hash);
    if (cc_redis_do(g->redis, "HSET " WEBCHAT_SESSION_KEY " channel %s name %s token %s", id,
                    req->params[0], name ? name : "", hash) != CC_OK ||
        cc_redis_do(g->redis, "EXPIRE " WEBCHAT_SESSION_KEY " %d", id, SESSION_TTL_S) != CC_OK) {
        cc_http_error(resp, CC_ERR_UNAVAILABLE, NULL);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session_id", id);
    cJSON_AddStringToObject(j, "token", token);
    cc_http_json(resp, 201, j);
}

/* The session of the path, when the request carries its token (header, or
 * ?token= for EventSource). Fills channel and name. */
struct session {
    char id[64], channel[64], name[WEBCHAT_MAX_NAME + 1];
};

static enum cc_status session_auth(struct chatgw *g, struct cc_http_req *req, struct session *s)
{
    const char *token = cc_http_header(req, "X-Webchat-Token");
    redisReply *rep;
    char hash[65];
    if (!token)
        token = cc_http_query(req, "token");
    if (!token || strlen(token) != 64 || strlen(req->params[0]) >= sizeof s->id)
        return CC_ERR_UNAUTHORIZED;
    token_hash(token, hash);
    enum cc_status st = cc_redis_run(
        g->redis, &rep, "HMGET " WEBCHAT_SESSION_KEY " channel name token", req->params[0]);
    if (st == CC_OK && (rep->element[2]->type != REDIS_REPLY_STRING ||
                        sodium_memcmp(rep->element[2]->str, hash, 64) != 0))
        st = CC_ERR_UNAUTHORIZED;
    if (st == CC_OK) {
        snprintf(s->id, sizeof s->id, "%s", req->params[0]);
        snprintf(s->channel, sizeof s->channel, "%s", rep->element[0]->str);
        snprintf(s->name, sizeof s->name, "%s",
                 rep->element[1]->type == REDIS_REPLY_STRING ? rep->element[1]->str : "");
    }
    free_reply(rep);
    return st;
}

/* The session's request: its Origin checked against the session's channel
 * (any web-chat channel when the session is not known), then its token. */
static int auth_or_answer(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp,
                          struct session *s)
{
    enum cc_status st = session_auth(g, req, s);
    if (!webchat_cors(g, req, resp, st == CC_OK ? s->channel : NULL))
        return 0;
    if (st != CC_OK)
        cc_http_error(resp, st, st == CC_ERR_UNAUTHORIZED ? "missing or wrong X-Webchat-Token" : NULL);
    return st == CC_OK;
}

void webchat_send(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    struct session s;
    Cc__V1__Inbound in = CC__V1__INBOUND__INIT;
    char pid[96], at[32];
    if (!auth_or_answer(g, req, resp, &s) ||
        !webchat_limit(g, req, resp, WEBCHAT_LIMIT_MESSAGE, s.channel))
        return;
    const char *text, *client, *bad = webchat_read_message(req->json, &text, &client);
    if (bad) {
        cc_http_error(resp, CC_ERR_INVALID, bad);
        return;
    }
    int64_t now = cc_time_now_ms();
    if (client) /* the widget's own id: a retried POST is stored once */
        snprintf(pid, sizeof pid, "%s:%s", s.id, client);
    else
        store_new_id("wcm_", pid, sizeof pid);
    cc_time_format_ms(now, at, sizeof at);
    in.channel_id = s.channel, in.kind = CC_PB_STR("message"), in.provider_message_id = pid;
    in.conversation = s.id, in.customer_name = s.name[0] ? s.name : NULL;
    in.text = CC_PB_STR(text), in.received_at = at, in.has_order = 1, in.order = now * 1000;
    if (inbound_publish(g, &in) != CC_OK) {
        cc_http_error(resp, CC_ERR_UNAVAILABLE, "not stored; retry later");
        return;
    }
    cc_metric_add(g->m_webhooks, "provider=\"webchat\",result=\"stored\"", 1);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "provider_message_id", pid);
    cJSON_AddStringToObject(j, "direction", "in");
    cJSON_AddStringToObject(j, "text", text);
    cJSON_AddStringToObject(j, "created_at", at);
    cJSON_AddStringToObject(j, "delivery", "received");
    cc_http_json(resp, 201, j);
}

/* The messages of the session's latest chat, both directions. */
void webchat_messages(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    struct session s;
    redisReply *rep;
    Cc__V1__ChatMessage **items = NULL;
    size_t n = 0;
    if (!auth_or_answer(g, req, resp, &s))
        return;
    enum cc_status st = cc_redis_run(g->redis, &rep, "GET {cc}:convlast:%s:%s", s.channel, s.id);
    if (st == CC_OK && rep->type == REDIS_REPLY_STRING)
        st = store_messages(g, rep->str, &items, &n);
    free_reply(rep);
    if (st != CC_OK) {
        cc_http_error(resp, st, NULL);
        return;
    }
    cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
    for (size_t i = 0; i < n; i++) {
        cJSON *m = cc_pbjson_to_json(&items[i]->base, 0);
        cJSON_DeleteItemFromObjectCaseSensitive(m, "agent_id"); /* staff ids stay inside */
        cJSON_AddItemToArray(arr, m);
        cc__v1__chat_message__free_unpacked(items[i], NULL);
    }
    free(items);
    cJSON_AddNullToObject(j, "next_cursor");
    cc_http_json(resp, 200, j);
}

struct session_check {
    struct chatgw *g;
    char id[64];
};

/* cc_sse_check_fn: the session still exists. */
static enum cc_status check_session(void *arg)
{
    struct session_check *c = arg;
    redisReply *rep;
    enum cc_status st = cc_redis_run(c->g->redis, &rep, "EXISTS " WEBCHAT_SESSION_KEY, c->id);
    if (st == CC_OK && rep->integer != 1)
        st = CC_ERR_UNAUTHORIZED;
    free_reply(rep);
    return st;
}

void webchat_events(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    struct session s;
    if (!auth_or_answer(g, req, resp, &s))
        return;
    struct session_check *c = calloc(1, sizeof *c);
    if (!c) {
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    c->g = g;
    snprintf(c->id, sizeof c->id, "%s", s.id);
    cc_sse_answer(g->events, c->id, g->sse_keepalive_us, check_session, c, free, req, resp);
}

enum cc_status webchat_start(struct chatgw *g)
{
    enum cc_status st = cc_events_source(g->events, g->nats, "cc.webchat.message.*", "message",
                                         &cc__v1__chat_message__descriptor, 1);
    if (st == CC_OK)
        st = cc_events_source(g->events, g->nats, "cc.webchat.chat_updated.*", "chat_updated",
                              &cc__v1__chat__descriptor, 1);
    return st;
}

void webchat_widget(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    (void)arg;
    cc_http_text(resp, 200, "application/javascript; charset=utf-8", widget_js, strlen(widget_js));
    cc_http_add_header(req, resp, "Cache-Control", "public, max-age=300");
}

/* A page holding the widget for channel {channel_id}: what a website adds. */
void webchat_demo(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    char page[1024];
    const char *ch = req->params[0];
    for (const char *p = ch; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p)) {
            cc_http_error(resp, CC_ERR_NOT_FOUND, "no such channel");
            return;
        }
    int n = snprintf(page, sizeof page,
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>Web chat</title></head><body>\n<h1>Web chat</h1>\n"
                     "<script src=\"%s/webchat/widget.js\" data-channel=\"%s\" "
                     "data-base=\"%s\"></script>\n</body></html>\n",
                     g->public_url, ch, g->public_url);
    cc_http_text(resp, 200, "text/html; charset=utf-8", page, (size_t)n);
}
