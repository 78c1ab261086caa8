/* gateway.h - api-gateway's one shared object and how its modules meet.
 *
 * struct api_gateway holds the service (NATS, Redis), the OpenAPI document,
 * the HTTP routing table built from routes.c and the event hub of the SSE
 * streams (events.c). Every handler receives a
 * struct gw_route (the gateway plus the route's static forwarding spec) as
 * its `arg`, so no module needs global state. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "cc_service.h"

#include <stddef.h>
#include <stdint.h>

struct api_gateway;
struct fwd_spec; /* forward.h */
struct cc_events; /* cc_events.h */
struct sse_users; /* sse.c: open streams per user */

/* What a route handler receives as `arg`. */
struct gw_route {
    struct api_gateway *gw;
    const struct fwd_spec *spec; /* static: from the table in routes.c */
};

struct api_gateway {
    struct cc_service *svc; /* borrowed: NATS, Redis, config */
    char *openapi;          /* the OpenAPI document (malloc'ed), NULL when none */
    size_t openapi_len;
    struct cc_http_route *routes; /* malloc'ed, nroutes entries */
    struct gw_route *bound;       /* malloc'ed, the routes' args */
    int nroutes;
    struct cc_events *events; /* the desktops' event hub, owned */
    int64_t sse_keepalive_us; /* CC_SSE_KEEPALIVE_S: keepalives and session re-checks */
    struct sse_users *sse_users; /* open streams per user (CC_SSE_MAX_PER_USER), owned */
    const char *file_dir;     /* CC_FILES_DIR: uploads, shared with chat-gateway */
    size_t file_max_bytes;    /* CC_FILE_MAX_BYTES: the upload cap (413 beyond) */
};

/* The service's own environment variables, for --help (NULL-terminated). */
extern const struct cc_env_var api_gateway_env[];

/* Reads the service's variables, loads the OpenAPI document, builds the
 * routes and starts the event hub (subscribed to NATS last, so a failure
 * leaves no handler behind). `svc` must outlive gw. Returns CC_OK,
 * CC_ERR_INVALID (a bad variable), CC_ERR_NOMEM or the subscription's error
 * (then nothing is left to release). */
enum cc_status api_gateway_init(struct api_gateway *gw, struct cc_service *svc);

/* Frees what api_gateway_init made; HTTP must be stopped and NATS drained
 * first (cc_service_release does both). */
void api_gateway_release(struct api_gateway *gw);

#endif
