/* inbound.c - customer messages from JetStream into chats: what webhooks
 * and the web-chat widget stored in CHAT_IN is applied here, by a durable
 * consumer the replicas share. Storing is idempotent per provider message
 * id, so a redelivery (a replica killed before its ack) changes nothing; a
 * chat opened by a message is handed to skill-router until that succeeds. */
#include "chatgw.h"
#include "provider.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUTER_TIMEOUT_MS 5000

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

enum cc_status inbound_publish(struct chatgw *g, const Cc__V1__Inbound *in)
{
    char subject[160], msg_id[512];
    size_t len = protobuf_c_message_get_packed_size(&in->base);
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        return CC_ERR_NOMEM;
    protobuf_c_message_pack(&in->base, buf);
    snprintf(subject, sizeof subject, SUBJ_CHAT_IN, in->channel_id);
    snprintf(msg_id, sizeof msg_id, "%s:%s:%s", in->channel_id, in->kind,
             in->provider_message_id);
    enum cc_status st = cc_nats_js_publish(g->nats, subject, buf, len, msg_id, 5000, NULL);
    free(buf);
    return st;
}

/* Hands chat `id` to skill-router (idempotent on the chat id) from what its
 * record holds, and marks it handed over. */
static enum cc_status enqueue(struct chatgw *g, const char *id)
{
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    Cc__V1__Customer cust = CC__V1__CUSTOMER__INIT;
    ProtobufCMessage *rep = NULL;
    char customer[320], why[256] = "";
    redisReply *r;
    enum cc_status st = cc_redis_run(
        g->redis, &r, "HMGET " KEY_CHAT " channel queue from name phone preview source", cc_tag(),
        id);
    if (st != CC_OK || r->element[0]->type != REDIS_REPLY_STRING) {
        if (r)
            freeReplyObject(r);
        return st == CC_OK ? CC_ERR_NOT_FOUND : st;
    }
    redisReply **e = r->element;
    snprintf(customer, sizeof customer, "%s:%s", e[0]->str, e[2]->str ? e[2]->str : "");
    cust.id = customer, cust.name = e[3]->len ? e[3]->str : NULL;
    cust.phone = e[4]->type == REDIS_REPLY_STRING && e[4]->len ? e[4]->str : NULL;
    ix.id = CC_PB_STR(id), ix.kind = CC_PB_STR("chat"), ix.queue_id = e[1]->str;
    ix.customer = &cust, ix.chat_id = CC_PB_STR(id);
    ix.preview = e[5]->type == REDIS_REPLY_STRING && e[5]->len ? e[5]->str : NULL;
    ix.source = e[6]->type == REDIS_REPLY_STRING ? e[6]->str : NULL;
    st = cc_nats_request(g->nats, SUBJ_ROUTER_ENQUEUE, &ix.base, &cc__v1__interaction__descriptor,
                         ROUTER_TIMEOUT_MS, &rep, why, sizeof why);
    freeReplyObject(r);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    if (st != CC_OK) {
        CC_WARN("inbound: chat %s not handed to skill-router yet: %s", id,
                why[0] ? why : cc_status_str(st));
        return st;
    }
    cc_redis_do(g->redis, "HSET " KEY_CHAT " enqueued 1", cc_tag(), id);
    cc_redis_do(g->redis, "ZREM " KEY_CHATS_UNROUTED " %s", cc_tag(), id);
    return CC_OK;
}

/* Chats not handed to skill-router yet ({cc}:chats:unrouted: it was down
 * or refused): tried again every UNROUTED_MS by every replica, so that the
 * messages waiting for it are not held in CHAT_IN meanwhile. */
#define UNROUTED_MS 1000
static void *unrouted_sweeper(void *arg)
{
    struct chatgw *g = arg;
    while (!__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE)) {
        redisReply *due = NULL;
        if (cc_redis_run(g->redis, &due,
                         "ZRANGEBYSCORE " KEY_CHATS_UNROUTED " -inf %lld LIMIT 0 100", cc_tag(),
                         (long long)cc_time_now_ms() - UNROUTED_MS) == CC_OK)
            for (size_t i = 0; i < due->elements; i++)
                if (enqueue(g, due->element[i]->str) == CC_ERR_NOT_FOUND)
                    cc_redis_do(g->redis, "ZREM " KEY_CHATS_UNROUTED " %s", cc_tag(),
                                due->element[i]->str);
        free_reply(due);
        usleep(UNROUTED_MS * 1000);
    }
    return NULL;
}

/* The chat message of a customer message event. */
static void to_message(const Cc__V1__Inbound *in, Cc__V1__ChatMessage *m, char *text, size_t cap)
{
    cc__v1__chat_message__init(m);
    m->direction = CC_PB_STR("in"), m->author = CC_PB_STR("customer");
    m->text = in->text;
    if (!m->text && in->note) { /* what we cannot show is noted, not dropped */
        snprintf(text, cap, "[%s]", in->note);
        m->text = text;
    }
    m->n_attachments = in->n_attachments, m->attachments = in->attachments;
    m->provider_message_id = in->provider_message_id;
    m->created_at = in->received_at;
    m->delivery = CC_PB_STR("received");
    m->has_seq = 1, m->seq = in->order;
}

/* Keeps the name of a new chat's queue on the chat (agents may not read
 * queues themselves); best effort: the id is there anyway. */
static void name_queue(struct chatgw *g, const char *chat_id, const char *queue_id)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller service = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    service.user_id = CC_PB_STR("chat-gateway"), service.role = CC_PB_STR("admin");
    req.caller = &service, req.id = CC_PB_STR(queue_id);
    if (cc_nats_request(g->nats, SUBJ_REGISTRY_QUEUES_GET, &req.base,
                        &cc__v1__object_reply__descriptor, 2000, &rep, NULL, 0) == CC_OK) {
        const Cc__V1__ObjectReply *o = (const Cc__V1__ObjectReply *)rep;
        Cc__V1__Queue *q = o->has_body ? cc__v1__queue__unpack(NULL, o->body.len, o->body.data)
                                       : NULL;
        const char *set[] = {"queue_name", q ? q->name : NULL};
        if (q && q->name)
            records_chat_set(g, chat_id, set, 1);
        if (q)
            cc__v1__queue__free_unpacked(q, NULL);
    }
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
}

/* A new chat whose provider names no one (Messenger's webhooks carry only
 * the PSID) gets the name of the customer's profile where the provider
 * answers it (Messenger's Graph API with the page's "User Profile" access);
 * best effort, at most PROFILE_TIMEOUT_MS. */
#define PROFILE_TIMEOUT_MS 2000
static void name_from_profile(struct chatgw *g, const char *chat_id, const Cc__V1__Channel *ch,
                              const Cc__V1__Inbound *in)
{
    struct provider_request req = PROVIDER_REQUEST_INIT;
    enum provider_type type = provider_type_parse(ch->type);
    char why[256], *body = NULL, *name = NULL;
    size_t len = 0;
    long status = 0;
    if (in->customer_name && *in->customer_name)
        return;
    if (provider_build_profile(type, ch, in->conversation, &req, why, sizeof why) != CC_OK)
        return;
    http_perform(&req, PROFILE_TIMEOUT_MS, 16384, &status, &body, &len);
    if (status >= 200 && status <= 299)
        name = provider_parse_profile(type, body, len);
    else
        CC_INFO("profile of %s: %s -> %ld (not allowed or unavailable)", chat_id, req.log_url,
                status);
    provider_request_release(&req);
    free(body);
    if (name) {
        const char *set[] = {"name", name};
        records_chat_set(g, chat_id, set, 1);
        free(name);
    }
}

/* Fetches the message's files from the provider, unless it is stored
 * already. Returns 0, or -1 when a provider could not answer now (retry). */
#define MEDIA_TRIES 5
static int fetch_media(struct chatgw *g, const Cc__V1__Channel *ch, Cc__V1__Inbound *in,
                       int delivered)
{
    redisReply *rep;
    int stored = 0;
    if (!in->n_attachments)
        return 0;
    if (cc_redis_run(g->redis, &rep, "EXISTS " KEY_PMSG, cc_tag(), ch->id,
                     in->provider_message_id) == CC_OK)
        stored = rep->integer == 1;
    free_reply(rep);
    for (size_t i = 0; !stored && i < in->n_attachments; i++) {
        Cc__V1__Attachment *a = in->attachments[i];
        if (a->file_id || !a->provider_ref || !strcmp(ch->type, "webchat"))
            continue;
        if (media_fetch(g, ch, a) != CC_ERR_UNAVAILABLE)
            continue; /* stored, or marked unavailable: the message goes on */
        if (delivered < MEDIA_TRIES)
            return -1;
        media_unavailable(g, a, "the provider did not answer");
    }
    return 0;
}

static enum cc_nats_verdict on_message(struct chatgw *g, const Cc__V1__Channel *ch,
                                       Cc__V1__Inbound *in, int delivered, int64_t *retry_ms)
{
    Cc__V1__ChatMessage m;
    struct stored s;
    char note[160];
    if (fetch_media(g, ch, in, delivered) != 0) {
        *retry_ms = 2000;
        return CC_NATS_RETRY;
    }
    to_message(in, &m, note, sizeof note);
    struct customer cust = {in->customer_name, in->customer_phone, in->customer_email,
                            in->customer_language};
    if (store_inbound(g, ch, in->conversation, &cust, in->provider_message_id, &m, &s) != CC_OK) {
        *retry_ms = 1000;
        return CC_NATS_RETRY;
    }
    if (s.opened) {
        records_publish(g, s.chat_id); /* version 1 */
        name_queue(g, s.chat_id, ch->queue_id);
        name_from_profile(g, s.chat_id, ch, in);
        identify_chat(g, s.chat_id, ch, in->conversation, in->customer_phone);
    }
    if (!s.enqueued) { /* the sweeper tries again when skill-router cannot take it now */
        cc_redis_do(g->redis, "ZADD " KEY_CHATS_UNROUTED " NX %lld %s", cc_tag(),
                    (long long)cc_time_now_ms(), s.chat_id);
        enqueue(g, s.chat_id);
    }
    if (s.created) {
        Cc__V1__Chat *c = NULL;
        Cc__V1__ChatMessage *stored = NULL;
        if (store_chat(g, s.chat_id, &c) == CC_OK && store_message(g, s.message_id, &stored) == CC_OK)
            chats_publish_message(g, c, stored);
        if (c)
            cc__v1__chat__free_unpacked(c, NULL);
        if (stored)
            cc__v1__chat_message__free_unpacked(stored, NULL);
        cc_metric_add(g->m_messages, "direction=\"in\"", 1);
    }
    return CC_NATS_ACK;
}

/* The stored message a provider id names ({cc}:pmsg), or NULL. */
static Cc__V1__ChatMessage *by_provider_id(struct chatgw *g, const char *channel, const char *pid)
{
    redisReply *rep;
    Cc__V1__ChatMessage *m = NULL;
    char msg[64] = "";
    if (pid && cc_redis_run(g->redis, &rep, "GET " KEY_PMSG, cc_tag(), channel, pid) == CC_OK &&
        rep->type == REDIS_REPLY_STRING) {
        const char *sp = strchr(rep->str, ' ');
        if (sp)
            snprintf(msg, sizeof msg, "%s", sp + 1);
    }
    free_reply(rep);
    if (msg[0])
        store_message(g, msg, &m);
    return m;
}

/* An edit replaces the text of the customer's message; a failed delivery
 * marks our message failed with the provider's reason. */
static void on_change(struct chatgw *g, const Cc__V1__Inbound *in)
{
    int edit = !strcmp(in->kind, "edit");
    Cc__V1__ChatMessage *m = by_provider_id(g, in->channel_id,
                                            edit ? in->provider_message_id : in->refers_to);
    if (!m)
        return;
    int changed = 0;
    if (edit && strcmp(m->direction, "in") == 0) {
        free(m->text);
        m->text = in->text ? strdup(in->text) : NULL;
        changed = 1;
    } else if (!edit && in->receipt && !strcmp(in->receipt, "failed") &&
               strcmp(m->direction, "out") == 0) {
        free(m->delivery);
        free(m->delivery_error);
        m->delivery = strdup("failed");
        m->delivery_error = in->text ? strdup(in->text) : NULL;
        cc_metric_add(g->m_delivery_failures, NULL, 1);
        changed = 1;
    }
    Cc__V1__Chat *c = NULL;
    if (changed && store_message_put(g, m) == CC_OK && store_chat(g, m->chat_id, &c) == CC_OK)
        chats_publish_message(g, c, m);
    if (c)
        cc__v1__chat__free_unpacked(c, NULL);
    cc__v1__chat_message__free_unpacked(m, NULL);
}

static enum cc_nats_verdict on_inbound(void *arg, const struct cc_nats_msg *msg, int64_t *retry_ms)
{
    struct chatgw *g = arg;
    Cc__V1__Inbound *in = cc__v1__inbound__unpack(NULL, msg->len, msg->data);
    enum cc_nats_verdict v = CC_NATS_ACK;
    if (!in || !in->channel_id || !in->kind || !in->provider_message_id) {
        CC_ERROR("inbound: unreadable event on %s dropped", msg->subject);
        if (in)
            cc__v1__inbound__free_unpacked(in, NULL);
        return CC_NATS_TERM;
    }
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(g, in->channel_id, &ch);
    if (!ch) {
        CC_WARN("inbound: channel %s is gone; its message %s is dropped", in->channel_id,
                in->provider_message_id);
    } else if (!strcmp(in->kind, "message") || !strcmp(in->kind, "unsupported")) {
        if (in->conversation)
            v = on_message(g, ch, in, msg->delivered, retry_ms);
    } else {
        on_change(g, in);
    }
    channels_put(cs);
    cc__v1__inbound__free_unpacked(in, NULL);
    return v;
}

/* Tells the monitors chat `id` rings for another agent (or nobody) now. */
static void publish_brief(struct chatgw *g, const char *id)
{
    Cc__V1__Chat *ch = NULL;
    if (store_chat(g, id, &ch) != CC_OK)
        return;
    chats_publish_changed(g, ch);
    cc__v1__chat__free_unpacked(ch, NULL);
}

/* An offer of a chat: it rings for that agent now (a new version of the
 * chat); the first one also measures the time from its first message. */
static void on_offer(void *arg, const struct cc_nats_msg *msg)
{
    struct chatgw *g = arg;
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, msg->len, msg->data);
    redisReply *rep = NULL;
    if (o && o->chat_id && o->agent_id) {
        const char *set[] = {"offered_to", o->agent_id};
        if (records_chat_set(g, o->chat_id, set, 1) == CC_OK)
            publish_brief(g, o->chat_id);
    }
    if (o && o->chat_id && o->agent_id &&
        cc_redis_run(g->redis, &rep, "HGET " KEY_CHAT " first_in", cc_tag(), o->chat_id) == CC_OK &&
        rep->type == REDIS_REPLY_STRING) {
        int64_t first = strtoll(rep->str, NULL, 10);
        free_reply(rep);
        rep = NULL;
        if (first > 0 && cc_redis_run(g->redis, &rep, "HSET " KEY_CHAT " first_in 0", cc_tag(),
                                      o->chat_id) == CC_OK)
            cc_metric_observe(g->m_offer_latency, NULL,
                              (double)(cc_time_now_ms() - first) / 1000.0);
    }
    free_reply(rep);
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

/* An offer withdrawn (answered by another agent, the chat ended): the chat
 * no longer rings for that agent. */
static void on_withdrawn(void *arg, const struct cc_nats_msg *msg)
{
    struct chatgw *g = arg;
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, msg->len, msg->data);
    redisReply *rep = NULL;
    if (o && o->chat_id && o->agent_id &&
        cc_redis_run(g->redis, &rep, "HGET " KEY_CHAT " offered_to", cc_tag(), o->chat_id) ==
            CC_OK &&
        rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, o->agent_id)) {
        const char *set[] = {"offered_to", ""};
        if (records_chat_set(g, o->chat_id, set, 1) == CC_OK)
            publish_brief(g, o->chat_id);
    }
    free_reply(rep);
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

enum cc_status inbound_start(struct chatgw *g)
{
    static const char *in_subjects[] = {SUBJ_CHAT_IN_ANY}, *out_subjects[] = {SUBJ_CHAT_OUT_ANY};
    static const struct cc_nats_stream streams[] = {
        {CHAT_IN_STREAM, in_subjects, 1, 30 * 86400, 3600, 0},
        {CHAT_OUT_STREAM, out_subjects, 1, 30 * 86400, 3600, 0},
    };
    static const struct cc_nats_consumer consumer = {
        CHAT_IN_STREAM, SUBJ_CHAT_IN_ANY, "chat-in", 30000, -1, 32};
    enum cc_status st = cc_nats_stream_ensure(g->nats, &streams[0]);
    if (st == CC_OK)
        st = cc_nats_stream_ensure(g->nats, &streams[1]);
    if (st == CC_OK)
        st = cc_nats_consume(g->nats, &consumer, on_inbound, g);
    if (st == CC_OK)
        st = cc_nats_subscribe(g->nats, SUBJ_ROUTER_OFFER_ALL, "chat-gateway", on_offer, g);
    if (st == CC_OK)
        st = cc_nats_subscribe(g->nats, SUBJ_ROUTER_OFFER_WITHDRAWN_ALL, "chat-gateway",
                               on_withdrawn, g);
    if (st == CC_OK && pthread_create(&g->sweeper, NULL, unrouted_sweeper, g) != 0)
        st = CC_ERR_NOMEM;
    g->sweeping = st == CC_OK;
    return st;
}

void inbound_stop(struct chatgw *g)
{
    __atomic_store_n(&g->stopping, 1, __ATOMIC_RELEASE);
    if (g->sweeping)
        pthread_join(g->sweeper, NULL);
    g->sweeping = 0;
}
