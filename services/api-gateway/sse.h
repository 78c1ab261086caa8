/* sse.h - the staff event streams of api-gateway as server-sent events:
 * GET /api/v1/me/events (the caller's own status events) and
 * GET /api/v1/monitor/events (every agent's; supervisors and admins), fed by
 * the hub in events.c. */
#ifndef SSE_H
#define SSE_H

#include "cc_http.h"

struct sse_users;

/* The count of open streams per user, `max` each. Returns CC_OK or
 * CC_ERR_NOMEM. */
enum cc_status sse_users_new(struct sse_users **out, int max);

/* Frees it (NULL is fine); every stream must be closed. */
void sse_users_free(struct sse_users *u);

/* Handler (arg: struct gw_route) of GET /me/events. */
void sse_me(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* Handler (arg: struct gw_route) of GET /monitor/events: 403 unless the
 * caller is an admin or a supervisor. */
void sse_monitor(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
