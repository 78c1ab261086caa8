/* records.c - every version of every chat into the RECORDS stream
 * (proto/cc/v1/records.proto), for crm-sync. A change of a chat bumps its
 * version and adds it to KEY_RECORDS_PENDING in the same Redis step (store.c);
 * records_publish then publishes the chat as it is, with JetStream's ack,
 * and takes it out of the set unless a newer version came meanwhile. When a
 * publish fails (NATS down, slow), a sweeper on every replica publishes the
 * pending chats again: JetStream drops a duplicate "<id>:<version>" and
 * crm-sync applies only versions newer than the last it applied. */
#include "chatgw.h"
#include "cc/v1/records.pb-c.h"
#include "cc_log.h"
#include "cc_records.h"
#include "cc_time.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUBLISH_TIMEOUT_MS 1000 /* an agent's action waits at most this for JetStream */
#define SWEEP_MS 1000           /* the sweeper's period, and how old a pending chat must be */
#define SWEEP_BATCH 200

extern const char records_done_lua[];
static struct cc_redis_script done_script = CC_REDIS_SCRIPT("records_done", records_done_lua);

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

/* Takes chat `id` out of the pending set unless a version newer than `version` waits. */
static enum cc_status mark_done(struct chatgw *g, const char *id, int64_t version)
{
    char key[160], ver[24];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    snprintf(key, sizeof key, KEY_CHAT, cc_tag(), id);
    snprintf(ver, sizeof ver, "%lld", (long long)version);
    const char *argv[] = {key, cc_key_fixed(KEY_RECORDS_PENDING), id, ver};
    size_t lens[] = {strlen(key), strlen(cc_key_fixed(KEY_RECORDS_PENDING)), strlen(id),
                     strlen(ver)};
    enum cc_status st = cc_redis_acquire(g->redis, &c);
    if (st == CC_OK) {
        st = cc_redis_eval(c, &done_script, &rep, 2, 4, argv, lens);
        cc_redis_release(g->redis, c);
    }
    free_reply(rep);
    return st;
}

/* Packs chat `ch` at version `v` as a Record into a malloc'ed buffer. */
static uint8_t *pack_record(Cc__V1__Chat *ch, const struct chat_version *v, size_t *len)
{
    Cc__V1__Record rec = CC__V1__RECORD__INIT;
    char changed[32] = "";
    if (v->changed_ms > 0)
        cc_time_format_ms(v->changed_ms, changed, sizeof changed);
    rec.kind = CC_PB_STR("chat"), rec.id = ch->id, rec.chat = ch;
    rec.has_version = 1, rec.version = v->version;
    rec.changed_at = changed[0] ? changed : NULL;
    *len = protobuf_c_message_get_packed_size(&rec.base);
    uint8_t *buf = malloc(*len + 1);
    if (buf)
        protobuf_c_message_pack(&rec.base, buf);
    return buf;
}

enum cc_status records_publish(struct chatgw *g, const char *id)
{
    Cc__V1__Chat *ch = NULL;
    struct chat_version v;
    char subject[128], msg_id[128];
    size_t len = 0;
    uint8_t *buf = NULL;
    enum cc_status st = store_chat_version(g, id, &ch, &v);
    if (st == CC_ERR_NOT_FOUND) /* gone: nothing to publish any more */
        return cc_redis_do(g->redis, "ZREM " KEY_RECORDS_PENDING " %s", cc_tag(), id);
    if (st != CC_OK)
        return st;
    if (v.version <= 0) { /* stored before versions existed: nothing pending for it */
        st = mark_done(g, id, 0);
        goto out;
    }
    if (!(buf = pack_record(ch, &v, &len))) {
        st = CC_ERR_NOMEM;
        goto out;
    }
    snprintf(subject, sizeof subject, SUBJ_RECORDS_CHAT, id);
    snprintf(msg_id, sizeof msg_id, "%s:%lld", id, (long long)v.version);
    st = cc_nats_js_publish(g->nats, subject, buf, len, msg_id, PUBLISH_TIMEOUT_MS, NULL);
    if (st == CC_OK)
        st = mark_done(g, id, v.version);
    else
        CC_WARN("records: chat %s version %lld not published yet: %s", id, (long long)v.version,
                cc_status_str(st));
out:
    free(buf);
    cc__v1__chat__free_unpacked(ch, NULL);
    return st;
}

enum cc_status records_chat_set(struct chatgw *g, const char *id, const char *const *pairs,
                                size_t npairs)
{
    enum cc_status st = store_chat_set(g, id, pairs, npairs);
    if (st == CC_OK)
        records_publish(g, id); /* on failure the sweeper publishes it */
    return st;
}

/* Publishes the chats pending for longer than SWEEP_MS (their own publish
 * failed or its replica died); the oldest first. */
static void sweep(struct chatgw *g)
{
    redisReply *due = NULL;
    if (cc_redis_run(g->redis, &due, "ZRANGEBYSCORE " KEY_RECORDS_PENDING " -inf %lld LIMIT 0 %d",
                     cc_tag(), (long long)cc_time_now_ms() - SWEEP_MS, SWEEP_BATCH) != CC_OK) {
        free_reply(due);
        return;
    }
    for (size_t i = 0; i < due->elements && !__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE); i++)
        if (records_publish(g, due->element[i]->str) != CC_OK)
            break; /* NATS or Redis is down: try again next round */
    free_reply(due);
}

static void *sweeper(void *arg)
{
    struct chatgw *g = arg;
    while (!__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE)) {
        sweep(g);
        chats_sweep_accepts(g);
        for (int i = 0; i < SWEEP_MS / 50 && !__atomic_load_n(&g->stopping, __ATOMIC_ACQUIRE); i++)
            usleep(50 * 1000);
    }
    return NULL;
}

enum cc_status records_start(struct chatgw *g)
{
    enum cc_status st = cc_records_stream_ensure(g->nats);
    if (st == CC_OK && pthread_create(&g->records_sweeper, NULL, sweeper, g) != 0)
        st = CC_ERR_NOMEM;
    g->records_sweeping = st == CC_OK;
    return st;
}

void records_stop(struct chatgw *g)
{
    __atomic_store_n(&g->stopping, 1, __ATOMIC_RELEASE);
    if (g->records_sweeping)
        pthread_join(g->records_sweeper, NULL);
    g->records_sweeping = 0;
}
