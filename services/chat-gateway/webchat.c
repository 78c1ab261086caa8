/* webchat.c - the web-chat widget's API (SPEC section 9) and the widget:
 *   GET  /webchat/v1/{channel_id}/config -> {title, color, prechat, language}
 *   POST /webchat/v1/{channel_id}/sessions {name?, email?, language?} -> 201 {session_id, token}
 *   POST /webchat/v1/sessions/{id}/messages {text, client_id?} (X-Webchat-Token)
 *   POST /webchat/v1/sessions/{id}/files?name=&client_id= (the body is the file)
 *   POST /webchat/v1/sessions/{id}/typing (the customer is writing)
 *   GET  /webchat/v1/sessions/{id}/messages, GET .../events (SSE; ?token= too)
 *   GET  /webchat/widget.js, GET /webchat/demo/{channel_id}
 * A session is {cc}:wcs:<id> (the channel, the customer's name, e-mail and
 * language, the token's SHA-256; 30 days); it is the conversation of the
 * channel, so its messages take the providers' path: stored in CHAT_IN
 * before 201. */
#include "chatgw.h"
#include "cc_files.h"
#include "cc_log.h"
#include "cc_pbjson.h"
#include "cc_sse.h"
#include "cc_time.h"
#include "webchat_body.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_TTL_S 2592000

extern const char widget_js[];
extern const char widget_css[];

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
    struct webchat_visitor who;
    const char *bad = webchat_read_session(req->json, &who);
    const char *name = who.name, *email = who.email, *lang = who.language;
    unsigned char raw[32];
    char id[40], token[65], hash[65], prechat[16] = "off";
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(g, req->params[0], &ch);
    int ok = ch && !strcmp(ch->type, "webchat");
    if (ok && ch->webchat && ch->webchat->prechat)
        snprintf(prechat, sizeof prechat, "%s", ch->webchat->prechat);
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
    if (!strcmp(prechat, "required") && (!name || !email)) {
        cc_http_error(resp, CC_ERR_INVALID, "name and email: this channel asks for both");
        return;
    }
    if (!webchat_limit(g, req, resp, WEBCHAT_LIMIT_SESSION, req->params[0]))
        return;
    store_new_id("wcs_", id, sizeof id);
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    token_hash(token, hash);
    if (cc_redis_do(g->redis, "HSET " KEY_WCS " channel %s name %s token %s email %s lang %s",
                    cc_tag(), id, req->params[0], name ? name : "", hash, email ? email : "",
                    lang ? lang : "") != CC_OK ||
        cc_redis_do(g->redis, "EXPIRE " KEY_WCS " %d", cc_tag(), id, SESSION_TTL_S) != CC_OK) {
        cc_http_error(resp, CC_ERR_UNAVAILABLE, NULL);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "session_id", id);
    cJSON_AddStringToObject(j, "token", token);
    cc_http_json(resp, 201, j);
}

/* What the widget of channel {channel_id} shows and asks: public, no token. */
void webchat_config(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(g, req->params[0], &ch);
    if (!ch || strcmp(ch->type, "webchat") != 0) {
        channels_put(cs);
        cc_http_error(resp, CC_ERR_NOT_FOUND, "no such web-chat channel");
        return;
    }
    if (!webchat_cors(g, req, resp, req->params[0])) {
        channels_put(cs);
        return;
    }
    const Cc__V1__WebchatSettings *w = ch->webchat;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "title",
                            w && w->title && *w->title ? w->title
                            : ch->name                 ? ch->name
                                                       : "");
    cJSON_AddStringToObject(j, "color", w && w->color && *w->color ? w->color : "#1f5fbf");
    cJSON_AddStringToObject(j, "prechat", w && w->prechat && *w->prechat ? w->prechat : "off");
    cJSON_AddStringToObject(j, "language", w && w->language ? w->language : "");
    channels_put(cs);
    cc_http_json(resp, 200, j);
    cc_http_add_header(req, resp, "Cache-Control", "no-cache");
}

/* The session of the path, when the request carries its token (header, or
 * ?token= for EventSource). Fills channel and name. */
struct session {
    char id[64], channel[64], name[WEBCHAT_MAX_NAME + 1], email[WEBCHAT_MAX_EMAIL + 1],
        lang[WEBCHAT_MAX_LANG + 1];
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
    enum cc_status st =
        cc_redis_run(g->redis, &rep, "HMGET " KEY_WCS " channel name token email lang", cc_tag(),
                     req->params[0]);
    if (st == CC_OK && (rep->element[2]->type != REDIS_REPLY_STRING ||
                        sodium_memcmp(rep->element[2]->str, hash, 64) != 0))
        st = CC_ERR_UNAUTHORIZED;
    if (st == CC_OK) {
        snprintf(s->id, sizeof s->id, "%s", req->params[0]);
        snprintf(s->channel, sizeof s->channel, "%s", rep->element[0]->str);
        snprintf(s->name, sizeof s->name, "%s",
                 rep->element[1]->type == REDIS_REPLY_STRING ? rep->element[1]->str : "");
        snprintf(s->email, sizeof s->email, "%s",
                 rep->element[3]->type == REDIS_REPLY_STRING ? rep->element[3]->str : "");
        snprintf(s->lang, sizeof s->lang, "%s",
                 rep->element[4]->type == REDIS_REPLY_STRING ? rep->element[4]->str : "");
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
    in.customer_email = s.email[0] ? s.email : NULL,
    in.customer_language = s.lang[0] ? s.lang : NULL;
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
    Cc__V1__Chat *chat = NULL;
    enum cc_status st =
        cc_redis_run(g->redis, &rep, "GET " KEY_CONVLAST, cc_tag(), s.channel, s.id);
    if (st == CC_OK && rep->type == REDIS_REPLY_STRING) {
        st = store_messages(g, rep->str, &items, &n);
        if (st == CC_OK && store_chat(g, rep->str, &chat) != CC_OK)
            chat = NULL;
    }
    free_reply(rep);
    if (st != CC_OK) {
        cc_http_error(resp, st, NULL);
        return;
    }
    cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "items");
    if (chat) { /* the latest chat as the customer sees it: ended, the agent's name */
        Cc__V1__Chat view;
        chats_customer_view(chat, &view);
        cJSON_AddItemToObject(j, "chat", cc_pbjson_to_json(&view.base, 0));
        cc__v1__chat__free_unpacked(chat, NULL);
    } else {
        cJSON_AddNullToObject(j, "chat");
    }
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

/* The customer is writing: the agent of the session's open chat sees it
 * (cc.chat.typing.<agent>). 204 whether or not an agent has the chat yet. */
void webchat_typing(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    struct session s;
    redisReply *rep = NULL;
    if (!auth_or_answer(g, req, resp, &s))
        return;
    enum cc_status st = cc_redis_run(g->redis, &rep, "GET " KEY_CONV, cc_tag(), s.channel, s.id);
    if (st == CC_OK && rep->type == REDIS_REPLY_STRING) {
        Cc__V1__Chat *chat = NULL;
        if (store_chat(g, rep->str, &chat) == CC_OK && chat->agent_id &&
            strcmp(chat->state, "completed") != 0) {
            Cc__V1__Typing t = CC__V1__TYPING__INIT;
            char subject[160];
            t.chat_id = chat->id, t.who = CC_PB_STR("customer");
            snprintf(subject, sizeof subject, SUBJ_CHAT_TYPING_TO, chat->agent_id);
            cc_nats_publish(g->nats, subject, &t.base);
        }
        if (chat)
            cc__v1__chat__free_unpacked(chat, NULL);
    }
    free_reply(rep);
    if (st != CC_OK) {
        cc_http_error(resp, st, NULL);
        return;
    }
    cc_http_text(resp, 204, "text/plain", "", 0);
}

/* POST .../files?name=&client_id=: the body is a file the customer sends;
 * stored like an agent's upload and sent as a message of its own (201 with
 * the message, stored in CHAT_IN; the same client_id again is one message). */
void webchat_file(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    struct session s;
    Cc__V1__Inbound in = CC__V1__INBOUND__INIT;
    Cc__V1__Attachment att, *atts[1] = {&att};
    struct cc_file f;
    char pid[160], at[32];
    if (!auth_or_answer(g, req, resp, &s) ||
        !webchat_limit(g, req, resp, WEBCHAT_LIMIT_MESSAGE, s.channel))
        return;
    const char *client = cc_http_query(req, "client_id");
    if (!req->body_len) {
        cc_http_error(resp, CC_ERR_INVALID, "the body is the file: empty");
        return;
    }
    if ((int64_t)req->body_len > g->file_max_bytes) {
        cc_http_error(resp, CC_ERR_TOO_LARGE, "file too large");
        return;
    }
    if (client && (!*client || strlen(client) > 64)) {
        cc_http_error(resp, CC_ERR_INVALID, "client_id: 1 to 64 bytes");
        return;
    }
    enum cc_status st = cc_files_put(g->redis, g->file_dir, req->body, req->body_len,
                                     cc_http_query(req, "name"), NULL, &f);
    if (st == CC_OK)
        st = files_attachment(g, f.id, &att);
    if (st != CC_OK) {
        cc_http_error(resp, st == CC_ERR_IO ? CC_ERR_UNAVAILABLE : st, "the file was not stored");
        return;
    }
    int64_t now = cc_time_now_ms();
    if (client)
        snprintf(pid, sizeof pid, "%s:%s", s.id, client);
    else
        store_new_id("wcm_", pid, sizeof pid);
    cc_time_format_ms(now, at, sizeof at);
    in.channel_id = s.channel, in.kind = CC_PB_STR("message"), in.provider_message_id = pid;
    in.conversation = s.id, in.customer_name = s.name[0] ? s.name : NULL;
    in.customer_email = s.email[0] ? s.email : NULL,
    in.customer_language = s.lang[0] ? s.lang : NULL;
    in.n_attachments = 1, in.attachments = atts;
    in.received_at = at, in.has_order = 1, in.order = now * 1000;
    st = inbound_publish(g, &in);
    if (st != CC_OK) {
        files_attachment_release(&att);
        cc_http_error(resp, CC_ERR_UNAVAILABLE, "not stored; retry later");
        return;
    }
    cc_metric_add(g->m_webhooks, "provider=\"webchat\",result=\"stored\"", 1);
    cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "attachments");
    cJSON_AddStringToObject(j, "provider_message_id", pid);
    cJSON_AddStringToObject(j, "direction", "in");
    cJSON_AddStringToObject(j, "created_at", at);
    cJSON_AddStringToObject(j, "delivery", "received");
    cJSON_AddItemToArray(arr, cc_pbjson_to_json(&att.base, 0));
    files_attachment_release(&att);
    cc_http_json(resp, 201, j);
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
    enum cc_status st = cc_redis_run(c->g->redis, &rep, "EXISTS " KEY_WCS, cc_tag(), c->id);
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
    enum cc_status st = cc_events_source(g->events, g->nats, SUBJ_WEBCHAT_MESSAGE_ALL, "message",
                                         &cc__v1__chat_message__descriptor, 1);
    if (st == CC_OK)
        st = cc_events_source(g->events, g->nats, SUBJ_WEBCHAT_CHAT_UPDATED_ALL, "chat_updated",
                              &cc__v1__chat__descriptor, 1);
    if (st == CC_OK)
        st = cc_events_source(g->events, g->nats, SUBJ_WEBCHAT_TYPING_ALL, "typing",
                              &cc__v1__typing__descriptor, 1);
    return st;
}

void webchat_widget(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    (void)arg;
    cc_http_text(resp, 200, "application/javascript; charset=utf-8", widget_js, strlen(widget_js));
    cc_http_add_header(req, resp, "Cache-Control", "public, max-age=300");
}

void webchat_widget_css(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    (void)arg;
    cc_http_text(resp, 200, "text/css; charset=utf-8", widget_css, strlen(widget_css));
    cc_http_add_header(req, resp, "Cache-Control", "public, max-age=300");
}

/* A test page holding the widget for channel {channel_id}: what a website
 * adds, under the strictest policy a site could have (only the widget's own
 * origin may load scripts and styles), so that what works here works there. */
void webchat_demo(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    char page[4096];
    const char *ch = req->params[0];
    for (const char *p = ch; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p)) {
            cc_http_error(resp, CC_ERR_NOT_FOUND, "no such channel");
            return;
        }
    int n = snprintf(page, sizeof page,
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>Web chat test page</title><link rel=\"icon\" "
                     "href=\"data:,\"></head><body>\n<main>\n"
                     "<h1>Web chat test page</h1>\n"
                     "<p>This page holds the web-chat widget of channel %s exactly as the "
                     "snippet on the channel's admin page adds it to a website. Open the chat "
                     "with the button in the corner.</p>\n</main>\n"
                     "<script src=\"%s/webchat/widget.js\" data-channel=\"%s\" "
                     "data-base=\"%s\" async></script>\n</body></html>\n",
                     ch, g->public_url, ch, g->public_url);
    char csp[2048];
    const char *u = g->public_url;
    snprintf(
        csp, sizeof csp,
        "default-src 'none'; script-src 'self' %s; style-src 'self' %s; img-src 'self' %s data:; "
        "connect-src 'self' %s; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        u, u, u, u);
    cc_http_text(resp, 200, "text/html; charset=utf-8", page, (size_t)n);
    cc_http_add_header(req, resp, "Content-Security-Policy", csp);
}
