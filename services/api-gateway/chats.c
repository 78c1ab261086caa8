/* chats.c - chats over HTTP (SPEC sections 6 and 9): every route builds a
 * cc.v1.ChatRequest with the caller and asks chat-gateway (cc.chat.<verb>),
 * which decides who may do what; POST /files stores an upload in the
 * shared file directory for a message to carry. */
#include "chats.h"
#include "auth.h"
#include "cc/v1/chat.pb-c.h"
#include "cc_files.h"
#include "cc_pbjson.h"
#include "forward.h"
#include "gateway.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *item(const void *items, size_t i)
{
    return forward_json(((ProtobufCMessage *const *)items)[i]);
}

/* Asks cc.chat.<verb> with `r` and answers the reply (message `desc`). */
static void ask(struct api_gateway *gw, const char *verb, Cc__V1__ChatRequest *r,
                const ProtobufCMessageDescriptor *desc, struct cc_http_resp *resp)
{
    ProtobufCMessage *rep = NULL;
    char subject[64];
    snprintf(subject, sizeof subject, SUBJ_CHAT_VERB, verb);
    if (forward_request(gw, subject, &r->base, desc, &rep, resp) != CC_OK)
        return;
    cJSON *j;
    if (desc == &cc__v1__chat_list__descriptor) {
        const Cc__V1__ChatList *l = (const Cc__V1__ChatList *)rep;
        j = forward_list(l->n_items, item, l->items, l->next_cursor);
    } else if (desc == &cc__v1__message_list__descriptor) {
        const Cc__V1__MessageList *l = (const Cc__V1__MessageList *)rep;
        j = forward_list(l->n_items, item, l->items, l->next_cursor);
    } else if (desc == &cc__v1__quick_reply_list__descriptor) {
        const Cc__V1__QuickReplyList *l = (const Cc__V1__QuickReplyList *)rep;
        j = forward_list(l->n_items, item, l->items, NULL);
    } else {
        j = forward_json(rep);
    }
    protobuf_c_message_free_unpacked(rep, NULL);
    if (j)
        cc_http_json(resp, 200, j);
    else
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
}

/* GET /chats?view=active|closed|history and, for history, customer,
 * agent_id, queue_id, source, since, until, text, result_id, limit, cursor. */
void chats_list(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
    Cc__V1__ChatFilter f = CC__V1__CHAT_FILTER__INIT;
    Cc__V1__Page page = CC__V1__PAGE__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    const char *limit = cc_http_query(req, "limit");
    if (limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (*end || v < 1 || v > 100) {
            cc_http_error(resp, CC_ERR_INVALID, "limit: 1..100");
            return;
        }
        page.has_limit = 1, page.limit = v;
    }
    page.cursor = CC_PB_STR(cc_http_query(req, "cursor"));
    f.customer = CC_PB_STR(cc_http_query(req, "customer"));
    f.agent_id = CC_PB_STR(cc_http_query(req, "agent_id"));
    f.queue_id = CC_PB_STR(cc_http_query(req, "queue_id"));
    f.source = CC_PB_STR(cc_http_query(req, "source"));
    f.since = CC_PB_STR(cc_http_query(req, "since"));
    f.until = CC_PB_STR(cc_http_query(req, "until"));
    f.text = CC_PB_STR(cc_http_query(req, "text"));
    f.result_id = CC_PB_STR(cc_http_query(req, "result_id"));
    r.caller = &caller, r.view = CC_PB_STR(cc_http_query(req, "view"));
    r.filter = &f, r.page = &page;
    ask(rt->gw, "list", &r, &cc__v1__chat_list__descriptor, resp);
}

/* The reply of cc.chat.<verb>. */
static const ProtobufCMessageDescriptor *reply_of(const char *verb)
{
    if (!strcmp(verb, "messages"))
        return &cc__v1__message_list__descriptor;
    if (!strcmp(verb, "quick_replies"))
        return &cc__v1__quick_reply_list__descriptor;
    if (!strcmp(verb, "retry"))
        return &cc__v1__chat_message__descriptor;
    if (!strcmp(verb, "setup"))
        return &cc__v1__channel_setup__descriptor;
    return &cc__v1__chat__descriptor;
}

/* GET /chats/{id}, /chats/{id}/messages, /chats/{id}/quick-replies,
 * /channels/{id}/setup (the id is a channel's) and POST /chats/{id}/accept,
 * /decline, /end, /read, /typing (empty body or {}),
 * /chats/{id}/messages/{message_id}/retry: the verb is the last word of the
 * route's subject. */
void chats_about(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    const char *verb = strrchr(rt->spec->subject, '.') + 1;
    Cc__V1__Caller caller;
    Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (req->json && (!cJSON_IsObject(req->json) || req->json->child)) {
        cc_http_error(resp, CC_ERR_INVALID, "body: empty or {}");
        return;
    }
    r.caller = &caller, r.chat_id = CC_PB_STR(req->params[0]);
    if (!strcmp(verb, "retry"))
        r.message_id = CC_PB_STR(req->params[1]);
    ask(rt->gw, verb, &r, reply_of(verb), resp);
}

/* PATCH /chats/{id} {state, result_id, result_details, links}. */
void chats_patch(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"state", "result_id", "result_details", "links", NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
    ProtobufCMessage *patch = NULL;
    char why[256];
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (forward_fields_only(req->json, allowed, resp) != CC_OK)
        return;
    enum cc_status st =
        cc_pbjson_from_json(&cc__v1__chat__descriptor, req->json, &patch, why, sizeof why);
    if (st != CC_OK) {
        cc_http_error(resp, st, why);
        return;
    }
    r.caller = &caller, r.chat_id = CC_PB_STR(req->params[0]), r.patch = (Cc__V1__Chat *)patch;
    ask(rt->gw, "update", &r, &cc__v1__chat__descriptor, resp);
    protobuf_c_message_free_unpacked(patch, NULL);
}

/* POST /chats/{id}/messages {text} or {file_id} (or both: a caption). */
void chats_send(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(req->json, "text");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(req->json, "file_id");
    if (!cJSON_IsObject(req->json) || (text && !cJSON_IsString(text)) ||
        (file && !cJSON_IsString(file)) || (!text && !file)) {
        cc_http_error(resp, CC_ERR_INVALID, "body: {text} or {file_id}, strings");
        return;
    }
    r.caller = &caller, r.chat_id = CC_PB_STR(req->params[0]);
    r.text = text ? text->valuestring : NULL, r.file_id = file ? file->valuestring : NULL;
    ask(rt->gw, "send", &r, &cc__v1__chat_message__descriptor, resp);
}

/* POST /files?name=<file name>: the body is the file. */
void files_upload(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    struct api_gateway *gw = rt->gw;
    Cc__V1__Caller caller;
    struct cc_file f;
    if (auth_require(gw, req, resp, &caller) != CC_OK)
        return;
    if (caller.role && !strcmp(caller.role, "user")) { /* PBX/CRM users have no chats */
        cc_http_error(resp, CC_ERR_FORBIDDEN, "not allowed for your role");
        return;
    }
    if (!req->body_len) {
        cc_http_error(resp, CC_ERR_INVALID, "the body is the file: empty");
        return;
    }
    enum cc_status st = cc_files_put(gw->svc->redis, gw->file_dir, req->body, req->body_len,
                                     cc_http_query(req, "name"), caller.user_id, &f);
    if (st != CC_OK) {
        cc_http_error(resp, st == CC_ERR_IO ? CC_ERR_UNAVAILABLE : st, "the file was not stored");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", f.id);
    cJSON_AddStringToObject(j, "name", f.name);
    cJSON_AddStringToObject(j, "mime", f.mime);
    cJSON_AddNumberToObject(j, "size", (double)f.size);
    cc_http_json(resp, 201, j);
}
