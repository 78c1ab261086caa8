/* cc_agent.c - the transition table of agent status and state, and the one
 * rule for whether an agent can take an interaction (docs/presence.md).
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
 *                   (agent_can_take decides both)
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
#include "cc_agent.h"
#include "cc_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SET(field, value) snprintf((field), sizeof(field), "%s", (value))

static const char *const status_names[] = {"offline", "dnd", "ready", "callcenter"};
static const char *const state_names[] = {
    "", "waiting", "offering", "busy", "post_processing", "missed", "pause"};
static const char *const pending_names[] = {"", "dnd", "ready", "callcenter", "pause"};

#define COUNT(a) (int)(sizeof(a) / sizeof *(a))

static int parse(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

const char *agent_status_name(enum agent_status s)
{
    return (int)s >= 0 && (int)s < COUNT(status_names) ? status_names[s] : "offline";
}

const char *agent_state_name(enum agent_state s)
{
    return (int)s >= 0 && (int)s < COUNT(state_names) ? state_names[s] : "";
}

const char *agent_pending_name(enum agent_pending p)
{
    return (int)p >= 0 && (int)p < COUNT(pending_names) ? pending_names[p] : "";
}

int agent_status_parse(const char *name)
{
    return parse(status_names, COUNT(status_names), name);
}

int agent_state_parse(const char *name)
{
    return parse(state_names, COUNT(state_names), name);
}

int agent_pending_parse(const char *name)
{
    return parse(pending_names, COUNT(pending_names), name);
}

/* --- who can take what --------------------------------------------------------------- */

const char *agent_can_take(const struct agent_rec *a, const char *kind, const Cc__V1__Queue *q)
{
    int chat = kind && !strcmp(kind, "chat"), call = kind && !strcmp(kind, "call");
    int64_t room = q && q->max_concurrent_chats > 0 ? q->max_concurrent_chats : q ? 1 : INT64_MAX;
    if (!a->enabled)
        return "not_agent";
    if (a->status != AGENT_CALLCENTER)
        return "not_callcenter";
    if (a->state == STATE_PAUSE)
        return "paused";
    if (q && q->n_team_ids) {
        int in = 0;
        for (size_t i = 0; i < q->n_team_ids && !in; i++)
            in = !strcmp(q->team_ids[i], a->team);
        if (!in)
            return "not_in_team";
    }
    if (a->state == STATE_WAITING && a->offers == 0)
        return NULL;
    if ((chat && a->calls > 0) || (call && a->chats > 0))
        return "call_or_chat";
    if (!call && a->state == STATE_BUSY && a->calls == 0 && a->pending == PENDING_NONE &&
        a->chats + a->offers < room)
        return NULL;
    return "busy";
}

/* --- the machine ------------------------------------------------------------------------ */

static int active(const struct agent_rec *r)
{
    return r->calls + r->chats > 0;
}

/* Moves to status/state with a fresh timer start. */
static void move(struct agent_rec *n, enum agent_status status, enum agent_state state, int64_t now)
{
    n->status = status;
    n->state = state;
    n->cause[0] = '\0';
    n->due_ms = 0;
    n->since_ms = now;
}

static enum cc_status refuse(const char **why, const char *text)
{
    *why = text;
    return CC_ERR_CONFLICT;
}

/* The statuses one may choose: dnd, ready, callcenter; -1 otherwise. */
static int chosen_status(const char *s)
{
    int v = agent_status_parse(s);
    return v == AGENT_OFFLINE ? -1 : v;
}

static void pause_with(struct agent_rec *n, const char *cause, int64_t left_ms, int64_t now)
{
    move(n, AGENT_CALLCENTER, STATE_PAUSE, now);
    SET(n->cause, cause);
    n->due_ms = left_ms >= 0 ? now + left_ms : 0;
}

static enum cc_status set_status(const struct agent_rec *c, const struct presence_input *in,
                                 const struct presence_facts *f, struct agent_rec *n,
                                 const char **why)
{
    int to = chosen_status(in->status);
    if (to < 0) {
        int offline = agent_status_parse(in->status) == AGENT_OFFLINE;
        *why =
            offline ? "offline comes from signing out" : "status must be dnd, ready or callcenter";
        return offline ? CC_ERR_CONFLICT : CC_ERR_INVALID;
    }
    if (c->status == AGENT_OFFLINE)
        return refuse(why, "the agent is not signed in");
    if (to == AGENT_CALLCENTER && !f->is_agent)
        return refuse(why, "only agents work queues");
    if (active(c)) { /* takes effect when the last interaction ends */
        n->pending = to == AGENT_DND     ? PENDING_DND
                     : to == AGENT_READY ? PENDING_READY
                                         : PENDING_CALLCENTER;
        n->pending_cause[0] = '\0';
        return CC_OK;
    }
    if ((int)c->status == to)
        return CC_OK; /* choosing the status one has changes nothing */
    n->pending = PENDING_NONE;
    n->offers = 0; /* a ringing offer is withdrawn and re-queued by the router */
    move(n, (enum agent_status)to, to == AGENT_CALLCENTER ? STATE_WAITING : STATE_NONE, f->now_ms);
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
    int s = agent_state_parse(in->state ? in->state : "");
    if (c->status != AGENT_CALLCENTER)
        return refuse(why, "states exist only in callcenter status");
    if (s != STATE_WAITING && s != STATE_PAUSE)
        return refuse(why, "only waiting and pause can be chosen");
    if (s == STATE_PAUSE) {
        enum cc_status st = check_cause(in, f, why);
        if (st != CC_OK)
            return st;
        if (active(c) || c->state == STATE_BUSY) {
            n->pending = PENDING_PAUSE;
            SET(n->pending_cause, in->cause);
            return CC_OK;
        }
        n->offers = 0;
        pause_with(n, in->cause, f->cause_left_ms, f->now_ms);
        return CC_OK;
    }
    if (c->state == STATE_WAITING)
        return CC_OK;
    if (c->state != STATE_PAUSE && c->state != STATE_POST_PROCESSING)
        return refuse(why, "waiting can be chosen from pause or post-processing only");
    move(n, AGENT_CALLCENTER, STATE_WAITING, f->now_ms);
    return CC_OK;
}

static enum cc_status offer(const struct agent_rec *c, const struct presence_input *in,
                            struct agent_rec *n, int64_t now, const char **why)
{
    const char *no = agent_can_take(c, in->kind, in->queue);
    if (no)
        return refuse(why, !strcmp(no, "not_callcenter") ? "not in callcenter"
                                                         : "the agent cannot take an offer now");
    if (c->state == STATE_WAITING) {
        move(n, AGENT_CALLCENTER, STATE_OFFERING, now);
        n->offers = 1;
    } else {
        n->offers++; /* a chat while busy with chats */
    }
    return CC_OK;
}

/* After an offer ends without becoming active: back to waiting when nothing
 * else holds the agent. */
static void offer_gone(const struct agent_rec *c, struct agent_rec *n, int64_t now)
{
    if (n->offers > 0)
        n->offers--;
    if (c->state == STATE_OFFERING && n->offers == 0)
        move(n, AGENT_CALLCENTER, STATE_WAITING, now);
}

static enum cc_status offer_timeout(const struct agent_rec *c, const struct presence_facts *f,
                                    struct agent_rec *n)
{
    offer_gone(c, n, f->now_ms);
    n->misses++;
    if (c->state != STATE_OFFERING)
        return CC_OK; /* busy with chats: stays busy */
    if (f->max_no_answer > 0 && n->misses >= f->max_no_answer) {
        pause_with(n, PRESENCE_NO_ANSWER_CAUSE, -1, f->now_ms);
        n->misses = 0;
    } else if (f->no_answer_delay_s > 0) {
        move(n, AGENT_CALLCENTER, STATE_MISSED, f->now_ms);
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
    if (in->kind && !strcmp(in->kind, "call"))
        n->calls++;
    else
        n->chats++;
    n->misses = 0;
    if (c->state != STATE_BUSY)
        move(n, AGENT_CALLCENTER, STATE_BUSY, now);
    return CC_OK;
}

/* The last interaction ended: apply what was asked meanwhile, else wrap up. */
static void after_last(struct agent_rec *n, const struct presence_facts *f)
{
    enum agent_pending pending = n->pending;
    char cause[64];
    SET(cause, n->pending_cause);
    n->pending = PENDING_NONE;
    n->pending_cause[0] = '\0';
    if (pending == PENDING_PAUSE && f->pending_cause_left_ms != 0)
        pause_with(n, cause, f->pending_cause_left_ms, f->now_ms);
    else if (pending == PENDING_DND || pending == PENDING_READY)
        move(n, pending == PENDING_DND ? AGENT_DND : AGENT_READY, STATE_NONE, f->now_ms);
    else if (f->wrap_up_s > 0) {
        move(n, AGENT_CALLCENTER, STATE_POST_PROCESSING, f->now_ms);
        n->due_ms = f->now_ms + f->wrap_up_s * 1000;
    } else
        move(n, AGENT_CALLCENTER, STATE_WAITING, f->now_ms);
}

static enum cc_status end(const struct agent_rec *c, const struct presence_input *in,
                          const struct presence_facts *f, struct agent_rec *n, const char **why)
{
    int64_t *count = in->kind && !strcmp(in->kind, "call") ? &n->calls : &n->chats;
    if (*count <= 0)
        return refuse(why, "no such active interaction");
    (*count)--;
    if (!active(n) && n->offers == 0 && c->status == AGENT_CALLCENTER)
        after_last(n, f);
    else if (!active(n) && n->offers > 0)
        move(n, AGENT_CALLCENTER, STATE_OFFERING, f->now_ms); /* a chat offer still rings */
    return CC_OK;
}

static enum cc_status timer(const struct agent_rec *c, const struct presence_facts *f,
                            struct agent_rec *n)
{
    int timed =
        c->state == STATE_POST_PROCESSING || c->state == STATE_MISSED || c->state == STATE_PAUSE;
    if (c->status != AGENT_CALLCENTER || !timed || c->due_ms == 0 || c->due_ms > f->now_ms)
        return CC_OK; /* stale wake-up: the state moved on */
    move(n, AGENT_CALLCENTER, STATE_WAITING, f->now_ms);
    return CC_OK;
}

/* A direct or outgoing call: the agent is on a call, so offered nothing else. */
static enum cc_status call_start(const struct agent_rec *c, struct agent_rec *n, int64_t now,
                                 const char **why)
{
    if (c->status == AGENT_OFFLINE)
        return refuse(why, "the agent is not signed in");
    if (c->status == AGENT_DND)
        return refuse(why, "the agent is in do not disturb");
    n->calls++;
    if (c->status == AGENT_CALLCENTER && (c->state == STATE_WAITING || c->state == STATE_OFFERING))
        move(n, AGENT_CALLCENTER, STATE_BUSY, now);
    return CC_OK;
}

static enum cc_status call_end(const struct agent_rec *c, const struct presence_facts *f,
                               struct agent_rec *n, const char **why)
{
    struct presence_facts nowrap = *f;
    nowrap.wrap_up_s = 0;
    if (c->calls <= 0)
        return refuse(why, "no such active call");
    if (c->state != STATE_BUSY) {
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
    if (n->pending == PENDING_CALLCENTER || n->pending == PENDING_PAUSE) {
        n->pending = PENDING_NONE;
        n->pending_cause[0] = '\0';
    }
    if (c->status != AGENT_CALLCENTER)
        return;
    if (active(c)) {
        n->pending = PENDING_READY;
        return;
    }
    move(n, AGENT_READY, STATE_NONE, now);
}

enum cc_status presence_decide(const struct agent_rec *cur, const struct presence_input *in,
                               const struct presence_facts *f, struct agent_rec *next,
                               const char **why)
{
    *next = *cur;
    *why = NULL;
    switch (in->ev) {
    case EV_SIGN_IN:
        if (cur->status == AGENT_OFFLINE)
            move(next, AGENT_READY, STATE_NONE, f->now_ms);
        return CC_OK;
    case EV_SIGN_OUT:
        if (cur->status != AGENT_OFFLINE)
            move(next, AGENT_OFFLINE, STATE_NONE, f->now_ms);
        next->offers = 0;
        next->pending = PENDING_NONE;
        next->pending_cause[0] = '\0';
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
    case EV_COUNT:
        break;
    }
    return refuse(why, "unknown event");
}

int presence_changed(const struct agent_rec *a, const struct agent_rec *b)
{
    return a->status != b->status || a->state != b->state || strcmp(a->cause, b->cause) ||
           a->pending != b->pending || strcmp(a->pending_cause, b->pending_cause) ||
           a->since_ms != b->since_ms || a->due_ms != b->due_ms || a->calls != b->calls ||
           a->chats != b->chats || a->offers != b->offers || a->misses != b->misses;
}

/* --- the stored record ------------------------------------------------------------------- */

void agent_rec_init(struct agent_rec *r)
{
    memset(r, 0, sizeof *r);
    r->status = AGENT_OFFLINE;
    r->enabled = 1;
}

void agent_rec_field(struct agent_rec *r, const char *k, const char *v)
{
    int64_t n = strtoll(v, NULL, 10);
    int e;
    if (!strcmp(k, "status"))
        r->status = (e = agent_status_parse(v)) >= 0 ? (enum agent_status)e : AGENT_OFFLINE;
    else if (!strcmp(k, "state"))
        r->state = (e = agent_state_parse(v)) >= 0 ? (enum agent_state)e : STATE_NONE;
    else if (!strcmp(k, "cause"))
        SET(r->cause, v);
    else if (!strcmp(k, "pending"))
        r->pending = (e = agent_pending_parse(v)) >= 0 ? (enum agent_pending)e : PENDING_NONE;
    else if (!strcmp(k, "pending_cause"))
        SET(r->pending_cause, v);
    else if (!strcmp(k, "since"))
        r->since_ms = n;
    else if (!strcmp(k, "due"))
        r->due_ms = n;
    else if (!strcmp(k, "calls"))
        r->calls = n;
    else if (!strcmp(k, "chats"))
        r->chats = n;
    else if (!strcmp(k, "offers"))
        r->offers = n;
    else if (!strcmp(k, "misses"))
        r->misses = n;
    else if (!strcmp(k, "version"))
        r->version = n;
    else if (!strcmp(k, "team"))
        SET(r->team, v);
    else if (!strcmp(k, "enabled"))
        r->enabled = strcmp(v, "0") != 0;
}

void agent_rec_fields(const struct agent_rec *r, char buf[AGENT_REC_NFIELDS][24], const char **argv)
{
    const int64_t nums[] = {r->since_ms, r->due_ms, r->calls, r->chats, r->offers, r->misses};
    const char *names[] = {"since", "due", "calls", "chats", "offers", "misses"};
    size_t k = 0;
    argv[k++] = "status", argv[k++] = agent_status_name(r->status);
    argv[k++] = "state", argv[k++] = agent_state_name(r->state);
    argv[k++] = "cause", argv[k++] = r->cause;
    argv[k++] = "pending", argv[k++] = agent_pending_name(r->pending);
    argv[k++] = "pending_cause", argv[k++] = r->pending_cause;
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        snprintf(buf[i], sizeof buf[i], "%lld", (long long)nums[i]);
        argv[k++] = names[i], argv[k++] = buf[i];
    }
}

void agent_tis_field(const struct agent_rec *r, char *out, size_t cap)
{
    if (r->state == STATE_PAUSE)
        snprintf(out, cap, "pause.%s", r->cause);
    else
        snprintf(out, cap, "%s",
                 r->state != STATE_NONE ? agent_state_name(r->state)
                                        : agent_status_name(r->status));
}

void agent_rec_to_proto(const char *id, const struct agent_rec *r, Cc__V1__AgentStatus *s,
                        char *times, size_t cap)
{
    char *since = times, *until = times + cap / 2;
    cap /= 2;
    cc__v1__agent_status__init(s);
    s->agent_id = (char *)id;
    s->status = (char *)agent_status_name(r->status);
    s->state = r->state != STATE_NONE ? (char *)agent_state_name(r->state) : NULL;
    s->pause_cause_id = r->cause[0] ? (char *)r->cause : NULL;
    s->pending = r->pending != PENDING_NONE ? (char *)agent_pending_name(r->pending) : NULL;
    s->pending_pause_cause_id = r->pending_cause[0] ? (char *)r->pending_cause : NULL;
    if (r->since_ms && cc_time_format_ms(r->since_ms, since, cap) == 0)
        s->state_since = since;
    /* a timed state (wrap-up, missed, a pause with a limit) ends by itself then */
    int timed = r->state == STATE_POST_PROCESSING || r->state == STATE_MISSED ||
                r->state == STATE_PAUSE;
    if (timed && r->due_ms > 0 && cc_time_format_ms(r->due_ms, until, cap) == 0)
        s->state_until = until;
    s->has_active_calls = s->has_active_chats = s->has_offers = 1;
    s->active_calls = r->calls, s->active_chats = r->chats, s->offers = r->offers;
    s->has_missed_in_row = 1, s->missed_in_row = r->misses;
    s->has_version = 1, s->version = r->version;
}

void agent_rec_from_proto(struct agent_rec *r, const Cc__V1__AgentStatus *s)
{
    int e;
    int64_t since = 0;
    r->status = (e = agent_status_parse(s->status)) >= 0 ? (enum agent_status)e : AGENT_OFFLINE;
    r->state =
        (e = agent_state_parse(s->state ? s->state : "")) >= 0 ? (enum agent_state)e : STATE_NONE;
    r->pending = (e = agent_pending_parse(s->pending ? s->pending : "")) >= 0
                     ? (enum agent_pending)e
                     : PENDING_NONE;
    SET(r->cause, s->pause_cause_id ? s->pause_cause_id : "");
    SET(r->pending_cause, s->pending_pause_cause_id ? s->pending_pause_cause_id : "");
    if (s->state_since && cc_time_parse_ms(s->state_since, &since) == 0)
        r->since_ms = since;
    r->calls = s->active_calls, r->chats = s->active_chats, r->offers = s->offers;
    r->misses = s->missed_in_row, r->version = s->version;
}
