/* cc_agent.h - the one owner of the agent's status/state machine (SPEC
 * section 4, docs/presence.md), shared by agent-registry and skill-router.
 *
 * Pure: given the agent's record, an event and the facts it needs, it decides
 * the next record and the state timer, or refuses; and it says whether an
 * agent can take an interaction of a queue now (agent_can_take). No I/O here:
 * cc_agent_store.h reads records and applies a decided transition with one
 * compare-and-set script (agent_apply.lua, whose function agent_cas.lua the
 * routing scripts share), and publishes it. */
#ifndef CC_AGENT_H
#define CC_AGENT_H

#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_status.h"

#include <stddef.h>
#include <stdint.h>

enum agent_status { AGENT_OFFLINE, AGENT_DND, AGENT_READY, AGENT_CALLCENTER };

/* The state inside callcenter status; STATE_NONE outside it. */
enum agent_state {
    STATE_NONE,
    STATE_WAITING,
    STATE_OFFERING,
    STATE_BUSY,
    STATE_POST_PROCESSING,
    STATE_MISSED,
    STATE_PAUSE,
};

/* Asked for while busy, applied when the last interaction ends. */
enum agent_pending { PENDING_NONE, PENDING_DND, PENDING_READY, PENDING_CALLCENTER, PENDING_PAUSE };

struct agent_rec {
    enum agent_status status;
    enum agent_state state;
    char cause[64]; /* pause cause while state = pause */
    enum agent_pending pending;
    char pending_cause[64];
    int64_t since_ms;     /* when status or state last changed */
    int64_t due_ms;       /* the state timer: end of wrap-up, missed or pause; 0 none */
    int64_t calls, chats; /* active interactions */
    int64_t offers;       /* offers ringing */
    int64_t misses;       /* consecutive unanswered offers */
    int64_t version;
    /* Written by agent-registry's routing index, outside the version: */
    char team[64];
    int enabled; /* an enabled, not archived agent (1 when never written) */
};

enum presence_event {
    EV_SIGN_IN,         /* system: a session started */
    EV_SIGN_OUT,        /* system: the last session ended (logout, idle, revoked) */
    EV_SET_STATUS,      /* agent / supervisor: status in input */
    EV_SET_STATE,       /* agent / supervisor: waiting or pause (+ cause) */
    EV_OFFER,           /* router: an interaction is offered */
    EV_OFFER_WITHDRAWN, /* router: the offer was taken back (abandon, ring_all won elsewhere) */
    EV_ACCEPT,          /* router: the offer was accepted / answered */
    EV_DECLINE,         /* router: the agent declined */
    EV_OFFER_TIMEOUT,   /* router: not answered in time */
    EV_END,             /* an active interaction ended */
    EV_TIMER,           /* the state timer fired */
    EV_CALL_START,      /* call-router: a direct or outgoing call of the agent (not from a queue) */
    EV_CALL_END,        /* call-router: that call ended (no wrap-up) */
    EV_DEACTIVATE,      /* system: agent.enabled turned false; the agent leaves routing */
    EV_COUNT
};

enum presence_actor { ACTOR_AGENT, ACTOR_SUPERVISOR, ACTOR_ROUTER, ACTOR_TIMER, ACTOR_SYSTEM };

struct presence_input {
    enum presence_event ev;
    enum presence_actor actor;
    const char *status;         /* EV_SET_STATUS */
    const char *state;          /* EV_SET_STATE */
    const char *cause;          /* EV_SET_STATE pause */
    const char *kind;           /* router events: call or chat */
    const Cc__V1__Queue *queue; /* EV_OFFER: the interaction's queue (NULL: none known) */
};

/* Facts read before deciding. */
struct presence_facts {
    int64_t now_ms;
    int is_agent;                  /* agent.enabled and not archived */
    int64_t wrap_up_s;             /* EV_END: the queue's, else the team's */
    int64_t no_answer_delay_s;     /* EV_OFFER_TIMEOUT: the team's */
    int64_t max_no_answer;         /* 0 = off */
    int64_t offer_timeout_s;       /* EV_OFFER: the team's invite (chat) or ring (call) time */
    int cause_found;               /* EV_SET_STATE pause: the cause exists */
    int cause_allowed;             /* ... and this actor may choose it */
    int64_t cause_left_ms;         /* ... time left today, -1 = no limit */
    int64_t pending_cause_left_ms; /* EV_END with a pending pause: its time left */
};

#define PRESENCE_NO_ANSWER_CAUSE "pc_no_answer"

/* Decides `in` on `cur` into `next` (a copy of cur changed as the table
 * says). Returns CC_OK (next may equal cur: nothing to do), or refuses with
 * CC_ERR_INVALID, CC_ERR_FORBIDDEN or CC_ERR_CONFLICT and a reason in `why`. */
enum cc_status presence_decide(const struct agent_rec *cur, const struct presence_input *in,
                               const struct presence_facts *f, struct agent_rec *next,
                               const char **why);

/* 1 when `a` and `b` differ in anything the table sets. */
int presence_changed(const struct agent_rec *a, const struct agent_rec *b);

/* Why agent `a` cannot take an interaction of `kind` ("call", "chat"; NULL:
 * either) in queue `q` (NULL: any queue, no team or chat room limit) now, as
 * a short trace reason (not_agent, not_callcenter, paused, not_in_team,
 * call_or_chat, busy); NULL when it can. The one rule routing, the offer
 * transition and the "agent became available" check all use. */
const char *agent_can_take(const struct agent_rec *a, const char *kind, const Cc__V1__Queue *q);

/* --- names ----------------------------------------------------------------------------- */

const char *agent_status_name(enum agent_status s);
const char *agent_state_name(enum agent_state s);     /* "" for STATE_NONE */
const char *agent_pending_name(enum agent_pending p); /* "" for PENDING_NONE */
/* The value named `name`; -1 when unknown ("" is STATE_NONE / PENDING_NONE). */
int agent_status_parse(const char *name);
int agent_state_parse(const char *name);
int agent_pending_parse(const char *name);

/* --- the stored record ({cc}:agent:<id> hash) -------------------------------------------- */

/* An offline record with nothing in it (what a missing hash reads as). */
void agent_rec_init(struct agent_rec *r);

/* Sets the field named `k` from its stored text `v` (unknown names ignored). */
void agent_rec_field(struct agent_rec *r, const char *k, const char *v);

#define AGENT_REC_NFIELDS 11 /* the fields the machine sets (the script sets the version) */

/* The stored text of every field the machine sets, as name, value pairs into
 * argv[0 .. 2 * AGENT_REC_NFIELDS) (values formatted into buf). */
void agent_rec_fields(const struct agent_rec *r, char buf[AGENT_REC_NFIELDS][24],
                      const char **argv);

/* The time-in-state field ({cc}:tis) of the state a record is in. */
void agent_tis_field(const struct agent_rec *r, char *out, size_t cap);

/* The record as a cc.v1.AgentStatus (strings point into r and times, which
 * holds the two times written, state_since and state_until: 64 bytes). */
void agent_rec_to_proto(const char *id, const struct agent_rec *r, Cc__V1__AgentStatus *s,
                        char *times, size_t cap);

/* Sets the machine's fields of `r` from a status event (team and enabled,
 * which events do not carry, are left as they are). */
void agent_rec_from_proto(struct agent_rec *r, const Cc__V1__AgentStatus *s);

#endif
