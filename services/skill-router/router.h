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
#include "cc_agent_store.h"
#include "cc_keys.h"
#include "cc_refresh.h"
#include "cc_service.h"
#include "cc_subjects.h"

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
    struct agent_rec rec;
    int64_t capacity, handled;
    int offered; /* set by reserve(): rec is then the record it wrote */
};

struct agents;        /* agents.c */
struct reserve_batch; /* routing.c */

struct router {
    struct cc_service *svc;
    struct cc_nats *nats;
    struct cc_redis *redis;
    pthread_mutex_t lock;      /* guards the config pointer */
    struct config *config;     /* never NULL once started */
    struct cc_refresh refresh; /* a queue look-up that misses reloads once (read your writes) */
    struct cc_metric *m_offers, *m_outcomes, *m_decision, *m_waiting, *m_oldest;
    struct agents *agents;       /* this replica's view of the agents */
    struct reserve_batch *batch; /* reservations waiting for one reserve.lua call */
    struct cc_metric *m_reserve_calls, *m_reservations;
    pthread_t sweeper;
    uint64_t waiting_seen; /* the sweeper's last fingerprint of the queues */
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

/* --- ix.c: the interaction record and its trace (the one reader of {cc}:ix) ------------ */

/* An interaction as stored ({cc}:ix:<id>). The long strings point into `rep`
 * (read) or into the message it was made from (enqueue). */
struct ix {
    char id[72], state[16], queue[64], kind[8], agent[64], excluded[64], sticky[64], end_reason[16];
    const char *chat_id, *customer_id, *customer_name, *customer_phone, *preview, *source;
    int64_t enq, prio, attempts, offered_ms, expires_ms, sticky_until;
    int ring; /* offered to several agents at once ({cc}:ring:<id>) */
    redisReply *rep;
};

/* Reads interaction `id` in one HMGET; CC_ERR_NOT_FOUND when there is none.
 * Release with ix_release. */
enum cc_status ix_read(struct router *r, const char *id, struct ix *x);
void ix_release(struct ix *x);

/* The waiting order: higher priority first, then the older enqueue time. */
double ix_score(int64_t prio, int64_t enq_ms);

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

/* An offer of interaction `x` to `agent` as published and listed (strings
 * point into x and the view). */
struct offer_view {
    Cc__V1__Offer msg;
    Cc__V1__Customer customer;
    char agent[64], offer_id[96], offered_at[32], expires_at[32], queue_name[128];
};
void ix_offer(struct router *r, const struct ix *x, const char *agent, struct offer_view *v);

/* --- interactions.c: the subjects (enqueue, accept, decline, abandon, end, ...) ------ */

enum cc_status interactions_start(struct router *r);

/* Puts back in their queues the interactions whose offer expired more than
 * a grace period ago without an answer or a timeout being handled (a lost
 * event, a replica killed at the wrong moment). */
void requeue_lost_offers(struct router *r);

/* Ends the waiting interactions whose queue's max_wait_s has passed. */
void expire_waiting(struct router *r);

/* --- offers.c: what people see of routing ------------------------------------------------ */

/* The offer of interaction `id` ringing for `agent`; CC_ERR_NOT_FOUND when
 * it does not ring for that agent now. Release x with ix_release. */
enum cc_status offer_read(struct router *r, const char *id, const char *agent, struct ix *x,
                          struct offer_view *v);

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

/* Told each agent left out by agents_candidates, with the reason. */
typedef void (*agents_skip_fn)(void *arg, const char *agent, const char *why);

/* Copies the agents holding queue q's skill at capacity >= min, highest
 * first, that can take an interaction of `kind` in q now (agent_can_take),
 * into *out (free it); the others are told to `skipped` (may be NULL).
 * (size_t)-1 when the view does not know the skill. */
size_t agents_candidates(struct router *r, const Cc__V1__Queue *q, const char *kind, int64_t min,
                         agents_skip_fn skipped, void *arg, struct candidate **out);

/* Reads agent `id` again from Redis (a reservation found it moved). */
void agents_refresh(struct router *r, const char *id);

/* Puts the record `rec` of agent `id` in the view when newer than its copy
 * (the router wrote it, or an event told it). */
void agents_update(struct router *r, const char *id, const struct agent_rec *rec);

/* Applies router event `ev` (accept, decline, offer_withdrawn) of interaction
 * `x` to `agent` when the caller's script did not: read, decide (cc_agent.h),
 * compare-and-set, publish. `offer` as agent_cas_prepare's. */
enum cc_status agents_event(struct router *r, const char *agent, enum presence_event ev,
                            const struct ix *x, const char *offer, const char *reason);

/* --- routing.c: choosing an agent ------------------------------------------------------ */

/* Sets up the batching of reservations (and its metrics); release after
 * the last handler ran. */
enum cc_status routing_start(struct router *r);
void routing_release(struct router *r);

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

/* The same for interaction `x` as read (no read again). */
int routing_offer_ix(struct router *r, struct ix *x, unsigned flags);

/* A new interaction to store (the arguments reserve.lua's store takes:
 * score, deadline ms or "", k, k packed trace steps, the record's field,
 * value pairs; lens as long as argv). `answered` is called once, right
 * after the call that stored it, before any offer is published: `got` as
 * routing_offer_new returns it, `agent` the one agent offered or NULL. */
struct ix_store {
    const char **argv;
    const size_t *lens;
    size_t n;
    void (*answered)(void *arg, int got, const char *agent);
    void *arg;
};

/* Stores new interaction `x` (as `store` describes it) and offers it on
 * arrival, both in one reserve.lua call when an agent can take it. Returns
 * 1 offered, 0 stored and waiting, -2 Redis failed (maybe not stored: the
 * caller retries, idempotent), -3 it existed already (nothing changed). */
int routing_offer_new(struct router *r, struct ix *x, const struct ix_store *store);

/* An agent became available: offers it the waiting interactions it is
 * eligible for, highest priority and oldest first, while it has room. */
void routing_offer_agent(struct router *r, const char *agent_id);

/* Retries the heads of every queue (widening steps, lost events); the
 * sweeper runs requeue_lost_offers and expire_waiting before it. */
void routing_sweep(struct router *r);

#endif
