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

#endif
