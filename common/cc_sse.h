/* cc_sse.h - a server-sent event stream over a cc_events subscription: the
 * body is ": connected" (the subscription is live), then the hub's frames as
 * they come, with ": keepalive" when nothing was sent for a keepalive
 * period. Before each keepalive a check (the caller's: is the session still
 * there?) may end the stream; it also ends on its queue's overflow and when
 * the server stops, and the client reconnects. */
#ifndef CC_SSE_H
#define CC_SSE_H

#include "cc_events.h"
#include "cc_http.h"

/* Called before each keepalive with the stream's `arg`; anything but CC_OK
 * ends the stream. */
typedef enum cc_status (*cc_sse_check_fn)(void *arg);

/* Answers `resp` with a stream of the events of `key` (NULL: every key's)
 * from hub `ev`. `check` (may be NULL) runs every `keepalive_us`; `arg` is
 * given to it and freed with `arg_free` (may be NULL) when the stream ends,
 * also when it cannot open. Answers 503 when the hub has no room. */
void cc_sse_answer(struct cc_events *ev, const char *key, int64_t keepalive_us,
                   cc_sse_check_fn check, void *arg, void (*arg_free)(void *arg),
                   struct cc_http_req *req, struct cc_http_resp *resp);

/* Like cc_sse_answer for an every-key stream (`key` NULL) whose events
 * `filter` picks (cc_events_filter_fn, given `arg`, which lives until
 * arg_free). */
void cc_sse_answer_filtered(struct cc_events *ev, const char *key, cc_events_filter_fn filter,
                            int64_t keepalive_us, cc_sse_check_fn check, void *arg,
                            void (*arg_free)(void *arg), struct cc_http_req *req,
                            struct cc_http_resp *resp);

#endif
