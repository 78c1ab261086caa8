/* provision.c - the run's skills, team, queues and agents in agent-registry,
 * agents signed in and in callcenter, skill-router ready (see provision.h). */
#include "provision.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc/v1/routing.pb-c.h"
#include "cc_nats.h"
#include "cc_time.h"
#include "scenario.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RPC_MS 10000
#define THREADS 4
#define ROUTER_WAIT_MS 10000
#define PASSWORD "ccsim-agent-pw"
#define MAX_TIMING_S 86400 /* agent-registry's bound on team timings */
#define OFFER_TIMEOUT_S 2  /* simulated agents answer in milliseconds */

void provision_admin(Cc__V1__Caller *c)
{
    cc__v1__caller__init(c);
    c->user_id = CC_PB_STR("ccsim"), c->role = CC_PB_STR("admin");
}

/* Packs `obj` into a new buffer (free() it). NULL when out of memory. */
static uint8_t *pack(const ProtobufCMessage *obj, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(obj);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(obj, buf);
    return buf;
}

/* Sends an ObjectRequest with `obj` as body to `subject`; the reply's body
 * unpacked as `desc` goes to *made when `made` is set. */
static enum cc_status object_rpc(struct sim *s, const char *subject, Cc__V1__ObjectRequest *req,
                                 const ProtobufCMessage *obj,
                                 const ProtobufCMessageDescriptor *desc, ProtobufCMessage **made,
                                 char *why, size_t whycap)
{
    Cc__V1__Caller admin;
    ProtobufCMessage *rep = NULL;
    size_t len;
    uint8_t *buf = pack(obj, &len);
    if (!buf)
        return CC_ERR_NOMEM;
    provision_admin(&admin);
    req->caller = &admin, req->has_body = 1, req->body.data = buf, req->body.len = len;
    enum cc_status st = cc_nats_request(
        s->nats, subject, &req->base, &cc__v1__object_reply__descriptor, RPC_MS, &rep, why, whycap);
    free(buf);
    if (st == CC_OK && made) {
        const Cc__V1__ObjectReply *r = (const Cc__V1__ObjectReply *)rep;
        *made = protobuf_c_message_unpack(desc, NULL, r->body.len, r->body.data);
        st = *made ? CC_OK : CC_ERR_INTERNAL;
    }
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

/* Creates one object of `kind` and copies its id into `id` (SIM_ID_MAX). */
static enum cc_status create(struct sim *s, const char *kind, const ProtobufCMessage *obj, char *id,
                             char *why, size_t whycap)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage *made = NULL;
    char subject[96];
    const ProtobufCMessageDescriptor *desc = obj->descriptor;
    snprintf(subject, sizeof subject, "cc.registry.obj.%s.create", kind);
    enum cc_status st = object_rpc(s, subject, &req, obj, desc, &made, why, whycap);
    if (st == CC_OK) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, "id");
        const char *got = *(char **)(void *)((char *)made + f->offset);
        if (!got || strlen(got) >= SIM_ID_MAX)
            st = CC_ERR_INTERNAL, snprintf(why, whycap, "%s: no usable id in the reply", kind);
        else
            snprintf(id, SIM_ID_MAX, "%s", got);
        protobuf_c_message_free_unpacked(made, NULL);
    }
    return st;
}

static enum cc_status create_team(struct sim *s, char *why, size_t whycap)
{
    const struct scenario *sc = s->sc;
    Cc__V1__Team t = CC__V1__TEAM__INIT;
    char name[64];
    /* wrap-up is ended by the simulator after wrap_up_s / scale; the team's
     * own timer, a second later, only catches a simulator that fell behind */
    double real = sc->wrap_up_s > 0 ? ceil(sc->wrap_up_s / sc->scale) + 1 : 0;
    snprintf(name, sizeof name, "ccsim %s", s->tag);
    t.name = name;
    t.has_wrap_up_time_s = t.has_no_answer_delay_s = t.has_max_no_answer = 1;
    t.wrap_up_time_s = real > MAX_TIMING_S ? MAX_TIMING_S : (int64_t)real;
    t.no_answer_delay_s = 0, t.max_no_answer = 0;
    t.has_call_offer_timeout_s = t.has_chat_invite_timeout_s = 1;
    t.call_offer_timeout_s = t.chat_invite_timeout_s = OFFER_TIMEOUT_S;
    return create(s, "teams", &t.base, s->team_id, why, whycap);
}

static enum cc_status create_skills(struct sim *s, char *why, size_t whycap)
{
    enum cc_status st = CC_OK;
    for (size_t i = 0; i < s->sc->n_skills && st == CC_OK; i++) {
        Cc__V1__Skill k = CC__V1__SKILL__INIT;
        char name[96];
        snprintf(name, sizeof name, "%s #%s", s->sc->skills[i], s->tag);
        k.name = name, k.description = CC_PB_STR("ccsim");
        st = create(s, "skills", &k.base, s->skill_ids[i], why, whycap);
    }
    return st;
}

static enum cc_status create_queues(struct sim *s, char *why, size_t whycap)
{
    enum cc_status st = CC_OK;
    for (size_t i = 0; i < s->sc->n_queues && st == CC_OK; i++) {
        const struct sim_queue_cfg *c = &s->sc->queues[i];
        Cc__V1__Queue q = CC__V1__QUEUE__INIT;
        char name[96];
        snprintf(name, sizeof name, "%s #%s", c->name, s->tag);
        q.name = name, q.channel = CC_PB_STR(c->kind), q.strategy = CC_PB_STR(c->strategy);
        q.skill_id = s->skill_ids[scenario_skill(s->sc, c->skill)];
        q.has_min_capacity = q.has_priority = q.has_max_concurrent_chats = 1;
        q.min_capacity = c->min_capacity, q.priority = c->priority;
        q.max_concurrent_chats = c->max_chats;
        st = create(s, "queues", &q.base, s->queue_ids[i], why, whycap);
    }
    return st;
}

/* --- agents ------------------------------------------------------------------------- */

struct maker {
    struct sim *s;
    atomic_size_t next;
    pthread_mutex_t lock; /* the first failure */
    enum cc_status st;
    char *why;
    size_t whycap;
};

static enum cc_status put_skills(struct sim *s, const struct sim_agent *a, char *why, size_t cap)
{
    const struct sim_group_cfg *g = &s->sc->groups[a->group];
    enum cc_status st = CC_OK;
    for (size_t k = 0; k < g->n_skills && st == CC_OK; k++) {
        Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
        Cc__V1__AgentSkill as = CC__V1__AGENT_SKILL__INIT;
        as.has_capacity = as.has_active = 1;
        as.capacity = g->skills[k].capacity, as.active = 1;
        req.parent_id = CC_PB_STR(a->id);
        req.id = s->skill_ids[scenario_skill(s->sc, g->skills[k].skill)];
        st = object_rpc(s, "cc.registry.agent_skills.put", &req, &as.base, NULL, NULL, why, cap);
    }
    return st;
}

/* Signs in (offline -> ready) as the desktop would, then callcenter. */
static enum cc_status sign_in(struct sim *s, const char *login, const char *id, char *why,
                              size_t cap)
{
    Cc__V1__LoginRequest lr = CC__V1__LOGIN_REQUEST__INIT;
    Cc__V1__StatusChange sc = CC__V1__STATUS_CHANGE__INIT;
    Cc__V1__Caller admin;
    ProtobufCMessage *rep = NULL;
    lr.login = CC_PB_STR(login), lr.password = CC_PB_STR(PASSWORD);
    lr.client = CC_PB_STR("ccsim");
    enum cc_status st = cc_nats_request(s->nats, "cc.registry.auth.login", &lr.base,
                                        &cc__v1__login_reply__descriptor, RPC_MS, &rep, why, cap);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL), rep = NULL;
    provision_admin(&admin);
    sc.caller = &admin, sc.agent_id = CC_PB_STR(id), sc.status = CC_PB_STR("callcenter");
    if (st == CC_OK)
        st = cc_nats_request(s->nats, "cc.presence.set", &sc.base,
                             &cc__v1__agent_status__descriptor, RPC_MS, &rep, why, cap);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

static enum cc_status make_agent(struct sim *s, size_t i, char *why, size_t cap)
{
    struct sim_agent *a = &s->agents[i];
    Cc__V1__User u = CC__V1__USER__INIT;
    Cc__V1__AgentSettings ag = CC__V1__AGENT_SETTINGS__INIT;
    char login[64], last[32];
    snprintf(login, sizeof login, "ccsim-%s-%zu", s->tag, i);
    snprintf(last, sizeof last, "%zu", i);
    u.login = login, u.password = CC_PB_STR(PASSWORD), u.role = CC_PB_STR("agent");
    u.first_name = CC_PB_STR(s->sc->groups[a->group].name), u.last_name = last;
    u.has_idle_timeout_s = 1, u.idle_timeout_s = 0; /* sessions never expire mid-run */
    ag.has_enabled = ag.enabled = 1, ag.team_id = s->team_id;
    u.agent = &ag;
    enum cc_status st = create(s, "users", &u.base, a->id, why, cap);
    if (st == CC_OK)
        st = put_skills(s, a, why, cap);
    return st == CC_OK ? sign_in(s, login, a->id, why, cap) : st;
}

static void *maker_thread(void *arg)
{
    struct maker *m = arg;
    char why[256];
    for (size_t i; (i = atomic_fetch_add(&m->next, 1)) < m->s->n_agents;) {
        enum cc_status st = make_agent(m->s, i, why, sizeof why);
        pthread_mutex_lock(&m->lock);
        if (st != CC_OK && m->st == CC_OK) {
            m->st = st;
            snprintf(m->why, m->whycap, "agent %zu: %s (%s)", i, cc_status_str(st), why);
        }
        int stop = m->st != CC_OK;
        pthread_mutex_unlock(&m->lock);
        if (stop)
            break;
    }
    return NULL;
}

static int by_id(const void *x, const void *y)
{
    return strcmp(((const struct sim_agent *)x)->id, ((const struct sim_agent *)y)->id);
}

static enum cc_status make_agents(struct sim *s, char *why, size_t whycap)
{
    struct maker m = {.s = s, .st = CC_OK, .why = why, .whycap = whycap};
    pthread_t t[THREADS];
    int started = 0;
    size_t i = 0;
    for (size_t g = 0; g < s->sc->n_groups; g++)
        for (int k = 0; k < s->sc->groups[g].count; k++, i++)
            s->agents[i].group = (int)g;
    atomic_init(&m.next, 0);
    if (pthread_mutex_init(&m.lock, NULL))
        return CC_ERR_INTERNAL;
    while (started < THREADS && !pthread_create(&t[started], NULL, maker_thread, &m))
        started++;
    for (int k = 0; k < started; k++)
        pthread_join(t[k], NULL);
    pthread_mutex_destroy(&m.lock);
    if (started == 0)
        return CC_ERR_INTERNAL;
    qsort(s->agents, s->n_agents, sizeof *s->agents, by_id);
    return m.st;
}

int provision_agent_index(const struct sim *s, const char *id)
{
    size_t lo = 0, hi = s->n_agents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->agents[mid].id, id);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* --- skill-router ------------------------------------------------------------------- */

/* skill-router learns queues from agent-registry's change events. The only
 * question it answers about a queue without creating anything is an enqueue
 * of the wrong kind: "no such queue" until it knows the queue, then "the
 * queue takes the other kind". */
static enum cc_status router_knows(struct sim *s, size_t q, int *known)
{
    Cc__V1__Interaction ix = CC__V1__INTERACTION__INIT;
    ProtobufCMessage *rep = NULL;
    char id[64], why[256];
    snprintf(id, sizeof id, "%s-probe", s->tag);
    ix.id = id, ix.queue_id = s->queue_ids[q];
    ix.kind = CC_PB_STR(strcmp(s->sc->queues[q].kind, "chat") ? "chat" : "call");
    enum cc_status st =
        cc_nats_request(s->nats, "cc.router.enqueue", &ix.base, &cc__v1__interaction__descriptor,
                        RPC_MS, &rep, why, sizeof why);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    *known = st == CC_OK || (st == CC_ERR_INVALID && !strstr(why, "no such queue"));
    return st == CC_ERR_INVALID ? CC_OK : st;
}

static enum cc_status wait_router(struct sim *s, char *why, size_t whycap)
{
    int64_t deadline = cc_time_mono_ms() + ROUTER_WAIT_MS;
    for (size_t q = 0; q < s->sc->n_queues; q++) {
        int known = 0;
        enum cc_status st;
        while ((st = router_knows(s, q, &known)) == CC_OK && !known && cc_time_mono_ms() < deadline)
            usleep(20000);
        if (st != CC_OK || !known) {
            snprintf(why, whycap, "skill-router %s queue %s",
                     st != CC_OK ? cc_status_str(st) : "never learnt", s->queue_ids[q]);
            return st != CC_OK ? st : CC_ERR_TIMEOUT;
        }
    }
    return CC_OK;
}

static void make_tag(struct sim *s)
{
    uint64_t x = (uint64_t)cc_time_now_ms() * 1000003u ^ (uint64_t)getpid() << 20;
    snprintf(s->tag, sizeof s->tag, "s%06llx", (unsigned long long)(x & 0xffffff));
}

enum cc_status provision_run(struct sim *s, char *why, size_t whycap)
{
    char step[256] = "";
    enum cc_status st = CC_OK;
    make_tag(s);
    s->n_agents = scenario_agents(s->sc);
    if (!(s->agents = calloc(s->n_agents, sizeof *s->agents)))
        return CC_ERR_NOMEM;
    if ((st = create_skills(s, step, sizeof step)) != CC_OK)
        snprintf(why, whycap, "creating skills: %s (%s)", cc_status_str(st), step);
    else if ((st = create_team(s, step, sizeof step)) != CC_OK)
        snprintf(why, whycap, "creating the team: %s (%s)", cc_status_str(st), step);
    else if ((st = create_queues(s, step, sizeof step)) != CC_OK)
        snprintf(why, whycap, "creating queues: %s (%s)", cc_status_str(st), step);
    else if ((st = make_agents(s, step, sizeof step)) != CC_OK)
        snprintf(why, whycap, "creating agents: %s", step);
    else if ((st = wait_router(s, step, sizeof step)) != CC_OK)
        snprintf(why, whycap, "waiting for skill-router: %s", step);
    if (st != CC_OK) {
        free(s->agents);
        s->agents = NULL, s->n_agents = 0;
    }
    return st;
}

void provision_rest_agents(struct sim *s)
{
    for (size_t i = 0; i < s->n_agents; i++) {
        Cc__V1__StatusChange sc = CC__V1__STATUS_CHANGE__INIT;
        Cc__V1__Caller admin;
        ProtobufCMessage *rep = NULL;
        provision_admin(&admin);
        sc.caller = &admin, sc.agent_id = s->agents[i].id, sc.status = CC_PB_STR("ready");
        if (cc_nats_request(s->nats, "cc.presence.set", &sc.base, &cc__v1__agent_status__descriptor,
                            RPC_MS, &rep, NULL, 0) != CC_OK) {
            pthread_mutex_lock(&s->lock);
            s->failed_requests++;
            pthread_mutex_unlock(&s->lock);
        }
        if (rep)
            protobuf_c_message_free_unpacked(rep, NULL);
    }
}
