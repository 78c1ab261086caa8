/* store.c - chats and their messages in Redis (docs/chat-gateway.md):
 *   {cc}:chat:<id>            hash: the chat's fields, times in ms
 *   {cc}:chatmsgs:<id>        sorted set: message ids by order (arrival time)
 *   {cc}:msg:<id>             hash: chat, pb (the packed ChatMessage)
 *   {cc}:pmsg:<channel>:<pid> "<chat> <message>": a provider message stored once
 *   {cc}:conv:<channel>:<c>   the open chat of a conversation
 *   {cc}:convlast:<channel>:<c> its latest chat
 *   {cc}:convseq:<channel>:<c> sorted set: its messages of the last hour by order
 *                             (a late one joins the chat of the next one)
 *   {cc}:chats:all / :open    every chat by creation / the chats not completed
 *   {cc}:chats:active:<agent> / :closed:<agent>  the agent's lists
 *   {cc}:chatread:<id>        the order of the latest message its agent has
 *                             read (chats.c: the inbox's unread count)
 *   {cc}:records:pending      sorted set: chats whose latest version is not in
 *                             RECORDS yet, by change time (records.c)
 * Every change of a chat's fields bumps its `version` and sets `changed` in
 * the same script (inbound.lua, outbound.lua, chat_set.lua). */
#include "chatgw.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char inbound_lua[], outbound_lua[], chat_set_lua[];
static struct cc_redis_script inbound_script = CC_REDIS_SCRIPT("inbound", inbound_lua);
static struct cc_redis_script outbound_script = CC_REDIS_SCRIPT("outbound", outbound_lua);
static struct cc_redis_script chat_set_script = CC_REDIS_SCRIPT("chat_set", chat_set_lua);

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

void store_new_id(const char *prefix, char *out, size_t cap)
{
    unsigned char raw[12];
    char hex[2 * sizeof raw + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(out, cap, "%s%s", prefix, hex);
}

/* Packs `m` into a malloc'ed buffer; NULL when out of memory. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    if (buf)
        protobuf_c_message_pack(m, buf);
    return buf;
}

enum cc_status store_inbound(struct chatgw *g, const Cc__V1__Channel *ch, const char *conversation,
                             const struct customer *cust, const char *provider_message_id,
                             Cc__V1__ChatMessage *msg, struct stored *out)
{
    char kp[512], kconv[384], klast[384], kseq[384], order[32], now_s[24], new_chat[40];
    char pchat[64], pmsg[64], pmsgs[64], pmsg_ttl[16], last_ttl[16];
    size_t len;
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    int64_t now = cc_time_now_ms();
    memset(out, 0, sizeof *out);
    store_new_id("msg_", out->message_id, sizeof out->message_id);
    store_new_id("cht_", new_chat, sizeof new_chat);
    msg->id = out->message_id;
    uint8_t *pb = pack(&msg->base, &len);
    if (!pb)
        return CC_ERR_NOMEM;
    snprintf(kp, sizeof kp, KEY_PMSG, cc_tag(), ch->id, provider_message_id);
    snprintf(kconv, sizeof kconv, KEY_CONV, cc_tag(), ch->id, conversation);
    snprintf(klast, sizeof klast, KEY_CONVLAST, cc_tag(), ch->id, conversation);
    snprintf(kseq, sizeof kseq, KEY_CONVSEQ, cc_tag(), ch->id, conversation);
    snprintf(order, sizeof order, "%lld", (long long)msg->seq);
    snprintf(now_s, sizeof now_s, "%lld", (long long)now);
    cc_key_prefix(pchat, sizeof pchat, KEY_CHAT);
    cc_key_prefix(pmsg, sizeof pmsg, KEY_MSG);
    cc_key_prefix(pmsgs, sizeof pmsgs, KEY_CHATMSGS);
    snprintf(pmsg_ttl, sizeof pmsg_ttl, "%d", PMSG_TTL_S);
    snprintf(last_ttl, sizeof last_ttl, "%d", CONVLAST_TTL_S);
    const char *argv[] = {kp,
                          kconv,
                          klast,
                          cc_key_fixed(KEY_CHATS_ALL),
                          cc_key_fixed(KEY_CHATS_OPEN),
                          cc_key_fixed(KEY_RECORDS_PENDING),
                          kseq,
                          out->message_id,
                          (const char *)pb,
                          order,
                          new_chat,
                          now_s,
                          pchat,
                          pmsg,
                          pmsgs,
                          pmsg_ttl,
                          last_ttl,
                          "channel",
                          ch->id,
                          "source",
                          ch->type,
                          "queue",
                          ch->queue_id ? ch->queue_id : "",
                          "state",
                          "new",
                          "name",
                          cust->name ? cust->name : "",
                          "from",
                          conversation,
                          "to",
                          ch->name ? ch->name : "",
                          "created",
                          now_s,
                          "conv",
                          conversation,
                          "enqueued",
                          "0",
                          "first_in",
                          now_s,
                          "phone",
                          cust->phone ? cust->phone : "",
                          "email",
                          cust->email ? cust->email : "",
                          "language",
                          cust->language ? cust->language : "",
                          "preview",
                          msg->text ? msg->text : ""};
    size_t lens[sizeof argv / sizeof *argv];
    for (size_t i = 0; i < sizeof argv / sizeof *argv; i++)
        lens[i] = i == 8 ? len : strlen(argv[i]); /* argv[8]: the packed message */
    enum cc_status st = cc_redis_acquire(g->redis, &c);
    if (st == CC_OK) {
        st = cc_redis_eval(c, &inbound_script, &rep, 7, (int)(sizeof argv / sizeof *argv), argv,
                           lens);
        cc_redis_release(g->redis, c);
    }
    if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 6))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        redisReply **e = rep->element;
        snprintf(out->chat_id, sizeof out->chat_id, "%s", e[0]->str);
        snprintf(out->message_id, sizeof out->message_id, "%s", e[1]->str);
        out->opened = e[2]->integer == 1, out->created = e[3]->integer == 1;
        out->enqueued = !strcmp(e[4]->str, "1");
        snprintf(out->agent_id, sizeof out->agent_id, "%s", e[5]->str);
    }
    msg->id = NULL;
    free(pb);
    free_reply(rep);
    return st;
}

enum cc_status store_outbound(struct chatgw *g, Cc__V1__ChatMessage *m)
{
    char kchat[160], kmsgs[160], kmsg[160], order[32], now[24];
    size_t len;
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    uint8_t *pb = pack(&m->base, &len);
    if (!pb)
        return CC_ERR_NOMEM;
    snprintf(kchat, sizeof kchat, KEY_CHAT, cc_tag(), m->chat_id);
    snprintf(kmsgs, sizeof kmsgs, KEY_CHATMSGS, cc_tag(), m->chat_id);
    snprintf(kmsg, sizeof kmsg, KEY_MSG, cc_tag(), m->id);
    snprintf(order, sizeof order, "%lld", (long long)m->seq);
    snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
    const char *bot = m->author && !strcmp(m->author, "bot") ? "1" : "0";
    const char *argv[] = {
        kchat,      kmsgs, kmsg, cc_key_fixed(KEY_RECORDS_PENDING), m->id, (const char *)pb, order,
        m->chat_id, now,   bot};
    size_t lens[] = {strlen(kchat), strlen(kmsgs),
                     strlen(kmsg),  strlen(cc_key_fixed(KEY_RECORDS_PENDING)),
                     strlen(m->id), len,
                     strlen(order), strlen(m->chat_id),
                     strlen(now),   1};
    enum cc_status st = cc_redis_acquire(g->redis, &c);
    if (st == CC_OK) {
        st = cc_redis_eval(c, &outbound_script, &rep, 4, 10, argv, lens);
        cc_redis_release(g->redis, c);
    }
    if (st == CC_OK && rep->type == REDIS_REPLY_INTEGER && rep->integer < 0)
        st = CC_ERR_CONFLICT;
    free(pb);
    free_reply(rep);
    return st;
}

enum cc_status store_message(struct chatgw *g, const char *id, Cc__V1__ChatMessage **out)
{
    redisReply *rep;
    *out = NULL;
    enum cc_status st = cc_redis_run(g->redis, &rep, "HMGET " KEY_MSG " chat pb", cc_tag(), id);
    if (st == CC_OK && (rep->element[0]->type != REDIS_REPLY_STRING ||
                        rep->element[1]->type != REDIS_REPLY_STRING))
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK && !(*out = cc__v1__chat_message__unpack(NULL, rep->element[1]->len,
                                                             (uint8_t *)rep->element[1]->str)))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK && !(*out)->chat_id && !((*out)->chat_id = strdup(rep->element[0]->str)))
        st = CC_ERR_NOMEM;
    if (st != CC_OK && *out) {
        cc__v1__chat_message__free_unpacked(*out, NULL);
        *out = NULL;
    }
    free_reply(rep);
    return st;
}

enum cc_status store_message_put(struct chatgw *g, const Cc__V1__ChatMessage *m)
{
    size_t len;
    redisReply *rep;
    uint8_t *pb = pack(&m->base, &len);
    if (!pb)
        return CC_ERR_NOMEM;
    enum cc_status st =
        cc_redis_run_bin(g->redis, &rep, "HSET " KEY_MSG " pb %b", cc_tag(), m->id, pb, len);
    free_reply(rep);
    free(pb);
    return st;
}

enum cc_status store_messages(struct chatgw *g, const char *chat_id, Cc__V1__ChatMessage ***out,
                              size_t *n)
{
    redisReply *ids;
    *out = NULL, *n = 0;
    enum cc_status st =
        cc_redis_run(g->redis, &ids, "ZRANGE " KEY_CHATMSGS " 0 -1", cc_tag(), chat_id);
    if (st == CC_OK && !(*out = calloc(ids->elements + 1, sizeof **out)))
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < ids->elements; i++)
        if (store_message(g, ids->element[i]->str, &(*out)[*n]) == CC_OK)
            (*n)++;
    free_reply(ids);
    return st;
}

/* --- chats ----------------------------------------------------------------------------- */

/* A stored time (ms) as RFC 3339, or NULL when unset. */
static char *time_field(const char *ms)
{
    char buf[32];
    if (!ms || !*ms || !strcmp(ms, "0"))
        return NULL;
    cc_time_format_ms(strtoll(ms, NULL, 10), buf, sizeof buf);
    return strdup(buf);
}

static char *str_field(const char *v)
{
    return v && *v ? strdup(v) : NULL;
}

enum cc_status store_chat(struct chatgw *g, const char *id, Cc__V1__Chat **out)
{
    return store_chat_version(g, id, out, NULL);
}

/* Copies the version and change time of a chat's HMGET answer into `v`. */
static void version_field(redisReply *const *e, struct chat_version *v)
{
    if (!v)
        return;
    v->version = e[0]->type == REDIS_REPLY_STRING ? strtoll(e[0]->str, NULL, 10) : 0;
    v->changed_ms = e[1]->type == REDIS_REPLY_STRING ? strtoll(e[1]->str, NULL, 10) : 0;
}

enum cc_status store_chat_version(struct chatgw *g, const char *id, Cc__V1__Chat **out,
                                  struct chat_version *ver)
{
    static const char *const fields[] = {"channel", "source", "queue", "agent", "state", "name",
                                         "from", "to", "start", "end", "result_id",
                                         "result_details", "account_id", "contact_id",
                                         "activity_id", "case_id", "created", "offered_to",
                                         "queue_name", "language", "email", "agent_name",
                                         "version", "changed"};
    enum { N = sizeof fields / sizeof *fields };
    char key[160];
    const char *argv[N + 2] = {"HMGET", key};
    redisReply *rep;
    struct cc_redis_conn *c;
    *out = NULL;
    snprintf(key, sizeof key, KEY_CHAT, cc_tag(), id);
    memcpy(argv + 2, fields, sizeof fields);
    enum cc_status st = cc_redis_acquire(g->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_cmdv(c, &rep, N + 2, argv, NULL);
    cc_redis_release(g->redis, c);
    if (st == CC_OK && (rep->elements != N || rep->element[4]->type != REDIS_REPLY_STRING))
        st = CC_ERR_NOT_FOUND;
    Cc__V1__Chat *ch = st == CC_OK ? calloc(1, sizeof *ch) : NULL;
    Cc__V1__ChatLinks *links = st == CC_OK ? calloc(1, sizeof *links) : NULL;
    if (st == CC_OK && (!ch || !links))
        st = CC_ERR_NOMEM;
    if (st == CC_OK) {
        const char *v[N];
        for (int i = 0; i < N; i++)
            v[i] = rep->element[i]->type == REDIS_REPLY_STRING ? rep->element[i]->str : NULL;
        cc__v1__chat__init(ch);
        cc__v1__chat_links__init(links);
        ch->id = strdup(id);
        ch->channel_id = str_field(v[0]), ch->source = str_field(v[1]);
        ch->queue_id = str_field(v[2]), ch->agent_id = str_field(v[3]);
        ch->state = str_field(v[4]), ch->name = str_field(v[5]), ch->from = str_field(v[6]);
        ch->to = str_field(v[7]), ch->start_time = time_field(v[8]);
        ch->end_time = time_field(v[9]), ch->result_id = str_field(v[10]);
        ch->result_details = str_field(v[11]);
        links->account_id = str_field(v[12]), links->contact_id = str_field(v[13]);
        links->activity_id = str_field(v[14]), links->case_id = str_field(v[15]);
        ch->created_at = time_field(v[16]), ch->offered_to = str_field(v[17]);
        ch->queue_name = str_field(v[18]), ch->language = str_field(v[19]);
        ch->email = str_field(v[20]), ch->agent_name = str_field(v[21]);
        version_field(rep->element + 22, ver);
        ch->links = links;
        *out = ch;
    } else {
        free(ch);
        free(links);
    }
    free_reply(rep);
    return st;
}

enum cc_status store_chat_set(struct chatgw *g, const char *id, const char *const *pairs,
                              size_t npairs)
{
    enum { MAX_PAIRS = 16 };
    char key[160], now[24];
    const char *argv[4 + 2 * MAX_PAIRS];
    size_t lens[4 + 2 * MAX_PAIRS];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    if (npairs > MAX_PAIRS)
        return CC_ERR_INVALID;
    snprintf(key, sizeof key, KEY_CHAT, cc_tag(), id);
    snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
    argv[0] = key, argv[1] = cc_key_fixed(KEY_RECORDS_PENDING), argv[2] = id, argv[3] = now;
    for (size_t i = 0; i < 2 * npairs; i++)
        argv[4 + i] = pairs[i] ? pairs[i] : "";
    for (size_t i = 0; i < 4 + 2 * npairs; i++)
        lens[i] = strlen(argv[i]);
    enum cc_status st = cc_redis_acquire(g->redis, &c);
    if (st == CC_OK) {
        st = cc_redis_eval(c, &chat_set_script, &rep, 2, (int)(4 + 2 * npairs), argv, lens);
        cc_redis_release(g->redis, c);
    }
    if (st == CC_OK && (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0))
        st = rep->type == REDIS_REPLY_INTEGER ? CC_ERR_NOT_FOUND : CC_ERR_INTERNAL;
    free_reply(rep);
    return st;
}
