/* cc_events.c - the event hub of SSE streams (cc_events.h). One mutex
 * guards the list of subscriptions and their queues; each subscription has
 * a condition variable its stream waits on. */
#include "cc_events.h"
#include "cc_log.h"
#include "cc_pbjson.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_TAIL "\n\n"

struct cc_events_msg {
    atomic_int refs;
    size_t len;   /* of frame, without the NUL */
    char frame[]; /* "event: <name>\ndata: <one-line JSON>\n\n", NUL-terminated */
};

struct cc_events_sub {
    struct cc_events *hub;
    struct cc_events_sub *prev, *next; /* the hub's list */
    char *agent_id;                 /* malloc'ed; NULL: every event */
    pthread_cond_t ready;           /* signalled when an event is queued or lost */
    struct cc_events_msg **ring;       /* hub->queue_cap slots, one reference each */
    size_t head, count;             /* first queued slot, events queued */
    int overflow;                   /* an event found the queue full */
    cc_events_filter_fn filter;     /* every-key subscriptions: which events; NULL all */
    void *filter_arg;
};

/* One kind of event the hub streams. */
struct source {
    struct cc_events *hub;
    const char *event; /* the SSE event name */
    const ProtobufCMessageDescriptor *desc;
    int personal;      /* only for the key it names, not for every-key subscriptions */
};

struct cc_events {
    struct source sources[CC_EVENTS_MAX_SOURCES];
    int nsources;
    pthread_mutex_t lock;    /* guards subs, nsubs and every subscription's queue */
    struct cc_events_sub *subs; /* open subscriptions */
    int nsubs, max_subs;
    size_t queue_cap;
};

enum cc_status cc_events_new(struct cc_events **out, int queue_cap, int max_subs)
{
    struct cc_events *ev = calloc(1, sizeof *ev);
    *out = NULL;
    if (!ev)
        return CC_ERR_NOMEM;
    if (pthread_mutex_init(&ev->lock, NULL) != 0) {
        free(ev);
        return CC_ERR_NOMEM;
    }
    ev->queue_cap = (size_t)(queue_cap > 0 ? queue_cap : 1);
    ev->max_subs = max_subs;
    *out = ev;
    return CC_OK;
}

void cc_events_free(struct cc_events *ev)
{
    if (!ev)
        return;
    CC_ASSERT(ev->nsubs == 0);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

void cc_events_msg_unref(struct cc_events_msg *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        free(m);
}

const char *cc_events_msg_frame(const struct cc_events_msg *m, size_t *len)
{
    *len = m->len;
    return m->frame;
}

/* The SSE frame `event` of `msg` with one reference (the caller's); NULL
 * when out of memory. */
static struct cc_events_msg *frame_new(const char *event, const ProtobufCMessage *msg)
{
    cJSON *j = cc_pbjson_to_json(msg, 1);
    char *json = j ? cJSON_PrintUnformatted(j) : NULL; /* one line: newlines are escaped */
    char head[64];
    struct cc_events_msg *m = NULL;
    cJSON_Delete(j);
    if (!json)
        return NULL;
    size_t hlen = (size_t)snprintf(head, sizeof head, "event: %s\ndata: ", event);
    size_t body = strlen(json), tail = strlen(FRAME_TAIL);
    if ((m = malloc(sizeof *m + hlen + body + tail + 1))) {
        atomic_init(&m->refs, 1);
        m->len = hlen + body + tail;
        memcpy(m->frame, head, hlen);
        memcpy(m->frame + hlen, json, body);
        memcpy(m->frame + hlen + body, FRAME_TAIL, tail + 1);
    }
    cJSON_free(json);
    return m;
}

/* Queues `m` for `sub` (lock held); a full queue marks the overflow instead. */
static void push(struct cc_events_sub *sub, struct cc_events_msg *m)
{
    size_t cap = sub->hub->queue_cap;
    if (sub->overflow)
        return;
    if (sub->count == cap) {
        sub->overflow = 1;
    } else {
        atomic_fetch_add(&m->refs, 1);
        sub->ring[(sub->head + sub->count++) % cap] = m;
    }
    pthread_cond_signal(&sub->ready);
}

/* Queues `m` for every subscription that wants the events of `agent_id`:
 * that agent's own, and the monitors unless the event is personal. */
static void fan_out(struct cc_events *ev, const char *event, const char *agent_id, int personal,
                    struct cc_events_msg *m)
{
    pthread_mutex_lock(&ev->lock);
    for (struct cc_events_sub *s = ev->subs; s; s = s->next)
        if ((!s->agent_id && !personal &&
             (!s->filter || s->filter(s->filter_arg, event, agent_id))) ||
            (s->agent_id && !strcmp(s->agent_id, agent_id)))
            push(s, m);
    pthread_mutex_unlock(&ev->lock);
}

/* NATS handler: one message per event, in order; the agent is the last
 * token of the subject. */
static void on_event(void *arg, const struct cc_nats_msg *msg)
{
    const struct source *src = arg;
    const char *agent = strrchr(msg->subject, '.') + 1;
    ProtobufCMessage *body = protobuf_c_message_unpack(src->desc, NULL, msg->len, msg->data);
    if (!body) {
        CC_WARN("events: unreadable %s on %s, skipped", src->desc->short_name, msg->subject);
        return;
    }
    struct cc_events_msg *m = frame_new(src->event, body);
    if (m)
        fan_out(src->hub, src->event, agent, src->personal, m);
    else
        CC_ERROR("events: out of memory, a %s event of %s is not streamed", src->event, agent);
    cc_events_msg_unref(m);
    protobuf_c_message_free_unpacked(body, NULL);
}

enum cc_status cc_events_source(struct cc_events *ev, struct cc_nats *nats, const char *subject,
                                const char *event, const ProtobufCMessageDescriptor *desc,
                                int personal)
{
    if (ev->nsources == CC_EVENTS_MAX_SOURCES)
        return CC_ERR_NOMEM;
    struct source *src = &ev->sources[ev->nsources++];
    *src = (struct source){ev, event, desc, personal};
    return cc_nats_subscribe(nats, subject, NULL, on_event, src);
}

/* A new subscription's own parts (not yet in the hub's list); NULL when out of memory. */
static struct cc_events_sub *sub_new(struct cc_events *ev, const char *agent_id)
{
    pthread_condattr_t attr;
    struct cc_events_sub *sub = calloc(1, sizeof *sub);
    if (!sub)
        return NULL;
    sub->hub = ev;
    sub->ring = calloc(ev->queue_cap, sizeof *sub->ring);
    sub->agent_id = agent_id ? strdup(agent_id) : NULL;
    int ok = sub->ring && (!agent_id || sub->agent_id) && pthread_condattr_init(&attr) == 0;
    if (ok) {
        /* deadlines are monotonic: a wall-clock jump must not stall keepalives */
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&sub->ready, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok) {
        free(sub->ring);
        free(sub->agent_id);
        free(sub);
        return NULL;
    }
    return sub;
}

/* Frees what sub_new made and the events still queued. */
static void sub_free(struct cc_events_sub *sub)
{
    size_t cap = sub->hub->queue_cap;
    for (size_t i = 0; i < sub->count; i++)
        cc_events_msg_unref(sub->ring[(sub->head + i) % cap]);
    pthread_cond_destroy(&sub->ready);
    free(sub->ring);
    free(sub->agent_id);
    free(sub);
}

enum cc_status cc_events_sub_open(struct cc_events *ev, const char *agent_id, struct cc_events_sub **out)
{
    return cc_events_sub_open_filtered(ev, agent_id, NULL, NULL, out);
}

enum cc_status cc_events_sub_open_filtered(struct cc_events *ev, const char *agent_id,
                                           cc_events_filter_fn filter, void *filter_arg,
                                           struct cc_events_sub **out)
{
    struct cc_events_sub *sub = sub_new(ev, agent_id);
    *out = NULL;
    if (!sub)
        return CC_ERR_NOMEM;
    sub->filter = filter, sub->filter_arg = filter_arg;
    pthread_mutex_lock(&ev->lock);
    int full = ev->nsubs >= ev->max_subs;
    if (!full) {
        sub->next = ev->subs;
        if (ev->subs)
            ev->subs->prev = sub;
        ev->subs = sub;
        ev->nsubs++;
    }
    pthread_mutex_unlock(&ev->lock);
    if (full) {
        sub_free(sub);
        return CC_ERR_UNAVAILABLE;
    }
    *out = sub;
    return CC_OK;
}

void cc_events_sub_close(struct cc_events_sub *sub)
{
    struct cc_events *ev;
    if (!sub)
        return;
    ev = sub->hub;
    pthread_mutex_lock(&ev->lock);
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        ev->subs = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    ev->nsubs--;
    pthread_mutex_unlock(&ev->lock);
    sub_free(sub);
}

enum cc_events_next cc_events_sub_next(struct cc_events_sub *sub, int64_t deadline_us,
                                 struct cc_events_msg **out)
{
    struct cc_events *ev = sub->hub;
    struct timespec ts = {(time_t)(deadline_us / 1000000), (long)(deadline_us % 1000000) * 1000};
    enum cc_events_next r = CC_EVENTS_TIMEOUT;
    *out = NULL;
    pthread_mutex_lock(&ev->lock);
    while (!sub->count && !sub->overflow)
        if (pthread_cond_timedwait(&sub->ready, &ev->lock, &ts) == ETIMEDOUT)
            break;
    if (sub->overflow) {
        r = CC_EVENTS_OVERFLOW;
    } else if (sub->count) {
        *out = sub->ring[sub->head];
        sub->head = (sub->head + 1) % ev->queue_cap;
        sub->count--;
        r = CC_EVENTS_MSG;
    }
    pthread_mutex_unlock(&ev->lock);
    return r;
}
