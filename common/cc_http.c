/* cc_http.c - libmicrohttpd adapter: routing, body caps, JSON bodies, request
 * ids, access log, metrics, streamed answers and deferred answers. By default
 * one thread per connection, so handlers may block on a NATS request and
 * stream callbacks may block until they have something to send; with
 * pool_threads an epoll loop on a few threads serves every connection and a
 * handler may defer its answer (the connection is suspended meanwhile). */
#include "cc_http.h"
#include "cc_buf.h"
#include "cc_http_guard.h"
#include "cc_config.h"
#include "cc_log.h"
#include "cc_time.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define EARLY_REJECT_FACTOR 16 /* bodies this many times the cap are refused unread */
#define STREAM_BLOCK 4096      /* MHD's block size of a streamed response */

struct cc_http {
    struct MHD_Daemon *d;
    struct cc_http_config cfg;
    struct cc_http_route *routes;
    int nroutes;
    atomic_int inflight;
    atomic_int stopping; /* set by cc_http_stop: streams end */
    struct cc_metric *m_requests;
    struct cc_metric *m_seconds;
    struct cc_http_guard guard; /* slow requests are cut off */
};

struct request {
    struct cc_http_req req; /* first: a cc_http_req is a struct request */
    struct cc_http *h;
    struct cc_pool pool;
    const struct cc_http_route *route;
    enum cc_status early; /* failure found before the body: answered at the end */
    const char *early_why; /* its message, NULL for the status text */
    struct cc_buf body;
    size_t cap;
    int too_large;
    int64_t start_us;
    int status;
    size_t bytes_out;
    struct cc_http_stream *stream; /* the answer's stream while both live, else NULL */
    /* deferred answers (cc_http_defer): `defer` is set by the handler; the
     * answer arrives in `later` from any thread, under `lock` */
    pthread_mutex_t lock;
    enum { DEFER_NONE, DEFER_HANDLING, DEFER_SUSPENDED, DEFER_READY } defer;
    struct cc_http_resp later;
};

/* A streamed body. MHD owns it once the response is made and frees it with
 * stream_free; until then the cc_http_resp does. The stream and its request
 * point at each other while both live; MHD calls the reader, the completion
 * and the free callback on the connection's thread (or after that thread
 * has been joined), so the two links need no lock. */
struct cc_http_stream {
    cc_http_stream_fn fn;
    void *arg;
    void (*release)(void *arg);
    struct request *owner; /* for the byte count; NULL once the request ended */
};

int cc_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        unsigned c = *s;
        int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || end - s <= n)
            return n == 0;
        unsigned cp = n == 0 ? c : c & (0x3F >> n);
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

int cc_http_match(const char *pattern, const char *path, struct cc_pool *pool,
                  const char **params, int *nparams)
{
    const char *p = pattern, *s = path;
    *nparams = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t n = strcspn(s, "/");
            if (!close || n == 0 || *nparams == CC_HTTP_MAX_PARAMS)
                return 0;
            params[(*nparams)++] = cc_pool_strndup(pool, s, n);
            p = close + 1;
            s += n;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

/* Picks the route; sets r->early to CC_ERR_NOT_FOUND or CC_ERR_METHOD. */
static void route(struct cc_http *h, struct request *r)
{
    int path_seen = 0;
    const char *params[CC_HTTP_MAX_PARAMS];
    int n;
    for (int i = 0; i < h->nroutes; i++) {
        const struct cc_http_route *rt = &h->routes[i];
        if (!cc_http_match(rt->pattern, r->req.path, &r->pool, params, &n))
            continue;
        path_seen = 1;
        if (strcmp(rt->method, r->req.method) != 0)
            continue;
        r->route = rt;
        r->req.route = rt->pattern;
        memcpy(r->req.params, params, sizeof params);
        r->req.nparams = n;
        return;
    }
    r->req.route = "unmatched";
    r->early = path_seen ? CC_ERR_METHOD : CC_ERR_NOT_FOUND;
}

static int request_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", id[i]))
            return 0;
    return 1;
}

static struct request *request_new(struct cc_http *h, struct MHD_Connection *conn, const char *url,
                                   const char *method)
{
    struct request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->start_us = cc_time_mono_us();
    r->h = h;
    r->req.pool = &r->pool;
    r->req.conn = conn;
    r->req.method = cc_pool_strdup(&r->pool, method);
    r->req.path = cc_pool_strdup(&r->pool, url);
    r->req.body = "";
    const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (request_id_ok(id)) {
        r->req.request_id = cc_pool_strdup(&r->pool, id);
    } else {
        unsigned char raw[12];
        char *hex = cc_pool_alloc(&r->pool, 25);
        randombytes_buf(raw, sizeof raw);
        if (hex)
            sodium_bin2hex(hex, 25, raw, sizeof raw);
        r->req.request_id = hex;
    }
    if (!r->req.method || !r->req.path || !r->req.request_id) {
        cc_pool_release(&r->pool);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    route(h, r);
    r->cap = r->route && (r->route->flags & CC_HTTP_LARGE) ? h->cfg.max_large_body : h->cfg.max_body;
    atomic_fetch_add(&h->inflight, 1);
    return r;
}

void cc_http_add_header(struct cc_http_req *req, struct cc_http_resp *resp, const char *name,
                        const char *value)
{
    struct cc_http_header *hd = cc_pool_alloc(req->pool, sizeof *hd);
    if (!hd)
        return;
    hd->name = cc_pool_strdup(req->pool, name);
    hd->value = cc_pool_strdup(req->pool, value);
    hd->next = resp->headers;
    resp->headers = hd;
}

/* Ends the stream's life: its owner forgets it, release runs, it is freed. */
static void stream_free(void *cls)
{
    struct cc_http_stream *st = cls;
    if (st->owner)
        st->owner->stream = NULL;
    if (st->release)
        st->release(st->arg);
    free(st);
}

/* Drops what an earlier answer set (body, stream) before a new one is set. */
static void resp_reset(struct cc_http_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    if (resp->stream)
        stream_free(resp->stream);
    resp->stream = NULL;
}

void cc_http_stream(struct cc_http_resp *resp, int status, const char *content_type,
                    cc_http_stream_fn fn, void *arg, void (*release)(void *arg))
{
    struct cc_http_stream *st = malloc(sizeof *st);
    resp_reset(resp);
    if (!st) {
        if (release)
            release(arg);
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    *st = (struct cc_http_stream){fn, arg, release, NULL};
    resp->status = status;
    resp->content_type = content_type;
    resp->stream = st;
}

int cc_http_stopping(struct cc_http_req *req)
{
    return atomic_load(&((struct request *)req)->h->stopping) != 0;
}

void cc_http_text(struct cc_http_resp *resp, int status, const char *content_type,
                  const char *text, size_t len)
{
    resp_reset(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = malloc(len + 1);
    resp->len = resp->body ? len : 0;
    if (resp->body) {
        memcpy(resp->body, text, len);
        resp->body[len] = '\0';
    } else {
        resp->status = 500;
    }
}

void cc_http_empty(struct cc_http_resp *resp, int status)
{
    cc_http_text(resp, status, NULL, "", 0);
}

void cc_http_json(struct cc_http_resp *resp, int status, cJSON *json)
{
    char *s = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!s) {
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    resp_reset(resp);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = s;
    resp->len = strlen(s);
}

void cc_http_error(struct cc_http_resp *resp, enum cc_status st, const char *message)
{
    char esc[512];
    struct cc_buf b = CC_BUF_INIT;
    cc_json_escape(esc, sizeof esc, message ? message : cc_status_str(st));
    cc_buf_addf(&b, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", cc_status_code(st), esc);
    resp_reset(resp);
    resp->status = cc_status_http(st);
    resp->content_type = "application/json";
    resp->body = cc_buf_detach(&b, &resp->len);
    if (!resp->body)
        resp->len = 0;
}

const char *cc_http_header(struct cc_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void cc_http_peer(struct cc_http_req *req, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(out, cap, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

const char *cc_http_query(struct cc_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* 1 when a string of the JSON text `s` (already parsed) holds \u0000. */
static int has_escaped_nul(const char *s, size_t len)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            in_string = !in_string;
        } else if (in_string && s[i] == '\\' && i + 1 < len) {
            if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4))
                return 1;
            i++; /* the escaped character never ends the string */
        }
    }
    return 0;
}

const char *cc_json_parse_strict(const char *s, size_t len, cJSON **out)
{
    const char *end = NULL;
    *out = NULL;
    if (!cc_utf8_valid(s, len))
        return "body is not valid UTF-8";
    if (memchr(s, '\0', len))
        return "body holds a NUL byte";
    cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (!root)
        return "body is not valid JSON";
    while (end && end < s + len && *end && strchr(" \t\r\n", *end))
        end++;
    const char *why = !end || end != s + len ? "body has data after the JSON value"
                      : has_escaped_nul(s, len) ? "a string holds \\u0000 (NUL)"
                                                : NULL;
    if (why)
        cJSON_Delete(root);
    else
        *out = root;
    return why;
}

/* Parses a JSON body; returns the reason it is refused, or NULL. */
static const char *parse_json(struct request *r)
{
    if (r->req.body_len == 0)
        return NULL;
    const char *why = cc_json_parse_strict(r->req.body, r->req.body_len, &r->req.json);
    if (!why && !cJSON_IsObject(r->req.json))
        why = "body must be a JSON object";
    return why;
}

/* The guard's record of the request's connection, or NULL. */
static struct guard_conn *guard_of(struct request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->req.conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void dispatch(struct request *r, struct cc_http_resp *resp)
{
    const char *why;
    cc_http_guard_arrived(&r->h->guard, guard_of(r)); /* the handler may take its time */
    if (r->early != CC_OK) {
        cc_http_error(resp, r->early, r->early_why);
    } else if (r->too_large) {
        cc_http_error(resp, CC_ERR_TOO_LARGE, "request body is too large");
    } else if ((r->route->flags & CC_HTTP_JSON) && (why = parse_json(r))) {
        cc_http_error(resp, CC_ERR_INVALID, why);
    } else {
        r->route->fn(r->route->arg, &r->req, resp);
        if (!resp->status && r->defer == DEFER_NONE)
            cc_http_error(resp, CC_ERR_INTERNAL, "handler gave no answer");
    }
}

struct cc_http_deferred *cc_http_defer(struct cc_http_req *req)
{
    struct request *r = (struct request *)req;
    if (r->h->cfg.pool_threads <= 0 || r->defer != DEFER_NONE)
        return NULL;
    r->defer = DEFER_HANDLING;
    return (struct cc_http_deferred *)r;
}

struct cc_http_req *cc_http_deferred_req(struct cc_http_deferred *d)
{
    return &((struct request *)d)->req;
}

void cc_http_resume(struct cc_http_deferred *d, struct cc_http_resp *resp)
{
    struct request *r = (struct request *)d;
    pthread_mutex_lock(&r->lock);
    r->later = *resp;
    memset(resp, 0, sizeof *resp);
    if (!r->later.status)
        cc_http_error(&r->later, CC_ERR_INTERNAL, "deferred without an answer");
    int suspended = r->defer == DEFER_SUSPENDED;
    r->defer = DEFER_READY;
    if (suspended)
        MHD_resume_connection(r->req.conn);
    pthread_mutex_unlock(&r->lock);
}

/* After the handler deferred: suspends the connection unless the answer
 * already came. Returns 1 when the answer is ready to send now. */
static int suspend_unless_ready(struct request *r, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&r->lock);
    int ready = r->defer == DEFER_READY;
    if (!ready) {
        r->defer = DEFER_SUSPENDED;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&r->lock);
    return ready;
}

/* MHD's reader of a streamed body: asks the stream's function, counts bytes. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct cc_http_stream *st = cls;
    (void)pos;
    ssize_t n = st->fn(st->arg, buf, max);
    if (n <= 0 || (size_t)n > max)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (st->owner)
        st->owner->bytes_out += (size_t)n;
    return n;
}

static int is_event_stream(const struct cc_http_resp *resp)
{
    return resp->content_type && strncmp(resp->content_type, "text/event-stream", 17) == 0;
}

/* The MHD response for `resp`; the body or stream passes to it (freed on failure). */
static struct MHD_Response *make_response(struct request *r, struct cc_http_resp *resp)
{
    struct MHD_Response *mr;
    if (!resp->stream) {
        mr = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (!mr)
            free(resp->body);
        resp->body = NULL;
        return mr;
    }
    struct cc_http_stream *st = resp->stream;
    resp->stream = NULL;
    mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st,
                                           stream_free);
    if (!mr) {
        stream_free(st);
        return NULL;
    }
    st->owner = r;
    r->stream = st;
    if (is_event_stream(resp)) {
        MHD_add_response_header(mr, "Cache-Control", "no-cache");
        MHD_add_response_header(mr, "X-Accel-Buffering", "no");
    }
    return mr;
}

static enum MHD_Result send_response(struct request *r, struct MHD_Connection *conn,
                                     struct cc_http_resp *resp)
{
    struct MHD_Response *mr = make_response(r, resp);
    if (!mr)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(mr, "Content-Type", resp->content_type);
    MHD_add_response_header(mr, "X-Request-Id", r->req.request_id);
    int retry_after = 0, sniff = 0, cache = is_event_stream(resp); /* no-cache set already */
    for (struct cc_http_header *hd = resp->headers; hd; hd = hd->next)
        if (hd->name && hd->value) {
            MHD_add_response_header(mr, hd->name, hd->value);
            retry_after |= !strcasecmp(hd->name, "Retry-After");
            cache |= !strcasecmp(hd->name, "Cache-Control");
            sniff |= !strcasecmp(hd->name, "X-Content-Type-Options");
        }
    if (resp->status == 503 && !retry_after) /* a dependency is down: try again soon */
        MHD_add_response_header(mr, "Retry-After", CC_HTTP_RETRY_AFTER_S);
    if (!cache) /* answers carry tokens and personal data: nothing is kept unless said so */
        MHD_add_response_header(mr, "Cache-Control", "no-store");
    if (!sniff)
        MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    r->status = resp->status;
    r->bytes_out = r->stream ? 0 : resp->len;
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

/* Bodies far over the cap are refused at once without reading them. */
static int refuse_unread(struct request *r, struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    int64_t n;
    return cl && cc_parse_int(cl, 0, INT64_MAX, &n) == 0 &&
           (uint64_t)n > (uint64_t)r->cap * EARLY_REJECT_FACTOR;
}

/* What the request's head says about its framing (framing_error). */
struct framing {
    int content_length, transfer_encoding, host;
    const char *first_length;
    int lengths_differ;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (!strcasecmp(key, "Content-Length")) {
        if (f->content_length++ == 0)
            f->first_length = value;
        else if (strcmp(f->first_length ? f->first_length : "", value ? value : "") != 0)
            f->lengths_differ = 1;
    } else if (!strcasecmp(key, "Transfer-Encoding")) {
        f->transfer_encoding++;
    } else if (!strcasecmp(key, "Host")) {
        f->host++;
    }
    return MHD_YES;
}

/* Refuses a head whose framing is ambiguous, as RFC 9112 asks (sections 3.2
 * and 6.3), before libmicrohttpd picks one reading and a proxy in front may
 * pick another (request smuggling): Content-Length given twice with
 * different values, Content-Length with Transfer-Encoding, an HTTP/1.1
 * request without Host. NULL when the head is fine. (A malformed
 * Content-Length such as -1 never reaches here: libmicrohttpd answers it.) */
static const char *framing_error(struct MHD_Connection *conn, const char *version)
{
    struct framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.lengths_differ)
        return "conflicting Content-Length headers";
    if (f.content_length && f.transfer_encoding)
        return "Content-Length and Transfer-Encoding together";
    if (!f.host && version && !strcmp(version, "HTTP/1.1"))
        return "an HTTP/1.1 request needs a Host header";
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct cc_http *h = cls;
    struct request *r = *con_cls;
    struct cc_http_resp resp = {0};
    if (!r) {
        if (!(r = request_new(h, conn, url, method)))
            return MHD_NO;
        *con_cls = r;
        const char *bad_framing = framing_error(conn, version);
        if (bad_framing) { /* answered at once; the connection closes (body unread) */
            r->early = CC_ERR_INVALID, r->early_why = bad_framing;
            dispatch(r, &resp);
            cc_http_add_header(&r->req, &resp, "Connection", "close");
            return send_response(r, conn, &resp);
        }
        if (!refuse_unread(r, conn))
            return MHD_YES;
        r->too_large = 1;
        dispatch(r, &resp);
        return send_response(r, conn, &resp);
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > r->cap)
            r->too_large = 1; /* keep reading, answer 413 at the end */
        else if (r->early == CC_OK && cc_buf_add(&r->body, upload, *upload_size) != CC_OK)
            r->early = CC_ERR_NOMEM;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->status) /* already answered on the first call */
        return MHD_YES;
    if (r->defer == DEFER_NONE) {
        if (r->body.data) {
            r->req.body = r->body.data;
            r->req.body_len = r->body.len;
        }
        dispatch(r, &resp);
        if (r->defer == DEFER_NONE)
            return send_response(r, conn, &resp);
        resp_reset(&resp); /* a handler that deferred gave no answer now */
        if (!suspend_unless_ready(r, conn))
            return MHD_YES;
    }
    pthread_mutex_lock(&r->lock); /* resumed, or the answer came before suspending */
    int ready = r->defer == DEFER_READY;
    if (ready)
        resp = r->later, r->later = (struct cc_http_resp){0};
    pthread_mutex_unlock(&r->lock);
    return ready ? send_response(r, conn, &resp) : MHD_YES;
}

static void log_access(struct cc_http *h, struct request *r, double seconds)
{
    char path[512], route_s[256], method[32], members[1024], labels[384];
    cc_json_escape(path, sizeof path, r->req.path);
    cc_json_escape(method, sizeof method, r->req.method);
    cc_json_escape(route_s, sizeof route_s, r->req.route);
    snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\",code=\"%d\"", route_s,
             r->route ? r->route->method : "other", r->status);
    cc_metric_add(h->m_requests, labels, 1);
    snprintf(labels, sizeof labels, "route=\"%s\"", route_s);
    cc_metric_observe(h->m_seconds, labels, seconds);
    if (r->route && (r->route->flags & CC_HTTP_NO_LOG) && r->status < 400)
        return;
    snprintf(members, sizeof members,
             "\"request_id\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"route\":\"%s\","
             "\"status\":%d,\"bytes\":%zu,\"ms\":%.3f",
             r->req.request_id, method, path, route_s, r->status,
             r->bytes_out, seconds * 1000);
    cc_log_write_fields(r->status >= 500 ? CC_LOG_ERROR : CC_LOG_INFO, "http", members);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct cc_http *h = cls;
    struct request *r = *con_cls;
    (void)conn, (void)toe;
    if (!r)
        return;
    cc_http_guard_answered(&h->guard, guard_of(r)); /* the next request must come in time */
    if (r->stream) /* the stream may outlive the request: MHD frees it later */
        r->stream->owner = NULL;
    log_access(h, r, (double)(cc_time_mono_us() - r->start_us) / 1e6);
    cJSON_Delete(r->req.json);
    cc_buf_release(&r->body);
    resp_reset(&r->later);
    cc_pool_release(&r->pool);
    pthread_mutex_destroy(&r->lock);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

/* Decodes %XX in a URL path or argument in place, but keeps %00 as it is: a
 * NUL would cut the text short (a file link with %00 appended would still
 * name the file) and no path or argument of ours holds one. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *out = s;
    (void)cls, (void)conn;
    for (const char *in = s; *in; in++) {
        unsigned v;
        if (*in == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2]) &&
            sscanf(in + 1, "%2x", &v) == 1 && v != 0) {
            *out++ = (char)v;
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* Connections open and close: the guard tracks them (for its deadlines). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct cc_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? cc_http_guard_open(&h->guard, ci->connect_fd) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        cc_http_guard_close(&h->guard, *socket_context);
        *socket_context = NULL;
    }
}

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
    char host[64];
    int64_t port;
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host ||
        cc_parse_int(colon + 1, 0, 65535, &port) != 0)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) == 1 ? 0 : -1;
}

static void set_limits(struct cc_http_config *c)
{
    if (c->max_conns <= 0)
        c->max_conns = c->pool_threads > 0 ? 20000 : 4000;
    if (c->max_conns_per_ip <= 0)
        c->max_conns_per_ip = 256;
    if (c->request_timeout_s <= 0)
        c->request_timeout_s = 30;
    if (c->idle_timeout_s <= 0)
        c->idle_timeout_s = 120;
}

/* The MHD daemon: an epoll loop on a pool of threads, or a thread per
 * connection; both limit connections in total and per client address. */
static struct MHD_Daemon *start_daemon(struct cc_http *h, struct sockaddr_in *sa)
{
    const struct cc_http_config *c = &h->cfg;
    unsigned flags = c->pool_threads > 0 ? MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME
                                         : MHD_USE_THREAD_PER_CONNECTION |
                                               MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    struct MHD_OptionItem pool[] = {
        {c->pool_threads > 0 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         c->pool_threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(
        flags | MHD_USE_ITC, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        h, MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)c->max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)c->idle_timeout_s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_END);
}

enum cc_status cc_http_start(struct cc_http **out, const struct cc_http_config *cfg,
                             const struct cc_http_route *routes, int n)
{
    static const double bounds[] = {.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5};
    struct sockaddr_in sa;
    if (parse_addr(cfg->addr, &sa) != 0)
        return CC_ERR_INVALID;
    struct cc_http *h = calloc(1, sizeof *h);
    if (!h || !(h->routes = malloc(sizeof *routes * (size_t)n))) {
        free(h);
        return CC_ERR_NOMEM;
    }
    memcpy(h->routes, routes, sizeof *routes * (size_t)n);
    h->nroutes = n;
    h->cfg = *cfg;
    if (!h->cfg.max_large_body)
        h->cfg.max_large_body = h->cfg.max_body;
    set_limits(&h->cfg);
    if (cc_http_guard_start(&h->guard, h->cfg.request_timeout_s) != 0) {
        free(h->routes);
        free(h);
        return CC_ERR_NOMEM;
    }
    if (cfg->metrics) {
        h->m_requests = cc_metrics_counter(cfg->metrics, "cc_http_requests_total",
                                           "HTTP requests by route, method and status code");
        h->m_seconds = cc_metrics_histogram(cfg->metrics, "cc_http_request_duration_seconds",
                                            "HTTP request duration by route", bounds,
                                            (int)(sizeof bounds / sizeof bounds[0]));
    }
    h->d = start_daemon(h, &sa);
    if (!h->d) {
        CC_ERROR("http: cannot listen on %s", cfg->addr);
        cc_http_guard_stop(&h->guard);
        free(h->routes);
        free(h);
        return CC_ERR_IO;
    }
    *out = h;
    return CC_OK;
}

void cc_http_stop(struct cc_http *h, int64_t timeout_ms)
{
    if (!h)
        return;
    atomic_store(&h->stopping, 1); /* streams end, so the wait below is short */
    MHD_socket s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    for (int64_t waited = 0; atomic_load(&h->inflight) > 0 && waited < timeout_ms; waited += 10)
        usleep(10000);
    MHD_stop_daemon(h->d);
    cc_http_guard_stop(&h->guard); /* after the daemon: every connection is closed */
    free(h->routes);
    free(h);
}
