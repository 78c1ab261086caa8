/* presence.h - agent status and state kept in Redis and shared by every
 * agent-registry replica: reads the facts a transition needs, applies the
 * decision of cc_agent.h atomically, runs the timers and publishes each
 * change on cc.presence.changed.<agent_id>. */
#ifndef REGISTRY_PRESENCE_H
#define REGISTRY_PRESENCE_H

#include "cc_agent.h"
#include "registry.h"

/* Subscribes cc.presence.* and starts the timer thread. */
enum cc_status presence_start(struct registry *reg);

/* Stops the timer thread (before the connections are released). */
void presence_stop(struct registry *reg);

/* A session started: the user is signed in (offline -> ready) and, with an
 * idle timeout, an idle check is scheduled for the session `sid`. */
void presence_signed_in(struct registry *reg, const char *user_id, const char *sid, int64_t idle_s);

/* A session ended: when it was the user's last live one, the user goes
 * offline and out of routing. */
void presence_session_ended(struct registry *reg, const char *user_id);

/* agent.enabled turned false (or the user stopped being an agent): out of
 * callcenter at once (after the active interactions when busy), ringing
 * offers withdrawn and re-queued by the router. */
void presence_deactivated(struct registry *reg, const char *user_id);

/* Drops the record of a deleted user. */
void presence_forget(struct registry *reg, const char *user_id);

#endif
