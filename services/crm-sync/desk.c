/* desk.c - the desk's CRM actions as subjects (desk.h, docs/crm.md):
 *   cc.crm.contacts.link  LinkRequest -> Contact    link a chat or call to a contact,
 *                                                   or create the contact from it first
 *   cc.crm.case.create    CaseRequest -> CaseReply  a new case from it (symptoms: the
 *                                                   conversation), or a consultation
 *                                                   activity on an existing case
 *   cc.crm.links          RecordLinks -> RecordLinks the CRM UI links of record ids
 * and then the chat or call is linked (links.contact_id and account_id, or
 * case_id and activity_id) through its owner. Who may act is decided by the
 * owner: the interaction is read as the caller (chat-gateway and
 * call-router answer only what the caller may see, else it is "not
 * found"); of the agents, only the one on it may act. */
#include "desk.h"
#include "cc/v1/call.pb-c.h"
#include "cc/v1/chat.pb-c.h"
#include "cc_buf.h"
#include "cc_log.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OWNER_TIMEOUT_MS 5000
#define MAX_SYMPTOMS 16000 /* bytes of conversation put into a case */
#define MAX_SUBJECT 250
#define WORKERS 2

static int same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static int valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n < 100 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") == n;
}

static enum cc_status refuse(struct desk_act *a, enum cc_status st, const char *why)
{
    snprintf(a->why, sizeof a->why, "%s", why);
    return st;
}

/* The interaction's fields the actions use, borrowed from chat or call. */
static void ix_fields(struct desk_ix *ix)
{
    const Cc__V1__ChatLinks *l = ix->chat ? ix->chat->links : ix->call->links;
    if (ix->chat)
        ix->id = ix->chat->id, ix->name = ix->chat->name, ix->from = ix->chat->from,
        ix->agent_id = ix->chat->agent_id;
    else
        ix->id = ix->call->id, ix->name = ix->call->customer_name, ix->from = ix->call->from,
        ix->agent_id = ix->call->agent_id;
    ix->contact_id = l && l->contact_id && l->contact_id[0] ? l->contact_id : NULL;
    ix->account_id = l && l->account_id && l->account_id[0] ? l->account_id : NULL;
}

/* Reads interaction `kind`/`id` as the caller: CC_ERR_NOT_FOUND when its
 * owner hides it, CC_ERR_FORBIDDEN for an agent who is not on it. */
static enum cc_status ix_load(struct desk_act *a, const char *kind, const char *id)
{
    ProtobufCMessage *rep = NULL;
    char err[200] = "";
    enum cc_status st;
    if (!same(kind, "chat") && !same(kind, "call"))
        return refuse(a, CC_ERR_INVALID, "kind: chat or call");
    a->ix.kind = same(kind, "chat") ? "chat" : "call";
    if (!valid_id(id))
        return refuse(a, CC_ERR_NOT_FOUND, a->ix.kind[1] == 'h' ? "no such chat" : "no such call");
    if (a->ix.kind[1] == 'h') {
        Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
        r.caller = (Cc__V1__Caller *)a->who, r.chat_id = CC_PB_STR(id);
        st = cc_nats_request(a->c->nats, SUBJ_CHAT_GET, &r.base, &cc__v1__chat__descriptor,
                             OWNER_TIMEOUT_MS, &rep, err, sizeof err);
        a->ix.chat = (Cc__V1__Chat *)rep;
    } else {
        Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
        r.caller = (Cc__V1__Caller *)a->who, r.id = CC_PB_STR(id);
        st = cc_nats_request(a->c->nats, SUBJ_CALL_GET, &r.base, &cc__v1__call__descriptor,
                             OWNER_TIMEOUT_MS, &rep, err, sizeof err);
        a->ix.call = (Cc__V1__Call *)rep;
    }
    if (st == CC_ERR_NOT_FOUND || st == CC_ERR_FORBIDDEN)
        return refuse(a, CC_ERR_NOT_FOUND, a->ix.kind[1] == 'h' ? "no such chat" : "no such call");
    if (st != CC_OK) {
        snprintf(a->why, sizeof a->why, "%s: %s",
                 a->ix.kind[1] == 'h' ? "chat-gateway" : "call-router",
                 err[0] ? err : cc_status_str(st));
        return st == CC_ERR_INVALID ? CC_ERR_INTERNAL : CC_ERR_UNAVAILABLE;
    }
    ix_fields(&a->ix);
    if (!same(a->who->role, "admin") && !same(a->who->role, "supervisor") &&
        !same(a->who->user_id, a->ix.agent_id))
        return refuse(a, CC_ERR_FORBIDDEN,
                      "only the agent on it, a supervisor of its queue or an admin may do this");
    return CC_OK;
}

/* Sets the links given (NULL: unchanged) on the interaction, as the caller. */
static enum cc_status ix_link(struct desk_act *a, const Cc__V1__ChatLinks *links)
{
    ProtobufCMessage *rep = NULL;
    char err[200] = "";
    enum cc_status st;
    if (a->ix.chat) {
        Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
        Cc__V1__Chat patch = CC__V1__CHAT__INIT;
        patch.links = (Cc__V1__ChatLinks *)links;
        r.caller = (Cc__V1__Caller *)a->who, r.chat_id = CC_PB_STR(a->ix.id), r.patch = &patch;
        st = cc_nats_request(a->c->nats, SUBJ_CHAT_UPDATE, &r.base, &cc__v1__chat__descriptor,
                             OWNER_TIMEOUT_MS, &rep, err, sizeof err);
    } else {
        Cc__V1__CallRequest r = CC__V1__CALL_REQUEST__INIT;
        Cc__V1__Call patch = CC__V1__CALL__INIT;
        patch.links = (Cc__V1__ChatLinks *)links;
        r.caller = (Cc__V1__Caller *)a->who, r.id = CC_PB_STR(a->ix.id), r.patch = &patch;
        st = cc_nats_request(a->c->nats, SUBJ_CALL_UPDATE, &r.base, &cc__v1__call__descriptor,
                             OWNER_TIMEOUT_MS, &rep, err, sizeof err);
    }
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    if (st != CC_OK) {
        snprintf(a->why, sizeof a->why, "made in the CRM, but the %s was not linked: %s",
                 a->ix.kind, err[0] ? err : cc_status_str(st));
        CC_WARN("crm: %s %s: %s", a->ix.kind, a->ix.id, a->why);
    }
    return st;
}

/* --- what goes into a case ------------------------------------------------------------------ */

static const char *speaker(const Cc__V1__ChatMessage *m)
{
    if (same(m->direction, "in"))
        return "Customer";
    return same(m->author, "bot") ? "Bot" : same(m->direction, "out") ? "Agent" : "System";
}

/* The chat's messages as "HH:MM:SS Who: text" lines, read as the caller. */
static enum cc_status chat_symptoms(struct desk_act *a, struct cc_buf *b)
{
    Cc__V1__ChatRequest r = CC__V1__CHAT_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    char err[200] = "";
    r.caller = (Cc__V1__Caller *)a->who, r.chat_id = CC_PB_STR(a->ix.id);
    enum cc_status st =
        cc_nats_request(a->c->nats, SUBJ_CHAT_MESSAGES, &r.base, &cc__v1__message_list__descriptor,
                        OWNER_TIMEOUT_MS, &rep, err, sizeof err);
    if (st != CC_OK) {
        snprintf(a->why, sizeof a->why, "chat-gateway: %s", err[0] ? err : cc_status_str(st));
        return CC_ERR_UNAVAILABLE;
    }
    const Cc__V1__MessageList *l = (const Cc__V1__MessageList *)rep;
    (void)cc_buf_addf(b, "Chat %s (%s) with %s\n", a->ix.id,
                      a->ix.chat->source ? a->ix.chat->source : "",
                      a->ix.name   ? a->ix.name
                      : a->ix.from ? a->ix.from
                                   : "a customer");
    for (size_t i = 0; i < l->n_items && b->len < MAX_SYMPTOMS; i++) {
        const Cc__V1__ChatMessage *m = l->items[i];
        const char *at = m->created_at && strlen(m->created_at) >= 19 ? m->created_at + 11 : "";
        (void)cc_buf_addf(b, "%.8s %s: %s", at, speaker(m), m->text ? m->text : "");
        for (size_t k = 0; k < m->n_attachments; k++)
            (void)cc_buf_addf(b, " [file: %s]",
                              m->attachments[k]->name ? m->attachments[k]->name : "?");
        (void)cc_buf_adds(b, "\n");
    }
    protobuf_c_message_free_unpacked(rep, NULL);
    return b->oom ? CC_ERR_NOMEM : CC_OK;
}

/* The call's details, one per line. */
static enum cc_status call_symptoms(struct desk_act *a, struct cc_buf *b)
{
    const Cc__V1__Call *c = a->ix.call;
    const struct {
        const char *label, *value;
    } lines[] = {{"From", c->from},
                 {"To", c->to},
                 {"Direction", c->direction},
                 {"Queue", c->queue_name},
                 {"Answered", c->answered_at},
                 {"Ended", c->ended_at},
                 {"Outcome", c->outcome},
                 {"Result details", c->result_details}};
    (void)cc_buf_addf(b, "Call %s with %s\n", c->id,
                      a->ix.name ? a->ix.name
                      : c->from  ? c->from
                                 : "?");
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        if (lines[i].value && lines[i].value[0])
            (void)cc_buf_addf(b, "%s: %.2000s\n", lines[i].label, lines[i].value);
    if (c->has_talk_s)
        (void)cc_buf_addf(b, "Talk time: %.0f s\n", c->talk_s);
    return b->oom ? CC_ERR_NOMEM : CC_OK;
}

/* --- the subjects --------------------------------------------------------------------------- */

/* Starts an action of `who` on `kind`/`id`: the configuration held, the
 * interaction read and the caller checked. Release with act_end. */
static enum cc_status act_begin(struct desk_act *a, struct crm *c, const Cc__V1__Caller *who,
                                const char *kind, const char *id)
{
    memset(a, 0, sizeof *a);
    a->c = c, a->conf = settings_get(c), a->who = who;
    if (!who || !who->user_id || !who->role)
        return refuse(a, CC_ERR_INVALID, "unreadable request");
    if (a->conf->type == CRM_NONE)
        return refuse(a, CC_ERR_CONFLICT, "no CRM is configured");
    return ix_load(a, kind, id);
}

static void act_end(struct desk_act *a)
{
    if (a->ix.chat)
        cc__v1__chat__free_unpacked(a->ix.chat, NULL);
    if (a->ix.call)
        cc__v1__call__free_unpacked(a->ix.call, NULL);
    settings_put(a->conf);
}

static void answer(struct desk_act *a, const struct cc_nats_msg *m, enum cc_status st,
                   const ProtobufCMessage *reply)
{
    if (st == CC_OK && cc_nats_respond(a->c->nats, m, reply) != CC_OK)
        CC_WARN("crm: %s answer not sent", m->subject);
    if (st != CC_OK)
        (void)cc_nats_respond_error(a->c->nats, m, st, a->why[0] ? a->why : NULL);
}

/* The contact to create: what the agent gave, else the interaction's customer. */
static enum cc_status new_contact(struct desk_act *a, const Cc__V1__Contact *given,
                                  Cc__V1__Contact *want)
{
    const char *phone = given->phone && given->phone[0] ? given->phone
                        : a->ix.call                    ? a->ix.from
                                                        : NULL;
    cc__v1__contact__init(want);
    want->name = CC_PB_STR(given->name && given->name[0] ? given->name
                           : a->ix.name && a->ix.name[0] ? a->ix.name
                                                         : a->ix.from);
    want->phone = CC_PB_STR(phone), want->email = CC_PB_STR(given->email);
    if (!want->name || !want->name[0] || strlen(want->name) > 200)
        return refuse(a, CC_ERR_INVALID, "name: 1..200 characters");
    if ((want->phone && strlen(want->phone) > 64) || (want->email && strlen(want->email) > 200))
        return refuse(a, CC_ERR_INVALID, "phone or email too long");
    return CC_OK;
}

static void on_link(void *arg, const struct cc_nats_msg *m)
{
    struct desk_act a;
    Cc__V1__LinkRequest *req = cc__v1__link_request__unpack(NULL, m->len, m->data);
    Cc__V1__Contact *ct = NULL, want;
    enum cc_status st =
        act_begin(&a, arg, req ? req->caller : NULL, req ? req->kind : NULL, req ? req->id : NULL);
    if (st == CC_OK && req->contact_id && req->contact_id[0])
        st = deskcrm_contact_get(&a, req->contact_id, &ct);
    else if (st == CC_OK && req->create && (st = new_contact(&a, req->create, &want)) == CC_OK)
        st = deskcrm_contact_create(&a, &want, &ct);
    else if (st == CC_OK)
        st = refuse(&a, CC_ERR_INVALID, "contact_id, or create");
    if (st == CC_OK) {
        Cc__V1__ChatLinks l = CC__V1__CHAT_LINKS__INIT;
        l.contact_id = ct->id, l.account_id = ct->account_id ? ct->account_id : CC_PB_STR("");
        st = ix_link(&a, &l);
        CC_INFO("crm: %s %s linked to contact %s by %s", a.ix.kind, a.ix.id, ct->id,
                a.who->user_id);
    }
    answer(&a, m, st, ct ? &ct->base : NULL);
    if (ct)
        cc__v1__contact__free_unpacked(ct, NULL);
    act_end(&a);
    if (req)
        cc__v1__link_request__free_unpacked(req, NULL);
}

/* A new case from the interaction, linked to it. */
static enum cc_status new_case(struct desk_act *a, const Cc__V1__CaseRequest *req,
                               Cc__V1__CaseReply **out)
{
    struct cc_buf sym = CC_BUF_INIT;
    const char *cat = req->category && req->category[0] ? req->category : NULL;
    if (!req->subject || !req->subject[0] || strlen(req->subject) > MAX_SUBJECT)
        return refuse(a, CC_ERR_INVALID, "subject: 1..250 characters");
    if (cat && strlen(cat) > 64)
        return refuse(a, CC_ERR_INVALID, "category_id: at most 64 characters");
    enum cc_status st = a->ix.chat ? chat_symptoms(a, &sym) : call_symptoms(a, &sym);
    if (st == CC_OK)
        st = deskcrm_case_create(a, req->subject, cat, sym.data ? sym.data : "", out);
    if (st == CC_OK) {
        Cc__V1__ChatLinks l = CC__V1__CHAT_LINKS__INIT;
        l.case_id = (*out)->case_id;
        st = ix_link(a, &l);
    }
    cc_buf_release(&sym);
    return st;
}

/* A consultation on existing case `req->case_id`, linked to the interaction. */
static enum cc_status consult(struct desk_act *a, const Cc__V1__CaseRequest *req,
                              Cc__V1__CaseReply **out)
{
    char summary[300];
    if (strlen(req->case_id) > 64)
        return refuse(a, CC_ERR_INVALID, "case_id: at most 64 characters");
    snprintf(summary, sizeof summary, "%s %s with %.120s", a->ix.chat ? "chat" : "call", a->ix.id,
             a->ix.name   ? a->ix.name
             : a->ix.from ? a->ix.from
                          : "a customer");
    enum cc_status st = deskcrm_case_consult(a, req->case_id, summary, out);
    if (st == CC_OK) {
        Cc__V1__ChatLinks l = CC__V1__CHAT_LINKS__INIT;
        l.case_id = (*out)->case_id, l.activity_id = (*out)->activity_id;
        st = ix_link(a, &l);
    }
    return st;
}

static void on_case(void *arg, const struct cc_nats_msg *m)
{
    struct desk_act a;
    Cc__V1__CaseRequest *req = cc__v1__case_request__unpack(NULL, m->len, m->data);
    Cc__V1__CaseReply *rep = NULL;
    enum cc_status st =
        act_begin(&a, arg, req ? req->caller : NULL, req ? req->kind : NULL, req ? req->id : NULL);
    if (st == CC_OK)
        st = req->case_id && req->case_id[0] ? consult(&a, req, &rep) : new_case(&a, req, &rep);
    if (st == CC_OK)
        CC_INFO("crm: %s %s: case %s %s by %s", a.ix.kind, a.ix.id, rep->case_id,
                rep->activity_id ? "consulted" : "created", a.who->user_id);
    answer(&a, m, st, rep ? &rep->base : NULL);
    if (rep)
        cc__v1__case_reply__free_unpacked(rep, NULL);
    act_end(&a);
    if (req)
        cc__v1__case_request__free_unpacked(req, NULL);
}

/* The link to record `id` of `object` in the CRM UI into buf; *url_out = buf or NULL. */
static void link_of(struct crm_conf *conf, const char *object, const char *id, char **url_out,
                    char *buf, size_t cap)
{
    buf[0] = 0;
    if (id && valid_id(id) && strlen(id) <= 64)
        settings_ui_url(conf, object, id, buf, cap);
    *url_out = buf[0] ? buf : NULL;
}

/* cc.crm.links: the CRM UI links of a chat's or call's record ids (staff). */
static void on_links(void *arg, const struct cc_nats_msg *m)
{
    struct crm *c = arg;
    Cc__V1__RecordLinks *in = cc__v1__record_links__unpack(NULL, m->len, m->data);
    Cc__V1__RecordLinks out = CC__V1__RECORD_LINKS__INIT;
    char u[4][1024];
    if (!in || !in->caller || !in->caller->role) {
        (void)cc_nats_respond_error(c->nats, m, in ? CC_ERR_FORBIDDEN : CC_ERR_INVALID, NULL);
    } else {
        struct crm_conf *conf = settings_get(c);
        out.contact_id = in->contact_id, out.account_id = in->account_id;
        out.case_id = in->case_id, out.activity_id = in->activity_id;
        link_of(conf, CRM_NAME(conf, N_CONTACT_OBJECT), in->contact_id, &out.contact_url, u[0],
                sizeof u[0]);
        link_of(conf, CRM_NAME(conf, N_ACCOUNT_OBJECT), in->account_id, &out.account_url, u[1],
                sizeof u[1]);
        link_of(conf, CRM_NAME(conf, N_CASE_OBJECT), in->case_id, &out.case_url, u[2], sizeof u[2]);
        link_of(conf, CRM_NAME(conf, N_ACTIVITY_OBJECT), in->activity_id, &out.activity_url, u[3],
                sizeof u[3]);
        if (cc_nats_respond(c->nats, m, &out.base) != CC_OK)
            CC_WARN("crm: links answer not sent");
        settings_put(conf);
    }
    if (in)
        cc__v1__record_links__free_unpacked(in, NULL);
}

enum cc_status desk_start(struct crm *c)
{
    enum cc_status st = CC_OK;
    for (int i = 0; i < WORKERS && st == CC_OK; i++) {
        st = cc_nats_subscribe(c->nats, SUBJ_CRM_CONTACTS_LINK, "crm-sync", on_link, c);
        if (st == CC_OK)
            st = cc_nats_subscribe(c->nats, SUBJ_CRM_CASE_CREATE, "crm-sync", on_case, c);
    }
    if (st == CC_OK)
        st = cc_nats_subscribe(c->nats, SUBJ_CRM_LINKS, "crm-sync", on_links, c);
    return st;
}
