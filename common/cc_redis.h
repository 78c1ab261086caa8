/* cc_redis.h - Redis access for every service: a small pool of hiredis
 * connections (a redisContext is not thread-safe), reconnecting on demand,
 * scripts loaded once and called by EVALSHA with a NOSCRIPT fallback, and
 * pipelining.
 *
 * Replies are hiredis' redisReply; the caller frees each with
 * freeReplyObject(). Connection errors never escape as hiredis codes: every
 * call returns a cc_status (CC_ERR_UNAVAILABLE when Redis cannot be reached
 * or answers "try later" - LOADING, BUSY, MASTERDOWN, TRYAGAIN - and then no
 * reply is given; CC_ERR_INTERNAL when Redis answered any other error reply,
 * which is then given). The first command on a pooled connection that the
 * server turns out to have closed runs again, once, on a new connection.
 * With Sentinel (cc_redis_use_sentinels) the pool follows a failover. */
#ifndef CC_REDIS_H
#define CC_REDIS_H

#include "cc_status.h"

#include <hiredis/hiredis.h>
#include <stddef.h>

struct cc_redis;      /* the pool */
struct cc_redis_conn; /* one connection, borrowed from the pool */

/* A Lua script; define it static with CC_REDIS_SCRIPT and share it freely. */
struct cc_redis_script {
    const char *name; /* for logs */
    const char *src;  /* Lua source, embedded at build time */
    char sha[41];     /* filled on first load */
};
#define CC_REDIS_SCRIPT(name, src)                                                                 \
    {                                                                                              \
        (name), (src),                                                                             \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Creates a pool of up to `size` connections to `url`
 * (redis://[[user]:password@]host[:port][/db]; with a user, AUTH user
 * password as a Redis 6 ACL user; rediss:// is refused: Debian's hiredis has
 * no TLS). Connections open lazily, so this succeeds while Redis is down.
 * Returns CC_OK, CC_ERR_INVALID for a bad URL, or CC_ERR_NOMEM. */
enum cc_status cc_redis_new(struct cc_redis **out, const char *url, int size);

/* Finds the server through Redis Sentinel from now on: `list` is
 * "host:port[,host:port...]" (up to 8 Sentinels), `master` the name they
 * watch. Each new connection asks them for the primary; the URL's host is
 * then unused (its password and db still apply). A READONLY answer or a
 * broken connection makes the pool find the primary again (a failover), and
 * a command refused with READONLY runs once more on the new primary. Call
 * before the pool is used. CC_ERR_INVALID for a malformed list. */
enum cc_status cc_redis_use_sentinels(struct cc_redis *r, const char *list, const char *master);

/* Closes every connection. No connection may be borrowed. */
void cc_redis_free(struct cc_redis *r);

/* Borrows a connection, waiting while all are in use, (re)connecting it if
 * needed: one the server closed while it sat in the pool (a Redis restart)
 * is replaced first. Returns CC_OK or CC_ERR_UNAVAILABLE (then *out is NULL). */
enum cc_status cc_redis_acquire(struct cc_redis *r, struct cc_redis_conn **out);

/* Gives a borrowed connection back. */
void cc_redis_release(struct cc_redis *r, struct cc_redis_conn *c);

/* Runs one command given as an argument vector (`lens` may be NULL for
 * NUL-terminated arguments). On CC_OK, *reply is set (free it); a Redis error
 * reply gives CC_ERR_INTERNAL with *reply set to it; *reply is NULL on
 * CC_ERR_UNAVAILABLE. */
enum cc_status cc_redis_cmdv(struct cc_redis_conn *c, redisReply **reply, int argc,
                             const char **argv, const size_t *lens);

/* Like cc_redis_cmdv with a hiredis format string ("SET %s %d"). The
 * format is checked against the arguments at build time like printf's (key
 * formats take the tag first, cc_keys.h), so hiredis' %b (binary) is not
 * allowed here: use cc_redis_run_bin. */
enum cc_status cc_redis_cmd(struct cc_redis_conn *c, redisReply **reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Borrows a connection, runs a format command and gives it back. */
enum cc_status cc_redis_run(struct cc_redis *r, redisReply **reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cc_redis_run for a command whose answer is not needed. */
enum cc_status cc_redis_do(struct cc_redis *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like cc_redis_run for a format with hiredis' %b (a binary value and its
 * size_t length), which the build cannot check: count the arguments. */
enum cc_status cc_redis_run_bin(struct cc_redis *r, redisReply **reply, const char *fmt, ...);
enum cc_status cc_redis_do_bin(struct cc_redis *r, const char *fmt, ...);

/* Calls `s` by EVALSHA with `nkeys` keys followed by args in argv; loads it
 * and retries once when Redis answers NOSCRIPT (after a restart). At most
 * 8,192 arguments (CC_ERR_INVALID beyond). */
enum cc_status cc_redis_eval(struct cc_redis_conn *c, struct cc_redis_script *s, redisReply **reply,
                             int nkeys, int argc, const char **argv, const size_t *lens);

/* Makes sure `s` is loaded on this connection's server (SCRIPT LOAD). */
enum cc_status cc_redis_script_load(struct cc_redis_conn *c, struct cc_redis_script *s);

/* Pipelining: queue commands with cc_redis_append, then read exactly one
 * reply per queued command with cc_redis_reply, in order. A connection given
 * back with replies left unread (a caller that stopped at a failure) is
 * closed, so that its next user never reads them as its own. */
enum cc_status cc_redis_append(struct cc_redis_conn *c, int argc, const char **argv,
                               const size_t *lens);
enum cc_status cc_redis_reply(struct cc_redis_conn *c, redisReply **reply);

/* PINGs through the pool. Returns CC_OK when Redis answers. */
enum cc_status cc_redis_ping(struct cc_redis *r);

#endif
