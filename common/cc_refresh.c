/* cc_refresh.c - one reload for the misses that come together (cc_refresh.h). */
#include "cc_refresh.h"
#include "cc_time.h"

#include <unistd.h>

void cc_refresh_init(struct cc_refresh *f)
{
    pthread_mutex_init(&f->lock, NULL);
    f->last_start_us = 0;
}

void cc_refresh_release(struct cc_refresh *f)
{
    pthread_mutex_destroy(&f->lock);
}

enum cc_status cc_refresh_on_miss(struct cc_refresh *f, int64_t miss_us,
                                  enum cc_status (*reload)(void *arg), void *arg)
{
    enum cc_status st = CC_OK;
    pthread_mutex_lock(&f->lock);
    /* a reload that started after the miss already reflects every write the
     * caller could have seen confirmed */
    if (f->last_start_us <= miss_us) {
        int64_t wait = f->last_start_us + CC_REFRESH_MIN_GAP_US - cc_time_mono_us();
        if (f->last_start_us && wait > 0)
            usleep((useconds_t)wait);
        f->last_start_us = cc_time_mono_us();
        st = reload(arg);
    }
    pthread_mutex_unlock(&f->lock);
    return st;
}
