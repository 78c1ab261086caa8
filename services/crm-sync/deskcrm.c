/* deskcrm.c - the CRM side of the desk's actions (desk.h): contacts,
 * cases and consultation activities written to Creatio over OData with
 * the configured object and field names, or sent to another CRM as
 * signed webhook events ("contact.link", "contact.create", "case.create",
 * "case.consult") whose JSON answers give the ids (docs/crm.md). Records
 * created here get an Id chosen here, so an answer without the entity
 * still tells which record was made. */
#include "desk.h"
#include "cc_log.h"
#include "cc_pbjson.h"
#include "cc_time.h"
#include "odata.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME(n) CRM_NAME(a->conf, n)

/* A random (version 4) GUID. */
static void new_guid(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40), b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Records why the CRM failed `what`; the status the caller answers. */
static enum cc_status crm_failed(struct desk_act *a, const char *what, enum cc_status st,
                                 const struct creatio_answer *ans)
{
    snprintf(a->why, sizeof a->why, "CRM: %.64s: %.180s", what,
             ans && ans->error[0] ? ans->error : cc_status_str(st));
    CC_WARN("crm: desk action: %s", a->why);
    return CC_ERR_UNAVAILABLE;
}

/* An id a webhook receiver gave: 1..64 of [A-Za-z0-9_.:-]. */
static int ref_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

/* "Object(<guid>)?$select=..." into b. */
static enum cc_status entity_path(struct cc_buf *b, const char *object, const char *id,
                                  const char *select)
{
    if (cc_buf_addf(b, "%s(%s)", object, id) != CC_OK)
        return CC_ERR_NOMEM;
    return odata_query(b, "$select", select);
}

/* GETs one entity; CC_ERR_NOT_FOUND when the CRM has none. */
static enum cc_status get_entity(struct desk_act *a, const char *object, const char *id,
                                 const char *select, cJSON **obj)
{
    struct cc_buf path = CC_BUF_INIT;
    struct creatio_answer ans = {0};
    enum cc_status st = entity_path(&path, object, id, select);
    *obj = NULL;
    if (st == CC_OK)
        st = creatio_get(a->conf->creatio, path.data, obj, &ans);
    if (st != CC_OK && st != CC_ERR_NOT_FOUND && st != CC_ERR_NOMEM)
        st = crm_failed(a, object, st, &ans);
    creatio_answer_release(&ans);
    cc_buf_release(&path);
    return st;
}

/* POSTs `body` as a new `object`; its answer (may be NULL) into *obj. */
static enum cc_status post_entity(struct desk_act *a, const char *object, const cJSON *body,
                                  cJSON **obj)
{
    struct creatio_answer ans = {0};
    enum cc_status st = creatio_send(a->conf->creatio, "POST", object, body, obj, &ans);
    if (st != CC_OK)
        st = crm_failed(a, object, st, &ans);
    creatio_answer_release(&ans);
    return st;
}

/* Adds `name`: `value` to `o` when value is set. 0 when out of memory. */
static int put_str(cJSON *o, const char *name, const char *value)
{
    return !value || !value[0] || cJSON_AddStringToObject(o, name, value) != NULL;
}

static int put_guid(cJSON *o, const char *name, const char *value)
{
    return !value || !odata_guid_valid(value) || cJSON_AddStringToObject(o, name, value) != NULL;
}

/* --- the webhook adapter -------------------------------------------------------------------- */

/* The interaction as the receiver sees it: {"kind", "id", "chat"|"call": {...}}. */
static cJSON *ix_json(const struct desk_ix *ix)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *rec = cc_pbjson_to_json(ix->chat ? &ix->chat->base : &ix->call->base, 0);
    if (!o || !rec || !cJSON_AddStringToObject(o, "kind", ix->kind) ||
        !cJSON_AddStringToObject(o, "id", ix->id ? ix->id : "") ||
        !cJSON_AddItemToObject(o, ix->kind, rec)) {
        cJSON_Delete(rec);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Sends event `event` with the members of `args` (taken) and reads the
 * answer as `desc` into *out. */
static enum cc_status hook(struct desk_act *a, const char *event, cJSON *args,
                           const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    cJSON *ev = args, *ix = ix_json(&a->ix), *ans = NULL;
    char *text = NULL, *answer = NULL, why[256] = "";
    enum cc_status st = CC_ERR_NOMEM;
    *out = NULL;
    if (ev && ix && cJSON_AddStringToObject(ev, "event", event) &&
        cJSON_AddStringToObject(ev, "by", a->who->user_id ? a->who->user_id : "") &&
        cJSON_AddItemToObject(ev, "interaction", ix) &&
        (ix = NULL, text = cJSON_PrintUnformatted(ev)))
        st = webhook_post(a->conf, event, text, &answer, why, sizeof why);
    if (st == CC_OK) {
        ans = answer ? cJSON_Parse(answer) : NULL;
        if (cc_pbjson_from_json(desc, ans, out, why, sizeof why) != CC_OK) {
            snprintf(why, sizeof why, "webhook: the answer is not the documented JSON");
            st = CC_ERR_UNAVAILABLE;
        }
    } else if (st != CC_ERR_NOMEM) { /* a 4xx is the receiver's refusal, the rest an outage */
        st = st == CC_ERR_INVALID ? CC_ERR_INVALID : CC_ERR_UNAVAILABLE;
    }
    if (st != CC_OK)
        snprintf(a->why, sizeof a->why, "CRM: %.240s", why[0] ? why : cc_status_str(st));
    cJSON_Delete(ans), cJSON_Delete(ix), cJSON_Delete(ev);
    free(text), free(answer);
    return st;
}

static enum cc_status hook_contact(struct desk_act *a, const char *event, cJSON *args,
                                   Cc__V1__Contact **out)
{
    ProtobufCMessage *m = NULL;
    enum cc_status st = hook(a, event, args, &cc__v1__contact__descriptor, &m);
    *out = (Cc__V1__Contact *)m;
    if (st == CC_OK && (!ref_ok((*out)->id) || ((*out)->account_id && (*out)->account_id[0] &&
                                                !ref_ok((*out)->account_id)))) {
        snprintf(a->why, sizeof a->why, "CRM: webhook: the answer has no usable contact id");
        cc__v1__contact__free_unpacked(*out, NULL);
        *out = NULL;
        st = CC_ERR_UNAVAILABLE;
    }
    return st;
}

static enum cc_status hook_case(struct desk_act *a, const char *event, cJSON *args,
                                Cc__V1__CaseReply **out)
{
    ProtobufCMessage *m = NULL;
    enum cc_status st = hook(a, event, args, &cc__v1__case_reply__descriptor, &m);
    *out = (Cc__V1__CaseReply *)m;
    if (st == CC_OK &&
        (!ref_ok((*out)->case_id) ||
         ((*out)->activity_id && (*out)->activity_id[0] && !ref_ok((*out)->activity_id)))) {
        snprintf(a->why, sizeof a->why, "CRM: webhook: the answer has no usable case id");
        cc__v1__case_reply__free_unpacked(*out, NULL);
        *out = NULL;
        st = CC_ERR_UNAVAILABLE;
    }
    return st;
}

/* --- contacts ------------------------------------------------------------------------------- */

static enum cc_status contact_answer(struct desk_act *a, const cJSON *row, Cc__V1__Contact **out)
{
    Cc__V1__ContactList l = CC__V1__CONTACT_LIST__INIT;
    if (!(*out = identify_contact(a->conf, row)))
        return CC_ERR_NOMEM;
    l.items = out, l.n_items = 1;
    identify_account_names(a->conf, &l);
    return CC_OK;
}

enum cc_status deskcrm_contact_get(struct desk_act *a, const char *id, Cc__V1__Contact **out)
{
    char sel[400];
    cJSON *row = NULL;
    *out = NULL;
    if (a->conf->type == CRM_WEBHOOK) {
        cJSON *args = cJSON_CreateObject();
        if (args && !cJSON_AddStringToObject(args, "contact_id", id))
            cJSON_Delete(args), args = NULL;
        return hook_contact(a, "contact.link", args, out);
    }
    if (!odata_guid_valid(id)) {
        snprintf(a->why, sizeof a->why, "contact_id: not a CRM contact id");
        return CC_ERR_INVALID;
    }
    snprintf(sel, sizeof sel, "Id,%s,%s,%s,%s,%s", NAME(N_CONTACT_NAME), NAME(N_CONTACT_ACCOUNT),
             NAME(N_CONTACT_PHONE), NAME(N_CONTACT_MOBILE), NAME(N_CONTACT_EMAIL));
    enum cc_status st = get_entity(a, NAME(N_CONTACT_OBJECT), id, sel, &row);
    if (st == CC_ERR_NOT_FOUND) {
        snprintf(a->why, sizeof a->why, "contact_id: no such contact in the CRM");
        st = CC_ERR_INVALID;
    }
    if (st == CC_OK)
        st = contact_answer(a, row, out);
    cJSON_Delete(row);
    return st;
}

/* The record that identifies a chat customer's channel id as this contact
 * next time (cc.crm.identify reads it). Best effort: the contact exists. */
static void identity_row(struct desk_act *a, const char *contact_id)
{
    char id[37];
    cJSON *row = cJSON_CreateObject(), *ans = NULL;
    new_guid(id);
    if (row && put_str(row, "Id", id) && put_str(row, NAME(N_IDENT_CONTACT), contact_id) &&
        put_str(row, NAME(N_IDENT_FIELD), a->ix.from) &&
        put_str(row, NAME(N_IDENT_TYPE), NAME(N_IDENT_TYPE_VALUE)) &&
        post_entity(a, NAME(N_IDENT_OBJECT), row, &ans) != CC_OK)
        CC_WARN("crm: contact %s created without its channel id (%s)", contact_id, a->why);
    a->why[0] = 0;
    cJSON_Delete(ans);
    cJSON_Delete(row);
}

enum cc_status deskcrm_contact_create(struct desk_act *a, const Cc__V1__Contact *want,
                                      Cc__V1__Contact **out)
{
    char id[37];
    cJSON *row = cJSON_CreateObject(), *ans = NULL;
    enum cc_status st = CC_ERR_NOMEM;
    *out = NULL;
    if (a->conf->type == CRM_WEBHOOK) {
        cJSON *args = cJSON_CreateObject(), *ct = cc_pbjson_to_json(&want->base, 0);
        cJSON_Delete(row);
        if (!args || !ct || !cJSON_AddItemToObject(args, "contact", ct)) {
            cJSON_Delete(ct), cJSON_Delete(args);
            return CC_ERR_NOMEM;
        }
        return hook_contact(a, "contact.create", args, out);
    }
    new_guid(id);
    if (row && put_str(row, "Id", id) && put_str(row, NAME(N_CONTACT_NAME), want->name) &&
        put_str(row, NAME(N_CONTACT_MOBILE), want->phone) &&
        put_str(row, NAME(N_CONTACT_EMAIL), want->email))
        st = post_entity(a, NAME(N_CONTACT_OBJECT), row, &ans);
    if (st == CC_OK && a->ix.chat && a->ix.from && a->ix.from[0])
        identity_row(a, id);
    if (st == CC_OK)
        st = contact_answer(a, row, out);
    cJSON_Delete(ans);
    cJSON_Delete(row);
    return st;
}

/* --- cases ---------------------------------------------------------------------------------- */

static enum cc_status case_reply(struct desk_act *a, const char *case_id, const char *number,
                                 const char *activity_id, Cc__V1__CaseReply **out)
{
    char url[1024];
    if (!(*out = malloc(sizeof **out)))
        return CC_ERR_NOMEM;
    cc__v1__case_reply__init(*out);
    settings_ui_url(a->conf, NAME(N_CASE_OBJECT), case_id, url, sizeof url);
    (*out)->case_id = strdup(case_id);
    (*out)->number = number ? strdup(number) : NULL;
    (*out)->url = url[0] ? strdup(url) : NULL;
    (*out)->activity_id = activity_id ? strdup(activity_id) : NULL;
    if (!(*out)->case_id) {
        cc__v1__case_reply__free_unpacked(*out, NULL);
        *out = NULL;
        return CC_ERR_NOMEM;
    }
    return CC_OK;
}

/* The number the CRM gave case `id` (answered on create, else read). */
static char *case_number(struct desk_act *a, const cJSON *created, const char *id)
{
    const char *n = odata_str(created, NAME(N_CASE_NUMBER), 64);
    cJSON *row = NULL;
    char *out = NULL;
    if (n)
        return strdup(n);
    if (get_entity(a, NAME(N_CASE_OBJECT), id, NAME(N_CASE_NUMBER), &row) == CC_OK &&
        (n = odata_str(row, NAME(N_CASE_NUMBER), 64)))
        out = strdup(n);
    a->why[0] = 0;
    cJSON_Delete(row);
    return out;
}

enum cc_status deskcrm_case_create(struct desk_act *a, const char *subject, const char *category,
                                   const char *symptoms, Cc__V1__CaseReply **out)
{
    char id[37], *number = NULL;
    cJSON *row = NULL, *ans = NULL;
    enum cc_status st = CC_ERR_NOMEM;
    *out = NULL;
    if (a->conf->type == CRM_WEBHOOK) {
        cJSON *args = cJSON_CreateObject();
        if (!args || !put_str(args, "subject", subject) || !put_str(args, "symptoms", symptoms) ||
            !put_str(args, "category", category)) {
            cJSON_Delete(args);
            return CC_ERR_NOMEM;
        }
        return hook_case(a, "case.create", args, out);
    }
    if (category && !odata_guid_valid(category)) {
        snprintf(a->why, sizeof a->why, "category_id: not a CRM category id");
        return CC_ERR_INVALID;
    }
    new_guid(id);
    if ((row = cJSON_CreateObject()) && put_str(row, "Id", id) &&
        put_str(row, NAME(N_CASE_SUBJECT), subject) &&
        put_str(row, NAME(N_CASE_SYMPTOMS), symptoms) &&
        put_guid(row, NAME(N_CASE_CONTACT), a->ix.contact_id) &&
        put_guid(row, NAME(N_CASE_ACCOUNT), a->ix.account_id) &&
        put_str(row, NAME(N_CASE_STATUS), NAME(N_CASE_STATUS_NEW)) &&
        put_str(row, NAME(N_CASE_CATEGORY), category ? category : NAME(N_CASE_CATEGORY_DEFAULT)))
        st = post_entity(a, NAME(N_CASE_OBJECT), row, &ans);
    if (st == CC_OK) {
        number = case_number(a, ans, id);
        st = case_reply(a, id, number, NULL, out);
    }
    free(number);
    cJSON_Delete(ans);
    cJSON_Delete(row);
    return st;
}

/* The activity that records the consultation on case `case_id`. */
static enum cc_status add_activity(struct desk_act *a, const char *case_id, const char *contact,
                                   const char *title, char id[37])
{
    char now[40];
    cJSON *row = cJSON_CreateObject(), *ans = NULL;
    enum cc_status st = CC_ERR_NOMEM;
    new_guid(id);
    if (cc_time_format_ms(cc_time_now_ms(), now, sizeof now) != 0)
        now[0] = 0;
    if (row && put_str(row, "Id", id) && put_str(row, NAME(N_ACTIVITY_TITLE), title) &&
        put_str(row, NAME(N_ACTIVITY_TYPE), NAME(N_ACTIVITY_TYPE_TASK)) &&
        put_str(row, NAME(N_ACTIVITY_STATUS), NAME(N_ACTIVITY_STATUS_DONE)) &&
        put_str(row, NAME(N_ACTIVITY_CASE), case_id) &&
        put_guid(row, NAME(N_ACTIVITY_CONTACT), contact) &&
        put_str(row, NAME(N_ACTIVITY_START), now) && put_str(row, NAME(N_ACTIVITY_DUE), now))
        st = post_entity(a, NAME(N_ACTIVITY_OBJECT), row, &ans);
    cJSON_Delete(ans);
    cJSON_Delete(row);
    return st;
}

enum cc_status deskcrm_case_consult(struct desk_act *a, const char *case_id, const char *summary,
                                    Cc__V1__CaseReply **out)
{
    char sel[300], act[37], title[400];
    cJSON *row = NULL;
    *out = NULL;
    if (a->conf->type == CRM_WEBHOOK) {
        cJSON *args = cJSON_CreateObject();
        if (!args || !put_str(args, "case_id", case_id) || !put_str(args, "title", summary)) {
            cJSON_Delete(args);
            return CC_ERR_NOMEM;
        }
        return hook_case(a, "case.consult", args, out);
    }
    if (!odata_guid_valid(case_id)) {
        snprintf(a->why, sizeof a->why, "case_id: not a CRM case id");
        return CC_ERR_INVALID;
    }
    snprintf(sel, sizeof sel, "Id,%s,%s,%s", NAME(N_CASE_NUMBER), NAME(N_CASE_SUBJECT),
             NAME(N_CASE_CONTACT));
    enum cc_status st = get_entity(a, NAME(N_CASE_OBJECT), case_id, sel, &row);
    if (st == CC_ERR_NOT_FOUND) {
        snprintf(a->why, sizeof a->why, "case_id: no such case in the CRM");
        st = CC_ERR_INVALID;
    }
    const char *number = st == CC_OK ? odata_str(row, NAME(N_CASE_NUMBER), 64) : NULL;
    const char *contact = a->ix.contact_id && odata_guid_valid(a->ix.contact_id)
                              ? a->ix.contact_id
                              : odata_guid(row, NAME(N_CASE_CONTACT));
    snprintf(title, sizeof title, "Consultation%s%s: %s", number ? " on " : "",
             number ? number : "", summary);
    if (st == CC_OK)
        st = add_activity(a, case_id, contact, title, act);
    if (st == CC_OK)
        st = case_reply(a, case_id, number, act, out);
    cJSON_Delete(row);
    return st;
}
