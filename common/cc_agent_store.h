/* cc_agent_store.h - the agent record in Redis ({cc}:agent:<id>, cc_keys.h):
 * the one reader of it, the one compare-and-set that applies a transition
 * decided by cc_agent.h (agent_cas.lua), and the one publisher of a change
 * (cc.presence.changed.<id>). Shared by agent-registry and skill-router. */
#ifndef CC_AGENT_STORE_H
#define CC_AGENT_STORE_H

#include "cc_agent.h"
#include "cc_nats.h"
#include "cc_redis.h"

/* Reads agent `id`'s record (an offline record when there is none). */
enum cc_status agent_read(struct cc_redis *redis, const char *id, struct agent_rec *r);

/* The same on a pipeline: queue the read, then take its reply (0 when
 * unreadable). */
void agent_read_append(struct cc_redis_conn *c, const char *id);
int agent_read_reply(struct cc_redis_conn *c, struct agent_rec *r);

/* Fills `r` from an HGETALL reply (field, value, ...). */
void agent_rec_from_reply(struct agent_rec *r, const redisReply *rep);

/* The keys and arguments of one agent's compare-and-set, in the layout
 * agent_cas.lua's agent_cas_at reads: AGENT_CAS_NKEYS keys, AGENT_CAS_NARGS
 * arguments. `hold` and `offer` are kept by pointer. */
#define AGENT_CAS_NKEYS 4
#define AGENT_CAS_NARGS (8 + 2 * AGENT_REC_NFIELDS)
struct agent_cas_arg {
    const char *keys[AGENT_CAS_NKEYS];
    const char *argv[AGENT_CAS_NARGS];
    char k[AGENT_CAS_NKEYS][160];
    char id[96], ver[24], due[24], spent[24], tis_field[96];
    char f[AGENT_REC_NFIELDS][24];
};

/* Prepares writing `next` over `cur` for agent `id` with the hold change
 * `hold` ("+ix", "-ix" or "") and offer change `offer` ("+ix|kind|expires",
 * "-ix|kind" or ""). */
void agent_cas_prepare(struct agent_cas_arg *a, const char *id, const struct agent_rec *cur,
                       const struct agent_rec *next, const char *hold, const char *offer);

/* Writes `next` over `cur` if the record is still at cur's version
 * (agent_apply.lua). *applied: 1 applied (*out is the record the script
 * returned), 0 raced (read again, decide again), -1 the hold was refused (a
 * retry). */
enum cc_status agent_apply(struct cc_redis *redis, const char *id, const struct agent_rec *cur,
                           const struct agent_rec *next, const char *hold, const char *offer,
                           int *applied, struct agent_rec *out);

/* Publishes agent `id`'s record `r` on cc.presence.changed.<id>, naming who
 * changed it (`by`), why (`reason`) and the interaction (may be NULL). */
enum cc_status agent_publish(struct cc_nats *nats, const char *id, const struct agent_rec *r,
                             const char *by, const char *reason, const char *interaction_id);

#endif
