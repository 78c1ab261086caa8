/* config.c - the configuration skill-router routes by (queues and teams):
 * loaded from agent-registry over NATS at start and again on every change it
 * publishes (cc.registry.changed.<kind>), so replicas never read a stale
 * configuration for long. */
#include "router.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_time.h"
#include "cc_subjects.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The router reads configuration as a trusted service on the bus. */
static Cc__V1__Caller service_caller(void)
{
    Cc__V1__Caller c = CC__V1__CALLER__INIT;
    c.user_id = CC_PB_STR("skill-router");
    c.role = CC_PB_STR("admin");
    return c;
}

static void config_free(struct config *c)
{
    cc_registry_free((ProtobufCMessage **)c->queues, c->nqueues);
    cc_registry_free((ProtobufCMessage **)c->teams, c->nteams);
    free(c);
}

static struct config *config_new(void)
{
    struct config *c = calloc(1, sizeof *c);
    if (c)
        atomic_init(&c->refs, 1);
    return c;
}

/* Loads queues and teams into a new version and puts it in place. */
static enum cc_status reload(struct router *r)
{
    struct config *c = config_new(), *old;
    if (!c)
        return CC_ERR_NOMEM;
    Cc__V1__Caller caller = service_caller();
    enum cc_status st = cc_registry_load(r->nats, "queues", &caller, &cc__v1__queue__descriptor,
                                         (ProtobufCMessage ***)&c->queues, &c->nqueues);
    if (st == CC_OK)
        st = cc_registry_load(r->nats, "teams", &caller, &cc__v1__team__descriptor,
                              (ProtobufCMessage ***)&c->teams, &c->nteams);
    if (st != CC_OK) {
        config_free(c);
        return st;
    }
    pthread_mutex_lock(&r->lock);
    old = r->config, r->config = c;
    pthread_mutex_unlock(&r->lock);
    config_put(old);
    return CC_OK;
}

static enum cc_status reload_cb(void *arg)
{
    return reload(arg);
}

static void on_changed(void *arg, const struct cc_nats_msg *m)
{
    (void)m;
    if (reload(arg) != CC_OK)
        CC_WARN("config: reloading after a change failed; keeping the previous version");
}

enum cc_status config_start(struct router *r)
{
    static const char *kinds[] = {"queues", "teams"};
    enum cc_status st = (r->config = config_new()) ? CC_OK : CC_ERR_NOMEM;
    cc_refresh_init(&r->refresh);
    for (int i = 0; i < 2 && st == CC_OK; i++) {
        char subject[96];
        snprintf(subject, sizeof subject, SUBJ_REGISTRY_CHANGED, kinds[i]);
        st = cc_nats_subscribe(r->nats, subject, NULL, on_changed, r);
    }
    for (int tries = 0; st == CC_OK && tries < 100; tries++) { /* the registry may start later */
        if (reload(r) == CC_OK)
            return CC_OK;
        usleep(100000);
    }
    if (st == CC_OK)
        CC_WARN("config: agent-registry did not answer; loading on the first change");
    return st;
}

void config_release(struct router *r)
{
    config_put(r->config);
    r->config = NULL;
    cc_refresh_release(&r->refresh);
}

const struct config *config_get_for_queue(struct router *r, const char *id)
{
    int64_t miss_us = cc_time_mono_us();
    const struct config *c = config_get(r);
    if (!id || config_queue(c, id))
        return c;
    config_put(c);
    if (cc_refresh_on_miss(&r->refresh, miss_us, reload_cb, r) != CC_OK)
        CC_WARN("config: reloading on a miss failed; answering from the previous version");
    return config_get(r);
}

const struct config *config_get(struct router *r)
{
    pthread_mutex_lock(&r->lock);
    struct config *c = r->config;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&r->lock);
    return c;
}

void config_put(const struct config *c)
{
    struct config *m = (struct config *)c;
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        config_free(m);
}

const Cc__V1__Queue *config_queue(const struct config *c, const char *id)
{
    for (size_t i = 0; id && i < c->nqueues; i++)
        if (!strcmp(c->queues[i]->id, id))
            return c->queues[i];
    return NULL;
}

const Cc__V1__Team *config_team(const struct config *c, const char *id)
{
    for (size_t i = 0; id && i < c->nteams; i++)
        if (!strcmp(c->teams[i]->id, id))
            return c->teams[i];
    return NULL;
}
