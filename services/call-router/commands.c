/* commands.c - what the engine asks of the PBX (supervision now; dialing
 * callbacks next): each command is a Redis hash queued for the PBX, which
 * fetches them with a long-poll (GET /pbx/v1/commands, parked like route
 * long-polls) and reports each result (POST /pbx/v1/commands/{id}/result).
 * A fetched command is leased: one whose result never comes is handed out
 * again, up to CMD_ATTEMPTS times, then failed. PBX-neutral: any PBX that
 * polls and reports can run them.
 *
 * Keys: {cc}:pbx:cmd:<id> (type, state pending|leased|done|failed, attempts,
 * created, reason, and the type's fields), {cc}:pbx:cmd:queue (ids waiting),
 * {cc}:pbx:cmd:leased (ids by lease expiry). */
#include "callrouter.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char cmd_claim_lua[];
static struct cc_redis_script claim_script = CC_REDIS_SCRIPT("cmd_claim", cmd_claim_lua);

#define CMD_LEASE_MS 30000
#define CMD_ATTEMPTS 3
#define CMD_BATCH 20
#define CMD_TTL_S (7 * 86400)
#define WAITER_ID "pbx:commands" /* the one parking place of command long-polls */

/* Fields only the engine keeps: not sent to the PBX. */
static int internal(const char *f)
{
    return !strcmp(f, "state") || !strcmp(f, "attempts") || !strcmp(f, "reason");
}

enum cc_status commands_push(struct call_router *cr, const char *type, const char *const *fields,
                             int n, char *id, size_t cap)
{
    unsigned char raw[12];
    char hex[25], created[24];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(id, cap, "cmd_%s", hex);
    snprintf(created, sizeof created, "%lld", (long long)cc_time_now_ms());
    const char *argv[48];
    char key[128];
    snprintf(key, sizeof key, KEY_PBX_CMD, cc_tag(), id);
    int argc = 0;
    argv[argc++] = "HSET", argv[argc++] = key, argv[argc++] = "command_id", argv[argc++] = id;
    argv[argc++] = "type", argv[argc++] = type, argv[argc++] = "state", argv[argc++] = "pending";
    argv[argc++] = "attempts", argv[argc++] = "0", argv[argc++] = "created", argv[argc++] = created;
    for (int i = 0; i + 1 < n && argc + 2 <= 48; i += 2)
        argv[argc++] = fields[i], argv[argc++] = fields[i + 1];
    enum cc_status st = cc_redis_acquire(cr->redis, &c);
    if (st != CC_OK)
        return st;
    const char *expire[] = {"EXPIRE", key, "604800"};
    const char *push[] = {"RPUSH", cc_key_fixed(KEY_PBX_CMD_QUEUE), id};
    if ((st = cc_redis_cmdv(c, &rep, argc, argv, NULL)) == CC_OK) {
        freeReplyObject(rep), rep = NULL;
        if ((st = cc_redis_cmdv(c, &rep, 3, expire, NULL)) == CC_OK)
            freeReplyObject(rep), rep = NULL, st = cc_redis_cmdv(c, &rep, 3, push, NULL);
    }
    if (rep)
        freeReplyObject(rep);
    cc_redis_release(cr->redis, c);
    if (st == CC_OK) {
        Cc__V1__CallChanged w = CC__V1__CALL_CHANGED__INIT;
        if (cc_nats_publish(cr->nats, SUBJ_PBX_COMMANDS, &w.base) != CC_OK)
            waiters_wake(cr->cmd_waiters, WAITER_ID);
    }
    return st;
}

/* Claims queued commands into a JSON answer; 0 when there are none. */
static int claim(struct call_router *cr, struct cc_http_resp *resp)
{
    char now[24], lease[16], batch[8], attempts[8];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    snprintf(now, sizeof now, "%lld", (long long)cc_time_now_ms());
    snprintf(lease, sizeof lease, "%d", CMD_LEASE_MS);
    snprintf(batch, sizeof batch, "%d", CMD_BATCH);
    snprintf(attempts, sizeof attempts, "%d", CMD_ATTEMPTS);
    char pcmd[64];
    cc_key_prefix(pcmd, sizeof pcmd, KEY_PBX_CMD);
    const char *argv[] = {cc_key_fixed(KEY_PBX_CMD_QUEUE),
                          cc_key_fixed(KEY_PBX_CMD_LEASED),
                          now,
                          lease,
                          batch,
                          attempts,
                          pcmd};
    if (cc_redis_acquire(cr->redis, &c) != CC_OK) {
        cc_http_error(resp, CC_ERR_UNAVAILABLE, NULL);
        return 1;
    }
    enum cc_status st = cc_redis_eval(c, &claim_script, &rep, 2, 7, argv, NULL);
    cc_redis_release(cr->redis, c);
    if (st != CC_OK || rep->type != REDIS_REPLY_ARRAY) {
        if (rep)
            freeReplyObject(rep);
        cc_http_error(resp, st != CC_OK ? st : CC_ERR_INTERNAL, NULL);
        return 1;
    }
    int n = (int)rep->elements;
    if (n > 0) {
        cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "commands");
        for (int i = 0; i < n; i++) {
            const redisReply *h = rep->element[i];
            cJSON *cmd = cJSON_CreateObject();
            for (size_t k = 0; h->type == REDIS_REPLY_ARRAY && k + 1 < h->elements; k += 2)
                if (!internal(h->element[k]->str))
                    cJSON_AddStringToObject(cmd, h->element[k]->str, h->element[k + 1]->str);
            cJSON_AddItemToArray(list, cmd);
        }
        cc_http_json(resp, 200, body);
    }
    freeReplyObject(rep);
    return n > 0;
}

/* A parked command long-poll looks again. */
static void on_waiter(struct call_router *cr, struct cc_http_deferred *d, const char *id,
                      int64_t deadline_ms, int timed_out)
{
    struct cc_http_resp resp = {0};
    if (claim(cr, &resp)) {
        cc_http_resume(d, &resp);
        return;
    }
    if (!timed_out && !cr->stopping && cc_time_now_ms() < deadline_ms &&
        waiters_add(cr->cmd_waiters, id, d, deadline_ms) == CC_OK)
        return;
    cc_http_empty(&resp, 204);
    cc_http_resume(d, &resp);
}

void commands_fetch(struct call_router *cr, struct cc_http_req *req, int64_t wait_s,
                    struct cc_http_resp *resp)
{
    if (claim(cr, resp))
        return;
    struct cc_http_deferred *d = wait_s > 0 ? cc_http_defer(req) : NULL;
    if (!d)
        return cc_http_empty(resp, 204);
    if (waiters_add(cr->cmd_waiters, WAITER_ID, d, cc_time_now_ms() + wait_s * 1000) != CC_OK) {
        struct cc_http_resp busy = {0};
        cc_http_error(&busy, CC_ERR_NOMEM, NULL);
        return cc_http_resume(d, &busy);
    }
    waiters_wake(cr->cmd_waiters, WAITER_ID); /* a command queued meanwhile */
}

enum cc_status commands_result(struct call_router *cr, const char *id, int ok, const char *reason,
                               char *type, size_t cap)
{
    char key[128];
    redisReply *rep = NULL;
    snprintf(key, sizeof key, KEY_PBX_CMD, cc_tag(), id);
    enum cc_status st = cc_redis_run(cr->redis, &rep, "HMGET %s type state", key);
    if (st == CC_OK && rep->element[0]->type != REDIS_REPLY_STRING)
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK)
        snprintf(type, cap, "%s", rep->element[0]->str);
    int settled =
        st == CC_OK && rep->element[1]->str &&
        (!strcmp(rep->element[1]->str, "done") || !strcmp(rep->element[1]->str, "failed"));
    if (rep)
        freeReplyObject(rep);
    if (st != CC_OK)
        return st;
    if (settled)
        return CC_ERR_CONFLICT; /* reported before: a repeat changes nothing */
    if ((st = cc_redis_do(cr->redis, "HSET %s state %s reason %s", key, ok ? "done" : "failed",
                          reason ? reason : "")) == CC_OK)
        st = cc_redis_do(cr->redis, "ZREM " KEY_PBX_CMD_LEASED " %s", cc_tag(), id);
    return st;
}

enum cc_status commands_field(struct call_router *cr, const char *id, const char *field, char *out,
                              size_t cap)
{
    redisReply *rep = NULL;
    enum cc_status st =
        cc_redis_run(cr->redis, &rep, "HGET " KEY_PBX_CMD " %s", cc_tag(), id, field);
    if (st == CC_OK && rep->type != REDIS_REPLY_STRING)
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK)
        snprintf(out, cap, "%s", rep->str);
    if (rep)
        freeReplyObject(rep);
    return st;
}

static void on_commands(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    (void)m;
    waiters_wake(cr->cmd_waiters, WAITER_ID);
}

enum cc_status commands_start(struct call_router *cr)
{
    enum cc_status st = waiters_new(cr, on_waiter, &cr->cmd_waiters);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_PBX_COMMANDS, NULL, on_commands, cr);
    return st;
}
