/* bench_presence.c - how many agent state changes per second one
 * agent-registry replica sustains, and how late state timers fire with
 * 10,000 agents holding one each, beside the bare NATS and Redis round trips.
 *
 * It creates the agents and a team over NATS as api-gateway would (an admin
 * caller) and signs each in, then drives each agent callcenter -> offer -> accept -> end from
 * several threads (four changes each), which leaves every agent in wrap-up
 * with a timer; it listens to cc.presence.changed.> and measures, for every
 * agent, when wrap-up ended against when it was due.
 * Environment: CC_BENCH_NATS, CC_BENCH_REDIS, CC_BENCH_AGENTS (10000),
 * CC_BENCH_THREADS (8), CC_BENCH_WRAP_S (5). */
#include "bench_lib.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_config.h"
#include "cc_nats.h"
#include "cc_time.h"
#include "cc_subjects.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_LEN 32

struct bench {
    struct cc_nats *nats;
    int agents, threads;
    int64_t wrap_ms;
    char (*ids)[ID_LEN];
    char team[ID_LEN];
    int64_t *due;          /* per agent: when wrap-up should end (ms), from the events */
    atomic_int next;       /* work distribution */
    atomic_int failures;
    atomic_int ended;      /* wrap-up ends seen */
    struct samples late;   /* microseconds late */
    pthread_mutex_t lock;
};

static Cc__V1__Caller admin = {.base = PROTOBUF_C_MESSAGE_INIT(&cc__v1__caller__descriptor),
                               .user_id = CC_PB_STR("bench"), .role = CC_PB_STR("admin")};

static enum cc_status create(struct bench *b, const char *kind, const ProtobufCMessage *obj,
                             const ProtobufCMessageDescriptor *desc, char *id)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    char subject[96];
    size_t len = protobuf_c_message_get_packed_size(obj);
    uint8_t buf[1024];
    if (len > sizeof buf)
        return CC_ERR_INVALID;
    protobuf_c_message_pack(obj, buf);
    req.caller = &admin, req.has_body = 1, req.body.data = buf, req.body.len = len;
    snprintf(subject, sizeof subject, SUBJ_REGISTRY_OBJ_CREATE, kind);
    enum cc_status st = cc_nats_request(b->nats, subject, &req.base,
                                        &cc__v1__object_reply__descriptor, 10000, &rep, NULL, 0);
    if (st == CC_OK) {
        Cc__V1__ObjectReply *r = (Cc__V1__ObjectReply *)rep;
        ProtobufCMessage *made = protobuf_c_message_unpack(desc, NULL, r->body.len, r->body.data);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, "id");
        snprintf(id, ID_LEN, "%s", made ? *(char **)((char *)made + f->offset) : "");
        if (made)
            protobuf_c_message_free_unpacked(made, NULL);
        protobuf_c_message_free_unpacked(rep, NULL);
    }
    return st;
}

/* Signs the agent in (offline -> ready), as the desktop would. */
static enum cc_status sign_in(struct bench *b, const char *login)
{
    Cc__V1__LoginRequest req = CC__V1__LOGIN_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    req.login = CC_PB_STR(login), req.password = CC_PB_STR("bench-password");
    enum cc_status st = cc_nats_request(b->nats, SUBJ_AUTH_LOGIN, &req.base,
                                        &cc__v1__login_reply__descriptor, 10000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

static void *make_agents(void *arg)
{
    struct bench *b = arg;
    for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->agents;) {
        Cc__V1__User u = CC__V1__USER__INIT;
        Cc__V1__AgentSettings ag = CC__V1__AGENT_SETTINGS__INIT;
        char login[32];
        snprintf(login, sizeof login, "bench%05d", i);
        u.login = login, u.password = CC_PB_STR("bench-password"), u.role = CC_PB_STR("agent");
        ag.has_enabled = ag.enabled = 1, ag.team_id = b->team;
        u.agent = &ag;
        if (create(b, "users", &u.base, &cc__v1__user__descriptor, b->ids[i]) != CC_OK ||
            sign_in(b, login) != CC_OK)
            atomic_fetch_add(&b->failures, 1);
    }
    return NULL;
}

static enum cc_status request(struct bench *b, const char *subject, const ProtobufCMessage *req)
{
    ProtobufCMessage *rep = NULL;
    enum cc_status st = cc_nats_request(b->nats, subject, req, &cc__v1__agent_status__descriptor,
                                        10000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

/* callcenter, offer, accept, end: four state changes for agent i. */
static enum cc_status cycle(struct bench *b, int i)
{
    Cc__V1__Caller self = CC__V1__CALLER__INIT;
    Cc__V1__StatusChange sc = CC__V1__STATUS_CHANGE__INIT;
    static const char *events[] = {"offer", "accept", "end"};
    self.user_id = b->ids[i], self.role = CC_PB_STR("agent");
    sc.caller = &self, sc.status = CC_PB_STR("callcenter");
    enum cc_status st = request(b, SUBJ_PRESENCE_SET, &sc.base);
    for (int e = 0; e < 3 && st == CC_OK; e++) {
        Cc__V1__RoutingEvent ev = CC__V1__ROUTING_EVENT__INIT;
        ev.agent_id = b->ids[i], ev.event = CC_PB_STR(events[e]), ev.kind = CC_PB_STR("chat");
        st = request(b, SUBJ_PRESENCE_ROUTE, &ev.base);
    }
    return st;
}

static void *drive(void *arg)
{
    struct bench *b = arg;
    for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->agents;)
        if (cycle(b, i) != CC_OK)
            atomic_fetch_add(&b->failures, 1);
    return NULL;
}

static int index_of(struct bench *b, const char *id)
{
    int lo = 0, hi = b->agents - 1; /* ids are sorted before driving */
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(b->ids[mid], id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void on_status(void *arg, const struct cc_nats_msg *m)
{
    struct bench *b = arg;
    Cc__V1__AgentStatus *s = cc__v1__agent_status__unpack(NULL, m->len, m->data);
    int64_t since;
    int i = s && s->agent_id ? index_of(b, s->agent_id) : -1;
    if (i >= 0 && s->state && s->state_since && cc_time_parse_ms(s->state_since, &since) == 0) {
        pthread_mutex_lock(&b->lock);
        if (!strcmp(s->state, "post_processing"))
            b->due[i] = since + b->wrap_ms;
        else if (s->reason && !strcmp(s->reason, "wrap_up_ended") && b->due[i]) {
            add(&b->late, (double)(since - b->due[i]) * 1000.0);
            atomic_fetch_add(&b->ended, 1);
        }
        pthread_mutex_unlock(&b->lock);
    }
    if (s)
        cc__v1__agent_status__free_unpacked(s, NULL);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void run_threads(struct bench *b, void *(*fn)(void *))
{
    pthread_t t[64];
    atomic_store(&b->next, 0);
    for (int i = 0; i < b->threads; i++)
        pthread_create(&t[i], NULL, fn, b);
    for (int i = 0; i < b->threads; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    struct bench b = {0};
    int64_t agents, threads, wrap;
    const char *nats = cc_env_str("CC_BENCH_NATS", NULL), *redis = cc_env_str("CC_BENCH_REDIS", NULL);
    struct samples nb = samples_new(), rb = samples_new();
    if (!nats || !redis || cc_env_int("CC_BENCH_AGENTS", 10000, 1, 100000, &agents) ||
        cc_env_int("CC_BENCH_THREADS", 8, 1, 64, &threads) ||
        cc_env_int("CC_BENCH_WRAP_S", 5, 1, 600, &wrap))
        return 2;
    b.agents = (int)agents, b.threads = (int)threads, b.wrap_ms = wrap * 1000;
    b.ids = calloc((size_t)agents, ID_LEN);
    b.due = calloc((size_t)agents, sizeof *b.due);
    b.late = samples_new();
    pthread_mutex_init(&b.lock, NULL);
    if (nats_baseline(nats, &nb) || redis_baseline(redis, &rb) ||
        cc_nats_connect(&b.nats, nats, "bench_presence") != CC_OK)
        return 1;
    Cc__V1__Team team = CC__V1__TEAM__INIT;
    team.name = CC_PB_STR("bench"), team.has_wrap_up_time_s = 1, team.wrap_up_time_s = wrap;
    if (create(&b, "teams", &team.base, &cc__v1__team__descriptor, b.team) != CC_OK)
        return 1;
    int64_t t0 = cc_time_mono_ms();
    run_threads(&b, make_agents);
    printf("created %d agents in %.1f s (failures %d)\n", b.agents,
           (double)(cc_time_mono_ms() - t0) / 1000, atomic_load(&b.failures));
    qsort(b.ids, (size_t)b.agents, ID_LEN, cmp_id);
    cc_nats_subscribe(b.nats, SUBJ_PRESENCE_CHANGED_ANY, NULL, on_status, &b);
    usleep(200000);
    t0 = cc_time_mono_us();
    run_threads(&b, drive);
    double secs = (double)(cc_time_mono_us() - t0) / 1e6;
    for (int i = 0; i < 600 && atomic_load(&b.ended) < b.agents; i++)
        usleep(100000);
    printf("baseline NATS request round trip   p50 %.3f ms  p99 %.3f ms\n", pct(&nb, .5), pct(&nb, .99));
    printf("baseline Redis EVALSHA round trip  p50 %.3f ms  p99 %.3f ms\n", pct(&rb, .5), pct(&rb, .99));
    printf("state changes, %d threads, one replica: %.0f per second (%d changes in %.2f s, "
           "failures %d)\n", b.threads, 4.0 * b.agents / secs, 4 * b.agents, secs,
           atomic_load(&b.failures));
    printf("wrap-up timers: %d of %d fired; lateness p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
           atomic_load(&b.ended), b.agents, pct(&b.late, .5), pct(&b.late, .99), pct(&b.late, 1));
    cc_nats_drain(b.nats, 1000);
    cc_nats_free(b.nats);
    cc_nats_library_close();
    free(b.ids), free(b.due), free(b.late.us), free(nb.us), free(rb.us);
    return atomic_load(&b.failures) || atomic_load(&b.ended) < b.agents;
}
