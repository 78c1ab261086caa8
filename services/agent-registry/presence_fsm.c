/* presence_fsm.c - the transition table of agent status and state.
 *
 *  event            from                         to                            who
 *  sign_in          offline                      ready                         system
 *  sign_out         any                          offline (offers withdrawn)    system
 *  set_status X     offline                      refused 409                   -
 *  set_status X     busy                         pending X (on last end)       agent, supervisor
 *  set_status X     any other                    X (callcenter: waiting)       agent, supervisor
 *  set_state wait   pause, post_processing       waiting                       agent, supervisor
 *  set_state pause  waiting, pause, post_proc.,  pause (cause allowed, limit)  agent, supervisor
 *                   missed, offering
 *  set_state pause  busy                         pending pause                 agent, supervisor
 *  offer            waiting                      offering                      router
 *  offer (chat)     busy with chats only         busy, offers + 1              router
 *  offer_withdrawn  offering                     waiting                       router
 *  accept           offering / busy              busy                          router
 *  decline          offering                     waiting                       router
 *  offer_timeout    offering                     missed, or pause "no answer"  router
 *                                                after max_no_answer misses
 *  end              busy, last interaction       pending, else post_processing router
 *                                                (wrap-up > 0) or waiting
 *  timer            post_processing, missed,     waiting                       timer
 *                   pause with a daily limit
 *  call_start       offline, dnd                 refused 409                   call-router
 *  call_start       waiting, offering            busy, calls + 1               call-router
 *  call_start       any other                    unchanged, calls + 1          call-router
 *  call_end         busy, last interaction       pending, else waiting         call-router
 *                                                (no wrap-up: not a queue call)
 *  call_end         any other                    unchanged, calls - 1          call-router
 *  deactivate       callcenter, not busy         ready (offers withdrawn)      system
 *  deactivate       callcenter, busy             busy, pending ready, offers   system
 *                                                withdrawn
 *  deactivate       any other                    unchanged; offers withdrawn,  system
 *                                                a pending callcenter or pause
 *                                                dropped
 *  Anything else is refused with 409 and the record is unchanged. */
#include "presence_fsm.h"

#include <stdio.h>
#include <string.h>

#define SET(field, value) snprintf((field), sizeof(field), "%s", (value))

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static int active(const struct agent_rec *r)
{
    return r->calls + r->chats > 0;
}

/* Moves to status/state with a fresh timer start. */
static void move(struct agent_rec *n, const char *status, const char *state, int64_t now)
{
    SET(n->status, status);
    SET(n->state, state);
    n->cause[0] = '\0';
    n->due_ms = 0;
    n->since_ms = now;
}

static enum cc_status refuse(const char **why, const char *text)
{
    *why = text;
    return CC_ERR_CONFLICT;
}

static int valid_status(const char *s)
{
    return s && (is(s, "dnd") || is(s, "ready") || is(s, "callcenter"));
}

static void pause_with(struct agent_rec *n, const char *cause, int64_t left_ms, int64_t now)
{
    move(n, "callcenter", "pause", now);
    SET(n->cause, cause);
    n->due_ms = left_ms >= 0 ? now + left_ms : 0;
}

static enum cc_status set_status(const struct agent_rec *c, const struct presence_input *in,
                                 const struct presence_facts *f, struct agent_rec *n,
                                 const char **why)
{
    if (!valid_status(in->status)) {
        *why = is(in->status ? in->status : "", "offline")
                   ? "offline comes from signing out"
                   : "status must be dnd, ready or callcenter";
        return is(in->status ? in->status : "", "offline") ? CC_ERR_CONFLICT : CC_ERR_INVALID;
    }
    if (is(c->status, "offline"))
        return refuse(why, "the agent is not signed in");
    if (is(in->status, "callcenter") && !f->is_agent)
        return refuse(why, "only agents work queues");
    if (active(c)) { /* takes effect when the last interaction ends */
        SET(n->pending, in->status);
        n->pending_cause[0] = '\0';
        return CC_OK;
    }
    if (is(c->status, in->status))
        return CC_OK; /* choosing the status one has changes nothing */
    n->pending[0] = '\0';
    n->offers = 0; /* a ringing offer is withdrawn and re-queued by the router */
    move(n, in->status, is(in->status, "callcenter") ? "waiting" : "", f->now_ms);
    return CC_OK;
}

static enum cc_status check_cause(const struct presence_input *in, const struct presence_facts *f,
                                  const char **why)
{
    if (!in->cause || !*in->cause || !f->cause_found) {
        *why = "pause_cause_id: no such pause cause";
        return CC_ERR_INVALID;
    }
    if (!f->cause_allowed) {
        *why = "this pause cause is not yours to choose";
        return CC_ERR_FORBIDDEN;
    }
    if (f->cause_left_ms == 0)
        return refuse(why, "the daily limit of this pause cause is used up");
    return CC_OK;
}

static enum cc_status set_state(const struct agent_rec *c, const struct presence_input *in,
                                const struct presence_facts *f, struct agent_rec *n,
                                const char **why)
{
    const char *s = in->state ? in->state : "";
    if (!is(c->status, "callcenter"))
        return refuse(why, "states exist only in callcenter status");
    if (!is(s, "waiting") && !is(s, "pause"))
        return refuse(why, "only waiting and pause can be chosen");
    if (is(s, "pause")) {
        enum cc_status st = check_cause(in, f, why);
        if (st != CC_OK)
            return st;
        if (active(c) || is(c->state, "busy")) {
            SET(n->pending, "pause");
            SET(n->pending_cause, in->cause);
            return CC_OK;
        }
        n->offers = 0;
        pause_with(n, in->cause, f->cause_left_ms, f->now_ms);
        return CC_OK;
    }
    if (is(c->state, "waiting"))
        return CC_OK;
    if (!is(c->state, "pause") && !is(c->state, "post_processing"))
        return refuse(why, "waiting can be chosen from pause or post-processing only");
    move(n, "callcenter", "waiting", f->now_ms);
    return CC_OK;
}

static enum cc_status offer(const struct agent_rec *c, const struct presence_input *in,
                            struct agent_rec *n, int64_t now, const char **why)
{
    int chat = in->kind && is(in->kind, "chat");
    if (!is(c->status, "callcenter"))
        return refuse(why, "not in callcenter");
    if (is(c->state, "waiting")) {
        move(n, "callcenter", "offering", now);
        n->offers = 1;
        return CC_OK;
    }
    if (chat && is(c->state, "busy") && c->calls == 0 && !c->pending[0]) {
        n->offers++;
        return CC_OK;
    }
    return refuse(why, "the agent cannot take an offer now");
}

/* After an offer ends without becoming active: back to waiting when nothing
 * else holds the agent. */
static void offer_gone(const struct agent_rec *c, struct agent_rec *n, int64_t now)
{
    if (n->offers > 0)
        n->offers--;
    if (is(c->state, "offering") && n->offers == 0)
        move(n, "callcenter", "waiting", now);
}

static enum cc_status offer_timeout(const struct agent_rec *c, const struct presence_facts *f,
                                    struct agent_rec *n)
{
    offer_gone(c, n, f->now_ms);
    n->misses++;
    if (!is(c->state, "offering"))
        return CC_OK; /* busy with chats: stays busy */
    if (f->max_no_answer > 0 && n->misses >= f->max_no_answer) {
        pause_with(n, PRESENCE_NO_ANSWER_CAUSE, -1, f->now_ms);
        n->misses = 0;
    } else if (f->no_answer_delay_s > 0) {
        move(n, "callcenter", "missed", f->now_ms);
        n->due_ms = f->now_ms + f->no_answer_delay_s * 1000;
    }
    return CC_OK;
}

static enum cc_status accept(const struct agent_rec *c, const struct presence_input *in,
                             struct agent_rec *n, int64_t now, const char **why)
{
    if (c->offers <= 0)
        return refuse(why, "no offer is ringing");
    n->offers--;
    if (in->kind && is(in->kind, "call"))
        n->calls++;
    else
        n->chats++;
    n->misses = 0;
    if (!is(c->state, "busy"))
        move(n, "callcenter", "busy", now);
    return CC_OK;
}

/* The last interaction ended: apply what was asked meanwhile, else wrap up. */
static void after_last(struct agent_rec *n, const struct presence_facts *f)
{
    char pending[16], cause[64];
    SET(pending, n->pending);
    SET(cause, n->pending_cause);
    n->pending[0] = n->pending_cause[0] = '\0';
    if (is(pending, "pause") && f->pending_cause_left_ms != 0)
        pause_with(n, cause, f->pending_cause_left_ms, f->now_ms);
    else if (valid_status(pending) && !is(pending, "callcenter"))
        move(n, pending, "", f->now_ms);
    else if (f->wrap_up_s > 0) {
        move(n, "callcenter", "post_processing", f->now_ms);
        n->due_ms = f->now_ms + f->wrap_up_s * 1000;
    } else
        move(n, "callcenter", "waiting", f->now_ms);
}

static enum cc_status end(const struct agent_rec *c, const struct presence_input *in,
                          const struct presence_facts *f, struct agent_rec *n, const char **why)
{
    int64_t *count = in->kind && is(in->kind, "call") ? &n->calls : &n->chats;
    if (*count <= 0)
        return refuse(why, "no such active interaction");
    (*count)--;
    if (!active(n) && n->offers == 0 && is(c->status, "callcenter"))
        after_last(n, f);
    else if (!active(n) && n->offers > 0)
        move(n, "callcenter", "offering", f->now_ms); /* a chat offer still rings */
    return CC_OK;
}

static enum cc_status timer(const struct agent_rec *c, const struct presence_facts *f,
                            struct agent_rec *n)
{
    int timed = is(c->state, "post_processing") || is(c->state, "missed") || is(c->state, "pause");
    if (!is(c->status, "callcenter") || !timed || c->due_ms == 0 || c->due_ms > f->now_ms)
        return CC_OK; /* stale wake-up: the state moved on */
    move(n, "callcenter", "waiting", f->now_ms);
    return CC_OK;
}

/* A direct or outgoing call: the agent is on a call, so offered nothing else. */
static enum cc_status call_start(const struct agent_rec *c, struct agent_rec *n, int64_t now,
                                 const char **why)
{
    if (is(c->status, "offline"))
        return refuse(why, "the agent is not signed in");
    if (is(c->status, "dnd"))
        return refuse(why, "the agent is in do not disturb");
    n->calls++;
    if (is(c->status, "callcenter") && (is(c->state, "waiting") || is(c->state, "offering")))
        move(n, "callcenter", "busy", now);
    return CC_OK;
}

static enum cc_status call_end(const struct agent_rec *c, const struct presence_facts *f,
                               struct agent_rec *n, const char **why)
{
    struct presence_facts nowrap = *f;
    nowrap.wrap_up_s = 0;
    if (c->calls <= 0)
        return refuse(why, "no such active call");
    if (!is(c->state, "busy")) {
        n->calls--;
        return CC_OK;
    }
    struct presence_input in = {.ev = EV_END, .kind = "call"};
    return end(c, &in, &nowrap, n, why);
}

/* agent.enabled turned false: out of callcenter at once (after the active
 * interactions when busy), every ringing offer withdrawn (the router
 * re-queues them), and no pending change may bring the agent back. */
static void deactivate(const struct agent_rec *c, struct agent_rec *n, int64_t now)
{
    n->offers = 0;
    if (is(n->pending, "callcenter") || is(n->pending, "pause"))
        n->pending[0] = n->pending_cause[0] = '\0';
    if (!is(c->status, "callcenter"))
        return;
    if (active(c)) {
        SET(n->pending, "ready");
        return;
    }
    move(n, "ready", "", now);
}

enum cc_status presence_decide(const struct agent_rec *cur, const struct presence_input *in,
                               const struct presence_facts *f, struct agent_rec *next,
                               const char **why)
{
    *next = *cur;
    *why = NULL;
    switch (in->ev) {
    case EV_SIGN_IN:
        if (is(cur->status, "offline"))
            move(next, "ready", "", f->now_ms);
        return CC_OK;
    case EV_SIGN_OUT:
        if (!is(cur->status, "offline"))
            move(next, "offline", "", f->now_ms);
        next->offers = 0;
        next->pending[0] = next->pending_cause[0] = '\0';
        return CC_OK;
    case EV_SET_STATUS:
        return set_status(cur, in, f, next, why);
    case EV_SET_STATE:
        return set_state(cur, in, f, next, why);
    case EV_OFFER:
        return offer(cur, in, next, f->now_ms, why);
    case EV_OFFER_WITHDRAWN:
    case EV_DECLINE:
        if (cur->offers <= 0)
            return refuse(why, "no offer is ringing");
        offer_gone(cur, next, f->now_ms);
        return CC_OK;
    case EV_OFFER_TIMEOUT:
        if (cur->offers <= 0)
            return refuse(why, "no offer is ringing");
        return offer_timeout(cur, f, next);
    case EV_ACCEPT:
        return accept(cur, in, next, f->now_ms, why);
    case EV_END:
        return end(cur, in, f, next, why);
    case EV_TIMER:
        return timer(cur, f, next);
    case EV_CALL_START:
        return call_start(cur, next, f->now_ms, why);
    case EV_CALL_END:
        return call_end(cur, f, next, why);
    case EV_DEACTIVATE:
        deactivate(cur, next, f->now_ms);
        return CC_OK;
    }
    return refuse(why, "unknown event");
}

int presence_changed(const struct agent_rec *a, const struct agent_rec *b)
{
    return strcmp(a->status, b->status) || strcmp(a->state, b->state) ||
           strcmp(a->cause, b->cause) || strcmp(a->pending, b->pending) ||
           strcmp(a->pending_cause, b->pending_cause) || a->since_ms != b->since_ms ||
           a->due_ms != b->due_ms || a->calls != b->calls || a->chats != b->chats ||
           a->offers != b->offers || a->misses != b->misses;
}
