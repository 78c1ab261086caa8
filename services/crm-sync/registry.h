/* registry.h - agent-registry as crm-sync asks it (registry.c). */
#ifndef CRM_REGISTRY_H
#define CRM_REGISTRY_H

#include "cc/v1/registry.pb-c.h"
#include "crm.h"

/* Sends an ObjectRequest (id, parent_id, packed `body` and `fields` may be
 * NULL/0) on `subject` as crm-sync; the reply into *out when out is not
 * NULL (free with cc__v1__object_reply__free_unpacked). The registry's
 * status on failure, its message in why. */
enum cc_status reg_call(struct crm *c, const char *subject, const char *id, const char *parent,
                        const ProtobufCMessage *body, const char *const *fields, size_t nfields,
                        Cc__V1__ObjectReply **out, char *why, size_t cap)
    __attribute__((warn_unused_result));

/* CC_OK when object `id` of `kind` (teams, skills, users) exists. */
enum cc_status reg_exists(struct crm *c, const char *kind, const char *id, char *why, size_t cap)
    __attribute__((warn_unused_result));

#endif
