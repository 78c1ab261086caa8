/* theory.h - what a perfect system would show, to check the measured figures
 * against: the Erlang C formulas (M/M/c, steady state, nobody abandons) and
 * an ideal replay of the very customers of the run (same arrivals, handling
 * times and patience) through c interchangeable agents, first come first
 * served, with no latency at all. Measured minus replay is what the real
 * system added; replay minus Erlang C is the luck of a finite sample. */
#ifndef CCSIM_THEORY_H
#define CCSIM_THEORY_H

#include "ccsim.h"

struct theory {
    int valid;        /* 0: unstable (load >= agents) or nothing to show */
    double asa_s;     /* mean wait of answered customers */
    double sl;        /* answered within T / (answered + abandoned) */
    double occupancy; /* busy / available agent time */
    double abandon;   /* abandoned / (answered + abandoned) */
    double p_wait;    /* Erlang C: probability of waiting at all */
    double aht_s;     /* replay: mean handling time drawn for the answered */
    long answered, abandoned;
};

/* Erlang C for `c` agents, `rate` arrivals per second, mean service time
 * `service_s` (handling plus wrap-up) and threshold `sl_s`. Sets valid = 0
 * when rate x service_s >= c (the queue grows without bound). */
void theory_erlang_c(int c, double rate, double service_s, double sl_s, struct theory *out);

/* Latency to add to the replay, simulated seconds (all 0: the ideal system). */
struct theory_latency {
    double route_s;  /* offer after both the customer and an agent are free */
    double accept_s; /* accept confirmed after the offer */
    double held_s;   /* an agent held per contact beyond its handling time, from the offer */
};

/* Replays customers `cu` (sorted by arrival) through `c` agents, first come
 * first served: a customer is offered route_s after both it and an agent are
 * free, answered accept_s later, and holds the agent from the offer for
 * handle_s + held_s + `wrap_s`. A customer not offered before its patience
 * runs out abandons and takes no agent. `lat` NULL is no latency. Figures
 * are over measured customers; occupancy over [w0_s, w1_s). Returns CC_OK
 * or CC_ERR_NOMEM. */
enum cc_status theory_replay(const struct sim_customer *cu, size_t n, int c, double wrap_s,
                             const struct theory_latency *lat, double sl_s, double w0_s,
                             double w1_s, struct theory *out);

#endif
