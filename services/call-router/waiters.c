/* waiters.c - the PBX's long-polls parked without a thread: each is a
 * deferred HTTP answer (cc_http_defer) filed under its call's interaction
 * id until an event about that call wakes it or its deadline passes. One
 * thread checks the deadlines every TICK_MS. */
#include "callrouter.h"
#include "cc_log.h"
#include "cc_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define TICK_MS 20

struct waiter {
    char id[64];
    struct cc_http_deferred *d;
    int64_t deadline_ms;
    int64_t check_ms; /* 0, or when it looks again (not timed out) before its deadline */
    struct waiter *next;
};

struct bucket {
    char id[64];
    struct waiter *head; /* in arrival order: the oldest long-poll first */
    UT_hash_handle hh;
};

struct waiters {
    struct call_router *cr;
    waiter_fn fn;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct bucket *table; /* uthash by id */
    int stopping;
    pthread_t thread;
};

/* Moves every waiter of `b` (due ones only when `now` > 0) off the table to
 * the end of list *tail. Called with the lock held. Returns the new tail. */
static struct waiter **take(struct waiters *w, struct bucket *b, int64_t now, struct waiter **tail)
{
    struct waiter **pp = &b->head;
    while (*pp) {
        struct waiter *x = *pp;
        if (now > 0 && x->deadline_ms > now && (!x->check_ms || x->check_ms > now)) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        x->next = NULL;
        *tail = x, tail = &x->next;
    }
    if (!b->head) {
        HASH_DEL(w->table, b);
        free(b);
    }
    return tail;
}

/* Hands each waiter of `list` to the flow (outside the lock) and frees it;
 * `now` > 0: timed out when its deadline passed (else it was only due to
 * look again). */
static void fire(struct waiters *w, struct waiter *list, int timed_out, int64_t now)
{
    while (list) {
        struct waiter *next = list->next;
        w->fn(w->cr, list->d, list->id, list->deadline_ms,
              now > 0 ? list->deadline_ms <= now : timed_out);
        free(list);
        list = next;
    }
}

static void *run(void *arg)
{
    struct waiters *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        int64_t now = cc_time_now_ms();
        struct bucket *b, *tmp;
        struct waiter *due = NULL, **tail = &due;
        HASH_ITER(hh, w->table, b, tmp)
        tail = take(w, b, now, tail);
        if (!due)
            continue;
        pthread_mutex_unlock(&w->lock); /* the flow may park again: it takes the lock */
        fire(w, due, 1, now);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

enum cc_status waiters_new(struct call_router *cr, waiter_fn fn, struct waiters **out)
{
    struct waiters *w = calloc(1, sizeof *w);
    if (!w)
        return CC_ERR_NOMEM;
    w->cr = cr, w->fn = fn;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return CC_ERR_INTERNAL;
    }
    *out = w;
    return CC_OK;
}

enum cc_status waiters_add(struct waiters *w, const char *id, struct cc_http_deferred *d,
                           int64_t deadline_ms)
{
    return waiters_add_check(w, id, d, 0, deadline_ms);
}

enum cc_status waiters_add_check(struct waiters *w, const char *id, struct cc_http_deferred *d,
                                 int64_t check_ms, int64_t deadline_ms)
{
    struct waiter *x = calloc(1, sizeof *x);
    struct bucket *b;
    if (!x || strlen(id) >= sizeof b->id) {
        free(x);
        return CC_ERR_NOMEM;
    }
    x->d = d, x->deadline_ms = deadline_ms, x->check_ms = check_ms;
    strcpy(x->id, id); /* length checked above */
    pthread_mutex_lock(&w->lock);
    HASH_FIND_STR(w->table, id, b);
    if (!b && (b = calloc(1, sizeof *b))) {
        strcpy(b->id, id); /* length checked above */
        HASH_ADD_STR(w->table, id, b);
    }
    if (b) {
        struct waiter **tail = &b->head;
        while (*tail)
            tail = &(*tail)->next;
        *tail = x;
    }
    pthread_mutex_unlock(&w->lock);
    if (!b)
        free(x);
    return b ? CC_OK : CC_ERR_NOMEM;
}

void waiters_wake(struct waiters *w, const char *id)
{
    struct bucket *b;
    struct waiter *list = NULL;
    pthread_mutex_lock(&w->lock);
    HASH_FIND_STR(w->table, id, b);
    if (b)
        take(w, b, 0, &list);
    pthread_mutex_unlock(&w->lock);
    fire(w, list, 0, 0);
}

void waiters_free(struct waiters *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    struct bucket *b, *tmp;
    struct waiter *list = NULL, **tail = &list;
    HASH_ITER(hh, w->table, b, tmp) /* answered as timed out: the PBX polls again */
    tail = take(w, b, 0, tail);
    fire(w, list, 1, 0);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
