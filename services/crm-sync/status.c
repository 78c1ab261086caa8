/* status.c - the sync status admins see (GET /crm/status): the CRM's last
 * success and error, counters, the backlog of the records consumer, and
 * the records and agents given up on with their reasons. Kept in Redis so
 * every replica tells the same ({cc}:crm:status, {cc}:crm:failures,
 * {cc}:crm:failed). */
#include "crm.h"
#include "cc_log.h"
#include "cc_records.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAILURES_SHOWN 200

static void now_text(char *out, size_t cap)
{
    if (cc_time_format_ms(cc_time_now_ms(), out, cap) != 0)
        snprintf(out, cap, "?");
}

void status_success(struct crm *c, int64_t records)
{
    char at[40];
    now_text(at, sizeof at);
    if (cc_redis_do(c->redis, "HSET " KEY_CRM_STATUS " last_success_at %s", cc_tag(), at) !=
            CC_OK ||
        (records && cc_redis_do(c->redis, "HINCRBY " KEY_CRM_STATUS " records_written %lld",
                                cc_tag(), (long long)records) != CC_OK))
        CC_DEBUG("crm: status not recorded (Redis)");
}

void status_error(struct crm *c, const char *reason)
{
    char at[40];
    now_text(at, sizeof at);
    if (cc_redis_do(c->redis, "HSET " KEY_CRM_STATUS " last_error %s last_error_at %s", cc_tag(),
                    reason, at) != CC_OK)
        CC_DEBUG("crm: status not recorded (Redis)");
}

void status_agent_applied(struct crm *c)
{
    if (cc_redis_do(c->redis, "HINCRBY " KEY_CRM_STATUS " agents_applied 1", cc_tag()) != CC_OK)
        CC_DEBUG("crm: status not recorded (Redis)");
}

void status_reconciled(struct crm *c)
{
    char at[40];
    now_text(at, sizeof at);
    if (cc_redis_do(c->redis, "HSET " KEY_CRM_STATUS " last_reconcile_at %s", cc_tag(), at) !=
        CC_OK)
        CC_DEBUG("crm: status not recorded (Redis)");
}

void status_failure(struct crm *c, const char *kind, const char *id, const char *reason,
                    const uint8_t *record, size_t len)
{
    char field[192], at[40];
    snprintf(field, sizeof field, "%s:%s", kind, id);
    if (!reason) {
        if (cc_redis_do(c->redis, "HDEL " KEY_CRM_FAILURES " %s", cc_tag(), field) != CC_OK ||
            cc_redis_do(c->redis, "HDEL " KEY_CRM_FAILED " %s", cc_tag(), field) != CC_OK)
            CC_WARN("crm: failure of %s not cleared (Redis)", field);
        return;
    }
    Cc__V1__CrmFailure f = CC__V1__CRM_FAILURE__INIT;
    uint8_t buf[2048];
    now_text(at, sizeof at);
    f.kind = CC_PB_STR(kind), f.id = CC_PB_STR(id), f.reason = CC_PB_STR(reason), f.at = at;
    size_t flen = protobuf_c_message_get_packed_size(&f.base);
    if (flen > sizeof buf)
        return;
    protobuf_c_message_pack(&f.base, buf);
    if (cc_redis_do_bin(c->redis, "HSET " KEY_CRM_FAILURES " %s %b", cc_tag(), field, buf, flen) !=
            CC_OK ||
        (record && cc_redis_do_bin(c->redis, "HSET " KEY_CRM_FAILED " %s %b", cc_tag(), field,
                                   record, len) != CC_OK))
        CC_WARN("crm: failure of %s not recorded (Redis)", field);
    cc_metric_add(c->m_failures, !strcmp(kind, "agent") ? "what=\"agent\"" : "what=\"record\"", 1);
    CC_WARN("crm: %s %s failed: %s", kind, id, reason);
}

void status_refresh_backlog(struct crm *c)
{
    int64_t pending = 0;
    if (cc_nats_consumer_pending(c->nats, CC_RECORDS_STREAM, RECORDS_DURABLE, &pending) == CC_OK)
        cc_metric_set(c->m_backlog, NULL, (double)pending);
}

static int is_admin(const Cc__V1__Caller *who)
{
    return who && who->role && !strcmp(who->role, "admin");
}

/* The failures hash into out->failures (at most MAX_FAILURES_SHOWN). */
static void read_failures(struct crm *c, Cc__V1__CrmStatus *out)
{
    redisReply *r = NULL;
    if (cc_redis_run(c->redis, &r, "HVALS " KEY_CRM_FAILURES, cc_tag()) == CC_OK &&
        r->type == REDIS_REPLY_ARRAY) {
        size_t n = r->elements < MAX_FAILURES_SHOWN ? r->elements : MAX_FAILURES_SHOWN;
        out->failures = calloc(n ? n : 1, sizeof *out->failures);
        for (size_t i = 0; out->failures && i < n; i++) {
            Cc__V1__CrmFailure *f = cc__v1__crm_failure__unpack(
                NULL, r->element[i]->len, (const uint8_t *)r->element[i]->str);
            if (f)
                out->failures[out->n_failures++] = f;
        }
    }
    if (r)
        freeReplyObject(r);
}

static char *dup_elem(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING ? strdup(e->str) : NULL;
}

/* Fills `out` (free its members with status_clear). */
static void read_status(struct crm *c, Cc__V1__CrmStatus *out)
{
    redisReply *r = NULL;
    struct crm_conf *f = settings_get(c);
    out->type = strdup(f->s->type);
    settings_put(f);
    if (cc_redis_run(c->redis, &r,
                     "HMGET " KEY_CRM_STATUS " last_success_at last_error last_error_at "
                     "records_written agents_applied last_reconcile_at",
                     cc_tag()) == CC_OK &&
        r->type == REDIS_REPLY_ARRAY && r->elements == 6) {
        out->last_success_at = dup_elem(r->element[0]), out->last_error = dup_elem(r->element[1]);
        out->last_error_at = dup_elem(r->element[2]);
        out->last_reconcile_at = dup_elem(r->element[5]);
        out->has_records_written = out->has_agents_applied = 1;
        out->records_written = r->element[3]->str ? strtoll(r->element[3]->str, NULL, 10) : 0;
        out->agents_applied = r->element[4]->str ? strtoll(r->element[4]->str, NULL, 10) : 0;
    }
    if (r)
        freeReplyObject(r);
    int64_t pending = 0;
    out->has_backlog = 1;
    if (cc_nats_consumer_pending(c->nats, CC_RECORDS_STREAM, RECORDS_DURABLE, &pending) == CC_OK)
        out->backlog = pending;
    read_failures(c, out);
}

static void status_clear(Cc__V1__CrmStatus *s)
{
    free(s->type), free(s->last_success_at), free(s->last_error), free(s->last_error_at);
    free(s->last_reconcile_at);
    for (size_t i = 0; i < s->n_failures; i++)
        cc__v1__crm_failure__free_unpacked(s->failures[i], NULL);
    free(s->failures);
}

void status_answer(struct crm *c, const struct cc_nats_msg *m)
{
    Cc__V1__CrmStatus s = CC__V1__CRM_STATUS__INIT;
    read_status(c, &s);
    if (cc_nats_respond(c->nats, m, &s.base) != CC_OK)
        CC_WARN("crm: status answer not sent");
    status_clear(&s);
}

void status_on_get(void *arg, const struct cc_nats_msg *m)
{
    struct crm *c = arg;
    Cc__V1__SettingsRequest *req = cc__v1__settings_request__unpack(NULL, m->len, m->data);
    if (!req || !is_admin(req->caller))
        (void)cc_nats_respond_error(c->nats, m, req ? CC_ERR_FORBIDDEN : CC_ERR_INVALID, NULL);
    else
        status_answer(c, m);
    if (req)
        cc__v1__settings_request__free_unpacked(req, NULL);
}

enum cc_status status_failed_list(struct crm *c, char ***fields, size_t *n)
{
    redisReply *r = NULL;
    *fields = NULL, *n = 0;
    enum cc_status st = cc_redis_run(c->redis, &r, "HKEYS " KEY_CRM_FAILURES, cc_tag());
    if (st == CC_OK && r->type == REDIS_REPLY_ARRAY && r->elements) {
        *fields = calloc(r->elements, sizeof **fields);
        for (size_t i = 0; *fields && i < r->elements; i++)
            if (((*fields)[*n] = dup_elem(r->element[i])))
                (*n)++;
    }
    if (r)
        freeReplyObject(r);
    return st;
}

enum cc_status status_failed_record(struct crm *c, const char *field, uint8_t **rec, size_t *len)
{
    redisReply *r = NULL;
    *rec = NULL, *len = 0;
    enum cc_status st = cc_redis_run(c->redis, &r, "HGET " KEY_CRM_FAILED " %s", cc_tag(), field);
    if (st == CC_OK && r->type == REDIS_REPLY_STRING && (*rec = malloc(r->len + 1)))
        memcpy(*rec, r->str, r->len), *len = r->len;
    else if (st == CC_OK)
        st = CC_ERR_NOT_FOUND;
    if (r)
        freeReplyObject(r);
    return st;
}
