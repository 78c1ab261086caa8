/* outbound.c - the agents' messages to the providers: a durable consumer of
 * CHAT_OUT the replicas share. A message is sent only while it is pending
 * (a redelivery of one already sent or failed does nothing, and CHAT_OUT
 * drops a second publish of the same message id); a provider that is down,
 * slow or rate-limiting is retried with exponential backoff; a refusal
 * marks the message failed with the provider's reason. */
#include "chatgw.h"
#include "cc_log.h"
#include "provider.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND_TIMEOUT_MS 10000
#define ANSWER_MAX (1 << 20)
#define MAX_TRIES 12           /* about 20 minutes of backoff, then failed */
#define BACKOFF_MAX_MS 300000

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v ? strdup(v) : NULL;
}

/* Records the outcome on the message and tells the agent's desktop. */
static void settle(struct chatgw *g, const Cc__V1__Chat *chat, Cc__V1__ChatMessage *m,
                   const char *delivery, const char *error, const char *provider_id)
{
    set_str(&m->delivery, delivery);
    set_str(&m->delivery_error, error);
    if (provider_id && *provider_id) {
        set_str(&m->provider_message_id, provider_id);
        /* receipts name the provider's id: find the message from it */
        cc_redis_do(g->redis, "SET " KEY_PMSG " %s %s EX %d", cc_tag(), chat->channel_id,
                    provider_id, chat->id, m->id, PMSG_TTL_S);
    }
    if (!strcmp(delivery, "failed"))
        cc_metric_add(g->m_delivery_failures, NULL, 1);
    if (store_message_put(g, m) == CC_OK)
        chats_publish_message(g, chat, m);
}

/* The backoff before try number `tries` + 1. */
static int64_t backoff_ms(int tries)
{
    int64_t ms = 1000;
    for (int i = 1; i < tries && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static enum cc_nats_verdict send_one(struct chatgw *g, const Cc__V1__Chat *chat,
                                     const Cc__V1__Channel *ch, Cc__V1__ChatMessage *m, int tries,
                                     int64_t *retry_ms)
{
    struct provider_request req = PROVIDER_REQUEST_INIT;
    struct provider_send_result res;
    struct provider_file file = {NULL, NULL, NULL, 0};
    enum provider_type type = provider_type_parse(ch->type);
    char why[PROVIDER_REASON_MAX + 64] = "", *body = NULL;
    size_t len = 0;
    long status = 0;
    if (m->n_attachments) {
        const Cc__V1__Attachment *a = m->attachments[0];
        file = (struct provider_file){a->url, a->mime, a->name, a->has_size ? a->size : 0};
    }
    if (provider_build_send(type, ch, chat->from, m->text, m->n_attachments ? &file : NULL, &req,
                            why, sizeof why) != CC_OK) {
        settle(g, chat, m, "failed", why[0] ? why : "cannot build the request", NULL);
        return CC_NATS_ACK;
    }
    http_perform(&req, SEND_TIMEOUT_MS, ANSWER_MAX, &status, &body, &len);
    provider_parse_send_result(type, status, body, len, &res);
    CC_DEBUG("outbound: %s %s -> %ld", req.method, req.log_url, status);
    provider_request_release(&req);
    free(body);
    switch (res.status) {
    case PROVIDER_SEND_OK:
        settle(g, chat, m, "sent", NULL, res.message_id);
        return CC_NATS_ACK;
    case PROVIDER_SEND_PERMANENT:
        settle(g, chat, m, "failed", res.reason, NULL);
        return CC_NATS_ACK;
    case PROVIDER_SEND_TRANSIENT:
        break;
    }
    if (tries >= MAX_TRIES) {
        snprintf(why, sizeof why, "gave up after %d tries: %s", tries, res.reason);
        settle(g, chat, m, "failed", why, NULL);
        return CC_NATS_ACK;
    }
    CC_INFO("outbound: %s not sent (try %d: %s); retrying", m->id, tries, res.reason);
    *retry_ms = backoff_ms(tries);
    return CC_NATS_RETRY;
}

static enum cc_nats_verdict on_outbound(void *arg, const struct cc_nats_msg *msg, int64_t *retry_ms)
{
    struct chatgw *g = arg;
    Cc__V1__Outbound *out = cc__v1__outbound__unpack(NULL, msg->len, msg->data);
    Cc__V1__ChatMessage *m = NULL;
    Cc__V1__Chat *chat = NULL;
    enum cc_nats_verdict v = CC_NATS_ACK;
    enum cc_status st = out && out->message_id ? store_message(g, out->message_id, &m)
                                               : CC_ERR_INVALID;
    if (st == CC_OK)
        st = store_chat(g, m->chat_id, &chat);
    if (st == CC_ERR_UNAVAILABLE) {
        *retry_ms = 1000;
        v = CC_NATS_RETRY;
    } else if (st != CC_OK) {
        CC_ERROR("outbound: %s cannot be read (%s); dropped", msg->subject, cc_status_str(st));
        v = CC_NATS_TERM;
    } else if (!strcmp(m->delivery, "pending")) { /* else: sent or failed already */
        const struct channels *cs = channels_get(g);
        const Cc__V1__Channel *ch = channel_find(cs, chat->channel_id);
        if (ch)
            v = send_one(g, chat, ch, m, msg->delivered, retry_ms);
        else
            settle(g, chat, m, "failed", "the channel was deleted", NULL);
        channels_put(cs);
    }
    if (m)
        cc__v1__chat_message__free_unpacked(m, NULL);
    if (chat)
        cc__v1__chat__free_unpacked(chat, NULL);
    if (out)
        cc__v1__outbound__free_unpacked(out, NULL);
    return v;
}

enum cc_status outbound_start(struct chatgw *g)
{
    static const struct cc_nats_consumer consumer = {
        CHAT_OUT_STREAM, SUBJ_CHAT_OUT_ANY, "chat-out", SEND_TIMEOUT_MS * 3, -1, 16};
    return cc_nats_consume(g->nats, &consumer, on_outbound, g);
}
