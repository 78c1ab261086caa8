/* cc_refresh.h - read-your-writes for a service's copy of the configuration:
 * a look-up that misses reloads the copy once before answering "not found",
 * so an object the API confirmed a moment ago is found even before its
 * change event arrived. Misses that come together share one reload, and
 * reloads are spaced (CC_REFRESH_MIN_GAP_US) so that a flood of unknown ids
 * cannot turn into a flood of reloads. */
#ifndef CC_REFRESH_H
#define CC_REFRESH_H

#include "cc_status.h"

#include <pthread.h>
#include <stdint.h>

#define CC_REFRESH_MIN_GAP_US 50000 /* at most 20 reloads a second from misses */

struct cc_refresh {
    pthread_mutex_t lock;   /* one reload at a time */
    int64_t last_start_us;  /* monotonic start of the last reload, 0 = none yet */
};

void cc_refresh_init(struct cc_refresh *f);
void cc_refresh_release(struct cc_refresh *f);

/* Called after a look-up missed at `miss_us` (cc_time_mono_us() taken before
 * the look-up): runs `reload(arg)` unless a reload that started after the
 * miss already ran, waiting out the gap since the previous one. Returns
 * CC_OK when the copy is at least as new as the miss (look up again), or the
 * reload's failure. May block for the reload (a NATS request). */
enum cc_status cc_refresh_on_miss(struct cc_refresh *f, int64_t miss_us,
                                  enum cc_status (*reload)(void *arg), void *arg);

#endif
