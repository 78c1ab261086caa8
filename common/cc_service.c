/* cc_service.c - service start-up, health endpoints and shutdown. */
#include "cc_service.h"
#include "cc_log.h"
#include "cc_secret.h"
#include "cc_time.h"

#include <signal.h>
#include <sodium.h>
#include <string.h>

#define SHUTDOWN_HTTP_MS 10000
#define SHUTDOWN_NATS_MS 5000

static void healthz(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    (void)arg, (void)req;
    cc_http_text(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

static void readyz(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct cc_service *s = arg;
    (void)req;
    if (!cc_nats_connected(s->nats))
        cc_http_error(resp, CC_ERR_UNAVAILABLE, "NATS is not connected");
    else if (cc_redis_ping(s->redis) != CC_OK)
        cc_http_error(resp, CC_ERR_UNAVAILABLE, "Redis does not answer");
    else
        cc_http_text(resp, 200, "application/json", "{\"status\":\"ready\"}", 18);
}

static void metrics(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    struct cc_service *s = arg;
    struct cc_buf b = CC_BUF_INIT;
    (void)req;
    if (cc_metrics_render(s->metrics, &b) != CC_OK) {
        cc_buf_release(&b);
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = cc_buf_detach(&b, &resp->len);
}

static void collect(struct cc_metrics *m, void *arg)
{
    struct cc_service *s = arg;
    (void)m;
    cc_metric_set(s->m_up, "dep=\"nats\"", cc_nats_connected(s->nats));
    cc_metric_set(s->m_up, "dep=\"redis\"", cc_redis_ping(s->redis) == CC_OK);
}

static enum cc_status make_metrics(struct cc_service *s)
{
    enum cc_status st = cc_metrics_new(&s->metrics);
    if (st != CC_OK)
        return st;
    struct cc_metric *start = cc_metrics_gauge(s->metrics, "process_start_time_seconds",
                                               "Start time of the process since the Unix epoch");
    s->m_up = cc_metrics_gauge(s->metrics, "cc_dependency_up",
                               "1 when the dependency (nats, redis) is reachable");
    if (!start || !s->m_up)
        return CC_ERR_NOMEM;
    cc_metric_set(start, NULL, (double)cc_time_now_ms() / 1000.0);
    cc_metrics_on_collect(s->metrics, collect, s);
    return CC_OK;
}

enum cc_status cc_service_init(struct cc_service *s, const char *name, const char *port_var,
                               int default_port, const struct cc_env_var *extra, int argc,
                               char **argv)
{
    sigset_t set;
    memset(s, 0, sizeof *s);
    enum cc_status st =
        cc_config_load(&s->cfg, name, port_var, default_port, extra, argc, argv);
    if (st != CC_OK)
        return st;
    cc_log_init(name, s->cfg.log_level);
    if (sodium_init() < 0)
        return CC_ERR_INTERNAL;
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread made after */
    /* placeholder credentials in the URLs are refused before anything connects */
    if ((st = cc_secret_url("CC_REDIS_URL", s->cfg.redis_url)) != CC_OK ||
        (st = cc_secret_url("CC_NATS_URL", s->cfg.nats_url)) != CC_OK ||
        (st = make_metrics(s)) != CC_OK ||
        (st = cc_redis_new(&s->redis, s->cfg.redis_url, s->cfg.redis_pool)) != CC_OK ||
        (s->cfg.redis_sentinels[0] &&
         (st = cc_redis_use_sentinels(s->redis, s->cfg.redis_sentinels, s->cfg.redis_master)) !=
             CC_OK) ||
        (st = cc_nats_connect(&s->nats, s->cfg.nats_url, name)) != CC_OK) {
        CC_ERROR("%s: cannot start: %s", name, cc_status_str(st));
        cc_service_release(s);
        return st;
    }
    return CC_OK;
}

enum cc_status cc_service_serve(struct cc_service *s, const struct cc_http_route *routes, int n,
                                size_t max_large_body)
{
    struct cc_http_route all[n + 3];
    struct cc_http_route health[] = {
        {"GET", "/healthz", healthz, s, CC_HTTP_NO_LOG},
        {"GET", "/readyz", readyz, s, CC_HTTP_NO_LOG},
        {"GET", "/metrics", metrics, s, CC_HTTP_NO_LOG},
    };
    memcpy(all, health, sizeof health);
    if (n > 0)
        memcpy(all + 3, routes, sizeof *routes * (size_t)n);
    struct cc_http_config hc = {s->cfg.http_addr, s->cfg.http_max_body, max_large_body,
                                s->metrics, s->http_pool_threads, s->cfg.http_max_conns,
                                s->cfg.http_max_conns_per_ip, s->cfg.http_request_timeout_s,
                                s->cfg.http_idle_timeout_s};
    enum cc_status st = cc_http_start(&s->http, &hc, all, n + 3);
    if (st == CC_OK)
        CC_INFO("%s listening on %s", s->cfg.service, s->cfg.http_addr);
    return st;
}

void cc_service_wait(struct cc_service *s)
{
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    CC_INFO("%s: signal %d, shutting down", s->cfg.service, sig);
}

void cc_service_release(struct cc_service *s)
{
    cc_http_stop(s->http, SHUTDOWN_HTTP_MS);
    s->http = NULL;
    CC_DEBUG("shutdown: http stopped");
    cc_nats_drain(s->nats, SHUTDOWN_NATS_MS);
    cc_nats_free(s->nats);
    s->nats = NULL;
    CC_DEBUG("shutdown: nats closed");
    cc_redis_free(s->redis);
    s->redis = NULL;
    cc_metrics_free(s->metrics);
    s->metrics = NULL;
    cc_nats_library_close();
}

int cc_service_run(struct cc_service *s, const struct cc_http_route *routes, int n,
                   size_t max_large_body)
{
    enum cc_status st = cc_service_serve(s, routes, n, max_large_body);
    if (st == CC_OK)
        cc_service_wait(s);
    cc_service_release(s);
    return st == CC_OK ? 0 : 1;
}
