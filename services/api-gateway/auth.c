/* auth.c - the bearer-token check of every staff request: the token is
 * hashed (agent-registry stores only the hash), the session looked up and
 * its idle timeout renewed in one Redis script (session_touch.lua), and the
 * result turned into the cc.v1.Caller forwarded with the request. */
#include "auth.h"
#include "cc_log.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


extern const char session_touch_lua[];
static struct cc_redis_script session_touch = CC_REDIS_SCRIPT("session_touch", session_touch_lua);

enum cc_status auth_token_hash(const char *token, size_t len, char hex[AUTH_HASH_HEX])
{
    unsigned char h[crypto_generichash_BYTES];
    if (crypto_generichash(h, sizeof h, (const unsigned char *)token, len, NULL, 0) != 0)
        return CC_ERR_INTERNAL;
    sodium_bin2hex(hex, AUTH_HASH_HEX, h, sizeof h);
    return CC_OK;
}

/* The token of `Authorization: Bearer <token>` (scheme case-insensitive),
 * or NULL when absent, empty or too long. Valid while the request lasts. */
static const char *bearer_token(struct cc_http_req *req, size_t *len)
{
    const char *h = cc_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    *len = strlen(h);
    return *len > 0 && *len <= TOKEN_MAX ? h : NULL;
}

/* Runs session_touch.lua on `key`. On CC_OK the caller frees *reply. */
static enum cc_status touch(struct api_gateway *gw, const char *key, redisReply **reply)
{
    struct cc_redis_conn *c;
    const char *argv[1] = {key};
    *reply = NULL;
    enum cc_status st = cc_redis_acquire(gw->svc->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &session_touch, reply, 1, 1, argv, NULL);
    cc_redis_release(gw->svc->redis, c);
    if (st == CC_ERR_INTERNAL && *reply) {
        CC_ERROR("session_touch failed: %s", (*reply)->str ? (*reply)->str : "?");
        freeReplyObject(*reply);
        *reply = NULL;
    }
    return st;
}

static int is_text(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING && r->len > 0;
}

/* Copies {user_id, role} of the script's reply into `out`. */
static enum cc_status read_session(const redisReply *r, struct cc_pool *pool, Cc__V1__Caller *out)
{
    if (r->type == REDIS_REPLY_NIL)
        return CC_ERR_UNAUTHORIZED;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_text(r->element[0]) ||
        !is_text(r->element[1])) {
        CC_ERROR("session_touch answered an unexpected reply (type %d)", r->type);
        return CC_ERR_INTERNAL;
    }
    out->user_id = cc_pool_strndup(pool, r->element[0]->str, r->element[0]->len);
    out->role = cc_pool_strndup(pool, r->element[1]->str, r->element[1]->len);
    return out->user_id && out->role ? CC_OK : CC_ERR_NOMEM;
}

enum cc_status auth_caller(struct api_gateway *gw, struct cc_http_req *req, Cc__V1__Caller *out)
{
    char hex[AUTH_HASH_HEX], key[SESSION_KEY_MAX];
    redisReply *reply;
    size_t len;
    cc__v1__caller__init(out);
    const char *token = bearer_token(req, &len);
    if (!token)
        return CC_ERR_UNAUTHORIZED;
    enum cc_status st = auth_token_hash(token, len, hex);
    if (st != CC_OK)
        return st;
    snprintf(key, sizeof key, KEY_SESS, cc_tag(), hex);
    if ((st = touch(gw, key, &reply)) != CC_OK)
        return st;
    st = read_session(reply, req->pool, out);
    freeReplyObject(reply);
    if (st == CC_OK && !(out->session_id = cc_pool_strdup(req->pool, hex)))
        st = CC_ERR_NOMEM;
    return st;
}

enum cc_status auth_require(struct api_gateway *gw, struct cc_http_req *req,
                            struct cc_http_resp *resp, Cc__V1__Caller *out)
{
    enum cc_status st = auth_caller(gw, req, out);
    if (st == CC_ERR_UNAUTHORIZED)
        cc_http_error(resp, st, "a valid bearer token is required");
    else if (st == CC_ERR_UNAVAILABLE)
        cc_http_error(resp, st, "the session store is unavailable");
    else if (st != CC_OK)
        cc_http_error(resp, st, NULL);
    return st;
}
