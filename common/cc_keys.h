/* cc_keys.h - every Redis key format of the engine, in one place, so that
 * who reads and writes a record can be found with grep. `%s` is an id.
 *
 * Every key carries the hash tag CC_TAG, so that all keys one routing
 * decision touches share one Redis Cluster slot (a script may touch only
 * keys of one slot). TTLs are passed to scripts as arguments, from here. */
#ifndef CC_KEYS_H
#define CC_KEYS_H

#define CC_TAG "{cc}"

/* --- agents (agent-registry owns the record; skill-router changes it with
 * agent_cas.lua in its offer scripts) ------------------------------------------- */
#define KEY_AGENT CC_TAG ":agent:%s"            /* hash: the presence record (cc_agent.h) */
#define KEY_HOLDS CC_TAG ":holds:%s"            /* set: interactions the agent holds */
#define KEY_TIS CC_TAG ":tis:%s:%s"             /* hash: ms per state, day yyyy-mm-dd, agent */
#define KEY_TIMERS_STATE CC_TAG ":timers:state" /* zset: agent by state timer due */
#define KEY_TIMERS_IDLE CC_TAG ":timers:idle"   /* zset: user|session by expiry */
#define KEY_TIMERS_OFFER CC_TAG ":timers:offer" /* zset: agent|interaction|kind by offer expiry */
#define KEY_AOFF CC_TAG ":aoff:%s"              /* set: interactions offered to the agent */
#define KEY_RT_CAND CC_TAG ":rt:cand:%s"        /* zset: agents by capacity in the skill */
#define KEY_SESS CC_TAG ":sess:%s"              /* a session */
#define KEY_USESS CC_TAG ":usess:%s"            /* set: a user's sessions */
#define TIS_TTL_S 3456000                       /* time in state is kept 40 days */

/* --- routing (skill-router) ----------------------------------------------------------- */
#define KEY_IX CC_TAG ":ix:%s"                 /* hash: the interaction */
#define KEY_WAIT CC_TAG ":wait:%s"             /* zset: waiting interactions of a queue */
#define KEY_OFFERED CC_TAG ":offered"          /* zset: offered interactions by expiry */
#define KEY_RING CC_TAG ":ring:%s"             /* set: agents ringing for a ring_all interaction */
#define KEY_DEADLINE CC_TAG ":deadline"        /* zset: interactions by max_wait_s deadline */
#define KEY_TRACE CC_TAG ":trace:%s"           /* list: packed TraceSteps */
#define KEY_RR CC_TAG ":rr:%s"                 /* the round-robin position of a queue */
#define KEY_HANDLED CC_TAG ":handled:%s"       /* hash: accepted per agent, per day */
#define KEY_LAST_AGENT CC_TAG ":last_agent:%s" /* the sticky agent of a customer */
#define TRACE_TTL_S 604800                     /* a trace is kept 7 days */
#define LAST_AGENT_TTL_S 2592000               /* the sticky agent is kept 30 days */

#endif
