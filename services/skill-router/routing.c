/* routing.c - choosing an agent for a waiting interaction (SPEC section 5):
 * the queue's skill at or above the current bar (widened as the wait grows),
 * the agent's status, state and capacity, teams, the call-or-chat rule and
 * the agent excluded after a decline or a miss; ordered by the queue's
 * strategy; offered through one atomic script (reserve.lua). */
#include "router.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 5000
#define MAX_TRACED_SKIPS 10
#define RING_MAX 16 /* agents rung at once for ring_all */

extern const char reserve_lua[];
static struct cc_redis_script reserve_script = CC_REDIS_SCRIPT("reserve", reserve_lua);

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

static int64_t num(const redisReply *v)
{
    return v && v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : 0;
}

/* The skill bar now: min_capacity lowered by the widening steps passed. */
static int64_t bar(const Cc__V1__Queue *q, int64_t waited_ms)
{
    int64_t b = q->min_capacity > 0 ? q->min_capacity : 1;
    for (size_t i = 0; i < q->n_widening; i++)
        if (waited_ms >= q->widening[i]->after_s * 1000)
            b = q->widening[i]->min_capacity;
    return b;
}

/* Reads the agents holding the queue's skill at or above `min`, with their
 * presence records, in one pipeline. Returns how many (<= MAX_CANDIDATES). */
static size_t candidates(struct router *r, const Cc__V1__Queue *q, int64_t min,
                         struct candidate **out)
{
    redisReply *ids;
    struct cc_redis_conn *c;
    size_t n = 0;
    *out = NULL;
    if (cc_redis_run(r->redis, &ids,
                     "ZRANGEBYSCORE " KEY_RT_CAND " %lld +inf WITHSCORES LIMIT 0 %d", cc_tag(),
                     q->skill_id, (long long)min, MAX_CANDIDATES) != CC_OK ||
        !(*out = calloc(ids->elements / 2 + 1, sizeof **out)) ||
        cc_redis_acquire(r->redis, &c) != CC_OK) {
        free_reply(ids);
        return 0;
    }
    for (size_t i = 0; i + 1 < ids->elements; i += 2)
        agent_read_append(c, ids->element[i]->str);
    for (size_t i = 0; i + 1 < ids->elements; i += 2) {
        struct candidate *a = &(*out)[n];
        snprintf(a->id, sizeof a->id, "%s", ids->element[i]->str);
        a->capacity = strtoll(ids->element[i + 1]->str, NULL, 10);
        n += agent_read_reply(c, &a->rec);
    }
    cc_redis_release(r->redis, c);
    freeReplyObject(ids);
    return n;
}

static const char *strategy_of(const Cc__V1__Queue *q)
{
    return q->strategy ? q->strategy : "longest_idle";
}

static int by_idle(const void *x, const void *y)
{
    const struct candidate *a = x, *b = y;
    return (a->rec.since_ms > b->rec.since_ms) - (a->rec.since_ms < b->rec.since_ms);
}

static int by_skill(const void *x, const void *y)
{
    const struct candidate *a = x, *b = y;
    return a->capacity != b->capacity ? (a->capacity < b->capacity) - (a->capacity > b->capacity)
                                      : by_idle(x, y);
}

static int by_handled(const void *x, const void *y)
{
    const struct candidate *a = x, *b = y;
    return a->handled != b->handled ? (a->handled > b->handled) - (a->handled < b->handled)
                                    : by_idle(x, y);
}

static int by_id(const void *x, const void *y)
{
    return strcmp(((const struct candidate *)x)->id, ((const struct candidate *)y)->id);
}

/* Interactions each candidate accepted today ({cc}:handled:<day>), in one HMGET. */
static void load_handled(struct router *r, struct candidate *a, size_t n)
{
    char day[16], key[80];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    const char **argv = calloc(n + 2, sizeof *argv);
    cc_time_day(cc_time_now_ms(), day, sizeof day);
    snprintf(key, sizeof key, KEY_HANDLED, cc_tag(), day);
    if (!argv || !n || cc_redis_acquire(r->redis, &c) != CC_OK) {
        free(argv);
        return;
    }
    argv[0] = "HMGET", argv[1] = key;
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = a[i].id;
    if (cc_redis_cmdv(c, &rep, (int)n + 2, argv, NULL) == CC_OK && rep->elements == n)
        for (size_t i = 0; i < n; i++)
            a[i].handled = num(rep->element[i]);
    free_reply(rep);
    cc_redis_release(r->redis, c);
    free(argv);
}

/* Round robin: the agents after the one chosen last in this queue come first. */
static void rotate(struct router *r, const Cc__V1__Queue *q, struct candidate *a, size_t n)
{
    redisReply *rep;
    size_t start = 0;
    qsort(a, n, sizeof *a, by_id);
    if (cc_redis_run(r->redis, &rep, "GET " KEY_RR, cc_tag(), q->id) == CC_OK &&
        rep->type == REDIS_REPLY_STRING)
        while (start < n && strcmp(a[start].id, rep->str) <= 0)
            start++;
    free_reply(rep);
    if (start == 0 || start >= n)
        return;
    struct candidate *tmp = malloc(start * sizeof *a);
    if (!tmp)
        return;
    memcpy(tmp, a, start * sizeof *a);
    memmove(a, a + start, (n - start) * sizeof *a);
    memcpy(a + (n - start), tmp, start * sizeof *a);
    free(tmp);
}

/* Candidates put in the strategy's order lazily: only the first `sorted`
 * are in place (by selection, O(n) each), the rest are sorted when a
 * decision gets that far (every agent tried before it moved meanwhile). */
struct ordering {
    int (*cmp)(const void *, const void *); /* NULL: a[0..n) is in order */
    size_t sorted, n;
};

#define TOP_SELECTED 4 /* agents put in order up front: one decision rarely needs more */

static void swap(struct candidate *a, size_t i, size_t j)
{
    struct candidate t = a[i];
    a[i] = a[j], a[j] = t;
}

/* Puts the best `k` of a[from..n) in order at a[from..from+k). */
static void select_best(struct candidate *a, size_t from, size_t n, size_t k,
                        int (*cmp)(const void *, const void *))
{
    for (size_t i = from; i < n && i < from + k; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < n; j++)
            if (cmp(&a[j], &a[best]) < 0)
                best = j;
        if (best != i)
            swap(a, i, best);
    }
}

/* Makes sure a[0..i] is in order (ring_all asks for whole groups). */
static void ordered_upto(struct ordering *o, struct candidate *a, size_t i)
{
    if (!o->cmp || i < o->sorted || o->sorted >= o->n)
        return;
    qsort(a + o->sorted, o->n - o->sorted, sizeof *a, o->cmp);
    o->sorted = o->n;
}

static void order(struct router *r, const Cc__V1__Queue *q, struct candidate *a, size_t n,
                  size_t want, struct ordering *o)
{
    const char *s = strategy_of(q);
    *o = (struct ordering){NULL, n, n};
    if (!strcmp(s, "most_skilled")) {
        *o = (struct ordering){by_skill, want < n ? want : n, n};
        select_best(a, 0, n, o->sorted, by_skill);
    } else if (!strcmp(s, "fewest_interactions")) {
        load_handled(r, a, n);
        qsort(a, n, sizeof *a, by_handled);
    } else if (!strcmp(s, "round_robin")) {
        rotate(r, q, a, n);
    } else if (!strcmp(s, "random")) {
        for (size_t i = n; i > 1; i--) {
            size_t j = randombytes_uniform((uint32_t)i);
            struct candidate t = a[i - 1];
            a[i - 1] = a[j], a[j] = t;
        }
    } else { /* longest_idle; ring_all rings them in this order */
        *o = (struct ordering){by_idle, want < n ? want : n, n};
        select_best(a, 0, n, o->sorted, by_idle);
    }
}

/* The agents skipped in one decision and why, traced when nobody was offered. */
struct skips {
    struct trace_step steps[MAX_TRACED_SKIPS];
    char agents[MAX_TRACED_SKIPS][64]; /* copied: the candidates move */
    size_t n;
};

static void skip(struct skips *sk, const char *agent, const char *why);

/* agents_candidates' report of an agent left out. */
static void skip_cb(void *arg, const char *agent, const char *why)
{
    skip(arg, agent, why);
}

static void skip(struct skips *sk, const char *agent, const char *why)
{
    if (!sk || sk->n == MAX_TRACED_SKIPS)
        return;
    snprintf(sk->agents[sk->n], sizeof sk->agents[0], "%s", agent);
    sk->steps[sk->n] = (struct trace_step){"skipped", sk->agents[sk->n], why, NULL};
    sk->n++;
}

/* Keeps the candidates who can take the interaction now (the excluded
 * agent among them), noting the others in `sk` (may be NULL). */
static size_t eligible(const struct ix *x, const Cc__V1__Queue *q, struct candidate *a, size_t n,
                       struct skips *sk)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const char *why = agent_can_take(&a[i].rec, x->kind, q);
        if (why)
            skip(sk, a[i].id, why);
        else
            a[kept++] = a[i];
    }
    return kept;
}

/* The agent who just declined or missed the interaction is skipped while
 * any other eligible agent exists: moved last (ringing several: left out).
 * Returns how many remain; *ordered is how many of them the strategy orders
 * (the excluded agent, last, is not). */
static size_t exclude(const struct ix *x, struct candidate *a, size_t n, int ring, struct skips *sk,
                      size_t *ordered)
{
    *ordered = n;
    for (size_t i = 0; x->excluded[0] && n > 1 && i < n; i++) {
        if (strcmp(a[i].id, x->excluded) != 0)
            continue;
        swap(a, i, n - 1); /* order comes after: where the others stand does not matter */
        skip(sk, a[n - 1].id, "excluded");
        *ordered = n - 1;
        return ring ? n - 1 : n;
    }
    return n;
}

/* On arrival and while the sticky window lasts (the queue's sticky_wait_s),
 * only the agent who last served this customer may take the interaction; a
 * decline or miss by that agent ends the window. */
static int sticky_holds(const struct ix *x, int64_t now, unsigned flags)
{
    return x->sticky[0] && strcmp(x->sticky, x->excluded) != 0 &&
           (now < x->sticky_until || (flags & ROUTE_ARRIVAL));
}

static size_t sticky_only(const struct ix *x, struct candidate *a, size_t n, int64_t now,
                          unsigned flags)
{
    if (!sticky_holds(x, now, flags))
        return n;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(a[i].id, x->sticky)) {
            a[0] = a[i];
            return 1;
        }
    return 0;
}

/* The offer expiry: the agent's team invite (chat) or ring (call) time. */
static int64_t offer_ms(const struct config *c, const char *team_id, const char *kind)
{
    const Cc__V1__Team *t = config_team(c, team_id);
    int call = !strcmp(kind, "call");
    if (!t)
        return call ? 20000 : 30000;
    return (call ? t->call_offer_timeout_s : t->chat_invite_timeout_s) * 1000;
}

/* --- reservations, batched ------------------------------------------------------------
 * Every offer is one reserve.lua call. The decisions made at the same moment
 * (concurrent enqueues, agents freed, the sweep) share one call: a thread
 * with a reservation to make puts it in the pending list; when no call is
 * running it takes every pending reservation (up to BATCH_IX interactions
 * and BATCH_AGENTS agents) and runs them in one call for all their threads
 * (flat combining), else it waits for the running call, whose leader wakes
 * it with its answer or leaves it to lead the next call. The script applies
 * each pair compare-and-set in turn, so a pair whose agent another pair of
 * the same call offered first is left out and retried like any agent that
 * moved. */
#define BATCH_IX 16
#define BATCH_AGENTS 64
#define SHARED_KEYS 4 /* {cc}:timers:offer, {cc}:offered, {cc}:timers:state, {cc}:deadline */
#define SHARED_ARGS 3 /* time-in-state TTL, trace TTL, n */
#define IX_KEYS 4     /* {cc}:ix, {cc}:wait, {cc}:ring, {cc}:trace */
#define IX_ARGS 5     /* id, now, ring, m, s */
#define ARGS_PER_AGENT (AGENT_CAS_NARGS + 2)

/* One agent's offer as decided, in reserve.lua's layout. */
struct reserved {
    struct agent_cas_arg cas;
    struct agent_rec next;
    char offer[192], expires[24];
    uint8_t step[512];
    size_t steplen, at; /* at: index in a[] */
    int64_t version;    /* after the call: the version written, 0 when it moved */
};

/* One interaction's part of a call, and its answer. */
struct reservation {
    char kix[160], kwait[160], kring[160], ktrace[160], snow[24], sm[24], ss[24];
    const char *id;
    int ring;
    struct reserved *d;
    size_t m;
    const struct ix_store *store; /* a new interaction stored first, or NULL */
    int got; /* after the call: agents offered, -1 no longer waiting, -2 Redis failed,
                -3 the new interaction existed already */
    int done;
    struct reservation *next;
};

struct reserve_batch {
    pthread_mutex_t lock;
    pthread_cond_t answered;
    struct reservation *head, **tail; /* pending, oldest first */
    int running;                      /* a call is on its way */
};

enum cc_status routing_start(struct router *r)
{
    struct reserve_batch *b = calloc(1, sizeof *b);
    if (!b)
        return CC_ERR_NOMEM;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->answered, NULL);
    b->tail = &b->head;
    r->batch = b;
    r->m_reserve_calls = cc_metrics_counter(r->svc->metrics, "cc_router_reserve_calls_total",
                                            "reserve.lua calls (each offers one or more "
                                            "interactions)");
    r->m_reservations = cc_metrics_counter(r->svc->metrics, "cc_router_reservations_total",
                                           "Interactions tried in reserve.lua calls");
    return CC_OK;
}

void routing_release(struct router *r)
{
    if (!r->batch)
        return;
    pthread_mutex_destroy(&r->batch->lock);
    pthread_cond_destroy(&r->batch->answered);
    free(r->batch);
    r->batch = NULL;
}

/* Runs reservations `list` (n of them, `agents` agents in all) in one
 * reserve.lua call and sets each one's answer. */
static void run_batch(struct router *r, struct reservation *list, size_t n, size_t agents)
{
    char tis_ttl[16], trace_ttl[16], sn[16];
    size_t cap = SHARED_KEYS + SHARED_ARGS + (IX_KEYS + IX_ARGS) * n +
                 (AGENT_CAS_NKEYS + ARGS_PER_AGENT) * agents,
           k = 0, nkeys;
    for (struct reservation *v = list; v; v = v->next)
        cap += v->store ? v->store->n : 0;
    const char **argv = calloc(cap, sizeof *argv);
    size_t *lens = calloc(cap, sizeof *lens);
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    for (struct reservation *v = list; v; v = v->next)
        v->got = -2;
    if (!argv || !lens)
        goto out;
    snprintf(tis_ttl, sizeof tis_ttl, "%d", TIS_TTL_S);
    snprintf(trace_ttl, sizeof trace_ttl, "%d", TRACE_TTL_S);
    snprintf(sn, sizeof sn, "%zu", n);
#define PUT(text) (lens[k] = strlen(text), argv[k++] = (text))
    PUT(cc_key_fixed(KEY_TIMERS_OFFER)), PUT(cc_key_fixed(KEY_OFFERED));
    PUT(cc_key_fixed(KEY_TIMERS_STATE)), PUT(cc_key_fixed(KEY_DEADLINE));
    for (struct reservation *v = list; v; v = v->next) {
        PUT(v->kix), PUT(v->kwait), PUT(v->kring), PUT(v->ktrace);
        for (size_t j = 0; j < v->m; j++)
            for (int i = 0; i < AGENT_CAS_NKEYS; i++)
                PUT(v->d[j].cas.keys[i]);
    }
    nkeys = k;
    PUT(tis_ttl), PUT(trace_ttl), PUT(sn);
    for (struct reservation *v = list; v; v = v->next) {
        PUT(v->id), PUT(v->snow), PUT(v->ring ? "ring" : ""), PUT(v->sm), PUT(v->ss);
        for (size_t j = 0; v->store && j < v->store->n; j++)
            lens[k] = v->store->lens[j], argv[k++] = v->store->argv[j]; /* steps: binary */
        for (size_t j = 0; j < v->m; j++) {
            for (int i = 0; i < AGENT_CAS_NARGS; i++)
                PUT(v->d[j].cas.argv[i]);
            PUT(v->d[j].expires);
            lens[k] = v->d[j].steplen, argv[k++] = (const char *)v->d[j].step; /* binary */
        }
    }
#undef PUT
    if (cc_redis_acquire(r->redis, &c) != CC_OK)
        goto out;
    cc_metric_add(r->m_reserve_calls, NULL, 1);
    cc_metric_add(r->m_reservations, NULL, (double)n);
    enum cc_status st = cc_redis_eval(c, &reserve_script, &rep, (int)nkeys, (int)k, argv, lens);
    if (st != CC_OK || rep->type != REDIS_REPLY_ARRAY || rep->elements != n)
        CC_WARN("reserve.lua of %zu interactions failed: %s", n,
                rep && rep->type == REDIS_REPLY_ERROR ? rep->str : cc_status_str(st));
    else {
        size_t i = 0;
        for (struct reservation *v = list; v; v = v->next, i++) {
            const redisReply *e = rep->element[i];
            if (e->type == REDIS_REPLY_INTEGER) {
                v->got = e->integer == -3 ? -3 : -1;
                continue;
            }
            v->got = 0;
            for (size_t p = 0; p + 1 < e->elements; p += 2)
                for (size_t j = 0; j < v->m; j++)
                    if (!strcmp(e->element[p]->str, v->d[j].cas.argv[0])) {
                        v->d[j].version = e->element[p + 1]->integer;
                        v->got++;
                    }
        }
    }
    free_reply(rep);
    cc_redis_release(r->redis, c);
out:
    free(argv);
    free(lens);
}

/* Runs reservation `me`, alone or in one call with the others pending. */
static void reserve_batched(struct router *r, struct reservation *me)
{
    struct reserve_batch *b = r->batch;
    me->done = 0, me->next = NULL;
    pthread_mutex_lock(&b->lock);
    *b->tail = me, b->tail = &me->next;
    while (!me->done) {
        if (b->running) {
            pthread_cond_wait(&b->answered, &b->lock);
            continue;
        }
        /* lead a call: the pending reservations, oldest first, within the limits */
        struct reservation *list = b->head, **end = &b->head;
        size_t n = 0, agents = 0;
        while (*end && (n == 0 || (n < BATCH_IX && agents + (*end)->m <= BATCH_AGENTS))) {
            agents += (*end)->m, n++;
            end = &(*end)->next;
        }
        b->head = *end;
        if (!b->head)
            b->tail = &b->head;
        *end = NULL;
        b->running = 1;
        pthread_mutex_unlock(&b->lock);
        run_batch(r, list, n, agents);
        pthread_mutex_lock(&b->lock);
        for (struct reservation *v = list, *next; v; v = next) {
            next = v->next;
            v->done = 1;
        }
        b->running = 0;
        pthread_cond_broadcast(&b->answered);
    }
    pthread_mutex_unlock(&b->lock);
}

/* Decides the offer to agents a[0..n) (n > 1 only to ring several) with
 * the one machine (cc_agent.h) and runs reserve.lua (batched with the
 * reservations of other threads), which applies each decision
 * compare-and-set (agent_cas.lua), moves the interaction and writes the
 * trace in one step; `store` (may be NULL) stores the new interaction
 * first, in the same step (n may then be 0). Marks those offered (their rec
 * is then the record written) and x as offered. Returns how many were
 * offered, -1 when the interaction is no longer waiting, -2 when Redis
 * failed, -3 when the new interaction existed already. */
static int reserve(struct router *r, const struct config *cfg, struct ix *x, const Cc__V1__Queue *q,
                   struct candidate *a, size_t n, int ring, int64_t now, const char *reason,
                   const struct ix_store *store)
{
    char at[32];
    struct reservation v = {.id = x->id, .ring = ring, .got = -2, .store = store};
    struct presence_input in = {.ev = EV_OFFER, .actor = ACTOR_ROUTER, .kind = x->kind, .queue = q};
    struct presence_facts f = {.now_ms = now, .is_agent = 1};
    int64_t last = 0;
    if (!(v.d = calloc(n + 1, sizeof *v.d)))
        return -2;
    cc_time_format_ms(now, at, sizeof at);
    for (size_t i = 0; i < n; i++) { /* the decisions */
        struct reserved *e = &v.d[v.m];
        const char *why;
        if (presence_decide(&a[i].rec, &in, &f, &e->next, &why) != CC_OK)
            continue;
        int64_t expires = now + offer_ms(cfg, a[i].rec.team, x->kind);
        snprintf(e->offer, sizeof e->offer, "+%s|%s|%lld", x->id, x->kind, (long long)expires);
        snprintf(e->expires, sizeof e->expires, "%lld", (long long)expires);
        agent_cas_prepare(&e->cas, a[i].id, &a[i].rec, &e->next, "", e->offer);
        struct trace_step t = {"offered", a[i].id, reason, strategy_of(q)};
        e->steplen = trace_pack(&t, at, e->step, sizeof e->step);
        e->at = i;
        v.m++;
    }
    if (v.m == 0 && !store) {
        free(v.d);
        return 0;
    }
    snprintf(v.kix, sizeof v.kix, KEY_IX, cc_tag(), x->id);
    snprintf(v.kwait, sizeof v.kwait, KEY_WAIT, cc_tag(), x->queue);
    snprintf(v.kring, sizeof v.kring, KEY_RING, cc_tag(), x->id);
    snprintf(v.ktrace, sizeof v.ktrace, KEY_TRACE, cc_tag(), x->id);
    snprintf(v.snow, sizeof v.snow, "%lld", (long long)now);
    snprintf(v.sm, sizeof v.sm, "%zu", v.m);
    snprintf(v.ss, sizeof v.ss, "%zu", store ? store->n : 0);
    reserve_batched(r, &v);
    for (size_t j = 0; v.got > 0 && j < v.m; j++) {
        struct candidate *ca = &a[v.d[j].at];
        if (!v.d[j].version)
            continue;
        ca->offered = 1;
        ca->rec = v.d[j].next;
        ca->rec.version = v.d[j].version;
        int64_t expires = strtoll(v.d[j].expires, NULL, 10);
        last = expires > last ? expires : last;
    }
    if (v.got > 0) {
        snprintf(x->state, sizeof x->state, "offered");
        x->offered_ms = now, x->expires_ms = last, x->ring = ring;
    }
    free(v.d);
    return v.got;
}

/* After reserve(): tells each agent offered (cc.router.offer.<agent>) and
 * everyone its new status (cc.presence.changed.<agent>, the record the
 * script wrote: this router made the change, so it publishes it), and
 * counts the offers. */
static void offered(struct router *r, const struct ix *x, const Cc__V1__Queue *q,
                    const struct candidate *a, size_t n)
{
    char *ringing[RING_MAX];
    size_t nringing = 0;
    for (size_t i = 0; i < n && nringing < RING_MAX; i++)
        if (a[i].offered)
            ringing[nringing++] = (char *)a[i].id;
    for (size_t i = 0; i < n; i++) {
        struct offer_view v;
        char subject[128];
        if (!a[i].offered)
            continue;
        ix_offer(r, x, a[i].id, &v);
        if (!strcmp(x->kind, "call")) { /* call-router answers the PBX from this */
            v.msg.n_ringing = nringing, v.msg.ringing = ringing;
            v.msg.has_offered_ms = v.msg.has_expires_ms = 1;
            v.msg.offered_ms = x->offered_ms, v.msg.expires_ms = x->expires_ms;
        }
        snprintf(subject, sizeof subject, SUBJ_ROUTER_OFFER, a[i].id);
        cc_nats_publish(r->nats, subject, &v.msg.base); /* the agent first */
        agents_update(r, a[i].id, &a[i].rec);
        agent_publish(r->nats, a[i].id, &a[i].rec, "router", "offer", x->id);
        cc_metric_add(r->m_offers, NULL, 1);
        if (!strcmp(strategy_of(q), "round_robin")) {
            redisReply *rep;
            if (cc_redis_run(r->redis, &rep, "SET " KEY_RR " %s", cc_tag(), q->id, a[i].id) ==
                    CC_OK ||
                rep)
                free_reply(rep);
        }
    }
}

static int ring_all(const struct ix *x, const Cc__V1__Queue *q)
{
    return !strcmp(strategy_of(q), "ring_all") && !strcmp(x->kind, "call");
}

/* Offers the interaction to the best eligible agent (ring_all: to every
 * one, RING_MAX at most), trying the next when one moved meanwhile. A new
 * interaction (`store` not NULL) is stored by the first reserve.lua call,
 * with its first offer, or alone when nobody can take it; store->answered
 * is told before any offer is published. */
static int try_offer(struct router *r, const struct config *cfg, struct ix *x,
                     const Cc__V1__Queue *q, unsigned flags, const struct ix_store *store)
{
    struct candidate *a;
    int64_t now = cc_time_now_ms();
    int ring = ring_all(x, q);
    int64_t min = bar(q, now - x->enq);
    struct skips sk = {.n = 0}, *trace = flags & ROUTE_TRACE_SKIPS ? &sk : NULL;
    size_t step = ring ? RING_MAX : 1, ordered;
    struct ordering o;
    /* the view copies only those who can take it (agent_can_take) */
    size_t n = agents_candidates(r, q, x->kind, min, trace ? skip_cb : NULL, trace, &a);
    if (n == (size_t)-1) { /* not in this replica's view yet: from Redis */
        n = candidates(r, q, min, &a);
        n = eligible(x, q, a, n, trace);
    }
    n = exclude(x, a, n, ring, trace, &ordered);
    order(r, q, a, ordered, ring ? RING_MAX : TOP_SELECTED, &o);
    n = sticky_only(x, a, n, now, flags);
    if (n <= 1)
        o.cmp = NULL; /* one agent (or the sticky one): nothing to order */
    int got = 0;
    for (size_t i = 0; i < n && got == 0; i += step) {
        size_t k = n - i < step ? n - i : step;
        ordered_upto(&o, a, i + k - 1);
        got = reserve(r, cfg, x, q, &a[i], k, ring, now,
                      sticky_holds(x, now, flags) ? "sticky" : NULL, store);
        if (store) { /* stored now (or it existed): the enqueue is answered first */
            store->answered(store->arg, got, got > 0 && !ring ? a[i].id : NULL);
            store = NULL;
        }
        for (size_t j = i; got >= 0 && j < i + k; j++)
            if (!a[j].offered) /* its record moved since the view read it */
                agents_refresh(r, a[j].id);
        if (got > 0)
            offered(r, x, q, &a[i], k);
    }
    if (store) { /* nobody to offer it to: stored alone */
        got = reserve(r, cfg, x, q, NULL, 0, ring, now, NULL, store);
        store->answered(store->arg, got, NULL);
    }
    if ((got == 0 || got == -1) && sk.n) /* why it waits */
        trace_steps(r, x->id, sk.steps, sk.n);
    free(a);
    return got > 0 ? 1 : got == 0 || got == -1 ? 0 : got;
}

int routing_offer_ix(struct router *r, struct ix *x, unsigned flags)
{
    int64_t t0 = cc_time_mono_us();
    const struct config *c = config_get(r);
    const Cc__V1__Queue *q = config_queue(c, x->queue);
    int offered = q && !strcmp(x->state, "waiting") ? try_offer(r, c, x, q, flags, NULL) : 0;
    config_put(c);
    cc_metric_observe(r->m_decision, NULL, (double)(cc_time_mono_us() - t0) / 1e6);
    return offered > 0;
}

int routing_offer_new(struct router *r, struct ix *x, const struct ix_store *store)
{
    int64_t t0 = cc_time_mono_us();
    const struct config *c = config_get_for_queue(r, x->queue);
    const Cc__V1__Queue *q = config_queue(c, x->queue);
    int got;
    if (q) {
        got = try_offer(r, c, x, q, ROUTE_TRACE_SKIPS | ROUTE_ARRIVAL, store);
    } else { /* the queue went away meanwhile: stored, it waits like any other */
        got = reserve(r, c, x, NULL, NULL, 0, 0, cc_time_now_ms(), NULL, store);
        store->answered(store->arg, got, NULL);
        got = got > 0 ? 1 : got == 0 || got == -1 ? 0 : got;
    }
    config_put(c);
    cc_metric_observe(r->m_decision, NULL, (double)(cc_time_mono_us() - t0) / 1e6);
    return got;
}

int routing_offer_interaction(struct router *r, const char *id, unsigned flags)
{
    struct ix x;
    if (ix_read(r, id, &x) != CC_OK)
        return -1;
    int offered = routing_offer_ix(r, &x, flags);
    ix_release(&x);
    return offered;
}

/* --- an agent became available -------------------------------------------------------------- */

/* A waiting interaction at the head of a queue whose skill the agent holds. */
struct head {
    char id[64];
    double score;
    size_t queue;     /* index in the queue list */
    int64_t capacity; /* the agent's capacity in the queue's skill */
};

#define HEADS_PER_QUEUE 5

static int by_score(const void *x, const void *y)
{
    const struct head *a = x, *b = y;
    return (a->score > b->score) - (a->score < b->score);
}

/* Reads the first HEADS_PER_QUEUE interactions waiting in each queue with
 * cap[i] >= 0 (every queue when cap is NULL) into h, on pipeline c. */
static size_t read_heads(struct cc_redis_conn *c, Cc__V1__Queue *const *qs, size_t nq,
                         const int64_t *cap, struct head *h)
{
    size_t nh = 0;
    for (size_t i = 0; i < nq; i++) {
        char key[160], last[8];
        snprintf(key, sizeof key, KEY_WAIT, cc_tag(), qs[i]->id);
        snprintf(last, sizeof last, "%d", HEADS_PER_QUEUE - 1);
        const char *argv[] = {"ZRANGE", key, "0", last, "WITHSCORES"};
        if (!cap || cap[i] >= 0)
            cc_redis_append(c, 5, argv, NULL);
    }
    for (size_t i = 0; i < nq; i++) {
        redisReply *rep;
        if ((cap && cap[i] < 0) || cc_redis_reply(c, &rep) != CC_OK)
            continue;
        for (size_t j = 0; j + 1 < rep->elements && j < 2 * HEADS_PER_QUEUE; j += 2, nh++) {
            snprintf(h[nh].id, sizeof h[nh].id, "%s", rep->element[j]->str);
            h[nh].score = strtod(rep->element[j + 1]->str, NULL);
            h[nh].queue = i, h[nh].capacity = cap ? cap[i] : 0;
        }
        freeReplyObject(rep);
    }
    qsort(h, nh, sizeof *h, by_score);
    return nh;
}

/* The agent's record and the first HEADS_PER_QUEUE interactions waiting in
 * every queue whose skill it holds, best first: two pipelined rounds. */
static size_t agent_heads(struct router *r, Cc__V1__Queue *const *qs, size_t nq, const char *agent,
                          struct candidate *me, struct head **out)
{
    struct cc_redis_conn *c;
    size_t nh = 0;
    int64_t *cap = calloc(nq + 1, sizeof *cap);
    struct head *h = calloc(nq * HEADS_PER_QUEUE + 1, sizeof *h);
    *out = h;
    if (!cap || !h || cc_redis_acquire(r->redis, &c) != CC_OK) {
        free(cap);
        return 0;
    }
    agent_read_append(c, agent);
    for (size_t i = 0; i < nq; i++) {
        char key[160];
        snprintf(key, sizeof key, KEY_RT_CAND, cc_tag(), qs[i]->skill_id);
        const char *argv[] = {"ZSCORE", key, agent};
        cc_redis_append(c, 3, argv, NULL);
    }
    memset(me, 0, sizeof *me);
    snprintf(me->id, sizeof me->id, "%s", agent);
    int ok = agent_read_reply(c, &me->rec);
    for (size_t i = 0; i < nq; i++) {
        redisReply *rep;
        cap[i] = -1;
        if (cc_redis_reply(c, &rep) == CC_OK && rep->type == REDIS_REPLY_STRING)
            cap[i] = strtoll(rep->str, NULL, 10);
        free_reply(rep);
    }
    if (ok)
        nh = read_heads(c, qs, nq, cap, h);
    cc_redis_release(r->redis, c);
    free(cap);
    return nh;
}

/* Offers head `h` to agent `me` when it is eligible; 1 when offered. */
static int offer_to_agent(struct router *r, const struct config *c, const struct head *h,
                          struct candidate *me)
{
    const Cc__V1__Queue *q = c->queues[h->queue];
    struct ix x;
    int64_t now = cc_time_now_ms();
    if (ix_read(r, h->id, &x) != CC_OK)
        return 0;
    int got = 0;
    if (!strcmp(x.state, "waiting") && h->capacity >= bar(q, now - x.enq) &&
        !agent_can_take(&me->rec, x.kind, q) && strcmp(x.excluded, me->id) != 0 &&
        (!sticky_holds(&x, now, 0) || !strcmp(x.sticky, me->id))) {
        me->capacity = h->capacity;
        if (reserve(r, c, &x, q, me, 1, ring_all(&x, q), now,
                    !strcmp(x.sticky, me->id) ? "sticky" : NULL, NULL) > 0) {
            offered(r, &x, q, me, 1);
            got = 1;
        }
    }
    ix_release(&x);
    return got;
}

/* An agent freed while interactions wait takes the highest-priority, oldest
 * one it is eligible for (the strategy chooses among several free agents;
 * one freed agent is the only choice). The excluded agent of an interaction
 * gets it only through the sweep, when nobody else took it. */
void routing_offer_agent(struct router *r, const char *agent_id)
{
    const struct config *c = config_get(r);
    /* each round offers one interaction; chats may take several */
    for (int round = 0, more = 1; round < 16 && more; round++) {
        struct candidate me;
        struct head *h;
        int64_t t0 = cc_time_mono_us();
        size_t nh = agent_heads(r, c->queues, c->nqueues, agent_id, &me, &h);
        more = 0;
        for (size_t i = 0; i < nh && !more; i++)
            more = offer_to_agent(r, c, &h[i], &me);
        free(h);
        cc_metric_observe(r->m_decision, NULL, (double)(cc_time_mono_us() - t0) / 1e6);
    }
    config_put(c);
}

/* The waiting interactions at the head of every queue get another chance,
 * in priority and age order across the queues:
 * a widening step or the end of a sticky window may have come due, or a
 * replica may have died between queueing an interaction and routing it.
 * Runs every SWEEP_MS on each replica; events do the routing, this only
 * catches what no event will. */

/* A fingerprint of what waits: the count and the head of every queue. */
static uint64_t waiting_fingerprint(struct cc_redis_conn *c, Cc__V1__Queue *const *qs, size_t nq)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < nq; i++) {
        char key[160];
        snprintf(key, sizeof key, KEY_WAIT, cc_tag(), qs[i]->id);
        const char *zcard[] = {"ZCARD", key}, *head[] = {"ZRANGE", key, "0", "0"};
        cc_redis_append(c, 2, zcard, NULL);
        cc_redis_append(c, 4, head, NULL);
    }
    for (size_t i = 0; i < 2 * nq; i++) {
        redisReply *rep;
        char text[96] = "";
        if (cc_redis_reply(c, &rep) == CC_OK) {
            if (rep->type == REDIS_REPLY_INTEGER)
                snprintf(text, sizeof text, "%lld", rep->integer);
            else if (rep->elements == 1)
                snprintf(text, sizeof text, "%s", rep->element[0]->str);
        }
        free_reply(rep);
        for (const char *p = text; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ '|') * 1099511628211ULL;
    }
    return h;
}

void routing_sweep(struct router *r)
{
    struct cc_redis_conn *conn;
    const struct config *c = config_get(r);
    struct head *h = calloc(c->nqueues * HEADS_PER_QUEUE + 1, sizeof *h);
    if (h && cc_redis_acquire(r->redis, &conn) == CC_OK) {
        /* across queues too: the highest priority, then the oldest, goes first */
        size_t nh = read_heads(conn, c->queues, c->nqueues, NULL, h);
        uint64_t seen = waiting_fingerprint(conn, c->queues, c->nqueues);
        cc_redis_release(r->redis, conn);
        for (size_t i = 0; i < nh; i++)
            routing_offer_interaction(r, h[i].id, 0);
        if (seen != r->waiting_seen) { /* monitors read /monitor/queues again */
            Cc__V1__QueueStatsList tick = CC__V1__QUEUE_STATS_LIST__INIT;
            r->waiting_seen = seen;
            cc_nats_publish(r->nats, SUBJ_ROUTER_QUEUES_CHANGED, &tick.base);
        }
    }
    free(h);
    config_put(c);
}
