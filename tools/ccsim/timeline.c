/* timeline.c - the timed event heap and its workers (see timeline.h). */
#include "timeline.h"
#include "cc_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WORKERS 64

struct item {
    struct timeline_event ev;
    uint64_t seq; /* equal due times run in insertion order */
};

struct timeline {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC, like the due times */
    struct item *heap;
    size_t n, cap;
    uint64_t seq;
    int stopping;
    timeline_fn fn;
    void *arg;
    pthread_t threads[MAX_WORKERS];
    int nthreads;
    long late_n; /* lateness so far */
    double late_sum;
    int64_t late_max;
};

static int before(const struct item *x, const struct item *y)
{
    return x->ev.due != y->ev.due ? x->ev.due < y->ev.due : x->seq < y->seq;
}

static void swap(struct item *x, struct item *y)
{
    struct item t = *x;
    *x = *y, *y = t;
}

static void sift_up(struct timeline *s, size_t i)
{
    for (; i > 0 && before(&s->heap[i], &s->heap[(i - 1) / 2]); i = (i - 1) / 2)
        swap(&s->heap[i], &s->heap[(i - 1) / 2]);
}

static void sift_down(struct timeline *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n && before(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->n && before(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            return;
        swap(&s->heap[i], &s->heap[m]);
        i = m;
    }
}

static void wait_until(struct timeline *s, int64_t due_us)
{
    struct timespec ts = {(time_t)(due_us / 1000000), (long)(due_us % 1000000) * 1000};
    pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

/* Takes the next due event into *ev; 0 when stopping. Called with the lock. */
static int take(struct timeline *s, struct timeline_event *ev, int64_t *late)
{
    for (;;) {
        if (s->stopping)
            return 0;
        if (s->n == 0) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        int64_t now = cc_time_mono_us();
        if (s->heap[0].ev.due > now) {
            wait_until(s, s->heap[0].ev.due);
            continue;
        }
        *ev = s->heap[0].ev;
        *late = now - ev->due;
        s->heap[0] = s->heap[--s->n];
        sift_down(s, 0);
        return 1;
    }
}

static void *worker(void *arg)
{
    struct timeline *s = arg;
    struct timeline_event ev;
    int64_t late;
    pthread_mutex_lock(&s->lock);
    while (take(s, &ev, &late)) {
        s->late_n++, s->late_sum += (double)late;
        if (late > s->late_max)
            s->late_max = late;
        pthread_mutex_unlock(&s->lock);
        s->fn(s->arg, &ev, late);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int init_sync(struct timeline *s)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca))
        return -1;
    int bad = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (bad)
        return -1;
    if (pthread_mutex_init(&s->lock, NULL)) {
        pthread_cond_destroy(&s->cond);
        return -1;
    }
    return 0;
}

enum cc_status timeline_new(struct timeline **out, int workers, timeline_fn fn, void *arg)
{
    struct timeline *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return CC_ERR_NOMEM;
    if (workers < 1 || workers > MAX_WORKERS || init_sync(s)) {
        free(s);
        return workers < 1 || workers > MAX_WORKERS ? CC_ERR_INVALID : CC_ERR_INTERNAL;
    }
    s->fn = fn, s->arg = arg;
    for (; s->nthreads < workers; s->nthreads++)
        if (pthread_create(&s->threads[s->nthreads], NULL, worker, s)) {
            timeline_free(s);
            return CC_ERR_INTERNAL;
        }
    *out = s;
    return CC_OK;
}

enum cc_status timeline_at(struct timeline *s, const struct timeline_event *ev)
{
    enum cc_status st = CC_OK;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        st = CC_ERR_CONFLICT;
    } else if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        struct item *grown = realloc(s->heap, cap * sizeof *grown);
        if (grown)
            s->heap = grown, s->cap = cap;
        else
            st = CC_ERR_NOMEM;
    }
    if (st == CC_OK) {
        s->heap[s->n] = (struct item){*ev, s->seq++};
        sift_up(s, s->n++);
        if (s->heap[0].seq == s->seq - 1) /* the new head: a worker may sleep too long */
            pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

void timeline_stop(struct timeline *s)
{
    pthread_mutex_lock(&s->lock);
    int joined = s->stopping == 2;
    s->stopping = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (joined)
        return;
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    pthread_mutex_lock(&s->lock);
    s->stopping = 2, s->n = 0;
    pthread_mutex_unlock(&s->lock);
}

void timeline_lateness(struct timeline *s, long *n, double *mean_us, int64_t *max_us)
{
    pthread_mutex_lock(&s->lock);
    *n = s->late_n;
    *mean_us = s->late_n ? s->late_sum / (double)s->late_n : 0;
    *max_us = s->late_max;
    pthread_mutex_unlock(&s->lock);
}

void timeline_free(struct timeline *s)
{
    if (!s)
        return;
    timeline_stop(s);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->heap);
    free(s);
}
