/* chats.c - the chat subjects api-gateway calls for agents and supervisors
 * (SPEC section 6): lists, a chat and its messages, accept / decline through
 * skill-router, state, result and links, End chat, and the agent's messages,
 * stored as pending and queued in CHAT_OUT for delivery (web chat: delivered
 * at once to the customer's event stream). */
#include "chatgw.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_time.h"
#include "provider.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROUTER_TIMEOUT_MS 5000
#define ACCEPT_SETTLE_MS 500 /* an accept unrecorded this long is checked with skill-router */
#define ACCEPT_FORGET_MS (10 * 60 * 1000) /* ... and forgotten after this (no offer rings so long) */
#define CLOSED_KEPT 10
#define MAX_TEXT 4096
#define HISTORY_MAX 100
#define PREVIEW_MAX 160 /* bytes of the latest message's text a list item carries */
#define PREVIEW_SKIP_BOT 2 /* bot messages a list item's preview looks past */
#define READ_MARK_TTL_S (40 * 86400)

extern const char chat_close_lua[];
static struct cc_redis_script close_script = CC_REDIS_SCRIPT("chat_close", chat_close_lua);

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

static int is_staff(const Cc__V1__Caller *c)
{
    return c->role && (!strcmp(c->role, "admin") || !strcmp(c->role, "supervisor"));
}

static int same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* --- events ----------------------------------------------------------------------------- */

static void publish_to(struct chatgw *g, const char *kind, const char *key,
                       const ProtobufCMessage *msg)
{
    char subject[192];
    if (!key || !*key)
        return;
    snprintf(subject, sizeof subject, "%s.%s", kind, key);
    cc_nats_publish(g->nats, subject, msg);
}

static int webchat(const Cc__V1__Chat *c)
{
    return same(c->source, "webchat");
}

void chats_publish_changed(struct chatgw *g, const Cc__V1__Chat *c)
{
    Cc__V1__Chat brief = CC__V1__CHAT__INIT;
    brief.id = c->id, brief.queue_id = c->queue_id, brief.state = c->state;
    brief.agent_id = c->agent_id, brief.offered_to = c->offered_to;
    publish_to(g, SUBJ_CHAT_CHANGED_PREFIX, c->queue_id, &brief.base);
}

void chats_customer_view(const Cc__V1__Chat *c, Cc__V1__Chat *out)
{
    cc__v1__chat__init(out);
    out->id = c->id, out->state = c->state, out->agent_name = c->agent_name;
    out->start_time = c->start_time, out->end_time = c->end_time, out->created_at = c->created_at;
    out->language = c->language;
}

void chats_publish_updated(struct chatgw *g, const Cc__V1__Chat *c)
{
    chats_publish_changed(g, c);
    publish_to(g, SUBJ_CHAT_UPDATED_PREFIX, c->agent_id, &c->base);
    if (webchat(c)) { /* the customer sees what concerns them, never the record's notes */
        Cc__V1__Chat view;
        chats_customer_view(c, &view);
        publish_to(g, SUBJ_WEBCHAT_CHAT_UPDATED_PREFIX, c->from, &view.base);
    }
}

void chats_publish_message(struct chatgw *g, const Cc__V1__Chat *c, const Cc__V1__ChatMessage *m)
{
    publish_to(g, SUBJ_CHAT_MESSAGE_PREFIX, c->agent_id, &m->base);
    if (webchat(c))
        publish_to(g, SUBJ_WEBCHAT_MESSAGE_PREFIX, c->from, &m->base);
}

/* --- helpers ---------------------------------------------------------------------------- */

/* Who may read chat `c`: its agent, the agent it rings for, an admin, a
 * supervisor of its queue (SPEC section 8: their assigned queues unless
 * the switch says otherwise). */
static int may_read(struct chatgw *g, const Cc__V1__Caller *who, const Cc__V1__Chat *c)
{
    struct cc_queue_scope scope;
    if (same(who->user_id, c->agent_id) || same(who->user_id, c->offered_to))
        return 1;
    if (!is_staff(who) || cc_queue_scope(g->nats, who, &scope) != CC_OK)
        return 0;
    int in = cc_queue_scope_has(&scope, c->queue_id);
    cc_queue_scope_release(&scope);
    return in;
}

/* Asks skill-router `verb` about the chat's interaction for the caller. */
static enum cc_status router(struct chatgw *g, const char *verb, const Cc__V1__Caller *caller,
                             const char *chat_id, char *why, size_t whycap)
{
    Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
    ProtobufCMessage *rep = NULL;
    char subject[64];
    snprintf(subject, sizeof subject, SUBJ_ROUTER_VERB, verb);
    a.caller = (Cc__V1__Caller *)caller, a.interaction_id = CC_PB_STR(chat_id);
    enum cc_status st = cc_nats_request(g->nats, subject, &a.base, &cc__v1__interaction__descriptor,
                                        ROUTER_TIMEOUT_MS, &rep, why, whycap);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

/* --- verbs ------------------------------------------------------------------------------ */

struct call {
    struct chatgw *g;
    const struct cc_nats_msg *m;
    const Cc__V1__ChatRequest *req;
    const Cc__V1__Caller *who;
    Cc__V1__Chat *chat; /* the chat named, loaded */
    char why[256];
};

static enum cc_status fail(struct call *c, enum cc_status st, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
    return st;
}

/* Reloads the chat, answers it and tells its followers it changed. */
static enum cc_status answer_changed(struct call *c)
{
    Cc__V1__Chat *fresh;
    enum cc_status st = store_chat(c->g, c->chat->id, &fresh);
    if (st != CC_OK)
        return st;
    chats_publish_updated(c->g, fresh);
    cc_nats_respond(c->g->nats, c->m, &fresh->base);
    cc__v1__chat__free_unpacked(fresh, NULL);
    return CC_OK;
}

static enum cc_status do_get(struct call *c)
{
    if (!may_read(c->g, c->who, c->chat))
        return fail(c, CC_ERR_FORBIDDEN, "not your chat");
    cc_nats_respond(c->g->nats, c->m, &c->chat->base);
    return CC_OK;
}

/* The name customers see for agent `id`: the first name, else the login;
 * "" when agent-registry cannot say now. */
static void agent_display_name(struct chatgw *g, const char *id, char *out, size_t cap)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller service = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    out[0] = '\0';
    service.user_id = CC_PB_STR("chat-gateway"), service.role = CC_PB_STR("admin");
    req.caller = &service, req.id = CC_PB_STR(id);
    if (cc_nats_request(g->nats, SUBJ_REGISTRY_USERS_GET, &req.base,
                        &cc__v1__object_reply__descriptor, 2000, &rep, NULL, 0) == CC_OK) {
        const Cc__V1__ObjectReply *o = (const Cc__V1__ObjectReply *)rep;
        Cc__V1__User *u =
            o->has_body ? cc__v1__user__unpack(NULL, o->body.len, o->body.data) : NULL;
        if (u)
            snprintf(out, cap, "%s",
                     u->first_name && *u->first_name ? u->first_name
                     : u->login                      ? u->login
                                                     : "");
        if (u)
            cc__v1__user__free_unpacked(u, NULL);
    }
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
}

/* Records that agent `agent` holds chat `id` (skill-router connected them):
 * the chat's agent and start, the agent's open list. Safe to run again. */
static enum cc_status hold_chat(struct chatgw *g, const char *id, const char *agent)
{
    char now[24], name[128];
    snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
    agent_display_name(g, agent, name, sizeof name);
    const char *set[] = {"agent", agent, "start", now, "offered_to", "", "agent_name", name};
    enum cc_status st = records_chat_set(g, id, set, 4);
    if (st == CC_OK)
        st = cc_redis_do(g->redis, "SADD " KEY_CHATS_ACTIVE " %s", cc_tag(), agent, id);
    return st;
}

/* The accept is remembered before skill-router is asked and forgotten once
 * this service recorded it: a router answer lost or late (this replica
 * killed, skill-router slow) would leave the agent holding a chat nobody
 * shows them; chats_sweep_accepts finishes it. */
static enum cc_status do_accept(struct call *c)
{
    char pending[160];
    snprintf(pending, sizeof pending, "%s|%s", c->chat->id, c->who->user_id);
    enum cc_status st = cc_redis_do(c->g->redis, "ZADD " KEY_CHATS_ACCEPTING " %lld %s", cc_tag(),
                                    (long long)cc_time_now_ms(), pending);
    if (st == CC_OK)
        st = router(c->g, "accept", c->who, c->chat->id, c->why, sizeof c->why);
    if (st == CC_OK)
        st = hold_chat(c->g, c->chat->id, c->who->user_id);
    if (st == CC_OK || st == CC_ERR_CONFLICT || st == CC_ERR_NOT_FOUND || st == CC_ERR_FORBIDDEN)
        cc_redis_do(c->g->redis, "ZREM " KEY_CHATS_ACCEPTING " %s", cc_tag(),
                    pending); /* settled */
    return st == CC_OK ? answer_changed(c) : st;
}

void chats_sweep_accepts(struct chatgw *g)
{
    redisReply *due = NULL;
    int64_t now = cc_time_now_ms();
    cc_redis_do(g->redis, "ZREMRANGEBYSCORE " KEY_CHATS_ACCEPTING " -inf %lld", cc_tag(),
                (long long)(now - ACCEPT_FORGET_MS)); /* rang out long ago */
    if (cc_redis_run(g->redis, &due, "ZRANGEBYSCORE " KEY_CHATS_ACCEPTING " -inf %lld LIMIT 0 50",
                     cc_tag(), (long long)(now - ACCEPT_SETTLE_MS)) != CC_OK) {
        free_reply(due);
        return;
    }
    for (size_t i = 0; i < due->elements && !__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE); i++) {
        const char *pending = due->element[i]->str, *bar = strchr(pending, '|');
        char id[96];
        if (!bar || (size_t)(bar - pending) >= sizeof id) {
            cc_redis_do(g->redis, "ZREM " KEY_CHATS_ACCEPTING " %s", cc_tag(), pending);
            continue;
        }
        snprintf(id, sizeof id, "%.*s", (int)(bar - pending), pending);
        const char *agent = bar + 1;
        Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
        Cc__V1__Caller service = CC__V1__CALLER__INIT;
        ProtobufCMessage *rep = NULL;
        service.user_id = CC_PB_STR("chat-gateway"), service.role = CC_PB_STR("admin");
        a.caller = &service, a.interaction_id = CC_PB_STR(id);
        enum cc_status st =
            cc_nats_request(g->nats, SUBJ_ROUTER_GET, &a.base, &cc__v1__interaction__descriptor,
                            ROUTER_TIMEOUT_MS, &rep, NULL, 0);
        const Cc__V1__Interaction *ix = (const Cc__V1__Interaction *)rep;
        int unknown = st == CC_ERR_UNAVAILABLE || st == CC_ERR_TIMEOUT || st == CC_ERR_IO;
        int held = st == CC_OK && same(ix->state, "connected") && same(ix->agent_id, agent);
        int ringing = st == CC_OK && same(ix->state, "offered"); /* it may yet be taken */
        if (held && hold_chat(g, id, agent) == CC_OK) {
            CC_INFO("the accept of %s by %s finished after its answer was lost", id, agent);
            Cc__V1__Chat *ch = NULL;
            if (store_chat(g, id, &ch) == CC_OK) {
                chats_publish_updated(g, ch);
                cc__v1__chat__free_unpacked(ch, NULL);
            }
            cc_redis_do(g->redis, "ZREM " KEY_CHATS_ACCEPTING " %s", cc_tag(), pending);
        } else if (!held && !ringing && !unknown) { /* not held: nothing to finish */
            cc_redis_do(g->redis, "ZREM " KEY_CHATS_ACCEPTING " %s", cc_tag(), pending);
        }
        if (rep)
            protobuf_c_message_free_unpacked(rep, NULL);
        if (unknown)
            break; /* skill-router cannot say now: the next round */
    }
    free_reply(due);
}

static enum cc_status do_decline(struct call *c)
{
    enum cc_status st = router(c->g, "decline", c->who, c->chat->id, c->why, sizeof c->why);
    if (st == CC_OK && same(c->chat->offered_to, c->who->user_id)) {
        const char *set[] = {"offered_to", ""}; /* it rings for nobody now */
        st = records_chat_set(c->g, c->chat->id, set, 1);
    }
    if (st == CC_OK)
        cc_nats_respond(c->g->nats, c->m, &c->chat->base);
    return st;
}

/* Takes a completed chat out of the open lists (chat_close.lua); safe to
 * run again. */
static enum cc_status close_lists(struct chatgw *g, const Cc__V1__Chat *ch)
{
    char kactive[192], kclosed[192], kconv[512] = "", kept[8];
    struct cc_redis_conn *conn;
    redisReply *rep = NULL;
    snprintf(kactive, sizeof kactive, KEY_CHATS_ACTIVE, cc_tag(), ch->agent_id);
    snprintf(kclosed, sizeof kclosed, KEY_CHATS_CLOSED, cc_tag(), ch->agent_id);
    if (ch->channel_id && ch->from) /* the next message opens a new chat */
        snprintf(kconv, sizeof kconv, KEY_CONV, cc_tag(), ch->channel_id, ch->from);
    snprintf(kept, sizeof kept, "%d", CLOSED_KEPT);
    const char *argv[] = {kactive, kclosed, cc_key_fixed(KEY_CHATS_OPEN), kconv, ch->id, kept};
    enum cc_status st = cc_redis_acquire(g->redis, &conn);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(conn, &close_script, &rep, 4, 6, argv, NULL);
    free_reply(rep);
    cc_redis_release(g->redis, conn);
    return st;
}

/* The built-in closing message in `lang` (en when we have none in it). */
static const char *closing_default(const char *lang)
{
    static const struct {
        const char *lang, *text;
    } texts[] = {
        {"en", "The agent has ended the chat. Thank you for contacting us!"},
        {"pl", "Konsultant zakończył czat. Dziękujemy za kontakt!"},
        {"es", "El agente ha finalizado el chat. ¡Gracias por contactarnos!"},
        {"uk", "Оператор завершив чат. Дякуємо за звернення!"},
    };
    for (size_t i = 0; lang && i < sizeof texts / sizeof *texts; i++)
        if (!strncmp(lang, texts[i].lang, 2) && (!lang[2] || lang[2] == '-'))
            return texts[i].text;
    return texts[0].text;
}

/* Whether language tags `a` and `b` name the same language ("pl" and "pl-PL"). */
static int same_language(const char *a, const char *b)
{
    size_t la = strcspn(a, "-"), lb = strcspn(b, "-");
    return la == lb && !strncasecmp(a, b, la);
}

/* The closing message of chat `ch` into out: the queue's text in the chat's
 * language, else the queue's text for any language (language ""), else the
 * built-in one in the chat's language. */
static void closing_text(struct chatgw *g, const Cc__V1__Chat *ch, char *out, size_t cap)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller service = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    const char *lang = ch->language ? ch->language : "";
    snprintf(out, cap, "%s", closing_default(lang));
    if (!ch->queue_id)
        return;
    service.user_id = CC_PB_STR("chat-gateway"), service.role = CC_PB_STR("admin");
    req.caller = &service, req.id = ch->queue_id;
    if (cc_nats_request(g->nats, SUBJ_REGISTRY_QUEUES_GET, &req.base,
                        &cc__v1__object_reply__descriptor, 2000, &rep, NULL, 0) == CC_OK) {
        const Cc__V1__ObjectReply *o = (const Cc__V1__ObjectReply *)rep;
        Cc__V1__Queue *q =
            o->has_body ? cc__v1__queue__unpack(NULL, o->body.len, o->body.data) : NULL;
        const char *exact = NULL, *any = NULL;
        for (size_t i = 0; q && i < q->n_closing_messages; i++) {
            const Cc__V1__ClosingMessage *m = q->closing_messages[i];
            const char *ml = m->language ? m->language : "";
            if (!m->text || !*m->text)
                continue;
            if (!*ml)
                any = m->text;
            else if (*lang && same_language(ml, lang) && !exact)
                exact = m->text;
        }
        if (exact || any)
            snprintf(out, cap, "%s", exact ? exact : any);
        if (q)
            cc__v1__queue__free_unpacked(q, NULL);
    }
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
}

static enum cc_status deliver(struct chatgw *g, const Cc__V1__Chat *ch, Cc__V1__ChatMessage *m);

/* Tells the customer the chat ends (a bot message, delivered like the
 * agent's): once per chat, its id made from the chat's, so that a retried
 * End neither repeats nor loses it. */
static enum cc_status send_closing(struct chatgw *g, const Cc__V1__Chat *ch)
{
    Cc__V1__ChatMessage m = CC__V1__CHAT_MESSAGE__INIT, *old = NULL;
    char id[96], at[32], text[1100];
    snprintf(id, sizeof id, "msg_end_%s", ch->id);
    enum cc_status st = store_message(g, id, &old);
    int pending = st == CC_OK && old->delivery && !strcmp(old->delivery, "pending");
    if (st == CC_OK && !pending) { /* told already */
        cc__v1__chat_message__free_unpacked(old, NULL);
        return CC_OK;
    }
    if (st != CC_OK && st != CC_ERR_NOT_FOUND)
        return st;
    if (old) { /* stored, its delivery not queued yet: queue it again */
        st = deliver(g, ch, old);
        if (st == CC_OK)
            chats_publish_message(g, ch, old);
        cc__v1__chat_message__free_unpacked(old, NULL);
        return st;
    }
    int64_t now = cc_time_now_ms();
    closing_text(g, ch, text, sizeof text);
    cc_time_format_ms(now, at, sizeof at);
    m.id = id, m.chat_id = ch->id, m.direction = CC_PB_STR("out"), m.author = CC_PB_STR("bot");
    m.text = text, m.created_at = at, m.delivery = CC_PB_STR("pending");
    m.has_seq = 1, m.seq = now * 1000;
    st = store_outbound(g, &m);
    if (st == CC_OK)
        st = deliver(g, ch, &m);
    if (st == CC_OK) {
        cc_metric_add(g->m_messages, "direction=\"out\"", 1);
        chats_publish_message(g, ch, &m);
    }
    return st;
}

/* End chat: skill-router ends the interaction and releases the agent first;
 * only then is the chat completed here. Any failure on the way fails the
 * whole End (503, retryable): the chat stays open on both sides, or a retry
 * finishes it (the router's end and close_lists are idempotent). The
 * router's "not found" means the interaction truly does not exist (it
 * answers a failure of its own or of agent-registry as unavailable). */
static enum cc_status do_end(struct call *c)
{
    const Cc__V1__Chat *ch = c->chat;
    enum cc_status st = CC_OK;
    if (!same(c->who->user_id, ch->agent_id) && !may_read(c->g, c->who, ch))
        return fail(c, CC_ERR_FORBIDDEN, "not your chat");
    if (!ch->agent_id)
        return same(ch->state, "completed") ? do_get(c)
                                            : fail(c, CC_ERR_CONFLICT, "the chat has not been accepted");
    if (!same(ch->state, "completed")) {
        st = router(c->g, "end", c->who, ch->id, c->why, sizeof c->why);
        if (st == CC_ERR_NOT_FOUND) {
            CC_WARN("chat %s: skill-router has no interaction for it; ending it here", ch->id);
            st = CC_OK, c->why[0] = '\0';
        }
        if (st == CC_OK)
            st = send_closing(c->g, ch);
        char now[24];
        snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
        const char *set[] = {"state", "completed", "end", now};
        if (st == CC_OK)
            st = records_chat_set(c->g, ch->id, set, 2);
    }
    if (st == CC_OK)
        st = close_lists(c->g, ch); /* also on a retry: what a failed End left */
    return st == CC_OK ? answer_changed(c) : st;
}

static int settable_state(const char *from, const char *to)
{
    return !strcmp(to, from) || (!strcmp(from, "new") && !strcmp(to, "in_progress"));
}

static enum cc_status do_update(struct call *c)
{
    const Cc__V1__Chat *p = c->req->patch;
    const Cc__V1__ChatLinks *l = p ? p->links : NULL;
    if (!same(c->who->user_id, c->chat->agent_id) && !may_read(c->g, c->who, c->chat))
        return fail(c, CC_ERR_FORBIDDEN, "not your chat");
    if (!p)
        return fail(c, CC_ERR_INVALID, "nothing to change");
    if (p->state && !settable_state(c->chat->state, p->state))
        return fail(c, CC_ERR_CONFLICT,
                    !strcmp(p->state, "completed") ? "state: use End chat to complete a chat"
                                                   : "state: only new -> in_progress");
    struct {
        const char *field, *value;
    } set[] = {{"state", p->state},
               {"result_id", p->result_id},
               {"result_details", p->result_details},
               {"account_id", l ? l->account_id : NULL},
               {"contact_id", l ? l->contact_id : NULL},
               {"activity_id", l ? l->activity_id : NULL},
               {"case_id", l ? l->case_id : NULL}};
    const char *pairs[2 * sizeof set / sizeof *set];
    size_t n = 0;
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) {
        if (set[i].value && strlen(set[i].value) > MAX_TEXT)
            return fail(c, CC_ERR_INVALID, "a field is too long");
        if (set[i].value)
            pairs[2 * n] = set[i].field, pairs[2 * n + 1] = set[i].value, n++;
    }
    if (n && records_chat_set(c->g, c->chat->id, pairs, n) != CC_OK) /* one step, one version */
        return CC_ERR_UNAVAILABLE;
    return answer_changed(c);
}

/* Marks chat `id` read up to its latest message ({cc}:chatread:<id>, the
 * message's order): its unread count starts again from there. */
static enum cc_status mark_read(struct chatgw *g, const char *id)
{
    redisReply *last = NULL;
    enum cc_status st =
        cc_redis_run(g->redis, &last, "ZREVRANGE " KEY_CHATMSGS " 0 0 WITHSCORES", cc_tag(), id);
    if (st == CC_OK && last->type == REDIS_REPLY_ARRAY && last->elements == 2)
        st = cc_redis_do(g->redis, "SET " KEY_CHATREAD " %s EX %d", cc_tag(), id,
                         last->element[1]->str, READ_MARK_TTL_S);
    free_reply(last);
    return st;
}

/* POST /chats/{id}/read: the chat's agent has seen every message so far. */
static enum cc_status do_read(struct call *c)
{
    if (!same(c->who->user_id, c->chat->agent_id))
        return fail(c, CC_ERR_FORBIDDEN, "only the chat's agent reads it");
    enum cc_status st = mark_read(c->g, c->chat->id);
    if (st == CC_OK)
        cc_nats_respond(c->g->nats, c->m, &c->chat->base);
    return st;
}

static enum cc_status do_messages(struct call *c)
{
    Cc__V1__ChatMessage **items;
    Cc__V1__MessageList list = CC__V1__MESSAGE_LIST__INIT;
    size_t n;
    if (!may_read(c->g, c->who, c->chat))
        return fail(c, CC_ERR_FORBIDDEN, "not your chat");
    enum cc_status st = store_messages(c->g, c->chat->id, &items, &n);
    if (st != CC_OK)
        return st;
    if (same(c->who->user_id, c->chat->agent_id)) /* its agent reads them now */
        mark_read(c->g, c->chat->id);
    list.items = items, list.n_items = n;
    cc_nats_respond(c->g->nats, c->m, &list.base);
    for (size_t i = 0; i < n; i++)
        cc__v1__chat_message__free_unpacked(items[i], NULL);
    free(items);
    return CC_OK;
}

/* Queues message `m` of chat `ch` for its provider, or hands it to the
 * web-chat customer at once. */
static enum cc_status deliver(struct chatgw *g, const Cc__V1__Chat *ch, Cc__V1__ChatMessage *m)
{
    if (webchat(ch)) {
        m->delivery = CC_PB_STR("sent");
        return store_message_put(g, m);
    }
    Cc__V1__Outbound out = CC__V1__OUTBOUND__INIT;
    uint8_t buf[256];
    char subject[160];
    out.chat_id = m->chat_id, out.message_id = m->id;
    size_t len = protobuf_c_message_pack(&out.base, buf);
    snprintf(subject, sizeof subject, SUBJ_CHAT_OUT, ch->channel_id);
    return cc_nats_js_publish(g->nats, subject, buf, len, m->id, 5000, NULL);
}

static enum cc_status do_send(struct call *c)
{
    const Cc__V1__ChatRequest *r = c->req;
    Cc__V1__ChatMessage m = CC__V1__CHAT_MESSAGE__INIT;
    Cc__V1__Attachment att = CC__V1__ATTACHMENT__INIT, *atts[1] = {&att};
    char id[40], at[32];
    if (!same(c->who->user_id, c->chat->agent_id))
        return fail(c, CC_ERR_FORBIDDEN, "only the chat's agent writes in it");
    if (same(c->chat->state, "completed"))
        return fail(c, CC_ERR_CONFLICT, "the chat is completed");
    if ((!r->text || !*r->text) && !r->file_id)
        return fail(c, CC_ERR_INVALID, "text or file_id required");
    if (r->text && strlen(r->text) > MAX_TEXT)
        return fail(c, CC_ERR_INVALID, "text: at most 4096 bytes");
    if (r->file_id) {
        enum cc_status st = files_attachment(c->g, r->file_id, &att);
        if (st != CC_OK)
            return fail(c, CC_ERR_INVALID, "file_id: no such file");
        m.n_attachments = 1, m.attachments = atts;
    }
    int64_t now = cc_time_now_ms();
    store_new_id("msg_", id, sizeof id);
    cc_time_format_ms(now, at, sizeof at);
    m.id = id, m.chat_id = c->chat->id, m.direction = CC_PB_STR("out");
    m.author = CC_PB_STR("agent"), m.agent_id = c->who->user_id, m.text = r->text;
    m.created_at = at, m.delivery = CC_PB_STR("pending"), m.has_seq = 1, m.seq = now * 1000;
    enum cc_status st = store_outbound(c->g, &m);
    if (st == CC_OK)
        st = deliver(c->g, c->chat, &m);
    if (st == CC_ERR_CONFLICT)
        return fail(c, st, "the chat is completed");
    if (st == CC_OK) {
        Cc__V1__Chat *fresh = NULL;
        mark_read(c->g, c->chat->id); /* who writes has read what came before */
        cc_metric_add(c->g->m_messages, "direction=\"out\"", 1);
        if (store_chat(c->g, c->chat->id, &fresh) == CC_OK) {
            chats_publish_message(c->g, fresh, &m);
            if (!same(fresh->state, c->chat->state)) { /* new -> in_progress: a new version */
                chats_publish_updated(c->g, fresh);
                records_publish(c->g, fresh->id);
            }
            cc__v1__chat__free_unpacked(fresh, NULL);
        }
        cc_nats_respond(c->g->nats, c->m, &m.base);
    }
    files_attachment_release(&att);
    return st;
}

/* The agent is writing: the web-chat customer's stream gets `typing`, a
 * Telegram customer sees "typing…" (sendChatAction); other providers show
 * nothing. Answers the chat. */
static enum cc_status do_typing(struct call *c)
{
    const Cc__V1__Chat *ch = c->chat;
    if (!same(c->who->user_id, ch->agent_id))
        return fail(c, CC_ERR_FORBIDDEN, "only the chat's agent writes in it");
    if (same(ch->state, "completed"))
        return fail(c, CC_ERR_CONFLICT, "the chat is completed");
    if (webchat(ch)) {
        Cc__V1__Typing t = CC__V1__TYPING__INIT;
        t.chat_id = ch->id, t.who = CC_PB_STR("agent"), t.name = ch->agent_name;
        publish_to(c->g, SUBJ_WEBCHAT_TYPING_PREFIX, ch->from, &t.base);
    } else {
        struct provider_request req = PROVIDER_REQUEST_INIT;
        const struct channels *cs = channels_get(c->g);
        const Cc__V1__Channel *chn = channel_find(cs, ch->channel_id);
        char why[256];
        long status = 0;
        char *body = NULL;
        size_t len = 0;
        if (chn && provider_build_typing(provider_type_parse(chn->type), chn, ch->from, &req, why,
                                         sizeof why) == CC_OK) {
            http_perform(&req, 3000, 4096, &status, &body, &len); /* best effort */
            if (status < 200 || status > 299)
                CC_INFO("typing to %s: %s -> %ld", ch->id, req.log_url, status);
            provider_request_release(&req);
            free(body);
        }
        channels_put(cs);
    }
    cc_nats_respond(c->g->nats, c->m, &ch->base);
    return CC_OK;
}

/* A failed message of the agent is queued again (a new delivery, tries
 * counted afresh). Answers the message, pending. */
static enum cc_status do_retry(struct call *c)
{
    Cc__V1__ChatMessage *m = NULL;
    if (!same(c->who->user_id, c->chat->agent_id) && !may_read(c->g, c->who, c->chat))
        return fail(c, CC_ERR_FORBIDDEN, "not your chat");
    if (!c->req->message_id)
        return fail(c, CC_ERR_INVALID, "message_id required");
    enum cc_status st = store_message(c->g, c->req->message_id, &m);
    if (st == CC_ERR_NOT_FOUND || (st == CC_OK && !same(m->chat_id, c->chat->id)))
        st = fail(c, CC_ERR_NOT_FOUND, "no such message in this chat");
    else if (st == CC_OK && !same(m->direction, "out"))
        st = fail(c, CC_ERR_INVALID, "only our messages are sent again");
    else if (st == CC_OK && !same(m->delivery, "failed"))
        st = fail(c, CC_ERR_CONFLICT, "only a failed message is sent again");
    if (st == CC_OK) {
        Cc__V1__Outbound out = CC__V1__OUTBOUND__INIT;
        uint8_t buf[256];
        char subject[160], msgid[160];
        free(m->delivery);
        free(m->delivery_error);
        m->delivery = strdup("pending"), m->delivery_error = NULL;
        st = m->delivery ? store_message_put(c->g, m) : CC_ERR_NOMEM;
        out.chat_id = m->chat_id, out.message_id = m->id;
        size_t len = protobuf_c_message_pack(&out.base, buf);
        snprintf(subject, sizeof subject, SUBJ_CHAT_OUT, c->chat->channel_id);
        snprintf(msgid, sizeof msgid, "%s:retry:%lld", m->id, (long long)cc_time_now_ms());
        if (st == CC_OK && webchat(c->chat)) {
            free(m->delivery);
            m->delivery = strdup("sent");
            st = m->delivery ? store_message_put(c->g, m) : CC_ERR_NOMEM;
        } else if (st == CC_OK) {
            st = cc_nats_js_publish(c->g->nats, subject, buf, len, msgid, 5000, NULL);
        }
        if (st == CC_OK) {
            chats_publish_message(c->g, c->chat, m);
            cc_nats_respond(c->g->nats, c->m, &m->base);
        }
    }
    if (m)
        cc__v1__chat_message__free_unpacked(m, NULL);
    return st;
}

/* The quick replies of the chat's queue (those naming no queue too), by
 * name, for its agent to pick, edit and send. */
static enum cc_status do_quick_replies(struct call *c)
{
    Cc__V1__Caller service = CC__V1__CALLER__INIT;
    Cc__V1__QuickReplyList list = CC__V1__QUICK_REPLY_LIST__INIT;
    Cc__V1__QuickReply **all = NULL;
    size_t n = 0;
    if (!may_read(c->g, c->who, c->chat))
        return fail(c, CC_ERR_FORBIDDEN, "not your chat");
    service.user_id = CC_PB_STR("chat-gateway"), service.role = CC_PB_STR("admin");
    enum cc_status st = cc_registry_load(c->g->nats, "quick_replies", &service,
                                         &cc__v1__quick_reply__descriptor,
                                         (ProtobufCMessage ***)&all, &n);
    if (st != CC_OK)
        return st;
    Cc__V1__QuickReply **keep = calloc(n + 1, sizeof *keep);
    for (size_t i = 0; keep && i < n; i++) {
        int fits = all[i]->n_queue_ids == 0;
        for (size_t j = 0; j < all[i]->n_queue_ids && !fits; j++)
            fits = same(all[i]->queue_ids[j], c->chat->queue_id);
        if (fits)
            keep[list.n_items++] = all[i];
    }
    list.items = keep;
    if (keep)
        cc_nats_respond(c->g->nats, c->m, &list.base);
    else
        st = CC_ERR_NOMEM;
    free(keep);
    cc_registry_free((ProtobufCMessage **)all, n);
    return st;
}

/* --- lists ------------------------------------------------------------------------------ */

/* 1 when a message of chat `id` contains `text` (any case). */
static int says(struct chatgw *g, const char *id, const char *text)
{
    Cc__V1__ChatMessage **items;
    size_t n;
    int found = 0;
    if (store_messages(g, id, &items, &n) != CC_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        found = found || (items[i]->text && strcasestr(items[i]->text, text));
        cc__v1__chat_message__free_unpacked(items[i], NULL);
    }
    free(items);
    return found;
}

static int matches(struct chatgw *g, const Cc__V1__Chat *c, const Cc__V1__ChatFilter *f,
                   const struct cc_queue_scope *scope)
{
    if (scope && !cc_queue_scope_has(scope, c->queue_id))
        return 0;
    if (!f)
        return 1;
    if (f->agent_id && !same(f->agent_id, c->agent_id))
        return 0;
    if (f->queue_id && !same(f->queue_id, c->queue_id))
        return 0;
    if (f->source && !same(f->source, c->source))
        return 0;
    if (f->customer && !(c->name && strcasestr(c->name, f->customer)) &&
        !(c->from && strcasestr(c->from, f->customer)))
        return 0;
    if (f->result_id && !same(f->result_id, c->result_id))
        return 0;
    if (f->text && *f->text && !says(g, c->id, f->text)) /* the costliest test last */
        return 0;
    return 1;
}

/* At most `max` bytes of `s`, cut at a character boundary, "…" added when cut. */
static char *preview(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return strdup(s);
    while (n > 0 && (n > max || ((unsigned char)s[n] & 0xC0) == 0x80))
        n--;
    char *out = malloc(n + sizeof "…");
    if (out) {
        memcpy(out, s, n);
        memcpy(out + n, "…", sizeof "…");
    }
    return out;
}

/* Adds the inbox fields to list item `ch`: its latest message (text or
 * file name, time, direction) and, once an agent has it, how many
 * messages came after the agent's read mark. Best effort: a failed read
 * leaves them out. */
static void add_latest(struct chatgw *g, Cc__V1__Chat *ch)
{
    redisReply *last = NULL, *mark = NULL, *count = NULL;
    Cc__V1__ChatMessage *m = NULL;
    if (cc_redis_run(g->redis, &last, "ZREVRANGE " KEY_CHATMSGS " 0 %d", cc_tag(), ch->id,
                     PREVIEW_SKIP_BOT) == CC_OK &&
        last->type == REDIS_REPLY_ARRAY) {
        /* the latest message a person wrote: the bot's closing words say
         * nothing about the chat (the latest of all when only the bot spoke) */
        for (size_t i = 0; i < last->elements && store_message(g, last->element[i]->str, &m) == CC_OK; i++) {
            if (!m->author || strcmp(m->author, "bot") || i + 1 == last->elements)
                break;
            cc__v1__chat_message__free_unpacked(m, NULL);
            m = NULL;
        }
    }
    if (m) {
        const char *text = m->text && *m->text                           ? m->text
                           : m->n_attachments && m->attachments[0]->name ? m->attachments[0]->name
                                                                         : "";
        ch->last_text = preview(text, PREVIEW_MAX);
        ch->last_at = m->created_at ? strdup(m->created_at) : NULL;
        ch->last_direction = m->direction ? strdup(m->direction) : NULL;
        cc__v1__chat_message__free_unpacked(m, NULL);
    }
    char after[48] = "-inf"; /* never read: every message counts */
    if (ch->agent_id &&
        cc_redis_run(g->redis, &mark, "GET " KEY_CHATREAD, cc_tag(), ch->id) == CC_OK &&
        (mark->type != REDIS_REPLY_STRING || snprintf(after, sizeof after, "(%s", mark->str) > 0) &&
        cc_redis_run(g->redis, &count, "ZCOUNT " KEY_CHATMSGS " %s +inf", cc_tag(), ch->id,
                     after) == CC_OK &&
        count->type == REDIS_REPLY_INTEGER)
        ch->has_unread = 1, ch->unread = count->integer;
    free_reply(last);
    free_reply(mark);
    free_reply(count);
}

/* The chat ids of a view: the agent's own lists, or for staff every open
 * chat (active), the latest completed ones (closed), or the history from
 * newest to oldest within since/until (by creation). */
static enum cc_status view_ids(struct call *c, redisReply **ids)
{
    const Cc__V1__ChatRequest *r = c->req;
    const char *view = r->view ? r->view : "active";
    const char *me = c->who->user_id;
    if (!strcmp(view, "history")) {
        if (!is_staff(c->who))
            return fail(c, CC_ERR_FORBIDDEN, "history: supervisors and admins only");
        int64_t since = 0, until = INT64_MAX;
        const Cc__V1__ChatFilter *f = r->filter;
        if ((f && f->since && cc_time_parse_ms(f->since, &since) != 0) ||
            (f && f->until && cc_time_parse_ms(f->until, &until) != 0))
            return fail(c, CC_ERR_INVALID, "since, until: RFC 3339 times");
        if (r->page && r->page->cursor && *r->page->cursor)
            until = strtoll(r->page->cursor, NULL, 10); /* exclusive: older than the last seen */
        return cc_redis_run(c->g->redis, ids, "ZREVRANGEBYSCORE " KEY_CHATS_ALL " (%lld %lld",
                            cc_tag(), (long long)until, (long long)since);
    }
    if (!strcmp(view, "active"))
        return is_staff(c->who)
                   ? cc_redis_run(c->g->redis, ids, "SMEMBERS " KEY_CHATS_OPEN, cc_tag())
                   : cc_redis_run(c->g->redis, ids, "SMEMBERS " KEY_CHATS_ACTIVE, cc_tag(), me);
    if (!strcmp(view, "closed"))
        return cc_redis_run(c->g->redis, ids, "LRANGE " KEY_CHATS_CLOSED " 0 %d", cc_tag(), me,
                            CLOSED_KEPT - 1);
    return fail(c, CC_ERR_INVALID, "view: active, closed or history");
}

static enum cc_status do_list(struct call *c)
{
    redisReply *ids = NULL;
    Cc__V1__ChatList list = CC__V1__CHAT_LIST__INIT;
    char cursor[32] = "";
    size_t limit = HISTORY_MAX;
    if (c->req->page && c->req->page->has_limit && c->req->page->limit > 0 &&
        (size_t)c->req->page->limit < limit)
        limit = (size_t)c->req->page->limit;
    struct cc_queue_scope scope = {0, NULL, 0};
    const char *view = c->req->view ? c->req->view : "active";
    /* staff lists (every open chat, the history) hold their queues' chats */
    int scoped = is_staff(c->who) && strcmp(view, "closed") != 0;
    enum cc_status st = scoped ? cc_queue_scope(c->g->nats, c->who, &scope) : CC_OK;
    if (st == CC_OK)
        st = view_ids(c, &ids);
    Cc__V1__Chat **items = st == CC_OK ? calloc(ids->elements + 1, sizeof *items) : NULL;
    if (st == CC_OK && !items)
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < ids->elements && list.n_items < limit; i++) {
        Cc__V1__Chat *ch;
        if (store_chat(c->g, ids->element[i]->str, &ch) != CC_OK)
            continue;
        if (matches(c->g, ch, c->req->filter, scoped ? &scope : NULL)) {
            add_latest(c->g, ch);
            items[list.n_items++] = ch;
        } else
            cc__v1__chat__free_unpacked(ch, NULL);
        if (list.n_items == limit && i + 1 < ids->elements && same(c->req->view, "history")) {
            int64_t created = 0;
            cc_time_parse_ms(ch->created_at, &created);
            snprintf(cursor, sizeof cursor, "%lld", (long long)created);
            list.next_cursor = cursor;
        }
    }
    list.items = items;
    if (st == CC_OK)
        cc_nats_respond(c->g->nats, c->m, &list.base);
    for (size_t i = 0; i < list.n_items; i++)
        cc__v1__chat__free_unpacked(items[i], NULL);
    free(items);
    free_reply(ids);
    cc_queue_scope_release(&scope);
    return st;
}

/* Where channel `chat_id` (a channel id here) is set up: the webhook URL
 * its provider calls, or for web chat the widget's snippet and a test page.
 * Admins only: it names the channel's public endpoints. */
static enum cc_status do_setup(struct call *c)
{
    static const struct {
        const char *type, *path;
    } hooks[] = {{"telegram", "telegram"},
                 {"viber", "viber"},
                 {"infobip_whatsapp", "infobip"},
                 {"whatsapp_cloud", "whatsapp"},
                 {"messenger", "messenger"}};
    Cc__V1__ChannelSetup out = CC__V1__CHANNEL_SETUP__INIT;
    char webhook[768], widget[768], snippet[2048], page[768];
    if (!same(c->who->role, "admin"))
        return fail(c, CC_ERR_FORBIDDEN, "admins only");
    const Cc__V1__Channel *ch;
    const struct channels *cs = channels_get_for(c->g, c->req->chat_id ? c->req->chat_id : "", &ch);
    enum cc_status st = ch ? CC_OK : fail(c, CC_ERR_NOT_FOUND, "no such channel");
    if (st == CC_OK) {
        out.channel_id = ch->id, out.type = ch->type;
        for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++)
            if (same(ch->type, hooks[i].type)) {
                snprintf(webhook, sizeof webhook, "%s/webhooks/%s/%s", c->g->public_url,
                         hooks[i].path, ch->id);
                out.webhook_url = webhook;
            }
        if (webchat(&(Cc__V1__Chat){.source = ch->type})) {
            snprintf(widget, sizeof widget, "%s/webchat/widget.js", c->g->public_url);
            snprintf(snippet, sizeof snippet,
                     "<script src=\"%s\" data-channel=\"%s\" data-base=\"%s\" async></script>",
                     widget, ch->id, c->g->public_url);
            snprintf(page, sizeof page, "%s/webchat/demo/%s", c->g->public_url, ch->id);
            out.widget_url = widget, out.snippet = snippet, out.test_page_url = page;
        }
        cc_nats_respond(c->g->nats, c->m, &out.base);
    }
    channels_put(cs);
    return st;
}

/* cc.chat.<verb> */
static void on_chat(void *arg, const struct cc_nats_msg *m)
{
    static const struct {
        const char *verb;
        enum cc_status (*fn)(struct call *c);
    } verbs[] = {{"get", do_get},         {"accept", do_accept},
                 {"decline", do_decline}, {"end", do_end},
                 {"update", do_update},   {"messages", do_messages},
                 {"send", do_send},       {"quick_replies", do_quick_replies},
                 {"read", do_read},         {"typing", do_typing},
                 {"retry", do_retry}};
    struct call c = {arg, m, NULL, NULL, NULL, ""};
    Cc__V1__ChatRequest *req = cc__v1__chat_request__unpack(NULL, m->len, m->data);
    const char *verb = m->subject + strlen(SUBJ_CHAT_PREFIX);
    enum cc_status st = CC_OK;
    c.req = req;
    if (!req || !req->caller || !req->caller->user_id || !req->caller->role)
        st = fail(&c, CC_ERR_INVALID, "unreadable request");
    else if (c.who = req->caller, !strcmp(verb, "list"))
        st = do_list(&c);
    else if (!strcmp(verb, "setup"))
        st = do_setup(&c);
    else if ((st = req->chat_id ? store_chat(c.g, req->chat_id, &c.chat) : CC_ERR_NOT_FOUND) != CC_OK)
        fail(&c, st, st == CC_ERR_NOT_FOUND ? "no such chat" : "");
    else {
        st = fail(&c, CC_ERR_NOT_FOUND, "no such verb");
        for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
            if (!strcmp(verb, verbs[i].verb)) {
                c.why[0] = 0;
                st = verbs[i].fn(&c);
                break;
            }
    }
    if (st != CC_OK)
        cc_nats_respond_error(c.g->nats, m, st, c.why[0] ? c.why : NULL);
    if (c.chat)
        cc__v1__chat__free_unpacked(c.chat, NULL);
    if (req)
        cc__v1__chat_request__free_unpacked(req, NULL);
}

enum cc_status chats_start(struct chatgw *g)
{
    enum cc_status st = CC_OK;
    for (int i = 0; i < 4 && st == CC_OK; i++)
        st = cc_nats_subscribe(g->nats, SUBJ_CHAT_ALL, "chat-gateway", on_chat, g);
    return st;
}
