/* calls.h - phone calls over HTTP (SPEC section 7): the lists, one call and
 * its result, answered by call-router behind cc.call.*. */
#ifndef GW_CALLS_H
#define GW_CALLS_H

#include "cc_http.h"

/* GET /calls?view=active|closed&limit&cursor: 200 {"items": [call],
 * "next_cursor"} (cc.call.list; call-router scopes it to the caller: an
 * agent's own calls, a supervisor's queues, every call for admins). */
void calls_list(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /calls/{id}: 200 call (cc.call.get). */
void calls_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* PATCH /calls/{id} {result_id, result_details, links}: the body's members
 * and types are checked here (400), the rest by call-router
 * (cc.call.update); 200 with the call as it now is. */
void calls_patch(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* POST /calls/{id}/supervise {mode: listen|whisper|barge}: a supervisor of
 * the call's queue or an admin joins the call through the PBX (cc.call.supervise);
 * DELETE ends it. 200 with the supervision record (state requested until the
 * PBX reports). */
void calls_supervise(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /calls/{id}/supervisions and GET /supervisions: the audit of
 * supervisions the caller may see (cc.call.supervisions). */
void calls_supervisions(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* POST /callbacks {number, queue_id, agent_id?, note?}: 201 with the callback
 * (a call of direction callback); an agent's is personal (cc.call.callback). */
void calls_callback(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
