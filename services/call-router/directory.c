/* directory.c - who is who for the PBX: every user's id, sip_account and
 * agent_number mapped to the agent's SIP URI and name, and every queue's
 * name. Loaded from
 * agent-registry at start and again on cc.registry.changed.users; a lookup
 * that misses reloads once, so a sip_account saved a moment ago is found
 * (read your writes). */
#include "callrouter.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_subjects.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct entry {
    char key[256]; /* a user id, sip_account or agent_number */
    struct agent_entry agent;
    UT_hash_handle hh;
};

struct directory {
    pthread_rwlock_t lock;
    struct entry *table;  /* uthash by key */
    struct entry *queues; /* uthash by queue id: agent.name holds the queue's name */
};

static void table_free(struct entry **t)
{
    struct entry *e, *tmp;
    HASH_ITER(hh, *t, e, tmp)
    {
        HASH_DEL(*t, e);
        free(e);
    }
}

static void add(struct entry **t, const char *key, const struct agent_entry *a)
{
    struct entry *e;
    if (!key || !*key || strlen(key) >= sizeof e->key)
        return;
    HASH_FIND_STR(*t, key, e);
    if (e || !(e = calloc(1, sizeof *e)))
        return; /* the first holder of a key keeps it */
    snprintf(e->key, sizeof e->key, "%s", key);
    e->agent = *a;
    HASH_ADD_STR(*t, key, e);
}

static void entry_of(const Cc__V1__User *u, struct agent_entry *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", u->id);
    snprintf(a->sip_uri, sizeof a->sip_uri, "%s",
             u->sip_account && *u->sip_account ? u->sip_account
             : u->agent_number                 ? u->agent_number
                                               : "");
    snprintf(a->name, sizeof a->name, "%s%s%s", u->first_name ? u->first_name : "",
             u->first_name && u->last_name ? " " : "", u->last_name ? u->last_name : "");
}

/* Reads every queue into *q (id -> name). */
static enum cc_status load_queues(struct call_router *cr, const Cc__V1__Caller *caller,
                                  struct entry **q)
{
    ProtobufCMessage **items = NULL;
    size_t n = 0;
    enum cc_status st =
        cc_registry_load(cr->nats, "queues", caller, &cc__v1__queue__descriptor, &items, &n);
    for (size_t i = 0; st == CC_OK && i < n; i++) {
        const Cc__V1__Queue *qu = (const Cc__V1__Queue *)items[i];
        struct agent_entry a = {0};
        if (!qu->id)
            continue;
        snprintf(a.id, sizeof a.id, "%s", qu->id);
        snprintf(a.name, sizeof a.name, "%s", qu->name ? qu->name : "");
        a.callback_after_s = qu->callback_after_s;
        add(q, qu->id, &a);
    }
    if (st == CC_OK)
        cc_registry_free(items, n);
    return st;
}

/* Reads every user and queue and replaces the tables. */
static enum cc_status reload(struct call_router *cr)
{
    Cc__V1__Caller caller = CC__V1__CALLER__INIT;
    ProtobufCMessage **items = NULL;
    size_t n = 0;
    struct entry *t = NULL, *q = NULL, *old, *oldq;
    caller.has_service = 1, caller.service = 1, caller.role = CC_PB_STR("admin");
    enum cc_status st =
        cc_registry_load(cr->nats, "users", &caller, &cc__v1__user__descriptor, &items, &n);
    if (st != CC_OK)
        return st;
    if ((st = load_queues(cr, &caller, &q)) != CC_OK) {
        cc_registry_free(items, n);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        const Cc__V1__User *u = (const Cc__V1__User *)items[i];
        struct agent_entry a;
        if (!u->id)
            continue;
        entry_of(u, &a);
        add(&t, u->id, &a);
        add(&t, u->sip_account, &a);
        add(&t, u->agent_number, &a);
    }
    cc_registry_free(items, n);
    pthread_rwlock_wrlock(&cr->dir->lock);
    old = cr->dir->table, cr->dir->table = t;
    oldq = cr->dir->queues, cr->dir->queues = q;
    pthread_rwlock_unlock(&cr->dir->lock);
    table_free(&old);
    table_free(&oldq);
    return CC_OK;
}

static int find_in(struct directory *d, struct entry **table, const char *key,
                   struct agent_entry *out)
{
    struct entry *e;
    pthread_rwlock_rdlock(&d->lock);
    HASH_FIND_STR(*table, key, e);
    if (e)
        *out = e->agent;
    pthread_rwlock_unlock(&d->lock);
    return e != NULL;
}

/* Looks `key` up in the users (queues = 0) or queues, reloading once on a miss. */
static enum cc_status lookup(struct call_router *cr, int queues, const char *key,
                             struct agent_entry *out)
{
    struct directory *d = cr->dir;
    if (!key || !*key || strlen(key) >= sizeof((struct entry *)0)->key)
        return CC_ERR_NOT_FOUND;
    if (find_in(d, queues ? &d->queues : &d->table, key, out))
        return CC_OK;
    enum cc_status st = reload(cr);
    if (st != CC_OK)
        return st == CC_ERR_NOT_FOUND ? CC_ERR_UNAVAILABLE : st;
    return find_in(d, queues ? &d->queues : &d->table, key, out) ? CC_OK : CC_ERR_NOT_FOUND;
}

enum cc_status directory_find(struct call_router *cr, const char *key, struct agent_entry *out)
{
    return lookup(cr, 0, key, out);
}

enum cc_status directory_queue(struct call_router *cr, const char *queue_id,
                               struct agent_entry *out)
{
    return lookup(cr, 1, queue_id, out);
}

enum cc_status directory_queue_name(struct call_router *cr, const char *queue_id, char *name,
                                    size_t cap)
{
    struct agent_entry e;
    enum cc_status st = lookup(cr, 1, queue_id, &e);
    if (st == CC_OK)
        snprintf(name, cap, "%s", e.name);
    return st;
}

static void on_users_changed(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    (void)m;
    if (reload(cr) != CC_OK)
        CC_WARN("directory: cannot reload the users (a miss will retry)");
}

enum cc_status directory_start(struct call_router *cr)
{
    struct directory *d = calloc(1, sizeof *d);
    if (!d)
        return CC_ERR_NOMEM;
    pthread_rwlock_init(&d->lock, NULL);
    cr->dir = d;
    if (reload(cr) != CC_OK) /* agent-registry may start later: a miss reloads */
        CC_WARN("directory: users not loaded yet");
    enum cc_status st =
        cc_nats_subscribe(cr->nats, SUBJ_REGISTRY_CHANGED_USERS, NULL, on_users_changed, cr);
    if (st == CC_OK)
        st = cc_nats_subscribe(cr->nats, SUBJ_REGISTRY_CHANGED_QUEUES, NULL, on_users_changed, cr);
    return st;
}

void directory_free(struct directory *d)
{
    if (!d)
        return;
    table_free(&d->table);
    table_free(&d->queues);
    pthread_rwlock_destroy(&d->lock);
    free(d);
}
