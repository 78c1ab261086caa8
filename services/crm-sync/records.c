/* records.c - chat and call records out to the CRM: a durable JetStream
 * pull consumer on RECORDS shared by the replicas. A fetch is handled as a
 * batch: versions of one interaction collapse to the newest (each record
 * is the whole state), one that is not newer than the version applied is
 * skipped, and the writes go in one $batch when there are several.
 *
 * Never a duplicate: each interaction is written under a lock in Redis;
 * its CRM id is remembered ({cc}:crm:rec:<kind>:<id>) and, when it is not
 * known, looked up by the external id before anything is created; a
 * created record gets an Id derived from the interaction id, so even a
 * second create after a lost lock is refused by the CRM. Failures the CRM
 * may recover from are retried with exponential backoff (Retry-After when
 * given); a refusal (4xx) is reported in the sync status with its reason
 * and kept for a retry from the admin page. */
#include "crm.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_log.h"
#include "cc_pbjson.h"
#include "cc_records.h"
#include "cc_time.h"
#include "odata.h"
#include "recmap.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100     /* messages fetched at once = at most one $batch */
#define LOCK_MS 30000 /* as long as a batch may take (ACK_WAIT_MS) */
#define ACK_WAIT_MS 30000
#define LOOKUP_CHUNK 15 /* external ids per lookup filter */
#define REC_TTL_S (90 * 86400)
#define BACKOFF_MAX_MS 60000

extern const char unlock_lua[];
static struct cc_redis_script unlock_script = CC_REDIS_SCRIPT("unlock", unlock_lua);

enum item_state { IT_PENDING, IT_DONE, IT_RETRY, IT_FAILED };

/* One interaction of a batch: its newest record and what became of it. */
struct item {
    const char *kind; /* "chat" or "call" */
    char id[128];
    Cc__V1__Record *rec; /* the newest version in the batch */
    int msg;             /* the message that carried it */
    char crm_id[37];     /* known or found CRM record id; "" when none */
    char token[33];      /* the lock's token; "" when not held */
    int create;          /* 1: POSTed with crm_id as its Id */
    enum item_state state;
    int64_t retry_ms;
    char why[256];
};

struct batch {
    struct crm *c;
    struct crm_conf *conf;
    struct item *items;
    int n;
};

static int valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n < 100 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-.:") == n;
}

/* The record of message `m`, checked; NULL when unreadable. */
static Cc__V1__Record *read_record(const struct cc_nats_msg *m)
{
    Cc__V1__Record *r = cc__v1__record__unpack(NULL, m->len, m->data);
    if (r && r->kind && valid_id(r->id) && r->has_version &&
        ((!strcmp(r->kind, "chat") && r->chat) || (!strcmp(r->kind, "call") && r->call)))
        return r;
    if (r)
        cc__v1__record__free_unpacked(r, NULL);
    return NULL;
}

/* Groups the messages by interaction, keeping the newest record of each. */
static int group(struct batch *b, const struct cc_nats_msg *msgs, int n, int *item_of,
                 enum cc_nats_verdict *verdicts)
{
    for (int i = 0; i < n; i++) {
        Cc__V1__Record *r = read_record(&msgs[i]);
        item_of[i] = -1;
        if (!r) {
            CC_ERROR("crm: unreadable record on %s dropped", msgs[i].subject);
            verdicts[i] = CC_NATS_TERM;
            continue;
        }
        int k = 0;
        while (k < b->n && (strcmp(b->items[k].id, r->id) || strcmp(b->items[k].kind, r->kind)))
            k++;
        struct item *it = &b->items[k];
        if (k == b->n) {
            memset(it, 0, sizeof *it);
            it->kind = !strcmp(r->kind, "chat") ? "chat" : "call";
            snprintf(it->id, sizeof it->id, "%s", r->id);
            b->n++;
        }
        item_of[i] = k;
        if (!it->rec || it->rec->version < r->version) {
            if (it->rec)
                cc__v1__record__free_unpacked(it->rec, NULL);
            it->rec = r, it->msg = i;
        } else {
            cc__v1__record__free_unpacked(r, NULL);
        }
    }
    return b->n;
}

static void settle(struct item *it, enum item_state st, int64_t retry_ms, const char *why)
{
    it->state = st, it->retry_ms = retry_ms;
    snprintf(it->why, sizeof it->why, "%s", why ? why : "");
}

/* Takes the interaction's lock and reads what was applied; settles the
 * item when there is nothing to do or someone else is writing it. */
static void prepare(struct batch *b, struct item *it)
{
    unsigned char raw[16];
    redisReply *r = NULL;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(it->token, sizeof it->token, raw, sizeof raw);
    if (cc_redis_run(b->c->redis, &r, "SET " KEY_CRM_LOCK " %s NX PX %d", cc_tag(), it->kind,
                     it->id, it->token, LOCK_MS) != CC_OK ||
        r->type != REDIS_REPLY_STATUS) {
        it->token[0] = 0;
        settle(it, IT_RETRY, 500, "being written by another replica");
        goto out;
    }
    freeReplyObject(r), r = NULL;
    if (cc_redis_run(b->c->redis, &r, "HMGET " KEY_CRM_REC " crm_id version", cc_tag(), it->kind,
                     it->id) != CC_OK ||
        r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        settle(it, IT_RETRY, 1000, "Redis unavailable");
        goto out;
    }
    if (r->element[1]->type == REDIS_REPLY_STRING &&
        strtoll(r->element[1]->str, NULL, 10) >= it->rec->version) {
        settle(it, IT_DONE, 0, NULL); /* this version or a newer one is in the CRM already */
        goto out;
    }
    if (r->element[0]->type == REDIS_REPLY_STRING && odata_guid_valid(r->element[0]->str))
        snprintf(it->crm_id, sizeof it->crm_id, "%s", r->element[0]->str);
out:
    if (r)
        freeReplyObject(r);
}

static void unlock(struct batch *b, struct item *it)
{
    struct cc_redis_conn *conn = NULL;
    redisReply *r = NULL;
    char key[192];
    const char *argv[] = {key, it->token};
    if (!it->token[0])
        return;
    snprintf(key, sizeof key, KEY_CRM_LOCK, cc_tag(), it->kind, it->id);
    if (cc_redis_acquire(b->c->redis, &conn) == CC_OK) {
        if (cc_redis_eval(conn, &unlock_script, &r, 1, 2, argv, NULL) != CC_OK)
            CC_DEBUG("crm: lock of %s not released; it expires", it->id);
        if (r)
            freeReplyObject(r);
        cc_redis_release(b->c->redis, conn);
    }
}

/* Remembers that `it` is in the CRM at its version. */
static void applied(struct batch *b, struct item *it)
{
    if (cc_redis_do(b->c->redis, "HSET " KEY_CRM_REC " crm_id %s version %lld", cc_tag(), it->kind,
                    it->id, it->crm_id, (long long)it->rec->version) != CC_OK ||
        cc_redis_do(b->c->redis, "EXPIRE " KEY_CRM_REC " %d", cc_tag(), it->kind, it->id,
                    REC_TTL_S) != CC_OK)
        CC_WARN("crm: %s %s written but not remembered; the next version looks it up", it->kind,
                it->id);
    settle(it, IT_DONE, 0, NULL);
    int64_t at;
    if (it->rec->changed_at && cc_time_parse_ms(it->rec->changed_at, &at) == 0)
        cc_metric_observe(b->c->m_lag, NULL, (double)(cc_time_now_ms() - at) / 1000.0);
}

/* The name of result `id` from agent-registry (the CRM shows names); NULL
 * when it cannot be read now (the id is written then). */
static char *result_name(struct crm *c, const char *id)
{
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller self = CC__V1__CALLER__INIT;
    ProtobufCMessage *rep = NULL;
    char *name = NULL;
    if (!id || !id[0])
        return NULL;
    self.user_id = CC_PB_STR("crm-sync"), self.role = CC_PB_STR("admin");
    self.has_service = 1, self.service = 1;
    req.caller = &self, req.id = CC_PB_STR(id);
    if (cc_nats_request(c->nats, SUBJ_REGISTRY_RESULTS_GET, &req.base,
                        &cc__v1__object_reply__descriptor, 3000, &rep, NULL, 0) == CC_OK) {
        const Cc__V1__ObjectReply * or = (const Cc__V1__ObjectReply *)rep;
        Cc__V1__Result *res =
            or->has_body ? cc__v1__result__unpack(NULL, or->body.len, or->body.data) : NULL;
        if (res && res->name)
            name = strdup(res->name);
        if (res)
            cc__v1__result__free_unpacked(res, NULL);
    }
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return name ? name : strdup(id);
}

/* The CRM fields of item `it` (a new object; NULL when out of memory). */
static cJSON *fields(struct batch *b, struct item *it)
{
    cJSON *o = cJSON_CreateObject();
    const Cc__V1__Record *r = it->rec;
    char *res = result_name(b->c, r->chat ? r->chat->result_id : r->call->result_id);
    enum cc_status st = !o        ? CC_ERR_NOMEM
                        : r->chat ? recmap_chat(&b->conf->names, r->chat, res, o)
                                  : recmap_call(&b->conf->names, r->call, res, o);
    free(res);
    if (st == CC_OK && it->create && !cJSON_AddStringToObject(o, "Id", it->crm_id))
        st = CC_ERR_NOMEM;
    if (st != CC_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static const char *object_of(const struct batch *b, const struct item *it)
{
    return CRM_NAME(b->conf, it->rec->chat ? N_CHAT_OBJECT : N_CALL_OBJECT);
}

static const char *external_of(const struct batch *b, const struct item *it)
{
    return CRM_NAME(b->conf, it->rec->chat ? N_CHAT_EXTERNAL_ID : N_CALL_EXTERNAL_ID);
}

static int64_t backoff(const struct cc_nats_msg *m, int64_t retry_after_ms)
{
    int d = m->delivered > 1 ? m->delivered - 1 : 0;
    int64_t ms = d > 6 ? BACKOFF_MAX_MS : 1000LL << d;
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    return retry_after_ms > ms ? retry_after_ms : ms;
}

/* Looks up by external id the CRM ids of items [from, to) of one kind
 * that have none remembered. */
static enum cc_status lookup_chunk(struct batch *b, struct item **its, int n,
                                   struct creatio_answer *a)
{
    struct cc_buf path = CC_BUF_INIT, filter = CC_BUF_INIT;
    const char *obj = object_of(b, its[0]), *ext = external_of(b, its[0]);
    cJSON *rows = NULL, *row;
    enum cc_status st = CC_ERR_NOMEM;
    char sel[160];
    for (int i = 0; i < n; i++)
        if ((i && cc_buf_adds(&filter, " or ") != CC_OK) ||
            cc_buf_addf(&filter, "%s eq ", ext) != CC_OK ||
            odata_quote(&filter, its[i]->id) != CC_OK)
            goto out;
    snprintf(sel, sizeof sel, "Id,%s", ext);
    if (cc_buf_adds(&path, obj) != CC_OK || odata_query(&path, "$filter", filter.data) != CC_OK ||
        odata_query(&path, "$select", sel) != CC_OK)
        goto out;
    if ((st = creatio_list(b->conf->creatio, path.data, 0, 1000, &rows, a)) != CC_OK)
        goto out;
    cJSON_ArrayForEach(row, rows)
    {
        const char *id = odata_guid(row, "Id"), *x = odata_str(row, ext, 127);
        for (int i = 0; id && x && i < n; i++)
            if (!strcmp(its[i]->id, x) && !its[i]->crm_id[0])
                snprintf(its[i]->crm_id, sizeof its[i]->crm_id, "%s", id);
    }
out:
    cJSON_Delete(rows);
    cc_buf_release(&path);
    cc_buf_release(&filter);
    return st;
}

/* Finds the CRM ids not remembered; items whose lookup failed are settled
 * for a retry. */
static void lookup(struct batch *b, const struct cc_nats_msg *msgs)
{
    static const char *kinds[] = {"chat", "call"};
    for (int k = 0; k < 2; k++) {
        struct item *its[LOOKUP_CHUNK];
        int n = 0;
        for (int i = 0; i <= b->n; i++) {
            struct item *it = i < b->n ? &b->items[i] : NULL;
            if (it && it->state == IT_PENDING && !it->crm_id[0] && !strcmp(it->kind, kinds[k]))
                its[n++] = it;
            if (n == 0 || (n < LOOKUP_CHUNK && it))
                continue;
            struct creatio_answer a = {0};
            if (lookup_chunk(b, its, n, &a) != CC_OK)
                for (int j = 0; j < n; j++)
                    settle(its[j], IT_RETRY, backoff(&msgs[its[j]->msg], a.retry_after_ms),
                           a.error[0] ? a.error : "lookup failed");
            creatio_answer_release(&a);
            n = 0;
        }
    }
}

/* What the CRM answered for item `it`: status and the entity (may be NULL). */
static void outcome(struct batch *b, struct item *it, const struct cc_nats_msg *msgs, long status,
                    const cJSON *body, const char *error, int64_t retry_after_ms)
{
    char why[256];
    if (status >= 200 && status < 300) {
        const char *id = odata_guid(body, "Id");
        if (id && !it->create)
            snprintf(it->crm_id, sizeof it->crm_id, "%s", id);
        applied(b, it);
        return;
    }
    snprintf(why, sizeof why, "%s %s: %s", status ? "HTTP" : "", object_of(b, it),
             error && error[0] ? error : "no answer");
    if (status ? (status == 404 && !it->create) : 0) {
        /* the record was deleted in the CRM: forget it, look up or create again */
        (void)cc_redis_do(b->c->redis, "HDEL " KEY_CRM_REC " crm_id", cc_tag(), it->kind, it->id);
        settle(it, IT_RETRY, 200, why);
    } else if (status >= 400 && status < 500 && status != 401 && status != 408 && status != 429) {
        settle(it, IT_FAILED, 0, why);
    } else {
        settle(it, IT_RETRY, backoff(&msgs[it->msg], retry_after_ms), why);
    }
}

/* One write of item `it` on its own. */
static void write_one(struct batch *b, struct item *it, const struct cc_nats_msg *msgs)
{
    char path[256];
    cJSON *body = fields(b, it), *ans = NULL;
    struct creatio_answer a = {0};
    if (!body) {
        settle(it, IT_RETRY, 1000, "out of memory");
        return;
    }
    if (it->create)
        snprintf(path, sizeof path, "%s", object_of(b, it));
    else
        snprintf(path, sizeof path, "%s(%s)", object_of(b, it), it->crm_id);
    /* the answer says what happened, whatever the status */
    if (creatio_send(b->conf->creatio, it->create ? "POST" : "PATCH", path, body, &ans, &a) !=
        CC_OK)
        CC_DEBUG("crm: %s %s: %s", it->kind, it->id, a.error);
    outcome(b, it, msgs, a.status, ans, a.error, a.retry_after_ms);
    cJSON_Delete(ans);
    cJSON_Delete(body);
    creatio_answer_release(&a);
}

/* Writes up to ODATA_BATCH_MAX items in one $batch. */
static void write_batch(struct batch *b, struct item **its, int n, const struct cc_nats_msg *msgs)
{
    struct odata_op ops[ODATA_BATCH_MAX];
    cJSON *bodies[ODATA_BATCH_MAX] = {0}, *rb[ODATA_BATCH_MAX], *root = NULL;
    char urls[ODATA_BATCH_MAX][160];
    long status[ODATA_BATCH_MAX];
    struct creatio_answer a = {0};
    char *text = NULL;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        ok = (bodies[i] = fields(b, its[i])) != NULL;
        if (its[i]->create)
            snprintf(urls[i], sizeof urls[i], "%s", object_of(b, its[i]));
        else
            snprintf(urls[i], sizeof urls[i], "%s(%s)", object_of(b, its[i]), its[i]->crm_id);
        ops[i] = (struct odata_op){its[i]->create ? "POST" : "PATCH", urls[i], bodies[i]};
    }
    if (ok && (text = odata_batch_body(ops, n)) &&
        creatio_request(b->conf->creatio, "POST", "$batch", text, "Prefer: continue-on-error",
                        &a) == CC_OK &&
        a.status == 200 && odata_batch_parse(a.body, a.len, n, status, rb, &root) == CC_OK) {
        for (int i = 0; i < n; i++) {
            char err[256] = "not processed";
            if (status[i] >= 400) {
                char *t = cJSON_PrintUnformatted(rb[i]);
                odata_error_message(t, t ? strlen(t) : 0, err, sizeof err);
                free(t);
            }
            outcome(b, its[i], msgs, status[i], rb[i], err, 0);
        }
    } else {
        const char *why = !ok || !text ? "out of memory"
                          : a.error[0] ? a.error
                                       : "bad $batch answer";
        for (int i = 0; i < n; i++)
            outcome(b, its[i], msgs, a.status == 200 ? 500 : a.status, NULL, why, a.retry_after_ms);
    }
    cJSON_Delete(root);
    free(text);
    for (int i = 0; i < n; i++)
        cJSON_Delete(bodies[i]);
    creatio_answer_release(&a);
}

static void write_creatio(struct batch *b, const struct cc_nats_msg *msgs)
{
    struct item *its[ODATA_BATCH_MAX];
    int n = 0;
    lookup(b, msgs);
    for (int i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->state != IT_PENDING)
            continue;
        if (!it->crm_id[0]) {
            recmap_guid(it->kind, it->id, it->crm_id);
            it->create = 1;
        }
        its[n++] = it;
    }
    if (n == 1)
        write_one(b, its[0], msgs);
    else if (n > 1)
        write_batch(b, its, n, msgs);
}

/* The generic adapter: one signed POST per interaction. */
static void write_webhook(struct batch *b, const struct cc_nats_msg *msgs)
{
    for (int i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        char why[256] = "", *text = NULL;
        if (it->state != IT_PENDING)
            continue;
        cJSON *ev = cJSON_CreateObject(), *rec = cc_pbjson_to_json(&it->rec->base, 0);
        enum cc_status st = CC_ERR_NOMEM;
        if (ev && rec && cJSON_AddStringToObject(ev, "event", "record") &&
            cJSON_AddItemToObject(ev, "record", rec) &&
            (rec = NULL, text = cJSON_PrintUnformatted(ev)))
            st = webhook_post(b->conf, "record", text, NULL, why, sizeof why);
        if (st == CC_OK) {
            it->crm_id[0] = 0;
            applied(b, it);
        } else {
            settle(it, st == CC_ERR_INVALID ? IT_FAILED : IT_RETRY, backoff(&msgs[it->msg], 0),
                   why[0] ? why : cc_status_str(st));
        }
        free(text);
        cJSON_Delete(rec);
        cJSON_Delete(ev);
    }
}

/* Reports the batch: status, metrics, failures kept for a retry. */
static void report(struct batch *b)
{
    int64_t done = 0;
    const char *err = NULL;
    for (int i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->state == IT_DONE) {
            done++;
            status_failure(b->c, it->kind, it->id, NULL, NULL, 0);
        } else if (it->state == IT_FAILED) {
            size_t len = protobuf_c_message_get_packed_size(&it->rec->base);
            uint8_t *buf = malloc(len + 1);
            if (buf)
                protobuf_c_message_pack(&it->rec->base, buf);
            status_failure(b->c, it->kind, it->id, it->why, buf, buf ? len : 0);
            free(buf);
            err = it->why;
        } else if (it->state == IT_RETRY && strcmp(it->why, "being written by another replica")) {
            err = it->why;
            CC_INFO("crm: %s %s v%lld again in %lld ms: %s", it->kind, it->id,
                    (long long)it->rec->version, (long long)it->retry_ms, it->why);
        }
    }
    if (done) {
        status_success(b->c, done);
        cc_metric_add(b->c->m_records, "result=\"written\"", (double)done);
    }
    if (err)
        status_error(b->c, err);
}

static void on_batch(void *arg, const struct cc_nats_msg *msgs, int n,
                     enum cc_nats_verdict *verdicts, int64_t *retry_ms)
{
    struct item items[BATCH];
    int item_of[BATCH];
    struct batch b = {arg, settings_get(arg), items, 0};
    n = n > BATCH ? BATCH : n;
    group(&b, msgs, n, item_of, verdicts);
    for (int i = 0; i < b.n; i++)
        if (b.conf->type == CRM_NONE)
            settle(&items[i], IT_DONE, 0, NULL); /* no CRM: records are not kept for one */
        else
            prepare(&b, &items[i]);
    if (b.conf->type == CRM_CREATIO)
        write_creatio(&b, msgs);
    else if (b.conf->type == CRM_WEBHOOK)
        write_webhook(&b, msgs);
    if (b.conf->type != CRM_NONE)
        report(&b);
    for (int i = 0; i < n; i++) {
        const struct item *it = item_of[i] >= 0 ? &items[item_of[i]] : NULL;
        if (!it)
            continue;
        /* older versions collapsed into the newest are done with it */
        verdicts[i] = it->msg != i || it->state == IT_DONE ? CC_NATS_ACK
                      : it->state == IT_FAILED             ? CC_NATS_TERM
                                                           : CC_NATS_RETRY;
        retry_ms[i] = it->retry_ms > 0 ? it->retry_ms : 1000;
    }
    for (int i = 0; i < b.n; i++) {
        unlock(&b, &items[i]);
        cc__v1__record__free_unpacked(items[i].rec, NULL);
    }
    settings_put(b.conf);
}

enum cc_status records_start(struct crm *c)
{
    /* A batch unacknowledged for ACK_WAIT_MS is given to another replica (its
     * own is gone); should a slow CRM make a live one take longer, the lock
     * and the version check keep the two from writing twice. */
    static const struct cc_nats_consumer consumer = {
        CC_RECORDS_STREAM, CC_RECORDS_SUBJECTS, RECORDS_DURABLE, ACK_WAIT_MS, -1, BATCH};
    enum cc_status st = cc_records_stream_ensure(c->nats);
    if (st == CC_OK)
        st = cc_nats_consume_batch(c->nats, &consumer, on_batch, c);
    return st;
}
