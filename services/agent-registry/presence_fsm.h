/* presence_fsm.h - the agent status/state machine of SPEC section 4 as one
 * pure function: given the agent's record, an event and the facts it needs,
 * it decides the next record and the state timer, or refuses. No I/O here;
 * presence.c reads the facts, applies the result atomically in Redis and
 * publishes it. The same table is written out in docs/presence.md. */
#ifndef REGISTRY_PRESENCE_FSM_H
#define REGISTRY_PRESENCE_FSM_H

#include "cc_status.h"

#include <stdint.h>

struct agent_rec {
    char status[16];        /* offline, dnd, ready, callcenter */
    char state[20];         /* "" unless callcenter */
    char cause[64];         /* pause cause while state = pause */
    char pending[16];       /* asked for while busy: a status, or "pause" */
    char pending_cause[64];
    int64_t since_ms;       /* when status or state last changed */
    int64_t due_ms;         /* the state timer: end of wrap-up, missed or pause; 0 none */
    int64_t calls, chats;   /* active interactions */
    int64_t offers;         /* offers ringing */
    int64_t misses;         /* consecutive unanswered offers */
    int64_t version;
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
};

enum presence_actor { ACTOR_AGENT, ACTOR_SUPERVISOR, ACTOR_ROUTER, ACTOR_TIMER, ACTOR_SYSTEM };

struct presence_input {
    enum presence_event ev;
    enum presence_actor actor;
    const char *status;  /* EV_SET_STATUS */
    const char *state;   /* EV_SET_STATE */
    const char *cause;   /* EV_SET_STATE pause */
    const char *kind;    /* router events: call or chat */
};

/* Facts read before deciding. */
struct presence_facts {
    int64_t now_ms;
    int is_agent;              /* agent.enabled and not archived */
    int64_t wrap_up_s;         /* EV_END: the queue's, else the team's */
    int64_t no_answer_delay_s; /* EV_OFFER_TIMEOUT: the team's */
    int64_t max_no_answer;     /* 0 = off */
    int64_t offer_timeout_s;   /* EV_OFFER: the team's invite (chat) or ring (call) time */
    int cause_found;           /* EV_SET_STATE pause: the cause exists */
    int cause_allowed;         /* ... and this actor may choose it */
    int64_t cause_left_ms;     /* ... time left today, -1 = no limit */
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

#endif
