/* router.h - skill-router's shared state and the pieces its modules use.
 *
 * Interactions wait in Redis per queue ({cc}:wait:<queue>, ordered by
 * priority then original enqueue time); routing is driven by events (an
 * interaction arrives or is re-queued, an agent becomes available) and every
 * offer is one atomic Redis script that moves the interaction and the agent
 * together. Stateless: any number of replicas share the subjects through the
 * queue group "router". See docs/routing.md. */
#ifndef ROUTER_H
#define ROUTER_H

#include "cc/v1/registry.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_service.h"

#include <pthread.h>
#include <stdatomic.h>

/* One version of the configuration routing reads: replaced whole on every
 * change, shared read-only by the threads using it, freed by the last. */
struct config {
    atomic_int refs;
    Cc__V1__Queue **queues;
    size_t nqueues;
    Cc__V1__Team **teams;
    size_t nteams;
};

struct router {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    pthread_mutex_t lock;  /* guards the config pointer */
    struct config *config; /* never NULL once started */
    struct cc_metric *m_offers, *m_outcomes, *m_decision;
    pthread_t sweeper;
    volatile int stopping; /* set before joining the sweeper */
};

/* --- config.c: configuration cache -------------------------------------------------- */

/* Loads queues and teams from agent-registry and keeps them fresh on changes. */
enum cc_status config_start(struct router *r);
void config_release(struct router *r);

/* The current version, held until config_put. */
const struct config *config_get(struct router *r);
void config_put(const struct config *c);

/* Queue or team `id` of version `c`, or NULL. */
const Cc__V1__Queue *config_queue(const struct config *c, const char *id);
const Cc__V1__Team *config_team(const struct config *c, const char *id);

/* --- interactions.c: subjects and storage ------------------------------------------ */

enum cc_status interactions_start(struct router *r);

/* Puts back in their queues the interactions whose offer expired more than
 * a grace period ago without an answer or a timeout being handled (a lost
 * event, a replica killed at the wrong moment). */
void requeue_lost_offers(struct router *r);

/* Ends the waiting interactions whose queue's max_wait_s has passed. */
void expire_waiting(struct router *r);

/* Appends one step to the routing trace of interaction `id`. */
void trace_add(struct router *r, const char *id, const char *step, const char *agent_id,
               const char *reason, const char *strategy);

/* --- routing.c: choosing an agent ------------------------------------------------------ */

/* How routing_offer_interaction is called. */
enum route_flags {
    ROUTE_TRACE_SKIPS = 1, /* trace the agents skipped and why (the periodic
                              sweep does not, so that a long wait does not
                              fill the trace) */
    ROUTE_ARRIVAL = 2,     /* the first pass as the interaction arrives */
};

/* Tries to offer waiting interaction `id` to the best eligible agent.
 * Returns 1 when offered, 0 when nobody can take it now, -1 on failure. */
int routing_offer_interaction(struct router *r, const char *id, unsigned flags);

/* An agent became available: offers it the waiting interactions it is
 * eligible for, highest priority and oldest first, while it has room. */
void routing_offer_agent(struct router *r, const char *agent_id);

/* Retries the heads of every queue (widening steps, lost events). */
void routing_sweep(struct router *r);

#endif
