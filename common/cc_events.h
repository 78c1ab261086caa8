/* cc_events.h - an event hub for server-sent event streams: NATS subjects
 * whose last token names a key (an agent, a web-chat session) carry
 * protobuf events; each is unpacked once, framed once as an SSE event
 * (`event: <name>`, one line of JSON) and fanned out, by reference, to the
 * open subscriptions of that key (and to the subscriptions of every key,
 * unless the source is personal), each through a bounded queue of its own:
 * a slow reader never holds up the others. */
#ifndef CC_EVENTS_H
#define CC_EVENTS_H

#include "cc_nats.h"
#include "cc_status.h"

#include <stddef.h>
#include <stdint.h>

struct cc_events;     /* the hub */
struct cc_events_sub; /* one open stream's subscription */
struct cc_events_msg; /* one event as an SSE frame, shared by reference count */

/* What cc_events_sub_next found. */
enum cc_events_next {
    CC_EVENTS_MSG,      /* *out is the next event */
    CC_EVENTS_TIMEOUT,  /* nothing came before the deadline */
    CC_EVENTS_OVERFLOW, /* the queue was full and events were lost: end the stream */
};

/* Creates the hub: a subscription queues up to `queue_cap` events and at
 * most `max_subs` subscriptions are open at once. Returns CC_OK or
 * CC_ERR_NOMEM (*out is then NULL). Free with cc_events_free. */
enum cc_status cc_events_new(struct cc_events **out, int queue_cap, int max_subs);

#define CC_EVENTS_MAX_SOURCES 16

/* Streams the messages of `subject` (ending in `*`: the key), unpacked with
 * `desc`, as SSE event `event`; to the key's subscriptions, and to the
 * every-key subscriptions unless `personal`. Strings must outlive the hub.
 * From then on the hub must outlive the connection's handlers (drain NATS
 * before cc_events_free). Returns cc_nats_subscribe's status, or
 * CC_ERR_NOMEM beyond CC_EVENTS_MAX_SOURCES. */
enum cc_status cc_events_source(struct cc_events *ev, struct cc_nats *nats, const char *subject,
                                const char *event, const ProtobufCMessageDescriptor *desc,
                                int personal);

/* Frees the hub (NULL is fine). Every subscription must be closed and NATS
 * drained first. */
void cc_events_free(struct cc_events *ev);

/* Opens a subscription to the events of key `agent_id` (copied), or to
 * every key's when `agent_id` is NULL: each event published after this call
 * is queued for it. Returns CC_OK, CC_ERR_UNAVAILABLE when max_subs are
 * already open, or CC_ERR_NOMEM. Close with cc_events_sub_close. */
enum cc_status cc_events_sub_open(struct cc_events *ev, const char *agent_id, struct cc_events_sub **out);

/* Decides whether an every-key subscription gets event `event` (the SSE
 * name) of key `key`: 1 yes, 0 no. Called under the hub's lock from the
 * NATS thread: it must be quick and must not call into the hub. */
typedef int (*cc_events_filter_fn)(void *arg, const char *event, const char *key);

/* Like cc_events_sub_open; with `agent_id` NULL, `filter` (may be NULL)
 * picks the events the subscription gets. `filter_arg` must outlive the
 * subscription. */
enum cc_status cc_events_sub_open_filtered(struct cc_events *ev, const char *agent_id,
                                           cc_events_filter_fn filter, void *filter_arg,
                                           struct cc_events_sub **out);

/* Unsubscribes, drops the events still queued and frees `sub`. */
void cc_events_sub_close(struct cc_events_sub *sub);

/* Waits until an event is queued for `sub` or until `deadline_us` (on the
 * cc_time_mono_us clock) passes. On CC_EVENTS_MSG the caller owns *out and
 * drops it with cc_events_msg_unref; otherwise *out is NULL. */
enum cc_events_next cc_events_sub_next(struct cc_events_sub *sub, int64_t deadline_us,
                                 struct cc_events_msg **out);

/* The event's SSE frame ("event: <name>\ndata: {...}\n\n") and its length
 * in *len; valid while the caller holds its reference. */
const char *cc_events_msg_frame(const struct cc_events_msg *m, size_t *len);

/* Drops one reference to `m` (NULL is fine); the last one frees it. */
void cc_events_msg_unref(struct cc_events_msg *m);

#endif
