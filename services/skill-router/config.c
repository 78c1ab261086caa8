/* config.c - the configuration skill-router routes by (queues and teams):
 * loaded from agent-registry over NATS at start and again on every change it
 * publishes (cc.registry.changed.<kind>), so replicas never read a stale
 * configuration for long. */
#include "router.h"
#include "cc_log.h"

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

static void free_all(ProtobufCMessage **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(items[i], NULL);
    free(items);
}

/* Appends the objects of one list reply; CC_ERR_NOMEM on failure. */
static enum cc_status take_page(const ProtobufCMessageDescriptor *desc,
                                const Cc__V1__ObjectReply *list, ProtobufCMessage ***items,
                                size_t *n)
{
    ProtobufCMessage **more = realloc(*items, (*n + list->n_items + 1) * sizeof **items);
    if (!more)
        return CC_ERR_NOMEM;
    *items = more;
    for (size_t i = 0; i < list->n_items; i++) {
        ProtobufCMessage *obj = protobuf_c_message_unpack(desc, NULL, list->items[i].len,
                                                          list->items[i].data);
        if (obj)
            (*items)[(*n)++] = obj;
    }
    return CC_OK;
}

/* Reads every page of `kind`; on CC_OK the caller owns *out. */
static enum cc_status load(struct router *r, const char *kind,
                           const ProtobufCMessageDescriptor *desc, ProtobufCMessage ***out,
                           size_t *n)
{
    Cc__V1__Caller caller = service_caller();
    Cc__V1__Page page = CC__V1__PAGE__INIT;
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage **items = NULL;
    char subject[96], *cursor = NULL;
    enum cc_status st;
    snprintf(subject, sizeof subject, "cc.registry.obj.%s.list", kind);
    *n = 0;
    page.has_limit = 1, page.limit = 500;
    req.caller = &caller, req.page = &page;
    do {
        ProtobufCMessage *rep = NULL;
        page.cursor = cursor;
        st = cc_nats_request(r->nats, subject, &req.base, &cc__v1__object_reply__descriptor,
                             5000, &rep, NULL, 0);
        free(cursor);
        cursor = NULL;
        if (st == CC_OK) {
            Cc__V1__ObjectReply *list = (Cc__V1__ObjectReply *)rep;
            st = take_page(desc, list, &items, n);
            if (st == CC_OK && list->next_cursor && !(cursor = strdup(list->next_cursor)))
                st = CC_ERR_NOMEM;
            protobuf_c_message_free_unpacked(rep, NULL);
        }
    } while (st == CC_OK && cursor);
    if (st != CC_OK) {
        free_all(items, *n);
        return st;
    }
    *out = items;
    return CC_OK;
}

static void config_free(struct config *c)
{
    free_all((ProtobufCMessage **)c->queues, c->nqueues);
    free_all((ProtobufCMessage **)c->teams, c->nteams);
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
    enum cc_status st = load(r, "queues", &cc__v1__queue__descriptor,
                             (ProtobufCMessage ***)&c->queues, &c->nqueues);
    if (st == CC_OK)
        st = load(r, "teams", &cc__v1__team__descriptor, (ProtobufCMessage ***)&c->teams,
                  &c->nteams);
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
    for (int i = 0; i < 2 && st == CC_OK; i++) {
        char subject[96];
        snprintf(subject, sizeof subject, "cc.registry.changed.%s", kinds[i]);
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
