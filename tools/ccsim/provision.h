/* provision.h - puts a scenario's world into the real system before a run:
 * skills, one team, queues and the agents (users with agent enabled, their
 * agent skills), created in agent-registry over its NATS subjects as an
 * admin caller would through api-gateway; then every agent signs in and is
 * put in callcenter, and the run waits until skill-router knows the queues.
 * Every name carries the run's tag, so runs can share one system. */
#ifndef CCSIM_PROVISION_H
#define CCSIM_PROVISION_H

#include "cc/v1/common.pb-c.h"
#include "ccsim.h"

/* Fills `c` with the admin caller the simulator acts as (user id "ccsim";
 * the strings are literals). Cannot fail. */
void provision_admin(Cc__V1__Caller *c);

/* Creates everything for s->sc and fills s->tag, s->team_id, s->skill_ids,
 * s->queue_ids and s->agents (a new array of s->n_agents, sorted by id; the
 * caller frees it). `nats` must be connected. Returns CC_OK, or the status
 * of the step that failed with the step and the service's reason in `why`
 * (then s->agents is NULL). */
enum cc_status provision_run(struct sim *s, char *why, size_t whycap);

/* Takes every agent out of callcenter (status ready; applied when its last
 * interaction ends if it is still busy). Failures are counted in
 * s->failed_requests. */
void provision_rest_agents(struct sim *s);

/* Index of agent `id` in s->agents (sorted), or -1. */
int provision_agent_index(const struct sim *s, const char *id);

#endif
