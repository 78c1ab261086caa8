/* calls.c - the call record: created once per PBX call id, changed by one
 * script that bumps its version and marks the record unpublished; a pump
 * thread publishes the latest version of each marked record to the RECORDS
 * stream (crm-sync, reports) off the request path, and every change is told
 * at once to the agent's desk (cc.call.updated.<agent>).
 *
 * Keys ({cc} hash tag): {cc}:call:<id> the record; {cc}:pbxcall:<call_id> the
 * PBX's id -> ours; {cc}:calls:active / closed (by created / ended ms);
 * {cc}:calls:queue:<queue> and {cc}:calls:agent:<agent> (by created ms);
 * {cc}:calls:unpublished, records whose latest version is not in RECORDS yet. */
#include "callrouter.h"
#include "cc/v1/records.pb-c.h"
#include "cc_records.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <uthash.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char call_create_lua[], call_update_lua[], published_lua[], call_offered_lua[];
static struct cc_redis_script create_script = CC_REDIS_SCRIPT("call_create", call_create_lua);
static struct cc_redis_script update_script = CC_REDIS_SCRIPT("call_update", call_update_lua);
static struct cc_redis_script offered_script = CC_REDIS_SCRIPT("call_offered", call_offered_lua);
static struct cc_redis_script published_script = CC_REDIS_SCRIPT("published", published_lua);

#define RECORD_TTL_S (40 * 86400) /* a record is kept this long after it ended */
#define PBXCALL_TTL_S (2 * 86400) /* the PBX's id is known this long */
#define PUBLISH_TIMEOUT_MS 2000

/* Where each stored field lands in a call_rec. */
static const struct field {
    const char *name;
    size_t off, cap; /* cap 0: an int64 */
} fields[] = {
#define S(f, name)                                                                                 \
    {                                                                                              \
        name, offsetof(struct call_rec, f), sizeof(((struct call_rec *)0)->f)                      \
    }
#define I(f, name)                                                                                 \
    {                                                                                              \
        name, offsetof(struct call_rec, f), 0                                                      \
    }
    S(id, "id"),
    S(call_id, "call_id"),
    S(direction, "direction"),
    S(from, "from"),
    S(to, "to"),
    S(queue_id, "queue_id"),
    S(queue_name, "queue_name"),
    S(agent_id, "agent_id"),
    S(state, "state"),
    S(hangup_by, "hangup_by"),
    S(outcome, "outcome"),
    S(result_id, "result_id"),
    S(result_details, "result_details"),
    S(customer_name, "customer_name"),
    S(caller_name, "caller_name"),
    S(account_name, "account_name"),
    S(link_account, "link_account"),
    S(link_contact, "link_contact"),
    S(link_activity, "link_activity"),
    S(link_case, "link_case"),
    S(callback_of, "callback_of"),
    S(reserved_agent, "reserved_agent"),
    I(offered_done_ms, "offered_done"),
    I(ring_ms, "ring_ms"),
    I(enq_ms, "enq"),
    I(offered_ms, "offered"),
    I(answered_ms, "answered"),
    I(ended_ms, "ended"),
    I(attempts, "attempts"),
    I(version, "version"),
#undef S
#undef I
};

void call_change_set(struct call_change *c, const char *field, const char *value)
{
    if (c->n + 2 > (int)(sizeof c->fields / sizeof *c->fields) - 1)
        return; /* callers set far fewer fields than fit */
    c->fields[c->n++] = field;
    c->fields[c->n++] = value ? value : "";
}

/* Numbers are formatted into storage that lives as long as the change. */
void call_change_ms(struct call_change *c, const char *field, int64_t ms)
{
    static _Thread_local char buf[8][24];
    static _Thread_local int next;
    char *s = buf[next++ % 8];
    snprintf(s, sizeof buf[0], "%lld", (long long)ms);
    call_change_set(c, field, s);
}

/* Fills `rec` from HGETALL's field/value array. */
static void rec_parse(const redisReply *a, struct call_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    for (size_t i = 0; a && a->type == REDIS_REPLY_ARRAY && i + 1 < a->elements; i += 2) {
        const char *k = a->element[i]->str, *v = a->element[i + 1]->str;
        for (size_t f = 0; k && v && f < sizeof fields / sizeof *fields; f++) {
            if (strcmp(k, fields[f].name) != 0)
                continue;
            char *dst = (char *)rec + fields[f].off;
            if (fields[f].cap)
                snprintf(dst, fields[f].cap, "%s", v);
            else
                *(int64_t *)dst = strtoll(v, NULL, 10);
            break;
        }
    }
}

static void fmt_ms(int64_t ms, char *buf, size_t cap, char **out)
{
    *out = ms > 0 && cc_time_format_ms(ms, buf, cap) == 0 ? buf : NULL;
}

static char *opt(const char *s)
{
    return s[0] ? CC_PB_STR(s) : NULL;
}

void calls_view(const struct call_rec *r, struct call_view *v)
{
    Cc__V1__Call *m = &v->msg;
    cc__v1__call__init(m);
    cc__v1__chat_links__init(&v->links);
    m->id = opt(r->id), m->call_id = opt(r->call_id), m->direction = opt(r->direction);
    m->from = opt(r->from), m->to = opt(r->to), m->queue_id = opt(r->queue_id);
    m->queue_name = opt(r->queue_name), m->agent_id = opt(r->agent_id), m->state = opt(r->state);
    m->hangup_by = opt(r->hangup_by), m->outcome = opt(r->outcome);
    m->result_id = opt(r->result_id), m->result_details = opt(r->result_details);
    m->customer_name = opt(r->customer_name), m->account_name = opt(r->account_name);
    m->caller_name = opt(r->caller_name);
    m->callback_of = opt(r->callback_of), m->reserved_agent = opt(r->reserved_agent);
    v->links.account_id = opt(r->link_account), v->links.contact_id = opt(r->link_contact);
    v->links.activity_id = opt(r->link_activity), v->links.case_id = opt(r->link_case);
    m->links = &v->links;
    fmt_ms(r->enq_ms, v->enq, sizeof v->enq, &m->enqueued_at);
    fmt_ms(r->offered_ms, v->offered, sizeof v->offered, &m->offered_at);
    fmt_ms(r->answered_ms, v->answered, sizeof v->answered, &m->answered_at);
    fmt_ms(r->ended_ms, v->ended, sizeof v->ended, &m->ended_at);
    int64_t until = r->answered_ms ? r->answered_ms : r->ended_ms;
    if (until && r->enq_ms) {
        m->has_wait_s = 1, m->wait_s = (double)(until - r->enq_ms) / 1000.0;
    }
    if (r->answered_ms && r->ended_ms) {
        m->has_talk_s = 1, m->talk_s = (double)(r->ended_ms - r->answered_ms) / 1000.0;
    }
    m->has_attempts = m->has_version = 1;
    m->attempts = r->attempts, m->version = r->version;
}

/* Puts version `rec` into RECORDS; CC_OK once JetStream stored it. */
static enum cc_status records_put(struct call_router *cr, const struct call_rec *rec)
{
    struct call_view v;
    Cc__V1__Record r = CC__V1__RECORD__INIT;
    char subject[128], msg_id[96], at[32];
    calls_view(rec, &v);
    cc_time_format_ms(cc_time_now_ms(), at, sizeof at);
    r.kind = CC_PB_STR("call"), r.id = CC_PB_STR(rec->id), r.call = &v.msg;
    r.has_version = 1, r.version = rec->version, r.changed_at = at;
    size_t len = protobuf_c_message_get_packed_size(&r.base);
    uint8_t *buf = malloc(len ? len : 1);
    snprintf(subject, sizeof subject, SUBJ_RECORDS_CALL, rec->id);
    snprintf(msg_id, sizeof msg_id, "%s:%lld", rec->id, (long long)rec->version);
    enum cc_status st = buf ? CC_OK : CC_ERR_NOMEM;
    if (st == CC_OK) {
        protobuf_c_message_pack(&r.base, buf);
        st = cc_nats_js_publish(cr->nats, subject, buf, len, msg_id, PUBLISH_TIMEOUT_MS, NULL);
    }
    free(buf);
    return st;
}

/* A version waiting for the pump, by record id (the latest one only). */
struct pending_rec {
    struct call_rec rec;
    UT_hash_handle hh;
};

/* A new version exists: the desk hears it now, the pump puts it in RECORDS
 * (from this copy: no read back), a newer version replacing an older one
 * that has not gone out yet. */
static void publish(struct call_router *cr, const struct call_rec *rec)
{
    char subject[128];
    struct pending_rec *p;
    pthread_mutex_lock(&cr->pump_lock);
    HASH_FIND_STR(cr->pending, rec->id, p);
    if (cr->pump_stop) {
        /* the pump has ended: the unpublished set keeps it for the others */
    } else if (!p && (p = calloc(1, sizeof *p))) {
        p->rec = *rec;
        HASH_ADD_STR(cr->pending, rec.id, p);
    } else if (p && p->rec.version < rec->version) {
        p->rec = *rec;
    }
    if (!cr->pending_since)
        cr->pending_since = cc_time_now_ms();
    pthread_cond_signal(&cr->pump_cond);
    pthread_mutex_unlock(&cr->pump_lock);
    if (rec->agent_id[0]) {
        struct call_view v;
        calls_view(rec, &v);
        snprintf(subject, sizeof subject, SUBJ_CALL_UPDATED, rec->agent_id);
        if (cc_nats_publish(cr->nats, subject, &v.msg.base) != CC_OK)
            CC_WARN("cannot tell the desk of %s about call %s", rec->agent_id, rec->id);
    }
}

static void random_id(char *out, size_t cap)
{
    unsigned char raw[12];
    char hex[25];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(out, cap, "call_%s", hex);
}

enum cc_status calls_create(struct call_router *cr, struct call_change *ch, const char *call_id,
                            struct call_rec *rec, int *created)
{
    char kpbx[320], kcall[160], kqueue[128], id[64], enq[24], ttl[16];
    const char *queue = NULL, *agent = NULL;
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    random_id(id, sizeof id);
    int64_t now = cc_time_now_ms();
    for (int i = 0; i + 1 < ch->n; i += 2) {
        if (!strcmp(ch->fields[i], "queue_id") && ch->fields[i + 1][0])
            queue = ch->fields[i + 1];
        if (!strcmp(ch->fields[i], "agent_id") && ch->fields[i + 1][0])
            agent = ch->fields[i + 1];
    }
    call_change_set(ch, "id", id);
    call_change_ms(ch, "enq", now);
    snprintf(kpbx, sizeof kpbx, KEY_PBXCALL, cc_tag(), call_id);
    snprintf(kcall, sizeof kcall, KEY_CALL, cc_tag(), id);
    if (queue)
        snprintf(kqueue, sizeof kqueue, KEY_CALLS_QUEUE, cc_tag(), queue);
    else
        snprintf(kqueue, sizeof kqueue, KEY_CALLS_AGENT, cc_tag(), agent ? agent : "-");
    snprintf(enq, sizeof enq, "%lld", (long long)now);
    snprintf(ttl, sizeof ttl, "%d", PBXCALL_TTL_S);
    char pcall[64];
    cc_key_prefix(pcall, sizeof pcall, KEY_CALL);
    const char *argv[56] = {kpbx,
                            kcall,
                            cc_key_fixed(KEY_CALLS_UNPUBLISHED),
                            cc_key_fixed(KEY_CALLS_ACTIVE),
                            kqueue,
                            id,
                            enq,
                            ttl,
                            pcall};
    int argc = 9;
    for (int i = 0; i < ch->n && argc < 56; i++)
        argv[argc++] = ch->fields[i];
    enum cc_status st = cc_redis_acquire(cr->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &create_script, &rep, 5, argc, argv, NULL);
    cc_redis_release(cr->redis, c);
    if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        *created = rep->element[0]->integer == 1;
        rec_parse(rep->element[2], rec);
        if (!rec->id[0]) /* the record of an old call_id expired before its id did */
            st = CC_ERR_CONFLICT;
    }
    if (rep)
        freeReplyObject(rep);
    if (st == CC_OK && *created)
        publish(cr, rec);
    return st;
}

enum cc_status calls_lookup(struct call_router *cr, const char *call_id, char *id, size_t cap)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(cr->redis, &rep, "GET " KEY_PBXCALL, cc_tag(), call_id);
    if (st == CC_OK && rep->type != REDIS_REPLY_STRING)
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK)
        snprintf(id, cap, "%s", rep->str);
    if (rep)
        freeReplyObject(rep);
    return st;
}

enum cc_status calls_read(struct call_router *cr, const char *id, struct call_rec *rec)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(cr->redis, &rep, "HGETALL " KEY_CALL, cc_tag(), id);
    if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0))
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK)
        rec_parse(rep, rec);
    if (rep)
        freeReplyObject(rep);
    return st;
}

enum cc_status calls_update(struct call_router *cr, const char *id, struct call_change *ch,
                            struct call_rec *rec, int *applied)
{
    char kcall[160], now[24], ttl[16];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    snprintf(kcall, sizeof kcall, KEY_CALL, cc_tag(), id);
    snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
    snprintf(ttl, sizeof ttl, "%d", RECORD_TTL_S);
    char pagent[64];
    cc_key_prefix(pagent, sizeof pagent, KEY_CALLS_AGENT);
    const char *argv[56] = {kcall,
                            cc_key_fixed(KEY_CALLS_ACTIVE),
                            cc_key_fixed(KEY_CALLS_CLOSED),
                            cc_key_fixed(KEY_CALLS_UNPUBLISHED),
                            id,
                            ch->any_state ? "1" : "0",
                            now,
                            ttl,
                            pagent};
    int argc = 9, ok = 0;
    for (int i = 0; i < ch->n && argc < 56; i++)
        argv[argc++] = ch->fields[i];
    enum cc_status st = cc_redis_acquire(cr->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &update_script, &rep, 4, argc, argv, NULL);
    cc_redis_release(cr->redis, c);
    if (st == CC_OK && rep->type == REDIS_REPLY_NIL)
        st = CC_ERR_NOT_FOUND;
    else if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        ok = rep->element[0]->integer == 1;
        rec_parse(rep->element[1], rec);
    }
    if (rep)
        freeReplyObject(rep);
    if (applied)
        *applied = ok;
    if (st == CC_OK && ok)
        publish(cr, rec);
    return st;
}

enum cc_status calls_offered(struct call_router *cr, const char *id, const char *agent,
                             int64_t offered_ms, int *applied)
{
    char kcall[160], kagent[160], at[24];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    struct call_rec rec;
    int ok = 0;
    snprintf(kcall, sizeof kcall, KEY_CALL, cc_tag(), id);
    snprintf(kagent, sizeof kagent, KEY_CALLS_AGENT, cc_tag(), agent);
    snprintf(at, sizeof at, "%lld", (long long)offered_ms);
    const char *argv[] = {kcall, cc_key_fixed(KEY_CALLS_UNPUBLISHED), kagent, id, at, agent};
    enum cc_status st = cc_redis_acquire(cr->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &offered_script, &rep, 3, 6, argv, NULL);
    cc_redis_release(cr->redis, c);
    if (st == CC_OK && rep->type == REDIS_REPLY_NIL)
        st = CC_ERR_NOT_FOUND;
    else if (st == CC_OK && (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK && (ok = rep->element[0]->integer == 1 && rep->elements == 2))
        rec_parse(rep->element[1], &rec);
    if (rep)
        freeReplyObject(rep);
    if (applied)
        *applied = ok;
    if (st == CC_OK && ok)
        publish(cr, &rec);
    return st;
}

/* Version `rec` went to RECORDS: the record leaves the unpublished set
 * unless a newer version came meanwhile. */
static void published(struct call_router *cr, const struct call_rec *rec)
{
    struct cc_redis_conn *c;
    redisReply *done = NULL;
    char key[160], ver[24];
    snprintf(key, sizeof key, KEY_CALL, cc_tag(), rec->id);
    snprintf(ver, sizeof ver, "%lld", (long long)rec->version);
    const char *argv[] = {cc_key_fixed(KEY_CALLS_UNPUBLISHED), key, rec->id, ver};
    if (cc_redis_acquire(cr->redis, &c) != CC_OK)
        return; /* the set keeps it: published again by the scan */
    (void)cc_redis_eval(c, &published_script, &done, 2, 4, argv, NULL);
    if (done)
        freeReplyObject(done);
    cc_redis_release(cr->redis, c);
}

/* Whether record `id` waits in this replica's pending versions. */
static int is_pending(struct call_router *cr, const char *id)
{
    struct pending_rec *p;
    pthread_mutex_lock(&cr->pump_lock);
    HASH_FIND_STR(cr->pending, id, p);
    pthread_mutex_unlock(&cr->pump_lock);
    return p != NULL;
}

/* The scan for versions no pending copy holds (this replica failed to
 * publish them, or a replica died before it did): publishes the latest
 * version of up to 100 unpublished records, read from Redis; returns how
 * many went out. Replicas scanning together publish a version twice at
 * worst; JetStream drops the duplicate by its message id. */
static int pump_scan(struct call_router *cr)
{
    redisReply *rep;
    int sent = 0;
    if (cc_redis_run(cr->redis, &rep, "SRANDMEMBER " KEY_CALLS_UNPUBLISHED " 100", cc_tag()) !=
        CC_OK) {
        if (rep)
            freeReplyObject(rep);
        return -1;
    }
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        struct call_rec rec;
        const char *id = rep->element[i]->str;
        if (is_pending(cr, id))
            continue;                                       /* its copy goes out next */
        if (calls_read(cr, id, &rec) == CC_ERR_NOT_FOUND) { /* expired: nothing to say */
            (void)cc_redis_do(cr->redis, "SREM " KEY_CALLS_UNPUBLISHED " %s", cc_tag(), id);
            continue;
        }
        if (records_put(cr, &rec) != CC_OK)
            break; /* NATS down: the set keeps them */
        published(cr, &rec);
        sent++;
    }
    freeReplyObject(rep);
    return sent;
}

/* Publishes the pending copies taken from the table (`list`), frees them. */
static void pump_pending(struct call_router *cr, struct pending_rec *list)
{
    struct pending_rec *p, *tmp;
    HASH_ITER(hh, list, p, tmp)
    {
        if (records_put(cr, &p->rec) == CC_OK) /* else the set keeps it for the scan */
            published(cr, &p->rec);
        HASH_DEL(list, p);
        free(p);
    }
}

/* Changed records wait COALESCE_MS for a newer version (a call's creation
 * and its first offer come within milliseconds: one version goes out), then
 * go out from their copies; every SCAN_MS the unpublished set is scanned
 * for what no copy holds. */
#define COALESCE_MS 20
#define SCAN_MS 1000

static void *pump(void *arg)
{
    struct call_router *cr = arg;
    int64_t next_scan = 0;
    pthread_mutex_lock(&cr->pump_lock);
    while (!cr->pump_stop) {
        int64_t now = cc_time_now_ms();
        int64_t due = cr->pending ? cr->pending_since + COALESCE_MS : next_scan;
        if (due > next_scan)
            due = next_scan;
        if (due > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (due - now) * 1000000LL;
            ts.tv_sec += ns / 1000000000LL, ts.tv_nsec = ns % 1000000000LL;
            pthread_cond_timedwait(&cr->pump_cond, &cr->pump_lock, &ts);
            continue;
        }
        struct pending_rec *list = NULL;
        if (cr->pending && cr->pending_since + COALESCE_MS <= now) {
            list = cr->pending;
            cr->pending = NULL, cr->pending_since = 0;
        }
        pthread_mutex_unlock(&cr->pump_lock);
        pump_pending(cr, list);
        if (now >= next_scan) {
            int sent = pump_scan(cr);
            next_scan = cc_time_now_ms() + (sent > 0 ? 0 : SCAN_MS); /* more left: at once */
        }
        pthread_mutex_lock(&cr->pump_lock);
    }
    struct pending_rec *list = cr->pending; /* what changed last goes out before the end */
    cr->pending = NULL;
    pthread_mutex_unlock(&cr->pump_lock);
    pump_pending(cr, list);
    return NULL;
}

void calls_stop(struct call_router *cr)
{
    pthread_mutex_lock(&cr->pump_lock);
    cr->stopping = 1;
    pthread_mutex_unlock(&cr->pump_lock);
}

void calls_release(struct call_router *cr)
{
    pthread_mutex_lock(&cr->pump_lock);
    cr->stopping = cr->pump_stop = 1;
    pthread_cond_signal(&cr->pump_cond);
    pthread_mutex_unlock(&cr->pump_lock);
    if (cr->pumping)
        pthread_join(cr->pump, NULL);
    cr->pumping = 0;
    struct pending_rec *p, *tmp; /* left by a pump that never started */
    HASH_ITER(hh, cr->pending, p, tmp)
    {
        HASH_DEL(cr->pending, p);
        free(p);
    }
}

enum cc_status calls_start(struct call_router *cr)
{
    enum cc_status st = cc_records_stream_ensure(cr->nats);
    if (st == CC_OK && pthread_create(&cr->pump, NULL, pump, cr) != 0)
        st = CC_ERR_INTERNAL;
    cr->pumping = st == CC_OK;
    return st;
}
