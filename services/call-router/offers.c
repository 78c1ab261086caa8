/* offers.c - what this replica heard of calls, so the PBX's hot path needs
 * no round trip: the latest offer of each queue call as skill-router
 * published it (cc.router.offer.<agent>: the ringing agents, offer and
 * expiry times), and the PBX's call ids it created (call_id -> our id).
 *
 * The offers are a hint that is only ever trusted to be current while
 * nothing said otherwise: an entry is dropped on every sign that the call
 * moved (an event of the PBX here, cc.call.changed from any replica, an
 * offer withdrawn, skill-router's expiry), an offer already known to be
 * over is never taken again (`done_ms`), and an offer is used only until it
 * times out. Without an entry, the route and the events ask skill-router as
 * before (a restarted replica knows nothing: it asks). */
#include "callrouter.h"
#include "cc_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define KEEP_MS                                                                                    \
    (60 * 1000)         /* an entry is forgotten this long after its last use (or its              \
                         * offer's expiry): by then the PBX's id is read from Redis, and           \
                         * a message about the call so late is not waited for */
#define SWEEP_EVERY 512 /* puts between two sweeps of forgotten entries */

struct offer_entry {
    char id[64];
    struct call_offer offer; /* offered_ms 0: none usable */
    int64_t done_ms;         /* offers made up to then are over (INT64_MAX: the call ended) */
    int64_t created_ms;      /* created by this replica then (0: elsewhere, or long ago) */
    int64_t keep_until;
    UT_hash_handle hh;
};

struct pbx_id {
    char call_id[256], id[64];
    int64_t keep_until;
    UT_hash_handle hh;
};

struct offers {
    pthread_mutex_t lock;
    struct offer_entry *table; /* by interaction id */
    struct pbx_id *ids;        /* by the PBX's call id */
    unsigned puts;
};

enum cc_status offers_new(struct offers **out)
{
    struct offers *o = calloc(1, sizeof *o);
    if (!o)
        return CC_ERR_NOMEM;
    pthread_mutex_init(&o->lock, NULL);
    *out = o;
    return CC_OK;
}

void offers_free(struct offers *o)
{
    if (!o)
        return;
    struct offer_entry *e, *te;
    struct pbx_id *p, *tp;
    HASH_ITER(hh, o->table, e, te)
    {
        HASH_DEL(o->table, e);
        free(e);
    }
    HASH_ITER(hh, o->ids, p, tp)
    {
        HASH_DEL(o->ids, p);
        free(p);
    }
    pthread_mutex_destroy(&o->lock);
    free(o);
}

/* Forgets what was not used for KEEP_MS. Called with the lock held. */
static void sweep(struct offers *o, int64_t now)
{
    struct offer_entry *e, *te;
    struct pbx_id *p, *tp;
    HASH_ITER(hh, o->table, e, te)
    if (e->keep_until < now) {
        HASH_DEL(o->table, e);
        free(e);
    }
    HASH_ITER(hh, o->ids, p, tp)
    if (p->keep_until < now) {
        HASH_DEL(o->ids, p);
        free(p);
    }
}

/* The entry of `id`, made when missing (NULL when out of memory). Lock held. */
static struct offer_entry *entry(struct offers *o, const char *id, int64_t now)
{
    struct offer_entry *e;
    if (strlen(id) >= sizeof e->id)
        return NULL;
    HASH_FIND_STR(o->table, id, e);
    if (!e && (e = calloc(1, sizeof *e))) {
        strcpy(e->id, id); /* length checked above */
        HASH_ADD_STR(o->table, id, e);
    }
    if (e && e->keep_until < now + KEEP_MS)
        e->keep_until = now + KEEP_MS;
    return e;
}

void offers_put(struct offers *o, const char *id, const struct call_offer *offer)
{
    int64_t now = cc_time_now_ms();
    pthread_mutex_lock(&o->lock);
    if (++o->puts % SWEEP_EVERY == 0)
        sweep(o, now);
    struct offer_entry *e = entry(o, id, now);
    /* an offer older than the one known, or one known to be over, is news no more */
    if (e && offer->offered_ms > e->done_ms && offer->offered_ms >= e->offer.offered_ms) {
        e->offer = *offer;
        if (offer->expires_ms > now)
            e->keep_until = offer->expires_ms + KEEP_MS;
    }
    pthread_mutex_unlock(&o->lock);
}

int offers_get(struct offers *o, const char *id, struct call_offer *out)
{
    struct offer_entry *e;
    int64_t now = cc_time_now_ms();
    int ok = 0;
    pthread_mutex_lock(&o->lock);
    HASH_FIND_STR(o->table, id, e);
    if (e && e->offer.offered_ms > e->done_ms && now < e->offer.expires_ms) {
        *out = e->offer;
        ok = 1;
    }
    pthread_mutex_unlock(&o->lock);
    return ok;
}

#define FRESH_MS 1000

void offers_created(struct offers *o, const char *id)
{
    int64_t now = cc_time_now_ms();
    pthread_mutex_lock(&o->lock);
    struct offer_entry *e = entry(o, id, now);
    if (e && !e->created_ms)
        e->created_ms = now;
    pthread_mutex_unlock(&o->lock);
}

int offers_fresh(struct offers *o, const char *id)
{
    struct offer_entry *e;
    int64_t now = cc_time_now_ms();
    pthread_mutex_lock(&o->lock);
    HASH_FIND_STR(o->table, id, e);
    int fresh =
        e && e->created_ms && now - e->created_ms < FRESH_MS && !e->done_ms && !e->offer.offered_ms;
    pthread_mutex_unlock(&o->lock);
    return fresh;
}

void offers_done(struct offers *o, const char *id, int64_t upto_ms)
{
    int64_t now = cc_time_now_ms();
    pthread_mutex_lock(&o->lock);
    struct offer_entry *e = entry(o, id, now);
    if (e && upto_ms > e->done_ms)
        e->done_ms = upto_ms;
    if (e && e->offer.offered_ms <= e->done_ms)
        memset(&e->offer, 0, sizeof e->offer);
    pthread_mutex_unlock(&o->lock);
}

void offers_drop(struct offers *o, const char *id)
{
    int64_t now = cc_time_now_ms();
    pthread_mutex_lock(&o->lock);
    struct offer_entry *e = entry(o, id, now);
    if (e) { /* a message of this offer that comes late is not taken either */
        int64_t upto = e->offer.offered_ms > now ? e->offer.offered_ms : now;
        if (upto > e->done_ms)
            e->done_ms = upto;
        memset(&e->offer, 0, sizeof e->offer);
    }
    pthread_mutex_unlock(&o->lock);
}

void offers_remember_id(struct offers *o, const char *call_id, const char *id)
{
    struct pbx_id *p;
    if (strlen(call_id) >= sizeof p->call_id || strlen(id) >= sizeof p->id)
        return;
    int64_t now = cc_time_now_ms();
    pthread_mutex_lock(&o->lock);
    HASH_FIND_STR(o->ids, call_id, p);
    if (!p && (p = calloc(1, sizeof *p))) {
        strcpy(p->call_id, call_id); /* lengths checked above */
        HASH_ADD_STR(o->ids, call_id, p);
    }
    if (p) {
        strcpy(p->id, id);
        p->keep_until = now + KEEP_MS;
    }
    pthread_mutex_unlock(&o->lock);
}

void offers_forget_id(struct offers *o, const char *call_id)
{
    struct pbx_id *p;
    pthread_mutex_lock(&o->lock);
    HASH_FIND_STR(o->ids, call_id, p);
    if (p) {
        HASH_DEL(o->ids, p);
        free(p);
    }
    pthread_mutex_unlock(&o->lock);
}

int offers_find_id(struct offers *o, const char *call_id, char *id, size_t cap)
{
    struct pbx_id *p;
    int ok = 0;
    pthread_mutex_lock(&o->lock);
    HASH_FIND_STR(o->ids, call_id, p);
    if (p && strlen(p->id) < cap) {
        strcpy(id, p->id);
        ok = 1;
    }
    pthread_mutex_unlock(&o->lock);
    return ok;
}
