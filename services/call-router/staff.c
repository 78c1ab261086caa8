/* staff.c - the call subjects api-gateway forwards for staff (SPEC 9):
 * cc.call.list (view active|closed), cc.call.get and cc.call.update (result,
 * result details, links). An agent sees the calls they took or were rung
 * for; a supervisor the calls of the queues they are assigned to; an admin
 * every call. A call the caller may not see is "not found". */
#include "callrouter.h"
#include "cc/v1/registry.pb-c.h"
#include "cc_log.h"
#include "cc_registry_load.h"
#include "cc_keys.h"
#include "cc_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 200
#define MAX_DETAILS 1000

static int role(const Cc__V1__Caller *c, const char *r)
{
    return c && c->role && !strcmp(c->role, r);
}

static int may_read(struct call_router *cr, const Cc__V1__Caller *who, const struct call_rec *rec)
{
    struct cc_queue_scope scope;
    if (who->user_id && !strcmp(who->user_id, rec->agent_id))
        return 1;
    if (role(who, "admin"))
        return 1;
    if (!role(who, "supervisor") || !rec->queue_id[0] ||
        cc_queue_scope(cr->nats, who, &scope) != CC_OK)
        return 0;
    int in = cc_queue_scope_has(&scope, rec->queue_id);
    cc_queue_scope_release(&scope);
    return in;
}

static void respond_rec(struct call_router *cr, const struct cc_nats_msg *m,
                        const struct call_rec *rec)
{
    struct call_view v;
    calls_view(rec, &v);
    cc_nats_respond(cr->nats, m, &v.msg.base);
}

/* --- list ----------------------------------------------------------------------------------- */

/* The sorted sets holding the caller's calls (newest first by score). */
static enum cc_status sources(struct call_router *cr, const Cc__V1__Caller *who, int active,
                              char ***keys, size_t *n)
{
    struct cc_queue_scope scope;
    *keys = NULL, *n = 0;
    if (role(who, "admin") || role(who, "agent") || !role(who, "supervisor")) {
        if (!role(who, "admin") && !role(who, "agent"))
            return CC_ERR_FORBIDDEN;
        *keys = calloc(1, sizeof **keys);
        if (!*keys)
            return CC_ERR_NOMEM;
        (*keys)[0] = role(who, "admin") ? strdup(active ? cc_key_fixed(KEY_CALLS_ACTIVE)
                                                        : cc_key_fixed(KEY_CALLS_CLOSED))
                                        : NULL;
        if (!role(who, "admin") &&
            asprintf(&(*keys)[0], KEY_CALLS_AGENT, cc_tag(), who->user_id) < 0)
            (*keys)[0] = NULL;
        *n = (*keys)[0] ? 1 : 0;
        return *n ? CC_OK : CC_ERR_NOMEM;
    }
    enum cc_status st = cc_queue_scope(cr->nats, who, &scope);
    if (st != CC_OK)
        return st;
    if (scope.all) {
        cc_queue_scope_release(&scope);
        return sources(cr, &(Cc__V1__Caller){.role = CC_PB_STR("admin")}, active, keys, n);
    }
    *keys = calloc(scope.n + 1, sizeof **keys);
    for (size_t i = 0; *keys && i < scope.n; i++)
        if (asprintf(&(*keys)[*n], KEY_CALLS_QUEUE, cc_tag(), scope.ids[i]) >= 0)
            (*n)++;
    cc_queue_scope_release(&scope);
    return *keys ? CC_OK : CC_ERR_NOMEM;
}

/* Merges the newest ids below `before` from every source into `out`. */
struct pick {
    char id[64];
    double score;
};

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const struct pick *)a)->score, y = ((const struct pick *)b)->score;
    return x < y   ? 1
           : x > y ? -1
                   : strcmp(((const struct pick *)a)->id, ((const struct pick *)b)->id);
}

static enum cc_status collect(struct call_router *cr, char **keys, size_t n, const char *before,
                              size_t want, struct pick **out, size_t *nout)
{
    size_t cap = want * (n ? n : 1), k = 0;
    struct pick *p = calloc(cap + 1, sizeof *p);
    if (!p)
        return CC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        redisReply *rep;
        enum cc_status st =
            cc_redis_run(cr->redis, &rep, "ZREVRANGEBYSCORE %s (%s -inf WITHSCORES LIMIT 0 %lld",
                         keys[i], before, (long long)want);
        for (size_t j = 0; st == CC_OK && j + 1 < rep->elements && k < cap; j += 2, k++) {
            snprintf(p[k].id, sizeof p[k].id, "%s", rep->element[j]->str);
            p[k].score = strtod(rep->element[j + 1]->str, NULL);
        }
        if (rep)
            freeReplyObject(rep);
        if (st != CC_OK) {
            free(p);
            return st;
        }
    }
    qsort(p, k, sizeof *p, by_score_desc);
    *out = p, *nout = k;
    return CC_OK;
}

static void on_list(struct call_router *cr, const struct cc_nats_msg *m,
                    const Cc__V1__CallRequest *q)
{
    int active = !q->view || !strcmp(q->view, "active");
    size_t limit = q->page && q->page->limit ? q->page->limit : DEFAULT_LIMIT;
    const char *cursor = q->page && q->page->cursor && *q->page->cursor ? q->page->cursor : "+inf";
    char **keys = NULL, next[40] = "";
    size_t nkeys = 0, npick = 0, nitems = 0;
    struct pick *picks = NULL;
    Cc__V1__CallList list = CC__V1__CALL_LIST__INIT;
    struct call_view *views = NULL;
    struct call_rec *recs = NULL;
    enum cc_status st = CC_OK;
    if (q->view && strcmp(q->view, "active") && strcmp(q->view, "closed"))
        st = CC_ERR_INVALID;
    if (st == CC_OK && strcmp(cursor, "+inf") && strtod(cursor, NULL) <= 0)
        st = CC_ERR_INVALID;
    limit = limit > MAX_LIMIT ? MAX_LIMIT : limit;
    if (st == CC_OK)
        st = sources(cr, q->caller, active, &keys, &nkeys);
    /* agents' and supervisors' sets hold both views: read more, keep the view's */
    if (st == CC_OK)
        st = collect(cr, keys, nkeys, cursor, limit * 4, &picks, &npick);
    if (st == CC_OK) {
        recs = calloc(limit + 1, sizeof *recs);
        views = calloc(limit + 1, sizeof *views);
        list.items = calloc(limit + 1, sizeof *list.items);
        st = recs && views && list.items ? CC_OK : CC_ERR_NOMEM;
    }
    for (size_t i = 0; st == CC_OK && i < npick && nitems < limit; i++) {
        struct call_rec *r = &recs[nitems];
        if (calls_read(cr, picks[i].id, r) != CC_OK || (!strcmp(r->state, "ended")) == active)
            continue;
        calls_view(r, &views[nitems]);
        list.items[nitems] = &views[nitems].msg;
        snprintf(next, sizeof next, "%.0f", picks[i].score);
        nitems++;
    }
    list.n_items = nitems;
    list.next_cursor = nitems == limit ? next : NULL;
    if (st == CC_OK)
        cc_nats_respond(cr->nats, m, &list.base);
    else
        cc_nats_respond_error(cr->nats, m, st,
                              st == CC_ERR_INVALID ? "view: active or closed; cursor: from a list"
                                                   : NULL);
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys), free(picks), free(recs), free(views), free(list.items);
}

/* --- get, update ------------------------------------------------------------------------------ */

static enum cc_status result_exists(struct call_router *cr, const char *id)
{
    Cc__V1__ObjectRequest q = CC__V1__OBJECT_REQUEST__INIT;
    Cc__V1__Caller caller = CC__V1__CALLER__INIT;
    ProtobufCMessage *reply = NULL;
    caller.role = CC_PB_STR("admin"), caller.has_service = 1, caller.service = 1;
    q.caller = &caller, q.id = CC_PB_STR(id);
    enum cc_status st = cc_nats_request(cr->nats, SUBJ_REGISTRY_RESULTS_GET, &q.base,
                                        &cc__v1__object_reply__descriptor, 3000, &reply, NULL, 0);
    if (reply)
        protobuf_c_message_free_unpacked(reply, NULL);
    return st;
}

static int link_ok(const char *s)
{
    return !s || strlen(s) <= 64;
}

/* Checks a patch; returns the reason it is refused, or NULL. */
static const char *check_patch(struct call_router *cr, const Cc__V1__Call *p, enum cc_status *st)
{
    *st = CC_ERR_INVALID;
    if (p->result_details && strlen(p->result_details) > MAX_DETAILS)
        return "result_details: at most 1000 bytes";
    if (p->links && (!link_ok(p->links->account_id) || !link_ok(p->links->contact_id) ||
                     !link_ok(p->links->activity_id) || !link_ok(p->links->case_id)))
        return "links: ids of at most 64 bytes";
    if (p->result_id && *p->result_id && (*st = result_exists(cr, p->result_id)) != CC_OK) {
        if (*st != CC_ERR_NOT_FOUND)
            return "results cannot be checked now";
        *st = CC_ERR_INVALID;
        return "result_id: no such result";
    }
    *st = CC_OK;
    return NULL;
}

static void patch_link(struct call_change *ch, const char *field, const char *v)
{
    if (v)
        call_change_set(ch, field, v);
}

static void on_get_or_update(struct call_router *cr, const struct cc_nats_msg *m,
                             const Cc__V1__CallRequest *q, int update)
{
    struct call_rec rec;
    const char *why = NULL;
    enum cc_status st = q->id ? calls_read(cr, q->id, &rec) : CC_ERR_INVALID;
    if (st == CC_OK && !may_read(cr, q->caller, &rec))
        st = CC_ERR_NOT_FOUND;
    if (st == CC_OK && update) {
        const Cc__V1__Call *p = q->patch;
        struct call_change ch = {.n = 0, .any_state = 1};
        if (!p)
            st = CC_ERR_INVALID, why = "a patch is required";
        else if ((why = check_patch(cr, p, &st)) == NULL) {
            patch_link(&ch, "result_id", p->result_id);
            patch_link(&ch, "result_details", p->result_details);
            if (p->links) {
                patch_link(&ch, "link_account", p->links->account_id);
                patch_link(&ch, "link_contact", p->links->contact_id);
                patch_link(&ch, "link_activity", p->links->activity_id);
                patch_link(&ch, "link_case", p->links->case_id);
            }
            if (ch.n > 0)
                st = calls_update(cr, rec.id, &ch, &rec, NULL);
        }
    }
    if (st == CC_OK)
        respond_rec(cr, m, &rec);
    else
        cc_nats_respond_error(cr->nats, m, st,
                              why                      ? why
                              : st == CC_ERR_NOT_FOUND ? "no such call"
                                                       : NULL);
}

static void on_call(void *arg, const struct cc_nats_msg *m)
{
    struct call_router *cr = arg;
    Cc__V1__CallRequest *q = cc__v1__call_request__unpack(NULL, m->len, m->data);
    const char *verb = strrchr(m->subject, '.') + 1;
    if (!q || !q->caller || !q->caller->user_id)
        cc_nats_respond_error(cr->nats, m, q ? CC_ERR_UNAUTHORIZED : CC_ERR_INVALID, NULL);
    else if (!strcmp(verb, "list"))
        on_list(cr, m, q);
    else if (!strcmp(verb, "get") || !strcmp(verb, "update"))
        on_get_or_update(cr, m, q, !strcmp(verb, "update"));
    else
        cc_nats_respond_error(cr->nats, m, CC_ERR_NOT_FOUND, "no such verb");
    if (q)
        cc__v1__call_request__free_unpacked(q, NULL);
}

enum cc_status staff_start(struct call_router *cr)
{
    static const char *const subjects[] = {SUBJ_CALL_LIST, SUBJ_CALL_GET, SUBJ_CALL_UPDATE};
    enum cc_status st = CC_OK;
    for (size_t i = 0; i < 3 && st == CC_OK; i++)
        st = cc_nats_subscribe(cr->nats, subjects[i], "call-router", on_call, cr);
    return st;
}
