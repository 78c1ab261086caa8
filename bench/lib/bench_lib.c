/* bench_lib.c - samples, baselines and set-up requests shared by the
 * benchmarks. */
#include "bench_lib.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_nats.h"
#include "cc_redis.h"
#include "cc_time.h"

#include <stdio.h>
#include <stdlib.h>
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
    snprintf(subject, sizeof subject, "cc.registry.obj.%s.create", kind);
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
    enum cc_status st = object_request(n, "cc.registry.agent_skills.put", &req, &as.base, &rep);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

enum cc_status bench_sign_in(struct cc_nats *n, const char *login, const char *password)
{
    Cc__V1__LoginRequest req = CC__V1__LOGIN_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    req.login = CC_PB_STR(login), req.password = CC_PB_STR(password);
    enum cc_status st = cc_nats_request(n, "cc.registry.auth.login", &req.base,
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
    enum cc_status st = cc_nats_request(n, "cc.presence.set", &sc.base,
                                        &cc__v1__agent_status__descriptor, 10000, &rep, NULL, 0);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}
