/* engine.h - runs a scenario's customers through the real services in real
 * time (simulated time = real time x scale): customers arrive (cc.router.enqueue)
 * and abandon when their patience runs out (cc.router.abandon); simulated
 * agents take every offer (cc.router.offer.<agent> -> cc.router.accept),
 * hold it for its handling time (cc.router.end) and end their wrap-up
 * (cc.presence.set waiting). Every figure is measured on the simulator's
 * own monotonic clock. */
#ifndef CCSIM_ENGINE_H
#define CCSIM_ENGINE_H

#include "ccsim.h"

/* Runs `s` (provisioned, customers drawn, s->nats connected) until every
 * measured customer is answered or has abandoned, or the drain time after
 * the last arrival is up; then checks each measured customer's record in
 * skill-router against the simulator's (unless `audit` is 0), ends what is
 * still open and takes the agents out of callcenter. `progress` prints a
 * line to stderr every few seconds. Returns CC_OK, or the status of a
 * set-up step that failed (nothing ran then). Anomalies during the run are
 * counted in `s`, not returned. */
enum cc_status engine_run(struct sim *s, int audit, int progress);

/* Simulated seconds from the start of the run to monotonic time `t_us`. */
double engine_sim_s(const struct sim *s, int64_t t_us);

#endif
