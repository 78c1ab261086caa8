/* routing_index.h - the routing index skill-router reads from Lua, where no
 * protobuf is at hand: per skill, the agents who may take its work, scored by
 * capacity ({cc}:rt:cand:<skill_id>), and each user's team as the field
 * "team" of their presence hash ({cc}:agent:<user_id>). It is derived from
 * users and agent skills and rewritten, under the configuration lock, by
 * every write that changes either (docs/registry.md, "Routing index"). */
#ifndef REGISTRY_ROUTING_INDEX_H
#define REGISTRY_ROUTING_INDEX_H

#include "registry.h"

/* Recomputes user `u`'s entries from their agent skills and writes them in
 * one MULTI/EXEC: in {cc}:rt:cand:<skill> for each active skill while `u` is
 * an agent (agent.enabled and not archived), out of it otherwise, and the
 * "team" field (agent.team_id or ""). Call under the configuration lock
 * after `u` (borrowed) was written. This function can't fail the caller:
 * failures are logged (CC_WARN) and repaired by the next rebuild. */
void routing_index_user(struct registry *reg, const Cc__V1__User *u);

/* routing_index_user for the stored user `user_id`; nothing when absent. */
void routing_index_user_id(struct registry *reg, const char *user_id);

/* Removes `user_id` from the candidate set of `skill_id`: their agent skill
 * for it was deleted. Call under the configuration lock. This function
 * can't fail the caller: a failure is logged (CC_WARN) and repaired by the
 * next rebuild. */
void routing_index_drop_agent_skill(struct registry *reg, const char *user_id,
                                    const char *skill_id);

/* Removes `user_id` from the candidate set of every skill in their agent
 * skills: call before those are dropped. The "team" field goes with the
 * presence hash (presence_forget). Returns CC_OK or the Redis failure. */
enum cc_status routing_index_drop_user(struct registry *reg, const char *user_id);

/* Deletes the candidate set of a deleted skill. Returns CC_OK or the Redis
 * failure. */
enum cc_status routing_index_drop_skill(struct registry *reg, const char *skill_id);

/* Takes the configuration lock, recomputes every user, then removes members
 * whose user or agent skill no longer exists, so that data written before
 * the index (or by a write whose index update failed) is indexed exactly.
 * Run once at start. Returns CC_OK or the first failure, already logged. */
enum cc_status routing_index_rebuild(struct registry *reg);

#endif
