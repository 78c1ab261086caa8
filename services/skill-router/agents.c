/* agents.c - each replica's view of the agents routing chooses from: their
 * presence records and the skills they hold with their capacity, in memory,
 * so that a decision reads no agent from Redis.
 *
 * The view is loaded from Redis at start, by the sweeper every RESYNC_MS
 * and within RESYNC_STALE_MS of a change of skills, teams or agents, and
 * every cc.presence.changed event updates it (each replica subscribes on its
 * own, outside the queue group). A stale view is never wrong, only slower:
 * reserve.lua offers an agent only at the version the decision read, and an
 * agent whose record moved is read again (agents_refresh). */
#include "router.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESYNC_MS 30000      /* a full reload this often anyway */
#define RESYNC_STALE_MS 1000 /* at most this often while changes come in */

struct member {
    size_t at; /* the agent: its index in agents (kept right when one is inserted) */
    int64_t capacity;
};

struct skill_view {
    char *id;
    struct member *members; /* by capacity, highest first */
    size_t n;
};

struct agents {
    pthread_rwlock_t lock;
    struct candidate *agents; /* sorted by id */
    size_t n;
    struct skill_view *skills;
    size_t nskills;
    int64_t synced_ms;
    int stale; /* the registry changed skills, teams or agents */
};

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

static int by_agent_id(const void *x, const void *y)
{
    return strcmp(((const struct candidate *)x)->id, ((const struct candidate *)y)->id);
}

static int by_capacity(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    return (a->capacity < b->capacity) - (a->capacity > b->capacity);
}

/* Frees `n` skill views and their array; NULL (a load that failed before
 * allocating it) is nothing to free. */
static void skills_free(struct skill_view *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        free(s[i].id);
        free(s[i].members);
    }
    free(s);
}

static struct candidate *find(struct agents *v, const char *id)
{
    struct candidate key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, v->agents, v->n, sizeof *v->agents, by_agent_id);
}

/* The distinct skills of the configured queues. */
static size_t queue_skills(const struct config *c, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nqueues; i++) {
        const char *s = c->queues[i]->skill_id;
        int seen = !s;
        for (size_t j = 0; j < n && !seen; j++)
            seen = !strcmp(out[j], s);
        if (!seen)
            out[n++] = s;
    }
    return n;
}

/* Reads the members of every queue's skill and every member's record: two
 * pipelined rounds. */
static enum cc_status load(struct router *r, struct candidate **agents, size_t *nagents,
                           struct skill_view **skills, size_t *nskills)
{
    const struct config *c = config_get(r);
    const char **ids = calloc(c->nqueues + 1, sizeof *ids);
    redisReply **sets = NULL;
    struct cc_redis_conn *conn;
    size_t ns = ids ? queue_skills(c, ids) : 0, total = 0, n = 0;
    enum cc_status st = ids ? cc_redis_acquire(r->redis, &conn) : CC_ERR_NOMEM;
    *agents = NULL, *skills = NULL, *nagents = *nskills = 0;
    if (st == CC_OK && !(sets = calloc(ns + 1, sizeof *sets)))
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < ns; i++) {
        char key[160];
        snprintf(key, sizeof key, KEY_RT_CAND, cc_tag(), ids[i]);
        const char *argv[] = {"ZRANGE", key, "0", "-1", "WITHSCORES"};
        cc_redis_append(conn, 5, argv, NULL);
    }
    for (size_t i = 0; st == CC_OK && i < ns; i++)
        if ((st = cc_redis_reply(conn, &sets[i])) == CC_OK)
            total += sets[i]->elements / 2;
    struct candidate *a = st == CC_OK ? calloc(total + 1, sizeof *a) : NULL;
    struct skill_view *sv = st == CC_OK ? calloc(ns + 1, sizeof *sv) : NULL;
    if (st == CC_OK && (!a || !sv))
        st = CC_ERR_NOMEM;
    /* the distinct agents, sorted by id */
    for (size_t i = 0; st == CC_OK && i < ns; i++)
        for (size_t j = 0; j + 1 < sets[i]->elements; j += 2)
            snprintf(a[n++].id, sizeof a->id, "%s", sets[i]->element[j]->str);
    if (st == CC_OK) {
        qsort(a, n, sizeof *a, by_agent_id);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (!kept || strcmp(a[kept - 1].id, a[i].id))
                a[kept++] = a[i];
        n = kept;
        for (size_t i = 0; i < n; i++)
            agent_read_append(conn, a[i].id);
        for (size_t i = 0; i < n; i++)
            agent_read_reply(conn, &a[i].rec);
    }
    struct agents view = {.agents = a, .n = n};
    for (size_t i = 0; st == CC_OK && i < ns; i++) {
        sv[i].id = strdup(ids[i]);
        sv[i].members = calloc(sets[i]->elements / 2 + 1, sizeof *sv[i].members);
        if (!sv[i].id || !sv[i].members) {
            st = CC_ERR_NOMEM;
            break;
        }
        for (size_t j = 0; j + 1 < sets[i]->elements; j += 2) {
            struct member *m = &sv[i].members[sv[i].n];
            const struct candidate *who = find(&view, sets[i]->element[j]->str);
            if (!who)
                continue;
            m->at = (size_t)(who - view.agents);
            m->capacity = strtoll(sets[i]->element[j + 1]->str, NULL, 10);
            sv[i].n++;
        }
        qsort(sv[i].members, sv[i].n, sizeof *sv[i].members, by_capacity);
    }
    if (sets)
        cc_redis_release(r->redis, conn);
    for (size_t i = 0; sets && i < ns; i++)
        free_reply(sets[i]);
    free(sets);
    free(ids);
    config_put(c);
    if (st != CC_OK) {
        free(a);
        skills_free(sv, ns);
        return st;
    }
    *agents = a, *nagents = n, *skills = sv, *nskills = ns;
    return CC_OK;
}

void agents_sync(struct router *r)
{
    struct agents *v = r->agents;
    struct candidate *a, *old_a;
    struct skill_view *s, *old_s;
    size_t na, ns, old_ns;
    int64_t now = cc_time_now_ms();
    pthread_rwlock_wrlock(&v->lock);
    int64_t age = now - v->synced_ms;
    int due = age >= RESYNC_MS || (v->stale && age >= RESYNC_STALE_MS);
    if (due) /* a change arriving while this load reads marks the view stale again */
        v->stale = 0;
    pthread_rwlock_unlock(&v->lock);
    if (!due)
        return;
    if (load(r, &a, &na, &s, &ns) != CC_OK) {
        agents_resync_soon(r);
        return;
    }
    pthread_rwlock_wrlock(&v->lock);
    old_a = v->agents, old_s = v->skills, old_ns = v->nskills;
    v->agents = a, v->n = na, v->skills = s, v->nskills = ns, v->synced_ms = now;
    pthread_rwlock_unlock(&v->lock);
    free(old_a);
    skills_free(old_s, old_ns);
}

void agents_resync_soon(struct router *r)
{
    pthread_rwlock_wrlock(&r->agents->lock);
    r->agents->stale = 1;
    pthread_rwlock_unlock(&r->agents->lock);
}

size_t agents_candidates(struct router *r, const Cc__V1__Queue *q, const char *kind, int64_t min,
                         agents_skip_fn skipped, void *arg, struct candidate **out)
{
    struct agents *v = r->agents;
    const char *skill = q->skill_id;
    size_t n = 0;
    *out = NULL;
    pthread_rwlock_rdlock(&v->lock);
    const struct skill_view *s = NULL;
    for (size_t i = 0; skill && i < v->nskills && !s; i++)
        if (!strcmp(v->skills[i].id, skill))
            s = &v->skills[i];
    if (s && (*out = calloc(s->n + 1, sizeof **out)))
        for (size_t i = 0; i < s->n && s->members[i].capacity >= min; i++) {
            const struct candidate *a = &v->agents[s->members[i].at];
            const char *why = agent_can_take(&a->rec, kind, q);
            if (why) { /* only those who can take it are copied */
                if (skipped)
                    skipped(arg, a->id, why);
                continue;
            }
            (*out)[n] = *a;
            (*out)[n++].capacity = s->members[i].capacity;
        }
    pthread_rwlock_unlock(&v->lock);
    return s ? n : (size_t)-1;
}

/* Copies record `rec` of agent `id` into the view when it is newer than
 * what it holds (team and enabled stay: events do not carry them); 0 when
 * the view does not hold the agent. */
static int apply(struct agents *v, const char *id, const struct agent_rec *rec)
{
    pthread_rwlock_wrlock(&v->lock);
    struct candidate *a = find(v, id);
    if (a && rec->version > a->rec.version) {
        struct agent_rec keep = a->rec;
        a->rec = *rec;
        memcpy(a->rec.team, keep.team, sizeof keep.team);
        a->rec.enabled = keep.enabled;
    }
    pthread_rwlock_unlock(&v->lock);
    return a != NULL;
}

void agents_update(struct router *r, const char *id, const struct agent_rec *rec)
{
    apply(r->agents, id, rec);
}

/* An agent the view does not hold yet (new, or given its first skill):
 * its record and its capacity in each skill of the view, read from Redis
 * and added. */
static void add_agent(struct router *r, const char *id)
{
    struct agents *v = r->agents;
    struct cc_redis_conn *c;
    struct candidate fresh = {.capacity = 0};
    size_t ns;
    char **skills;
    int64_t *cap;
    pthread_rwlock_rdlock(&v->lock);
    ns = v->nskills;
    skills = calloc(ns + 1, sizeof *skills);
    for (size_t i = 0; skills && i < ns; i++)
        skills[i] = strdup(v->skills[i].id);
    pthread_rwlock_unlock(&v->lock);
    cap = calloc(ns + 1, sizeof *cap);
    if (!skills || !cap || cc_redis_acquire(r->redis, &c) != CC_OK)
        goto out;
    agent_read_append(c, id);
    for (size_t i = 0; i < ns; i++) {
        char key[160];
        snprintf(key, sizeof key, KEY_RT_CAND, cc_tag(), skills[i] ? skills[i] : "");
        const char *argv[] = {"ZSCORE", key, id};
        cc_redis_append(c, 3, argv, NULL);
    }
    snprintf(fresh.id, sizeof fresh.id, "%s", id);
    int ok = agent_read_reply(c, &fresh.rec);
    for (size_t i = 0; i < ns; i++) {
        redisReply *rep;
        cap[i] = -1;
        if (cc_redis_reply(c, &rep) == CC_OK && rep->type == REDIS_REPLY_STRING)
            cap[i] = strtoll(rep->str, NULL, 10);
        free_reply(rep);
    }
    cc_redis_release(r->redis, c);
    pthread_rwlock_wrlock(&v->lock);
    struct candidate *grown = ok && !find(v, id) && v->nskills == ns
                                  ? realloc(v->agents, (v->n + 1) * sizeof *v->agents)
                                  : NULL;
    if (grown) {
        size_t at = 0;
        v->agents = grown;
        while (at < v->n && strcmp(v->agents[at].id, id) < 0)
            at++;
        memmove(&v->agents[at + 1], &v->agents[at], (v->n - at) * sizeof *v->agents);
        v->agents[at] = fresh, v->n++;
        for (size_t i = 0; i < ns; i++) /* the members after it moved up one */
            for (size_t j = 0; j < v->skills[i].n; j++)
                v->skills[i].members[j].at += v->skills[i].members[j].at >= at;
        for (size_t i = 0; i < ns; i++) {
            struct skill_view *sv = &v->skills[i];
            struct member *more =
                cap[i] >= 0 ? realloc(sv->members, (sv->n + 1) * sizeof *more) : NULL;
            if (!more)
                continue;
            sv->members = more;
            more[sv->n].at = at;
            more[sv->n++].capacity = cap[i];
            qsort(sv->members, sv->n, sizeof *sv->members, by_capacity);
        }
    }
    pthread_rwlock_unlock(&v->lock);
out:
    for (size_t i = 0; skills && i < ns; i++)
        free(skills[i]);
    free(skills);
    free(cap);
}

static void on_changed(void *arg, const struct cc_nats_msg *m)
{
    struct router *r = arg;
    Cc__V1__AgentStatus *s = cc__v1__agent_status__unpack(NULL, m->len, m->data);
    struct agent_rec rec;
    agent_rec_init(&rec);
    if (s && s->agent_id && s->has_version)
        agent_rec_from_proto(&rec, s);
    if (s && s->agent_id && s->has_version && !apply(r->agents, s->agent_id, &rec) &&
        rec.status == AGENT_CALLCENTER)
        add_agent(r, s->agent_id);
    if (s)
        cc__v1__agent_status__free_unpacked(s, NULL);
}

void agents_refresh(struct router *r, const char *id)
{
    struct agent_rec fresh;
    if (agent_read(r->redis, id, &fresh) != CC_OK)
        return;
    pthread_rwlock_wrlock(&r->agents->lock);
    struct candidate *a = find(r->agents, id);
    if (a && fresh.version >= a->rec.version)
        a->rec = fresh; /* team and enabled too: read from the record */
    pthread_rwlock_unlock(&r->agents->lock);
}

#define CAS_TRIES 20

enum cc_status agents_event(struct router *r, const char *agent, enum presence_event ev,
                            const struct ix *x, const char *offer, const char *reason)
{
    struct presence_input in = {.ev = ev, .actor = ACTOR_ROUTER, .kind = x->kind};
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        struct agent_rec cur, next, out;
        struct presence_facts f = {.now_ms = cc_time_now_ms(), .is_agent = 1};
        const char *why;
        int applied = 0;
        enum cc_status st = agent_read(r->redis, agent, &cur);
        if (st != CC_OK)
            return st;
        if (presence_decide(&cur, &in, &f, &next, &why) != CC_OK || !presence_changed(&cur, &next))
            return CC_OK; /* nothing (left) to change: the offer ended already */
        st = agent_apply(r->redis, agent, &cur, &next, "", offer, &applied, &out);
        if (st != CC_OK)
            return st;
        if (applied < 0)
            return CC_OK; /* that offer ended already (its timer is gone) */
        if (applied > 0) {
            agents_update(r, agent, &out);
            agent_publish(r->nats, agent, &out, "router", reason, x->id);
            return CC_OK;
        }
    }
    return CC_ERR_TIMEOUT;
}

static void on_skills_changed(void *arg, const struct cc_nats_msg *m)
{
    (void)m;
    agents_resync_soon(arg); /* an agent's skills, team or agent settings changed */
}

/* cc.router.view: this replica's view of every agent it holds (each replica
 * answers; the system tests compare it with agent-registry's records). */
static void on_view(void *arg, const struct cc_nats_msg *m)
{
    struct router *r = arg;
    struct agents *v = r->agents;
    Cc__V1__AgentList list = CC__V1__AGENT_LIST__INIT;
    pthread_rwlock_rdlock(&v->lock);
    size_t n = v->n;
    Cc__V1__AgentStatus *items = calloc(n + 1, sizeof *items);
    Cc__V1__AgentStatus **ptrs = calloc(n + 1, sizeof *ptrs);
    char(*since)[64] = calloc(n + 1, sizeof *since);
    struct candidate *copy = calloc(n + 1, sizeof *copy);
    if (items && ptrs && since && copy)
        memcpy(copy, v->agents, n * sizeof *copy);
    pthread_rwlock_unlock(&v->lock);
    if (!items || !ptrs || !since || !copy) {
        cc_nats_respond_error(r->nats, m, CC_ERR_NOMEM, NULL);
    } else {
        for (size_t i = 0; i < n; i++) {
            agent_rec_to_proto(copy[i].id, &copy[i].rec, &items[i], since[i], sizeof since[i]);
            ptrs[i] = &items[i];
        }
        list.n_items = n, list.items = ptrs;
        cc_nats_respond(r->nats, m, &list.base);
    }
    free(items);
    free(ptrs);
    free(since);
    free(copy);
}

enum cc_status agents_start(struct router *r)
{
    if (!(r->agents = calloc(1, sizeof *r->agents)) ||
        pthread_rwlock_init(&r->agents->lock, NULL) != 0)
        return CC_ERR_NOMEM;
    r->agents->stale = 1;
    r->agents->synced_ms = -RESYNC_MS;
    agents_sync(r);
    enum cc_status st = cc_nats_subscribe(r->nats, SUBJ_PRESENCE_CHANGED_ALL, NULL, on_changed, r);
    if (st == CC_OK)
        st = cc_nats_subscribe(r->nats, SUBJ_REGISTRY_CHANGED_AGENT_SKILLS, NULL, on_skills_changed,
                               r);
    if (st == CC_OK)
        st = cc_nats_subscribe(r->nats, SUBJ_REGISTRY_CHANGED_USERS, NULL, on_skills_changed, r);
    if (st == CC_OK)
        st = cc_nats_subscribe(r->nats, SUBJ_REGISTRY_CHANGED_QUEUES, NULL, on_skills_changed, r);
    if (st == CC_OK)
        st = cc_nats_subscribe(r->nats, SUBJ_ROUTER_VIEW, NULL, on_view, r);
    return st;
}

void agents_release(struct router *r)
{
    if (!r->agents)
        return;
    free(r->agents->agents);
    skills_free(r->agents->skills, r->agents->nskills);
    pthread_rwlock_destroy(&r->agents->lock);
    free(r->agents);
    r->agents = NULL;
}
