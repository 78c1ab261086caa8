/* cc_registry_load.c - every object of one kind from agent-registry. */
#include "cc_registry_load.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cc_registry_free(ProtobufCMessage **items, size_t n)
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

enum cc_status cc_registry_load(struct cc_nats *nats, const char *kind,
                                const Cc__V1__Caller *caller,
                                const ProtobufCMessageDescriptor *desc, ProtobufCMessage ***out,
                                size_t *n)
{
    Cc__V1__Page page = CC__V1__PAGE__INIT;
    Cc__V1__ObjectRequest req = CC__V1__OBJECT_REQUEST__INIT;
    ProtobufCMessage **items = NULL;
    char subject[96], *cursor = NULL;
    enum cc_status st;
    snprintf(subject, sizeof subject, SUBJ_REGISTRY_OBJ_LIST, kind);
    *n = 0;
    page.has_limit = 1, page.limit = 500;
    req.caller = (Cc__V1__Caller *)caller, req.page = &page;
    do {
        ProtobufCMessage *rep = NULL;
        page.cursor = cursor;
        st = cc_nats_request(nats, subject, &req.base, &cc__v1__object_reply__descriptor, 5000,
                             &rep, NULL, 0);
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
        cc_registry_free(items, *n);
        *n = 0;
        return st;
    }
    *out = items;
    return CC_OK;
}

enum cc_status cc_queue_scope(struct cc_nats *nats, const Cc__V1__Caller *caller,
                              struct cc_queue_scope *out)
{
    ProtobufCMessage **queues = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (!caller || !caller->role)
        return CC_ERR_FORBIDDEN;
    if (!strcmp(caller->role, "admin"))
        return out->all = 1, CC_OK;
    if (strcmp(caller->role, "supervisor") != 0)
        return CC_ERR_FORBIDDEN;
    enum cc_status st = cc_registry_load(nats, "queues", caller, &cc__v1__queue__descriptor,
                                         &queues, &n);
    if (st == CC_OK && !(out->ids = calloc(n + 1, sizeof *out->ids)))
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < n; i++) {
        const Cc__V1__Queue *q = (const Cc__V1__Queue *)queues[i];
        if (q->id && (out->ids[out->n] = strdup(q->id)))
            out->n++;
    }
    cc_registry_free(queues, n);
    return st;
}

int cc_queue_scope_has(const struct cc_queue_scope *s, const char *id)
{
    for (size_t i = 0; !s->all && id && i < s->n; i++)
        if (!strcmp(s->ids[i], id))
            return 1;
    return s->all;
}

void cc_queue_scope_release(struct cc_queue_scope *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    memset(s, 0, sizeof *s);
}
