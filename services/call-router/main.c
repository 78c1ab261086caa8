/* main.c - call-router: the PBX-facing call lifecycle (docs/calls.md).
 *
 * Wiring only: configuration, connections, subjects, routes and
 * signal handling; behaviour lives in the modules beside this file. */
#include "callrouter.h"
#include "cc_log.h"
#include "cc_secret.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cc_env_var vars[] = {
    {"CC_PBX_TOKEN", NULL, "bearer token the PBX sends (required; long and random)"},
    {"CC_CALL_HTTP_THREADS", "4", "HTTP threads (long-polls hold none)"},
    {"CC_CRM_IDENTIFY_MS", "250", "how long a new call waits for crm-sync's contact; 0 = never"},
    {NULL, NULL, NULL},
};

/* Refuses an unset or oversized token; a short or placeholder one is
 * refused by the common secret rule (cc_secret.h). */
static enum cc_status load_token(struct call_router *cr)
{
    const char *t = cc_env_str("CC_PBX_TOKEN", "");
    if (!*t || strlen(t) >= sizeof cr->token) {
        CC_ERROR("CC_PBX_TOKEN must be set (at most %zu bytes)", sizeof cr->token - 1);
        return CC_ERR_INVALID;
    }
    if (cc_secret_env("CC_PBX_TOKEN", 16) != CC_OK)
        return CC_ERR_INVALID;
    memcpy(cr->token, t, strlen(t) + 1);
    return CC_OK;
}

static void metrics(struct call_router *cr)
{
    struct cc_metrics *m = cr->svc->metrics;
    cr->m_calls = cc_metrics_counter(m, "cc_call_router_calls_total",
                                     "calls created by direction (inbound, direct, outbound)");
    cr->m_events = cc_metrics_counter(m, "cc_call_router_events_total",
                                      "PBX events by result (applied, ignored)");
    cr->m_route =
        cc_metrics_counter(m, "cc_call_router_route_requests_total", "route long-polls received");
}

int main(int argc, char **argv)
{
    struct cc_service svc;
    struct call_router cr = {.pump_lock = PTHREAD_MUTEX_INITIALIZER,
                             .pump_cond = PTHREAD_COND_INITIALIZER};
    struct cc_http_route routes[10];
    int64_t threads, identify_ms;
    if (cc_service_init(&svc, "call-router", "CC_CALL_PORT", 8082, vars, argc, argv) != CC_OK)
        return 1;
    cr.svc = &svc, cr.nats = svc.nats, cr.redis = svc.redis;
    enum cc_status st = load_token(&cr);
    if (st == CC_OK)
        st = cc_env_int("CC_CALL_HTTP_THREADS", 4, 1, 64, &threads);
    if (st == CC_OK)
        st = cc_env_int("CC_CRM_IDENTIFY_MS", 250, 0, 5000, &identify_ms);
    if (st == CC_OK) {
        svc.http_pool_threads = (int)threads;
        cr.identify_timeout_ms = identify_ms;
        metrics(&cr);
        st = calls_start(&cr);
    }
    if (st == CC_OK)
        st = directory_start(&cr);
    if (st == CC_OK)
        st = flow_start(&cr);
    if (st == CC_OK)
        st = staff_start(&cr);
    if (st == CC_OK)
        st = commands_start(&cr);
    if (st == CC_OK)
        st = supervision_start(&cr);
    if (st == CC_OK)
        st = callbacks_start(&cr);
    if (st == CC_OK)
        st = cc_service_serve(&svc, routes, pbx_routes(&cr, routes, 10), 0);
    if (st == CC_OK)
        cc_service_wait(&svc);
    calls_stop(&cr);          /* sets stopping */
    waiters_free(cr.waiters); /* parked long-polls answer 204: the PBX asks again elsewhere */
    waiters_free(cr.cmd_waiters);
    flow_stop(&cr);     /* the offers answered are written into their records */
    calls_release(&cr); /* and the versions changed last go to RECORDS */
    cc_service_release(&svc);
    directory_free(cr.dir);
    offers_free(cr.offers);
    return st == CC_OK ? 0 : 1;
}
