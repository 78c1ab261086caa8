/* cc_config.c - environment variables, checked, with --help. */
#include "cc_config.h"
#include "cc_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cc_env_var common_vars[] = {
    {"CC_NATS_URL", "nats://127.0.0.1:4222",
     "NATS URL(s), comma-separated (nats:// or tls://, [user:password@] or [token@])"},
    {"CC_REDIS_URL", "redis://127.0.0.1:6379",
     "Redis URL (redis://[[user]:password@]host:port[/db])"},
    {"CC_NATS_TLS_CA", NULL, "CA file verifying the NATS server's TLS certificate (tls:// URLs)"},
    {"CC_REDIS_SENTINELS", NULL,
     "Sentinels host:port,host:port,...: the primary is asked of them (user, password, db "
     "from CC_REDIS_URL)"},
    {"CC_REDIS_MASTER", "mymaster", "the master name the Sentinels watch"},
    {"CC_DOMAIN", CC_DOMAIN_DEFAULT,
     "routing domain, [a-z0-9-]{1,32}: every Redis key carries the hash tag {cc:<domain>} "
     "(one per deployment; deployments with different domains may share one Redis)"},
    {"CC_NATS_STREAM_REPLICAS", "1", "copies of each JetStream stream (3 on a 3-node cluster)"},
    {"CC_HTTP_ADDR", NULL, "HTTP listen address host:port (overrides the port variable)"},
    {"CC_LOG_LEVEL", "info", "debug, info, warn or error"},
    {"CC_DEV_SECRETS", "0",
     "1 allows placeholder (change-me...) and short secrets (development only)"},
    {"CC_HTTP_MAX_BODY", "1048576", "largest accepted HTTP body in bytes (413 beyond)"},
    {"CC_REDIS_POOL", "8", "Redis connections per process"},
    {"CC_HTTP_MAX_CONNS", "4000", "HTTP connections at once (20000 for epoll services)"},
    {"CC_HTTP_MAX_CONNS_PER_IP", "256", "HTTP connections at once from one client address"},
    {"CC_HTTP_REQUEST_TIMEOUT_S", "30", "seconds a request's header and body may take to arrive"},
    {"CC_HTTP_IDLE_TIMEOUT_S", "120", "seconds a silent HTTP connection stays open"},
    {NULL, NULL, NULL},
};

const char *cc_env_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

int cc_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum cc_status cc_env_int(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = cc_env_str(name, NULL);
    if (!v) {
        *out = def;
        return CC_OK;
    }
    if (cc_parse_int(v, min, max, out) != 0) {
        fprintf(stderr, "%s: not an integer in [%lld, %lld]: %s\n", name, (long long)min,
                (long long)max, v);
        return CC_ERR_INVALID;
    }
    return CC_OK;
}

static void print_vars(const struct cc_env_var *vars)
{
    for (; vars && vars->name; vars++)
        printf("  %-28s %s%s%s%s\n", vars->name, vars->help, vars->def ? " [default: " : "",
               vars->def ? vars->def : "", vars->def ? "]" : "");
}

static void print_help(const char *service, const char *port_var, int default_port,
                       const struct cc_env_var *extra)
{
    char port_default[16];
    snprintf(port_default, sizeof port_default, "%d", default_port);
    struct cc_env_var port[] = {{port_var, port_default, "HTTP port when CC_HTTP_ADDR is unset"},
                                {NULL, NULL, NULL}};
    printf("usage: %s [--help]\n\nConfigured by environment variables:\n", service);
    print_vars(common_vars);
    print_vars(port);
    print_vars(extra);
}

static int copy(char *dst, size_t cap, const char *src, const char *name)
{
    if (strlen(src) >= cap) {
        fprintf(stderr, "%s: too long\n", name);
        return -1;
    }
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

/* The HTTP server's limits (0 = cc_http's default). Returns 0, or -1. */
static int http_limits(struct cc_config *cfg)
{
    int64_t conns, per_ip, request_s, idle_s;
    if (cc_env_int("CC_HTTP_MAX_CONNS", 0, 0, 100000, &conns) ||
        cc_env_int("CC_HTTP_MAX_CONNS_PER_IP", 0, 0, 100000, &per_ip) ||
        cc_env_int("CC_HTTP_REQUEST_TIMEOUT_S", 0, 0, 3600, &request_s) ||
        cc_env_int("CC_HTTP_IDLE_TIMEOUT_S", 0, 0, 86400, &idle_s))
        return -1;
    cfg->http_max_conns = (int)conns, cfg->http_max_conns_per_ip = (int)per_ip;
    cfg->http_request_timeout_s = (int)request_s, cfg->http_idle_timeout_s = (int)idle_s;
    return 0;
}

enum cc_status cc_config_load(struct cc_config *cfg, const char *service, const char *port_var,
                              int default_port, const struct cc_env_var *extra, int argc,
                              char **argv)
{
    int64_t port, max_body, pool;
    memset(cfg, 0, sizeof *cfg);
    cfg->service = service;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(service, port_var, default_port, extra);
            exit(0);
        }
        fprintf(stderr, "%s: unknown argument %s (try --help)\n", service, argv[i]);
        return CC_ERR_INVALID;
    }
    const char *level = cc_env_str("CC_LOG_LEVEL", "info");
    if (cc_log_level_parse(level, &cfg->log_level) != 0) {
        fprintf(stderr, "CC_LOG_LEVEL: unknown level %s\n", level);
        return CC_ERR_INVALID;
    }
    const char *domain = cc_env_str("CC_DOMAIN", CC_DOMAIN_DEFAULT);
    if (cc_keys_init(domain) != CC_OK) {
        fprintf(stderr,
                "CC_DOMAIN: not a routing domain (1 to %d of a-z, 0-9, -): %s; refusing to start\n",
                CC_DOMAIN_MAX, domain);
        return CC_ERR_INVALID;
    }
    if (cc_env_int(port_var, default_port, 1, 65535, &port) ||
        cc_env_int("CC_HTTP_MAX_BODY", 1 << 20, 1024, (int64_t)1 << 30, &max_body) ||
        cc_env_int("CC_REDIS_POOL", 8, 1, 256, &pool) || http_limits(cfg))
        return CC_ERR_INVALID;
    cfg->http_max_body = (size_t)max_body;
    cfg->redis_pool = (int)pool;
    char addr[64];
    snprintf(addr, sizeof addr, "0.0.0.0:%d", (int)port);
    if (copy(cfg->nats_url, sizeof cfg->nats_url, cc_env_str("CC_NATS_URL", common_vars[0].def),
             "CC_NATS_URL") ||
        copy(cfg->redis_url, sizeof cfg->redis_url, cc_env_str("CC_REDIS_URL", common_vars[1].def),
             "CC_REDIS_URL") ||
        copy(cfg->http_addr, sizeof cfg->http_addr, cc_env_str("CC_HTTP_ADDR", addr),
             "CC_HTTP_ADDR") ||
        copy(cfg->redis_sentinels, sizeof cfg->redis_sentinels,
             cc_env_str("CC_REDIS_SENTINELS", ""), "CC_REDIS_SENTINELS") ||
        copy(cfg->redis_master, sizeof cfg->redis_master, cc_env_str("CC_REDIS_MASTER", "mymaster"),
             "CC_REDIS_MASTER"))
        return CC_ERR_INVALID;
    return CC_OK;
}
