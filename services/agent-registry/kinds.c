/* kinds.c - the configuration kinds besides users: who may touch them,
 * defaults, validation and what a delete refuses or cascades.
 *
 * Deletes: an object still named by another is refused with 409 (a skill
 * used by a queue, a team with members or queues, a queue with channels);
 * dependent rows go with it (a skill's agent skills, a queue's id in quick
 * replies). See docs/registry.md. */
#include "registry.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TIMING_S 86400

/* --- permissions helpers ------------------------------------------------------ */

static int reading(const struct op *op)
{
    return op->verb == VERB_GET || op->verb == VERB_LIST;
}

static enum cc_status admin_only(struct op *op, const ProtobufCMessage *obj)
{
    (void)obj;
    return caller_is(op, "admin") ? CC_OK : op_fail(op, CC_ERR_FORBIDDEN, "administrators only");
}

/* Admins always; supervisors per the view/manage switch pair. */
static enum cc_status supervisor_switch(struct op *op, int view, int manage)
{
    if (caller_is(op, "admin"))
        return CC_OK;
    if (caller_is(op, "supervisor") && (reading(op) ? view : manage))
        return CC_OK;
    return op_fail(op, CC_ERR_FORBIDDEN, "not allowed for your role");
}

/* Reads the switches and applies one supervisor view/manage pair. */
static enum cc_status by_switch(struct op *op, int which)
{
    Cc__V1__Permissions *p;
    if (caller_is(op, "admin"))
        return CC_OK;
    enum cc_status st = permissions_get(op->reg, &p);
    if (st != CC_OK)
        return st;
    const Cc__V1__SupervisorPermissions *s = p->supervisor;
    int view = which == 0 ? s->view_skills : which == 1 ? s->view_queue_settings : s->view_pause_causes;
    int manage = which == 0 ? s->manage_skills : which == 1 ? s->manage_queue_settings
                                                             : s->manage_pause_causes;
    st = supervisor_switch(op, view, manage);
    cc__v1__permissions__free_unpacked(p, NULL);
    return st;
}

/* --- teams ---------------------------------------------------------------------- */

static enum cc_status team_prepare(struct op *op, ProtobufCMessage *obj, const ProtobufCMessage *old)
{
    Cc__V1__Team *t = (Cc__V1__Team *)obj;
    enum cc_status st;
    (void)old;
    DEFAULT_INT(t, wrap_up_time_s, 0);
    DEFAULT_INT(t, no_answer_delay_s, 5);
    DEFAULT_INT(t, max_no_answer, 0);
    DEFAULT_INT(t, call_offer_timeout_s, 20);
    DEFAULT_INT(t, chat_invite_timeout_s, 30);
    if ((st = check_text(op, "name", t->name, 1, 100)) ||
        (st = check_int(op, "wrap_up_time_s", 1, t->wrap_up_time_s, 0, MAX_TIMING_S)) ||
        (st = check_int(op, "no_answer_delay_s", 1, t->no_answer_delay_s, 0, MAX_TIMING_S)) ||
        (st = check_int(op, "max_no_answer", 1, t->max_no_answer, 0, 100)) ||
        (st = check_int(op, "call_offer_timeout_s", 1, t->call_offer_timeout_s, 1, 600)) ||
        (st = check_int(op, "chat_invite_timeout_s", 1, t->chat_invite_timeout_s, 1, 3600)) ||
        (st = check_ref(op, "admin_id", &kind_users, t->admin_id)))
        return st;
    return check_refs(op, "supervisor_ids", &kind_users, t->supervisor_ids, t->n_supervisor_ids);
}

struct ref_scan {
    const char *id;
    int found;
};

static int user_in_team(void *arg, const ProtobufCMessage *obj)
{
    struct ref_scan *r = arg;
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    return r->found = u->agent && u->agent->team_id && strcmp(u->agent->team_id, r->id) == 0;
}

static int queue_has_team(void *arg, const ProtobufCMessage *obj)
{
    struct ref_scan *r = arg;
    const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
    return r->found = ids_contain(q->team_ids, q->n_team_ids, r->id);
}

/* 409 when `fn` finds a `what` naming obj's id. */
static enum cc_status refuse_if(struct op *op, const ProtobufCMessage *obj, const struct kind *k,
                                store_each_fn fn, const char *what)
{
    struct ref_scan r = {store_field_str(obj, "id"), 0};
    enum cc_status st;
    store_each(op->reg->redis, &k->store, fn, &r, &st);
    if (st == CC_OK && r.found)
        return op_fail(op, CC_ERR_CONFLICT, "still used by %s", what);
    return st;
}

static enum cc_status team_before_delete(struct op *op, const ProtobufCMessage *obj)
{
    enum cc_status st = refuse_if(op, obj, &kind_users, user_in_team, "agents of the team");
    return st == CC_OK ? refuse_if(op, obj, &kind_queues, queue_has_team, "a queue") : st;
}

const struct kind kind_teams = {
    {"teams", "team", &cc__v1__team__descriptor, {"name"}, "team"},
    admin_only, NULL, team_prepare, team_before_delete, NULL,
};

/* --- skills ----------------------------------------------------------------------- */

static enum cc_status skill_authorize(struct op *op, const ProtobufCMessage *obj)
{
    (void)obj;
    return by_switch(op, 0);
}

static enum cc_status skill_prepare(struct op *op, ProtobufCMessage *obj,
                                    const ProtobufCMessage *old)
{
    Cc__V1__Skill *s = (Cc__V1__Skill *)obj;
    enum cc_status st = check_text(op, "name", s->name, 1, 100);
    (void)old;
    return st == CC_OK ? check_text(op, "description", s->description, 0, 1000) : st;
}

static int queue_has_skill(void *arg, const ProtobufCMessage *obj)
{
    struct ref_scan *r = arg;
    const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
    return r->found = q->skill_id && strcmp(q->skill_id, r->id) == 0;
}

static enum cc_status skill_before_delete(struct op *op, const ProtobufCMessage *obj)
{
    enum cc_status st = refuse_if(op, obj, &kind_queues, queue_has_skill, "a queue");
    return st == CC_OK ? agent_skills_drop_skill(op->reg, store_field_str(obj, "id")) : st;
}

const struct kind kind_skills = {
    {"skills", "skl", &cc__v1__skill__descriptor, {"name"}, "skill"},
    skill_authorize, NULL, skill_prepare, skill_before_delete, NULL,
};

/* --- queues ------------------------------------------------------------------------- */

static int queue_visible(struct op *op, const ProtobufCMessage *obj)
{
    Cc__V1__Permissions *p;
    if (!caller_is(op, "supervisor"))
        return 1;
    if (permissions_get(op->reg, &p) != CC_OK)
        return 0;
    int limited = p->supervisor->limit_to_assigned_queues;
    cc__v1__permissions__free_unpacked(p, NULL);
    return !limited || queue_assigned(op->reg, (const Cc__V1__Queue *)obj, op->caller->user_id);
}

static enum cc_status queue_authorize(struct op *op, const ProtobufCMessage *obj)
{
    (void)obj;
    return by_switch(op, 1);
}

static enum cc_status check_widening(struct op *op, const Cc__V1__Queue *q)
{
    int64_t after = 0, bar = q->min_capacity;
    for (size_t i = 0; i < q->n_widening; i++) {
        const Cc__V1__WideningStep *w = q->widening[i];
        if (!w->has_after_s || w->after_s <= after || w->after_s > MAX_TIMING_S)
            return op_fail(op, CC_ERR_INVALID, "widening[%zu].after_s: must grow step by step",
                           i);
        if (!w->has_min_capacity || w->min_capacity < 1 || w->min_capacity > bar)
            return op_fail(op, CC_ERR_INVALID,
                           "widening[%zu].min_capacity: must be 1..%lld (lower the bar)", i,
                           (long long)bar);
        after = w->after_s;
        bar = w->min_capacity;
    }
    return CC_OK;
}

/* A language tag as the widget and the providers give it: "en", "pt-BR". */
static int language_tag(const char *v)
{
    size_t i = 0;
    while (v[i] >= 'a' && v[i] <= 'z')
        i++;
    if (i < 2 || i > 3)
        return 0;
    if (!v[i])
        return 1;
    if (v[i++] != '-')
        return 0;
    size_t start = i;
    while ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
           (v[i] >= '0' && v[i] <= '9'))
        i++;
    return !v[i] && i - start >= 2 && i - start <= 8;
}

/* Closing messages: one per language at most (an empty language once: the
 * text for any other language), each text 1..1000 bytes. */
static enum cc_status check_closing(struct op *op, const Cc__V1__Queue *q)
{
    if (q->n_closing_messages > 20)
        return op_fail(op, CC_ERR_INVALID, "closing_messages: at most 20");
    for (size_t i = 0; i < q->n_closing_messages; i++) {
        const Cc__V1__ClosingMessage *m = q->closing_messages[i];
        const char *lang = m->language ? m->language : "";
        enum cc_status st = check_text(op, "closing_messages.text", m->text, 1, 1000);
        if (st)
            return st;
        if (*lang && !language_tag(lang))
            return op_fail(op, CC_ERR_INVALID,
                           "closing_messages.language: a language tag (en, pl, es, uk)");
        for (size_t j = 0; j < i; j++) {
            const char *other =
                q->closing_messages[j]->language ? q->closing_messages[j]->language : "";
            if (!strcmp(lang, other))
                return op_fail(op, CC_ERR_INVALID, "closing_messages: one text per language");
        }
    }
    return CC_OK;
}

static enum cc_status queue_prepare(struct op *op, ProtobufCMessage *obj,
                                    const ProtobufCMessage *old)
{
    static const char *const channels[] = {"call", "chat", NULL};
    static const char *const strategies[] = {"longest_idle", "most_skilled", "round_robin",
                                             "fewest_interactions", "random", "ring_all", NULL};
    Cc__V1__Queue *q = (Cc__V1__Queue *)obj;
    enum cc_status st;
    (void)old;
    DEFAULT_INT(q, min_capacity, 1);
    DEFAULT_INT(q, priority, 0);
    DEFAULT_INT(q, max_wait_s, 0);
    DEFAULT_INT(q, max_concurrent_chats, 1);
    DEFAULT_BOOL(q, sticky_agent, 0);
    DEFAULT_INT(q, sticky_wait_s, 0);
    DEFAULT_INT(q, service_level_s, 20);
    DEFAULT_INT(q, callback_after_s, 0);
    if (!q->strategy && (st = store_set_str(obj, "strategy", "longest_idle")))
        return st;
    if ((st = check_text(op, "name", q->name, 1, 100)) ||
        (st = check_one_of(op, "channel", q->channel, 1, channels)) ||
        (st = check_one_of(op, "strategy", q->strategy, 1, strategies)) ||
        (st = check_text(op, "skill_id", q->skill_id, 1, 64)) ||
        (st = check_ref(op, "skill_id", &kind_skills, q->skill_id)) ||
        (st = check_int(op, "min_capacity", 1, q->min_capacity, 1, 100)) ||
        (st = check_int(op, "priority", 1, q->priority, 0, 100)) ||
        (st = check_int(op, "max_wait_s", 1, q->max_wait_s, 0, MAX_TIMING_S)) ||
        (st = check_int(op, "max_concurrent_chats", 1, q->max_concurrent_chats, 1, 100)) ||
        (st = check_int(op, "sticky_wait_s", 1, q->sticky_wait_s, 0, MAX_TIMING_S)) ||
        (st = check_int(op, "service_level_s", 1, q->service_level_s, 1, 3600)) ||
        (st = check_int(op, "callback_after_s", 1, q->callback_after_s, 0, MAX_TIMING_S)) ||
        (q->has_wrap_up_time_s &&
         (st = check_int(op, "wrap_up_time_s", 1, q->wrap_up_time_s, 0, MAX_TIMING_S))) ||
        (st = check_widening(op, q)) || (st = check_closing(op, q)) ||
        (st = check_refs(op, "team_ids", &kind_teams, q->team_ids, q->n_team_ids)))
        return st;
    if (strcmp(q->strategy, "ring_all") == 0 && strcmp(q->channel, "call") != 0)
        return op_fail(op, CC_ERR_INVALID, "strategy: ring_all is for call queues only");
    if (strcmp(q->channel, "call") == 0 && q->max_concurrent_chats != 1)
        return op_fail(op, CC_ERR_INVALID, "max_concurrent_chats: only chat queues run several");
    return check_refs(op, "supervisor_ids", &kind_users, q->supervisor_ids, q->n_supervisor_ids);
}

static int channel_in_queue(void *arg, const ProtobufCMessage *obj)
{
    struct ref_scan *r = arg;
    const Cc__V1__Channel *c = (const Cc__V1__Channel *)obj;
    return r->found = c->queue_id && strcmp(c->queue_id, r->id) == 0;
}

struct unlist {
    struct op *op;
    const char *id;
    enum cc_status st;
};

/* Removes a deleted queue's id from a quick reply that names it. */
static int quick_reply_unlist(void *arg, const ProtobufCMessage *obj)
{
    struct unlist *u = arg;
    const Cc__V1__QuickReply *qr = (const Cc__V1__QuickReply *)obj;
    if (!ids_contain(qr->queue_ids, qr->n_queue_ids, u->id))
        return 0;
    Cc__V1__QuickReply copy = *qr;
    char *kept[qr->n_queue_ids];
    size_t n = 0;
    for (size_t i = 0; i < qr->n_queue_ids; i++)
        if (strcmp(qr->queue_ids[i], u->id) != 0)
            kept[n++] = qr->queue_ids[i];
    copy.queue_ids = kept, copy.n_queue_ids = n;
    u->st = store_put(u->op->reg->redis, &kind_quick_replies.store, &copy.base, obj);
    return u->st != CC_OK;
}

static enum cc_status queue_before_delete(struct op *op, const ProtobufCMessage *obj)
{
    struct unlist u = {op, store_field_str(obj, "id"), CC_OK};
    enum cc_status st = refuse_if(op, obj, &kind_channels, channel_in_queue, "a channel");
    if (st != CC_OK)
        return st;
    store_each(op->reg->redis, &kind_quick_replies.store, quick_reply_unlist, &u, &st);
    return st != CC_OK ? st : u.st;
}

const struct kind kind_queues = {
    {"queues", "que", &cc__v1__queue__descriptor, {"name"}, "queue"},
    queue_authorize, queue_visible, queue_prepare, queue_before_delete, NULL,
};

/* --- pause causes ------------------------------------------------------------------------ */

static enum cc_status pause_authorize(struct op *op, const ProtobufCMessage *obj)
{
    (void)obj;
    if (caller_is(op, "agent") && reading(op))
        return CC_OK; /* agents pick their pause cause */
    return by_switch(op, 2);
}

static int pause_visible(struct op *op, const ProtobufCMessage *obj)
{
    const Cc__V1__PauseCause *p = (const Cc__V1__PauseCause *)obj;
    return !caller_is(op, "agent") || p->allow_agent;
}

static enum cc_status pause_prepare(struct op *op, ProtobufCMessage *obj,
                                    const ProtobufCMessage *old)
{
    Cc__V1__PauseCause *p = (Cc__V1__PauseCause *)obj;
    enum cc_status st;
    if (!old)
        p->has_system = 1, p->system = 0; /* only bootstrap makes system causes */
    DEFAULT_INT(p, limit_minutes_per_day, 0);
    DEFAULT_BOOL(p, allow_agent, 1);
    DEFAULT_BOOL(p, allow_supervisor, 1);
    if ((st = check_text(op, "name", p->name, 1, 100)))
        return st;
    if (old && p->system && strcmp(p->name, store_field_str(old, "name")) != 0)
        return op_fail(op, CC_ERR_CONFLICT, "a system pause cause keeps its name");
    return check_int(op, "limit_minutes_per_day", 1, p->limit_minutes_per_day, 0, 1440);
}

static enum cc_status pause_before_delete(struct op *op, const ProtobufCMessage *obj)
{
    const Cc__V1__PauseCause *p = (const Cc__V1__PauseCause *)obj;
    return p->system ? op_fail(op, CC_ERR_CONFLICT, "system pause causes cannot be deleted")
                     : CC_OK;
}

const struct kind kind_pause_causes = {
    {"pause_causes", "pc", &cc__v1__pause_cause__descriptor, {"name"}, "pause cause"},
    pause_authorize, pause_visible, pause_prepare, pause_before_delete, NULL,
};

/* --- quick replies --------------------------------------------------------------------------- */

static enum cc_status quick_reply_authorize(struct op *op, const ProtobufCMessage *obj)
{
    Cc__V1__Permissions *p;
    (void)obj;
    if (caller_is(op, "admin") || (reading(op) && (caller_is(op, "agent") ||
                                                   caller_is(op, "supervisor"))))
        return CC_OK;
    if (!caller_is(op, "agent"))
        return op_fail(op, CC_ERR_FORBIDDEN, "not allowed for your role");
    enum cc_status st = permissions_get(op->reg, &p);
    if (st != CC_OK)
        return st;
    int may = p->agent->manage_public_canned;
    cc__v1__permissions__free_unpacked(p, NULL);
    return may ? CC_OK : op_fail(op, CC_ERR_FORBIDDEN, "agents may not manage quick replies");
}

static enum cc_status quick_reply_prepare(struct op *op, ProtobufCMessage *obj,
                                          const ProtobufCMessage *old)
{
    Cc__V1__QuickReply *q = (Cc__V1__QuickReply *)obj;
    enum cc_status st;
    (void)old;
    if ((st = check_text(op, "name", q->name, 1, 100)) ||
        (st = check_text(op, "text", q->text, 1, 4096)))
        return st;
    return check_refs(op, "queue_ids", &kind_queues, q->queue_ids, q->n_queue_ids);
}

const struct kind kind_quick_replies = {
    {"quick_replies", "qr", &cc__v1__quick_reply__descriptor, {NULL}, "quick reply"},
    quick_reply_authorize, NULL, quick_reply_prepare, NULL, NULL,
};

/* --- results ------------------------------------------------------------------------------------ */

static enum cc_status result_authorize(struct op *op, const ProtobufCMessage *obj)
{
    /* every signed-in user reads results: agents pick one for each chat */
    return reading(op) && op->caller->role ? CC_OK : admin_only(op, obj);
}

static enum cc_status result_prepare(struct op *op, ProtobufCMessage *obj,
                                     const ProtobufCMessage *old)
{
    (void)old;
    return check_text(op, "name", ((Cc__V1__Result *)obj)->name, 1, 100);
}

const struct kind kind_results = {
    {"results", "res", &cc__v1__result__descriptor, {"name"}, "result"},
    result_authorize, NULL, result_prepare, NULL, NULL,
};

/* --- channels --------------------------------------------------------------------------------------- */

/* Credentials each channel type needs, by field name. */
static const char *const *required_credentials(const char *type)
{
    static const char *const telegram[] = {"bot_token", "secret_token", NULL};
    static const char *const viber[] = {"auth_token", NULL};
    static const char *const infobip[] = {"api_key", "sender", "webhook_authorization", NULL};
    static const char *const wa_cloud[] = {"access_token", "app_secret", "verify_token",
                                           "phone_number_id", NULL};
    static const char *const messenger[] = {"page_access_token", "app_secret", "verify_token",
                                            NULL};
    static const char *const none[] = {NULL};
    return strcmp(type, "telegram") == 0          ? telegram
           : strcmp(type, "viber") == 0           ? viber
           : strcmp(type, "infobip_whatsapp") == 0 ? infobip
           : strcmp(type, "whatsapp_cloud") == 0  ? wa_cloud
           : strcmp(type, "messenger") == 0       ? messenger
                                                  : none;
}

static enum cc_status check_credentials(struct op *op, const Cc__V1__Channel *c)
{
    for (const char *const *f = required_credentials(c->type); *f; f++) {
        const char *v = c->credentials ? store_field_str(&c->credentials->base, *f) : NULL;
        if (!v || !*v)
            return op_fail(op, CC_ERR_INVALID, "credentials.%s: required for %s", *f, c->type);
        if (strlen(v) > 1024)
            return op_fail(op, CC_ERR_INVALID, "credentials.%s: too long", *f);
    }
    return CC_OK;
}

static enum cc_status check_url(struct op *op, const char *url)
{
    if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return op_fail(op, CC_ERR_INVALID, "api_base_url: must be an http(s) URL");
    return check_text(op, "api_base_url", url, 0, 512);
}

#define MAX_CHANNEL_LIST 32 /* allowed_origins, media_hosts */

/* 1 when `s` (lower case) is a DNS name: dot-separated labels of 1..63 letters, digits
 * and inner hyphens, the last one not all digits (so never an IPv4 address), and not
 * localhost or a name under it. (Where a name resolves is checked when fetching.) */
static int dns_name(const char *s)
{
    size_t n = strlen(s), label = 0, digits = 0;
    if (n == 0 || n > 253 || strcmp(s, "localhost") == 0 ||
        (n > 10 && strcmp(s + n - 10, ".localhost") == 0))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = digits = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if ((c == '-' && label == 0) || ++label > 63)
                return 0;
            digits += c >= '0' && c <= '9';
        } else {
            return 0;
        }
    }
    return label > 0 && s[n - 1] != '-' && digits < label;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Web-chat origins, as browsers send them in Origin: "https://shop.example.com" or
 * "http://127.0.0.1:8080" (scheme and host lower case, no path, no default port).
 * Each is brought to that form (lower case, a trailing "/" and a default port dropped). */
static enum cc_status check_origins(struct op *op, Cc__V1__Channel *c)
{
    if (c->n_allowed_origins && strcmp(c->type, "webchat") != 0)
        return op_fail(op, CC_ERR_INVALID, "allowed_origins: only for webchat channels");
    if (c->n_allowed_origins > MAX_CHANNEL_LIST)
        return op_fail(op, CC_ERR_INVALID, "allowed_origins: at most %d", MAX_CHANNEL_LIST);
    for (size_t i = 0; i < c->n_allowed_origins; i++) {
        char *o = c->allowed_origins[i];
        size_t n = strlen(o);
        lower(o);
        if (n && o[n - 1] == '/')
            o[--n] = 0;
        int https = strncmp(o, "https://", 8) == 0;
        const char *host = https ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
        const char *port = NULL;
        if (host && *host == '[') { /* [IPv6]:port */
            const char *close = strchr(host, ']');
            port = close && close[1] == ':' ? close + 1 : NULL;
            if (!close || (close[1] && close[1] != ':'))
                host = NULL;
        } else if (host) {
            port = strchr(host, ':');
        }
        if (host && port) {
            char *end = NULL;
            long p = strtol(port + 1, &end, 10);
            if (port[1] < '0' || port[1] > '9' || *end || p < 1 || p > 65535)
                host = NULL;
            else if (p == (https ? 443 : 80))
                *(char *)port = 0; /* the browser leaves the default port out */
        }
        size_t hl = host ? (port ? (size_t)(port - host) : strlen(host)) : 0;
        if (!host || hl == 0 || n > 255 || strpbrk(host, "/?#@ \\") ||
            (*host != '[' && strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") < hl))
            return op_fail(op, CC_ERR_INVALID,
                           "allowed_origins[%zu]: an origin like https://shop.example.com "
                           "(http or https, a host, an optional port; no path)",
                           i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->allowed_origins[j], o) == 0)
                return op_fail(op, CC_ERR_INVALID, "allowed_origins[%zu]: listed twice", i);
    }
    return CC_OK;
}

/* Media hosts: DNS names, "*." in front for any name under one
 * ("*.fbcdn.net"); never an address or localhost (cc_netguard). */
static enum cc_status check_media_hosts(struct op *op, Cc__V1__Channel *c)
{
    if (c->n_media_hosts && strcmp(c->type, "webchat") == 0)
        return op_fail(op, CC_ERR_INVALID, "media_hosts: not for webchat channels");
    if (c->n_media_hosts > MAX_CHANNEL_LIST)
        return op_fail(op, CC_ERR_INVALID, "media_hosts: at most %d", MAX_CHANNEL_LIST);
    for (size_t i = 0; i < c->n_media_hosts; i++) {
        char *h = c->media_hosts[i];
        lower(h);
        const char *name = strncmp(h, "*.", 2) == 0 ? h + 2 : h;
        if (!dns_name(name))
            return op_fail(op, CC_ERR_INVALID,
                           "media_hosts[%zu]: a host name like cdn.example.com or *.example.com "
                           "(no scheme, port, address or localhost)",
                           i);
    }
    return CC_OK;
}

/* The widget's settings: a colour #rrggbb, a pre-chat mode, a language. */
static enum cc_status check_webchat(struct op *op, const Cc__V1__Channel *c)
{
    static const char *const prechat[] = {"off", "optional", "required", NULL};
    const Cc__V1__WebchatSettings *w = c->webchat;
    enum cc_status st;
    if (!w)
        return CC_OK;
    if (strcmp(c->type, "webchat") != 0)
        return op_fail(op, CC_ERR_INVALID, "webchat: only for web-chat channels");
    if ((st = check_text(op, "webchat.title", w->title, 0, 100)) ||
        (st = check_one_of(op, "webchat.prechat", w->prechat, 0, prechat)))
        return st;
    if (w->title && *w->title && strspn(w->title, " \t") == strlen(w->title))
        return op_fail(op, CC_ERR_INVALID, "webchat.title: not only spaces");
    if (w->color && *w->color &&
        (strlen(w->color) != 7 || w->color[0] != '#' ||
         strspn(w->color + 1, "0123456789abcdefABCDEF") != 6))
        return op_fail(op, CC_ERR_INVALID, "webchat.color: #rrggbb");
    if (w->language && *w->language && !language_tag(w->language))
        return op_fail(op, CC_ERR_INVALID, "webchat.language: a language tag (en, pl, es, uk)");
    return CC_OK;
}

static enum cc_status channel_prepare(struct op *op, ProtobufCMessage *obj,
                                      const ProtobufCMessage *old)
{
    static const char *const types[] = {"telegram", "viber", "infobip_whatsapp",
                                        "whatsapp_cloud", "messenger", "webchat", NULL};
    Cc__V1__Channel *c = (Cc__V1__Channel *)obj;
    ProtobufCMessage *q = NULL;
    enum cc_status st;
    (void)old;
    if (!c->api_version && (st = store_set_str(obj, "api_version", "v21.0")))
        return st;
    if ((st = check_one_of(op, "type", c->type, 1, types)) ||
        (st = check_text(op, "name", c->name, 1, 100)) ||
        (st = check_text(op, "queue_id", c->queue_id, 1, 64)) ||
        (st = check_text(op, "api_version", c->api_version, 1, 16)) ||
        (st = check_url(op, c->api_base_url)) || (st = check_credentials(op, c)) ||
        (st = check_origins(op, c)) || (st = check_media_hosts(op, c)) ||
        (st = check_webchat(op, c)))
        return st;
    if (strcmp(c->type, "webchat") != 0 && !c->api_base_url)
        return op_fail(op, CC_ERR_INVALID, "api_base_url: required for %s", c->type);
    st = store_get(op->reg->redis, &kind_queues.store, c->queue_id, &q);
    if (st == CC_ERR_NOT_FOUND)
        return op_fail(op, CC_ERR_INVALID, "queue_id: no such queue");
    if (st == CC_OK && strcmp(((Cc__V1__Queue *)q)->channel, "chat") != 0)
        st = op_fail(op, CC_ERR_INVALID, "queue_id: a channel needs a chat queue");
    if (q)
        protobuf_c_message_free_unpacked(q, NULL);
    return st;
}

/* Credentials are input only for staff; chat-gateway (a service) reads them. */
static void channel_redact(const struct op *op, ProtobufCMessage *obj)
{
    Cc__V1__Channel *c = (Cc__V1__Channel *)obj;
    if (op->caller && op->caller->has_service && op->caller->service)
        return;
    c->has_has_credentials = 1;
    c->has_credentials = c->credentials != NULL;
    if (c->credentials)
        protobuf_c_message_free_unpacked(&c->credentials->base, NULL);
    c->credentials = NULL;
}

const struct kind kind_channels = {
    {"channels", "chn", &cc__v1__channel__descriptor, {"name"}, "channel"},
    admin_only, NULL, channel_prepare, NULL, channel_redact,
};

/* --- lookup ------------------------------------------------------------------------------------------- */

const struct kind *kind_find(const char *name)
{
    static const struct kind *const all[] = {&kind_users, &kind_teams, &kind_skills,
                                             &kind_queues, &kind_pause_causes,
                                             &kind_quick_replies, &kind_results, &kind_channels};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->store.name, name) == 0)
            return all[i];
    return NULL;
}
