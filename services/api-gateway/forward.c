/* forward.c - the generic JSON <-> protobuf forwarding of api-gateway. A
 * route's verb shape says what the cc.v1.ObjectRequest carries (path ids,
 * paging, the JSON body mapped to the kind's message, the PATCH field list)
 * and how the cc.v1.ObjectReply is answered (object, list, 204, ok).
 * Request bodies hold passwords: nothing here logs them. */
#include "forward.h"
#include "auth.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_log.h"
#include "cc_pbjson.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <string.h>

#define REGISTRY_TIMEOUT_MS 5000
#define MAX_LIMIT 500

enum {
    IN_ID = 1 << 0,     /* id = the last path parameter */
    IN_PARENT = 1 << 1, /* parent_id = the first path parameter */
    IN_SELF = 1 << 2,   /* id = the caller's user id */
    IN_BODY = 1 << 3,   /* body = the JSON body as the kind's message (required) */
    IN_FIELDS = 1 << 4, /* fields = the JSON body's top-level keys */
    IN_PAGE = 1 << 5,   /* page and archived from the query */
};

enum out_shape { OUT_OBJECT, OUT_LIST, OUT_EMPTY, OUT_OK };

static const struct shape {
    unsigned in; /* IN_* */
    enum out_shape out;
    int status; /* HTTP status on success */
} shapes[FWD_VERB_COUNT] = {
    [FWD_LIST] = {IN_PAGE, OUT_LIST, 200},
    [FWD_CREATE] = {IN_BODY, OUT_OBJECT, 201},
    [FWD_GET] = {IN_ID, OUT_OBJECT, 200},
    [FWD_UPDATE] = {IN_ID | IN_BODY | IN_FIELDS, OUT_OBJECT, 200},
    [FWD_DELETE] = {IN_ID, OUT_EMPTY, 204},
    [FWD_ACTION] = {IN_ID, OUT_OBJECT, 200},
    [FWD_CHILD_LIST] = {IN_PARENT | IN_PAGE, OUT_LIST, 200},
    [FWD_CHILD_PUT] = {IN_PARENT | IN_ID | IN_BODY, OUT_OBJECT, 200},
    [FWD_CHILD_DELETE] = {IN_PARENT | IN_ID, OUT_EMPTY, 204},
    [FWD_READ] = {0, OUT_OBJECT, 200},
    [FWD_WRITE] = {IN_BODY, OUT_OBJECT, 200},
    [FWD_SELF] = {IN_SELF, OUT_OBJECT, 200},
    [FWD_COMMAND] = {0, OUT_OK, 200},
};

/* Input-only members (User.password, Channel.credentials): agent-registry
 * never fills them, and answers leave them out rather than show them null. */
static const char *const write_only[] = {"password", "credentials"};

/* One forwarded request; strings point into the request and its pool. */
struct call {
    Cc__V1__Caller caller;
    Cc__V1__Page page;
    Cc__V1__ObjectRequest msg;
    char why[256]; /* why the request is refused (400) */
};

enum cc_status forward_pack(struct cc_pool *pool, const ProtobufCMessage *msg,
                            ProtobufCBinaryData *out)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = cc_pool_alloc(pool, len ? len : 1);
    if (!buf)
        return CC_ERR_NOMEM;
    out->len = protobuf_c_message_pack(msg, buf);
    out->data = buf;
    return CC_OK;
}

enum cc_status forward_fields_only(const cJSON *body, const char *const *allowed,
                                   struct cc_http_resp *resp)
{
    char why[128];
    if (!cJSON_IsObject(body)) {
        cc_http_error(resp, CC_ERR_INVALID, "body: a JSON object");
        return CC_ERR_INVALID;
    }
    for (const cJSON *f = body->child; f; f = f->next) {
        const char *const *a = allowed;
        while (*a && strcmp(f->string, *a) != 0)
            a++;
        if (!*a) {
            snprintf(why, sizeof why, "%.64s: not a field you can change", f->string);
            cc_http_error(resp, CC_ERR_INVALID, why);
            return CC_ERR_INVALID;
        }
    }
    return CC_OK;
}

void forward_ok(struct cc_http_resp *resp)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "status", "ok")) {
        cJSON_Delete(j);
        cc_http_error(resp, CC_ERR_NOMEM, NULL);
        return;
    }
    cc_http_json(resp, 200, j);
}

/* What a 503 says when nothing answers `subject`: the service behind it. */
static const char *unavailable(const char *subject)
{
    static const struct {
        const char *prefix, *text;
    } owners[] = {
        {SUBJ_REGISTRY_PREFIX, "agent-registry is unavailable"},
        {SUBJ_PRESENCE_PREFIX, "agent-registry is unavailable"},
        {SUBJ_ROUTER_PREFIX, "skill-router is unavailable"},
        {SUBJ_CHAT_PREFIX, "chat-gateway is unavailable"},
        {SUBJ_CALL_PREFIX, "call-router is unavailable"},
        {SUBJ_CRM_PREFIX, "crm-sync is unavailable"},
    };
    for (size_t i = 0; i < sizeof owners / sizeof *owners; i++)
        if (!strncmp(subject, owners[i].prefix, strlen(owners[i].prefix)))
            return owners[i].text;
    return "the service is unavailable";
}

enum cc_status forward_request(struct api_gateway *gw, const char *subject,
                               const ProtobufCMessage *msg,
                               const ProtobufCMessageDescriptor *reply_desc,
                               ProtobufCMessage **reply, struct cc_http_resp *resp)
{
    char err[256];
    enum cc_status st = cc_nats_request(gw->svc->nats, subject, msg, reply_desc,
                                        REGISTRY_TIMEOUT_MS, reply, err, sizeof err);
    if (st == CC_OK)
        return st;
    CC_DEBUG("%s: %s", subject, cc_status_str(st));
    if (err[0])
        cc_http_error(resp, st, err);
    else if (st == CC_ERR_UNAVAILABLE || st == CC_ERR_TIMEOUT)
        cc_http_error(resp, st, unavailable(subject));
    else
        cc_http_error(resp, st, NULL);
    return st;
}

/* ?limit=1..500, ?cursor=, ?archived=true|false. */
static enum cc_status set_page(struct call *c, struct cc_http_req *req)
{
    const char *limit = cc_http_query(req, "limit"), *cursor = cc_http_query(req, "cursor");
    const char *archived = cc_http_query(req, "archived");
    int64_t n;
    if (limit && cc_parse_int(limit, 1, MAX_LIMIT, &n) != 0) {
        snprintf(c->why, sizeof c->why, "limit must be an integer from 1 to %d", MAX_LIMIT);
        return CC_ERR_INVALID;
    }
    if (archived && strcmp(archived, "true") != 0 && strcmp(archived, "false") != 0) {
        snprintf(c->why, sizeof c->why, "archived must be true or false");
        return CC_ERR_INVALID;
    }
    c->page.has_limit = limit != NULL;
    c->page.limit = limit ? (uint32_t)n : 0;
    c->page.cursor = cursor && cursor[0] ? CC_PB_STR(cursor) : NULL;
    c->msg.page = &c->page;
    c->msg.has_archived = archived != NULL;
    c->msg.archived = archived && strcmp(archived, "true") == 0;
    return CC_OK;
}

#define MAX_FIELDS 256

/* Adds "prefix.key" for every null inside the nested objects of `obj`, so
 * that a PATCH can clear a nested field ({"agent": {"team_id": null}}). */
static void null_paths(struct cc_http_req *req, const cJSON *obj, const char *prefix, char **fields,
                       size_t *n)
{
    for (const cJSON *it = obj->child; it && *n < MAX_FIELDS; it = it->next) {
        char *path = cc_pool_printf(req->pool, "%s.%s", prefix, it->string);
        if (!path)
            return;
        if (cJSON_IsNull(it))
            fields[(*n)++] = path;
        else if (cJSON_IsObject(it))
            null_paths(req, it, path, fields, n);
    }
}

/* fields = the body's top-level keys, in order, then the dotted paths of
 * nested nulls (they live as long as the request). */
static enum cc_status set_fields(struct call *c, struct cc_http_req *req)
{
    size_t i = 0;
    c->msg.fields = cc_pool_alloc(req->pool, sizeof *c->msg.fields * MAX_FIELDS);
    if (!c->msg.fields)
        return CC_ERR_NOMEM;
    for (cJSON *it = req->json->child; it && i < MAX_FIELDS; it = it->next)
        c->msg.fields[i++] = it->string;
    for (cJSON *it = req->json->child; it; it = it->next)
        if (cJSON_IsObject(it))
            null_paths(req, it, it->string, c->msg.fields, &i);
    c->msg.n_fields = i;
    return CC_OK;
}

/* body = the JSON body mapped to `type` and packed. */
static enum cc_status set_body(struct call *c, const ProtobufCMessageDescriptor *type,
                               struct cc_http_req *req)
{
    ProtobufCMessage *obj = NULL;
    if (!req->json) {
        snprintf(c->why, sizeof c->why, "a JSON object body is required");
        return CC_ERR_INVALID;
    }
    enum cc_status st = cc_pbjson_from_json(type, req->json, &obj, c->why, sizeof c->why);
    if (st == CC_OK)
        st = forward_pack(req->pool, obj, &c->msg.body);
    c->msg.has_body = st == CC_OK;
    if (obj)
        protobuf_c_message_free_unpacked(obj, NULL);
    return st;
}

/* The last path parameter (the object), or the first (the parent). */
static char *param(struct cc_http_req *req, int last)
{
    if (req->nparams == 0)
        return NULL;
    return CC_PB_STR(req->params[last ? req->nparams - 1 : 0]);
}

static enum cc_status build(struct call *c, const struct fwd_spec *spec, struct cc_http_req *req)
{
    unsigned in = shapes[spec->verb].in;
    enum cc_status st = CC_OK;
    c->msg.caller = &c->caller;
    if (in & IN_ID)
        c->msg.id = param(req, 1);
    if (in & IN_PARENT)
        c->msg.parent_id = param(req, 0);
    if (in & IN_SELF)
        c->msg.id = c->caller.user_id;
    if (in & IN_PAGE)
        st = set_page(c, req);
    if (st == CC_OK && (in & IN_BODY))
        st = set_body(c, spec->type, req);
    if (st == CC_OK && (in & IN_FIELDS))
        st = set_fields(c, req);
    return st;
}

cJSON *forward_json(const ProtobufCMessage *msg)
{
    cJSON *j = cc_pbjson_to_json(msg, 1);
    for (size_t i = 0; j && i < sizeof write_only / sizeof *write_only; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(j, write_only[i]);
    return j;
}

/* `b` unpacked as `type` and mapped to JSON; NULL on failure. */
static cJSON *object_json(const ProtobufCMessageDescriptor *type, const ProtobufCBinaryData *b)
{
    ProtobufCMessage *obj = protobuf_c_message_unpack(type, NULL, b->len, b->data);
    if (!obj)
        return NULL;
    cJSON *j = forward_json(obj);
    protobuf_c_message_free_unpacked(obj, NULL);
    return j;
}

cJSON *forward_list(size_t n, cJSON *(*item)(const void *ctx, size_t i), const void *ctx,
                    const char *next)
{
    cJSON *j = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(j, "items");
    if (!items || !(next && next[0] ? cJSON_AddStringToObject(j, "next_cursor", next)
                                    : cJSON_AddNullToObject(j, "next_cursor")))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        cJSON *it = item(ctx, i);
        if (!it || !cJSON_AddItemToArray(items, it)) {
            cJSON_Delete(it);
            goto fail;
        }
    }
    return j;
fail:
    cJSON_Delete(j);
    return NULL;
}

struct packed_items {
    const ProtobufCMessageDescriptor *type;
    const Cc__V1__ObjectReply *rep;
};

static cJSON *packed_item(const void *ctx, size_t i)
{
    const struct packed_items *p = ctx;
    return object_json(p->type, &p->rep->items[i]);
}

static cJSON *list_json(const ProtobufCMessageDescriptor *type, const Cc__V1__ObjectReply *rep)
{
    struct packed_items p = {type, rep};
    return forward_list(rep->n_items, packed_item, &p, rep->next_cursor);
}

static void answer(const struct fwd_spec *spec, const Cc__V1__ObjectReply *rep,
                   struct cc_http_resp *resp)
{
    const struct shape *sh = &shapes[spec->verb];
    cJSON *j = NULL;
    if (sh->out == OUT_EMPTY) {
        cc_http_empty(resp, sh->status);
        return;
    }
    if (sh->out == OUT_OK) {
        forward_ok(resp);
        return;
    }
    if (sh->out == OUT_LIST)
        j = list_json(spec->type, rep);
    else if (rep->has_body)
        j = object_json(spec->type, &rep->body);
    if (!j) {
        CC_ERROR("%s: unreadable reply", spec->subject);
        cc_http_error(resp, CC_ERR_INTERNAL, "agent-registry gave an unreadable answer");
        return;
    }
    cc_http_json(resp, sh->status, j);
}

void forward_object(void *arg, struct cc_http_req *req, struct cc_http_resp *resp)
{
    const struct gw_route *rt = arg;
    const struct fwd_spec *spec = rt->spec;
    struct call c = {.caller = CC__V1__CALLER__INIT,
                     .page = CC__V1__PAGE__INIT,
                     .msg = CC__V1__OBJECT_REQUEST__INIT};
    ProtobufCMessage *rep = NULL;
    CC_ASSERT(spec->verb > FWD_SPECIAL && spec->verb < FWD_VERB_COUNT);
    if (auth_require(rt->gw, req, resp, &c.caller) != CC_OK)
        return;
    enum cc_status st = build(&c, spec, req);
    if (st != CC_OK) {
        cc_http_error(resp, st, c.why[0] ? c.why : NULL);
        return;
    }
    const ProtobufCMessageDescriptor *rd =
        shapes[spec->verb].out == OUT_OBJECT || shapes[spec->verb].out == OUT_LIST
            ? &cc__v1__object_reply__descriptor
            : NULL;
    if (forward_request(rt->gw, spec->subject, &c.msg.base, rd, &rep, resp) != CC_OK)
        return;
    answer(spec, (const Cc__V1__ObjectReply *)rep, resp);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
}
