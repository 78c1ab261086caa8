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

/* Objects of one configuration kind, replaced whole on every change. */
struct config_cache {
    const char *kind;                     /* "queues", "teams" */
    const ProtobufCMessageDescriptor *desc;
    ProtobufCMessage **items;
    size_t n;
};

struct router {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    pthread_rwlock_t lock;       /* guards the caches */
    struct config_cache queues;  /* Cc__V1__Queue */
    struct config_cache teams;   /* Cc__V1__Team */
    struct cc_metric *m_offers, *m_outcomes, *m_decision;
    pthread_t sweeper;
    volatile int stopping; /* set before joining the sweeper */
};

/* --- config.c: configuration cache -------------------------------------------------- */

/* Loads queues and teams from agent-registry and keeps them fresh on changes. */
enum cc_status config_start(struct router *r);
void config_release(struct router *r);

/* A copy of object `id` of the cache (free with protobuf_c_message_free_unpacked);
 * CC_ERR_NOT_FOUND when unknown. */
enum cc_status config_copy(struct router *r, struct config_cache *c, const char *id,
                           ProtobufCMessage **out);

/* The ids of every object of the cache (the caller frees each and the array). */
enum cc_status config_ids(struct router *r, struct config_cache *c, char ***ids, size_t *n);

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

/* Tries to offer waiting interaction `id` to the best eligible agent,
 * tracing the agents skipped and why when `trace_skips` (the periodic sweep
 * does not, so that a long wait does not fill the trace).
 * Returns 1 when offered, 0 when nobody can take it now, -1 on failure. */
int routing_offer_interaction(struct router *r, const char *id, int trace_skips);

/* An agent became available: offers it the waiting interactions it is
 * eligible for, highest priority and oldest first, while it has room. */
void routing_offer_agent(struct router *r, const char *agent_id);

/* Retries the heads of every queue (widening steps, lost events). */
void routing_sweep(struct router *r);

#endif
