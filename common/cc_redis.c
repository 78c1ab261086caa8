/* cc_redis.c - hiredis connection pool with lazy reconnects and scripts. */
#include "cc_redis.h"
#include "cc_log.h"
#include "cc_config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CONNECT_TIMEOUT_MS 1000
#define COMMAND_TIMEOUT_MS 3000

struct cc_redis_conn {
    struct cc_redis *pool;
    redisContext *ctx; /* NULL while disconnected */
    int in_use;
};

struct cc_redis {
    char host[256];
    int port;
    char password[128]; /* empty when none */
    int db;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int size;
    struct cc_redis_conn *conns;
};

/* Parses redis://[[user]:password@]host[:port][/db]. Returns 0 or -1. */
static int parse_url(struct cc_redis *r, const char *url)
{
    const char *p = url;
    int64_t v;
    if (strncmp(p, "redis://", 8) != 0)
        return -1;
    p += 8;
    const char *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || (size_t)(at - colon - 1) >= sizeof r->password)
            return -1;
        memcpy(r->password, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    size_t hostlen = strcspn(p, ":/");
    if (hostlen == 0 || hostlen >= sizeof r->host)
        return -1;
    memcpy(r->host, p, hostlen);
    p += hostlen;
    r->port = 6379;
    char num[16];
    if (*p == ':') {
        size_t n = strcspn(++p, "/");
        if (n == 0 || n >= sizeof num)
            return -1;
        memcpy(num, p, n), num[n] = '\0';
        if (cc_parse_int(num, 1, 65535, &v))
            return -1;
        r->port = (int)v;
        p += n;
    }
    if (*p == '/' && p[1]) {
        if (cc_parse_int(p + 1, 0, 1000, &v))
            return -1;
        r->db = (int)v;
    }
    return 0;
}

enum cc_status cc_redis_new(struct cc_redis **out, const char *url, int size)
{
    struct cc_redis *r = calloc(1, sizeof *r);
    if (!r)
        return CC_ERR_NOMEM;
    if (size < 1 || parse_url(r, url) != 0) {
        free(r);
        return CC_ERR_INVALID;
    }
    r->conns = calloc((size_t)size, sizeof *r->conns);
    if (!r->conns) {
        free(r);
        return CC_ERR_NOMEM;
    }
    r->size = size;
    for (int i = 0; i < size; i++)
        r->conns[i].pool = r;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->freed, NULL);
    *out = r;
    return CC_OK;
}

void cc_redis_free(struct cc_redis *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->size; i++)
        if (r->conns[i].ctx)
            redisFree(r->conns[i].ctx);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->freed);
    free(r->conns);
    free(r);
}

static void disconnect(struct cc_redis_conn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
}

/* Runs a setup command right after connecting; 0 when it answered OK. */
static int setup_cmd(redisContext *ctx, const char *fmt, const char *arg)
{
    redisReply *rep = redisCommand(ctx, fmt, arg);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

static enum cc_status connect_conn(struct cc_redis_conn *c)
{
    struct cc_redis *r = c->pool;
    struct timeval ct = {CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000};
    struct timeval rt = {COMMAND_TIMEOUT_MS / 1000, (COMMAND_TIMEOUT_MS % 1000) * 1000};
    char db[16];
    redisContext *ctx = redisConnectWithTimeout(r->host, r->port, ct);
    if (!ctx)
        return CC_ERR_NOMEM;
    snprintf(db, sizeof db, "%d", r->db);
    if (ctx->err || redisSetTimeout(ctx, rt) != REDIS_OK ||
        (r->password[0] && setup_cmd(ctx, "AUTH %s", r->password)) ||
        (r->db && setup_cmd(ctx, "SELECT %s", db))) {
        CC_DEBUG("redis connect %s:%d failed: %s", r->host, r->port, ctx->errstr);
        redisFree(ctx);
        return CC_ERR_UNAVAILABLE;
    }
    c->ctx = ctx;
    return CC_OK;
}

enum cc_status cc_redis_acquire(struct cc_redis *r, struct cc_redis_conn **out)
{
    struct cc_redis_conn *c = NULL;
    *out = NULL;
    pthread_mutex_lock(&r->lock);
    while (!c) {
        for (int i = 0; i < r->size && !c; i++)
            if (!r->conns[i].in_use)
                c = &r->conns[i];
        if (!c)
            pthread_cond_wait(&r->freed, &r->lock);
    }
    c->in_use = 1;
    pthread_mutex_unlock(&r->lock);
    if (!c->ctx && connect_conn(c) != CC_OK) {
        cc_redis_release(r, c);
        return CC_ERR_UNAVAILABLE;
    }
    *out = c;
    return CC_OK;
}

void cc_redis_release(struct cc_redis *r, struct cc_redis_conn *c)
{
    pthread_mutex_lock(&r->lock);
    c->in_use = 0;
    pthread_cond_signal(&r->freed);
    pthread_mutex_unlock(&r->lock);
}

/* Maps a hiredis outcome to a status; a broken connection is dropped so the
 * next acquire reconnects. */
static enum cc_status check_reply(struct cc_redis_conn *c, redisReply *rep, redisReply **out)
{
    *out = rep;
    if (!rep) {
        CC_WARN("redis: %s", c->ctx ? c->ctx->errstr : "not connected");
        disconnect(c);
        return CC_ERR_UNAVAILABLE;
    }
    return rep->type == REDIS_REPLY_ERROR ? CC_ERR_INTERNAL : CC_OK;
}

enum cc_status cc_redis_cmdv(struct cc_redis_conn *c, redisReply **reply, int argc,
                             const char **argv, const size_t *lens)
{
    *reply = NULL;
    if (!c->ctx && connect_conn(c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    return check_reply(c, redisCommandArgv(c->ctx, argc, argv, lens), reply);
}

enum cc_status cc_redis_cmd(struct cc_redis_conn *c, redisReply **reply, const char *fmt, ...)
{
    va_list ap;
    *reply = NULL;
    if (!c->ctx && connect_conn(c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c->ctx, fmt, ap);
    va_end(ap);
    return check_reply(c, rep, reply);
}

/* Borrows a connection, runs a format command and gives it back. */
static enum cc_status vrun(struct cc_redis *r, redisReply **reply, const char *fmt, va_list ap)
{
    struct cc_redis_conn *c;
    *reply = NULL;
    if (cc_redis_acquire(r, &c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    redisReply *rep = redisvCommand(c->ctx, fmt, ap);
    enum cc_status st = check_reply(c, rep, reply);
    cc_redis_release(r, c);
    return st;
}

enum cc_status cc_redis_run(struct cc_redis *r, redisReply **reply, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cc_status st = vrun(r, reply, fmt, ap);
    va_end(ap);
    return st;
}

enum cc_status cc_redis_do(struct cc_redis *r, const char *fmt, ...)
{
    redisReply *reply;
    va_list ap;
    va_start(ap, fmt);
    enum cc_status st = vrun(r, &reply, fmt, ap);
    va_end(ap);
    if (reply)
        freeReplyObject(reply);
    return st;
}

enum cc_status cc_redis_script_load(struct cc_redis_conn *c, struct cc_redis_script *s)
{
    redisReply *rep;
    enum cc_status st = cc_redis_cmd(c, &rep, "SCRIPT LOAD %s", s->src);
    if (st == CC_OK && (rep->type != REDIS_REPLY_STRING || rep->len != 40))
        st = CC_ERR_INTERNAL;
    if (st == CC_OK) {
        pthread_mutex_lock(&c->pool->lock); /* sha is shared by all threads */
        memcpy(s->sha, rep->str, 41);
        pthread_mutex_unlock(&c->pool->lock);
    } else {
        CC_ERROR("redis: cannot load script %s: %s", s->name,
                 rep && rep->type == REDIS_REPLY_ERROR ? rep->str : cc_status_str(st));
    }
    if (rep)
        freeReplyObject(rep);
    return st;
}

enum cc_status cc_redis_eval(struct cc_redis_conn *c, struct cc_redis_script *s, redisReply **reply,
                             int nkeys, int argc, const char **argv, const size_t *lens)
{
    enum { MAX_ARGS = 128 };
    const char *v[MAX_ARGS + 3];
    size_t l[MAX_ARGS + 3];
    char sha[41], nk[16];
    *reply = NULL;
    if (argc > MAX_ARGS || nkeys > argc)
        return CC_ERR_INVALID;
    pthread_mutex_lock(&c->pool->lock);
    memcpy(sha, s->sha, sizeof sha);
    pthread_mutex_unlock(&c->pool->lock);
    if (!sha[0]) {
        enum cc_status st = cc_redis_script_load(c, s);
        if (st != CC_OK)
            return st;
        memcpy(sha, s->sha, sizeof sha);
    }
    snprintf(nk, sizeof nk, "%d", nkeys);
    v[0] = "EVALSHA", l[0] = 7;
    v[1] = sha, l[1] = 40;
    v[2] = nk, l[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        v[i + 3] = argv[i];
        l[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    for (int attempt = 0;; attempt++) {
        enum cc_status st = cc_redis_cmdv(c, reply, argc + 3, v, l);
        if (st != CC_ERR_INTERNAL || attempt > 0 || strncmp((*reply)->str, "NOSCRIPT", 8) != 0)
            return st;
        freeReplyObject(*reply);
        *reply = NULL;
        if ((st = cc_redis_script_load(c, s)) != CC_OK)
            return st;
    }
}

enum cc_status cc_redis_append(struct cc_redis_conn *c, int argc, const char **argv,
                               const size_t *lens)
{
    if (!c->ctx && connect_conn(c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    return redisAppendCommandArgv(c->ctx, argc, argv, lens) == REDIS_OK ? CC_OK : CC_ERR_NOMEM;
}

enum cc_status cc_redis_reply(struct cc_redis_conn *c, redisReply **reply)
{
    void *rep = NULL;
    *reply = NULL;
    if (!c->ctx)
        return CC_ERR_UNAVAILABLE;
    if (redisGetReply(c->ctx, &rep) != REDIS_OK)
        rep = NULL;
    return check_reply(c, rep, reply);
}

enum cc_status cc_redis_ping(struct cc_redis *r)
{
    redisReply *rep;
    enum cc_status st = cc_redis_run(r, &rep, "PING");
    if (rep)
        freeReplyObject(rep);
    return st;
}
