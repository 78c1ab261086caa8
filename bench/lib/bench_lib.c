/* bench_lib.c - samples, baselines and set-up requests shared by the
 * benchmarks. */
#include "bench_lib.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_nats.h"
#include "cc_redis.h"
#include "cc_time.h"
#include "cc_subjects.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct samples samples_new(void)
{
    struct samples s = {malloc(sizeof(double) * MAX_SAMPLES), 0};
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double pct(struct samples *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->us, s->n, sizeof *s->us, cmp_double);
    size_t i = (size_t)(p * (double)(s->n - 1));
    return s->us[i] / 1000.0;
}

void add(struct samples *s, double us)
{
    if (s->n < MAX_SAMPLES)
        s->us[s->n++] = us;
}

/* --- baselines ------------------------------------------------------------------ */

static void echo(void *arg, const struct cc_nats_msg *m)
{
    cc_nats_respond(arg, m, NULL);
}

int nats_baseline(const char *url, struct samples *s)
{
    struct cc_nats *n;
    if (cc_nats_connect(&n, url, "bench") != CC_OK)
        return -1;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    if (cc_nats_subscribe(n, "bench.echo", NULL, echo, n) != CC_OK)
        return -1;
    for (int i = 0; i < 5200; i++) {
        ProtobufCMessage *rep;
        int64_t t0 = cc_time_mono_us();
        if (cc_nats_request(n, "bench.echo", NULL, NULL, 1000, &rep, NULL, 0) != CC_OK)
            return -1;
        if (i >= 200) /* warm-up */
            add(s, (double)(cc_time_mono_us() - t0));
    }
    cc_nats_drain(n, 1000);
    cc_nats_free(n);
    return 0;
}

int redis_baseline(const char *url, struct samples *s)
{
    static struct cc_redis_script one = CC_REDIS_SCRIPT("one", "return 1");
    struct cc_redis *r;
    struct cc_redis_conn *c;
    redisReply *rep;
    if (cc_redis_new(&r, url, 1) != CC_OK || cc_redis_acquire(r, &c) != CC_OK)
        return -1;
    for (int i = 0; i < 5200; i++) {
        int64_t t0 = cc_time_mono_us();
        if (cc_redis_eval(c, &one, &rep, 0, 0, NULL, NULL) != CC_OK)
            return -1;
        freeReplyObject(rep);
        if (i >= 200)
            add(s, (double)(cc_time_mono_us() - t0));
    }
    cc_redis_release(r, c);
    cc_redis_free(r);
    return 0;
}

/* Connects and makes sure the baseline's stream exists; NULL on failure. */
static struct cc_nats *js_connect(const char *url)
{
    static const char *subjects[] = {"bench.js.in"};
    static const struct cc_nats_stream stream = {.name = "BENCH_JS",
                                                 .subjects = subjects,
                                                 .nsubjects = 1,
                                                 .max_age_s = 3600,
                                                 .duplicate_window_s = 3600};
    struct cc_nats *n;
    if (cc_nats_connect(&n, url, "bench-js") != CC_OK)
        return NULL;
    for (int i = 0; i < 200 && !cc_nats_connected(n); i++)
        usleep(10000);
    if (cc_nats_stream_ensure(n, &stream) == CC_OK)
        return n;
    cc_nats_free(n);
    return NULL;
}

int js_baseline(const char *url, struct samples *s)
{
    struct cc_nats *n = js_connect(url);
    uint8_t payload[200];
    char msg_id[32];
    int rc = -1;
    memset(payload, 'x', sizeof payload);
    if (!n)
        return -1;
    for (int i = 0; i < 5200; i++) {
        int duplicate = 0;
        snprintf(msg_id, sizeof msg_id, "bench-%d", i);
        int64_t t0 = cc_time_mono_us();
        if (cc_nats_js_publish(n, "bench.js.in", payload, sizeof payload, msg_id, 5000,
                               &duplicate) != CC_OK ||
            duplicate)
            goto out;
        if (i >= 200) /* warm-up */
            add(s, (double)(cc_time_mono_us() - t0));
    }
    rc = 0;
out:
    cc_nats_drain(n, 1000);
    cc_nats_free(n);
    return rc;
}

/* One publisher thread of js_load. */
struct js_worker {
    pthread_t thread;
    struct cc_nats *n; /* shared */
    atomic_long *next; /* the next message id, shared */
    int64_t until_us;
    double *us; /* latencies, `cap` at most */
    size_t count, cap;
    int failed;
};

static void *js_work(void *arg)
{
    struct js_worker *w = arg;
    uint8_t payload[200];
    char msg_id[32];
    memset(payload, 'x', sizeof payload);
    while (!w->failed && cc_time_mono_us() < w->until_us) {
        int duplicate = 0;
        snprintf(msg_id, sizeof msg_id, "load-%ld", atomic_fetch_add(w->next, 1));
        int64_t t0 = cc_time_mono_us();
        w->failed = cc_nats_js_publish(w->n, "bench.js.in", payload, sizeof payload, msg_id, 5000,
                                       &duplicate) != CC_OK ||
                    duplicate;
        if (!w->failed && w->count < w->cap) /* the cap allows 50,000 a second */
            w->us[w->count++] = (double)(cc_time_mono_us() - t0);
    }
    return NULL;
}

int js_load(const char *url, int threads, int seconds, struct samples *s, double *rate)
{
    struct cc_nats *n = js_connect(url);
    struct js_worker *ws = calloc((size_t)(threads > 0 ? threads : 1), sizeof *ws);
    atomic_long next = 0;
    int started = 0, rc = n && ws && threads > 0 ? 0 : -1;
    long acked = 0;
    int64_t t0 = cc_time_mono_us();
    size_t cap = (size_t)seconds * 50000 / (size_t)(threads > 0 ? threads : 1) + 1000;
    while (rc == 0 && started < threads) {
        struct js_worker *w = &ws[started];
        *w = (struct js_worker){
            .n = n, .next = &next, .cap = cap, .until_us = t0 + (int64_t)seconds * 1000000};
        if (!(w->us = malloc(sizeof(double) * cap)))
            rc = -1;
        else if (pthread_create(&w->thread, NULL, js_work, w) != 0)
            free(w->us), rc = -1;
        else
            started++;
    }
    for (int i = 0; i < started; i++) { /* the started ones end by until_us */
        pthread_join(ws[i].thread, NULL);
        for (size_t j = 0; j < ws[i].count; j++)
            add(s, ws[i].us[j]);
        rc |= ws[i].failed ? -1 : 0;
        acked += (long)ws[i].count;
        free(ws[i].us);
    }
    *rate = (double)acked / ((double)(cc_time_mono_us() - t0) / 1e6);
    free(ws);
    if (n) {
        cc_nats_drain(n, 1000);
        cc_nats_free(n);
    }
    return rc;
}

/* --- set-up through agent-registry ----------------------------------------------------- */

/* Sends an ObjectRequest carrying `body` packed, as an admin; the reply is *rep (may be
 * NULL). */
static enum cc_status object_request(struct cc_nats *n, const char *subject,
                                     Cc__V1__ObjectRequest *req, const ProtobufCMessage *body,
                                     ProtobufCMessage **rep)
{
    Cc__V1__Caller admin = CC__V1__CALLER__INIT;
    uint8_t buf[1024];
    size_t len = protobuf_c_message_get_packed_size(body);
    *rep = NULL;
    if (len > sizeof buf)
        return CC_ERR_INVALID;
    protobuf_c_message_pack(body, buf);
    admin.user_id = CC_PB_STR("bench"), admin.role = CC_PB_STR("admin");
    req->caller = &admin, req->has_body = 1, req->body.data = buf, req->body.len = len;
    return cc_nats_request(n, subject, &req->base, &cc__v1__object_reply__descriptor, 10000, rep,
                           NULL, 0);
}

enum cc_status bench_create(struct cc_nats *n, const char *kind, const ProtobufCMessage *obj,
                            char *id, size_t idcap)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage *rep;
    char subject[96];
    const ProtobufCMessageDescriptor *desc = obj->descriptor;
    snprintf(subject, sizeof subject, SUBJ_REGISTRY_OBJ_CREATE, kind);
    enum cc_status st = object_request(n, subject, &req, obj, &rep);
    snprintf(id, idcap, "%s", "");
    if (st != CC_OK)
        return st;
    Cc__V1__ObjectReply *r = (Cc__V1__ObjectReply *)rep;
    ProtobufCMessage *made = protobuf_c_message_unpack(desc, NULL, r->body.len, r->body.data);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, "id");
    if (made && f) {
        const char *made_id = *(char *const *)((const char *)made + f->offset);
        snprintf(id, idcap, "%s", made_id ? made_id : "");
    }
    if (made)
        protobuf_c_message_free_unpacked(made, NULL);
    protobuf_c_message_free_unpacked(rep, NULL);
    return CC_OK;
}

enum cc_status bench_put_skill(struct cc_nats *n, const char *user, const char *skill,
                               int64_t capacity)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__AgentSkill as = CC__V1__AGENT_SKILL__INIT;
    ProtobufCMessage *rep;
    as.has_capacity = 1, as.capacity = capacity, as.has_active = as.active = 1;
    req.parent_id = CC_PB_STR(user), req.id = CC_PB_STR(skill);
    enum cc_status st = object_request(n, SUBJ_AGENT_SKILLS_PUT, &req, &as.base, &rep);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

enum cc_status bench_sign_in(struct cc_nats *n, const char *login, const char *password)
{
    Cc__V1__LoginRequest req = CC__V1__LOGIN_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    req.login = CC_PB_STR(login), req.password = CC_PB_STR(password);
    enum cc_status st = cc_nats_request(n, SUBJ_AUTH_LOGIN, &req.base,
                                        &cc__v1__login_reply__descriptor, 10000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

enum cc_status bench_set_status(struct cc_nats *n, const char *agent, const char *status)
{
    Cc__V1__Caller self = CC__V1__CALLER__INIT;
    Cc__V1__StatusChange sc = CC__V1__STATUS_CHANGE__INIT;
    ProtobufCMessage *rep = NULL;
    self.user_id = CC_PB_STR(agent), self.role = CC_PB_STR("agent");
    sc.caller = &self, sc.status = CC_PB_STR(status);
    enum cc_status st = cc_nats_request(n, SUBJ_PRESENCE_SET, &sc.base,
                                        &cc__v1__agent_status__descriptor, 10000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}
