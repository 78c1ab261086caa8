/* cc_http_guard.c - slow requests are cut off (cc_http_guard.h). The socket
 * is shut (not closed) under the lock, and a connection leaves the list
 * before libmicrohttpd closes its socket, so a descriptor reused by a new
 * connection is never touched. */
#include "cc_http_guard.h"
#include "cc_log.h"
#include "cc_time.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct guard_conn {
    int fd;
    int64_t deadline_us; /* 0: answering, no deadline */
    struct guard_conn *prev, *next;
};

static void reap(struct cc_http_guard *g, int64_t now)
{
    for (struct guard_conn *c = g->head; c; c = c->next)
        if (c->deadline_us && now > c->deadline_us) {
            c->deadline_us = 0; /* once: libmicrohttpd closes it on its next read */
            if (shutdown(c->fd, SHUT_RDWR) == 0 || errno == ENOTCONN)
                g->shut++;
        }
}

static void *reaper_main(void *arg)
{
    struct cc_http_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
        reap(g, cc_time_mono_us());
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int cc_http_guard_start(struct cc_http_guard *g, int64_t request_s)
{
    g->head = NULL;
    g->request_us = request_s * 1000000;
    g->stop = 0, g->shut = 0;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    g->running = pthread_create(&g->reaper, NULL, reaper_main, g) == 0;
    if (!g->running) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        return -1;
    }
    return 0;
}

void cc_http_guard_stop(struct cc_http_guard *g)
{
    if (!g->running)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->reaper, NULL);
    while (g->head) {
        struct guard_conn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    g->running = 0;
}

struct guard_conn *cc_http_guard_open(struct cc_http_guard *g, int fd)
{
    struct guard_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    pthread_mutex_lock(&g->lock);
    c->deadline_us = cc_time_mono_us() + g->request_us;
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void cc_http_guard_close(struct cc_http_guard *g, struct guard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

static void set_deadline(struct cc_http_guard *g, struct guard_conn *c, int64_t deadline_us)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->deadline_us = deadline_us;
    pthread_mutex_unlock(&g->lock);
}

void cc_http_guard_arrived(struct cc_http_guard *g, struct guard_conn *c)
{
    set_deadline(g, c, 0);
}

void cc_http_guard_answered(struct cc_http_guard *g, struct guard_conn *c)
{
    set_deadline(g, c, cc_time_mono_us() + g->request_us);
}
