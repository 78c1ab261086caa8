/* cc_registry_load.c - every object of one kind from agent-registry. */
#include "cc_registry_load.h"
#include "cc/v1/registry.pb-c.h"

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
    snprintf(subject, sizeof subject, "cc.registry.obj.%s.list", kind);
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
