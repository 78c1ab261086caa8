/* status.h - agent status routes of api-gateway, forwarded to the presence
 * part of agent-registry (proto/cc/v1/presence.proto): /me/status,
 * /agents/{id}/status and /monitor/agents. */
#ifndef STATUS_H
#define STATUS_H

#include "cc_http.h"

/* Handler (arg: struct gw_route, subject cc.presence.get) of GET /me/status
 * and GET /agents/{id}/status: AgentQuery -> 200 AgentStatus. */
void status_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* Handler (arg: struct gw_route, subject cc.presence.set) of PUT /me/status
 * and PUT /agents/{id}/status: body {status} or {state, pause_cause_id} ->
 * StatusChange -> 200 AgentStatus. */
void status_put(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* Handler (arg: struct gw_route, subject cc.presence.list) of
 * GET /monitor/agents: AgentQuery -> AgentList -> 200 {"items", "next_cursor": null}. */
void status_list(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
