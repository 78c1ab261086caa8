/* channels.c - the channels chat-gateway serves, with their credentials:
 * loaded from agent-registry as a service (which gets credentials that staff
 * never see) at start and again on every change it publishes
 * (cc.registry.changed.channels). One immutable version is shared by
 * reference count, as skill-router does with queues. */
#include "chatgw.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_time.h"
#include "cc_subjects.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct channels *channels_new(void)
{
    struct channels *c = calloc(1, sizeof *c);
    if (c)
        atomic_init(&c->refs, 1);
    return c;
}

static enum cc_status reload(struct chatgw *g)
{
    Cc__V1__Caller caller = CC__V1__CALLER__INIT;
    struct channels *c = channels_new(), *old;
    if (!c)
        return CC_ERR_NOMEM;
    caller.user_id = CC_PB_STR("chat-gateway"), caller.role = CC_PB_STR("admin");
    caller.has_service = 1, caller.service = 1;
    enum cc_status st = cc_registry_load(g->nats, "channels", &caller, &cc__v1__channel__descriptor,
                                         (ProtobufCMessage ***)&c->items, &c->n);
    if (st != CC_OK) {
        free(c);
        return st;
    }
    pthread_mutex_lock(&g->lock);
    old = g->channels, g->channels = c;
    pthread_mutex_unlock(&g->lock);
    channels_put(old);
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
        CC_WARN("channels: reloading after a change failed; keeping the previous version");
}

enum cc_status channels_start(struct chatgw *g)
{
    enum cc_status st = (g->channels = channels_new()) ? CC_OK : CC_ERR_NOMEM;
    cc_refresh_init(&g->refresh);
    if (st == CC_OK)
        st = cc_nats_subscribe(g->nats, SUBJ_REGISTRY_CHANGED_CHANNELS, NULL, on_changed, g);
    for (int tries = 0; st == CC_OK && tries < 100; tries++) { /* the registry may start later */
        if (reload(g) == CC_OK)
            return CC_OK;
        usleep(100000);
    }
    if (st == CC_OK)
        CC_WARN("channels: agent-registry did not answer; loading on the first change");
    return st;
}

void channels_release(struct chatgw *g)
{
    channels_put(g->channels);
    g->channels = NULL;
    cc_refresh_release(&g->refresh);
}

const struct channels *channels_get(struct chatgw *g)
{
    pthread_mutex_lock(&g->lock);
    struct channels *c = g->channels;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&g->lock);
    return c;
}

void channels_put(const struct channels *c)
{
    struct channels *m = (struct channels *)c;
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        cc_registry_free((ProtobufCMessage **)m->items, m->n);
        free(m);
    }
}

const Cc__V1__Channel *channel_find(const struct channels *c, const char *id)
{
    for (size_t i = 0; id && i < c->n; i++)
        if (!strcmp(c->items[i]->id, id))
            return c->items[i];
    return NULL;
}

const struct channels *channels_get_for(struct chatgw *g, const char *id,
                                        const Cc__V1__Channel **ch)
{
    int64_t miss_us = cc_time_mono_us();
    const struct channels *c = channels_get(g);
    if ((*ch = channel_find(c, id)) || !id)
        return c;
    channels_put(c);
    if (cc_refresh_on_miss(&g->refresh, miss_us, reload_cb, g) != CC_OK)
        CC_WARN("channels: reloading on a miss failed; answering from the previous version");
    c = channels_get(g);
    *ch = channel_find(c, id);
    return c;
}
