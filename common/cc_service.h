/* cc_service.h - what every service binary does the same way: read its
 * configuration, log, connect NATS and Redis, serve /healthz, /readyz and
 * /metrics beside its own routes, and shut down cleanly on SIGTERM/SIGINT
 * (stop accepting, finish requests in flight, drain NATS). */
#ifndef CC_SERVICE_H
#define CC_SERVICE_H

#include "cc_config.h"
#include "cc_http.h"
#include "cc_metrics.h"
#include "cc_nats.h"
#include "cc_redis.h"

struct cc_service {
    struct cc_config cfg;
    struct cc_nats *nats;
    struct cc_redis *redis;
    struct cc_metrics *metrics;
    struct cc_http *http;
    struct cc_metric *m_up; /* cc_dependency_up{dep=...} */
    int http_pool_threads;  /* set before serving: 0 a thread per connection, N an epoll
                             * loop on N threads where handlers may defer (cc_http_defer) */
};

/* Loads configuration (handling --help), blocks SIGTERM/SIGINT in every
 * thread so cc_service_wait can take them, and connects NATS and Redis
 * (both keep retrying while down). On failure everything made is released. */
enum cc_status cc_service_init(struct cc_service *s, const char *name, const char *port_var,
                               int default_port, const struct cc_env_var *extra, int argc,
                               char **argv);

/* Starts HTTP with `routes` plus /healthz, /readyz and /metrics.
 * `max_large_body` is the cap of CC_HTTP_LARGE routes (0: the normal cap). */
enum cc_status cc_service_serve(struct cc_service *s, const struct cc_http_route *routes, int n,
                                size_t max_large_body);

/* Blocks until SIGTERM or SIGINT. */
void cc_service_wait(struct cc_service *s);

/* Stops HTTP (finishing requests in flight), drains NATS, frees everything. */
void cc_service_release(struct cc_service *s);

/* Serves, waits for a signal and releases: the tail of every main().
 * Returns the process exit code. */
int cc_service_run(struct cc_service *s, const struct cc_http_route *routes, int n,
                   size_t max_large_body);

#endif
