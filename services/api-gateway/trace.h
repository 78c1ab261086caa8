/* trace.h - the routing trace of an interaction over HTTP. */
#ifndef GW_TRACE_H
#define GW_TRACE_H

#include "cc_http.h"

/* GET /interactions/{id}/trace (supervisors and admins): asks skill-router
 * (cc.router.trace) and answers 200 {"items": [{at, step, agent_id, reason,
 * strategy}], "next_cursor": null}. */
void trace_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
