/* engine.c - the run: scheduled arrivals, patience, hang-ups and wrap-up
 * ends on the timeline's workers; offers and agent status events from NATS.
 *
 * A customer's fate is decided under sim->lock before any request goes out:
 * an agent accepts only a customer still waiting (it becomes "accepting"),
 * and patience abandons only a customer still waiting, so the simulator never
 * sends both an accept and an abandon for one customer. Agent busy time
 * counts from the offer to the end of wrap-up (or of the interaction). */
#include "engine.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_time.h"
#include "provision.h"
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 8
#define RPC_MS 10000
#define LEAD_US 200000      /* the first arrival is this far after the start */
#define POLL_US 20000       /* the main thread checks for the end this often */
#define PROGRESS_US 5000000 /* a progress line this often */
#define END_TRIES 3

enum { EV_ARRIVE, EV_ACCEPT, EV_PATIENCE, EV_HANGUP, EV_WRAPPED };

double engine_sim_s(const struct sim *s, int64_t t_us)
{
    return (double)(t_us - s->t0) / 1e6 * s->sc->scale;
}

/* Monotonic time of simulated second `sim_s`. */
static int64_t real_us(const struct sim *s, double sim_s)
{
    return s->t0 + (int64_t)(sim_s / s->sc->scale * 1e6);
}

static void count(struct sim *s, long *counter)
{
    pthread_mutex_lock(&s->lock);
    (*counter)++;
    pthread_mutex_unlock(&s->lock);
}

/* Schedules an event; callable with or without the lock. */
static void at(struct sim *s, int64_t due, int kind, uint32_t a, uint32_t b)
{
    struct timeline_event ev = {due, kind, a, b};
    enum cc_status st = timeline_at(s->timeline, &ev);
    if (st != CC_OK && st != CC_ERR_CONFLICT) /* conflict: the run is over */
        __atomic_add_fetch(&s->lost_events, 1, __ATOMIC_RELAXED);
}

static void ix_id(const struct sim *s, uint32_t c, char *out, size_t cap)
{
    snprintf(out, cap, "%s-%u", s->tag, c);
}

/* The customer an interaction id names, or -1 when it is not this run's. */
static int customer_of(const struct sim *s, const char *id)
{
    size_t n = strlen(s->tag);
    int64_t c;
    if (!id || strncmp(id, s->tag, n) || id[n] != '-' ||
        cc_parse_int(id + n + 1, 0, (int64_t)s->n_customers - 1, &c))
        return -1;
    return (int)c;
}

/* --- agent busy time (called with the lock) --------------------------------------- */

static int64_t overlap(const struct sim *s, int64_t from, int64_t to)
{
    int64_t a = from > s->w0 ? from : s->w0, b = to < s->w1 ? to : s->w1;
    return b > a ? b - a : 0;
}

static void agent_take(struct sim_agent *a, int64_t now)
{
    if (a->open++ == 0)
        a->busy_since = now;
}

/* One thing the agent held is over. When the last interaction ends
 * (`ended`) and there is a wrap-up time, the agent stays busy in wrap-up
 * until EV_WRAPPED, as agent-registry keeps it in post_processing. */
static void agent_drop(struct sim *s, int ai, int64_t now, int ended)
{
    struct sim_agent *a = &s->agents[ai];
    if (a->open <= 0)
        return;
    if (a->open == 1 && ended && s->sc->wrap_up_s > 0 && !s->stopped) {
        at(s, now + (int64_t)(s->sc->wrap_up_s / s->sc->scale * 1e6), EV_WRAPPED, 0, (uint32_t)ai);
        return;
    }
    if (--a->open == 0) {
        a->busy_us += overlap(s, a->busy_since, now);
        a->freed = now;
    }
}

static void resolve(struct sim *s, struct sim_customer *c, enum sim_outcome st)
{
    if (c->measured &&
        (c->state == SIM_WAITING || c->state == SIM_ACCEPTING || c->state == SIM_PENDING))
        s->unresolved--;
    c->state = st;
}

/* --- requests ------------------------------------------------------------------------ */

/* cc.router.<verb> for customer `c` (accept names the agent). */
static enum cc_status router_act(struct sim *s, const char *verb, uint32_t c, const char *agent)
{
    Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
    ProtobufCMessage *rep = NULL;
    char id[64], subject[64];
    ix_id(s, c, id, sizeof id);
    snprintf(subject, sizeof subject, "cc.router.%s", verb);
    a.interaction_id = id, a.agent_id = CC_PB_STR(agent);
    enum cc_status st = cc_nats_request(s->nats, subject, &a.base, &cc__v1__interaction__descriptor,
                                        RPC_MS, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

static enum cc_status enqueue(struct sim *s, uint32_t c)
{
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    Cc__V1__Customer cu = CC__V1__CUSTOMER__INIT;
    ProtobufCMessage *rep = NULL;
    const struct sim_queue_cfg *q = &s->sc->queues[s->customers[c].queue];
    char id[64], name[32];
    ix_id(s, c, id, sizeof id);
    snprintf(name, sizeof name, "customer %u", c);
    cu.id = id, cu.name = name;
    ix.id = id, ix.kind = CC_PB_STR(q->kind), ix.queue_id = s->queue_ids[s->customers[c].queue];
    ix.customer = &cu;
    enum cc_status st = cc_nats_request(s->nats, "cc.router.enqueue", &ix.base,
                                        &cc__v1__interaction__descriptor, RPC_MS, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

/* --- events -------------------------------------------------------------------------- */

static void on_arrive(struct sim *s, uint32_t c)
{
    struct sim_customer *cu = &s->customers[c];
    pthread_mutex_lock(&s->lock);
    int64_t now = cc_time_mono_us();
    cu->state = SIM_WAITING, cu->t_arrive = now; /* before the request: the offer may be first */
    pthread_mutex_unlock(&s->lock);
    enum cc_status st = enqueue(s, c);
    pthread_mutex_lock(&s->lock);
    if (st != CC_OK) {
        s->failed_requests++;
        if (cu->state == SIM_WAITING)
            resolve(s, cu, SIM_FAILED);
    } else if (cu->patience_s > 0) {
        at(s, now + (int64_t)(cu->patience_s / s->sc->scale * 1e6), EV_PATIENCE, c, 0);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_accept(struct sim *s, uint32_t c, uint32_t ai)
{
    struct sim_customer *cu = &s->customers[c];
    pthread_mutex_lock(&s->lock);
    int go = cu->state == SIM_WAITING && cu->agent == (int)ai;
    if (go)
        cu->state = SIM_ACCEPTING;
    else /* abandoned meanwhile: the router withdraws the offer */
        s->stale_offers++, agent_drop(s, (int)ai, cc_time_mono_us(), 0);
    pthread_mutex_unlock(&s->lock);
    if (!go)
        return;
    enum cc_status st = router_act(s, "accept", c, s->agents[ai].id);
    pthread_mutex_lock(&s->lock);
    int64_t now = cc_time_mono_us();
    if (st == CC_OK) {
        resolve(s, cu, SIM_ANSWERED);
        cu->t_answer = now;
        s->agents[ai].handled++;
        at(s, now + (int64_t)(cu->handle_s / s->sc->scale * 1e6), EV_HANGUP, c, ai);
    } else {
        s->failed_requests++;
        cu->state = SIM_WAITING, cu->agent = -1;
        agent_drop(s, (int)ai, now, 0);
        if (cu->patience_s > 0 &&
            now >= cu->t_arrive + (int64_t)(cu->patience_s / s->sc->scale * 1e6))
            at(s, now, EV_PATIENCE, c, 0);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_patience(struct sim *s, uint32_t c)
{
    struct sim_customer *cu = &s->customers[c];
    pthread_mutex_lock(&s->lock);
    int go = cu->state == SIM_WAITING;
    if (go) {
        resolve(s, cu, SIM_ABANDONED);
        cu->t_abandon = cc_time_mono_us();
    }
    pthread_mutex_unlock(&s->lock);
    if (go && router_act(s, "abandon", c, NULL) != CC_OK)
        count(s, &s->failed_requests);
}

static void on_hangup(struct sim *s, uint32_t c, uint32_t ai)
{
    enum cc_status st = CC_ERR_INTERNAL;
    for (int i = 0; i < END_TRIES && st != CC_OK; i++) /* end is idempotent */
        st = router_act(s, "end", c, NULL);
    pthread_mutex_lock(&s->lock);
    int64_t now = cc_time_mono_us();
    if (st == CC_OK)
        s->customers[c].state = SIM_ENDED, s->customers[c].t_end = now;
    else
        s->failed_requests++;
    agent_drop(s, (int)ai, now, st == CC_OK);
    pthread_mutex_unlock(&s->lock);
}

static void on_wrapped(struct sim *s, uint32_t ai)
{
    Cc__V1__StatusChange sc = CC__V1__STATUS_CHANGE__INIT;
    Cc__V1__Caller admin;
    ProtobufCMessage *rep = NULL;
    provision_admin(&admin);
    sc.caller = &admin, sc.agent_id = s->agents[ai].id, sc.state = CC_PB_STR("waiting");
    enum cc_status st = cc_nats_request(s->nats, "cc.presence.set", &sc.base,
                                        &cc__v1__agent_status__descriptor, RPC_MS, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    pthread_mutex_lock(&s->lock);
    if (st == CC_ERR_CONFLICT)
        s->wrap_refused++;
    else if (st != CC_OK)
        s->failed_requests++;
    agent_drop(s, (int)ai, cc_time_mono_us(), 0);
    pthread_mutex_unlock(&s->lock);
}

static void on_event(void *arg, const struct timeline_event *ev, int64_t late)
{
    struct sim *s = arg;
    (void)late; /* the timeline keeps the lateness figures */
    switch (ev->kind) {
    case EV_ARRIVE:
        on_arrive(s, ev->a);
        break;
    case EV_ACCEPT:
        on_accept(s, ev->a, ev->b);
        break;
    case EV_PATIENCE:
        on_patience(s, ev->a);
        break;
    case EV_HANGUP:
        on_hangup(s, ev->a, ev->b);
        break;
    case EV_WRAPPED:
        on_wrapped(s, ev->b);
        break;
    }
}

/* --- NATS ---------------------------------------------------------------------------- */

/* The offer is recorded here, on the NATS thread, and accepted on a worker. */
static void take_offer(struct sim *s, int c, int ai)
{
    struct sim_customer *cu = &s->customers[c];
    struct sim_agent *a = &s->agents[ai];
    int64_t now = cc_time_mono_us();
    if (s->stopped)
        return;
    if (cu->state != SIM_WAITING) {
        s->stale_offers++;
        return;
    }
    int64_t ready = a->freed > cu->t_arrive ? a->freed : cu->t_arrive;
    cu->route_delay = a->open == 0 ? now - ready : -1;
    cu->found_free = a->open == 0 && a->freed <= cu->t_arrive;
    cu->t_offer = now, cu->agent = ai;
    agent_take(a, now);
    at(s, now, EV_ACCEPT, (uint32_t)c, (uint32_t)ai);
}

static void on_offer(void *arg, const struct cc_nats_msg *m)
{
    struct sim *s = arg;
    Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
    int c = o ? customer_of(s, o->interaction_id) : -1;
    int ai = c >= 0 && o->agent_id ? provision_agent_index(s, o->agent_id) : -1;
    pthread_mutex_lock(&s->lock);
    if (c >= 0 && ai >= 0)
        take_offer(s, c, ai);
    else if (c >= 0)
        s->stale_offers++; /* ours, offered to someone not simulated */
    pthread_mutex_unlock(&s->lock);
    if (o)
        cc__v1__offer__free_unpacked(o, NULL);
}

/* Status events show what the simulator cannot see itself: an offer that
 * rang out, or a wrap-up ended by the registry's timer before the simulator. */
static void on_status(void *arg, const struct cc_nats_msg *m)
{
    struct sim *s = arg;
    Cc__V1__AgentStatus *st = cc__v1__agent_status__unpack(NULL, m->len, m->data);
    pthread_mutex_lock(&s->lock);
    if (!s->stopped && st && st->agent_id && st->reason &&
        provision_agent_index(s, st->agent_id) >= 0) {
        if (!strcmp(st->reason, "offer_timeout"))
            s->offer_timeouts++;
        else if (!strcmp(st->reason, "wrap_up_ended") && st->changed_by &&
                 !strcmp(st->changed_by, "timer"))
            s->wrap_timer++;
    }
    pthread_mutex_unlock(&s->lock);
    if (st)
        cc__v1__agent_status__free_unpacked(st, NULL);
}

/* --- the run ------------------------------------------------------------------------- */

static void progress_line(struct sim *s, int64_t now)
{
    long arrived = 0, waiting = 0, answered = 0, abandoned = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_customers; i++) {
        enum sim_outcome o = s->customers[i].state;
        arrived += o != SIM_PENDING;
        waiting += o == SIM_WAITING || o == SIM_ACCEPTING;
        answered += o == SIM_ANSWERED || o == SIM_ENDED;
        abandoned += o == SIM_ABANDONED;
    }
    pthread_mutex_unlock(&s->lock);
    double t = engine_sim_s(s, now);
    fprintf(stderr,
            "ccsim: %3d:%02d:%02d simulated  arrived %ld  waiting %ld  answered %ld  "
            "abandoned %ld\n",
            (int)(t / 3600), (int)(t / 60) % 60, (int)t % 60, arrived, waiting, answered,
            abandoned);
}

/* Waits for the end: arrivals over, then measured customers resolved or drain up. */
static void wait_end(struct sim *s, int progress)
{
    int64_t arrivals_end = real_us(s, s->sc->duration_s);
    int64_t drain_end = real_us(s, s->sc->duration_s + s->sc->drain_s);
    int64_t next_line = s->t0 + PROGRESS_US;
    for (;;) {
        int64_t now = cc_time_mono_us();
        pthread_mutex_lock(&s->lock);
        int done = now >= arrivals_end && (s->unresolved == 0 || now >= drain_end);
        pthread_mutex_unlock(&s->lock);
        if (done)
            return;
        if (progress && now >= next_line)
            progress_line(s, now), next_line += PROGRESS_US;
        usleep(POLL_US);
    }
}

/* Stops taking offers and closes every busy stretch at the end of the run. */
static void stop(struct sim *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopped = 1;
    s->end = cc_time_mono_us();
    for (size_t i = 0; i < s->n_agents; i++)
        if (s->agents[i].open > 0)
            s->agents[i].busy_us += overlap(s, s->agents[i].busy_since, s->end);
    pthread_mutex_unlock(&s->lock);
    timeline_stop(s->timeline);
}

static const char *expected_state(enum sim_outcome o)
{
    switch (o) {
    case SIM_ENDED:
        return "ended/completed";
    case SIM_ANSWERED:
        return "connected";
    case SIM_ABANDONED:
        return "ended/abandoned";
    case SIM_WAITING:
    case SIM_ACCEPTING:
        return "waiting";
    default:
        return NULL;
    }
}

static int agrees(const Cc__V1__Interaction *ix, enum sim_outcome o)
{
    const char *st = ix->state ? ix->state : "", *why = ix->end_reason ? ix->end_reason : "";
    if (o == SIM_WAITING || o == SIM_ACCEPTING)
        return !strcmp(st, "waiting") || !strcmp(st, "offered");
    if (o == SIM_ANSWERED)
        return !strcmp(st, "connected");
    return !strcmp(st, "ended") && !strcmp(why, o == SIM_ENDED ? "completed" : "abandoned");
}

/* skill-router's record of every measured customer against the simulator's. */
static void audit(struct sim *s)
{
    for (uint32_t c = 0; c < s->n_customers; c++) {
        Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
        ProtobufCMessage *rep = NULL;
        char id[64];
        const char *want = expected_state(s->customers[c].state);
        if (!s->customers[c].measured || !want)
            continue;
        ix_id(s, c, id, sizeof id);
        a.interaction_id = id;
        enum cc_status st =
            cc_nats_request(s->nats, "cc.router.get", &a.base, &cc__v1__interaction__descriptor,
                            RPC_MS, &rep, NULL, 0);
        const Cc__V1__Interaction *ix = (const Cc__V1__Interaction *)rep;
        s->audit_checked++;
        if (st != CC_OK || !agrees(ix, s->customers[c].state)) {
            if (s->audit_mismatch++ < 5)
                fprintf(stderr, "ccsim: audit: %s is %s/%s in skill-router, %s here\n", id,
                        ix && ix->state ? ix->state : cc_status_str(st),
                        ix && ix->end_reason ? ix->end_reason : "", want);
        }
        if (rep)
            protobuf_c_message_free_unpacked(rep, NULL);
    }
}

/* Ends what the run left open, so that a shared system is left clean. */
static void clean_up(struct sim *s)
{
    for (uint32_t c = 0; c < s->n_customers; c++) {
        enum sim_outcome o = s->customers[c].state;
        if ((o == SIM_WAITING || o == SIM_ACCEPTING || o == SIM_ANSWERED) &&
            router_act(s, "abandon", c, NULL) != CC_OK)
            s->failed_requests++;
    }
    provision_rest_agents(s);
}

static enum cc_status start(struct sim *s)
{
    enum cc_status st = timeline_new(&s->timeline, WORKERS, on_event, s);
    if (st == CC_OK)
        st = cc_nats_subscribe(s->nats, "cc.router.offer.*", NULL, on_offer, s);
    if (st == CC_OK)
        st = cc_nats_subscribe(s->nats, "cc.presence.changed.*", NULL, on_status, s);
    if (st != CC_OK)
        return st;
    /* room to schedule every arrival (about a microsecond each) before the first */
    s->t0 = cc_time_mono_us() + LEAD_US + (int64_t)s->n_customers;
    s->w0 = real_us(s, s->sc->warmup_s), s->w1 = real_us(s, s->sc->duration_s);
    for (size_t i = 0; i < s->n_customers; i++) {
        s->customers[i].agent = -1, s->customers[i].route_delay = -1;
        s->unresolved += (size_t)s->customers[i].measured;
    }
    for (size_t i = 0; i < s->n_customers; i++)
        at(s, real_us(s, s->customers[i].arrive_s), EV_ARRIVE, (uint32_t)i, 0);
    return CC_OK;
}

enum cc_status engine_run(struct sim *s, int do_audit, int progress)
{
    enum cc_status st = start(s);
    if (st != CC_OK) {
        if (s->timeline)
            timeline_free(s->timeline), s->timeline = NULL;
        return st;
    }
    wait_end(s, progress);
    stop(s);
    if (do_audit)
        audit(s);
    clean_up(s);
    return CC_OK;
}
