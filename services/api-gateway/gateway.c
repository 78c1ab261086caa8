/* gateway.c - the life of struct api_gateway: its configuration, the
 * OpenAPI document, the routing table and the event hub. */
#include "gateway.h"
#include "cc/v1/call.pb-c.h"
#include "cc/v1/chat.pb-c.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_events.h"
#include "openapi.h"
#include "routes.h"
#include "sse.h"
#include "cc_subjects.h"

#include <stdlib.h>
#include <string.h>

const struct cc_env_var api_gateway_env[] = {
    {"CC_OPENAPI_PATH", "docs/openapi.yaml",
     "OpenAPI document served at /api/v1/openapi.yaml (else /usr/share/cc/openapi.yaml)"},
    {"CC_SSE_KEEPALIVE_S", "15",
     "seconds between keepalives (and session re-checks) of event streams"},
    {"CC_SSE_QUEUE", "1024", "events queued for one event stream; beyond, the stream ends"},
    {"CC_SSE_MAX_STREAMS", "2000", "event streams open at once; beyond, 503"},
    {"CC_SSE_MAX_PER_USER", "8",
     "event streams one user may hold open at once (tabs, devices); beyond, the new one gets 429"},
    {"CC_FILES_DIR", "files", "where uploads are stored; chat-gateway must see the same directory"},
    {"CC_FILE_MAX_BYTES", "20971520", "largest upload (413 beyond)"},
    {NULL, NULL, NULL},
};

/* Reads the CC_SSE_* variables and makes the event hub. */
static enum cc_status events_setup(struct api_gateway *gw)
{
    int64_t keepalive, queue, streams, per_user;
    if (cc_env_int("CC_SSE_KEEPALIVE_S", 15, 1, 3600, &keepalive) != CC_OK ||
        cc_env_int("CC_SSE_QUEUE", 1024, 1, 1 << 20, &queue) != CC_OK ||
        cc_env_int("CC_SSE_MAX_STREAMS", 2000, 1, 100000, &streams) != CC_OK ||
        cc_env_int("CC_SSE_MAX_PER_USER", 8, 1, 1000, &per_user) != CC_OK)
        return CC_ERR_INVALID;
    gw->sse_keepalive_us = keepalive * 1000000;
    enum cc_status st = sse_users_new(&gw->sse_users, (int)per_user);
    return st == CC_OK ? cc_events_new(&gw->events, (int)queue, (int)streams) : st;
}

static enum cc_status files_setup(struct api_gateway *gw)
{
    int64_t max;
    if (cc_env_int("CC_FILE_MAX_BYTES", 20971520, 1, 1LL << 32, &max) != CC_OK)
        return CC_ERR_INVALID;
    gw->file_max_bytes = (size_t)max;
    gw->file_dir = cc_env_str("CC_FILES_DIR", "files");
    return CC_OK;
}

/* What the desktops' event streams carry (SPEC section 9). */
static enum cc_status events_sources(struct cc_events *ev, struct cc_nats *nats)
{
    static const struct {
        const char *subject, *event;
        const ProtobufCMessageDescriptor *desc;
        int personal;
    } sources[] = {
        {SUBJ_PRESENCE_CHANGED_ALL, "status", &cc__v1__agent_status__descriptor, 0},
        {SUBJ_ROUTER_OFFER_ALL, "offer", &cc__v1__offer__descriptor, 1},
        {SUBJ_ROUTER_OFFER_WITHDRAWN_ALL, "offer_withdrawn", &cc__v1__offer__descriptor, 1},
        {SUBJ_ROUTER_QUEUES_CHANGED_ALL, "queues", &cc__v1__queue_stats_list__descriptor, 0},
        {SUBJ_CHAT_MESSAGE_ALL, "message", &cc__v1__chat_message__descriptor, 1},
        {SUBJ_CHAT_UPDATED_ALL, "chat_updated", &cc__v1__chat__descriptor, 1},
        {SUBJ_CHAT_TYPING_ALL, "typing", &cc__v1__typing__descriptor, 1},
        {SUBJ_CALL_UPDATED_ALL, "call_updated", &cc__v1__call__descriptor, 1},
        /* the monitors': a chat rang, was taken or ended (id, queue, state,
         * agent, offered_to only); the configuration changed (teams and
         * queues decide what a supervisor sees) */
        {SUBJ_CHAT_CHANGED_ALL, "chat_changed", &cc__v1__chat__descriptor, 0},
        {SUBJ_REGISTRY_CHANGED_ALL, "config", &cc__v1__config_changed__descriptor, 0},
    };
    enum cc_status st = CC_OK;
    for (size_t i = 0; i < sizeof sources / sizeof *sources && st == CC_OK; i++)
        st = cc_events_source(ev, nats, sources[i].subject, sources[i].event, sources[i].desc,
                              sources[i].personal);
    return st;
}

enum cc_status api_gateway_init(struct api_gateway *gw, struct cc_service *svc)
{
    memset(gw, 0, sizeof *gw);
    gw->svc = svc;
    enum cc_status st = events_setup(gw);
    if (st == CC_OK)
        st = files_setup(gw);
    if (st == CC_OK)
        st = openapi_load(gw);
    if (st == CC_OK)
        st = routes_build(gw);
    if (st == CC_OK)
        st = events_sources(gw->events, svc->nats);
    if (st != CC_OK)
        api_gateway_release(gw);
    return st;
}

void api_gateway_release(struct api_gateway *gw)
{
    routes_release(gw);
    cc_events_free(gw->events);
    gw->events = NULL;
    sse_users_free(gw->sse_users);
    gw->sse_users = NULL;
    free(gw->openapi);
    gw->openapi = NULL;
    gw->openapi_len = 0;
}
