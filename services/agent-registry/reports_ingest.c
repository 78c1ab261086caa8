/* reports_ingest.c - the counters reports read, kept while things happen:
 * time in each status/state and missed offers from the agents' status
 * events (cc.presence.changed.*), and each interaction's figures from its
 * records (the RECORDS stream: call-router's calls, chat-gateway's chats),
 * each stage counted once (report_record.lua). Interactions count in the
 * 15-minute interval they arrived in; an agent's handled interactions in
 * the interval they were answered. */
#include "reports.h"
#include "cc/v1/presence.pb-c.h"
#include "cc/v1/records.pb-c.h"
#include "cc_log.h"
#include "cc_records.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char report_presence_lua[], report_record_lua[];
static struct cc_redis_script presence_script =
    CC_REDIS_SCRIPT("report_presence", report_presence_lua);
static struct cc_redis_script record_script = CC_REDIS_SCRIPT("report_record", report_record_lua);

#define DEFAULT_SERVICE_LEVEL_S 20
#define MAX_OPS 24

int64_t reports_retention_s(void)
{
    int64_t days = 400;
    if (cc_env_int("CC_REPORT_RETENTION_DAYS", 400, 1, 3660, &days) != CC_OK)
        days = 400;
    return days * 86400;
}

/* --- status events --------------------------------------------------------------------- */

/* The field an agent's time is counted under: its state in callcenter (a
 * pause by cause), else its status. */
static void state_field(const Cc__V1__AgentStatus *s, char *out, size_t cap)
{
    const char *status = s->status ? s->status : "offline";
    if (!strcmp(status, "callcenter") && s->state && !strcmp(s->state, "pause"))
        snprintf(out, cap, "pause.%s", s->pause_cause_id ? s->pause_cause_id : "");
    else if (!strcmp(status, "callcenter") && s->state)
        snprintf(out, cap, "%s", s->state);
    else
        snprintf(out, cap, "%s", status);
}

/* One status event to count (report_presence.lua's six arguments). */
struct status_ev {
    char agent[72], ver[24], since[24], field[96], missed[2], now[24];
};

#define INGEST_BATCH 128  /* events per report_presence.lua call */
#define INGEST_QUEUE 8192 /* events waiting at most; beyond, counted at once */

/* The events waiting to be counted, oldest first, and the thread counting
 * them: the status events are counted off the hot path, many in one call
 * when they come fast (each event handler only queues its event). */
struct ingest {
    struct registry *reg;
    pthread_mutex_t lock;
    pthread_cond_t more;
    struct status_ev *q; /* a ring of INGEST_QUEUE */
    size_t head, n;
    int idle, running, stopping;
    pthread_t thread;
};

/* Counts events ev[0..n) in one report_presence.lua call. */
static void count_events(struct registry *reg, const struct status_ev *ev, size_t n)
{
    char ret[24], pday[80], pdays[80];
    const char *argv[INGEST_BATCH * 7 + 3];
    char keys[INGEST_BATCH][128];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    size_t k = 0;
    snprintf(ret, sizeof ret, "%lld", (long long)reports_retention_s());
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], KEY_REP_LAST, cc_tag(), ev[i].agent);
        argv[k++] = keys[i];
    }
    cc_key_prefix(pday, sizeof pday, KEY_REP_AGENT);
    cc_key_prefix(pdays, sizeof pdays, KEY_REP_AGENTS);
    argv[k++] = ret, argv[k++] = pday, argv[k++] = pdays;
    for (size_t i = 0; i < n; i++) {
        argv[k++] = ev[i].agent, argv[k++] = ev[i].ver, argv[k++] = ev[i].since;
        argv[k++] = ev[i].field, argv[k++] = ev[i].missed, argv[k++] = ev[i].now;
    }
    if (cc_redis_acquire(reg->redis, &c) != CC_OK) {
        CC_WARN("reports: %zu status events were not counted (Redis unavailable)", n);
        return;
    }
    if (cc_redis_eval(c, &presence_script, &rep, (int)n, (int)k, argv, NULL) != CC_OK)
        CC_WARN("reports: %zu status events were not counted", n);
    cc_redis_release(reg->redis, c);
    if (rep)
        freeReplyObject(rep);
}

static void *ingest_loop(void *arg)
{
    struct ingest *g = arg;
    struct status_ev *batch = calloc(INGEST_BATCH, sizeof *batch);
    pthread_mutex_lock(&g->lock);
    for (;;) {
        while (!g->n && !g->stopping) {
            g->idle = 1;
            pthread_cond_wait(&g->more, &g->lock);
        }
        g->idle = 0;
        if (!g->n || !batch)
            break; /* stopping, every event counted */
        size_t k = 0;
        for (; g->n && k < INGEST_BATCH; k++, g->n--) {
            batch[k] = g->q[g->head];
            g->head = (g->head + 1) % INGEST_QUEUE;
        }
        pthread_mutex_unlock(&g->lock);
        count_events(g->reg, batch, k);
        pthread_mutex_lock(&g->lock);
    }
    g->running = 0; /* later events are counted by their handler */
    pthread_mutex_unlock(&g->lock);
    free(batch);
    return NULL;
}

static void on_status(void *arg, const struct cc_nats_msg *m)
{
    struct registry *reg = arg;
    struct ingest *g = reg->ingest;
    Cc__V1__AgentStatus *s = cc__v1__agent_status__unpack(NULL, m->len, m->data);
    int64_t since;
    struct status_ev ev;
    int queued = 0;
    if (!s || !s->agent_id || !s->has_version || !s->state_since ||
        cc_time_parse_ms(s->state_since, &since) != 0 || strlen(s->agent_id) > 64)
        goto out;
    state_field(s, ev.field, sizeof ev.field);
    snprintf(ev.agent, sizeof ev.agent, "%s", s->agent_id);
    snprintf(ev.ver, sizeof ev.ver, "%lld", (long long)s->version);
    snprintf(ev.since, sizeof ev.since, "%lld", (long long)since);
    snprintf(ev.now, sizeof ev.now, "%lld", (long long)cc_time_now_ms());
    snprintf(ev.missed, sizeof ev.missed, "%d", s->reason && !strcmp(s->reason, "offer_timeout"));
    if (g) {
        pthread_mutex_lock(&g->lock);
        if (g->running && !g->stopping && g->n < INGEST_QUEUE) {
            g->q[(g->head + g->n++) % INGEST_QUEUE] = ev;
            queued = 1;
            if (g->idle) {
                g->idle = 0;
                pthread_cond_signal(&g->more);
            }
        }
        pthread_mutex_unlock(&g->lock);
    }
    if (!queued) /* no counting thread (stopped, or the queue is full) */
        count_events(reg, &ev, 1);
out:
    if (s)
        cc__v1__agent_status__free_unpacked(s, NULL);
}

void reports_stop(struct registry *reg)
{
    struct ingest *g = reg->ingest;
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    int running = g->running;
    g->stopping = 1;
    pthread_cond_signal(&g->more);
    pthread_mutex_unlock(&g->lock);
    if (running)
        pthread_join(g->thread, NULL); /* it counts what waits first */
}

void reports_release(struct registry *reg)
{
    struct ingest *g = reg->ingest;
    if (!g)
        return;
    reports_stop(reg);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->more);
    free(g->q);
    free(g);
    reg->ingest = NULL;
}

static enum cc_status ingest_start(struct registry *reg)
{
    struct ingest *g = calloc(1, sizeof *g);
    if (!g || !(g->q = calloc(INGEST_QUEUE, sizeof *g->q))) {
        free(g);
        return CC_ERR_NOMEM;
    }
    g->reg = reg;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->more, NULL);
    g->running = pthread_create(&g->thread, NULL, ingest_loop, g) == 0;
    reg->ingest = g;
    return CC_OK;
}

/* --- interaction records ------------------------------------------------------------- */

/* What reports need of a call or chat record. */
struct facts {
    const char *id, *queue, *agent, *outcome; /* outcome: answered, abandoned, timed_out, "" */
    const char *callback_queue;               /* a callback: counted there, not as offered */
    int64_t enq, answered, ended;
};

static int64_t ms_of(const char *s)
{
    int64_t ms;
    return s && cc_time_parse_ms(s, &ms) == 0 ? ms : 0;
}

static int facts_of(const Cc__V1__Record *r, struct facts *f)
{
    memset(f, 0, sizeof *f);
    f->outcome = "";
    if (r->call) {
        const Cc__V1__Call *c = r->call;
        int queued = c->direction && !strcmp(c->direction, "inbound");
        int callback = c->direction && !strcmp(c->direction, "callback");
        f->id = c->id, f->queue = queued ? c->queue_id : NULL, f->agent = c->agent_id;
        f->callback_queue = callback ? c->queue_id : NULL;
        f->enq = ms_of(c->enqueued_at), f->answered = ms_of(c->answered_at);
        f->ended = ms_of(c->ended_at);
        if (f->ended)
            f->outcome = f->answered                                      ? "answered"
                         : c->outcome && !strcmp(c->outcome, "abandoned") ? "abandoned"
                                                                          : "timed_out";
    } else if (r->chat) {
        const Cc__V1__Chat *c = r->chat;
        f->id = c->id, f->queue = c->queue_id, f->agent = c->agent_id;
        f->enq = ms_of(c->created_at), f->answered = ms_of(c->start_time);
        f->ended = c->state && !strcmp(c->state, "completed") ? ms_of(c->end_time) : 0;
        if (f->ended)
            f->outcome = f->answered ? "answered" : "abandoned";
    }
    return f->id && f->enq > 0 && strlen(f->id) <= 64 && (!f->queue || strlen(f->queue) <= 64) &&
           (!f->agent || strlen(f->agent) <= 64);
}

/* The arguments of one script call and the strings they point to. */
struct ops {
    const char *argv[2 + 3 * 2 + MAX_OPS * 4];
    char text[MAX_OPS * 3 + 3][112];
    int argc, ntext;
    int count; /* operations of the open stage */
    char *count_text;
};

static char *text(struct ops *o)
{
    return o->text[o->ntext++];
}

static void stage(struct ops *o, const char *name)
{
    o->argv[o->argc++] = name;
    o->count_text = text(o);
    o->count = 0;
    snprintf(o->count_text, sizeof o->text[0], "0");
    o->argv[o->argc++] = o->count_text;
}

static void push(struct ops *o, const char *key, const char *field, const char *amount,
                 const char *kind)
{
    const char *v[] = {key, field, amount, kind};
    memcpy(&o->argv[o->argc], v, sizeof v);
    o->argc += 4;
    snprintf(o->count_text, sizeof o->text[0], "%d", ++o->count);
}

/* Adds one operation on the counters of `who` (q: queue, a: agent) at `ms`,
 * and makes `id` one of that day's queues or agents. */
static void op(struct ops *o, char who, const char *id, int64_t ms, const char *field,
               int64_t amount, const char *kind)
{
    if (o->argc + 8 > (int)(sizeof o->argv / sizeof *o->argv) || !id || !*id)
        return;
    long long q = ms / REPORT_QUARTER_MS, day = q / REPORT_DAY_QUARTERS;
    char *key = text(o), *f = text(o), *n = text(o), *set = text(o);
    snprintf(key, sizeof o->text[0], who == 'q' ? KEY_REP_QUEUE : KEY_REP_AGENT, cc_tag(), id, day);
    snprintf(f, sizeof o->text[0], "%lld|%s", q % REPORT_DAY_QUARTERS, field);
    snprintf(n, sizeof o->text[0], "%lld", (long long)amount);
    snprintf(set, sizeof o->text[0], who == 'q' ? KEY_REP_QUEUES : KEY_REP_AGENTS, cc_tag(), day);
    push(o, key, f, n, kind);
    for (int i = 2; i + 3 < o->argc - 4; i++) /* the day's set once per record */
        if (!strcmp(o->argv[i + 3], "member") && !strcmp(o->argv[i], set) &&
            !strcmp(o->argv[i + 1], id))
            return;
    push(o, set, id, "0", "member");
}

static int64_t service_level_s(struct registry *reg, const char *queue)
{
    ProtobufCMessage *obj;
    int64_t sl = DEFAULT_SERVICE_LEVEL_S;
    if (queue && store_get(reg->redis, &kind_queues.store, queue, &obj) == CC_OK) {
        const Cc__V1__Queue *q = (const Cc__V1__Queue *)obj;
        if (q->has_service_level_s && q->service_level_s > 0)
            sl = q->service_level_s;
        protobuf_c_message_free_unpacked(obj, NULL);
    }
    return sl;
}

/* The stages a record has reached, as script operations. */
static void plan(struct registry *reg, const struct facts *f, struct ops *o)
{
    const char *q = f->queue;
    stage(o, "created");
    op(o, 'q', q, f->enq, "offered", 1, "incr");
    op(o, 'q', f->callback_queue, f->enq, "callbacks", 1, "incr");
    if (f->answered) {
        int64_t wait = f->answered - f->enq;
        stage(o, "answered");
        op(o, 'q', q, f->enq, "answered", 1, "incr");
        op(o, 'q', q, f->enq, "wait_ms", wait, "incr");
        op(o, 'q', q, f->enq, "max_wait_ms", wait, "max");
        if (q && wait <= service_level_s(reg, q) * 1000)
            op(o, 'q', q, f->enq, "within", 1, "incr");
    }
    if (f->ended) {
        stage(o, "ended");
        if (f->answered) {
            int64_t handle = f->ended - f->answered;
            op(o, 'q', q, f->enq, "handle_ms", handle, "incr");
            op(o, 'a', f->agent, f->answered, "handled", 1, "incr");
            op(o, 'a', f->agent, f->answered, "handle_ms", handle, "incr");
        } else {
            op(o, 'q', q, f->enq, f->outcome, 1, "incr");
            op(o, 'q', q, f->enq, "max_wait_ms", f->ended - f->enq, "max");
        }
    }
}

static enum cc_nats_verdict on_record(void *arg, const struct cc_nats_msg *m, int64_t *retry_ms)
{
    struct registry *reg = arg;
    Cc__V1__Record *r = cc__v1__record__unpack(NULL, m->len, m->data);
    struct facts f;
    struct ops *o = NULL;
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    enum cc_nats_verdict v = CC_NATS_ACK;
    char seen[112], ret[24];
    if (!r || !facts_of(r, &f) || !(o = calloc(1, sizeof *o)))
        goto out; /* unreadable: nothing to count, ever */
    snprintf(seen, sizeof seen, KEY_REP_SEEN, cc_tag(), f.id);
    snprintf(ret, sizeof ret, "%lld", (long long)reports_retention_s());
    o->argv[o->argc++] = seen;
    o->argv[o->argc++] = ret;
    plan(reg, &f, o);
    if (cc_redis_acquire(reg->redis, &c) != CC_OK) {
        v = CC_NATS_RETRY, *retry_ms = 1000;
        goto out;
    }
    if (cc_redis_eval(c, &record_script, &rep, 1, o->argc, o->argv, NULL) != CC_OK) {
        CC_WARN("reports: record %s not counted yet: %s", f.id,
                rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "redis unavailable");
        v = CC_NATS_RETRY, *retry_ms = 1000;
    }
    cc_redis_release(reg->redis, c);
out:
    if (rep)
        freeReplyObject(rep);
    free(o);
    if (r)
        cc__v1__record__free_unpacked(r, NULL);
    return v;
}

enum cc_status reports_ingest_start(struct registry *reg)
{
    static const struct cc_nats_consumer consumer = {
        CC_RECORDS_STREAM, CC_RECORDS_SUBJECTS, "reports", 30000, -1, 64};
    enum cc_status st = ingest_start(reg);
    if (st == CC_OK)
        st = cc_nats_subscribe(reg->nats, SUBJ_PRESENCE_CHANGED_ALL, "reports", on_status, reg);
    if (st == CC_OK)
        st = cc_records_stream_ensure(reg->nats);
    if (st == CC_OK)
        st = cc_nats_consume(reg->nats, &consumer, on_record, reg);
    return st;
}
