/* offers.c - what people see of routing: the offers ringing for an agent
 * (announced on cc.router.offer.<agent>, listed by cc.router.offers), the
 * interactions waiting per queue (cc.router.queues) and the Prometheus
 * gauges cc_router_waiting and cc_router_oldest_wait_seconds. */
#include "router.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_time.h"
#include "cc_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char queue_stats_lua[];
static struct cc_redis_script queue_stats_script = CC_REDIS_SCRIPT("queue_stats", queue_stats_lua);

#define MAX_LISTED_OFFERS 64

static void free_reply(redisReply *r)
{
    if (r)
        freeReplyObject(r);
}

/* --- offers ------------------------------------------------------------------------------ */

enum cc_status offer_read(struct router *r, const char *id, const char *agent, struct ix *x,
                          struct offer_view *v)
{
    enum cc_status st = ix_read(r, id, x);
    if (st != CC_OK)
        return st;
    int mine = !strcmp(x->agent, agent);
    if (!mine && x->ring) {
        redisReply *m;
        if (cc_redis_run(r->redis, &m, "SISMEMBER " KEY_RING " %s", cc_tag(), id, agent) == CC_OK)
            mine = m->integer == 1;
        free_reply(m);
    }
    if (strcmp(x->state, "offered") != 0 || !mine) {
        ix_release(x);
        return CC_ERR_NOT_FOUND;
    }
    ix_offer(r, x, agent, v);
    return CC_OK;
}

/* cc.router.offers: the offers ringing for the caller (or agent_id, for a
 * service acting for the agent), oldest first. Entries of {cc}:aoff:<agent>
 * that no longer ring (a lost event) are dropped on the way. */
static void on_offers(struct router *r, const struct cc_nats_msg *m,
                      const Cc__V1__OfferAction *a)
{
    const char *agent = a->caller && a->caller->user_id ? a->caller->user_id : a->agent_id;
    struct offer_view *views = NULL;
    struct ix *xs = NULL;
    Cc__V1__Offer **items = NULL;
    Cc__V1__OfferList list = CC__V1__OFFER_LIST__INIT;
    redisReply *ids = NULL;
    enum cc_status st = agent ? cc_redis_run(r->redis, &ids, "SMEMBERS " KEY_AOFF, cc_tag(), agent)
                              : CC_ERR_INVALID;
    size_t n = st == CC_OK ? ids->elements : 0;
    if (n > MAX_LISTED_OFFERS)
        n = MAX_LISTED_OFFERS;
    if (st == CC_OK && (!(views = calloc(n + 1, sizeof *views)) ||
                        !(xs = calloc(n + 1, sizeof *xs)) ||
                        !(items = calloc(n + 1, sizeof *items))))
        st = CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < n; i++) {
        enum cc_status one = offer_read(r, ids->element[i]->str, agent, &xs[list.n_items],
                                        &views[list.n_items]);
        if (one == CC_OK) {
            items[list.n_items] = &views[list.n_items].msg;
            list.n_items++;
        } else if (one == CC_ERR_NOT_FOUND) {
            redisReply *rep;
            cc_redis_run(r->redis, &rep, "SREM " KEY_AOFF " %s", cc_tag(), agent,
                         ids->element[i]->str);
            free_reply(rep);
        }
    }
    /* RFC 3339 times of one format sort as text */
    for (size_t i = 1; i < list.n_items; i++)
        for (size_t j = i; j > 0 && strcmp(items[j - 1]->offered_at, items[j]->offered_at) > 0; j--) {
            Cc__V1__Offer *t = items[j];
            items[j] = items[j - 1], items[j - 1] = t;
        }
    list.items = items;
    if (st == CC_OK)
        cc_nats_respond(r->nats, m, &list.base);
    else
        cc_nats_respond_error(r->nats, m, st, st == CC_ERR_INVALID ? "agent_id required" : NULL);
    for (size_t i = 0; xs && i < list.n_items; i++)
        ix_release(&xs[i]);
    free(xs);
    free(views);
    free(items);
    free_reply(ids);
}

/* --- waiting per queue ---------------------------------------------------------------------- */

struct waiting {
    int64_t count, oldest_ms; /* oldest_ms 0: none waiting */
};

static enum cc_status waiting_in(struct router *r, const char *queue, struct waiting *w)
{
    char key[160];
    struct cc_redis_conn *c;
    redisReply *rep = NULL;
    memset(w, 0, sizeof *w);
    snprintf(key, sizeof key, KEY_WAIT, cc_tag(), queue);
    const char *argv[] = {key};
    enum cc_status st = cc_redis_acquire(r->redis, &c);
    if (st != CC_OK)
        return st;
    st = cc_redis_eval(c, &queue_stats_script, &rep, 1, 1, argv, NULL);
    cc_redis_release(r->redis, c);
    if (st == CC_OK && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
        w->count = rep->element[0]->integer;
        w->oldest_ms = strtoll(rep->element[1]->str ? rep->element[1]->str : "0", NULL, 10);
    } else if (st == CC_OK) {
        st = CC_ERR_INTERNAL;
    }
    free_reply(rep);
    return st;
}

/* cc.router.queues: waiting count and oldest wait of every queue the
 * caller may see, in the configuration's order. */
static void on_queues(struct router *r, const struct cc_nats_msg *m, const Cc__V1__OfferAction *a)
{
    struct cc_queue_scope scope = {0, NULL, 0};
    const struct config *c = config_get(r);
    Cc__V1__QueueStats *stats = calloc(c->nqueues + 1, sizeof *stats);
    Cc__V1__QueueStats **items = calloc(c->nqueues + 1, sizeof *items);
    char (*oldest)[32] = calloc(c->nqueues + 1, sizeof *oldest);
    Cc__V1__QueueStatsList list = CC__V1__QUEUE_STATS_LIST__INIT;
    int64_t now = cc_time_now_ms();
    enum cc_status st = stats && items && oldest ? cc_queue_scope(r->nats, a->caller, &scope)
                                                 : CC_ERR_NOMEM;
    for (size_t i = 0; st == CC_OK && i < c->nqueues; i++) {
        const Cc__V1__Queue *q = c->queues[i];
        struct waiting w;
        if (!cc_queue_scope_has(&scope, q->id) || (st = waiting_in(r, q->id, &w)) != CC_OK)
            continue;
        Cc__V1__QueueStats *s = &stats[list.n_items];
        cc__v1__queue_stats__init(s);
        s->queue_id = q->id, s->name = q->name, s->channel = q->channel;
        s->has_waiting = s->has_oldest_wait_s = 1;
        s->waiting = w.count;
        if (w.oldest_ms) {
            cc_time_format_ms(w.oldest_ms, oldest[list.n_items], sizeof *oldest);
            s->oldest_enqueued_at = oldest[list.n_items];
            s->oldest_wait_s = (double)(now - w.oldest_ms) / 1000.0;
        }
        items[list.n_items++] = s;
    }
    list.items = items;
    if (st == CC_OK)
        cc_nats_respond(r->nats, m, &list.base);
    else
        cc_nats_respond_error(r->nats, m, st, st == CC_ERR_FORBIDDEN ? "supervisors and admins only"
                                                                     : NULL);
    cc_queue_scope_release(&scope);
    free(stats);
    free(items);
    free(oldest);
    config_put(c);
}

/* Sets the gauges of every queue before /metrics is rendered. */
static void collect(struct cc_metrics *metrics, void *arg)
{
    struct router *r = arg;
    const struct config *c = config_get(r);
    int64_t now = cc_time_now_ms();
    (void)metrics;
    for (size_t i = 0; i < c->nqueues; i++) {
        struct waiting w;
        char labels[128];
        if (waiting_in(r, c->queues[i]->id, &w) != CC_OK)
            continue;
        snprintf(labels, sizeof labels, "queue=\"%s\"", c->queues[i]->id);
        cc_metric_set(r->m_waiting, labels, (double)w.count);
        cc_metric_set(r->m_oldest, labels, w.oldest_ms ? (double)(now - w.oldest_ms) / 1000.0 : 0);
    }
    config_put(c);
}

void offers_metrics(struct router *r)
{
    r->m_waiting = cc_metrics_gauge(r->svc->metrics, "cc_router_waiting",
                                    "Interactions waiting per queue");
    r->m_oldest = cc_metrics_gauge(r->svc->metrics, "cc_router_oldest_wait_seconds",
                                   "How long the oldest interaction waiting per queue has waited");
    cc_metrics_on_collect(r->svc->metrics, collect, r);
}

void offers_request(struct router *r, const struct cc_nats_msg *m, const char *verb)
{
    Cc__V1__OfferAction *a = cc__v1__offer_action__unpack(NULL, m->len, m->data);
    if (!a)
        cc_nats_respond_error(r->nats, m, CC_ERR_INVALID, "unreadable OfferAction");
    else if (!strcmp(verb, "offers"))
        on_offers(r, m, a);
    else
        on_queues(r, m, a);
    if (a)
        cc__v1__offer_action__free_unpacked(a, NULL);
}
