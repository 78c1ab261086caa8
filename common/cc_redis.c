/* cc_redis.c - hiredis connection pool with lazy reconnects and scripts.
 *
 * A pooled connection may have died while it sat idle (Redis restarted):
 * acquire drops a connection whose socket is readable or closed (an idle
 * connection has nothing to read), and the first command on a borrowed
 * connection that finds it closed runs once more on a fresh one (the dead
 * server cannot have run it). Redis' "try later" error replies (LOADING,
 * BUSY, MASTERDOWN, TRYAGAIN) are CC_ERR_UNAVAILABLE, never an internal
 * error.
 *
 * With Sentinel (cc_redis_use_sentinels) every new connection first asks the
 * Sentinels for the primary's address (SENTINEL get-master-addr-by-name) and
 * checks with ROLE that the server it reached is a primary. A READONLY error
 * (the server was demoted to a replica) or a broken connection starts a new
 * "generation": every pooled connection of an older one is closed when next
 * borrowed, so the pool follows a failover. A command refused with READONLY
 * was not run, so it runs once more on a connection to the new primary. */
#include "cc_redis.h"
#include "cc_log.h"
#include "cc_config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CONNECT_TIMEOUT_MS 1000
#define COMMAND_TIMEOUT_MS 3000
#define SENTINEL_TIMEOUT_MS 500 /* connect and answer, each Sentinel */
#define MAX_SENTINELS 8

struct cc_redis_conn {
    struct cc_redis *pool;
    redisContext *ctx; /* NULL while disconnected */
    int in_use;
    int used;     /* a command ran since it was acquired, or it is new: a failure
                   * on it is no sign of a connection gone stale in the pool */
    int pending;  /* pipelined replies not read yet */
    unsigned gen; /* the pool's generation when it connected */
};

struct sentinel {
    char host[256];
    int port;
};

struct cc_redis {
    char host[256]; /* with Sentinel: the primary last found (under lock) */
    int port;
    char user[64];      /* ACL user; empty: AUTH with the password alone */
    char password[128]; /* empty when none */
    int auth_refused;   /* the refusal was logged */
    struct sentinel sentinels[MAX_SENTINELS];
    int nsentinels;    /* 0: host:port is the server */
    int sentinel_next; /* the Sentinel asked first: the last that answered */
    char master[128];
    unsigned gen; /* bumped when the primary may have moved (under lock) */
    int db;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int size;
    struct cc_redis_conn *conns;
};

/* Parses redis://[[user]:password@]host[:port][/db]. rediss:// (TLS) needs
 * hiredis 1.0 or later, built with SSL; Debian 12's hiredis 0.14 has none, so
 * it is refused with the reason. Returns 0 or -1. */
static int parse_url(struct cc_redis *r, const char *url)
{
    const char *p = url;
    int64_t v;
    if (strncmp(p, "rediss://", 9) == 0) {
        CC_ERROR("CC_REDIS_URL: rediss:// (TLS) is not supported by this hiredis (%d.%d, no "
                 "SSL); reach Redis over a TLS tunnel (stunnel, a service mesh) with redis://",
                 HIREDIS_MAJOR, HIREDIS_MINOR);
        return -1;
    }
    if (strncmp(p, "redis://", 8) != 0)
        return -1;
    p += 8;
    const char *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || (size_t)(colon - p) >= sizeof r->user ||
            (size_t)(at - colon - 1) >= sizeof r->password)
            return -1;
        memcpy(r->user, p, (size_t)(colon - p));
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

enum cc_status cc_redis_use_sentinels(struct cc_redis *r, const char *list, const char *master)
{
    char buf[512];
    int n = 0;
    int64_t v;
    if (!master || !*master || strlen(master) >= sizeof r->master || strlen(list) >= sizeof buf)
        return CC_ERR_INVALID;
    memcpy(buf, list, strlen(list) + 1);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        char *colon = strrchr(tok, ':');
        if (n == MAX_SENTINELS || !colon || colon == tok ||
            (size_t)(colon - tok) >= sizeof r->sentinels[n].host ||
            cc_parse_int(colon + 1, 1, 65535, &v))
            return CC_ERR_INVALID;
        memcpy(r->sentinels[n].host, tok, (size_t)(colon - tok));
        r->sentinels[n].host[colon - tok] = '\0';
        r->sentinels[n].port = (int)v;
        n++;
    }
    if (!n)
        return CC_ERR_INVALID;
    snprintf(r->master, sizeof r->master, "%s", master);
    r->nsentinels = n;
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
    c->pending = 0;
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

/* AUTH with the URL's credentials (AUTH password, or AUTH user password for
 * a Redis 6 ACL user); 0 when accepted or none are set. A refusal is logged
 * once per pool: wrong credentials look like Redis being down otherwise. */
static int authenticate(struct cc_redis *r, redisContext *ctx)
{
    redisReply *rep;
    if (!r->password[0])
        return 0;
    if (r->user[0])
        rep = redisCommand(ctx, "AUTH %s %s", r->user, r->password);
    else
        rep = redisCommand(ctx, "AUTH %s", r->password);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (rep && !ok && !__atomic_exchange_n(&r->auth_refused, 1, __ATOMIC_RELAXED))
        CC_ERROR("redis: AUTH refused: %s", rep->str);
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

/* Asks one Sentinel for the primary of r->master into host/port; 0 when it named one. */
static int ask_sentinel(struct cc_redis *r, const struct sentinel *sn, char *host, size_t cap,
                        int *port)
{
    struct timeval t = {0, SENTINEL_TIMEOUT_MS * 1000};
    int64_t v;
    int ok = -1;
    redisContext *ctx = redisConnectWithTimeout(sn->host, sn->port, t);
    if (!ctx)
        return -1;
    redisReply *rep = NULL;
    int usable = !ctx->err && redisSetTimeout(ctx, t) == REDIS_OK;
    if (usable && r->password[0]) {
        /* Sentinels protected like the data nodes (requirepass, Bitnami's
         * auth.sentinel) take the same credentials; one without a password
         * refuses AUTH, and is asked all the same */
        rep = r->user[0] ? redisCommand(ctx, "AUTH %s %s", r->user, r->password)
                         : redisCommand(ctx, "AUTH %s", r->password);
        if (rep)
            freeReplyObject(rep);
        rep = NULL;
    }
    if (usable)
        rep = redisCommand(ctx, "SENTINEL get-master-addr-by-name %s", r->master);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING && rep->element[0]->len < cap &&
        !cc_parse_int(rep->element[1]->str, 1, 65535, &v)) {
        memcpy(host, rep->element[0]->str, rep->element[0]->len + 1);
        *port = (int)v;
        ok = 0;
    } else {
        if (rep && rep->type == REDIS_REPLY_ERROR) /* NOAUTH, a wrong master name: say so */
            CC_WARN("redis: Sentinel %s:%d: %.120s", sn->host, sn->port, rep->str);
        else
            CC_DEBUG("redis: Sentinel %s:%d does not name master %s: %s", sn->host, sn->port,
                     r->master, ctx->err ? ctx->errstr : "no such master");
    }
    if (rep)
        freeReplyObject(rep);
    redisFree(ctx);
    return ok;
}

/* The server to connect to: r->host:port, or with Sentinel the primary the
 * first Sentinel that answers names. 0, or -1 when no Sentinel answered. */
static int locate(struct cc_redis *r, char *host, size_t cap, int *port)
{
    pthread_mutex_lock(&r->lock);
    int first = r->sentinel_next;
    if (!r->nsentinels) {
        snprintf(host, cap, "%s", r->host);
        *port = r->port;
    }
    pthread_mutex_unlock(&r->lock);
    if (!r->nsentinels)
        return 0;
    for (int i = 0; i < r->nsentinels; i++) {
        int k = (first + i) % r->nsentinels;
        if (ask_sentinel(r, &r->sentinels[k], host, cap, port) != 0)
            continue;
        pthread_mutex_lock(&r->lock);
        r->sentinel_next = k;
        if (strcmp(r->host, host) || r->port != *port) {
            CC_INFO("redis: the primary of %s is %s:%d (Sentinel %s:%d)", r->master, host, *port,
                    r->sentinels[k].host, r->sentinels[k].port);
            snprintf(r->host, sizeof r->host, "%s", host);
            r->port = *port;
        }
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    CC_WARN("redis: no Sentinel named the primary of %s", r->master);
    return -1;
}

/* 0 when the server behind ctx says it is a primary (ROLE): a Sentinel may
 * still name a server it is demoting. */
static int is_primary(redisContext *ctx)
{
    redisReply *rep = redisCommand(ctx, "ROLE");
    int ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
             rep->element[0]->type == REDIS_REPLY_STRING && !strcmp(rep->element[0]->str, "master");
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

/* Starts a new generation: pooled connections made before are closed when
 * next borrowed (the primary may have moved). Only with Sentinel. */
static void new_generation(struct cc_redis *r)
{
    if (!r->nsentinels)
        return;
    pthread_mutex_lock(&r->lock);
    r->gen++;
    pthread_mutex_unlock(&r->lock);
}

static enum cc_status connect_conn(struct cc_redis_conn *c)
{
    struct cc_redis *r = c->pool;
    struct timeval ct = {CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000};
    struct timeval rt = {COMMAND_TIMEOUT_MS / 1000, (COMMAND_TIMEOUT_MS % 1000) * 1000};
    char db[16], host[256] = "";
    int port = 0;
    pthread_mutex_lock(&r->lock);
    unsigned gen = r->gen;
    pthread_mutex_unlock(&r->lock);
    if (locate(r, host, sizeof host, &port) != 0)
        return CC_ERR_UNAVAILABLE;
    redisContext *ctx = redisConnectWithTimeout(host, port, ct);
    if (!ctx)
        return CC_ERR_NOMEM;
    snprintf(db, sizeof db, "%d", r->db);
    if (ctx->err || redisSetTimeout(ctx, rt) != REDIS_OK || authenticate(r, ctx) ||
        (r->db && setup_cmd(ctx, "SELECT %s", db)) || (r->nsentinels && is_primary(ctx))) {
        CC_DEBUG("redis connect %s:%d failed: %s", host, port,
                 ctx->err ? ctx->errstr : "not a primary");
        redisFree(ctx);
        return CC_ERR_UNAVAILABLE;
    }
    c->ctx = ctx;
    c->used = 1;
    c->gen = gen;
    return CC_OK;
}

/* 1 when an idle connection's socket is readable, hung up or failed: the
 * server closed it (or left bytes nobody asked for); either way unusable. */
static int conn_dead(const struct cc_redis_conn *c)
{
    struct pollfd p = {.fd = c->ctx->fd, .events = POLLIN | POLLRDHUP};
    if (c->ctx->err)
        return 1;
    int n = poll(&p, 1, 0);
    return n < 0 ? errno != EINTR : n > 0;
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
    if (c->ctx && conn_dead(c)) {
        CC_INFO("redis: a pooled connection was closed by the server; reconnecting");
        disconnect(c);
        new_generation(r);
    }
    pthread_mutex_lock(&r->lock);
    int old = c->ctx && c->gen != r->gen;
    pthread_mutex_unlock(&r->lock);
    if (old) /* made before the primary may have moved: find it again */
        disconnect(c);
    c->used = 0;
    if (!c->ctx && connect_conn(c) != CC_OK) {
        cc_redis_release(r, c);
        return CC_ERR_UNAVAILABLE;
    }
    *out = c;
    return CC_OK;
}

void cc_redis_release(struct cc_redis *r, struct cc_redis_conn *c)
{
    if (c->pending) { /* its next user would read these replies as its own */
        disconnect(c);
        c->pending = 0;
    }
    pthread_mutex_lock(&r->lock);
    c->in_use = 0;
    pthread_cond_signal(&r->freed);
    pthread_mutex_unlock(&r->lock);
}

/* 1 for an error reply meaning "Redis cannot serve this now, try later". */
static int try_later(const redisReply *rep)
{
    static const char *const codes[] = {"LOADING ", "BUSY ", "MASTERDOWN ", "TRYAGAIN "};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (!strncmp(rep->str, codes[i], strlen(codes[i])))
            return 1;
    return 0;
}

/* 1 for an error reply of a server that is a replica now (a demoted primary):
 * READONLY, also inside a script's error. The command was refused, not run. */
static int readonly(const redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_ERROR &&
           (!strncmp(rep->str, "READONLY ", 9) || strstr(rep->str, "-READONLY "));
}

/* Maps a hiredis outcome to a status; a broken connection is dropped so the
 * next acquire reconnects. A try-later or READONLY error reply is freed:
 * *out is NULL. */
static enum cc_status check_reply(struct cc_redis_conn *c, redisReply *rep, redisReply **out)
{
    *out = rep;
    c->used = 1;
    if (!rep) {
        CC_WARN("redis: %s", c->ctx ? c->ctx->errstr : "not connected");
        disconnect(c);
        new_generation(c->pool);
        return CC_ERR_UNAVAILABLE;
    }
    if (rep->type != REDIS_REPLY_ERROR)
        return CC_OK;
    if (readonly(rep)) { /* a failover demoted this server: find the primary again */
        CC_WARN("redis: %.120s", rep->str);
        freeReplyObject(rep);
        *out = NULL;
        disconnect(c);
        new_generation(c->pool);
        return CC_ERR_UNAVAILABLE;
    }
    if (!try_later(rep))
        return CC_ERR_INTERNAL;
    CC_WARN("redis: %.120s", rep->str);
    freeReplyObject(rep);
    *out = NULL;
    return CC_ERR_UNAVAILABLE;
}

/* 1 when a command that got no reply may run again on a fresh connection:
 * it was the first on a connection taken from the pool and the server had
 * closed that connection (end of file, reset, broken pipe), so the server
 * that closed it never ran the command. A timeout is never retried. */
static int stale(const struct cc_redis_conn *c)
{
    if (c->used || !c->ctx)
        return 0;
    if (c->ctx->err == REDIS_ERR_EOF)
        return 1;
    return c->ctx->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE);
}

/* Drops a stale connection and connects again; 0 when the command may be
 * sent once more. */
static int reconnect_stale(struct cc_redis_conn *c)
{
    if (!stale(c))
        return -1;
    CC_INFO("redis: %s on an idle connection; retrying on a new one", c->ctx->errstr);
    disconnect(c);
    return connect_conn(c) == CC_OK ? 0 : -1;
}

/* A command refused with READONLY: frees the reply (*rep becomes NULL),
 * connects to the primary found anew; 0 when the command may be sent once
 * more (it was not run). */
static int reconnect_readonly(struct cc_redis_conn *c, redisReply **rep)
{
    CC_WARN("redis: %.120s; finding the primary again", (*rep)->str);
    freeReplyObject(*rep);
    *rep = NULL;
    disconnect(c);
    new_generation(c->pool);
    return connect_conn(c) == CC_OK ? 0 : -1;
}

enum cc_status cc_redis_cmdv(struct cc_redis_conn *c, redisReply **reply, int argc,
                             const char **argv, const size_t *lens)
{
    *reply = NULL;
    if (!c->ctx && connect_conn(c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    redisReply *rep = redisCommandArgv(c->ctx, argc, argv, lens);
    if (!rep && reconnect_stale(c) == 0)
        rep = redisCommandArgv(c->ctx, argc, argv, lens);
    if (readonly(rep) && reconnect_readonly(c, &rep) == 0)
        rep = redisCommandArgv(c->ctx, argc, argv, lens);
    return check_reply(c, rep, reply);
}

/* redisvCommand with the one retry of a stale connection. */
static enum cc_status vcmd(struct cc_redis_conn *c, redisReply **reply, const char *fmt, va_list ap)
{
    va_list again;
    *reply = NULL;
    if (!c->ctx && connect_conn(c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    va_copy(again, ap);
    redisReply *rep = redisvCommand(c->ctx, fmt, ap);
    if ((!rep && reconnect_stale(c) == 0) || (readonly(rep) && reconnect_readonly(c, &rep) == 0))
        rep = redisvCommand(c->ctx, fmt, again);
    va_end(again);
    return check_reply(c, rep, reply);
}

enum cc_status cc_redis_cmd(struct cc_redis_conn *c, redisReply **reply, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cc_status st = vcmd(c, reply, fmt, ap);
    va_end(ap);
    return st;
}

/* Borrows a connection, runs a format command and gives it back. */
static enum cc_status vrun(struct cc_redis *r, redisReply **reply, const char *fmt, va_list ap)
{
    struct cc_redis_conn *c;
    *reply = NULL;
    if (cc_redis_acquire(r, &c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    enum cc_status st = vcmd(c, reply, fmt, ap);
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

enum cc_status cc_redis_run_bin(struct cc_redis *r, redisReply **reply, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cc_status st = vrun(r, reply, fmt, ap);
    va_end(ap);
    return st;
}

/* vrun without the reply. */
static enum cc_status vdo(struct cc_redis *r, const char *fmt, va_list ap)
{
    redisReply *reply;
    enum cc_status st = vrun(r, &reply, fmt, ap);
    if (reply)
        freeReplyObject(reply);
    return st;
}

enum cc_status cc_redis_do_bin(struct cc_redis *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cc_status st = vdo(r, fmt, ap);
    va_end(ap);
    return st;
}

enum cc_status cc_redis_do(struct cc_redis *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cc_status st = vdo(r, fmt, ap);
    va_end(ap);
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
    /* most calls fit on the stack; a batch of reservations may not */
    enum { STACK_ARGS = 128, MAX_ARGS = 8192 };
    const char *sv[STACK_ARGS + 3], **v = sv;
    size_t sl[STACK_ARGS + 3], *l = sl;
    char sha[41], nk[16];
    enum cc_status st = CC_OK;
    *reply = NULL;
    if (argc < 0 || argc > MAX_ARGS || nkeys > argc)
        return CC_ERR_INVALID;
    if (argc > STACK_ARGS) {
        v = malloc((size_t)(argc + 3) * sizeof *v);
        l = malloc((size_t)(argc + 3) * sizeof *l);
        if (!v || !l) {
            st = CC_ERR_NOMEM;
            goto out;
        }
    }
    pthread_mutex_lock(&c->pool->lock);
    memcpy(sha, s->sha, sizeof sha);
    pthread_mutex_unlock(&c->pool->lock);
    if (!sha[0]) {
        if ((st = cc_redis_script_load(c, s)) != CC_OK)
            goto out;
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
        st = cc_redis_cmdv(c, reply, argc + 3, v, l);
        if (st != CC_ERR_INTERNAL || attempt > 0 || strncmp((*reply)->str, "NOSCRIPT", 8) != 0)
            break;
        freeReplyObject(*reply);
        *reply = NULL;
        if ((st = cc_redis_script_load(c, s)) != CC_OK)
            break;
    }
out:
    if (v != sv)
        free(v);
    if (l != sl)
        free(l);
    return st;
}

enum cc_status cc_redis_append(struct cc_redis_conn *c, int argc, const char **argv,
                               const size_t *lens)
{
    if (!c->ctx && connect_conn(c) != CC_OK)
        return CC_ERR_UNAVAILABLE;
    if (redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK)
        return CC_ERR_NOMEM;
    c->pending++;
    return CC_OK;
}

enum cc_status cc_redis_reply(struct cc_redis_conn *c, redisReply **reply)
{
    void *rep = NULL;
    *reply = NULL;
    if (!c->ctx)
        return CC_ERR_UNAVAILABLE;
    c->pending--;
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
