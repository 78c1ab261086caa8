/* rpc.c - the generic verbs on configuration objects, served over NATS on
 * cc.registry.obj.<kind>.<verb> with cc.v1.ObjectRequest / ObjectReply.
 * It only dispatches: the helpers the kinds share are in ops.c, so the kinds
 * call ops.c and rpc.c calls the kinds, no circle. */
#include "presence.h"
#include "registry.h"
#include "routing_index.h"
#include "cc_log.h"
#include "cc_time.h"
#include "pbmerge.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500

static const char *const readonly_fields[] = {"id", "created_at", "updated_at", "system",
                                              "has_credentials", "archived", NULL};

static enum cc_status stamp(const struct kind *k, ProtobufCMessage *obj,
                            const ProtobufCMessage *old)
{
    char id[64], now[32];
    cc_time_format_ms(cc_time_now_ms(), now, sizeof now);
    if (old) {
        enum cc_status st = store_set_str(obj, "id", store_field_str(old, "id"));
        if (st == CC_OK)
            st = store_set_str(obj, "created_at", store_field_str(old, "created_at"));
        return st == CC_OK ? store_set_str(obj, "updated_at", now) : st;
    }
    store_new_id(&k->store, id, sizeof id);
    enum cc_status st = store_set_str(obj, "id", id);
    if (st == CC_OK)
        st = store_set_str(obj, "created_at", now);
    return st == CC_OK ? store_set_str(obj, "updated_at", now) : st;
}

/* 1 when user `obj` may be routed to: an enabled agent, not archived. */
static int routable(const ProtobufCMessage *obj)
{
    const Cc__V1__User *u = (const Cc__V1__User *)obj;
    return u && u->agent && u->agent->enabled && !u->archived;
}

/* prepare, uniqueness and write, under the lock the caller holds; a written
 * user's routing index entries follow (role, agent settings may change), and
 * an agent deactivated by this write leaves callcenter at once. */
static enum cc_status save(struct op *op, const struct kind *k, ProtobufCMessage *obj,
                           const ProtobufCMessage *old)
{
    enum cc_status st = stamp(k, obj, old);
    if (st == CC_OK && k->prepare)
        st = k->prepare(op, obj, old);
    if (st == CC_OK)
        st = store_check_unique(op->reg->redis, &k->store, obj, op->why, sizeof op->why);
    if (st == CC_OK)
        st = store_put(op->reg->redis, &k->store, obj, old);
    if (st == CC_OK && k == &kind_users) {
        routing_index_user(op->reg, (const Cc__V1__User *)obj);
        if (old && routable(old) && !routable(obj))
            presence_deactivated(op->reg, store_field_str(obj, "id"));
    }
    return st;
}

static enum cc_status do_create(struct op *op, const struct kind *k,
                                const Cc__V1__ObjectRequest *req, ProtobufCMessage **out)
{
    struct store_lock lk;
    if (!req->has_body)
        return op_fail(op, CC_ERR_INVALID, "body required");
    *out = protobuf_c_message_unpack(k->store.desc, NULL, req->body.len, req->body.data);
    if (!*out)
        return op_fail(op, CC_ERR_INVALID, "unreadable %s", k->store.noun);
    enum cc_status st = k->authorize(op, *out);
    if (st != CC_OK || (st = store_lock(op->reg->redis, &lk)) != CC_OK)
        return st;
    st = save(op, k, *out, NULL);
    store_unlock(op->reg->redis, &lk);
    return st;
}

/* Reads `id` as the caller may see it: 404 when hidden. */
static enum cc_status load(struct op *op, const struct kind *k, const char *id,
                           ProtobufCMessage **out)
{
    if (!id || !*id)
        return op_fail(op, CC_ERR_INVALID, "id required");
    enum cc_status st = store_get(op->reg->redis, &k->store, id, out);
    if (st == CC_OK && k->visible && !k->visible(op, *out)) {
        protobuf_c_message_free_unpacked(*out, NULL);
        *out = NULL;
        st = CC_ERR_NOT_FOUND;
    }
    if (st == CC_ERR_NOT_FOUND)
        op_fail(op, st, "no such %s", k->store.noun);
    return st;
}

static enum cc_status do_get(struct op *op, const struct kind *k,
                             const Cc__V1__ObjectRequest *req, ProtobufCMessage **out)
{
    enum cc_status st = load(op, k, req->id, out);
    return st == CC_OK ? k->authorize(op, *out) : st;
}

static enum cc_status do_update(struct op *op, const struct kind *k,
                                const Cc__V1__ObjectRequest *req, ProtobufCMessage **out)
{
    struct store_lock lk;
    ProtobufCMessage *patch = NULL, *old = NULL;
    if (!req->has_body)
        return op_fail(op, CC_ERR_INVALID, "body required");
    patch = protobuf_c_message_unpack(k->store.desc, NULL, req->body.len, req->body.data);
    if (!patch)
        return op_fail(op, CC_ERR_INVALID, "unreadable %s", k->store.noun);
    enum cc_status st = store_lock(op->reg->redis, &lk);
    if (st != CC_OK)
        goto out;
    if ((st = load(op, k, req->id, &old)) != CC_OK || (st = k->authorize(op, old)) != CC_OK)
        goto unlock;
    if (!(*out = pb_copy(old))) {
        st = CC_ERR_NOMEM;
        goto unlock;
    }
    st = pb_merge(out, patch, req->fields, req->n_fields, readonly_fields, op->why,
                  sizeof op->why);
    if (st == CC_OK)
        st = k->authorize(op, *out); /* e.g. a manager may not make an admin */
    if (st == CC_OK)
        st = save(op, k, *out, old);
unlock:
    store_unlock(op->reg->redis, &lk);
out:
    if (old)
        protobuf_c_message_free_unpacked(old, NULL);
    protobuf_c_message_free_unpacked(patch, NULL);
    return st;
}

static enum cc_status do_delete(struct op *op, const struct kind *k,
                                const Cc__V1__ObjectRequest *req)
{
    struct store_lock lk;
    ProtobufCMessage *obj = NULL;
    enum cc_status st = store_lock(op->reg->redis, &lk);
    if (st != CC_OK)
        return st;
    if ((st = load(op, k, req->id, &obj)) == CC_OK && (st = k->authorize(op, obj)) == CC_OK &&
        (!k->before_delete || (st = k->before_delete(op, obj)) == CC_OK))
        st = store_delete(op->reg->redis, &k->store, obj);
    store_unlock(op->reg->redis, &lk);
    if (obj)
        protobuf_c_message_free_unpacked(obj, NULL);
    return st;
}

struct visible_ctx {
    struct op *op;
    const struct kind *k;
};

static int keep_visible(void *arg, const ProtobufCMessage *obj)
{
    struct visible_ctx *v = arg;
    return !v->k->visible || v->k->visible(v->op, obj);
}

static void do_list(struct op *op, const struct kind *k, const Cc__V1__ObjectRequest *req,
                    const struct cc_nats_msg *m)
{
    Cc__V1__ObjectReply rep = CC__V1__OBJECT_REPLY__INIT;
    ProtobufCMessage **items = NULL;
    size_t n = 0, limit = DEFAULT_LIMIT;
    char *next = NULL;
    struct visible_ctx v = {op, k};
    enum cc_status st = k->authorize(op, NULL);
    if (req->page && req->page->has_limit)
        limit = req->page->limit < 1 ? 1 : req->page->limit > MAX_LIMIT ? MAX_LIMIT : req->page->limit;
    if (st == CC_OK)
        st = store_page(op->reg->redis, &k->store, req->page ? req->page->cursor : NULL, limit,
                        keep_visible, &v, &items, &n, &next);
    if (st == CC_ERR_INVALID)
        op_fail(op, st, "bad cursor");
    ProtobufCBinaryData *bins = st == CC_OK ? calloc(n ? n : 1, sizeof *bins) : NULL;
    for (size_t i = 0; bins && i < n; i++) {
        if (k->redact)
            k->redact(op, items[i]);
        bins[i].len = protobuf_c_message_get_packed_size(items[i]);
        bins[i].data = malloc(bins[i].len ? bins[i].len : 1);
        if (bins[i].data)
            protobuf_c_message_pack(items[i], bins[i].data);
        else
            st = CC_ERR_NOMEM;
    }
    if (st == CC_OK && !bins)
        st = CC_ERR_NOMEM;
    if (st == CC_OK) {
        rep.n_items = n, rep.items = bins, rep.next_cursor = next;
        cc_nats_respond(op->reg->nats, m, &rep.base);
    } else {
        cc_nats_respond_error(op->reg->nats, m, st, op->why[0] ? op->why : NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (bins)
            free(bins[i].data);
        protobuf_c_message_free_unpacked(items[i], NULL);
    }
    free(bins);
    free(items);
    free(next);
}

static int parse_verb(const char *s, enum verb *v)
{
    static const char *names[] = {"create", "get", "list", "update", "delete", "archive",
                                  "unarchive"};
    for (int i = 0; i < 7; i++)
        if (strcmp(s, names[i]) == 0) {
            *v = (enum verb)i;
            return 0;
        }
    return -1;
}

/* Runs one verb; answers the request in every case. */
static void serve(struct op *op, const struct kind *k, const Cc__V1__ObjectRequest *req,
                  const struct cc_nats_msg *m)
{
    ProtobufCMessage *obj = NULL;
    enum cc_status st;
    switch (op->verb) {
    case VERB_LIST:
        do_list(op, k, req, m);
        return;
    case VERB_CREATE:
        st = do_create(op, k, req, &obj);
        break;
    case VERB_GET:
        st = do_get(op, k, req, &obj);
        break;
    case VERB_UPDATE:
        st = do_update(op, k, req, &obj);
        break;
    case VERB_DELETE:
        st = do_delete(op, k, req);
        break;
    case VERB_ARCHIVE:
    case VERB_UNARCHIVE:
        st = k == &kind_users ? users_set_archived(op, req->id, op->verb == VERB_ARCHIVE, &obj)
                              : op_fail(op, CC_ERR_NOT_FOUND, "only users are archived");
        break;
    default:
        st = op_fail(op, CC_ERR_NOT_FOUND, "no such verb");
        break;
    }
    if (st == CC_OK && op->verb != VERB_GET) {
        const char *what[] = {"created", "", "", "updated", "deleted", "archived", "unarchived"};
        registry_changed(op->reg, k->store.name, obj ? store_field_str(obj, "id") : req->id,
                         what[op->verb], op->caller);
    }
    if (st != CC_OK)
        cc_nats_respond_error(op->reg->nats, m, st, op->why[0] ? op->why : NULL);
    else if (obj) {
        if (k->redact)
            k->redact(op, obj);
        registry_reply(op->reg, m, obj);
    }
    else
        cc_nats_respond(op->reg->nats, m, NULL);
    if (obj)
        protobuf_c_message_free_unpacked(obj, NULL);
}

/* cc.registry.obj.<kind>.<verb> */
static void on_object(void *arg, const struct cc_nats_msg *m)
{
    static const Cc__V1__Caller nobody = CC__V1__CALLER__INIT;
    struct registry *reg = arg;
    char kind[64], verb[32];
    struct op op = {reg, &nobody, VERB_GET, NULL, 0, {0}};
    const struct kind *k = NULL;
    if (sscanf(m->subject, SUBJ_REGISTRY_OBJ_SCAN, kind, verb) != 2 || !(k = kind_find(kind)) ||
        parse_verb(verb, &op.verb) != 0) {
        cc_nats_respond_error(reg->nats, m, CC_ERR_NOT_FOUND, "no such object kind or verb");
        return;
    }
    Cc__V1__ObjectRequest *req = cc__v1__object_request__unpack(NULL, m->len, m->data);
    if (!req) {
        cc_nats_respond_error(reg->nats, m, CC_ERR_INVALID, "unreadable request");
        return;
    }
    if (req->caller)
        op.caller = req->caller;
    op.parent_id = req->parent_id;
    op.include_archived = req->has_archived && req->archived;
    serve(&op, k, req, m);
    char labels[128];
    snprintf(labels, sizeof labels, "kind=\"%s\",verb=\"%s\"", k->store.name, verb);
    cc_metric_add(reg->m_requests, labels, 1);
    cc__v1__object_request__free_unpacked(req, NULL);
}

enum cc_status rpc_start(struct registry *reg)
{
    enum cc_status st = CC_OK;
    reg->m_requests = cc_metrics_counter(reg->svc->metrics, "cc_registry_requests_total",
                                         "Configuration requests served, by kind and verb");
    for (int i = 0; i < reg->workers && st == CC_OK; i++)
        st = cc_nats_subscribe(reg->nats, SUBJ_REGISTRY_OBJ_ALL, "registry", on_object, reg);
    return st;
}
