/* main.c - skill-router: waiting interactions per queue, the choice of agent,
 * atomic reservations and offers. Stateless: run any number of replicas.
 *
 * Wiring only: configuration, connections and subscriptions. The modules
 * call one way, no circle: interactions.c (the subjects) -> routing.c (the
 * choice) -> agents.c (the view) and ix.c (the interaction record, the
 * trace); offers.c -> ix.c; all of them -> config.c and common/. */
#include "router.h"
#include "cc_log.h"

#include <unistd.h>

#define SWEEP_MS 500

static void *sweeper(void *arg)
{
    struct router *r = arg;
    while (!__atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE)) {
        agents_sync(r);
        requeue_lost_offers(r); /* interactions.c */
        expire_waiting(r);
        routing_sweep(r); /* routing.c */
        usleep(SWEEP_MS * 1000);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static const double bounds[] = {.0002, .0005, .001, .002, .005, .01, .025, .05, .1};
    struct cc_service svc;
    struct router r = {0};
    if (cc_service_init(&svc, "skill-router", "CC_ROUTER_PORT", 8084, NULL, argc, argv) != CC_OK)
        return 1;
    r.svc = &svc, r.nats = svc.nats, r.redis = svc.redis;
    pthread_mutex_init(&r.lock, NULL);
    r.m_offers = cc_metrics_counter(svc.metrics, "cc_router_offers_total", "Offers made");
    r.m_outcomes = cc_metrics_counter(svc.metrics, "cc_router_outcomes_total",
                                      "Offer and interaction outcomes");
    r.m_decision = cc_metrics_histogram(svc.metrics, "cc_router_decision_seconds",
                                        "Time to decide and reserve one interaction", bounds,
                                        (int)(sizeof bounds / sizeof bounds[0]));
    offers_metrics(&r);
    int rc = 1, sweeping = 0;
    if (routing_start(&r) == CC_OK && config_start(&r) == CC_OK && agents_start(&r) == CC_OK &&
        interactions_start(&r) == CC_OK &&
        (sweeping = pthread_create(&r.sweeper, NULL, sweeper, &r) == 0) &&
        cc_service_serve(&svc, NULL, 0, 0) == CC_OK) {
        cc_service_wait(&svc);
        rc = 0;
    }
    __atomic_store_n(&r.stopping, 1, __ATOMIC_RELEASE);
    if (sweeping)
        pthread_join(r.sweeper, NULL);
    cc_service_release(&svc); /* drains NATS: no handler runs after this */
    agents_release(&r);
    config_release(&r);
    routing_release(&r);
    pthread_mutex_destroy(&r.lock);
    return rc;
}
