/* cc_http.h - the HTTP server every service uses, on libmicrohttpd.
 *
 * A service gives a routing table; the server matches the path (with {name}
 * parameters), caps the body (413), parses JSON bodies when the route asks
 * (400 on malformed JSON or invalid UTF-8), gives every request an id
 * (X-Request-Id), writes one access-log line and records metrics. Handlers
 * run on the connection's thread and allocate from the request's pool. A
 * handler may answer with a stream (cc_http_stream, e.g. server-sent events)
 * whose body is produced by a callback until it ends. */
#ifndef CC_HTTP_H
#define CC_HTTP_H

#include "cc_metrics.h"
#include "cc_pool.h"
#include "cc_status.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CC_HTTP_MAX_PARAMS 4

enum cc_http_flags {
    CC_HTTP_JSON = 1 << 0,     /* body is JSON: parsed into req->json (NULL when empty) */
    CC_HTTP_LARGE = 1 << 1,    /* body cap is the server's large cap (file uploads) */
    CC_HTTP_NO_LOG = 1 << 2,   /* no access-log line (health probes, metrics) */
};

struct cc_http_req {
    const char *method;
    const char *path;                         /* without the query string */
    const char *route;                        /* the matched pattern, for logs/metrics */
    const char *params[CC_HTTP_MAX_PARAMS];   /* {name} values in pattern order */
    int nparams;
    const char *body;                         /* raw body, NUL-terminated; "" when none */
    size_t body_len;
    cJSON *json;                              /* CC_HTTP_JSON routes: the parsed body */
    const char *request_id;
    struct cc_pool *pool;                     /* freed when the request ends */
    void *conn;                               /* the adapter's connection */
};

struct cc_http_header {
    const char *name, *value; /* pool strings */
    struct cc_http_header *next;
};

struct cc_http_stream; /* a streamed body, private to cc_http.c */

struct cc_http_resp {
    int status;
    const char *content_type;
    char *body; /* malloc'ed; the server frees it */
    size_t len;
    struct cc_http_header *headers;
    struct cc_http_stream *stream; /* set by cc_http_stream (then body is unused); server-owned */
};

/* Produces the next bytes of a streamed body into `buf` (at most `max`).
 * Returns the number of bytes written (> 0), or -1 to end the stream. It may
 * block until there is something to send (each connection has its own
 * thread), but must come back soon once cc_http_stopping() is 1. Returning 0
 * is not allowed (the server would spin) and ends the stream too. */
typedef ssize_t (*cc_http_stream_fn)(void *arg, char *buf, size_t max);

typedef void (*cc_http_handler)(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

struct cc_http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/v1/users/{id}" */
    cc_http_handler fn;
    void *arg;
    unsigned flags; /* enum cc_http_flags */
};

struct cc_http;

struct cc_http_config {
    const char *addr;      /* "host:port" */
    size_t max_body;       /* bytes, 413 beyond */
    size_t max_large_body; /* bytes, for CC_HTTP_LARGE routes */
    struct cc_metrics *metrics; /* may be NULL */
    int pool_threads;      /* 0: a thread per connection; N: an epoll loop on N threads, where
                            * handlers must not block long and may defer (cc_http_defer) */
    /* limits against greedy and slow clients; 0 takes the default in brackets */
    int max_conns;         /* connections at once [4000; 20000 with pool_threads] */
    int max_conns_per_ip;  /* connections at once from one client address [256] */
    int request_timeout_s; /* a request's header and body must arrive within [30] */
    int idle_timeout_s;    /* a connection silent this long is closed [120] */
};

/* Starts serving `routes` (n entries, copied) in threads of its own.
 * Returns CC_OK, CC_ERR_INVALID for a bad address, CC_ERR_IO when the port
 * cannot be bound. */
enum cc_status cc_http_start(struct cc_http **out, const struct cc_http_config *cfg,
                             const struct cc_http_route *routes, int n);

/* Stops accepting, raises the stopping flag (cc_http_stopping) so streams
 * end, lets requests in flight finish (up to `timeout_ms`), then closes every
 * connection and frees the server. */
void cc_http_stop(struct cc_http *h, int64_t timeout_ms);

/* Request header `name`, or NULL. Valid while the request lasts. */
const char *cc_http_header(struct cc_http_req *req, const char *name);

/* The client's IP address as text into `out` ("?" when unknown). */
void cc_http_peer(struct cc_http_req *req, char *out, size_t cap);

/* Query argument `name`, or NULL. Valid while the request lasts. */
const char *cc_http_query(struct cc_http_req *req, const char *name);

/* Sets a JSON answer: `json` is rendered and deleted (ownership passes). */
void cc_http_json(struct cc_http_resp *resp, int status, cJSON *json);

/* Sets an answer from text (copied). */
void cc_http_text(struct cc_http_resp *resp, int status, const char *content_type,
                  const char *text, size_t len);

/* Sets a streamed answer: `fn(arg, ...)` is called on the connection's thread
 * for each piece of the body (`max` is the room left in the connection's
 * write buffer) until it returns -1; the body is sent chunked (HTTP/1.1). Event streams (`text/event-stream`) also
 * get `Cache-Control: no-cache` and `X-Accel-Buffering: no`. `release(arg)`
 * (may be NULL) is called exactly once when the server is done with the
 * stream, also when the answer is replaced or cannot be sent; it may run
 * after the request has ended, so `arg` must not live in req->pool. The
 * access-log line of a stream is written when the stream ends. */
void cc_http_stream(struct cc_http_resp *resp, int status, const char *content_type,
                    cc_http_stream_fn fn, void *arg, void (*release)(void *arg));

/* 1 once the server is stopping (cc_http_stop), else 0: a stream function
 * checks it and ends its stream. `req` must be a request in progress. */
int cc_http_stopping(struct cc_http_req *req);

/* A request whose answer comes later, from any thread (long-polls). */
struct cc_http_deferred;

/* Defers the answer of `req` (pool_threads servers only): the handler returns
 * without an answer, the connection is suspended and holds no thread until
 * cc_http_resume. Returns NULL when the server cannot defer (thread per
 * connection, or out of memory): the handler then answers at once. The
 * request (its pool, params, headers) stays valid until cc_http_resume. */
struct cc_http_deferred *cc_http_defer(struct cc_http_req *req);

/* Answers a deferred request with `resp` (its body, stream and headers pass
 * to the server; headers must come from the request's pool, e.g. through
 * cc_http_add_header before). Call it exactly once per cc_http_defer; `d`
 * is invalid afterwards. Safe from any thread. */
void cc_http_resume(struct cc_http_deferred *d, struct cc_http_resp *resp);

/* The request of a deferred answer, valid until cc_http_resume. */
struct cc_http_req *cc_http_deferred_req(struct cc_http_deferred *d);

/* Sets an empty answer (204, 201 without body...). */
void cc_http_empty(struct cc_http_resp *resp, int status);

/* Sets the error answer for `st`: its HTTP status and
 * {"error":{"code":"...","message":"..."}} (message NULL: the status text).
 * Every 503 (a dependency down or loading) leaves with Retry-After
 * (CC_HTTP_RETRY_AFTER_S) unless the handler set its own. */
#define CC_HTTP_RETRY_AFTER_S "1"
void cc_http_error(struct cc_http_resp *resp, enum cc_status st, const char *message);

/* Adds a response header; `name` and `value` are copied into the pool. */
void cc_http_add_header(struct cc_http_req *req, struct cc_http_resp *resp, const char *name,
                        const char *value);

/* 1 when the `len` bytes at `s` are valid UTF-8 (no overlongs, no surrogates). */
int cc_utf8_valid(const char *s, size_t len);

/* Parses `len` bytes as exactly one JSON value into *out (the caller frees it
 * with cJSON_Delete): valid UTF-8, nothing but whitespace after the value, no
 * NUL in the text nor as \u0000 in a string (cJSON would cut the string
 * there). Returns NULL, or the reason the text is refused (*out is NULL). */
const char *cc_json_parse_strict(const char *s, size_t len, cJSON **out);

/* Matches `path` against `pattern`; on a match fills params (pool strings,
 * percent-decoding not applied) and returns 1. */
int cc_http_match(const char *pattern, const char *path, struct cc_pool *pool,
                  const char **params, int *nparams);

#endif
