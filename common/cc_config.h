/* cc_config.h - configuration from environment variables.
 *
 * Every binary reads the common variables below plus its own, described in a
 * table of struct cc_env_var so that `--help` lists exactly what is read. */
#ifndef CC_CONFIG_H
#define CC_CONFIG_H

#include "cc_log.h"
#include "cc_status.h"

#include <stddef.h>
#include <stdint.h>

struct cc_env_var {
    const char *name; /* CC_... */
    const char *def;  /* default shown in --help; NULL when required/none */
    const char *help; /* one line */
};

struct cc_config {
    const char *service;         /* binary name, e.g. "agent-registry" */
    char nats_url[1024];         /* CC_NATS_URL: one URL or a comma-separated list */
    char redis_url[256];         /* CC_REDIS_URL */
    char redis_sentinels[512];   /* CC_REDIS_SENTINELS host:port,...; "" without Sentinel */
    char redis_master[128];      /* CC_REDIS_MASTER, the Sentinel master name */
    char http_addr[128];         /* CC_HTTP_ADDR, else 0.0.0.0:<port var> */
    enum cc_log_level log_level; /* CC_LOG_LEVEL */
    size_t http_max_body;        /* CC_HTTP_MAX_BODY, bytes */
    int redis_pool;              /* CC_REDIS_POOL, connections */
    int http_max_conns;          /* CC_HTTP_MAX_CONNS (0: cc_http's default) */
    int http_max_conns_per_ip;   /* CC_HTTP_MAX_CONNS_PER_IP */
    int http_request_timeout_s;  /* CC_HTTP_REQUEST_TIMEOUT_S */
    int http_idle_timeout_s;     /* CC_HTTP_IDLE_TIMEOUT_S */
};

/* Fills `cfg` from the environment. `port_var` names the service's own port
 * variable (e.g. "CC_API_PORT") and `default_port` its default. `extra` lists
 * the service's own variables for --help (NULL-terminated by name, may be NULL).
 * Handles --help (prints and exits 0). Returns CC_OK, or CC_ERR_INVALID after
 * writing the reason to stderr. */
enum cc_status cc_config_load(struct cc_config *cfg, const char *service, const char *port_var,
                              int default_port, const struct cc_env_var *extra, int argc,
                              char **argv);

/* Value of `name`, or `def` when unset or empty. The string is the
 * environment's; do not free it. */
const char *cc_env_str(const char *name, const char *def);

/* Parses `name` as an integer in [min, max]; `def` when unset. Returns CC_OK,
 * or CC_ERR_INVALID (and logs the variable) when it is not such a number. */
enum cc_status cc_env_int(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out);

/* Parses all of `s` as a base-10 integer in [min, max]. Returns 0 or -1. */
int cc_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
