/* sse.c - who may open an event stream of the desktops (the streaming
 * itself is common/cc_sse).
 *
 * A stream authenticates with the bearer token of the Authorization header
 * or, because a browser's EventSource cannot set headers, of `?token=`. It
 * reads the session without renewing its idle timer (an open stream is not
 * activity) and reads it again at every keepalive, ending when the session
 * is gone; the client reconnects and reads the status again. */
#include "sse.h"
#include "auth.h"
#include "cc/v1/presence.pb-c.h"
#include "cc_log.h"
#include "cc_time.h"
#include "cc_sse.h"
#include "gateway.h"
#include "cc_subjects.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#define SCOPE_TIMEOUT_MS 3000 /* reading a supervisor's agents from agent-registry */

/* The agents a supervisor's monitor stream may show (limit_to_assigned_queues):
 * sorted ids, replaced at each keepalive, read by the hub's filter. */
struct monitor_scope {
    pthread_mutex_t lock;
    int limited; /* 0: every agent */
    char **ids;  /* sorted, malloc'ed */
    size_t n;
};

/* --- streams per user ------------------------------------------------------------ */

/* One user's open streams. A user over the cap is refused the new stream
 * (429) rather than losing the oldest: every desk tab reconnects a stream
 * that ends, so closing the oldest would make the tabs take turns closing
 * each other; the refused tab retries (the desk every 2 s) and gets in when
 * another tab closes. */
struct user_streams {
    char *user_id;
    int n;
    UT_hash_handle hh;
};

struct sse_users {
    pthread_mutex_t lock;
    struct user_streams *table;
    int max;
};

enum cc_status sse_users_new(struct sse_users **out, int max)
{
    struct sse_users *u = calloc(1, sizeof *u);
    *out = NULL;
    if (!u || pthread_mutex_init(&u->lock, NULL) != 0) {
        free(u);
        return CC_ERR_NOMEM;
    }
    u->max = max;
    *out = u;
    return CC_OK;
}

void sse_users_free(struct sse_users *u)
{
    struct user_streams *e, *tmp;
    if (!u)
        return;
    HASH_ITER(hh, u->table, e, tmp)
    {
        HASH_DEL(u->table, e);
        free(e->user_id);
        free(e);
    }
    pthread_mutex_destroy(&u->lock);
    free(u);
}

/* Counts a new stream of `user_id`: CC_OK, CC_ERR_RATE_LIMITED when the user
 * holds the maximum already, CC_ERR_NOMEM. */
static enum cc_status stream_take(struct sse_users *u, const char *user_id)
{
    struct user_streams *e;
    enum cc_status st = CC_OK;
    pthread_mutex_lock(&u->lock);
    HASH_FIND_STR(u->table, user_id, e);
    if (!e && (e = calloc(1, sizeof *e)) && !(e->user_id = strdup(user_id))) {
        free(e);
        e = NULL;
    }
    if (!e)
        st = CC_ERR_NOMEM;
    else if (e->n >= u->max)
        st = CC_ERR_RATE_LIMITED;
    else if (e->n++ == 0)
        HASH_ADD_KEYPTR(hh, u->table, e->user_id, strlen(e->user_id), e);
    pthread_mutex_unlock(&u->lock);
    return st;
}

/* A stream of `user_id` that stream_take counted has ended. */
static void stream_give(struct sse_users *u, const char *user_id)
{
    struct user_streams *e;
    pthread_mutex_lock(&u->lock);
    HASH_FIND_STR(u->table, user_id, e);
    if (e && --e->n == 0) {
        HASH_DEL(u->table, e);
        free(e->user_id);
        free(e);
    }
    pthread_mutex_unlock(&u->lock);
}

/* What a stream re-checks at each keepalive: its session, still its user's,
 * and for a monitor stream of a supervisor, whose agents it shows. */
struct session_check {
    struct api_gateway *gw; /* borrowed */
    char *user_id;          /* malloc'ed */
    char role[16];
    char key[SESSION_KEY_MAX]; /* the session's Redis key */
    int scoped;                /* a supervisor's monitor stream */
    int counted;               /* counted in gw->sse_users */
    struct monitor_scope scope;
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
    snprintf(key, SESSION_KEY_MAX, KEY_SESS, cc_tag(), hex);
    return session_peek(gw, key, out);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ids_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

/* Reads the agents the supervisor may monitor from agent-registry (the
 * monitor list answers only those, and says whether it is limited) into the
 * stream's scope. */
static enum cc_status scope_refresh(struct session_check *c)
{
    Cc__V1__Caller caller = CC__V1__CALLER__INIT;
    Cc__V1__AgentQuery q = CC__V1__AGENT_QUERY__INIT;
    ProtobufCMessage *rep = NULL;
    caller.user_id = c->user_id, caller.role = c->role;
    q.caller = &caller;
    enum cc_status st =
        cc_nats_request(c->gw->svc->nats, SUBJ_PRESENCE_LIST, &q.base,
                        &cc__v1__agent_list__descriptor, SCOPE_TIMEOUT_MS, &rep, NULL, 0);
    if (st != CC_OK)
        return st;
    const Cc__V1__AgentList *l = (const Cc__V1__AgentList *)rep;
    char **ids = calloc(l->n_items + 1, sizeof *ids);
    size_t n = 0;
    for (size_t i = 0; ids && i < l->n_items; i++)
        if (l->items[i]->agent_id && !(ids[n++] = strdup(l->items[i]->agent_id)))
            st = CC_ERR_NOMEM;
    if (!ids)
        st = CC_ERR_NOMEM;
    if (st == CC_OK) {
        qsort(ids, n, sizeof *ids, cmp_id);
        pthread_mutex_lock(&c->scope.lock);
        char **old = c->scope.ids;
        size_t old_n = c->scope.n;
        c->scope.limited = l->limited, c->scope.ids = ids, c->scope.n = n;
        pthread_mutex_unlock(&c->scope.lock);
        ids_free(old, old_n);
    } else if (ids) {
        ids_free(ids, n);
    }
    protobuf_c_message_free_unpacked(rep, NULL);
    return st;
}

/* cc_events_filter_fn of a supervisor's monitor stream: status events of
 * the agents in scope only; the others (queue changes) pass. */
static int scope_filter(void *arg, const char *event, const char *key)
{
    struct session_check *c = arg;
    if (strcmp(event, "status") != 0)
        return 1;
    pthread_mutex_lock(&c->scope.lock);
    int in = !c->scope.limited ||
             bsearch(&key, c->scope.ids, c->scope.n, sizeof *c->scope.ids, cmp_id) != NULL;
    pthread_mutex_unlock(&c->scope.lock);
    return in;
}

/* cc_sse_check_fn: the session is still there and still the stream's user's
 * (and a supervisor's monitor scope is read again). */
static enum cc_status check_session(void *arg)
{
    struct session_check *c = arg;
    redisReply *r;
    enum cc_status st = session_peek(c->gw, c->key, &r);
    if (st == CC_OK && strcmp(r->element[0]->str, c->user_id) != 0)
        st = CC_ERR_UNAUTHORIZED;
    freeReplyObject(r);
    if (st != CC_OK)
        CC_DEBUG("sse: stream of %s ends: session %s", c->user_id, cc_status_str(st));
    if (st == CC_OK && c->scoped && scope_refresh(c) != CC_OK)
        CC_WARN("sse: the monitor scope of %s was not read again; the last one stays",
                c->user_id);
    return st;
}

static void check_free(void *arg)
{
    struct session_check *c = arg;
    if (c->scoped) {
        ids_free(c->scope.ids, c->scope.n);
        pthread_mutex_destroy(&c->scope.lock);
    }
    if (c->counted)
        stream_give(c->gw->sse_users, c->user_id);
    free(c->user_id);
    free(c);
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
    struct session_check *c = calloc(1, sizeof *c);
    if (!c || !(c->user_id = strdup(session->element[0]->str))) {
        free(c);
        freeReplyObject(session);
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    snprintf(c->role, sizeof c->role, "%s", session->element[1]->str);
    freeReplyObject(session);
    c->gw = gw;
    snprintf(c->key, sizeof c->key, "%s", key);
    if ((st = stream_take(gw->sse_users, c->user_id)) != CC_OK) {
        char secs[24], msg[128];
        check_free(c);
        if (st == CC_ERR_RATE_LIMITED) {
            snprintf(secs, sizeof secs, "%lld", (long long)(gw->sse_keepalive_us / 1000000));
            snprintf(msg, sizeof msg,
                     "this user has the most event streams open already; close another tab "
                     "or try again in %s s",
                     secs);
            cc_http_add_header(req, resp, "Retry-After", secs);
        }
        cc_http_error(resp, st, st == CC_ERR_RATE_LIMITED ? msg : NULL);
        return;
    }
    c->counted = 1;
    if (monitor && strcmp(c->role, "supervisor") == 0) {
        /* limit_to_assigned_queues: only the agents of the assigned queues */
        pthread_mutex_init(&c->scope.lock, NULL);
        c->scoped = 1;
        if ((st = scope_refresh(c)) != CC_OK) {
            check_free(c);
            cc_http_error(resp, st == CC_ERR_NOMEM ? st : CC_ERR_UNAVAILABLE,
                          st == CC_ERR_NOMEM ? NULL : "the agents to monitor cannot be read");
            return;
        }
    }
    cc_sse_answer_filtered(gw->events, monitor ? NULL : c->user_id, c->scoped ? scope_filter : NULL,
                           gw->sse_keepalive_us, check_session, c, check_free, req, resp);
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
