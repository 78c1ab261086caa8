/* Test helper: a load of chats through skill-router with agents answering
 * at random, checking the routing invariants as it goes.
 *
 * It queues LOAD_COUNT chats in LOAD_QUEUE and plays every agent: each offer
 * (cc.router.offer.<agent>) is accepted (70 %, then ended a moment later),
 * declined (15 %) or left to time out (15 %). All bus traffic it watches
 * arrives through one subscription, so it sees it in the order the server
 * sent it. It counts a violation when an interaction is offered while its
 * previous offer is unresolved, or an agent holds more than LOAD_ROOM chats
 * and offers, or any call. At the end it prints one JSON line and exits 0
 * when every chat ended and nothing was violated.
 * Environment: CC_TEST_NATS_URL, LOAD_QUEUE, LOAD_COUNT (1000), LOAD_ROOM (2),
 * LOAD_SECONDS (120, the time limit), LOAD_OPEN_FILE (optional: every
 * interaction not ended, one id a line, is written there), LOAD_ENQUEUERS
 * (1: one enqueue every 2 ms; more: that many threads enqueue at once, with
 * no pause, so that the routers decide many at the same moment). */
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_time.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IX 20000
#define WORKERS 8

enum act { ACT_ACCEPT, ACT_DECLINE };

struct job {
    int ix;
    char agent[64];
    enum act act;
    unsigned seq; /* the offer it answers (offer_seq at the offer) */
};

struct load {
    struct cc_nats *n;
    const char *queue;
    int count, room, enqueuers;
    atomic_int next_enqueue;
    pthread_mutex_t lock;
    pthread_cond_t more;
    char offered_to[MAX_IX][64]; /* "" when no offer is unresolved */
    unsigned offer_seq[MAX_IX];  /* bumped at each offer and each end of one */
    unsigned char ended[MAX_IX];
    struct job *jobs; /* ring of pending actions */
    size_t head, njobs, cap;
    atomic_int offers, accepted, declined, timed_out, done, violations, stop;
    char first_violation[256];
};

static void violation(struct load *l, const char *what, const char *detail)
{
    if (atomic_fetch_add(&l->violations, 1) == 0)
        snprintf(l->first_violation, sizeof l->first_violation, "%s: %s", what, detail);
}

static int ix_index(const char *id)
{
    int i;
    return id && sscanf(id, "load-%d", &i) == 1 && i >= 0 && i < MAX_IX ? i : -1;
}

static void push(struct load *l, int ix, const char *agent, enum act act, unsigned seq)
{
    if (l->njobs == l->cap)
        return; /* cannot happen: cap holds every interaction twice over */
    struct job *j = &l->jobs[(l->head + l->njobs++) % l->cap];
    j->ix = ix, j->act = act, j->seq = seq;
    snprintf(j->agent, sizeof j->agent, "%s", agent);
    pthread_cond_signal(&l->more);
}

/* Called with l->lock held. */
static void on_offer(struct load *l, const Cc__V1__Offer *o)
{
    int i = ix_index(o->interaction_id);
    if (i < 0 || !o->agent_id)
        return;
    atomic_fetch_add(&l->offers, 1);
    if (l->offered_to[i][0]) {
        char detail[200];
        snprintf(detail, sizeof detail, "%s to %s while %s's offer was unresolved",
                 o->interaction_id, o->agent_id, l->offered_to[i]);
        violation(l, "offered twice at once", detail);
    }
    if (l->ended[i])
        violation(l, "offered after it ended", o->interaction_id);
    snprintf(l->offered_to[i], sizeof l->offered_to[i], "%s", o->agent_id);
    l->offer_seq[i]++;
    uint32_t dice = randombytes_uniform(100);
    if (dice < 70)
        push(l, i, o->agent_id, ACT_ACCEPT, l->offer_seq[i]);
    else if (dice < 85)
        push(l, i, o->agent_id, ACT_DECLINE, l->offer_seq[i]);
    /* else: let it time out */
}

/* Called with l->lock held. */
static void on_status(struct load *l, const Cc__V1__AgentStatus *s)
{
    char detail[160];
    if (s->offers + s->active_chats > l->room || s->active_calls > 0) {
        snprintf(detail, sizeof detail, "%s offers %lld chats %lld", s->agent_id,
                 (long long)s->offers, (long long)s->active_chats);
        violation(l, "over capacity", detail);
    }
    int i = ix_index(s->interaction_id);
    if (i >= 0 && s->reason && !strcmp(s->reason, "offer_timeout") &&
        !strcmp(l->offered_to[i], s->agent_id)) {
        l->offered_to[i][0] = '\0';
        l->offer_seq[i]++;
        atomic_fetch_add(&l->timed_out, 1);
    }
}

/* Called with l->lock held: the router took the offer back from the agent
 * (a lost offer no timer answered), before offering it anew. */
static void on_withdrawn(struct load *l, const Cc__V1__Offer *o)
{
    int i = ix_index(o->interaction_id);
    if (i >= 0 && o->agent_id && !strcmp(l->offered_to[i], o->agent_id)) {
        l->offered_to[i][0] = '\0';
        l->offer_seq[i]++;
    }
}

static void on_bus(void *arg, const struct cc_nats_msg *m)
{
    struct load *l = arg;
    pthread_mutex_lock(&l->lock);
    if (!strncmp(m->subject, "cc.router.offer.", 16)) {
        Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
        if (o)
            on_offer(l, o), cc__v1__offer__free_unpacked(o, NULL);
    } else if (!strncmp(m->subject, "cc.router.offer_withdrawn.", 26)) {
        Cc__V1__Offer *o = cc__v1__offer__unpack(NULL, m->len, m->data);
        if (o)
            on_withdrawn(l, o), cc__v1__offer__free_unpacked(o, NULL);
    } else if (!strncmp(m->subject, "cc.presence.changed.", 20)) {
        Cc__V1__AgentStatus *s = cc__v1__agent_status__unpack(NULL, m->len, m->data);
        if (s)
            on_status(l, s), cc__v1__agent_status__free_unpacked(s, NULL);
    }
    pthread_mutex_unlock(&l->lock);
}

static enum cc_status action_once(struct load *l, const char *verb, int ix, const char *agent);

/* 1 while a request that found the system unavailable or got no answer
 * should be sent again: for RETRY_MS, pausing a little longer each time (a
 * replica killed mid-request, Redis failing over to its replica). */
#define RETRY_MS 15000
static int again(enum cc_status st, int64_t t0, int *tries)
{
    /* a responder's "unavailable" answer arrives as CC_ERR_IO (cc_status_from_code) */
    if (st != CC_ERR_TIMEOUT && st != CC_ERR_UNAVAILABLE && st != CC_ERR_IO)
        return 0;
    if (cc_time_mono_ms() - t0 > RETRY_MS)
        return 0;
    int pause = 50 << (*tries < 4 ? *tries : 4); /* 50 ms doubling to 800 ms */
    ++*tries;
    usleep((useconds_t)pause * 1000);
    return 1;
}

/* Sends one answer, retrying like a real client when no answer came back;
 * the router's answers are idempotent. */
static enum cc_status action(struct load *l, const char *verb, int ix, const char *agent)
{
    int64_t t0 = cc_time_mono_ms();
    int tries = 0;
    enum cc_status st;
    do
        st = action_once(l, verb, ix, agent);
    while (again(st, t0, &tries));
    return st;
}

static enum cc_status action_once(struct load *l, const char *verb, int ix, const char *agent)
{
    Cc__V1__OfferAction a = CC__V1__OFFER_ACTION__INIT;
    ProtobufCMessage *rep = NULL;
    char id[32], subject[64];
    snprintf(id, sizeof id, "load-%d", ix);
    snprintf(subject, sizeof subject, "cc.router.%s", verb);
    a.interaction_id = id, a.agent_id = CC_PB_STR(agent);
    enum cc_status st = cc_nats_request(l->n, subject, &a.base, &cc__v1__interaction__descriptor,
                                        3000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

static void run_job(struct load *l, const struct job *j)
{
    /* An agent answers the offer on the desk: a job for an offer that timed
     * out or was withdrawn meanwhile is dropped (the router names an offer by
     * interaction and agent only, so a stale answer would resolve the same
     * agent's newer offer behind the books' back). The offer counts as
     * answered before the answer is sent: a re-offer may come back at once. */
    pthread_mutex_lock(&l->lock);
    int current = l->offer_seq[j->ix] == j->seq && !strcmp(l->offered_to[j->ix], j->agent);
    if (current) {
        l->offered_to[j->ix][0] = '\0';
        l->offer_seq[j->ix]++;
    }
    pthread_mutex_unlock(&l->lock);
    if (!current)
        return;
    if (j->act == ACT_DECLINE) {
        if (action(l, "decline", j->ix, j->agent) == CC_OK)
            atomic_fetch_add(&l->declined, 1);
        return;
    }
    if (action(l, "accept", j->ix, j->agent) != CC_OK)
        return; /* it timed out first: it will be offered again */
    atomic_fetch_add(&l->accepted, 1);
    usleep(randombytes_uniform(50000));
    if (action(l, "end", j->ix, j->agent) == CC_OK) {
        /* counted once: a second answer job for the same offer (re-offered to
         * the same agent after a timeout) gets the idempotent OK again */
        pthread_mutex_lock(&l->lock);
        if (!l->ended[j->ix])
            atomic_fetch_add(&l->done, 1);
        l->ended[j->ix] = 1;
        pthread_mutex_unlock(&l->lock);
    }
}

static void *worker(void *arg)
{
    struct load *l = arg;
    for (;;) {
        struct job j;
        pthread_mutex_lock(&l->lock);
        while (!l->njobs && !atomic_load(&l->stop))
            pthread_cond_wait(&l->more, &l->lock);
        if (!l->njobs) {
            pthread_mutex_unlock(&l->lock);
            return NULL;
        }
        j = l->jobs[l->head];
        l->head = (l->head + 1) % l->cap, l->njobs--;
        pthread_mutex_unlock(&l->lock);
        run_job(l, &j);
    }
}

/* Enqueues the interactions not taken yet by another enqueuer. */
static void *enqueue_some(void *arg)
{
    struct load *l = arg;
    for (int i; (i = atomic_fetch_add(&l->next_enqueue, 1)) < l->count;) {
        Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
        ProtobufCMessage *rep = NULL;
        char id[32];
        snprintf(id, sizeof id, "load-%d", i);
        ix.id = id, ix.kind = CC_PB_STR("chat"), ix.queue_id = CC_PB_STR(l->queue);
        enum cc_status st;
        int64_t t0 = cc_time_mono_ms();
        int tries = 0;
        do {
            if (rep)
                protobuf_c_message_free_unpacked(rep, NULL), rep = NULL;
            st = cc_nats_request(l->n, "cc.router.enqueue", &ix.base,
                                 &cc__v1__interaction__descriptor, 3000, &rep, NULL, 0);
        } while (again(st, t0, &tries)); /* retried like chat-gateway does: idempotent on the id */
        if (st != CC_OK) {
            char detail[96];
            snprintf(detail, sizeof detail, "%s (%s)", id, cc_status_str(st));
            violation(l, "enqueue failed", detail);
        }
        if (rep)
            protobuf_c_message_free_unpacked(rep, NULL);
        if (l->enqueuers == 1)
            usleep(2000);
    }
    return NULL;
}

#define MAX_ENQUEUERS 32

static void enqueue_all(struct load *l)
{
    pthread_t t[MAX_ENQUEUERS];
    int started = 0;
    while (started < l->enqueuers && pthread_create(&t[started], NULL, enqueue_some, l) == 0)
        started++;
    if (started == 0)
        enqueue_some(l);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    static struct load l;
    int64_t count, room, seconds, enqueuers;
    pthread_t workers[WORKERS];
    const char *url = cc_env_str("CC_TEST_NATS_URL", NULL);
    l.queue = cc_env_str("LOAD_QUEUE", NULL);
    if (!url || !l.queue || sodium_init() < 0 ||
        cc_env_int("LOAD_COUNT", 1000, 1, MAX_IX, &count) ||
        cc_env_int("LOAD_ROOM", 2, 1, 100, &room) ||
        cc_env_int("LOAD_SECONDS", 120, 1, 3600, &seconds) ||
        cc_env_int("LOAD_ENQUEUERS", 1, 1, MAX_ENQUEUERS, &enqueuers))
        return 2;
    l.count = (int)count, l.room = (int)room, l.cap = 4 * MAX_IX, l.enqueuers = (int)enqueuers;
    l.jobs = calloc(l.cap, sizeof *l.jobs);
    pthread_mutex_init(&l.lock, NULL);
    pthread_cond_init(&l.more, NULL);
    if (!l.jobs || cc_nats_connect(&l.n, url, "it_load") != CC_OK)
        return 2;
    for (int i = 0; i < 200 && !cc_nats_connected(l.n); i++)
        usleep(10000);
    if (cc_nats_subscribe(l.n, "cc.>", NULL, on_bus, &l) != CC_OK)
        return 2;
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&workers[i], NULL, worker, &l);
    usleep(200000);
    int64_t t0 = cc_time_mono_ms();
    enqueue_all(&l);
    while (atomic_load(&l.done) < l.count && cc_time_mono_ms() - t0 < seconds * 1000)
        usleep(100000);
    atomic_store(&l.stop, 1);
    pthread_mutex_lock(&l.lock);
    pthread_cond_broadcast(&l.more);
    pthread_mutex_unlock(&l.lock);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i], NULL);
    char open_ids[256] = "";
    for (int i = 0, k = 0; i < l.count && k < 5; i++)
        if (!l.ended[i])
            k++, snprintf(open_ids + strlen(open_ids), sizeof open_ids - strlen(open_ids),
                          "%sload-%d", k > 1 ? "," : "", i);
    const char *open_file = cc_env_str("LOAD_OPEN_FILE", NULL);
    FILE *of = open_file ? fopen(open_file, "w") : NULL;
    for (int i = 0; of && i < l.count; i++)
        if (!l.ended[i])
            fprintf(of, "load-%d\n", i);
    if (of)
        fclose(of);
    printf("{\"open\":\"%s\",\"enqueued\":%d,\"ended\":%d,\"offers\":%d,\"accepted\":%d,"
           "\"declined\":%d,"
           "\"timed_out\":%d,\"violations\":%d,\"first_violation\":\"%s\",\"seconds\":%.1f}\n",
           open_ids, l.count, atomic_load(&l.done), atomic_load(&l.offers),
           atomic_load(&l.accepted), atomic_load(&l.declined), atomic_load(&l.timed_out),
           atomic_load(&l.violations), l.first_violation, (double)(cc_time_mono_ms() - t0) / 1000);
    cc_nats_drain(l.n, 1000);
    cc_nats_free(l.n);
    cc_nats_library_close();
    free(l.jobs);
    return atomic_load(&l.done) == l.count && !atomic_load(&l.violations) ? 0 : 1;
}
