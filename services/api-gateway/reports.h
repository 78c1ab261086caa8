/* reports.h - historical reports over HTTP (SPEC 7b): queues per interval
 * and agents per day, answered by agent-registry (cc.reports.*) as JSON, or
 * as CSV when the client asks for text/csv. */
#ifndef GW_REPORTS_H
#define GW_REPORTS_H

#include "cc_http.h"

/* GET /reports/queues?from=&to=&interval=15m|hour|day&queue_id=...:
 * 200 {"items": [row], "time_zone"} or text/csv (cc.reports.queues). */
void reports_queues(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /reports/agents?from=&to=&agent_id=...: 200 {"items": [row],
 * "time_zone"} or text/csv (cc.reports.agents). */
void reports_agents(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
