/* config.c - the configuration skill-router routes by (queues and teams):
 * loaded from agent-registry over NATS at start and again on every change it
 * publishes (cc.registry.changed.<kind>), so replicas never read a stale
 * configuration for long. */
#include "router.h"
#include "cc_log.h"

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
static enum cc_status take_page(struct config_cache *c, const Cc__V1__ObjectReply *list,
                                ProtobufCMessage ***items, size_t *n)
{
    ProtobufCMessage **more = realloc(*items, (*n + list->n_items + 1) * sizeof **items);
    if (!more)
        return CC_ERR_NOMEM;
    *items = more;
    for (size_t i = 0; i < list->n_items; i++) {
        ProtobufCMessage *obj = protobuf_c_message_unpack(c->desc, NULL, list->items[i].len,
                                                          list->items[i].data);
        if (obj)
            (*items)[(*n)++] = obj;
    }
    return CC_OK;
}

/* Reads every page of the kind; on CC_OK the caller owns *out. */
static enum cc_status load(struct router *r, struct config_cache *c, ProtobufCMessage ***out,
                           size_t *n)
{
    Cc__V1__Caller caller = service_caller();
    Cc__V1__Page page = CC__V1__PAGE__INIT;
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage **items = NULL;
    char subject[96], *cursor = NULL;
    enum cc_status st;
    snprintf(subject, sizeof subject, "cc.registry.obj.%s.list", c->kind);
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
            st = take_page(c, list, &items, n);
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

static enum cc_status reload(struct router *r, struct config_cache *c)
{
    ProtobufCMessage **items = NULL;
    size_t n = 0;
    enum cc_status st = load(r, c, &items, &n);
    if (st != CC_OK)
        return st;
    pthread_rwlock_wrlock(&r->lock);
    ProtobufCMessage **old = c->items;
    size_t oldn = c->n;
    c->items = items, c->n = n;
    pthread_rwlock_unlock(&r->lock);
    free_all(old, oldn);
    return CC_OK;
}

struct reload_arg {
    struct router *r;
    struct config_cache *c;
};

static void on_changed(void *arg, const struct cc_nats_msg *m)
{
    struct reload_arg *ra = arg;
    (void)m;
    if (reload(ra->r, ra->c) != CC_OK)
        CC_WARN("config: reloading %s after a change failed; keeping the previous ones",
                ra->c->kind);
}

enum cc_status config_start(struct router *r)
{
    static struct reload_arg args[2];
    struct config_cache *caches[] = {&r->queues, &r->teams};
    enum cc_status st = CC_OK;
    r->queues.kind = "queues", r->queues.desc = &cc__v1__queue__descriptor;
    r->teams.kind = "teams", r->teams.desc = &cc__v1__team__descriptor;
    for (int i = 0; i < 2 && st == CC_OK; i++) {
        char subject[96];
        args[i].r = r, args[i].c = caches[i];
        snprintf(subject, sizeof subject, "cc.registry.changed.%s", caches[i]->kind);
        st = cc_nats_subscribe(r->nats, subject, NULL, on_changed, &args[i]);
    }
    for (int tries = 0; st == CC_OK && tries < 100; tries++) { /* the registry may start later */
        if (reload(r, &r->queues) == CC_OK && reload(r, &r->teams) == CC_OK)
            return CC_OK;
        usleep(100000);
    }
    if (st == CC_OK)
        CC_WARN("config: agent-registry did not answer; loading on the first change");
    return st;
}

void config_release(struct router *r)
{
    free_all(r->queues.items, r->queues.n);
    free_all(r->teams.items, r->teams.n);
    memset(&r->queues, 0, sizeof r->queues);
    memset(&r->teams, 0, sizeof r->teams);
}

/* Finds `id` in `c`; call under the read lock. */
static const ProtobufCMessage *find(const struct config_cache *c, const char *id)
{
    for (size_t i = 0; id && i < c->n; i++) {
        const char *oid = *(char *const *)((const char *)c->items[i] +
                                           protobuf_c_message_descriptor_get_field_by_name(
                                               c->desc, "id")->offset);
        if (oid && !strcmp(oid, id))
            return c->items[i];
    }
    return NULL;
}

enum cc_status config_copy(struct router *r, struct config_cache *c, const char *id,
                           ProtobufCMessage **out)
{
    pthread_rwlock_rdlock(&r->lock);
    const ProtobufCMessage *obj = find(c, id);
    size_t len = obj ? protobuf_c_message_get_packed_size(obj) : 0;
    uint8_t *buf = obj ? malloc(len + 1) : NULL;
    if (buf)
        protobuf_c_message_pack(obj, buf);
    pthread_rwlock_unlock(&r->lock);
    *out = buf ? protobuf_c_message_unpack(c->desc, NULL, len, buf) : NULL;
    free(buf);
    return *out ? CC_OK : obj ? CC_ERR_NOMEM : CC_ERR_NOT_FOUND;
}

enum cc_status config_ids(struct router *r, struct config_cache *c, char ***ids, size_t *n)
{
    pthread_rwlock_rdlock(&r->lock);
    *n = c->n;
    *ids = calloc(c->n + 1, sizeof **ids);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(c->desc, "id");
    for (size_t i = 0; *ids && i < c->n; i++)
        (*ids)[i] = strdup(*(char *const *)((const char *)c->items[i] + f->offset));
    pthread_rwlock_unlock(&r->lock);
    return *ids ? CC_OK : CC_ERR_NOMEM;
}
