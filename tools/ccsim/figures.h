/* figures.h - the planner's figures of a finished run, computed from the
 * customers' and agents' timestamps (simulated seconds = real x scale):
 *
 *   ASA          mean wait (arrival to accept confirmed) of answered customers
 *   SL           answered within T / (answered + abandoned)
 *   abandonment  abandoned / (answered + abandoned)
 *   AHT          mean accept-to-end time of ended interactions
 *   occupancy    agents' busy time (offer to end of wrap-up) / signed-in time
 *
 * over the customers who arrived in the measurement window [warmup_s,
 * duration_s) (occupancy: over that window). 95 % intervals come from batch
 * means over FIG_BATCHES equal slices of the window. */
#ifndef CCSIM_FIGURES_H
#define CCSIM_FIGURES_H

#include "ccsim.h"
#include "theory.h"

#define FIG_BATCHES 10

/* One queue, or all queues together. NAN marks a figure with no data. */
struct fig_queue {
    long arrivals, answered, abandoned, waiting, failed; /* measured customers */
    long within, ended;
    double asa_s, asa_ci_s; /* ci: half-width of the 95 % interval */
    double sl, sl_ci;
    double abandon, aht_s, longest_s;
};

struct fig_group {
    long agents, answered;
    double occupancy;
};

/* System latency seen by the simulator (real milliseconds). */
struct fig_latency {
    long route_n; /* offers after both customer and agent were free */
    double route_mean_ms, route_p99_ms;
    long accept_n; /* accept confirmed after the offer */
    double accept_mean_ms;
    long held_n;         /* ended interactions: offer to end confirmed, minus the drawn */
    double held_extra_s; /* handling time, simulated: what the system added per contact */
    long free_n;         /* customers answered by an agent free when they arrived */
    double free_wait_s;  /* their mean wait, simulated: the floor of every wait */
    long late_n;         /* scheduled events and how late they ran */
    double late_mean_ms, late_max_ms;
};

struct figures {
    struct fig_queue queues[SIM_MAX_QUEUES], total;
    struct fig_group groups[SIM_MAX_GROUPS];
    double occupancy;                /* all agents */
    int check_agents;                /* > 0: one queue, that many interchangeable agents */
    struct theory replay;            /* valid when check_agents > 0 */
    struct theory replay_lat;        /* the same with the latency measured in this run */
    struct theory_latency lat_model; /* that latency, simulated seconds */
    struct theory erlang;            /* valid when also nobody abandons and the load fits */
    struct fig_latency lat;
};

/* Computes the figures of finished run `s`. Returns CC_OK or CC_ERR_NOMEM. */
enum cc_status figures_compute(const struct sim *s, struct figures *f);

/* The outcome of customer `c` as reported: "answered", "abandoned",
 * "waiting" (at the end of the run) or "failed". */
const char *figures_outcome(const struct sim_customer *c);

/* Simulated seconds the customer waited (to answer, abandon or the end of
 * the run); NAN when it never arrived. */
double figures_wait_s(const struct sim *s, const struct sim_customer *c);

#endif
