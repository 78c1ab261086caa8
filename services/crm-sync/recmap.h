/* recmap.h - chat and call records as the CRM's fields (the names are
 * configuration, names.h). Pure; tested in tests/unit/test_crm_odata.c. */
#ifndef RECMAP_H
#define RECMAP_H

#include "cc/v1/call.pb-c.h"
#include "cc/v1/chat.pb-c.h"
#include "cc_status.h"
#include "names.h"

#include <cjson/cJSON.h>

/* Adds the fields of chat `ch` to object `out`; `result` is the result's
 * name (may be NULL). Absent values are left out (never cleared); links
 * that are not GUIDs are left out. CC_ERR_NOMEM. */
enum cc_status recmap_chat(const struct crm_names *n, const Cc__V1__Chat *ch, const char *result,
                           cJSON *out) __attribute__((warn_unused_result));

/* Adds the fields of call `cl` to object `out`, as recmap_chat. */
enum cc_status recmap_call(const struct crm_names *n, const Cc__V1__Call *cl, const char *result,
                           cJSON *out) __attribute__((warn_unused_result));

/* The GUID crm-sync gives the CRM record of interaction `kind`/`id`:
 * derived from a hash of both, so it is the same on every try. */
void recmap_guid(const char *kind, const char *id, char out[37]);

#endif
