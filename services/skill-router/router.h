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
#include "cc_refresh.h"
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

/* An agent as a decision sees it: its presence record and its capacity in
 * the skill at hand. */
struct candidate {
    char id[64];
    int64_t capacity, since, offers, calls, chats, version, handled;
    char status[16], state[20], pending[16], team[64];
    int offered; /* set by reserve() */
};

struct agents; /* agents.c */

struct router {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    pthread_mutex_t lock;  /* guards the config pointer */
    struct config *config; /* never NULL once started */
    struct cc_refresh refresh; /* a queue look-up that misses reloads once (read your writes) */
    struct cc_metric *m_offers, *m_outcomes, *m_decision, *m_waiting, *m_oldest;
    struct agents *agents;       /* this replica's view of the agents */
    pthread_t sweeper;
    uint64_t waiting_seen;       /* the sweeper's last fingerprint of the queues */
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

/* The current version, reloaded from agent-registry first when it lacks
 * queue `id` (a queue created a moment ago); held until config_put. */
const struct config *config_get_for_queue(struct router *r, const char *id);

/* --- interactions.c: subjects and storage ------------------------------------------ */

enum cc_status interactions_start(struct router *r);

/* Puts back in their queues the interactions whose offer expired more than
 * a grace period ago without an answer or a timeout being handled (a lost
 * event, a replica killed at the wrong moment). */
void requeue_lost_offers(struct router *r);

/* Ends the waiting interactions whose queue's max_wait_s has passed. */
void expire_waiting(struct router *r);

/* One step of a routing trace (strings may be NULL). */
struct trace_step {
    const char *step, *agent_id, *reason, *strategy;
};

/* Appends `n` steps (16 at most) to the trace of interaction `id` in one
 * round trip. */
void trace_steps(struct router *r, const char *id, const struct trace_step *steps, size_t n);

/* Packs step `t` stamped `at` into buf; returns its length, 0 when it does
 * not fit in `cap`. */
size_t trace_pack(const struct trace_step *t, const char *at, uint8_t *buf, size_t cap);

/* Appends one step to the routing trace of interaction `id`. */
void trace_add(struct router *r, const char *id, const char *step, const char *agent_id,
               const char *reason, const char *strategy);

/* --- offers.c: what people see of routing ------------------------------------------------ */

/* An offer read back from its interaction's record (the strings point into it). */
struct offer_view {
    Cc__V1__Offer msg;
    Cc__V1__Customer customer;
    char id[64], agent[64], offer_id[96], offered_at[32], expires_at[32], queue_name[128];
    redisReply *rep;
};

/* The offer of interaction `id` ringing for `agent`; CC_ERR_NOT_FOUND when
 * it does not ring for that agent now. Release with offer_view_release. */
enum cc_status offer_read(struct router *r, const char *id, const char *agent,
                          struct offer_view *v);
void offer_view_release(struct offer_view *v);

/* cc.router.offers and cc.router.queues (`verb` "offers" or "queues"). */
void offers_request(struct router *r, const struct cc_nats_msg *m, const char *verb);

/* Registers the waiting gauges, set from Redis at each /metrics scrape. */
void offers_metrics(struct router *r);

/* --- agents.c: this replica's view of the agents ------------------------------------ */

enum cc_status agents_start(struct router *r);
void agents_release(struct router *r);

/* Reloads the view from Redis when it is due (the sweeper calls it). */
void agents_sync(struct router *r);
void agents_resync_soon(struct router *r);

/* Copies the agents holding `skill` at capacity >= min, highest first, into
 * *out (free it); (size_t)-1 when the view does not know the skill. */
size_t agents_candidates(struct router *r, const char *skill, int64_t min, struct candidate **out);

/* Reads agent `id` again from Redis (a reservation found it moved). */
void agents_refresh(struct router *r, const char *id);

/* Queues the read of agent `id`'s presence record on pipeline `c`;
 * agent_reply reads it into `a` (0 when unreadable). */
void agent_append(struct cc_redis_conn *c, const char *id);
int agent_reply(struct cc_redis_conn *c, const char *id, int64_t capacity, struct candidate *a);

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
