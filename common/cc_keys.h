/* cc_keys.h - every Redis key format of the engine, in one place, grouped by
 * the service that owns the record, so that who reads and writes a record can
 * be found with grep.
 *
 * Room to shard: every key of a deployment starts with one hash tag,
 * "{cc:<domain>}", where the routing domain is the deployment's CC_DOMAIN
 * (default "main"). All keys one decision touches share one Redis Cluster
 * slot (a script may touch only keys of one slot), and several deployments
 * (cells) with different domains can share one Redis Cluster, whose slots
 * then spread the domains over the shards.
 *
 * The tag is a runtime value: the FIRST %s of every format below (CC_TAG) is
 * the tag; pass cc_tag() for it, then the ids:
 *     snprintf(k, sizeof k, KEY_AGENT, cc_tag(), id);
 *     cc_redis_run(r, &rep, "HGETALL " KEY_AGENT, cc_tag(), id);
 * A key without ids passed as a string is cc_key_fixed(KEY_OFFERED).
 * cc_redis_run/do/cmd check their arguments against the format at build
 * time. A script that must build keys from data gets the key's prefix as an
 * argument (cc_key_prefix), never the tag spelt out; TTLs are passed to
 * scripts as arguments, from here. Comments elsewhere write a key with the
 * tag as "{cc}" ({cc}:ix:<id>), meaning the deployment's tag. */
#ifndef CC_KEYS_H
#define CC_KEYS_H

#include "cc_status.h"

#include <stddef.h>

#define CC_DOMAIN_DEFAULT "main" /* CC_DOMAIN when unset */
#define CC_DOMAIN_MAX 32         /* a domain is [a-z0-9-]{1,32} */
#define CC_TAG_MAX (CC_DOMAIN_MAX + 6)

/* Where the tag goes in a format: "{cc:<domain>}", given by cc_tag(). */
#define CC_TAG "%s"

/* 1 when `domain` is a valid routing domain ([a-z0-9-]{1,32}), else 0. */
int cc_domain_valid(const char *domain);

/* Sets the tag of every key to "{cc:<domain>}" (cc_config_load calls it with
 * CC_DOMAIN before anything touches Redis). CC_ERR_INVALID for a domain that
 * is not valid; the tag is then unchanged. Until called: "{cc:main}". */
enum cc_status cc_keys_init(const char *domain);

/* The tag, "{cc:<domain>}". */
const char *cc_tag(void);

/* The domain, e.g. "main". */
const char *cc_domain(void);

/* The key of a format without ids (KEY_OFFERED, KEY_TIMERS_STATE, ...) with
 * the tag filled in, for passing as a string: cc_key_fixed(KEY_OFFERED) is
 * "{cc:main}:offered". The string lives as long as the process. */
const char *cc_key_fixed(const char *fmt);

/* Writes the key of `fmt` up to its first id into buf: KEY_AOFF gives
 * "{cc:main}:aoff:", KEY_REP_AGENT "{cc:main}:rep:a:" (for a script that
 * builds keys from data). */
void cc_key_prefix(char *buf, size_t cap, const char *fmt);

/* --- agent-registry: agents and presence (skill-router changes the agent
 * record with agent_cas.lua in its offer scripts) ----------------------------- */
#define KEY_AGENT CC_TAG ":agent:%s"            /* hash: the presence record (cc_agent.h) */
#define KEY_HOLDS CC_TAG ":holds:%s"            /* set: interactions the agent holds */
#define KEY_TIS CC_TAG ":tis:%s:%s"             /* hash: ms per state, day yyyy-mm-dd, agent */
#define KEY_TIMERS_STATE CC_TAG ":timers:state" /* zset: agent by state timer due */
#define KEY_TIMERS_IDLE CC_TAG ":timers:idle"   /* zset: user|session by expiry */
#define KEY_TIMERS_OFFER CC_TAG ":timers:offer" /* zset: agent|interaction|kind by offer expiry */
#define KEY_AOFF CC_TAG ":aoff:%s"              /* set: interactions offered to the agent */
#define KEY_RT_CAND CC_TAG ":rt:cand:%s"        /* zset: agents by capacity in the skill */
#define TIS_TTL_S 3456000                       /* time in state is kept 40 days */

/* --- agent-registry: sign-in and sessions (api-gateway reads sessions) ------- */
#define KEY_SESS CC_TAG ":sess:%s"           /* hash: a session, by hex of the token hash */
#define KEY_USESS CC_TAG ":usess:%s"         /* set: a user's sessions */
#define KEY_PW CC_TAG ":pw"                  /* hash: user id -> password hash */
#define KEY_LOGINFAIL CC_TAG ":loginfail:%s" /* counter: failed sign-ins of login|client */
#define KEY_LOGINWAIT CC_TAG ":loginwait:%s" /* set while login|client must wait */

/* --- agent-registry: configuration (store.c) ---------------------------------- */
#define KEY_OBJ CC_TAG ":obj:%s"                 /* hash: id -> packed object, per kind */
#define KEY_ORD CC_TAG ":ord:%s"                 /* zset: ids of a kind by creation */
#define KEY_UNIQ CC_TAG ":uniq:%s:%s"            /* hash: folded value -> id, per kind and field */
#define KEY_SEQ CC_TAG ":seq:%s"                 /* counter: the creation order of a kind */
#define KEY_LOCK_CONFIG CC_TAG ":lock:config"    /* the lock of configuration writes */
#define KEY_ASKILL CC_TAG ":askill:%s"           /* hash: skill id -> packed AgentSkill, per user */
#define KEY_SKILLAGENTS CC_TAG ":skillagents:%s" /* set: users with the skill */
#define KEY_PERMISSIONS CC_TAG ":settings:permissions" /* packed Permissions */

/* --- agent-registry: reports (reports_ingest.c, report_presence.lua) ---------- */
#define KEY_REP_LAST CC_TAG ":rep:last:%s"       /* hash: the agent state being timed */
#define KEY_REP_AGENT CC_TAG ":rep:a:%s:%lld"    /* hash: an agent's figures of a day */
#define KEY_REP_QUEUE CC_TAG ":rep:q:%s:%lld"    /* hash: a queue's figures of a day */
#define KEY_REP_AGENTS CC_TAG ":rep:agents:%lld" /* set: agents with figures that day */
#define KEY_REP_QUEUES CC_TAG ":rep:queues:%lld" /* set: queues with figures that day */
#define KEY_REP_SEEN CC_TAG ":rep:seen:%s"       /* a record version counted once */

/* --- skill-router: routing ----------------------------------------------------- */
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

/* --- chat-gateway: chats (store.c) --------------------------------------------- */
#define KEY_CHAT CC_TAG ":chat:%s"                    /* hash: the chat's fields, times in ms */
#define KEY_CHATMSGS CC_TAG ":chatmsgs:%s"            /* zset: message ids of a chat by order */
#define KEY_MSG CC_TAG ":msg:%s"                      /* hash: chat, pb (the packed ChatMessage) */
#define KEY_PMSG CC_TAG ":pmsg:%s:%s"                 /* "<chat> <message>" of a provider message */
#define KEY_CONV CC_TAG ":conv:%s:%s"                 /* the open chat of channel, conversation */
#define KEY_CONVLAST CC_TAG ":convlast:%s:%s"         /* the latest chat of a conversation */
#define KEY_CONVSEQ CC_TAG ":convseq:%s:%s"           /* zset: its messages of the last hour */
#define KEY_CHATS_ALL CC_TAG ":chats:all"             /* zset: every chat by creation */
#define KEY_CHATS_OPEN CC_TAG ":chats:open"           /* set: the chats not completed */
#define KEY_CHATS_ACTIVE CC_TAG ":chats:active:%s"    /* set: an agent's open chats */
#define KEY_CHATS_CLOSED CC_TAG ":chats:closed:%s"    /* list: an agent's closed chats */
#define KEY_CHATS_UNROUTED CC_TAG ":chats:unrouted"   /* zset: chats not handed to the router */
#define KEY_CHATS_ACCEPTING CC_TAG ":chats:accepting" /* zset: "<chat>|<agent>" by accept start */
#define KEY_CHATREAD CC_TAG ":chatread:%s"            /* the order its agent has read up to */
#define KEY_RECORDS_PENDING CC_TAG ":records:pending" /* zset: chats not yet in RECORDS */
#define KEY_WCS CC_TAG ":wcs:%s"                      /* hash: a web-chat session */
#define KEY_WCRL CC_TAG ":wcrl:%s:%s:%s"              /* a limiter: what, scope, address */
#define PMSG_TTL_S 2592000                            /* a provider message id is kept 30 days */
#define CONVLAST_TTL_S 2592000 /* a conversation's latest chat is kept 30 days */

/* --- call-router: calls, PBX commands, supervision ----------------------------- */
#define KEY_CALL CC_TAG ":call:%s"                        /* hash: the call record */
#define KEY_PBXCALL CC_TAG ":pbxcall:%s"                  /* the call id of a PBX call id */
#define KEY_CALLS_ACTIVE CC_TAG ":calls:active"           /* zset: calls in progress */
#define KEY_CALLS_CLOSED CC_TAG ":calls:closed"           /* zset: ended calls */
#define KEY_CALLS_QUEUE CC_TAG ":calls:queue:%s"          /* zset: a queue's calls */
#define KEY_CALLS_AGENT CC_TAG ":calls:agent:%s"          /* zset: an agent's calls */
#define KEY_CALLS_UNPUBLISHED CC_TAG ":calls:unpublished" /* set: calls not yet in RECORDS */
#define KEY_CBDIAL CC_TAG ":cbdial:%s:%s"                 /* a callback dialled once per offer */
#define KEY_PBX_CMD CC_TAG ":pbx:cmd:%s"                  /* hash: a PBX command */
#define KEY_PBX_CMD_QUEUE CC_TAG ":pbx:cmd:queue"         /* list: PBX commands to send */
#define KEY_PBX_CMD_LEASED CC_TAG ":pbx:cmd:leased"       /* zset: commands sent, by lease end */
#define KEY_SUP CC_TAG ":sup:%s"                          /* hash: a supervision action */
#define KEY_SUP_CALL CC_TAG ":sup:call:%s"                /* zset: a call's supervision actions */
#define KEY_SUP_AUDIT CC_TAG ":sup:audit"                 /* zset: every supervision action */

/* --- common/cc_files.c: uploaded files ----------------------------------------- */
#define KEY_FILE CC_TAG ":file:%s"       /* hash: name, mime, size, owner, created */
#define KEY_FILETOK CC_TAG ":filetok:%s" /* the file id of an expiring link token */

/* --- crm-sync ------------------------------------------------------------------- */
#define KEY_CRM_SETTINGS CC_TAG ":crm:settings"        /* the CRM connection settings */
#define KEY_CRM_STATUS CC_TAG ":crm:status"            /* hash: last success, error, counts */
#define KEY_CRM_FAILURES CC_TAG ":crm:failures"        /* hash: kind:id -> packed CrmFailure */
#define KEY_CRM_FAILED CC_TAG ":crm:failed"            /* hash: kind:id -> packed Record */
#define KEY_CRM_ASKILL CC_TAG ":crm:askill:%s"         /* the CRM id of an agent skill */
#define KEY_CRM_LINK_USER CC_TAG ":crm:link:user:%s"   /* the user id of a CRM contact */
#define KEY_CRM_LOCK_AGENT CC_TAG ":crm:lock:agent:%s" /* lock: one provisioning per agent */
#define KEY_CRM_LOCK CC_TAG ":crm:lock:%s:%s"          /* lock: one write per kind, id */
#define KEY_CRM_POLL CC_TAG ":crm:poll"                /* hash: object -> last modified seen */
#define KEY_CRM_LOCK_POLL CC_TAG ":crm:lock:poll"      /* lock: one poll of the CRM at a time */
#define KEY_CRM_REC CC_TAG ":crm:rec:%s:%s"            /* hash: crm_id, version of a record */

#endif
