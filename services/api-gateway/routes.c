/* routes.c - the staff API of api-gateway as one table (SPEC section 9):
 * each row is a method, a path, its handler and its static forwarding spec
 * (agent-registry subject, protobuf message, verb shape). A configuration
 * object kind is one OBJECT_ROUTES line; the web desktop's files (web.c) are
 * WEB rows at the site root. */
#include "routes.h"
#include "account.h"
#include "calls.h"
#include "reports.h"
#include "chats.h"
#include "crm.h"
#include "cc/v1/registry.pb-c.h"
#include "forward.h"
#include "openapi.h"
#include "routing.h"
#include "sse.h"
#include "status.h"
#include "web.h"
#include "cc_subjects.h"

#include <stdlib.h>

struct route_def {
    const char *method;
    const char *pattern;
    cc_http_handler fn;
    struct fwd_spec spec;
    unsigned flags; /* enum cc_http_flags */
};

/* The macros and the table are aligned by hand to read as a table. */
/* clang-format off */
#define API "/api/v1/"
#define OBJ(kind, verb) SUBJ_REGISTRY_OBJ_PREFIX kind "." verb
#define ROUTE(method, path, subject, type, verb, flags) \
    {method, API path, forward_object, {subject, type, verb}, flags}
#define SPECIAL(method, path, fn, subject, flags) \
    {method, API path, fn, {subject, NULL, FWD_SPECIAL}, flags}
/* A file of the web desktop (web.c), at the site root. */
#define WEB(path) {"GET", path, web_serve, {NULL, NULL, FWD_SPECIAL}, 0}

/* list, create, get, update and delete of `kind` (message `type`) under /api/v1/<path>. */
#define OBJECT_ROUTES(path, kind, type) \
    ROUTE("GET",    path,          OBJ(kind, "list"),   &type, FWD_LIST,   0), \
    ROUTE("POST",   path,          OBJ(kind, "create"), &type, FWD_CREATE, CC_HTTP_JSON), \
    ROUTE("GET",    path "/{id}",  OBJ(kind, "get"),    &type, FWD_GET,    0), \
    ROUTE("PATCH",  path "/{id}",  OBJ(kind, "update"), &type, FWD_UPDATE, CC_HTTP_JSON), \
    ROUTE("DELETE", path "/{id}",  OBJ(kind, "delete"), &type, FWD_DELETE, 0)

static const struct route_def table[] = {
    SPECIAL("POST", "auth/login", account_login, SUBJ_AUTH_LOGIN, CC_HTTP_JSON),
    ROUTE("POST", "auth/logout", SUBJ_AUTH_LOGOUT, NULL, FWD_COMMAND, CC_HTTP_JSON),
    SPECIAL("GET", "openapi.yaml", openapi_serve, NULL, 0),
    ROUTE("GET", "me", OBJ("users", "get"), &cc__v1__user__descriptor, FWD_SELF, 0),
    SPECIAL("PUT", "me/password", account_password, SUBJ_AUTH_PASSWORD, CC_HTTP_JSON),
    SPECIAL("GET", "me/status", status_get, SUBJ_PRESENCE_GET, 0),
    SPECIAL("PUT", "me/status", status_put, SUBJ_PRESENCE_SET, CC_HTTP_JSON),
    SPECIAL("GET", "me/events", sse_me, NULL, 0),
    SPECIAL("GET", "me/offers", offers_get, SUBJ_ROUTER_OFFERS, 0),

    OBJECT_ROUTES("users",         "users",         cc__v1__user__descriptor),
    ROUTE("POST", "users/{id}/archive",   OBJ("users", "archive"),   &cc__v1__user__descriptor,
          FWD_ACTION, CC_HTTP_JSON),
    ROUTE("POST", "users/{id}/unarchive", OBJ("users", "unarchive"), &cc__v1__user__descriptor,
          FWD_ACTION, CC_HTTP_JSON),
    OBJECT_ROUTES("teams",         "teams",         cc__v1__team__descriptor),
    OBJECT_ROUTES("skills",        "skills",        cc__v1__skill__descriptor),
    OBJECT_ROUTES("queues",        "queues",        cc__v1__queue__descriptor),
    OBJECT_ROUTES("pause-causes",  "pause_causes",  cc__v1__pause_cause__descriptor),
    OBJECT_ROUTES("quick-replies", "quick_replies", cc__v1__quick_reply__descriptor),
    OBJECT_ROUTES("results",       "results",       cc__v1__result__descriptor),
    OBJECT_ROUTES("channels",      "channels",      cc__v1__channel__descriptor),

    ROUTE("GET",    "agents/{user_id}/skills",            SUBJ_AGENT_SKILLS_LIST,
          &cc__v1__agent_skill__descriptor, FWD_CHILD_LIST, 0),
    ROUTE("PUT",    "agents/{user_id}/skills/{skill_id}", SUBJ_AGENT_SKILLS_PUT,
          &cc__v1__agent_skill__descriptor, FWD_CHILD_PUT, CC_HTTP_JSON),
    ROUTE("DELETE", "agents/{user_id}/skills/{skill_id}", SUBJ_AGENT_SKILLS_DELETE,
          &cc__v1__agent_skill__descriptor, FWD_CHILD_DELETE, 0),
    SPECIAL("GET", "agents/{id}/status", status_get, SUBJ_PRESENCE_GET, 0),
    SPECIAL("PUT", "agents/{id}/status", status_put, SUBJ_PRESENCE_SET, CC_HTTP_JSON),

    SPECIAL("GET",   "chats",                 chats_list,     SUBJ_CHAT_LIST,     0),
    SPECIAL("GET",   "chats/{id}",            chats_about,    SUBJ_CHAT_GET,      0),
    SPECIAL("PATCH", "chats/{id}",            chats_patch,    SUBJ_CHAT_UPDATE,   CC_HTTP_JSON),
    SPECIAL("POST",  "chats/{id}/accept",     chats_about,    SUBJ_CHAT_ACCEPT,   CC_HTTP_JSON),
    SPECIAL("POST",  "chats/{id}/decline",    chats_about,    SUBJ_CHAT_DECLINE,  CC_HTTP_JSON),
    SPECIAL("POST",  "chats/{id}/end",        chats_about,    SUBJ_CHAT_END,      CC_HTTP_JSON),
    SPECIAL("POST",  "chats/{id}/read",       chats_about,    SUBJ_CHAT_READ,     CC_HTTP_JSON),
    SPECIAL("GET",   "chats/{id}/messages",   chats_about,    SUBJ_CHAT_MESSAGES, 0),
    SPECIAL("POST",  "chats/{id}/messages",   chats_send,     SUBJ_CHAT_SEND,     CC_HTTP_JSON),
    SPECIAL("GET",   "chats/{id}/quick-replies", chats_about, SUBJ_CHAT_QUICK_REPLIES, 0),
    SPECIAL("POST",  "chats/{id}/typing",     chats_about,    SUBJ_CHAT_TYPING,   CC_HTTP_JSON),
    SPECIAL("POST",  "chats/{id}/messages/{message_id}/retry", chats_about, SUBJ_CHAT_RETRY, CC_HTTP_JSON),
    SPECIAL("GET",   "channels/{id}/setup",   chats_about,    SUBJ_CHAT_SETUP,    0),
    SPECIAL("POST",  "files",                 files_upload,   NULL,               CC_HTTP_LARGE),

    SPECIAL("GET",   "calls",                 calls_list,     SUBJ_CALL_LIST,     0),
    SPECIAL("GET",   "calls/{id}",            calls_get,      SUBJ_CALL_GET,      0),
    SPECIAL("PATCH", "calls/{id}",            calls_patch,    SUBJ_CALL_UPDATE,   CC_HTTP_JSON),
    SPECIAL("POST",  "calls/{id}/supervise",  calls_supervise, SUBJ_CALL_SUPERVISE, CC_HTTP_JSON),
    SPECIAL("DELETE", "calls/{id}/supervise", calls_supervise, SUBJ_CALL_SUPERVISE, 0),
    SPECIAL("GET",   "calls/{id}/supervisions", calls_supervisions, SUBJ_CALL_SUPERVISIONS, 0),
    SPECIAL("GET",   "supervisions",          calls_supervisions, SUBJ_CALL_SUPERVISIONS, 0),
    SPECIAL("POST",  "callbacks",             calls_callback, SUBJ_CALL_CALLBACK, CC_HTTP_JSON),
    SPECIAL("GET",   "reports/queues",        reports_queues, SUBJ_REPORTS_QUEUES, 0),
    SPECIAL("GET",   "reports/agents",        reports_agents, SUBJ_REPORTS_AGENTS, 0),

    SPECIAL("POST",  "chats/{id}/case",       crm_case,       SUBJ_CRM_CASE_CREATE,   CC_HTTP_JSON),
    SPECIAL("POST",  "chats/{id}/contact",    crm_contact,    SUBJ_CRM_CONTACTS_LINK, CC_HTTP_JSON),
    SPECIAL("POST",  "calls/{id}/case",       crm_case,       SUBJ_CRM_CASE_CREATE,   CC_HTTP_JSON),
    SPECIAL("POST",  "calls/{id}/contact",    crm_contact,    SUBJ_CRM_CONTACTS_LINK, CC_HTTP_JSON),
    SPECIAL("GET",   "crm/settings",          crm_settings_get, SUBJ_CRM_SETTINGS_GET, 0),
    SPECIAL("PUT",   "crm/settings",          crm_settings_put, SUBJ_CRM_SETTINGS_PUT, CC_HTTP_JSON),
    SPECIAL("GET",   "crm/status",            crm_status,     SUBJ_CRM_STATUS_GET,    0),
    SPECIAL("POST",  "crm/status/retry",      crm_status,     SUBJ_CRM_STATUS_RETRY,  CC_HTTP_JSON),
    SPECIAL("GET",   "crm/contacts",          crm_contacts,   SUBJ_CRM_CONTACTS_SEARCH, 0),
    SPECIAL("GET",   "crm/links",             crm_links,      SUBJ_CRM_LINKS,         0),

    SPECIAL("GET", "monitor/agents", status_list, SUBJ_PRESENCE_LIST, 0),
    SPECIAL("GET", "monitor/queues", queues_get, SUBJ_ROUTER_QUEUES, 0),
    SPECIAL("GET", "interactions/{id}/trace", trace_get, SUBJ_ROUTER_TRACE, 0),
    SPECIAL("GET", "monitor/events", sse_monitor, NULL, 0),

    ROUTE("GET", "settings/permissions", SUBJ_SETTINGS_GET,
          &cc__v1__permissions__descriptor, FWD_READ, 0),
    ROUTE("PUT", "settings/permissions", SUBJ_SETTINGS_PUT,
          &cc__v1__permissions__descriptor, FWD_WRITE, CC_HTTP_JSON),

    WEB("/"), WEB("/app.css"), WEB("/favicon.svg"), WEB("/app.js"), WEB("/api.js"),
    WEB("/ui.js"), WEB("/desk.js"), WEB("/chat.js"), WEB("/calls.js"), WEB("/supervisor.js"),
    WEB("/admin.js"), WEB("/crm.js"),
    WEB("/reports.js"), WEB("/history.js"),
};
/* clang-format on */

enum cc_status routes_build(struct api_gateway *gw)
{
    const int n = (int)(sizeof table / sizeof *table);
    gw->routes = calloc((size_t)n, sizeof *gw->routes);
    gw->bound = calloc((size_t)n, sizeof *gw->bound);
    if (!gw->routes || !gw->bound) {
        routes_release(gw);
        return CC_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        gw->bound[i] = (struct gw_route){gw, &table[i].spec};
        gw->routes[i] = (struct cc_http_route){table[i].method, table[i].pattern, table[i].fn,
                                               &gw->bound[i], table[i].flags};
    }
    gw->nroutes = n;
    return CC_OK;
}

void routes_release(struct api_gateway *gw)
{
    free(gw->routes);
    free(gw->bound);
    gw->routes = NULL;
    gw->bound = NULL;
    gw->nroutes = 0;
}
