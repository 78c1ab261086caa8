/* crm.c - the CRM over HTTP (crm.h): each route builds the crm.proto
 * request with the caller and asks crm-sync, which decides who may do what
 * (admin for settings and status; for the desk's actions chat-gateway or
 * call-router are asked whether the caller may see the interaction). Here
 * only the request's shape is checked. Secrets are input only and are
 * removed from every answer, whatever crm-sync sends. */
#include "crm.h"
#include "auth.h"
#include "cc/v1/crm.pb-c.h"
#include "cc_pbjson.h"
#include "forward.h"
#include "gateway.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <string.h>

#define MAX_Q 200

static const char *const secrets[] = {"password", "client_secret", "webhook_secret",
                                      "provisioning_token"};

/* Answers `rep` as JSON with `status`, secrets left out; frees rep. */
static void answer(ProtobufCMessage *rep, int status, struct cc_http_resp *resp)
{
    cJSON *j = forward_json(rep);
    protobuf_c_message_free_unpacked(rep, NULL);
    for (size_t i = 0; j && i < sizeof secrets / sizeof *secrets; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(j, secrets[i]);
    if (j)
        cc_http_json(resp, status, j);
    else
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
}

/* Asks `subject` with `msg` and answers the reply (`desc`) with `status`. */
static void ask(struct api_gateway *gw, const char *subject, const ProtobufCMessage *msg,
                const ProtobufCMessageDescriptor *desc, int status, struct cc_http_resp *resp)
{
    ProtobufCMessage *rep = NULL;
    if (forward_request(gw, subject, msg, desc, &rep, resp) == CC_OK)
        answer(rep, status, resp);
}

void crm_settings_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__SettingsRequest r = CC__V1__SETTINGS_REQUEST__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    r.caller = &caller;
    ask(rt->gw, SUBJ_CRM_SETTINGS_GET, &r.base, &cc__v1__crm_settings__descriptor, 200, resp);
}

void crm_settings_put(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"type",
                                          "url",
                                          "odata_prefix",
                                          "auth",
                                          "user",
                                          "password",
                                          "identity_url",
                                          "client_id",
                                          "client_secret",
                                          "ca_file",
                                          "ui_url",
                                          "webhook_url",
                                          "webhook_secret",
                                          "provisioning_token",
                                          "phone_digits",
                                          "poll_s",
                                          "timeout_ms",
                                          "names",
                                          NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__SettingsRequest r = CC__V1__SETTINGS_REQUEST__INIT;
    ProtobufCMessage *s = NULL;
    char why[256], *fields[32];
    size_t n = 0;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK ||
        forward_fields_only(req->json, allowed, resp) != CC_OK)
        return;
    enum cc_status st =
        cc_pbjson_from_json(&cc__v1__crm_settings__descriptor, req->json, &s, why, sizeof why);
    if (st != CC_OK) {
        cc_http_error(resp, st, why);
        return;
    }
    for (const cJSON *f = req->json->child; f && n < sizeof fields / sizeof *fields; f = f->next)
        fields[n++] = f->string;
    r.caller = &caller, r.settings = (Cc__V1__CrmSettings *)s, r.fields = fields, r.n_fields = n;
    ask(rt->gw, SUBJ_CRM_SETTINGS_PUT, &r.base, &cc__v1__crm_settings__descriptor, 200, resp);
    protobuf_c_message_free_unpacked(s, NULL);
}

void crm_status(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__SettingsRequest r = CC__V1__SETTINGS_REQUEST__INIT;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    r.caller = &caller;
    ask(rt->gw, rt->spec->subject, &r.base, &cc__v1__crm_status__descriptor, 200, resp);
}

static cJSON *contact_item(const void *items, size_t i)
{
    return forward_json(((ProtobufCMessage *const *)items)[i]);
}

void crm_contacts(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__ContactQuery q = CC__V1__CONTACT_QUERY__INIT;
    ProtobufCMessage *rep = NULL;
    const char *text = cc_http_query(req, "q");
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    if (!text || strlen(text) < 2 || strlen(text) > MAX_Q) {
        cc_http_error(resp, CC_ERR_INVALID, "q: 2..200 characters (name, phone or email)");
        return;
    }
    q.caller = &caller, q.q = CC_PB_STR(text);
    if (forward_request(rt->gw, SUBJ_CRM_CONTACTS_SEARCH, &q.base,
                        &cc__v1__contact_list__descriptor, &rep, resp) != CC_OK)
        return;
    const Cc__V1__ContactList *l = (const Cc__V1__ContactList *)rep;
    cJSON *j = forward_list(l->n_items, contact_item, l->items, NULL);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (j)
        cc_http_json(resp, 200, j);
    else
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
}

void crm_links(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__RecordLinks r = CC__V1__RECORD_LINKS__INIT;
    ProtobufCMessage *rep = NULL;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK)
        return;
    r.caller = &caller;
    r.contact_id = CC_PB_STR(cc_http_query(req, "contact_id"));
    r.account_id = CC_PB_STR(cc_http_query(req, "account_id"));
    r.case_id = CC_PB_STR(cc_http_query(req, "case_id"));
    r.activity_id = CC_PB_STR(cc_http_query(req, "activity_id"));
    enum cc_status st = cc_nats_request(rt->gw->svc->nats, SUBJ_CRM_LINKS, &r.base,
                                        &cc__v1__record_links__descriptor, 2000, &rep, NULL, 0);
    if (st == CC_ERR_UNAVAILABLE || st == CC_ERR_TIMEOUT) {
        /* links are a convenience of the desk: without crm-sync the ids come back bare */
        r.caller = NULL;
        cJSON *j = forward_json(&r.base);
        if (j)
            cc_http_json(resp, 200, j);
        else
            cc_http_error(resp, CC_ERR_NOMEM, NULL);
    } else if (st != CC_OK) {
        cc_http_error(resp, st, NULL);
    } else {
        answer(rep, 200, resp);
    }
}

/* The string member `name` of the body: *out NULL when absent; 400 when
 * it is not a string of 1..`max` bytes. */
static enum cc_status body_str(const cJSON *body, const char *name, size_t max, const char **out,
                               struct cc_http_resp *resp)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    char why[96];
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return CC_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max) {
        snprintf(why, sizeof why, "%s: a string of 1..%zu characters", name, max);
        cc_http_error(resp, CC_ERR_INVALID, why);
        return CC_ERR_INVALID;
    }
    *out = v->valuestring;
    return CC_OK;
}

/* "chat" or "call", from the route the request matched. */
static const char *kind_of(const struct cc_http_req *req)
{
    return strstr(req->route, "/calls/") ? "call" : "chat";
}

void crm_case(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"subject", "category_id", "case_id", NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__CaseRequest r = CC__V1__CASE_REQUEST__INIT;
    const char *subject, *category, *case_id;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK ||
        forward_fields_only(req->json, allowed, resp) != CC_OK ||
        body_str(req->json, "subject", 250, &subject, resp) != CC_OK ||
        body_str(req->json, "category_id", 64, &category, resp) != CC_OK ||
        body_str(req->json, "case_id", 64, &case_id, resp) != CC_OK)
        return;
    if (!case_id == !subject) {
        cc_http_error(resp, CC_ERR_INVALID,
                      "either subject (a new case) or case_id (a consultation)");
        return;
    }
    r.caller = &caller, r.kind = CC_PB_STR(kind_of(req)), r.id = CC_PB_STR(req->params[0]);
    r.subject = CC_PB_STR(subject), r.category = CC_PB_STR(category);
    r.case_id = CC_PB_STR(case_id);
    ask(rt->gw, SUBJ_CRM_CASE_CREATE, &r.base, &cc__v1__case_reply__descriptor, case_id ? 200 : 201,
        resp);
}

void crm_contact(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    static const char *const allowed[] = {"contact_id", "create", "name", "phone", "email", NULL};
    const struct gw_route *rt = arg;
    Cc__V1__Caller caller;
    Cc__V1__LinkRequest r = CC__V1__LINK_REQUEST__INIT;
    Cc__V1__Contact want = CC__V1__CONTACT__INIT;
    const char *contact_id;
    if (auth_require(rt->gw, req, resp, &caller) != CC_OK ||
        forward_fields_only(req->json, allowed, resp) != CC_OK ||
        body_str(req->json, "contact_id", 64, &contact_id, resp) != CC_OK ||
        body_str(req->json, "name", 200, (const char **)&want.name, resp) != CC_OK ||
        body_str(req->json, "phone", 64, (const char **)&want.phone, resp) != CC_OK ||
        body_str(req->json, "email", 200, (const char **)&want.email, resp) != CC_OK)
        return;
    int create = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "create"));
    if (!contact_id == !create) {
        cc_http_error(resp, CC_ERR_INVALID, "either contact_id (link) or create: true");
        return;
    }
    r.caller = &caller, r.kind = CC_PB_STR(kind_of(req)), r.id = CC_PB_STR(req->params[0]);
    r.contact_id = CC_PB_STR(contact_id), r.create = create ? &want : NULL;
    ask(rt->gw, SUBJ_CRM_CONTACTS_LINK, &r.base, &cc__v1__contact__descriptor, create ? 201 : 200,
        resp);
}
