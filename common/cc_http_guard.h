/* cc_http_guard.h - deadlines for the connections of a cc_http server: a
 * request (its header and body) must arrive whole within a time from the
 * connection's start or from the end of the previous answer, however slowly
 * it trickles, else the connection is shut. A reaper thread checks every
 * connection four times a second. Private to cc_http.c. */
#ifndef CC_HTTP_GUARD_H
#define CC_HTTP_GUARD_H

#include <pthread.h>
#include <stdint.h>

struct guard_conn; /* one tracked connection */

struct cc_http_guard {
    pthread_mutex_t lock;
    struct guard_conn *head; /* every open connection */
    int64_t request_us;      /* time a whole request may take to arrive */
    pthread_t reaper;
    int running, stop;
    pthread_cond_t wake;
    long shut;               /* connections shut for being too slow */
};

/* Starts the reaper; request_s > 0. Returns 0, or -1 (nothing to release). */
int cc_http_guard_start(struct cc_http_guard *g, int64_t request_s);

/* Stops the reaper and forgets every connection. */
void cc_http_guard_stop(struct cc_http_guard *g);

/* A connection on socket `fd` opened: returns its record for the others
 * (NULL when out of memory: the connection then has no deadline). */
struct guard_conn *cc_http_guard_open(struct cc_http_guard *g, int fd);

/* The connection closed (before its socket is): forgets it and frees `c`. */
void cc_http_guard_close(struct cc_http_guard *g, struct guard_conn *c);

/* The request arrived whole (no deadline while it is answered), or its answer
 * ended (the next request must arrive in time). `c` may be NULL. */
void cc_http_guard_arrived(struct cc_http_guard *g, struct guard_conn *c);
void cc_http_guard_answered(struct cc_http_guard *g, struct guard_conn *c);

#endif
