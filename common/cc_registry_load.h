/* cc_registry_load.h - reading every object of one configuration kind from
 * agent-registry (cc.registry.obj.<kind>.list, page by page), for services
 * that keep a copy of the configuration they work with. */
#ifndef CC_REGISTRY_LOAD_H
#define CC_REGISTRY_LOAD_H

#include "cc/v1/common.pb-c.h"
#include "cc_nats.h"

#include <stddef.h>

/* Reads every object of `kind` as `caller` into *out (n of them, unpacked
 * with `desc`); free with cc_registry_free. Returns CC_OK or the status of
 * the failed request (nothing is kept then). */
enum cc_status cc_registry_load(struct cc_nats *nats, const char *kind,
                                const Cc__V1__Caller *caller,
                                const ProtobufCMessageDescriptor *desc, ProtobufCMessage ***out,
                                size_t *n);

/* Frees what cc_registry_load made. */
void cc_registry_free(ProtobufCMessage **items, size_t n);

/* The queues a member of staff may see (SPEC section 8): every queue for
 * an admin; for a supervisor those agent-registry lists for them (it
 * applies the assignment rule and its switch). */
struct cc_queue_scope {
    int all;
    char **ids; /* when !all */
    size_t n;
};

/* Fills *out for `caller`; CC_ERR_FORBIDDEN for other roles. Release with
 * cc_queue_scope_release. */
enum cc_status cc_queue_scope(struct cc_nats *nats, const Cc__V1__Caller *caller,
                              struct cc_queue_scope *out);

/* 1 when queue `id` is in the scope. */
int cc_queue_scope_has(const struct cc_queue_scope *s, const char *id);

void cc_queue_scope_release(struct cc_queue_scope *s);

#endif
