/* routing.h - what skill-router knows, over HTTP: an interaction's routing
 * trace, the caller's ringing offers and the waiting per queue. */
#ifndef GW_ROUTING_H
#define GW_ROUTING_H

#include "cc_http.h"

/* GET /interactions/{id}/trace (supervisors and admins): asks skill-router
 * (cc.router.trace) and answers 200 {"items": [{at, step, agent_id, reason,
 * strategy}], "next_cursor": null}. */
void trace_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /me/offers: the offers ringing for the caller now (cc.router.offers),
 * 200 {"items": [offer], "next_cursor": null}. */
void offers_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

/* GET /monitor/queues (supervisors: their queues; admins: all): 200
 * {"items": [{queue_id, name, channel, waiting, oldest_enqueued_at,
 * oldest_wait_s}], "next_cursor": null} (cc.router.queues). */
void queues_get(void *arg, struct cc_http_req *req, struct cc_http_resp *resp);

#endif
