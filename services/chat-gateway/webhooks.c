/* webhooks.c - the providers' webhooks (SPEC sections 6 and 8):
 * /webhooks/{provider}/{channel_id}. A POST is checked against the channel
 * (404 unknown, 401 bad signature, 400 unreadable), each event it carries is
 * stored in JetStream (CHAT_IN, deduplicated on the provider's message id),
 * and only then is it answered 200: a gateway killed after answering loses
 * nothing. A GET answers Meta's subscription check. */
#include "chatgw.h"
#include "cc_log.h"
#include "cc_time.h"
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *header(void *arg, const char *name)
{
    return cc_http_header(arg, name);
}

static void count(struct chatgw *g, const char *provider, const char *result)
{
    char labels[96];
    snprintf(labels, sizeof labels, "provider=\"%s\",result=\"%s\"", provider, result);
    cc_metric_add(g->m_webhooks, labels, 1);
}

/* `ch` (the channel named in the path) when it is of the provider named in the path. */
static const Cc__V1__Channel *path_channel(const Cc__V1__Channel *ch, struct cc_http_req *req,
                                           enum provider_type *type)
{
    *type = provider_type_parse(req->params[0]);
    if (!ch || *type == PROVIDER_UNKNOWN || *type == PROVIDER_WEBCHAT ||
        provider_type_parse(ch->type) != *type)
        return NULL;
    return ch;
}

static const char *kind_of(const struct provider_event *e)
{
    switch (e->kind) {
    case PROVIDER_EVENT_MESSAGE:
        return "message";
    case PROVIDER_EVENT_EDIT:
        return "edit";
    case PROVIDER_EVENT_RECEIPT:
        return "receipt";
    case PROVIDER_EVENT_UNSUPPORTED:
        return "unsupported";
    default:
        return NULL;
    }
}

/* Stores one event in CHAT_IN. */
static enum cc_status store_event(struct chatgw *g, const Cc__V1__Channel *ch,
                                  const struct provider_event *e, int64_t now, size_t index)
{
    Cc__V1__Inbound in = CC__V1__INBOUND__INIT;
    Cc__V1__Attachment atts[PROVIDER_MAX_ATTACHMENTS], *ptrs[PROVIDER_MAX_ATTACHMENTS];
    char at[32], pid[320];
    const char *kind = kind_of(e);
    if (!kind)
        return CC_OK; /* IGNORED: nothing for a chat */
    if (e->kind == PROVIDER_EVENT_RECEIPT) { /* one receipt per message and status */
        if (!e->provider_message_id)
            return CC_OK; /* a watermark: nothing names a message */
        snprintf(pid, sizeof pid, "%s:%s", provider_receipt_name(e->receipt),
                 e->provider_message_id);
        in.refers_to = CC_PB_STR(e->provider_message_id);
        in.receipt = CC_PB_STR(provider_receipt_name(e->receipt));
    } else if (e->kind == PROVIDER_EVENT_EDIT) {
        snprintf(pid, sizeof pid, "%s:%lld", e->provider_message_id ? e->provider_message_id : "",
                 (long long)e->timestamp_ms);
        in.refers_to = CC_PB_STR(e->provider_message_id);
    } else {
        snprintf(pid, sizeof pid, "%s", e->provider_message_id ? e->provider_message_id : "");
    }
    if (!pid[0] || (e->kind != PROVIDER_EVENT_RECEIPT && !e->conversation))
        return CC_OK;
    cc_time_format_ms(now, at, sizeof at);
    in.channel_id = ch->id, in.kind = CC_PB_STR(kind), in.provider_message_id = pid;
    in.conversation = CC_PB_STR(e->conversation), in.customer_name = CC_PB_STR(e->customer_name);
    in.customer_phone = CC_PB_STR(e->customer_phone), in.text = CC_PB_STR(e->text);
    in.customer_language = CC_PB_STR(e->customer_language);
    in.received_at = at, in.note = CC_PB_STR(e->note);
    in.has_order = 1, in.order = now * 1000 + (int64_t)(index % 1000);
    for (size_t i = 0; i < e->n_attachments && i < PROVIDER_MAX_ATTACHMENTS; i++) {
        const struct provider_attachment *a = &e->attachments[i];
        cc__v1__attachment__init(&atts[i]);
        atts[i].kind = CC_PB_STR(provider_attachment_type_name(a->type));
        atts[i].provider_ref = CC_PB_STR(a->ref), atts[i].mime = CC_PB_STR(a->mime);
        atts[i].name = CC_PB_STR(a->name);
        atts[i].has_size = a->size >= 0, atts[i].size = a->size;
        ptrs[i] = &atts[i];
        in.n_attachments++;
    }
    in.attachments = ptrs;
    return inbound_publish(g, &in);
}

static void receive(struct chatgw *g, struct cc_http_req *req, struct cc_http_resp *resp)
{
    enum provider_type type;
    struct provider_batch *batch = NULL;
    char why[256] = "";
    int64_t t0 = cc_time_mono_us(), now = cc_time_now_ms();
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(g, req->params[1], &ch);
    ch = path_channel(ch, req, &type);
    const char *provider = req->params[0];
    enum cc_status st = CC_OK;
    if (!ch) {
        provider = "unknown";
        cc_http_error(resp, CC_ERR_NOT_FOUND, "no such channel for this provider");
        count(g, provider, "not_found");
    } else if (!provider_verify(type, ch->credentials, header, req, req->body, req->body_len)) {
        cc_http_error(resp, CC_ERR_UNAUTHORIZED, "bad or missing signature");
        count(g, provider, "bad_signature");
    } else if ((st = provider_parse(type, req->body, req->body_len, &batch, why, sizeof why)) !=
               CC_OK) {
        cc_http_error(resp, st, why[0] ? why : NULL);
        count(g, provider, "bad_request");
    } else {
        for (size_t i = 0; i < batch->n && st == CC_OK; i++)
            st = store_event(g, ch, &batch->events[i], now, i);
        if (st == CC_OK) { /* every event is in JetStream: the provider may forget it */
            cc_http_text(resp, 200, "application/json", "{\"ok\":true}", 11);
            count(g, provider, "stored");
            cc_metric_observe(g->m_ingest_latency, NULL,
                              (double)(cc_time_mono_us() - t0) / 1e6);
        } else {
            CC_WARN("webhooks: %s message not stored (%s): the provider will retry", provider,
                    cc_status_str(st));
            cc_http_error(resp, CC_ERR_UNAVAILABLE, "not stored; retry later");
            count(g, provider, "unavailable");
        }
    }
    provider_batch_free(batch);
    channels_put(cs);
}

void webhooks_post(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    receive(arg, req, resp);
}

/* Meta's subscription check: answers hub.challenge when the verify token is
 * the channel's. */
void webhooks_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct chatgw *g = arg;
    enum provider_type type;
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(g, req->params[1], &ch);
    ch = path_channel(ch, req, &type);
    const char *challenge = cc_http_query(req, "hub.challenge");
    if (!ch)
        cc_http_error(resp, CC_ERR_NOT_FOUND, "no such channel for this provider");
    else if (!challenge || strlen(challenge) > 256 ||
             !provider_verify_challenge(type, ch->credentials, cc_http_query(req, "hub.mode"),
                                        cc_http_query(req, "hub.verify_token")))
        cc_http_error(resp, CC_ERR_FORBIDDEN, "wrong verify token");
    else
        cc_http_text(resp, 200, "text/plain", challenge, strlen(challenge));
    channels_put(cs);
}
