/* sse.c - one open event stream: who may open it, and what it sends.
 *
 * A stream authenticates with the bearer token of the Authorization header
 * or, because a browser's EventSource cannot set headers, of `?token=`. It
 * reads the session without renewing its idle timer (an open stream is not
 * activity) and reads it again at every keepalive, ending when the session
 * is gone. The body is ": connected" (the subscription is live), then the
 * hub's frames as they come, with ": keepalive" when nothing was sent for a
 * keepalive period. It ends on its queue's overflow and when the server
 * stops; the client reconnects and reads the status again. */
#include "sse.h"
#include "auth.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_events.h"
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STOP_POLL_US 250000         /* a waiting stream looks at cc_http_stopping this often */
#define SESSION_KEY_MAX (sizeof SESSION_PREFIX + AUTH_HASH_HEX)
#define SSE_CONNECTED ": connected\n\n"
#define SSE_KEEPALIVE ": keepalive\n\n"

struct sse {
    struct api_gateway *gw;    /* borrowed */
    struct cc_http_req *req;   /* borrowed: used only by sse_read, while the request lasts */
    struct cc_events_sub *sub;    /* owned */
    char *user_id;             /* malloc'ed: the session's user, checked at each keepalive */
    char key[SESSION_KEY_MAX]; /* the session's Redis key */
    int64_t next_keepalive_us; /* cc_time_mono_us */
    struct cc_events_msg *msg;    /* owned reference to the frame being sent, or NULL */
    const char *out;           /* the text being sent: msg's frame or a comment line */
    size_t out_len, out_off;
};

/* The token of `Authorization: Bearer <token>` (scheme case-insensitive) or,
 * without that header, of ?token=; NULL when absent, empty or too long. */
static const char *stream_token(struct cc_http_req *req, size_t *len)
{
    const char *t = cc_http_header(req, "Authorization");
    if (t) {
        if (strncasecmp(t, "Bearer ", 7) != 0)
            return NULL;
        for (t += 7; *t == ' '; t++)
            ;
    } else {
        t = cc_http_query(req, "token");
    }
    *len = t ? strlen(t) : 0;
    return *len > 0 && *len <= TOKEN_MAX ? t : NULL;
}

/* Reads {user_id, role} of the session at `key` with HMGET: unlike
 * auth_caller, the idle timer is left alone. On CC_OK *out is an array of
 * two non-empty strings (the caller frees it); CC_ERR_UNAUTHORIZED when the
 * session is gone; CC_ERR_UNAVAILABLE when Redis is down; CC_ERR_INTERNAL
 * when the key holds something else. */
static enum cc_status session_peek(struct api_gateway *gw, const char *key, redisReply **out)
{
    redisReply *r = NULL;
    enum cc_status st = cc_redis_run(gw->svc->redis, &r, "HMGET %s user_id role", key);
    *out = NULL;
    if (st != CC_OK) {
        if (r)
            CC_ERROR("sse: session lookup failed: %s", r->str ? r->str : "?");
        freeReplyObject(r);
        return st;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        return CC_ERR_INTERNAL;
    }
    for (size_t i = 0; i < 2; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->len == 0) {
            freeReplyObject(r);
            return CC_ERR_UNAUTHORIZED;
        }
    }
    *out = r;
    return CC_OK;
}

/* The request's session: its Redis key into `key` and its HMGET reply into *out. */
static enum cc_status stream_session(struct api_gateway *gw, struct cc_http_req *req,
                                     char key[SESSION_KEY_MAX], redisReply **out)
{
    char hex[AUTH_HASH_HEX];
    size_t len;
    const char *token = stream_token(req, &len);
    *out = NULL;
    if (!token)
        return CC_ERR_UNAUTHORIZED;
    enum cc_status st = auth_token_hash(token, len, hex);
    if (st != CC_OK)
        return st;
    snprintf(key, SESSION_KEY_MAX, SESSION_PREFIX "%s", hex);
    return session_peek(gw, key, out);
}

/* Sets what sse_read sends next; `m` (may be NULL) is the reference it takes over. */
static void set_output(struct sse *s, struct cc_events_msg *m, const char *text, size_t len)
{
    cc_events_msg_unref(s->msg);
    s->msg = m;
    s->out = text;
    s->out_len = len;
    s->out_off = 0;
}

/* A keepalive, when the session still belongs to the stream's user. */
static enum cc_status keepalive(struct sse *s, int64_t now)
{
    redisReply *r;
    enum cc_status st = session_peek(s->gw, s->key, &r);
    if (st == CC_OK && strcmp(r->element[0]->str, s->user_id) != 0)
        st = CC_ERR_UNAUTHORIZED;
    freeReplyObject(r);
    if (st != CC_OK) {
        CC_DEBUG("sse: stream of %s ends: session %s", s->user_id, cc_status_str(st));
        return st;
    }
    set_output(s, NULL, SSE_KEEPALIVE, strlen(SSE_KEEPALIVE));
    s->next_keepalive_us = now + s->gw->sse_keepalive_us;
    return CC_OK;
}

/* Waits for what to send next: an event, or a keepalive when one is due.
 * Keepalives keep their pace while events flow, so the session is re-checked
 * on a busy stream too. Returns CC_OK with the output set, or why the
 * stream must end. */
static enum cc_status next_output(struct sse *s)
{
    struct cc_events_msg *m;
    const char *frame;
    size_t len;
    set_output(s, NULL, NULL, 0);
    for (;;) {
        int64_t now = cc_time_mono_us();
        if (cc_http_stopping(s->req))
            return CC_ERR_UNAVAILABLE;
        if (now >= s->next_keepalive_us)
            return keepalive(s, now);
        int64_t until = now + STOP_POLL_US;
        switch (cc_events_sub_next(s->sub, until < s->next_keepalive_us ? until : s->next_keepalive_us,
                                &m)) {
        case CC_EVENTS_MSG:
            frame = cc_events_msg_frame(m, &len);
            set_output(s, m, frame, len);
            return CC_OK;
        case CC_EVENTS_OVERFLOW:
            CC_WARN("sse: stream of %s fell behind (queue full), ending it", s->user_id);
            return CC_ERR_TOO_LARGE;
        case CC_EVENTS_TIMEOUT:
            break;
        }
    }
}

/* cc_http_stream_fn: copies the current output, fetching the next when done. */
static ssize_t sse_read(void *arg, char *buf, size_t max)
{
    struct sse *s = arg;
    if (s->out_off == s->out_len && next_output(s) != CC_OK)
        return -1;
    size_t n = s->out_len - s->out_off < max ? s->out_len - s->out_off : max;
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    return (ssize_t)n;
}

/* Release of the stream (cc_http_stream): unsubscribes and frees. */
static void sse_free(void *arg)
{
    struct sse *s = arg;
    cc_events_msg_unref(s->msg);
    cc_events_sub_close(s->sub);
    free(s->user_id);
    free(s);
}

/* A stream for `user_id`, subscribed to its events or to all (`all`). */
static enum cc_status sse_new(struct api_gateway *gw, struct cc_http_req *req, const char *key,
                              const char *user_id, int all, struct sse **out)
{
    struct sse *s = calloc(1, sizeof *s);
    enum cc_status st = CC_ERR_NOMEM;
    *out = NULL;
    if (!s || !(s->user_id = strdup(user_id)) ||
        (st = cc_events_sub_open(gw->events, all ? NULL : user_id, &s->sub)) != CC_OK) {
        if (s)
            free(s->user_id);
        free(s);
        return st;
    }
    s->gw = gw;
    s->req = req;
    snprintf(s->key, sizeof s->key, "%s", key);
    s->next_keepalive_us = cc_time_mono_us() + gw->sse_keepalive_us;
    set_output(s, NULL, SSE_CONNECTED, strlen(SSE_CONNECTED));
    *out = s;
    return CC_OK;
}

static int may_monitor(const redisReply *session)
{
    const char *role = session->element[1]->str;
    return strcmp(role, "admin") == 0 || strcmp(role, "supervisor") == 0;
}

/* The error answer of a failed stream_session. */
static void session_error(struct cc_http_resp *resp, enum cc_status st)
{
    if (st == CC_ERR_UNAUTHORIZED)
        cc_http_error(resp, st, "a valid bearer token is required (header or ?token=)");
    else if (st == CC_ERR_UNAVAILABLE)
        cc_http_error(resp, st, "the session store is unavailable");
    else
        cc_http_error(resp, st, NULL);
}

/* Authenticates, checks the role (monitor streams) and answers the stream. */
static void open_stream(struct api_gateway *gw, struct cc_http_req *req, struct cc_http_resp *resp,
                        int monitor)
{
    char key[SESSION_KEY_MAX];
    redisReply *session;
    struct sse *s = NULL;
    enum cc_status st = stream_session(gw, req, key, &session);
    if (st != CC_OK) {
        session_error(resp, st);
        return;
    }
    if (monitor && !may_monitor(session)) {
        freeReplyObject(session);
        cc_http_error(resp, CC_ERR_FORBIDDEN, "the monitor stream is for supervisors and admins");
        return;
    }
    st = sse_new(gw, req, key, session->element[0]->str, monitor, &s);
    freeReplyObject(session);
    if (st == CC_OK)
        cc_http_stream(resp, 200, "text/event-stream", sse_read, s, sse_free);
    else if (st == CC_ERR_UNAVAILABLE)
        cc_http_error(resp, st, "too many event streams are open");
    else
        cc_http_error(resp, st, NULL);
}

void sse_me(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    open_stream(rt->gw, req, resp, 0);
}

void sse_monitor(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    open_stream(rt->gw, req, resp, 1);
}
