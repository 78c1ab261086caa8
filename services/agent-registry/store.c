/* store.c - generic object storage for agent-registry on Redis. */
#include "store.h"
#include "cc_config.h"
#include "cc_log.h"
#include "cc_keys.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOCK_TTL_MS "5000"
#define LOCK_WAIT_MS 3000
#define PAGE_BATCH 100

static struct cc_redis_script unlock_script = CC_REDIS_SCRIPT(
    "unlock", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
              "end return 0");

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

enum cc_status store_lock(struct cc_redis *r, struct store_lock *lk)
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(lk->token, sizeof lk->token, raw, sizeof raw);
    for (int waited = 0; waited < LOCK_WAIT_MS; waited += 2) {
        redisReply *rep;
        enum cc_status st = cc_redis_run(r, &rep, "SET " KEY_LOCK_CONFIG " %s NX PX %s", cc_tag(),
                                         lk->token, LOCK_TTL_MS);
        int got = st == CC_OK && rep->type == REDIS_REPLY_STATUS;
        free_reply(rep);
        if (st != CC_OK)
            return CC_ERR_UNAVAILABLE;
        if (got)
            return CC_OK;
        usleep(2000);
    }
    return CC_ERR_TIMEOUT;
}

void store_unlock(struct cc_redis *r, const struct store_lock *lk)
{
    struct cc_redis_conn *c;
    redisReply *rep;
    char key[64];
    snprintf(key, sizeof key, KEY_LOCK_CONFIG, cc_tag());
    const char *argv[] = {key, lk->token};
    if (cc_redis_acquire(r, &c) != CC_OK)
        return; /* the lock expires by itself */
    cc_redis_eval(c, &unlock_script, &rep, 1, 2, argv, NULL);
    free_reply(rep);
    cc_redis_release(r, c);
}

void store_new_id(const struct store_kind *k, char *out, size_t cap)
{
    unsigned char raw[8];
    char hex[17];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(out, cap, "%s_%s", k->id_prefix, hex);
}

static const ProtobufCFieldDescriptor *string_field(const ProtobufCMessageDescriptor *d,
                                                    const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    return f && f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED ? f
                                                                                           : NULL;
}

const char *store_field_str(const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f = string_field(msg->descriptor, name);
    return f ? *(char *const *)((const char *)msg + f->offset) : NULL;
}

enum cc_status store_set_str(ProtobufCMessage *msg, const char *name, const char *value)
{
    const ProtobufCFieldDescriptor *f = string_field(msg->descriptor, name);
    if (!f)
        return CC_ERR_INTERNAL;
    char **slot = (char **)((char *)msg + f->offset);
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return CC_ERR_NOMEM;
    if (*slot != f->default_value)
        free(*slot);
    *slot = copy;
    return CC_OK;
}

/* Lower-cases ASCII letters of `s` into `out` for case-insensitive indexes. */
static void fold(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static enum cc_status unpack(const struct store_kind *k, const redisReply *rep,
                             ProtobufCMessage **out)
{
    *out = protobuf_c_message_unpack(k->desc, NULL, rep->len, (const uint8_t *)rep->str);
    if (!*out) {
        CC_ERROR("store: unreadable %s record", k->name);
        return CC_ERR_INTERNAL;
    }
    return CC_OK;
}

enum cc_status store_get(struct cc_redis *r, const struct store_kind *k, const char *id,
                         ProtobufCMessage **out)
{
    redisReply *rep;
    *out = NULL;
    enum cc_status st = cc_redis_run(r, &rep, "HGET " KEY_OBJ " %s", cc_tag(), k->name, id);
    if (st == CC_OK)
        st = rep->type == REDIS_REPLY_STRING ? unpack(k, rep, out) : CC_ERR_NOT_FOUND;
    free_reply(rep);
    return st;
}

enum cc_status store_exists(struct cc_redis *r, const struct store_kind *k, const char *id)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(r, &rep, "HEXISTS " KEY_OBJ " %s", cc_tag(), k->name, id);
    if (st == CC_OK)
        st = rep->type != REDIS_REPLY_INTEGER ? CC_ERR_INTERNAL
             : rep->integer == 1              ? CC_OK
                                              : CC_ERR_NOT_FOUND;
    free_reply(rep);
    return st;
}

enum cc_status store_find_unique(struct cc_redis *r, const struct store_kind *k, const char *field,
                                 const char *value, char *id, size_t cap)
{
    char folded[512];
    redisReply *rep;
    fold(value, folded, sizeof folded);
    enum cc_status st =
        cc_redis_run(r, &rep, "HGET " KEY_UNIQ " %s", cc_tag(), k->name, field, folded);
    if (st == CC_OK && rep->type != REDIS_REPLY_STRING)
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK)
        snprintf(id, cap, "%s", rep->str);
    free_reply(rep);
    return st;
}

enum cc_status store_check_unique(struct cc_redis *r, const struct store_kind *k,
                                  const ProtobufCMessage *obj, char *why, size_t whycap)
{
    const char *self = store_field_str(obj, "id");
    char holder[128];
    for (int i = 0; i < STORE_MAX_UNIQUE && k->unique[i]; i++) {
        const char *v = store_field_str(obj, k->unique[i]);
        if (!v || !*v)
            continue;
        enum cc_status st = store_find_unique(r, k, k->unique[i], v, holder, sizeof holder);
        if (st == CC_ERR_NOT_FOUND)
            continue;
        if (st != CC_OK)
            return st;
        if (!self || strcmp(holder, self) != 0) {
            snprintf(why, whycap, "%s is already taken", k->unique[i]);
            return CC_ERR_CONFLICT;
        }
    }
    return CC_OK;
}

/* Queues the index changes of one unique field; returns commands queued. */
static int queue_index(struct cc_redis_conn *c, const struct store_kind *k, const char *field,
                       const char *id, const char *now, const char *before)
{
    char key[128], fnow[512], fbefore[512];
    int n = 0;
    snprintf(key, sizeof key, KEY_UNIQ, cc_tag(), k->name, field);
    fold(now ? now : "", fnow, sizeof fnow);
    fold(before ? before : "", fbefore, sizeof fbefore);
    if (strcmp(fnow, fbefore) == 0)
        return 0;
    if (fbefore[0]) {
        const char *argv[] = {"HDEL", key, fbefore};
        n += cc_redis_append(c, 3, argv, NULL) == CC_OK;
    }
    if (fnow[0]) {
        const char *argv[] = {"HSET", key, fnow, id};
        n += cc_redis_append(c, 4, argv, NULL) == CC_OK;
    }
    return n;
}

/* Reads `n` pipelined replies; the first failure wins. */
static enum cc_status drain_replies(struct cc_redis_conn *c, int n)
{
    enum cc_status first = CC_OK;
    for (int i = 0; i < n; i++) {
        redisReply *rep;
        enum cc_status st = cc_redis_reply(c, &rep);
        free_reply(rep);
        if (first == CC_OK && st != CC_OK)
            first = st;
        if (st == CC_ERR_UNAVAILABLE)
            break;
    }
    return first;
}

static enum cc_status next_seq(struct cc_redis_conn *c, const struct store_kind *k, char *seq,
                               size_t cap)
{
    redisReply *rep;
    enum cc_status st = cc_redis_cmd(c, &rep, "INCR " KEY_SEQ, cc_tag(), k->name);
    if (st == CC_OK)
        snprintf(seq, cap, "%lld", rep->integer);
    free_reply(rep);
    return st;
}

enum cc_status store_put(struct cc_redis *r, const struct store_kind *k,
                         const ProtobufCMessage *obj, const ProtobufCMessage *old)
{
    struct cc_redis_conn *c;
    const char *id = store_field_str(obj, "id");
    size_t len = protobuf_c_message_get_packed_size(obj);
    uint8_t *buf = malloc(len ? len : 1);
    char key[160], ord[160], seq[32];
    if (!buf || !id) {
        free(buf);
        return buf ? CC_ERR_INTERNAL : CC_ERR_NOMEM;
    }
    protobuf_c_message_pack(obj, buf);
    enum cc_status st = cc_redis_acquire(r, &c);
    if (st != CC_OK) {
        free(buf);
        return st;
    }
    if (!old)
        st = next_seq(c, k, seq, sizeof seq);
    if (st == CC_OK) {
        int n = 2;
        snprintf(key, sizeof key, KEY_OBJ, cc_tag(), k->name);
        snprintf(ord, sizeof ord, KEY_ORD, cc_tag(), k->name);
        const char *multi[] = {"MULTI"}, *hset[] = {"HSET", key, id, (const char *)buf};
        size_t hlen[] = {4, strlen(key), strlen(id), len};
        cc_redis_append(c, 1, multi, NULL);
        cc_redis_append(c, 4, hset, hlen);
        if (!old) {
            const char *zadd[] = {"ZADD", ord, seq, id};
            n += cc_redis_append(c, 4, zadd, NULL) == CC_OK;
        }
        for (int i = 0; i < STORE_MAX_UNIQUE && k->unique[i]; i++)
            n += queue_index(c, k, k->unique[i], id, store_field_str(obj, k->unique[i]),
                             old ? store_field_str(old, k->unique[i]) : NULL);
        const char *exec[] = {"EXEC"};
        cc_redis_append(c, 1, exec, NULL);
        st = drain_replies(c, n + 1);
    }
    cc_redis_release(r, c);
    free(buf);
    return st;
}

enum cc_status store_delete(struct cc_redis *r, const struct store_kind *k,
                            const ProtobufCMessage *obj)
{
    struct cc_redis_conn *c;
    const char *id = store_field_str(obj, "id");
    char key[160], ord[160];
    enum cc_status st = cc_redis_acquire(r, &c);
    if (st != CC_OK)
        return st;
    snprintf(key, sizeof key, KEY_OBJ, cc_tag(), k->name);
    snprintf(ord, sizeof ord, KEY_ORD, cc_tag(), k->name);
    const char *multi[] = {"MULTI"}, *hdel[] = {"HDEL", key, id}, *zrem[] = {"ZREM", ord, id},
               *exec[] = {"EXEC"};
    cc_redis_append(c, 1, multi, NULL);
    cc_redis_append(c, 3, hdel, NULL);
    cc_redis_append(c, 3, zrem, NULL);
    int n = 3;
    for (int i = 0; i < STORE_MAX_UNIQUE && k->unique[i]; i++)
        n += queue_index(c, k, k->unique[i], id, NULL, store_field_str(obj, k->unique[i]));
    cc_redis_append(c, 1, exec, NULL);
    st = drain_replies(c, n + 1);
    cc_redis_release(r, c);
    return st;
}

/* Reads ids with creation order after `after` and fetches their objects.
 * Calls `fn` per object until it returns non-zero. Returns the score of the
 * last object visited in *last (or leaves it), and 1 when ids remain. */
struct scan {
    const struct store_kind *k;
    int (*fn)(void *arg, ProtobufCMessage *obj, long long score); /* takes obj */
    void *arg;
};

static enum cc_status scan_batch(struct cc_redis *r, struct scan *sc, long long *after,
                                 int *done)
{
    redisReply *ids;
    enum cc_status st = cc_redis_run(r, &ids,
                                     "ZRANGEBYSCORE " KEY_ORD " (%lld +inf WITHSCORES "
                                     "LIMIT 0 %d",
                                     cc_tag(), sc->k->name, *after, PAGE_BATCH);
    if (st != CC_OK) {
        free_reply(ids);
        return st;
    }
    *done = ids->elements < 2 * PAGE_BATCH;
    for (size_t i = 0; i + 1 < ids->elements; i += 2) {
        ProtobufCMessage *obj;
        long long score = strtoll(ids->element[i + 1]->str, NULL, 10);
        *after = score;
        st = store_get(r, sc->k, ids->element[i]->str, &obj);
        if (st == CC_ERR_NOT_FOUND)
            continue; /* deleted between the two reads */
        if (st != CC_OK || sc->fn(sc->arg, obj, score)) {
            *done = 1;
            break;
        }
    }
    free_reply(ids);
    return st == CC_ERR_NOT_FOUND ? CC_OK : st;
}

struct each_ctx {
    store_each_fn fn;
    void *arg;
    int rc;
};

static int each_one(void *arg, ProtobufCMessage *obj, long long score)
{
    struct each_ctx *e = arg;
    (void)score;
    e->rc = e->fn(e->arg, obj);
    protobuf_c_message_free_unpacked(obj, NULL);
    return e->rc;
}

int store_each(struct cc_redis *r, const struct store_kind *k, store_each_fn fn, void *arg,
               enum cc_status *st)
{
    struct each_ctx e = {fn, arg, 0};
    struct scan sc = {k, each_one, &e};
    long long after = -1;
    int done = 0;
    *st = CC_OK;
    while (!done && *st == CC_OK)
        *st = scan_batch(r, &sc, &after, &done);
    return e.rc;
}

struct page_ctx {
    store_keep_fn keep;
    void *arg;
    ProtobufCMessage **items;
    size_t n, limit;
    long long last;
    int full; /* a further kept object exists beyond the page */
};

static int page_one(void *arg, ProtobufCMessage *obj, long long score)
{
    struct page_ctx *p = arg;
    if (p->keep && !p->keep(p->arg, obj)) {
        protobuf_c_message_free_unpacked(obj, NULL);
        return 0;
    }
    if (p->n == p->limit) {
        p->full = 1;
        protobuf_c_message_free_unpacked(obj, NULL);
        return 1;
    }
    p->items[p->n++] = obj;
    p->last = score;
    return 0;
}

enum cc_status store_page(struct cc_redis *r, const struct store_kind *k, const char *cursor,
                          size_t limit, store_keep_fn keep, void *arg, ProtobufCMessage ***items,
                          size_t *nitems, char **next)
{
    int64_t after = -1;
    struct page_ctx p = {keep, arg, calloc(limit ? limit : 1, sizeof(ProtobufCMessage *)), 0,
                         limit, -1, 0};
    struct scan sc = {k, page_one, &p};
    int done = 0;
    enum cc_status st = CC_OK;
    *items = NULL, *nitems = 0, *next = NULL;
    if (!p.items)
        return CC_ERR_NOMEM;
    if (cursor && *cursor && cc_parse_int(cursor, 0, INT64_MAX, &after) != 0) {
        free(p.items);
        return CC_ERR_INVALID;
    }
    long long pos = after;
    while (!done && !p.full && st == CC_OK)
        st = scan_batch(r, &sc, &pos, &done);
    if (st == CC_OK && p.full && asprintf(next, "%lld", p.last) < 0)
        st = CC_ERR_NOMEM;
    if (st != CC_OK) {
        for (size_t i = 0; i < p.n; i++)
            protobuf_c_message_free_unpacked(p.items[i], NULL);
        free(p.items);
        return st;
    }
    *items = p.items;
    *nitems = p.n;
    return CC_OK;
}
