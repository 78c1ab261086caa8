/* supervision.c - listen, whisper and barge (SPEC 7): a supervisor of the
 * call's queue (their assigned queues, unless the switch lets them see all)
 * or an admin asks; the engine queues a `supervise` command for the PBX
 * naming the PBX's call, the agent's phone and the supervisor's phone; the
 * PBX reports whether it joined the supervisor. Every request is kept as
 * an audit record (who, whom, when, mode, what became of it).
 *
 * Keys: {cc}:sup:<id> (the record), {cc}:sup:call:<call> (its requests by
 * time), {cc}:sup:audit (every request by time), kept 400 days. */
#include "callrouter.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_TTL_S (400 * 86400)
#define LIST_MAX 200

struct sup {
    char id[40], call[64], agent[64], supervisor[64], mode[12], state[12], reason[256];
    char queue[64], uri[256];
    int64_t requested, updated;
};

static const struct sup_field {
    const char *name;
    size_t off, cap;
} sup_fields[] = {
#define F(f)                                                                                       \
    {                                                                                              \
#f, offsetof(struct sup, f), sizeof(((struct sup *)0)->f)                                  \
    }
    F(id), F(call), F(agent), F(supervisor), F(mode), F(state), F(reason), F(queue), F(uri),
#undef F
};

static int role(const Cc__V1__Caller *c, const char *r)
{
    return c && c->role && !strcmp(c->role, r);
}

static int valid_mode(const char *m)
{
    return m && (!strcmp(m, "listen") || !strcmp(m, "whisper") || !strcmp(m, "barge") ||
                 !strcmp(m, "stop"));
}

/* 1 when the caller supervises queue `queue` (admins: every queue). */
static int supervises(struct call_router *cr, const Cc__V1__Caller *who, const char *queue)
{
    struct cc_queue_scope scope;
    if (role(who, "admin"))
        return 1;
    if (!role(who, "supervisor") || !queue || !*queue ||
        cc_queue_scope(cr->nats, who, &scope) != CC_OK)
        return 0;
    int in = cc_queue_scope_has(&scope, queue);
    cc_queue_scope_release(&scope);
    return in;
}

static enum cc_status sup_store(struct call_router *cr, const struct sup *s)
{
    char req[24], upd[24], key[128], callkey[160];
    snprintf(req, sizeof req, "%lld", (long long)s->requested);
    snprintf(upd, sizeof upd, "%lld", (long long)s->updated);
    snprintf(key, sizeof key, KEY_SUP, cc_tag(), s->id);
    snprintf(callkey, sizeof callkey, KEY_SUP_CALL, cc_tag(), s->call);
    const char *argv[] = {"HSET",  key,      "id",         s->id,         "call",    s->call,
                          "agent", s->agent, "supervisor", s->supervisor, "mode",    s->mode,
                          "state", s->state, "reason",     s->reason,     "queue",   s->queue,
                          "uri",   s->uri,   "requested",  req,           "updated", upd};
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    enum cc_status st = cc_redis_acquire(cr->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_cmdv(c, &rep, (int)(sizeof argv / sizeof *argv), argv, NULL);
    if (rep)
        freeReplyObject(rep), rep = NULL;
    cc_redis_release(cr->redis, c);
    if (st == CC_OK)
        st = cc_redis_do(cr->redis, "EXPIRE %s %d", key, AUDIT_TTL_S);
    if (st == CC_OK)
        st = cc_redis_do(cr->redis, "ZADD %s %s %s", callkey, req, s->id);
    if (st == CC_OK)
        st = cc_redis_do(cr->redis, "ZADD " KEY_SUP_AUDIT " %s %s", cc_tag(), req, s->id);
    if (st == CC_OK)
        st = cc_redis_do(cr->redis, "EXPIRE %s %d", callkey, AUDIT_TTL_S);
    return st;
}

static enum cc_status sup_read(struct call_router *cr, const char *id, struct sup *s)
{
    redisReply *rep = NULL;
    memset(s, 0, sizeof *s);
    enum cc_status st = cc_redis_run(cr->redis, &rep, "HGETALL " KEY_SUP, cc_tag(), id);
    if (st == CC_OK && rep->elements == 0)
        st = CC_ERR_NOT_FOUND;
    for (size_t i = 0; st == CC_OK && i + 1 < rep->elements; i += 2) {
        const char *k = rep->element[i]->str, *v = rep->element[i + 1]->str;
        if (!strcmp(k, "requested"))
            s->requested = strtoll(v, NULL, 10);
        else if (!strcmp(k, "updated"))
            s->updated = strtoll(v, NULL, 10);
        for (size_t f = 0; f < sizeof sup_fields / sizeof *sup_fields; f++)
            if (!strcmp(k, sup_fields[f].name))
                snprintf((char *)s + sup_fields[f].off, sup_fields[f].cap, "%s", v);
    }
    if (rep)
        freeReplyObject(rep);
    return st;
}

/* The message of `s` (strings point into it and `times`). */
static void sup_view(const struct sup *s, Cc__V1__Supervision *m, char times[2][32])
{
    cc__v1__supervision__init(m);
    m->id = CC_PB_STR(s->id), m->call = CC_PB_STR(s->call), m->agent_id = CC_PB_STR(s->agent);
    m->supervisor_id = CC_PB_STR(s->supervisor), m->mode = CC_PB_STR(s->mode);
    m->state = CC_PB_STR(s->state), m->reason = s->reason[0] ? CC_PB_STR(s->reason) : NULL;
    m->queue_id = s->queue[0] ? CC_PB_STR(s->queue) : NULL;
    m->supervisor_uri = s->uri[0] ? CC_PB_STR(s->uri) : NULL;
    cc_time_format_ms(s->requested, times[0], 32);
    cc_time_format_ms(s->updated, times[1], 32);
    m->requested_at = times[0], m->updated_at = times[1];
}

/* The phone the PBX calls for supervisor `id`: their SIP account or number. */
static enum cc_status supervisor_phone(struct call_router *cr, const char *id, char *uri,
                                       size_t cap)
{
    struct agent_entry a;
    enum cc_status st = directory_find(cr, id, &a);
    if (st == CC_OK && !a.sip_uri[0])
        st = CC_ERR_CONFLICT;
    if (st == CC_OK)
        snprintf(uri, cap, "%s", a.sip_uri);
    return st;
}

/* cc.call.supervise: checks, records, and queues the command. */
static enum cc_status supervise(struct call_router *cr, const Cc__V1__CallRequest *q, struct sup *s,
                                const char **why)
{
    struct call_rec rec;
    struct agent_entry agent;
    char cmd[64];
    *why = NULL;
    if (!valid_mode(q->mode))
        return *why = "mode: listen, whisper, barge or stop", CC_ERR_INVALID;
    if (!role(q->caller, "admin") && !role(q->caller, "supervisor"))
        return *why = "supervisors and administrators only", CC_ERR_FORBIDDEN;
    enum cc_status st = q->id ? calls_read(cr, q->id, &rec) : CC_ERR_INVALID;
    if (st != CC_OK)
        return *why = st == CC_ERR_NOT_FOUND ? "no such call" : NULL, st;
    if (!supervises(cr, q->caller, rec.queue_id))
        return *why = "not a call of a queue you supervise", CC_ERR_FORBIDDEN;
    if (strcmp(rec.state, "connected") != 0)
        return *why = "the call is not connected", CC_ERR_CONFLICT;
    if ((st = directory_find(cr, rec.agent_id, &agent)) != CC_OK)
        return st;
    memset(s, 0, sizeof *s);
    st = supervisor_phone(cr, q->caller->user_id, s->uri, sizeof s->uri);
    if (st == CC_ERR_CONFLICT || st == CC_ERR_NOT_FOUND)
        return *why = "you have no phone to listen on (set your sip_account)", CC_ERR_CONFLICT;
    if (st != CC_OK)
        return st;
    unsigned char raw[10];
    char hex[21];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(s->id, sizeof s->id, "sup_%s", hex);
    snprintf(s->call, sizeof s->call, "%s", rec.id);
    snprintf(s->agent, sizeof s->agent, "%s", rec.agent_id);
    snprintf(s->supervisor, sizeof s->supervisor, "%s", q->caller->user_id);
    snprintf(s->mode, sizeof s->mode, "%s", q->mode);
    snprintf(s->queue, sizeof s->queue, "%s", rec.queue_id);
    snprintf(s->state, sizeof s->state, "requested");
    s->requested = s->updated = cc_time_now_ms();
    if ((st = sup_store(cr, s)) != CC_OK)
        return st;
    const char *fields[] = {"supervision_id",
                            s->id,
                            "mode",
                            s->mode,
                            "call_id",
                            rec.call_id,
                            "interaction_id",
                            rec.id,
                            "agent_sip_uri",
                            agent.sip_uri,
                            "supervisor_sip_uri",
                            s->uri};
    st = commands_push(cr, "supervise", fields, (int)(sizeof fields / sizeof *fields), cmd,
                       sizeof cmd);
    CC_INFO("supervision %s: %s %s the call %s of %s", s->id, s->supervisor, s->mode, rec.id,
            rec.agent_id);
    return st;
}

void supervision_result(struct call_router *cr, const char *command_id, int ok, const char *reason)
{
    char sid[40];
    struct sup s;
    if (commands_field(cr, command_id, "supervision_id", sid, sizeof sid) != CC_OK ||
        sup_read(cr, sid, &s) != CC_OK)
        return;
    snprintf(s.state, sizeof s.state, "%s",
             !ok                       ? "failed"
             : !strcmp(s.mode, "stop") ? "ended"
                                       : "active");
    snprintf(s.reason, sizeof s.reason, "%s", reason && !ok ? reason : "");
    s.updated = cc_time_now_ms();
    if (sup_store(cr, &s) != CC_OK)
        CC_WARN("supervision %s: its result could not be recorded", sid);
}

/* Who may read a supervision record: admins; the supervisor who asked; a
 * supervisor of the call's queue. */
static int may_read(struct call_router *cr, const Cc__V1__Caller *who, const struct sup *s)
{
    return role(who, "admin") || (who->user_id && !strcmp(who->user_id, s->supervisor)) ||
           supervises(cr, who, s->queue);
}

static void on_list(struct call_router *cr, const struct cc_nats_msg *m,
                    const Cc__V1__CallRequest *q)
{
    Cc__V1__SupervisionList list = CC__V1__SUPERVISION_LIST__INIT;
    Cc__V1__Supervision items[LIST_MAX], *ptrs[LIST_MAX];
    struct sup *sups = calloc(LIST_MAX, sizeof *sups);
    char(*times)[2][32] = calloc(LIST_MAX, sizeof *times);
    redisReply *rep = NULL;
    enum cc_status st = sups && times ? CC_OK : CC_ERR_NOMEM;
    if (st == CC_OK && !role(q->caller, "admin") && !role(q->caller, "supervisor"))
        st = CC_ERR_FORBIDDEN;
    if (st == CC_OK && q->id)
        st = cc_redis_run(cr->redis, &rep, "ZREVRANGE " KEY_SUP_CALL " 0 %d", cc_tag(), q->id,
                          LIST_MAX - 1);
    else if (st == CC_OK)
        st = cc_redis_run(cr->redis, &rep, "ZREVRANGE " KEY_SUP_AUDIT " 0 %d", cc_tag(),
                          LIST_MAX * 4);
    for (size_t i = 0; st == CC_OK && i < rep->elements && list.n_items < LIST_MAX; i++) {
        struct sup *s = &sups[list.n_items];
        if (sup_read(cr, rep->element[i]->str, s) != CC_OK || !may_read(cr, q->caller, s))
            continue;
        sup_view(s, &items[list.n_items], times[list.n_items]);
        ptrs[list.n_items] = &items[list.n_items];
        list.n_items++;
    }
    list.items = ptrs;
    if (st == CC_OK)
        cc_nats_respond(cr->nats, m, &list.base);
    else
        cc_nats_respond_error(
            cr->nats, m, st, st == CC_ERR_FORBIDDEN ? "supervisors and administrators only" : NULL);
    if (rep)
        freeReplyObject(rep);
    free(sups), free(times);
}

static void on_supervision(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__CallRequest *q = cc__v1__call_request__unpack(NULL, m->len, m->data);
    const char *why = NULL;
    struct sup s;
    char times[2][32];
    if (!q || !q->caller || !q->caller->user_id) {
        cc_nats_respond_error(cr->nats, m, q ? CC_ERR_UNAUTHORIZED : CC_ERR_INVALID, NULL);
    } else if (!strcmp(m->subject, SUBJ_CALL_SUPERVISIONS)) {
        on_list(cr, m, q);
    } else {
        enum cc_status st = supervise(cr, q, &s, &why);
        Cc__V1__Supervision v;
        if (st == CC_OK) {
            sup_view(&s, &v, times);
            cc_nats_respond(cr->nats, m, &v.base);
        } else {
            cc_nats_respond_error(cr->nats, m, st, why);
        }
    }
    if (q)
        cc__v1__call_request__free_unpacked(q, NULL);
}

enum cc_status supervision_start(struct call_router *cr)
{
    enum cc_status st =
        cc_nats_subscribe(cr->nats, SUBJ_CALL_SUPERVISE, "call-router", on_supervision, cr);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_CALL_SUPERVISIONS, "call-router", on_supervision, cr);
    return st;
}
