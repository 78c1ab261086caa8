/* workload.h - the customers of a run, drawn from the scenario and its seed
 * before the run starts: per queue, Poisson arrivals over [0, duration_s)
 * with an exponential handling time and an exponential patience each.
 *
 * Each queue and each quantity (arrivals, handling, patience) has its own
 * random stream, seeded from the seed and the queue's name: the same seed
 * gives the same customers, and changing the agents, another queue or a
 * patience leaves the other draws as they were (common random numbers, so
 * two staffing variants are compared on the same customers). */
#ifndef CCSIM_WORKLOAD_H
#define CCSIM_WORKLOAD_H

#include "ccsim.h"

#define WORKLOAD_MAX_CUSTOMERS 5000000

/* A random stream (xoshiro256**). */
struct rng {
    uint64_t s[4];
};

/* Seeds stream `stream` of `seed` (splitmix64 of both). Cannot fail. */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);

/* A uniform double in [0, 1). */
double rng_uniform(struct rng *r);

/* An exponential draw of mean `mean` (> 0). */
double rng_exp(struct rng *r, double mean);

/* Draws every customer, sorted by arrival, into a new array *out of *n
 * (the caller frees it with free()). Run fields start as SIM_PENDING.
 * Returns CC_OK, CC_ERR_NOMEM, or CC_ERR_INVALID when the run would have
 * more than WORKLOAD_MAX_CUSTOMERS customers. */
enum cc_status workload_draw(const struct scenario *sc, struct sim_customer **out, size_t *n);

#endif
