/* main.c - agent-registry: users, roles, permissions, sessions, every
 * configuration object (teams, skills, agent skills, queues, pause causes,
 * quick replies, results, channels) and the agent status/state machine with
 * its timers, served over NATS to api-gateway and the other services,
 * stored in Redis.
 *
 * Wiring only: configuration, connections and subscriptions. */
#include "presence.h"
#include "registry.h"
#include "reports.h"
#include "routing_index.h"
#include "cc_log.h"
#include "cc_secret.h"

#include <sodium.h>
#include <unistd.h>

static const struct cc_env_var vars[] = {
    {"CC_BOOTSTRAP_ADMIN_LOGIN", "admin", "login of the first admin, made when no user exists"},
    {"CC_BOOTSTRAP_ADMIN_PASSWORD", NULL, "password of the first admin (at least 8 characters)"},
    {"CC_PWHASH_OPSLIMIT", "2", "argon2id passes (libsodium opslimit)"},
    {"CC_PWHASH_MEMLIMIT_KB", "65536", "argon2id memory in KiB (libsodium memlimit)"},
    {"CC_LOGIN_MAX_FAILS", "5",
     "failed sign-ins of one login from one address before each further failure imposes a delay"},
    {"CC_LOGIN_LOCK_S", "300", "the longest such delay in seconds (they double from 1 s)"},
    {"CC_LOGIN_FORGET_S", "3600",
     "seconds without a failure after which the failures are forgotten"},
    {"CC_REGISTRY_WORKERS", "4", "requests served at once (NATS subscriptions per subject)"},
    {"CC_REPORT_RETENTION_DAYS", "400", "how long report counters are kept (days)"},
    {NULL, NULL, NULL},
};

static enum cc_status load_config(struct registry *reg)
{
    int64_t ops, mem, fails, lock, forget, workers;
    if (cc_env_int("CC_PWHASH_OPSLIMIT", 2, crypto_pwhash_OPSLIMIT_MIN, 10, &ops) ||
        cc_env_int("CC_PWHASH_MEMLIMIT_KB", 65536, 8, 1 << 22, &mem) ||
        cc_env_int("CC_LOGIN_MAX_FAILS", 5, 1, 1000, &fails) ||
        cc_env_int("CC_LOGIN_LOCK_S", 300, 1, 86400, &lock) ||
        cc_env_int("CC_LOGIN_FORGET_S", 3600, 1, 30 * 86400, &forget) ||
        cc_env_int("CC_REGISTRY_WORKERS", 4, 1, 32, &workers))
        return CC_ERR_INVALID;
    reg->pw_ops = (unsigned long long)ops;
    reg->pw_mem = (size_t)mem * 1024;
    reg->login_max_fails = (int)fails;
    reg->login_lock_s = (int)lock;
    reg->login_forget_s = (int)forget;
    reg->workers = (int)workers;
    return CC_OK;
}

/* First-start setup, then the routing index rebuilt from the stored users
 * and agent skills; waits up to 30 s for Redis, which may start after us.
 * The index is derived data: a failed rebuild is logged, not fatal. */
static enum cc_status bootstrap(struct registry *reg)
{
    enum cc_status st = auth_bootstrap(reg);
    for (int i = 0; i < 150 && (st == CC_ERR_UNAVAILABLE || st == CC_ERR_TIMEOUT); i++) {
        usleep(200000);
        st = auth_bootstrap(reg);
    }
    if (st != CC_OK)
        CC_ERROR("first-start setup failed: %s", cc_status_str(st));
    else if (routing_index_rebuild(reg) != CC_OK)
        CC_WARN("routing index not rebuilt: it is repaired at the next start");
    return st;
}

int main(int argc, char **argv)
{
    struct cc_service svc;
    struct registry reg = {0};
    if (cc_service_init(&svc, "agent-registry", "CC_REGISTRY_PORT", 8083, vars, argc, argv) !=
        CC_OK)
        return 1;
    reg.svc = &svc, reg.redis = svc.redis, reg.nats = svc.nats;
    if (cc_secret_env("CC_BOOTSTRAP_ADMIN_PASSWORD", 8) != CC_OK) {
        cc_service_release(&svc);
        return 1;
    }
    if (load_config(&reg) != CC_OK || bootstrap(&reg) != CC_OK || rpc_start(&reg) != CC_OK ||
        auth_start(&reg) != CC_OK || permissions_start(&reg) != CC_OK ||
        agent_skills_start(&reg) != CC_OK || presence_start(&reg) != CC_OK ||
        reports_start(&reg) != CC_OK || cc_service_serve(&svc, NULL, 0, 0) != CC_OK) {
        reports_stop(&reg);
        presence_stop(&reg);
        cc_service_release(&svc);
        reports_release(&reg);
        return 1;
    }
    cc_service_wait(&svc);
    reports_stop(&reg);  /* counts the status events waiting, with the connections released next */
    presence_stop(&reg); /* the timer thread uses the connections released next */
    cc_service_release(&svc);
    reports_release(&reg);
    return 0;
}
