/* provisioning.h - agents and skills from the CRM into agent-registry
 * (provisioning.c). */
#ifndef PROVISIONING_H
#define PROVISIONING_H

#include "crm.h"

/* Applies what Creatio's user record `crm_id` wants (all or nothing) and
 * reports the result in the sync status. CC_ERR_INVALID with the reason
 * when the CRM asks for what is impossible (unknown team or skill,
 * capacity out of range); CC_ERR_UNAVAILABLE when the CRM or the registry
 * cannot be asked now. */
enum cc_status provisioning_user(struct crm *c, struct crm_conf *conf, const char *crm_id,
                                 char *why, size_t cap) __attribute__((warn_unused_result));

/* POST /crm/v1/provisioning: a Creatio notification
 * {"EntityName","Action","Id","ModifiedOn"} or the generic shape
 * {"user":{...}} (docs/crm.md), authenticated by the provisioning secret. */
void provisioning_post(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* Provisions what changed since the last poll (every record when
 * `reconcile`); one replica at a time. */
void provisioning_poll(struct crm *c, int reconcile);

#endif
