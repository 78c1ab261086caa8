/* timeline.h - timed events run by a small pool of worker threads: the
 * simulator's clock. Events are kept in a min-heap by due time (then by
 * insertion order) and each is handed to the handler once it is due, on
 * whichever worker is free, so that a handler blocked on a NATS request does
 * not hold the others back. How late each event ran is recorded. */
#ifndef CCSIM_TIMELINE_H
#define CCSIM_TIMELINE_H

#include "cc_status.h"

#include <stdint.h>

struct timeline;

struct timeline_event {
    int64_t due;   /* monotonic microseconds (cc_time_mono_us) */
    int kind;      /* the caller's event kind */
    uint32_t a, b; /* the caller's operands */
};

/* Runs one due event; `late` is how many microseconds after `due` it ran.
 * Called on a worker thread; `ev` is valid only during the call. */
typedef void (*timeline_fn)(void *arg, const struct timeline_event *ev, int64_t late);

/* Starts `workers` threads (1..64) that run due events through `fn`.
 * Returns CC_OK, CC_ERR_NOMEM or CC_ERR_INTERNAL (a thread did not start);
 * on failure nothing is left running. Free with timeline_free. */
enum cc_status timeline_new(struct timeline **out, int workers, timeline_fn fn, void *arg);

/* Adds an event (copied). Returns CC_OK, CC_ERR_NOMEM, or CC_ERR_CONFLICT
 * after timeline_stop (the event is dropped). Thread-safe, also from `fn`. */
enum cc_status timeline_at(struct timeline *s, const struct timeline_event *ev);

/* Stops the workers once the events running now return; pending events are
 * dropped. Must not be called from `fn`. */
void timeline_stop(struct timeline *s);

/* Lateness of the events run so far: count, mean and worst, microseconds. */
void timeline_lateness(struct timeline *s, long *n, double *mean_us, int64_t *max_us);

/* Stops (if needed) and frees. */
void timeline_free(struct timeline *s);

#endif
