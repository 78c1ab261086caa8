/* events.h - api-gateway's event hub: NATS subscriptions to agent status
 * changes (cc.presence.changed.*, SSE event `status`) and offers
 * (cc.router.offer.*, `offer`; cc.router.offer_withdrawn.*,
 * `offer_withdrawn`) whose events are framed once as server-sent events and
 * fanned out to the open event streams, each through a bounded queue of its
 * own (a slow reader never holds up the others). The HTTP side of the
 * streams is sse.c. */
#ifndef EVENTS_H
#define EVENTS_H

#include "cc_nats.h"
#include "cc_status.h"

#include <stddef.h>
#include <stdint.h>

struct events;     /* the hub */
struct events_sub; /* one open stream's subscription */
struct events_msg; /* one event as an SSE frame, shared by reference count */

/* What events_sub_next found. */
enum events_next {
    EVENTS_MSG,      /* *out is the next event */
    EVENTS_TIMEOUT,  /* nothing came before the deadline */
    EVENTS_OVERFLOW, /* the queue was full and events were lost: end the stream */
};

/* Creates the hub: a subscription queues up to `queue_cap` events and at
 * most `max_subs` subscriptions are open at once. Returns CC_OK or
 * CC_ERR_NOMEM (*out is then NULL). Free with events_free. */
enum cc_status events_new(struct events **out, int queue_cap, int max_subs);

/* Subscribes the hub to its subjects on `nats`; call once. From then on
 * the hub must outlive the connection's handlers (drain NATS before
 * events_free). Returns cc_nats_subscribe's status. */
enum cc_status events_start(struct events *ev, struct cc_nats *nats);

/* Frees the hub (NULL is fine). Every subscription must be closed and NATS
 * drained first. */
void events_free(struct events *ev);

/* Opens a subscription to the events of agent `agent_id` (copied), or to
 * every event when `agent_id` is NULL: each event published after this call
 * is queued for it. Returns CC_OK, CC_ERR_UNAVAILABLE when max_subs are
 * already open, or CC_ERR_NOMEM. Close with events_sub_close. */
enum cc_status events_sub_open(struct events *ev, const char *agent_id, struct events_sub **out);

/* Unsubscribes, drops the events still queued and frees `sub`. */
void events_sub_close(struct events_sub *sub);

/* Waits until an event is queued for `sub` or until `deadline_us` (on the
 * cc_time_mono_us clock) passes. On EVENTS_MSG the caller owns *out and
 * drops it with events_msg_unref; otherwise *out is NULL. */
enum events_next events_sub_next(struct events_sub *sub, int64_t deadline_us,
                                 struct events_msg **out);

/* The event's SSE frame ("event: status\ndata: {...}\n\n") and its length
 * in *len; valid while the caller holds its reference. */
const char *events_msg_frame(const struct events_msg *m, size_t *len);

/* Drops one reference to `m` (NULL is fine); the last one frees it. */
void events_msg_unref(struct events_msg *m);

#endif
